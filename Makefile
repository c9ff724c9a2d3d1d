# Everyday commands; each one is what CI (.ci/run) or the README runs. `make help` lists them.
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: help dev check format test test-fast snapshots-update screenshots

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-17s %s\n", $$1, $$2}'

dev:  ## create .venv with the package (editable), the test and the lint tools
	python3 -m venv $(VENV) && $(BIN)/pip install -e '.[test,lint]'

check:  ## lint, format and type checks (what .ci/run runs before the tests)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format:  ## format the tree and apply ruff's safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test:  ## the whole suite (as README and CI run it)
	$(PY) -m pytest -q

test-fast:  ## the suite without the tests marked slow (subprocess, tmux, signals, large files, load)
	$(PY) -m pytest -q -m "not slow"

snapshots-update:  ## accept the current screens as the SVG snapshots (look at them first)
	$(PY) -m pytest -q tests/app/test_app_snapshots.py --snapshot-update

screenshots:  ## remake the README screenshots from the app itself
	$(PY) scripts/screenshots.py
