"""The one training loop every task goes through.

A task supplies TaskData (tensors + output kind); this builds the model at the budget,
trains with AdamW (linear warmup, cosine decay, gradient-norm clipping), validates every
`eval_every` steps, keeps the best-on-validation weights in memory, and evaluates test
once at the end with those weights. Test is never used for any choice.

Speed: the data lives on the device; batch order is drawn on the CPU from the seed (the
same order on every device); the only host syncs are at validation points. A non-finite
loss is accumulated on the device and noticed at the next validation: the run ends with
status ``diverged``.
"""
from __future__ import annotations

import datetime
import json
import math
import platform
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import torch

from bench.models import MODELS, count
from bench.run.config import RunConfig
from bench.run.step import DeviceSplit, build_model, evaluate, make_optimizer, train_step
from bench.run.version import CodeIdentity, code_hash, run_code
from tasks.base import TASKS, TaskData


def selection_key(output: str, scores: dict[str, float]) -> tuple[float, ...]:
    """Larger is better: how validation scores rank checkpoints."""
    if output == "regression":
        return (-scores["loss"], scores["accuracy"])
    return (scores["accuracy"], -scores["loss"])


def schedule(step: int, total: int, warmup: int) -> float:
    """Learning-rate factor: linear warmup to 1, then cosine decay to 0."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def environment(device: torch.device, code: CodeIdentity | None = None) -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    return {"torch": torch.__version__, "python": platform.python_version(), "device": device.type,
            "device_name": name, "threads": torch.get_num_threads(), "git_commit": commit,
            "harness_code": code.hash if code is not None else code_hash(),
            "code_files": list(code.files) if code is not None else [],
            "plugins": plugins_loaded(),
            "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None}


def plugins_loaded() -> list[str]:
    """The plugin modules this process loaded (bench.plugins: --import paths, dotted names)."""
    from bench.plugins import loaded  # imports nothing of bench itself

    return loaded()


def cpu_name() -> str:
    """The CPU's marketing name (Linux /proc/cpuinfo), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


LEARNING_MARGIN = 0.05  # a run has started learning once its best validation accuracy is this far above chance


def started_learning(best_accuracy: float, baseline: float | None) -> bool:
    """Has validation accuracy left the trivial baseline by LEARNING_MARGIN (no baseline:
    always)? Before that, a plateau says nothing: recall and copy runs sit at chance for
    hundreds of steps and then jump to 1.0."""
    return baseline is None or best_accuracy >= baseline + LEARNING_MARGIN


def solve_bar(baseline: float | None) -> float | None:
    """The accuracy a run must reach to count as solved: halfway between the trivial baseline
    and 1 (None without a baseline)."""
    return None if baseline is None else (baseline + 1.0) / 2.0


def converged(evals_since_best: int, best_accuracy: float, patience: int, output: str,
              baseline: float | None = None) -> bool:
    """May the run stop? Perfect validation accuracy (classification: nothing left to learn),
    or `patience` evaluations in a row without a new best after it has started learning (a
    run still at chance runs to its cap: it uses its budget)."""
    if output != "regression" and best_accuracy >= 1.0:
        return True
    return evals_since_best >= patience and started_learning(best_accuracy, baseline)


