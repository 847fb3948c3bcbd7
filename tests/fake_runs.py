"""Run records without training, for store and fault tests (not a test module).

`record_of(config)` is what train_run writes for `config` under the code on disk now (its
run id, harness code and code files); `from_other_code(record)` is the same experiment as a
record computed by other harness code (another code hash, so another run id), as a folder
holds it after a code change and a resume.
"""
from __future__ import annotations

import hashlib
from typing import Any

from bench.run.config import RunConfig
from bench.run.version import run_code
from tasks.base import TASKS

TINY_RECALL = {"distance": 4, "n_pairs": 1, "n_train": 200, "n_val": 50, "n_test": 50}


def config_of(model: str = "lstm", seed: int = 0, **changes: Any) -> RunConfig:
    settings = {"budget_params": 20_000, "d_embed": 32, "steps": 10, "eval_every": 10, "device": "cpu", **changes}
    return RunConfig(task="recall", model=model, variant=TASKS["recall"].variant(TINY_RECALL), seed=seed, **settings)


def record_of(config: RunConfig, accuracy: float = 0.5, finished_at: str = "2026-01-02T00:00:00+00:00") -> dict:
    """The record train_run would write for `config` under the current code (numbers made up)."""
    task = TASKS[config.task]
    code = run_code(config.model, config.task)
    return {"config": config.to_dict(), "task_version": task.version, "family": task.family, "length": 8,
            "run_id": config.run_id(task.version), "status": "ok", "curve": [], "finished_at": finished_at,
            "environment": {"harness_code": code.hash, "code_files": list(code.files), "threads": 1,
                            "plugins": [], "torch": "x", "device": "cpu", "device_name": "cpu"},
            "metrics": {"test_accuracy": accuracy, "val_accuracy": accuracy, "steps_done": 10.0}}


def from_other_code(record: dict, finished_at: str = "2026-01-01T00:00:00+00:00") -> dict:
    """The same config's record as other harness code computed it: another code hash, so
    another run id (its files are listed, but their source no longer hashes to its code)."""
    other = {**record, "environment": {**record["environment"], "harness_code": "0123456789abcdef"},
             "finished_at": finished_at}
    other["run_id"] = hashlib.sha256(("other code " + record["run_id"]).encode()).hexdigest()[:16]
    return other
