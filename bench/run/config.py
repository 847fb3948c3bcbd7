"""One typed run config with its defaults in code, and its content-hashed id.

Unknown or mistyped overrides fail loudly (ValueError naming the valid keys); nothing is
ever exec'd. The run id is a hash of the sorted config JSON plus the task's version, so
re-running a finished config finds its twin and a changed task re-runs.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from bench.run.version import code_hash


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
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"config dropout must be in [0, 1), got {self.dropout}")
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

    def run_id(self, task_version: int) -> str:
        """Hash of the sorted config JSON, the task's version and the harness code hash
        (bench.run.version): the same config on changed code is a new run, never a stale twin."""
        blob = json.dumps({"config": self.to_dict(), "task_version": task_version,
                           "code": code_hash()}, sort_keys=True, separators=(",", ":"))
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
