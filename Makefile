# Every target creates .venv when it is missing and installs the package into it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DAGSTER_EVENT_BATCH_SIZE ?= 1000
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS ?= true

.PHONY: demo test ui bench lint install

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/glue-inventory demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

ui: $(STAMP)
	$(BIN)/glue-inventory ui

# Postgres for both stores, as deployed (Dagster's SQLite storage writes one transaction per partition
# event); BENCH_DATABASE=sqlite for the SQLite figures.
BENCH_DATABASE ?= postgresql://postgres@127.0.0.1:5432/postgres

bench: $(STAMP)
	$(BIN)/python bench/inventory.py --jobs 1000 --database $(BENCH_DATABASE)

lint: $(STAMP)
	$(BIN)/ruff check .
