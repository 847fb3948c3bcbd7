"""Predict a suite's cost from measured per-step times before running it, and keep its design
beside its runs for the report."""
import pandas as pd
import pytest

from bench.execute.forecast import EXTENSIONS, forecast
from bench.execute.store import read_design
from bench.probes.cost import KEY, estimate, measure


def test_estimate_is_steps_times_step_time_plus_validations(tiny_config):
    config = tiny_config("lstm", steps=40, eval_every=10)
    times = pd.DataFrame([{"task": "recall", "variant": repr(sorted(config.variant.items())), "model": "lstm",
                           "budget_params": config.budget_params, "batch_size": config.batch_size,
                           "ms_per_step": 10.0, "ms_per_eval": 50.0}])
    assert estimate([config, config.replace(seed=1)], times) == pytest.approx(2 * (40 * 0.010 + 4 * 0.050))
    with pytest.raises(ValueError, match="no measured step time"):
        estimate([config.replace(model="gru")], times)


def test_measure_times_each_distinct_config_once(tiny_config):
    runs = [tiny_config("lstm", seed=s) for s in range(3)] + [tiny_config("gru")]
    times = measure(runs)
    assert len(times) == 2 and set(KEY) <= set(times.columns)
    assert (times["ms_per_step"] > 0).all() and (times["ms_per_eval"] > 0).all()


def test_forecast_counts_stages_and_writes_the_step_times(tmp_path, tiny_config):
    tuning = [tiny_config("lstm", lr=lr, seed=s) for lr in (1e-3, 3e-3, 1e-2) for s in (0, 1)]
    said = []
    cost = forecast(tuning, lambda config: (2, 3, 4), tmp_path, jobs=2, say=said.append)
    text = "\n".join(said)
    assert "stage one: 6 runs (0 already done)" in text and "confirmations: 3 runs" in text
    assert f"none to {2 * EXTENSIONS} runs" in text and (tmp_path / "step_times.csv").exists()
    assert cost["confirmations"] == pytest.approx(cost["first stage"] / 2, rel=1e-6)  # 3 runs vs 6, same config


def test_a_suite_writes_its_design_and_the_report_shows_it(tmp_path, tiny_config):
    from bench import cli
    from bench.execute.suites import SUITES, Suite

    with SUITES.scoped():
        SUITES.add("tiny_designed", Suite("tiny_designed", "test", lambda: [tiny_config("lstm")],
                                          design="- **Seeds**: one, fixed before running."))
        out = tmp_path / "runs"
        assert cli.main(["run", "--suite", "tiny_designed", "--out", str(out), "--no-progress"]) == 0
        assert read_design(out).startswith("- **Seeds**")
        assert cli.main(["report", str(out), "--no-plots"]) == 0
    report = (out / "report.md").read_text()
    assert "## Design: fixed before any run" in report and "fixed before running" in report
    assert report.index("## Design") < report.index("## Results")
