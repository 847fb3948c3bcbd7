"""Watching runs: a progress bar per in-process run, one line per finished run, -v/-q,
TensorBoard and W&B (fakes always; the real packages when installed), checkpoints that
`bench eval` re-scores to the recorded accuracy, and `bench --version`."""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest

from bench.checkpoints import rescore
from bench.cli import main
from bench.trackers import TensorBoard, WandB
from bench.watch import Watch, checkpoint_path, finished_line

RUN = ["run", "--task", "recall", "--variant", "distance=3", "--variant", "n_pairs=1", "--variant", "n_train=200",
       "--variant", "n_val=50", "--variant", "n_test=50", "--model", "gru", "--budget-params", "2e4",
       "--set", "d_embed=32", "--steps", "8", "--set", "eval_every=4", "--device", "cpu", "--threads", "1"]


def _records(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))]


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"bench {importlib.metadata.version('rnn-vs-transformer-bench')} (code ")


def test_an_in_process_run_shows_its_bar_then_one_line(tmp_path, capsys):
    assert main([*RUN, "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "recall[distance=3,n_pairs=1] gru seed=0 lr=0.003" in err  # the bar's name
    assert "8/8" in err and "val_acc" in err and "best" in err  # step / cap, validation accuracy
    [record] = _records(tmp_path)
    [line] = [x for x in err.splitlines() if x.startswith("ok ")]
    assert f"test_acc {record['metrics']['test_accuracy']:.4f}" in line and "at cap (8 steps)" in line


def test_quiet_hides_lines_and_verbose_adds_validation_points(tmp_path, capsys):
    assert main(["-q", *RUN, "--no-progress", "--out", str(tmp_path / "q")]) == 0
    assert "test_acc" not in capsys.readouterr().err
    assert main([*RUN, "-v", "--no-progress", "--out", str(tmp_path / "v")]) == 0
    err = capsys.readouterr().err
    assert "step 4/8" in err and "step 8/8" in err and "test_acc" in err


def test_the_bar_follows_each_validation_point(tiny_config, tmp_path):
    watch = Watch(tmp_path, progress=True)
    on_eval = watch.start(tiny_config(steps=100))
    on_eval({"step": 40, "steps": 100, "train_loss": 1.5, "val_accuracy": 0.25, "val_loss": 1.4,
             "best_val_accuracy": 0.25, "elapsed_s": 1.0})
    [bar] = watch._bars.values()
    assert (bar.n, bar.total) == (40, 100) and "val_acc 0.2500" in bar.postfix
    watch.close()
    assert not watch._bars


def _finished(metrics: dict, status: str = "ok", **config) -> str:
    record = {"status": status, "run_id": "x",
              "config": {"task": "recall", "variant": {"distance": 64}, "model": "lstm", "seed": 2, "lr": 0.001,
                         "steps": 400, **config},
              "metrics": {"trivial_baseline": 0.125, "step_cap": 400, "wall_s": 12.34, **metrics}}
    return finished_line(record)


def test_finished_line_names_the_run_and_its_outcome_in_the_reports_words():
    assert _finished({"test_accuracy": 0.8125, "val_accuracy": 0.8, "steps_done": 300}) == (
        "ok       recall[distance=64] lstm seed=2 lr=0.001: test_acc 0.8125  "
        "solved, stopped early at step 300 of 400  12.3 s")
    # a run that never left chance is not 'converged', whatever its plateau: it stalled
    stalled = _finished({"test_accuracy": 0.126, "val_accuracy": 0.13, "steps_done": 400, "converged": 1.0},
                        init="chrono")
    assert "lstm init=chrono seed=2" in stalled and "stalled at chance, at cap (400 steps)" in stalled
    assert "converged" not in stalled
    learned = _finished({"test_accuracy": 0.4, "val_accuracy": 0.41, "steps_done": 400})
    assert "learned, below the bar, at cap (400 steps)" in learned
    assert "diverged" in _finished({"steps_done": 120}, status="diverged").split(":", 1)[1]
    # a record without step_cap (older records) takes the cap from its config
    older = finished_line({"status": "ok", "run_id": "y", "config": {"task": "copy", "variant": {}, "model": "gru",
                                                                      "seed": 0, "lr": 0.01, "steps": 800},
                           "metrics": {"test_accuracy": 1.0, "trivial_baseline": 0.125, "steps_done": 800}})
    assert "solved, at cap (800 steps)" in older and "np." not in older


def test_checkpoints_rescore_to_the_recorded_accuracy(tmp_path, capsys):
    assert main([*RUN, "--no-progress", "--checkpoints", "--out", str(tmp_path)]) == 0
    [record] = _records(tmp_path)
    path = checkpoint_path(tmp_path, record["run_id"])
    assert path == tmp_path / "checkpoints" / f"{record['run_id']}.safetensors" and path.exists()
    for split in ("test", "val"):
        assert rescore(path, split)["accuracy"] == record["metrics"][f"{split}_accuracy"]
    capsys.readouterr()
    assert main(["eval", str(path)]) == 0
    assert f"test_accuracy {record['metrics']['test_accuracy']:.6f}" in capsys.readouterr().out


def test_eval_refuses_what_is_not_a_checkpoint(tmp_path, capsys):
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    assert main(["eval", str(tmp_path / "bad.safetensors")]) == 2
    assert main(["eval", str(tmp_path / "missing.safetensors")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "not a safetensors file" in err[0] and "does not exist" in err[1]


class FakeWriter:
    """Stands in for torch.utils.tensorboard.SummaryWriter."""
    made: list["FakeWriter"] = []

    def __init__(self, log_dir):
        self.log_dir, self.scalars, self.closed = log_dir, [], False
        FakeWriter.made.append(self)

    def add_text(self, tag, text):
        pass

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, step))

    def close(self):
        self.closed = True


def test_tensorboard_gets_live_points_in_process(tmp_path, monkeypatch, capsys):
    FakeWriter.made = []
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=FakeWriter))
    assert main([*RUN, "--no-progress", "--tensorboard", str(tmp_path / "tb"), "--out", str(tmp_path)]) == 0
    [writer] = FakeWriter.made
    assert writer.closed and Path(writer.log_dir).parent == tmp_path / "tb"
    assert [s for t, s in writer.scalars if t == "accuracy/val"] == [4, 8] and ("accuracy/test", 8) in writer.scalars


