"""Re-score a best-weights checkpoint (``bench run --checkpoints``) from its own metadata.

A checkpoint is a safetensors file whose metadata holds the run's config (JSON), its task
version, its run id and the metrics it had (bench.run.loop.save_checkpoint). Re-scoring
rebuilds the task's data from (variant, seed), the model at the config's budget, loads the
weights and evaluates one split exactly as the training loop did (same batch size, same
autocast), so the test accuracy equals the run's recorded ``test_accuracy``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.logs import get
from bench.run.config import RunConfig, resolve_device

log = get("eval")

SPLITS = ("test", "val", "train")


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The checkpoint's metadata, parsed: config (RunConfig), task_version, run_id, metrics."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
    except (SafetensorError, OSError) as error:
        raise ValueError(f"checkpoint {path} is not a safetensors file: {error}") from None
    missing = sorted({"config", "task_version", "run_id"} - set(meta))
    if missing:
        raise ValueError(f"checkpoint {path} lacks metadata {', '.join(missing)} (not written by bench run?)")
    return {"config": RunConfig.from_dict(json.loads(meta["config"])), "task_version": int(meta["task_version"]),
            "run_id": meta["run_id"], "metrics": json.loads(meta.get("metrics", "{}"))}


def rescore(path: str | Path, split: str = "test", device: str | None = None) -> dict[str, Any]:
    """Evaluate the checkpoint on `split`; returns accuracy, loss (mse for regression), the
    number of examples, and what the run recorded for that split (None if nothing)."""
    import torch
    from safetensors.torch import load_file

    from bench.run.step import DeviceSplit, build_model, evaluate
    from tasks.base import TASKS

    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    meta = read_metadata(path)
    config: RunConfig = meta["config"]
    task = TASKS[config.task]
    if task.version != meta["task_version"]:
        raise ValueError(f"checkpoint {path} was trained on {config.task} version {meta['task_version']}, "
                         f"this code builds version {task.version}: its data differs")
    if device is None:  # the run's device when this machine has it, else the CPU
        device = config.device if config.device == "cpu" or torch.cuda.is_available() else "cpu"
        if device != config.device:
            log.warning("re-scoring on cpu (fp32) a run trained on %s (bf16): the accuracy may differ "
                        "slightly from the recorded one", config.device)
    device = torch.device(resolve_device(device))
    data = task.build(task.variant(config.variant), config.seed)
    torch.manual_seed(config.seed)
    model, _ = build_model(config, data)
    model.load_state_dict(load_file(str(path)))
    model.to(device)
    scores = evaluate(model, DeviceSplit.of(data.splits()[split], device), data, 4 * config.batch_size)
    recorded = meta["metrics"].get(f"{split}_accuracy")
    return {"split": split, "accuracy": scores["accuracy"], "loss": scores["loss"],
            "examples": len(data.splits()[split]), "recorded_accuracy": recorded,
            "run_id": meta["run_id"], "config": config}
