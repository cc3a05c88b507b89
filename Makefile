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

# Tests run in parallel worker processes (pytest-xdist), one per core; each test has its own temp dir,
# database, tmux server and ports, so none depends on another. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= auto
test: check
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

screenshots: $(VENV)/.installed-test
	$(BIN)/python scripts/screenshots.py screenshots

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/store.py --events 50000
	$(BIN)/python benchmarks/diff.py
	$(BIN)/python benchmarks/ui.py

clean:
	rm -rf $(VENV) build *.egg-info
