"""Watching runs: the hooks an executor calls around each run (bench/execute/plan.RunHooks).

- a progress bar per run trained in this process (step / cap, train loss, validation
  accuracy, best so far, ETA), fed by the training loop's ``on_eval`` at each validation;
- one line per finished run on the "bench" logger (task, variant, model, init, seed, lr, test
  accuracy, how it ended in the report's words: 'solved, stopped early at step 100 of 600',
  'stalled at chance, at cap (600 steps)'; wall time): all a process pool can report, since its
  workers return only finished records; ``-v`` adds each validation point;
- optional trackers (bench/trackers.py: TensorBoard, W&B) fed the same points;
- best-weight checkpoints: OUT/checkpoints/<run_id>.safetensors, re-scored by ``bench eval``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Sequence

from bench.analysis.outcome import describe
from bench.analysis.variants import variant_label
from bench.execute.store import checkpoint_path
from bench.logs import get
from bench.run.config import RunConfig
from bench.trackers import Tracker

log = get("watch")
SIZES = ("n_train", "n_val", "n_test")  # split sizes: not part of a run's short name


def short_variant(task: str, variant: dict[str, Any]) -> str:
    """The knobs that differ from the task's defaults, split sizes left out, and always the
    task's sweep knob (recall's distance, copy's lag: bench.analysis.labels.TASK_KNOBS), so a
    run at the default distance still says which: short enough for a progress bar."""
    from bench.analysis.labels import TASK_KNOBS
    from tasks.base import TASKS

    defaults, knob = TASKS[task].defaults, TASK_KNOBS.get(task)
    return variant_label({k: v for k, v in variant.items()
                          if (defaults.get(k) != v or k == knob) and k not in SIZES})


def label(config: dict[str, Any]) -> str:
    """'recall[distance=4] lstm init=chrono seed=0 lr=0.003': a run as a person names it (the
    init only when it is not the standard one)."""
    variant = short_variant(config["task"], config["variant"])
    init = config.get("init", "standard")
    return (f"{config['task']}{f'[{variant}]' if variant else ''} {config['model']} "
            f"{f'init={init} ' if init != 'standard' else ''}seed={config['seed']} lr={config['lr']:g}")


def finished_line(record: dict[str, Any]) -> str:
    """One line per finished run, the same for every executor, in the report's outcome words
    (bench/analysis/outcome.py)."""
    metrics, config = record.get("metrics", {}), record["config"]
    accuracy = metrics.get("test_accuracy")
    score = f"test_acc {float(accuracy):.4f}" if accuracy is not None else "no test score"
    how = describe({"step_cap": config.get("steps"), **metrics}, record["status"])
    return f"{record['status']:<8} {label(config)}: {score}  {how}  {float(metrics.get('wall_s', 0.0)):.1f} s"


class Watch:
    """RunHooks: a bar per in-process run, a line per finished run, trackers, checkpoints."""

    def __init__(self, out: str | Path, progress: bool = True, checkpoints: bool = False,
                 trackers: Sequence[Tracker] = ()):
        self.out, self.progress, self.checkpoints = Path(out), progress, checkpoints
        self.trackers = list(trackers)
        self._bars: dict[str, Any] = {}

    @staticmethod
    def run_id(config: RunConfig) -> str:
        from tasks.base import TASKS

        return config.run_id(TASKS[config.task].version)

    def start(self, config: RunConfig) -> Callable[[dict[str, Any]], None]:
        """The on_eval callback for one run trained in this process."""
        run_id, as_dict = self.run_id(config), config.to_dict()
        name = label(as_dict)
        if self.progress:
            from tqdm import tqdm

            # updated only at validation points, so each one draws (mininterval=0)
            self._bars[run_id] = tqdm(total=config.steps, desc=name, unit="step", leave=False,
                                      dynamic_ncols=True, mininterval=0)

        def on_eval(point: dict[str, Any]) -> None:
            bar = self._bars.get(run_id)
            if bar is not None:
                bar.set_postfix_str(progress_text(point), refresh=False)
                bar.update(point["step"] - bar.n)  # redraws once, ETA from the step rate
            log.debug("%s  step %d/%d  %s", name, point["step"], point["steps"], progress_text(point))
            for tracker in self.trackers:
                tracker.point(run_id, tracker_name(as_dict, run_id), as_dict, point)

        return on_eval

    def checkpoint(self, config: RunConfig) -> Path | None:
        return checkpoint_path(self.out, self.run_id(config)) if self.checkpoints else None

    def finish(self, record: dict[str, Any]) -> None:
        bar = self._bars.pop(record["run_id"], None)
        if bar is not None:
            bar.close()
        # a diverged run is a warning: -q still shows it
        log.log(logging.WARNING if record["status"] == "diverged" else logging.INFO, "%s", finished_line(record))
        for tracker in self.trackers:
            tracker.finish(record["run_id"], tracker_name(record["config"], record["run_id"]), record)

    def close(self) -> None:
        """Close what a failed run left open (bars of runs that never finished)."""
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


def progress_text(point: dict[str, Any]) -> str:
    if point.get("train_loss") is None:
        return "diverged (non-finite loss)"
    return (f"loss {point['train_loss']:.4f}  val_acc {point['val_accuracy']:.4f}  "
            f"best {point['best_val_accuracy']:.4f}")


def tracker_name(config: dict[str, Any], run_id: str) -> str:
    """A folder-safe run name for trackers: readable, and unique by its run id."""
    variant = short_variant(config["task"], config["variant"]).replace(",", "_")
    init = config.get("init", "standard")
    parts = [config["task"], variant, config["model"], "" if init == "standard" else init, f"s{config['seed']}",
             f"lr{config['lr']:g}", run_id[:8]]
    return "-".join(p for p in parts if p).replace("=", "")
