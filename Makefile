# Two commands first: `make bench` (set up + quick suite on CPU) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
# project-local caches, offline Hugging Face (no hub downloads at run time)
export HF_HOME := $(CURDIR)/.cache/hf
export HF_DATASETS_CACHE := $(CURDIR)/.cache/hf/datasets
export MPLCONFIGDIR := $(CURDIR)/.cache/mpl
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PYTHONHASHSEED := 0

.PHONY: setup bench test lint standard report reproduce clean

setup: $(VENV)/.installed

# torch first (the pinned CPU build; a GPU user installs their CUDA torch instead), then the
# project, whose permissive torch range keeps the torch already there.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==$(TORCH_VERSION)
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

bench: setup
	$(PY) -m bench run --suite quick --out results/quick
	$(PY) -m bench report results/quick

test: setup
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check bench tasks tests

# one GPU: the standard suite, then its report
standard: setup
	$(PY) -m bench run --suite standard --device cuda --out results/standard
	$(PY) -m bench report results/standard

report: setup
	$(PY) -m bench report $(or $(DIR),results/quick)

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
