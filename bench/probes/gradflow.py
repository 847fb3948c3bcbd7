"""Gradient flow: how much of the loss's gradient reaches each position, and what clipping does.

Two probes on `recall` (the answer at the last position depends on a fact `distance`
tokens earlier), written as tidy rows to DIR/gradflow.csv:

1. kind=position: per model and phase (init / trained: after `steps` AdamW steps on
   recall), the mean over examples of |dL_i/d state_t| for every position t, against its
   distance from the loss (last position - t). L_i is one example's cross-entropy at the
   last position. Two quantities:
   - `hidden` (unidirectional nn.RNN/LSTM/GRU encoders): the full recurrent state of all
     layers at step t (h, and c for the LSTM). The encoder's own module is stepped one
     position at a time with its state passed along, so the gradient of each step's state
     includes the recurrent path (the output tensor of a whole-sequence call does not);
   - `input` (every model, the Transformer for contrast): the encoder's input, i.e. the
     embedding output at position t.
2. kind=clip: a plain RNN trained at a high learning rate with clip_norm=1 and without
   clipping (SGD and AdamW): per step the total gradient norm before clipping, the largest
   parameter change max|Δθ| and the update's norm.

The trained phase is the training loop itself (`train_run(..., return_model=True)`: the
same schedule, validation and best-on-validation weights as any run); the clipping probe
steps with the loop's own `train_step` and measures each update around it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import torch
from torch import nn

import tasks  # noqa: F401  (registers tasks)
from bench.analysis.variants import variant_label
from bench.models import MODELS
from bench.run.config import RunConfig
from bench.run.loop import train_run
from bench.run.step import DeviceSplit, build_model, evaluate, make_optimizer, train_step
from tasks.base import TASKS, TaskData

DEFAULT_MODELS = ("rnn", "lstm", "gru", "transformer")


@dataclass(frozen=True)
class GradflowConfig:
    models: tuple[str, ...] = DEFAULT_MODELS
    distance: int = 32
    n_pairs: int = 1  # one key-value pair: the probe is about carrying a value, not matching keys
    steps: int = 300  # AdamW steps for the trained phase
    budget_params: int = 20_000
    d_embed: int = 32
    layers: int = 2
    batch_size: int = 32
    lr: float = 3e-3
    probe_examples: int = 128  # examples averaged per position
    n_train: int = 2000
    seed: int = 0
    device: str = "cpu"
    # the clipping probe: a plain RNN at a high learning rate, with and without clipping
    clip_steps: int = 150
    clip_norm: float = 1.0
    clip_lrs: dict = field(default_factory=lambda: {"sgd": 2.0, "adamw": 0.05})

    def __post_init__(self) -> None:
        for name in self.models:
            MODELS[name]  # noqa: B018 - loud lookup
        if self.distance < 1 or self.steps < 0 or self.clip_steps < 1:
            raise ValueError("gradflow needs distance >= 1, steps >= 0, clip_steps >= 1")

    def run_config(self, model: str, **changes) -> RunConfig:
        # slack 0: the answer sits at the last position, so a position's distance from the loss
        # is its distance from the end (the probe reads gradients by that distance)
        variant = TASKS["recall"].variant({"distance": self.distance, "n_pairs": self.n_pairs,
                                           "n_train": self.n_train, "slack": 0,
                                           "n_val": 200, "n_test": 1})
        base = dict(task="recall", model=model, variant=variant, seed=self.seed,
                    budget_params=self.budget_params, d_embed=self.d_embed, layers=self.layers,
                    batch_size=self.batch_size, lr=self.lr, steps=max(self.steps, 1),
                    device=self.device)
        return RunConfig(**{**base, **changes})


def steppable(encoder: nn.Module) -> bool:
    """True when the encoder wraps a unidirectional torch RNN we can step position by position."""
    rnn = getattr(encoder, "rnn", None)
    return isinstance(rnn, nn.RNNBase) and not rnn.bidirectional


def _states(h) -> tuple[torch.Tensor, ...]:
    return h if isinstance(h, tuple) else (h,)


def position_grad_norms(model, inputs: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
    """{quantity: (T,) mean over examples of |dL_i/d state_t|}, loss at the last position.

    inputs (B, T) token ids, targets (B,) the class at the last position."""
    was_training = model.training
    model.eval()  # dropout off; gradients still flow
    result = {}
    # input: the gradient reaching the encoder input (embedding output) at each position
    x = model.embed(inputs).detach().requires_grad_(True)  # (B, T, D)
    states = model.encoder(x, None)  # (B, T, S)
    logits = model.head(model.proj(states[:, -1]))  # (B, C) at the last position
    nn.functional.cross_entropy(logits.float(), targets, reduction="sum").backward()
    result["input"] = x.grad.norm(dim=-1).mean(0).detach().cpu()  # (T,)
    model.zero_grad(set_to_none=True)
    if steppable(model.encoder):
        rnn = model.encoder.rnn
        x = model.embed(inputs).detach()
        h, kept = None, []
        for t in range(x.shape[1]):
            _, h = rnn(x[:, t: t + 1], h)  # h: (layers, B, H) or a (h, c) pair of those
            for tensor in _states(h):
                tensor.retain_grad()
            kept.append(_states(h))
        top = kept[-1][0][-1]  # (B, H) last layer's h at the last position
        logits = model.head(model.proj(top))
        nn.functional.cross_entropy(logits.float(), targets, reduction="sum").backward()
        norms = []
        for parts in kept:  # |grad| over every layer's h (and c), per example
            squared = sum(p.grad.pow(2).sum(dim=(0, 2)) for p in parts if p.grad is not None)
            norms.append(squared.sqrt().mean())
        result["hidden"] = torch.stack(norms).detach().cpu()
        model.zero_grad(set_to_none=True)
    model.train(was_training)
    return result


def _recall_data(config: GradflowConfig) -> TaskData:
    task = TASKS["recall"]
    return task.build(config.run_config("rnn").variant, config.seed)


def position_rows(config: GradflowConfig, data: TaskData | None = None) -> list[dict]:
    data = data or _recall_data(config)
    device = torch.device(config.device)
    probe = data.train.inputs[: config.probe_examples].to(device)
    probe_targets = data.train.targets[: config.probe_examples, 0].to(device)
    length = probe.shape[1]
    rows = []
    val_split = DeviceSplit.of(data.val, device)
    for name in config.models:
        run = config.run_config(name)
        torch.manual_seed(config.seed)
        model, sized = build_model(run, data)
        model.to(device)
        phases = [("init", 0)] + ([("trained", config.steps)] if config.steps > 0 else [])
        for phase, steps in phases:
            if steps:  # the training loop itself, from the same seed; its best weights
                _, model = train_run(run, data, return_model=True)
            val = evaluate(model, val_split, data, 4 * config.batch_size)["accuracy"]
            for quantity, norms in position_grad_norms(model, probe, probe_targets).items():
                rows += [{"kind": "position", "model": name, "phase": phase, "quantity": quantity,
                          "position": t, "distance": length - 1 - t, "grad_norm": float(norms[t]),
                          "steps": steps, "val_accuracy": val, "width": sized.width,
                          "budget_params": config.budget_params, "seed": config.seed,
                          "task": "recall", "variant": variant_label(run.variant)}
                         for t in range(length)]
    return rows


def clip_rows(config: GradflowConfig, data: TaskData | None = None) -> list[dict]:
    """Per-step grad norm and update size of a plain RNN at a high lr, with and without clipping."""
    data = data or _recall_data(config)
    device = torch.device(config.device)
    run = config.run_config("rnn")
    train = DeviceSplit.of(data.train, device)  # moved to the device once, sliced per step
    rows = []
    for optimizer_name, lr in sorted(config.clip_lrs.items()):
        for clip in (config.clip_norm, None):
            torch.manual_seed(config.seed)
            model, _ = build_model(run, data)
            model.to(device)
            params = [p for p in model.parameters()]
            optimizer = make_optimizer(model, lr, 0.0, optimizer_name)
            order = torch.Generator().manual_seed(config.seed)
            for step in range(config.clip_steps):
                index = torch.randint(0, len(train), (config.batch_size,), generator=order)
                before = [p.detach().clone() for p in params]
                loss, norm = train_step(model, optimizer, train.batch(index), "token", clip)
                deltas = [(p.detach() - b) for p, b in zip(params, before, strict=True)]
                update_max = max(float(d.abs().max()) for d in deltas)
                update_norm = float(torch.sqrt(sum(d.pow(2).sum() for d in deltas)))
                rows.append({"kind": "clip", "model": "rnn", "optimizer": optimizer_name, "lr": lr,
                             "clip_norm": clip if clip is not None else math.nan, "step": step + 1,
                             "grad_norm": float(norm), "update_max": update_max,
                             "update_norm": update_norm, "loss": float(loss.detach()),
                             "budget_params": config.budget_params, "seed": config.seed,
                             "task": "recall", "variant": variant_label(run.variant)})
                if not math.isfinite(float(loss.detach())) or not math.isfinite(update_max):
                    break  # diverged: the remaining steps would only repeat NaN
    return rows


def gradflow(config: GradflowConfig) -> pd.DataFrame:
    """Both probes as one tidy frame (the contents of gradflow.csv)."""
    data = _recall_data(config)
    return pd.DataFrame(position_rows(config, data) + clip_rows(config, data))
