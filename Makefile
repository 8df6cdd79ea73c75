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

bench: $(STAMP)
	$(BIN)/python bench/inventory.py --jobs 1000

lint: $(STAMP)
	$(BIN)/ruff check .
