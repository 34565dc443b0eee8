# The three commands of the README. CI (.ci/run) runs exactly these.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench

## setup: Python deps (pinned), the QuickJS guest (fetched, verified, built, cached), the
## npm projects (from their locks) and Debian's chromium for the browser tests
setup:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/outlayer build-guest
	./scripts/setup_npm.sh
	./scripts/setup_system.sh

## demo: the counter contract, deployed and called on the embedded SQLite state
demo:
	$(BIN)/outlayer demo

## test: lint + the whole test suite
test:
	$(BIN)/ruff check outlayer tests benchmarks
	$(BIN)/pytest

bench:
	$(BIN)/python benchmarks/run_all.py
