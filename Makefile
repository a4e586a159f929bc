# Two entry points for a fresh machine: `make demo` and `make test`. Each builds .venv itself;
# the stamp files make the install step run again only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_AS_OF := 2026-11-16T09:00:00Z

.PHONY: demo test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.stamp-run

demo: $(VENV)/.stamp-run
	$(BIN)/goalsync run --config examples/demo/goalsync.yaml --state-dir out/.goalsync-demo --as-of $(DEMO_AS_OF)

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(VENV)/.stamp-test
	$(BIN)/pytest -q

test: lint unit

# Benchmarks, never run by CI (bench/RESULTS.md has the latest figures). `make bench QUICK=1`
# runs a tenth of the default sizes in about a minute.
BENCH_FLAGS := $(if $(QUICK),--quick,)
bench: $(VENV)/.stamp-test
	$(BIN)/python bench/engine.py $(if $(QUICK),--items 20000,)
	$(BIN)/python bench/sync.py $(BENCH_FLAGS)
	$(BIN)/python bench/naive.py $(BENCH_FLAGS)

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
