"""One typed run config with its defaults in code, and its content-hashed id.

Unknown, mistyped or out-of-range settings fail loudly (ValueError naming what is valid)
before anything trains; nothing is ever exec'd. The run id hashes the sorted config JSON,
the task's version and the code this run executes (bench/run/version.py), so re-running a
finished config finds its twin, and a changed task, model file or loop re-runs.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from bench.run.version import run_code, run_spec

MAX_SEED = 2**32 - 1  # numpy's and torch's generators both take it; a task salts it itself
INITS = ("standard", "chrono", "orthogonal")  # which apply to which model: bench/models/init.py


@dataclass(frozen=True)
class RunConfig:
    task: str
    model: str
    variant: dict[str, Any] = field(default_factory=dict)  # the resolved variant (defaults filled)
    seed: int = 0
    # the budget every model in a comparison shares
    budget_params: int = 100_000  # params_core target; width solved per model
    steps: int = 1000
    batch_size: int = 32
    lr: float = 3e-3
    # fixed architecture settings, equal across models
    d_embed: int = 64  # embedding and head width
    layers: int = 2
    heads: int = 4  # attention heads (transformers only)
    dropout: float = 0.0  # embedding output, between layers, transformer hidden; attention-prob dropout is 0
    # optimizer: AdamW, linear warmup then cosine decay to 0, gradient-norm clipping
    weight_decay: float = 0.01
    warmup_frac: float = 0.05
    clip_norm: float = 1.0
    eval_every: int = 100  # steps between validations (best-on-validation is kept)
    patience: int = 5  # early stopping: validations in a row without a new best
    min_steps: int = 0  # never stop early before this step (long tasks plateau before they learn)
    # how the model's memory starts (bench/models/init.py): "standard" (carry-gate bias 1; the
    # plain RNN: PyTorch's default), "chrono" (gated models: carry-gate biases spread over
    # timescales up to the sequence length), "orthogonal" (the plain RNN's recurrent matrix)
    init: str = "standard"
    device: str = "cpu"  # resolved: "cpu" or "cuda"

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            want = {"int": int, "float": (int, float), "str": str}.get(str(f.type))
            if want is not None and (not isinstance(value, want) or isinstance(value, bool)):
                raise ValueError(f"config {f.name}={value!r} must be {f.type}")
        for name in ("budget_params", "steps", "batch_size", "d_embed", "layers", "heads", "eval_every",
                     "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"config {name} must be >= 1, got {getattr(self, name)}")
        for name in ("lr", "weight_decay", "warmup_frac", "clip_norm", "dropout"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"config {name} must be a finite number, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"config dropout must be in [0, 1), got {self.dropout}")
        if not 0.0 <= self.warmup_frac < 1.0:
            raise ValueError(f"config warmup_frac must be in [0, 1), got {self.warmup_frac}")
        if self.clip_norm <= 0:
            raise ValueError(f"config clip_norm must be > 0, got {self.clip_norm}")
        if self.weight_decay < 0:
            raise ValueError(f"config weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"config seed must be in [0, {MAX_SEED}], got {self.seed}")
        if self.init not in INITS:
            raise ValueError(f"config init must be one of {', '.join(INITS)}, got {self.init!r}")
        if not 0 <= self.min_steps <= self.steps:
            raise ValueError(f"config min_steps must be in [0, steps], got {self.min_steps}")
        if self.lr <= 0:
            raise ValueError(f"config lr must be > 0, got {self.lr}")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"config device must be 'cpu' or 'cuda', got {self.device!r}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RunConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown config key {unknown[0]!r}; valid: {', '.join(sorted(names))}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "RunConfig":
        return RunConfig.from_dict({**self.to_dict(), **changes})

    def config_key(self, task_version: int) -> str:
        """Hash of the sorted config JSON and the task's version, without the code: the same
        experiment under any harness code (the store keeps one record per key)."""
        blob = json.dumps({"config": self.to_dict(), "task_version": task_version},
                          sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def run_id(self, task_version: int) -> str:
        """Hash of the config key and the hash of the code this run executes
        (bench.run.version.run_code: the loop, its model's and its task's files): the same
        config on changed code is a new run, never a stale twin; another model's edit is not.
        The registries' specs of its model and task count too (version.run_spec): a model
        registered under a built-in name cannot take the built-in's ids."""
        blob = json.dumps({"config": self.to_dict(), "task_version": task_version,
                           "code": run_code(self.model, self.task).hash,
                           "spec": run_spec(self.model, self.task)}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def resolve_device(name: str) -> str:
    """'auto' -> cuda when available, else cpu; 'cuda' without a GPU fails loudly."""
    import torch  # here: a config is built and hashed without loading torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but torch sees no CUDA device")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r}; valid: auto, cpu, cuda")
    return name
