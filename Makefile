# Two entry points for a fresh machine: `make demo` and `make test`. Each builds .venv itself;
# the stamp files make the install step run again only when pyproject.toml or a lock changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_AS_OF := 2026-11-16T09:00:00Z

.PHONY: demo test lint typecheck unit bench clean lock

# The dependency tree is locked with hashes (requirements/*.txt, made by `make lock`): every
# install takes exactly those files, verified, and goalsync itself goes on top without resolving
# anything (--no-deps) and with the locked setuptools (--no-build-isolation).
RUN_LOCK := requirements/run.txt
TEST_LOCK := requirements/test.txt
UV_VERSION := 0.13.10

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-run: pyproject.toml $(RUN_LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(RUN_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(TEST_LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.stamp-run

# The demo's History from the cycle's start to the day before its as-of instant: its Trends
# tab and charts show the quarter so far. backfill is idempotent, so reruns change nothing.
DEMO_FROM := 2026-10-01
DEMO_TO := 2026-11-15

demo: $(VENV)/.stamp-run
	$(BIN)/goalsync backfill --config examples/demo/goalsync.yaml --state-dir out/.goalsync-demo --from $(DEMO_FROM) --to $(DEMO_TO)
	$(BIN)/goalsync run --config examples/demo/goalsync.yaml --state-dir out/.goalsync-demo --as-of $(DEMO_AS_OF)

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Two test layers (markers in pyproject.toml): `make unit` is the fast one, for every edit (under
# 90 s on 2 cores); `make test`, what CI and the README run, is lint plus every test, with line
# and branch coverage of sync/, connectors/ and mappings/ printed (files below 100 %, then the
# total) and written to coverage.xml. No threshold: the figure is reported, not enforced.
unit: $(VENV)/.stamp-test
	$(BIN)/pytest -q -m "not integration and not slow"

test: lint
	$(BIN)/pytest -q --cov --cov-report=term --cov-report=xml

# Benchmarks, never run by CI (bench/RESULTS.md has the latest figures). `make bench QUICK=1`
# runs a tenth of the default sizes in about a minute.
BENCH_FLAGS := $(if $(QUICK),--quick,)
bench: $(VENV)/.stamp-test
	$(BIN)/python bench/engine.py $(if $(QUICK),--items 20000,)
	$(BIN)/python bench/sync.py $(BENCH_FLAGS)
	$(BIN)/python bench/naive.py $(BENCH_FLAGS)

# The one command that refreshes the locks after a change to pyproject.toml's dependencies
# (`make lock`: the pins already there are kept where they still fit), or that takes every new
# release (`make lock UPGRADE=1`). uv resolves for every platform (--universal) on Python 3.11 and
# records each file's sha256. Commit both files.
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade,)
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet uv==$(UV_VERSION)
	.venv-lock/bin/uv pip compile $(LOCK_FLAGS) pyproject.toml requirements/build.in -o $(RUN_LOCK)
	.venv-lock/bin/uv pip compile $(LOCK_FLAGS) --extra test pyproject.toml requirements/build.in -o $(TEST_LOCK)

clean:
	rm -rf $(VENV) .venv-lock out .pytest_cache .mypy_cache .ruff_cache .coverage coverage.xml
