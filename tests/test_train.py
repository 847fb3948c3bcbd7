import math

import torch

from bench.execute.local import run_local
from bench.execute.store import load_runs
from bench.run.loop import schedule, train_run
from tasks.base import TASKS, Split, TaskData


def test_a_small_model_learns_recall_at_a_short_distance(tiny_config):
    config = tiny_config("gru", variant={"distance": 2, "n_pairs": 1, "n_train": 2000, "n_val": 200, "n_test": 300},
                         steps=250, eval_every=50, lr=1e-2, budget_params=10_000)
    record = train_run(config)
    assert record["status"] == "ok"
    assert record["metrics"]["test_accuracy"] > 0.6  # chance is 0.125


def test_record_holds_config_environment_curve_and_metrics(tiny_config):
    record = train_run(tiny_config("transformer"))
    assert record["config"]["model"] == "transformer" and record["task_version"] == TASKS["recall"].version
    assert {"torch", "device", "device_name", "git_commit"} <= set(record["environment"])
    assert [point["step"] for point in record["curve"]] == [10, 20]
    metrics = record["metrics"]
    for name in ("test_accuracy", "val_accuracy", "params_core", "params_total",
                 "train_tokens_per_s", "wall_s"):
        assert name in metrics and math.isfinite(metrics[name])
    assert metrics["params_total"] > metrics["params_core"] > 0


def test_best_validation_weights_are_used_for_test(tiny_config):
    record = train_run(tiny_config("lstm", steps=40, eval_every=10))
    best = max(record["curve"], key=lambda p: (p["val_accuracy"], -p["val_loss"]))
    assert record["metrics"]["best_step"] == best["step"]
    assert record["metrics"]["val_accuracy"] == best["val_accuracy"]


def _poisoned(seed_data: TaskData) -> TaskData:
    """A regression task whose targets are finite (TaskData.check accepts them) but so large
    that their squared error overflows float32: the loss cannot stay finite."""
    def split(n):
        return Split(inputs=torch.rand(n, 6, 2), lengths=torch.full((n,), 6),
                     targets=torch.full((n,), 1e30))
    return TaskData(train=split(64), val=split(16), test=split(16), output="regression",
                    n_classes=1, n_features=2)


def test_a_nonfinite_loss_ends_the_run_as_diverged(tiny_config):
    config = tiny_config("lstm")
    record = train_run(config, data=_poisoned(None))
    assert record["status"] == "diverged"
    assert "test_accuracy" not in record["metrics"]


def test_a_diverged_run_is_recorded_and_the_sweep_goes_on(tiny_config, tmp_path):
    real = TASKS["recall"]
    poisoned = real.__class__(**{**real.__dict__, "name": "poisoned", "build": lambda v, s: _poisoned(None)})
    with TASKS.scoped():  # registered through the public path, unregistered at the end
        TASKS.add("poisoned", poisoned)
        runs = [tiny_config("lstm", task="poisoned", variant={}), tiny_config("lstm")]
        # poisoned has recall's defaults, so a variant is needed for the config
        runs[0] = runs[0].replace(variant=real.variant({}))
        counts = run_local(runs, tmp_path, progress=False)
    assert "poisoned" not in TASKS
    assert counts["diverged"] == 1 and counts["ok"] == 1
    assert sorted(r["status"] for r in load_runs(tmp_path)) == ["diverged", "ok"]


def test_schedule_warms_up_then_decays_to_zero():
    factors = [schedule(step, 100, 10) for step in range(100)]
    assert factors[0] == 0.1 and factors[9] == 1.0
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    assert factors[-1] < 0.01


def test_regression_keeps_the_lowest_validation_mse(tiny_config):
    record = train_run(tiny_config("gru", task="adding",
                                   variant={"length": 20, "n_train": 300, "n_val": 100, "n_test": 100},
                                   steps=40, eval_every=10))
    best = min(record["curve"], key=lambda p: p["val_loss"])
    assert record["metrics"]["best_step"] == best["step"]
    assert "test_mse" in record["metrics"]


def test_early_stopping_stops_when_validation_stops_improving(tiny_config):
    """A model that has learned all it can stops `patience` validations after its best, far
    below the step cap, and says it converged; its best step is where the curve peaked."""
    config = tiny_config("lstm", variant={"distance": 1, "n_pairs": 1, "n_train": 500, "n_val": 50, "n_test": 50},
                         steps=2000, eval_every=10, patience=3, lr=1e-2, budget_params=10_000)
    record = train_run(config)
    metrics = record["metrics"]
    assert metrics["converged"] == 1.0
    assert metrics["steps_done"] < config.steps and metrics["step_cap"] == config.steps
    assert len(record["curve"]) == metrics["steps_done"] // 10


def test_a_run_cut_by_the_step_cap_while_improving_is_not_converged(tiny_config):
    config = tiny_config("gru", variant={"distance": 4, "n_train": 500, "n_val": 200, "n_test": 50},
                         steps=30, eval_every=10, patience=5)
    metrics = train_run(config)["metrics"]
    assert metrics["steps_done"] == 30 and metrics["converged"] == 0.0


def test_converged_rule():
    from bench.run.loop import converged

    assert converged(5, 0.3, patience=5, output="token")
    assert not converged(4, 0.3, patience=5, output="token")
    assert converged(0, 1.0, patience=5, output="token")  # perfect: nothing left to learn
    assert not converged(0, 1.0, patience=5, output="regression")  # MSE can still fall


def test_no_plateau_stop_before_min_steps_but_a_perfect_score_stops_at_once(tiny_config, monkeypatch):
    import bench.run.loop as loop

    real = loop.evaluate
    monkeypatch.setattr(loop, "evaluate", lambda model, split, data, batch: (
        {"accuracy": 0.6, "loss": 1.0} if split is not None and len(split) == 50 else real(model, split, data, batch)))
    flat = tiny_config("lstm", variant={"distance": 1, "n_pairs": 1, "n_train": 500, "n_val": 50, "n_test": 60},
                       steps=200, eval_every=10, patience=1, min_steps=150, lr=1e-2, budget_params=10_000)
    assert train_run(flat)["metrics"]["steps_done"] == 150  # learned and flat: stops at min_steps, not before
    monkeypatch.setattr(loop, "evaluate", real)
    easy = flat.replace(variant={**flat.variant, "n_test": 50})
    assert train_run(easy)["metrics"]["steps_done"] < 150  # perfect validation: nothing left to learn
