"""Deterministic mode (`bench run --deterministic`): the same config and seed, the same numbers.

On CPU every run is already deterministic for a given config, seed and thread count: the
data, the initial weights and the batch order all come from the seed (see bench.run.loop).
What this switch adds is for CUDA, where cuDNN autotuning, cuBLAS workspaces and atomic
adds in some backward kernels can reorder floating-point sums from one run to the next.

GPU tolerance (bf16 autocast + cuDNN recurrences + SDPA attention):
- the same machine, GPU, driver, torch and cuDNN, rerun with --deterministic: identical
  metrics, bit for bit;
- across GPU models, drivers or cuDNN versions: kernels differ, so expect differences of
  about 1e-3 in accuracy (a few test examples flipping) and ~1e-3 relative in losses;
  compare such runs by their mean +- CI over seeds, not by equality.
- without --deterministic on a GPU, reruns typically differ at the same ~1e-3 level.

Deterministic mode costs some speed (no cuDNN autotuning; a few kernels take a slower
deterministic path), and an op with no deterministic CUDA kernel raises RuntimeError
instead of warning (``warn_only=False``): loud rather than quietly irreproducible.
"""
from __future__ import annotations

import os

import torch

CUBLAS_WORKSPACE = ":4096:8"


def set_determinism(enabled: bool, device: str = "cpu") -> None:
    """Switch deterministic algorithms on or off for this process (and workers it starts).

    Enabled: torch.use_deterministic_algorithms(True, warn_only=False), cudnn.deterministic,
    no cudnn.benchmark, and CUBLAS_WORKSPACE_CONFIG=:4096:8 (cuBLAS reads it when its
    handle is created, so call this before the first CUDA op; an existing value is kept).
    The cuBLAS setting only matters for `device` "cuda"; it is exported whenever enabled
    (harmless on CPU) so that spawned workers inherit it.
    """
    if device not in ("cpu", "cuda"):
        raise ValueError(f"set_determinism: device must be 'cpu' or 'cuda', got {device!r}")
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    torch.use_deterministic_algorithms(enabled, warn_only=False)
    torch.backends.cudnn.deterministic = enabled
    torch.backends.cudnn.benchmark = False