def train_run(config: RunConfig, data: TaskData | None = None, return_model: bool = False,
              on_eval: Callable[[dict[str, Any]], None] | None = None,
              checkpoint: str | Path | None = None):
    """Train and evaluate one run; returns its record (config, environment, curve, metrics),
    and with return_model also the model holding its best-on-validation weights.

    Early stopping: validation every `eval_every` steps; the run stops when validation
    accuracy is perfect (classification), and from step `min_steps` on when `patience` evaluations in a row bring
    no new best once it has started learning (best validation accuracy at least
    LEARNING_MARGIN above the trivial baseline), and at the step cap `steps` otherwise: a run
    still at chance never stops early. `converged` (1/0) says whether it stopped for one of
    those reasons or reached the cap with no new best in its last `patience` evaluations
    after learning. `steps_to_bar`: the first validation step at or above the solve bar
    (halfway between the trivial baseline and 1), NaN if never.
    on_eval(point) is called at every validation (progress bars); checkpoint: a path where
    the best weights are saved as safetensors (with the config and metrics as metadata)."""
    task = TASKS[config.task]
    if data is None:
        data = task.build(task.variant(config.variant), config.seed)
    data.check(config.task)
    device = torch.device(config.device)
    started = time.time()
    torch.manual_seed(config.seed)
    model, sized = build_model(config, data)
    model.to(device)
    splits = {name: DeviceSplit.of(split, device) for name, split in data.splits().items()}
    train = splits["train"]

    optimizer = make_optimizer(model, config.lr, config.weight_decay)
    warmup = max(1, int(config.warmup_frac * config.steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: schedule(step, config.steps, warmup))

    order = torch.Generator().manual_seed(config.seed)

    def new_epoch() -> tuple[torch.Tensor, torch.Tensor]:
        # drawn on the CPU (the same order on every device), moved to the device once per epoch
        permutation = torch.randperm(len(train), generator=order)
        return permutation, permutation.to(device)

    (permutation, permutation_device), cursor = new_epoch(), 0
    nonfinite = torch.zeros((), dtype=torch.bool, device=device)
    interval_loss = torch.zeros((), device=device)
    best = {"accuracy": -1.0, "loss": math.inf, "step": 0}
    best_state: dict[str, torch.Tensor] | None = None
    curve, status, train_seconds, steps_done = [], "ok", 0.0, 0
    eval_batch = 4 * config.batch_size
    evals_since_best = 0
    baseline = data.trivial_baseline  # regression: its accuracy-within-tolerance baseline
    bar, steps_to_bar = solve_bar(data.trivial_baseline), math.nan

    _sync(device)
    tick = time.perf_counter()
    for step in range(config.steps):
        if cursor + config.batch_size > len(train):
            (permutation, permutation_device), cursor = new_epoch(), 0
        rows = slice(cursor, cursor + config.batch_size)
        cursor += config.batch_size
        batch = train.batch(permutation[rows], permutation_device[rows])
        detached, _ = train_step(model, optimizer, batch, data.output, config.clip_norm, data.tolerance)
        scheduler.step()
        nonfinite |= ~torch.isfinite(detached)
        interval_loss += detached
        steps_done = step + 1

        if steps_done % config.eval_every == 0 or steps_done == config.steps:
            _sync(device)
            train_seconds += time.perf_counter() - tick
            if bool(nonfinite.item()):
                status = "diverged"
                curve.append({"step": steps_done, "train_loss": None, "val_accuracy": None,
                              "val_loss": None, "elapsed_s": round(time.time() - started, 3)})
                break
            since = (steps_done - 1) % config.eval_every + 1
            val = evaluate(model, splits["val"], data, eval_batch)
            curve.append({"step": steps_done, "train_loss": interval_loss.item() / since,
                          "val_accuracy": val["accuracy"], "val_loss": val["loss"],
                          "elapsed_s": round(time.time() - started, 3)})
            interval_loss.zero_()
            # best on validation: higher accuracy, ties broken by lower loss; for regression the
            # loss (MSE) itself, since share-within-tolerance is flat early in training
            if selection_key(data.output, val) > selection_key(data.output, best):
                best = {"accuracy": val["accuracy"], "loss": val["loss"], "step": steps_done}
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                evals_since_best = 0
            else:
                evals_since_best += 1
            if bar is not None and math.isnan(steps_to_bar) and val["accuracy"] >= bar:
                steps_to_bar = float(steps_done)
            if on_eval is not None:
                on_eval({**curve[-1], "steps": config.steps, "best_val_accuracy": best["accuracy"]})
            if data.output != "regression" and best["accuracy"] >= 1.0:
                break  # perfect on validation: nothing left to learn, whatever min_steps says
            if steps_done >= config.min_steps and converged(evals_since_best, best["accuracy"],
                                                             config.patience, data.output, baseline):
                break  # early stop: validation stopped improving after the run started learning
            _sync(device)
            tick = time.perf_counter()

    metrics: dict[str, float] = {
        "params_core": count(model.core_parameters()), "params_total": count(model.parameters()),
        "width": sized.width, "steps_done": steps_done, "step_cap": config.steps,
        "converged": float(converged(evals_since_best, best["accuracy"], config.patience, data.output, baseline)),
        "train_tokens_per_s": steps_done * config.batch_size * train.inputs.shape[1] / max(train_seconds, 1e-9),
        # end to end, validation included: over the raw step throughput = harness efficiency
        "run_tokens_per_s": steps_done * config.batch_size * train.inputs.shape[1]
        / max(time.time() - started, 1e-9),
    }
    if data.trivial_baseline is not None:
        metrics["trivial_baseline"] = data.trivial_baseline
        metrics["solve_bar"] = bar
        if not math.isnan(steps_to_bar):  # absent when never reached (records are strict JSON)
            metrics["steps_to_bar"] = steps_to_bar
    metrics.update(data.baselines)
    if status == "ok" and best_state is not None:
        model.load_state_dict(best_state)
        test = evaluate(model, splits["test"], data, eval_batch)
        metrics.update({"val_accuracy": best["accuracy"], "val_loss": best["loss"],
                        "best_step": best["step"], "test_accuracy": test["accuracy"],
                        "test_loss": test["loss"]})
        if "mse" in test:
            metrics["test_mse"] = test["mse"]
    metrics["wall_s"] = time.time() - started
    finished = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    if checkpoint is not None and best_state is not None:
        save_checkpoint(checkpoint, best_state, config, task.version, metrics)
    record = {"config": config.to_dict(), "task_version": task.version, "family": task.family,
              "length": int(data.train.seq_len), "run_id": config.run_id(task.version),
              "status": status, "environment": environment(device, run_code(config.model, config.task)),
              "curve": curve, "finished_at": finished,
              "size": {"width": sized.width, "ffn": sized.ffn if MODELS[config.model].has_ffn else None},
              "metrics": metrics}
    return (record, model) if return_model else record


def save_checkpoint(path: str | Path, state: dict[str, torch.Tensor], config: RunConfig,
                    task_version: int, metrics: dict[str, float]) -> Path:
    """Best weights as safetensors; the metadata holds what `bench eval` needs to rebuild the
    model and its data (config, task version) and the scores it had."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"config": json.dumps(config.to_dict(), sort_keys=True), "task_version": str(task_version),
                "run_id": config.run_id(task_version), "metrics": json.dumps(metrics, sort_keys=True)}
    save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(path), metadata=metadata)
    return path
