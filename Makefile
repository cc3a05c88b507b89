PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo check test screenshots bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/incident-tui demo

# Lint (ruff), types (mypy: strict on domain/ and store/) and the layer contracts (import-linter).
# Configuration for all three lives in pyproject.toml.
check: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

test: check
	$(BIN)/python -m pytest -q

screenshots: $(VENV)/.installed-test
	$(BIN)/python scripts/screenshots.py screenshots

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/store.py --events 50000
	$(BIN)/python benchmarks/diff.py
	$(BIN)/python benchmarks/ui.py

clean:
	rm -rf $(VENV) build *.egg-info
