"""Optional experiment trackers fed from the training loop's validation points.

Both are extras (``pip install 'rnn-vs-transformer-bench[tensorboard]'`` / ``[wandb]``): the
results folder stays the record (tidy rows beside each config), a tracker is only a view.
Each tracker gets a run's points live when the run trains in this process (``point``), and
its whole curve from the finished record otherwise (``finish``: process pools report only
finished runs), so both executors fill the same charts.

- TensorBoard: event files under DIR/<run label>/ (``tensorboard --logdir DIR``);
- W&B: one W&B run per benchmark run, files under the results folder (never the clone);
  ``WANDB_MODE=offline`` logs without a network (``wandb sync`` uploads later).

A missing package is a one-line ValueError before any run starts.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCALARS = {"train_loss": "loss/train", "val_loss": "loss/val", "val_accuracy": "accuracy/val"}
PROJECT = "rnn-vs-transformer-bench"


def scalars(point: dict[str, Any]) -> dict[str, float]:
    """The chartable numbers of one validation point (a diverged point has none)."""
    return {name: float(point[key]) for key, name in SCALARS.items() if point.get(key) is not None}


class Tracker:
    """Live points per run id, then finish with the record; subclasses write somewhere."""

    def __init__(self) -> None:
        self._live: set[str] = set()

    def point(self, run_id: str, label: str, config: dict[str, Any], point: dict[str, Any]) -> None:
        self._live.add(run_id)
        self._log(run_id, label, config, int(point["step"]), scalars(point))

    def finish(self, run_id: str, label: str, record: dict[str, Any]) -> None:
        if run_id not in self._live:  # trained elsewhere: replay its curve
            for point in record.get("curve", []):
                self._log(run_id, label, record["config"], int(point["step"]), scalars(point))
        self._live.discard(run_id)
        self._close(run_id, label, record)

    def _log(self, run_id: str, label: str, config: dict[str, Any], step: int,
             values: dict[str, float]) -> None:
        raise NotImplementedError

    def _close(self, run_id: str, label: str, record: dict[str, Any]) -> None:
        raise NotImplementedError


class TensorBoard(Tracker):
    """TensorBoard event files, one folder per run (torch.utils.tensorboard.SummaryWriter)."""

    def __init__(self, folder: str | Path):
        super().__init__()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ValueError("--tensorboard needs the tensorboard package: "
                             "pip install 'rnn-vs-transformer-bench[tensorboard]'") from None
        self.folder, self._make, self._writers = Path(folder), SummaryWriter, {}

    def _writer(self, run_id: str, label: str, config: dict[str, Any]):
        if run_id not in self._writers:
            writer = self._make(log_dir=str(self.folder / label))
            writer.add_text("config", json.dumps(config, sort_keys=True))
            self._writers[run_id] = writer
        return self._writers[run_id]

    def _log(self, run_id, label, config, step, values) -> None:
        writer = self._writer(run_id, label, config)
        for name, value in values.items():
            writer.add_scalar(name, value, step)

    def _close(self, run_id, label, record) -> None:
        writer = self._writer(run_id, label, record["config"])
        last = record["curve"][-1]["step"] if record.get("curve") else 0
        for name, value in record.get("metrics", {}).items():
            if name.startswith("test_"):
                writer.add_scalar(f"{name.split('_', 1)[1]}/test", float(value), last)
        writer.close()
        del self._writers[run_id]


class WandB(Tracker):
    """Weights & Biases: a run per benchmark run, grouped by task, its metrics as the summary."""

    def __init__(self, folder: str | Path, project: str = PROJECT):
        super().__init__()
        try:
            import wandb
        except ImportError:
            raise ValueError("--wandb needs the wandb package: pip install "
                             "'rnn-vs-transformer-bench[wandb]' (WANDB_MODE=offline logs without a network)") from None
        self.wandb, self.folder, self.project, self._runs = wandb, Path(folder), project, {}

    def _run(self, run_id: str, label: str, config: dict[str, Any]):
        if run_id not in self._runs:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._runs[run_id] = self.wandb.init(project=self.project, name=label, group=config["task"],
                                                 config={**config, "run_id": run_id}, dir=str(self.folder))
        return self._runs[run_id]

    def _log(self, run_id, label, config, step, values) -> None:
        self._run(run_id, label, config).log(values, step=step)

    def _close(self, run_id, label, record) -> None:
        run = self._run(run_id, label, record["config"])
        run.summary.update({**record.get("metrics", {}), "status": record["status"]})
        run.finish()
        del self._runs[run_id]
