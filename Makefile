PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test screenshots bench clean

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

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

screenshots: $(VENV)/.installed-test
	$(BIN)/python scripts/screenshots.py screenshots

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/store.py --events 50000
	$(BIN)/python benchmarks/diff.py
	$(BIN)/python benchmarks/ui.py

clean:
	rm -rf $(VENV) build *.egg-info