def test_a_tracker_replays_the_curve_of_a_run_trained_elsewhere(tmp_path, monkeypatch):
    FakeWriter.made = []
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=FakeWriter))
    record = {"run_id": "abc", "status": "ok", "config": {"task": "recall", "model": "rnn"},
              "curve": [{"step": 5, "train_loss": 2.0, "val_accuracy": 0.1, "val_loss": 2.1},
                        {"step": 10, "train_loss": 1.0, "val_accuracy": 0.5, "val_loss": 1.1}],
              "metrics": {"test_accuracy": 0.5}}
    TensorBoard(tmp_path).finish("abc", "recall-rnn", record)
    [writer] = FakeWriter.made
    assert [s for t, s in writer.scalars if t == "loss/train"] == [5, 10] and writer.closed


def test_wandb_logs_each_point_and_the_summary(tmp_path, monkeypatch, capsys):
    runs = []

    class FakeRun:
        def __init__(self, **kwargs):
            self.kwargs, self.logged, self.summary, self.finished = kwargs, [], {}, False
            runs.append(self)

        def log(self, values, step):
            self.logged.append(step)

        def finish(self):
            self.finished = True

    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=lambda **kwargs: FakeRun(**kwargs)))
    assert main([*RUN, "--no-progress", "--wandb", "my-project", "--out", str(tmp_path)]) == 0
    [run] = runs
    assert run.kwargs["project"] == "my-project" and run.kwargs["dir"] == str(tmp_path)
    assert run.logged == [4, 8] and run.finished and "test_accuracy" in run.summary


@pytest.mark.parametrize("flag, module, needle", [
    (["--tensorboard", "tb"], "torch.utils.tensorboard", "--tensorboard needs the tensorboard package"),
    (["--wandb"], "wandb", "--wandb needs the wandb package"),
])
def test_a_missing_tracker_is_one_line_before_any_work(tmp_path, monkeypatch, capsys, flag, module, needle):
    monkeypatch.setitem(sys.modules, module, None)  # `import` raises ImportError
    assert main([*RUN, *flag, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and not (tmp_path / "out").exists()


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None, reason="tensorboard not installed (extra)")
def test_real_tensorboard_event_files(tmp_path):
    assert main([*RUN, "--no-progress", "--tensorboard", str(tmp_path / "tb"), "--out", str(tmp_path)]) == 0
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*"))


@pytest.mark.skipif(importlib.util.find_spec("wandb") is None, reason="wandb not installed (extra)")
def test_real_wandb_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    assert main([*RUN, "--no-progress", "--wandb", "--out", str(tmp_path)]) == 0
    assert list((tmp_path / "wandb").glob("offline-run-*"))


def test_tracker_classes_fail_clearly_without_their_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(ValueError, match=r"pip install 'rnn-vs-transformer-bench\[wandb\]'"):
        WandB(tmp_path)
