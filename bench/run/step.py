"""One training step and one evaluation: the only copies, used by the training loop, the
speed probe and the gradient-flow probe alike.

- `Batch`: (inputs, targets, positions, last, lengths) as the model reads them;
- `DeviceSplit`: a split's tensors moved to the device once; `.batch(index)` slices a Batch;
- `build_model`: the model at the config's budget;
- `make_optimizer`: AdamW, weight decay on matrices only (or plain SGD for the clipping probe);
- `train_step`: forward (bf16 autocast on CUDA), loss, backward, gradient-norm clipping,
  optimizer step; returns the detached loss and the pre-clipping gradient norm without a
  host sync;
- `evaluate`: loss and accuracy over a split in eval mode.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import nn

from bench.models import MODELS, SequenceModel
from bench.models.init import check as check_init
from bench.run.budget import Sized, core_params, solve
from bench.run.config import RunConfig
from tasks.base import Split, TaskData


class Batch(NamedTuple):
    inputs: torch.Tensor  # (B, T) ids or (B, T, F) features
    targets: torch.Tensor  # (B, K) token classes, (B,) sequence classes or regression values
    positions: torch.Tensor | None  # (B, K) scored positions (token tasks)
    last: torch.Tensor  # (B,) index of the last real position, on the device
    lengths: torch.Tensor | None  # (B,) on CPU, None when every sequence is full


@dataclass
class DeviceSplit:
    inputs: torch.Tensor
    targets: torch.Tensor
    positions: torch.Tensor | None
    last: torch.Tensor  # (N,) index of the last real position, on device
    lengths_cpu: torch.Tensor | None  # (N,) on CPU, None when every sequence is full (no packing)

    @classmethod
    def of(cls, split: Split, device: torch.device) -> "DeviceSplit":
        return cls(inputs=split.inputs.to(device), targets=split.targets.to(device),
                   positions=None if split.positions is None else split.positions.to(device),
                   last=(split.lengths - 1).to(device),
                   lengths_cpu=split.lengths.clone() if split.variable_length else None)

    def batch(self, index_cpu: torch.Tensor, index: torch.Tensor | None = None) -> Batch:
        """Rows `index_cpu`; pass the same indices already on the device as `index` to avoid a
        host-to-device copy (the training loop moves each epoch's permutation once)."""
        if index is None:
            index = index_cpu.to(self.inputs.device)
        return Batch(self.inputs[index], self.targets[index],
                     None if self.positions is None else self.positions[index], self.last[index],
                     None if self.lengths_cpu is None else self.lengths_cpu[index_cpu])

    def __len__(self) -> int:
        return self.inputs.shape[0]


def build_model(config: RunConfig, data: TaskData, width: int | None = None) -> tuple[SequenceModel, Any]:
    """The model at the config's budget; also returns the solved size. `width` instead builds
    it at that width (FFN 4 x width), whatever its parameter count: the speed probe's
    equal-width comparison. The config's memory init (bench/models/init.py) is applied with
    T_max = the task's sequence length, never the answer's distance."""
    d_in = config.d_embed
    if width is None:
        sized = solve(config.model, config.budget_params, config.d_embed, config.layers, config.heads, d_in)
    else:
        spec = MODELS[config.model]
        params = core_params(spec, config.d_embed, width, config.layers, config.heads, 4 * width, d_in)
        sized = Sized(config.model, width, 4 * width, params)
    spec = MODELS[config.model]
    check_init(config.model, config.init, spec.inits)
    encoder = spec.build(d_in, sized.width, config.layers, config.dropout, config.heads, sized.ffn)
    if config.init != "standard":  # drawn from torch's generator, which train_run has seeded
        encoder.init_memory(config.init, data.train.seq_len)
    model = SequenceModel(encoder, config.d_embed, data.n_classes, config.dropout,
                          vocab_size=data.vocab_size, n_features=data.n_features)
    return model, sized


def loss_and_correct(output: str, logits: torch.Tensor, targets: torch.Tensor,
                     tolerance: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean loss, number right, number scored. Token targets of -100 are not scored."""
    logits = logits.float()
    if output == "regression":
        prediction = logits[:, 0]
        loss = nn.functional.mse_loss(prediction, targets)
        right = ((prediction - targets).abs() < tolerance).sum()
        return loss, right, torch.tensor(targets.numel(), device=targets.device)
    flat_logits = logits.reshape(-1, logits.shape[-1])
    flat_targets = targets.reshape(-1)
    loss = nn.functional.cross_entropy(flat_logits, flat_targets, ignore_index=-100)
    scored = flat_targets != -100
    right = ((flat_logits.argmax(-1) == flat_targets) & scored).sum()
    return loss, right, scored.sum()


def autocast(device: torch.device, bf16: bool | None = None):
    """bf16 autocast on CUDA (cuDNN recurrences, SDPA attention); full fp32 on CPU.
    bf16 True/False overrides the per-device default."""
    if bf16 is None:
        bf16 = device.type == "cuda"
    if bf16:
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def forward(model: SequenceModel, batch: Batch) -> torch.Tensor:
    return model(batch.inputs, batch.lengths, batch.positions, batch.last)


def make_optimizer(model: nn.Module, lr: float, weight_decay: float,
                   kind: str = "adamw") -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices only (biases, norms: none); 'sgd' for the clipping probe."""
    if kind == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr)
    if kind != "adamw":
        raise ValueError(f"unknown optimizer {kind!r}; valid: adamw, sgd")
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def train_step(model: SequenceModel, optimizer: torch.optim.Optimizer, batch: Batch, output: str,
               clip_norm: float | None, tolerance: float = 0.0,
               bf16: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step; returns (detached loss, gradient norm before clipping), on the device.
    clip_norm None: no clipping (the norm is still measured). bf16 None: the loop's choice
    (bf16 autocast on CUDA, fp32 on CPU); True/False forces it (the speed probe's --dtype)."""
    with autocast(batch.inputs.device, bf16):
        logits = forward(model, batch)
    loss, _, _ = loss_and_correct(output, logits, batch.targets, tolerance)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(),
                                          clip_norm if clip_norm is not None else math.inf)
    optimizer.step()
    return loss.detach(), norm.detach()


@torch.no_grad()
def evaluate(model: SequenceModel, split: DeviceSplit, data: TaskData, batch_size: int) -> dict[str, float]:
    model.eval()
    device = split.inputs.device
    total_loss = torch.zeros((), device=device)
    total_right = torch.zeros((), device=device, dtype=torch.long)
    total_scored = torch.zeros((), device=device, dtype=torch.long)
    for start in range(0, len(split), batch_size):
        index = torch.arange(start, min(start + batch_size, len(split)))
        batch = split.batch(index)
        with autocast(device):
            logits = forward(model, batch)
        loss, right, scored = loss_and_correct(data.output, logits, batch.targets, data.tolerance)
        total_loss += loss * scored
        total_right += right
        total_scored += scored
    model.train()
    scored = max(int(total_scored.item()), 1)
    result = {"loss": total_loss.item() / scored, "accuracy": total_right.item() / scored}
    if data.output == "regression":
        result["mse"] = result["loss"]
    return result
