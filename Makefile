# Every target first syncs .venv with uv.lock (`uv sync`: the package, editable, with its simulator extra
# and the dev group), so a fresh clone needs nothing but the machine's Python 3.11. uv is the one on PATH,
# else one that the first target installs with pip into .uv/.
PYTHON ?= python3.11
UV_VERSION ?= 0.13.9
UV ?= $(or $(shell command -v uv 2>/dev/null),.uv/bin/uv)
# uv takes the interpreter that .python-version names from the machine and never downloads one.
export UV_PYTHON_DOWNLOADS := never
# Extra arguments for `uv sync`: .ci/run passes --locked (fail if uv.lock is behind pyproject.toml).
UV_SYNC_ARGS ?=

.PHONY: demo test ui serve image bench eval lint docs install

.uv/bin/uv:
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet 'uv==$(UV_VERSION)'

# --compile-bytecode: every command is a process that imports Dagster; without .pyc files (PYTHONDONTWRITEBYTECODE,
# a read-only venv) each one compiles it again: 2.9 s instead of 1.4 s per `dagster` command. Once per sync;
# compileall does the same for this package's own modules, which uv installs editable (0.25 s per command).
install: | $(UV)
	$(UV) sync --quiet --compile-bytecode --extra simulator $(UV_SYNC_ARGS)
	$(UV) run --no-sync python -m compileall -q -j 0 glue_inventory

demo: install
	$(UV) run --no-sync glue-inventory demo

test: install
	$(UV) run --no-sync python -m pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

ui: install
	$(UV) run --no-sync glue-inventory ui

# The production topology on this machine (docs/DEPLOYMENT.md): code server, webserver and daemon on Postgres.
serve: install
	$(UV) run --no-sync glue-inventory serve

# The code server's container image (Dockerfile, docs/DEPLOYMENT.md). Docker: make image BUILD='docker build'.
IMAGE ?= glue-inventory:0.1.0
BASE_IMAGE ?= python:3.11-slim-bookworm
BUILD ?= podman build --format docker

image:
	$(BUILD) --build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMAGE) .

# Postgres for both stores, as deployed (Dagster's SQLite storage writes one transaction per partition
# event); BENCH_DATABASE=sqlite for the SQLite figures.
BENCH_DATABASE ?= postgresql://postgres@127.0.0.1:5432/postgres

bench: install
	$(UV) run --no-sync python bench/inventory.py --jobs 1000 --database $(BENCH_DATABASE)

# Recall and false findings of the code rules per rule on the labelled corpus (no test, a printed table).
eval: install
	$(UV) run --no-sync python bench/eval_rules.py

# ruff, the import contracts ([tool.importlinter] in pyproject.toml), then the documentation site.
lint: install
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync lint-imports
	$(UV) run --no-sync mypy
	$(MAKE) --no-print-directory docs

# The documentation site (mkdocs.yml, docs/) into site/; --strict: a broken link or a page missing from the nav fails.
# Not --quiet: mkdocs 1.6 then stops counting warnings and --strict passes whatever the pages hold.
docs: install
	NO_MKDOCS_2_WARNING=1 $(UV) run --no-sync mkdocs build --strict
