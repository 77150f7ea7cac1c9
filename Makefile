# Two commands do all set-up on a fresh machine:
#   make run    -> creates .venv, installs moopt, runs the DPP-Net preset on the embedded digits (this machine)
#   make test   -> creates .venv, installs moopt with test and docs extras, runs ruff, mypy, the docs build
#                  (mkdocs --strict) and the whole test suite (tests/docs runs the docs' code examples)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARCH := $(shell uname -m)
ifeq ($(ARCH),x86_64)
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
else
TORCH_PINS := torch==2.9.1 torchvision==0.24.1
endif

.PHONY: install run test bench clean

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PINS)
	$(PY) -m pip install -q -e ".[torch,dist,test,bench,fast,docs]"
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/moopt nas dpp --out out/dpp.db

test: install
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m mkdocs build --strict --quiet
	$(PY) -m pytest -q -n 2 tests

bench: install
	$(PY) benchmarks/bench_kernels.py --quick

clean:
	rm -rf $(VENV) out
