"""`bench report`: tables, LR selection, figures, CLI, and the reproduction check."""
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch

from bench import cli
from bench.analysis.reproduce import MOVED, NEW_ONLY, compare
from bench.execute import store
from bench.execute.store import write_run
from bench.report import build as report
from bench.run.loop import train_run

FIXTURE = Path(__file__).parent / "fixtures" / "results_small.csv"


@pytest.fixture
def fixture_dir(tmp_path):
    shutil.copy(FIXTURE, tmp_path / "results.csv")
    return tmp_path


def selected_summary(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs, _ = report.latest_versions(report.wide_runs(table))
    selected, grid = report.select_lr(runs)
    return report.summarize(selected), grid


def test_lr_is_selected_on_validation_not_test():
    summary, grid = selected_summary(pd.read_csv(FIXTURE))
    bilstm = summary[(summary["task"] == "fill_in") & (summary["model"] == "bilstm")].iloc[0]
    # fixture: lr 0.001 has the better validation (0.95 vs 0.85), lr 0.003 the better test (0.99)
    assert bilstm["lr"] == 0.001
    assert bilstm["test_accuracy"] == pytest.approx(0.80, abs=0.03)
    chosen = grid[(grid["model"] == "bilstm") & grid["selected"]]
    assert list(chosen["lr"]) == [0.001]


def test_a_diverged_seed_counts_against_its_lr_and_is_shown():
    summary, grid = selected_summary(pd.read_csv(FIXTURE))
    rnn = grid[(grid["task"] == "fill_in") & (grid["model"] == "rnn")].set_index("lr")
    assert rnn.loc[0.003, "diverged"] == 1 and not rnn.loc[0.003, "selected"]
    # a diverged seed in the selected cell: counted in `diverged`, not in n or the mean
    runs = pd.DataFrame({"task": "t", "variant": "v=1", "model": "m", "budget_params": 1, "lr": 0.1,
                         "seed": [0, 1, 2], "status": ["ok", "ok", "diverged"],
                         "val_accuracy": [0.9, 0.8, None], "test_accuracy": [0.9, 0.7, None]})
    cell = report.summarize(report.select_lr(runs)[0]).iloc[0]
    assert (cell["n"], cell["diverged"], cell["test_accuracy"]) == (2, 1, pytest.approx(0.8))


def test_summary_interval_and_matrix():
    summary, _ = selected_summary(pd.read_csv(FIXTURE))
    recall = summary[summary["task"] == "recall"]
    assert set(recall["n"]) == {3} and (recall["ci95"] > 0).all()
    assert {"params_core", "params_total", "trivial_baseline"} <= set(summary.columns)
    matrix = report.accuracy_matrix(report.select_lr(report.wide_runs(pd.read_csv(FIXTURE)))[0])
    recall = list(matrix["variant"][matrix["task"] == "recall"])
    assert recall == ["distance=8", "distance=32", "distance=128"]  # natural order
    assert "(n=3)" in matrix.loc[matrix["task"] == "recall", "rnn"].iloc[0]
    row = report.markdown(pd.DataFrame({"a": [float("nan")], "b": ["x|y"]})).splitlines()[2]
    assert row == "| – | x\\|y |"


def write_speed_and_gradflow(folder: Path) -> None:
    """Synthetic speed.csv (an H100-like shape) and gradflow.csv whose verdicts are known."""
    speed = pd.DataFrame([{"model": m, "implementation": "cudnn", "device": "cuda", "device_name": "H100",
                           "dtype": "bf16", "budget_params": 10**6, "length": t, "batch": 32,
                           "metric": "train_tokens_per_s", "value": v, "status": "ok", "torch": "2.x"}
                          for m, t, v in (("lstm", 64, 2.6e5), ("lstm", 4096, 5.0e5),
                                          ("gru", 64, 2.8e5), ("gru", 4096, 3.8e5),
                                          ("transformer", 64, 2.9e5), ("transformer", 4096, 6.2e6))])
    speed.to_csv(folder / "speed.csv", index=False)
    rows = [{"kind": "position", "model": m, "phase": "init", "quantity": "hidden", "distance": d,
             "grad_norm": f ** d} for m, f in (("rnn", 0.5), ("lstm", 0.9)) for d in range(20)]
    rows += [{"kind": "clip", "model": "rnn", "optimizer": "sgd", "step": i, "clip_norm": c,
              "grad_norm": 1.0, "update_max": u, "loss": 1.0}
             for c, big in ((1.0, 0.1), (None, 99.0)) for i, u in enumerate([0.1] * 9 + [big])]
    pd.DataFrame(rows).to_csv(folder / "gradflow.csv", index=False)


def test_report_builds_from_a_results_table_with_speed_and_gradflow(fixture_dir):
    write_speed_and_gradflow(fixture_dir)
    text = report.build_report(fixture_dir).read_text()
    for heading in ("## Environment", "## Claims", "### Mean test accuracy per task variant x model",
                    "### Learning-rate selection", "### Task `recall`", "## Speed", "## Gradient flow"):
        assert heading in text
    verdicts = dict(re.findall(r"^\| (\d) \| .* \| \*\*(.+)\*\* \|$", text, flags=re.M))
    assert verdicts == {"1": "supported", "2": "supported", "3": "supported", "4": "supported",
                        "5": "refuted", "6": "supported", "7": "supported", "8": "supported"}
    assert "1 diverged" in text and "Speedup over the LSTM" in text
    for png in ("accuracy_vs_distance_recall.png", "accuracy_vs_params.png", "accuracy_vs_wall_time.png",
                "throughput_vs_length.png", "speedup_over_lstm.png", "gradflow.png"):
        assert (fixture_dir / png).stat().st_size > 1000, png


@pytest.fixture
def one_thread():
    """Tiny runs are fastest on one thread (and do not spin-wait on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_report_from_real_runs_rebuilds_the_table(tmp_path, tiny_config, one_thread):
    for model, distance in (("rnn", 2), ("rnn", 6), ("transformer", 2)):
        config = tiny_config(model, variant={"distance": distance, "n_train": 200, "n_val": 50,
                                             "n_test": 50})
        write_run(tmp_path, train_run(config))
    assert store.is_stale(tmp_path)
    path = report.build_report(tmp_path)
    assert (tmp_path / "results.csv").exists() and not store.is_stale(tmp_path)
    text = path.read_text()
    assert "torch" in text and "| cpu |" in text  # the environment table from run records
    for png in ("curves_recall.png", "accuracy_vs_distance_recall.png", "accuracy_vs_wall_time.png"):
        assert (tmp_path / png).exists()


def test_report_cli(fixture_dir, tmp_path, capsys):
    assert cli.main(["report", str(fixture_dir), "--no-plots"]) == 0
    assert "wrote" in capsys.readouterr().out
    text = (fixture_dir / "report.md").read_text()
    assert "| 6 |" in text and "**not run**" in text  # no gradflow.csv: claims 6 and 7 not run
    assert not list(fixture_dir.glob("*.png"))
    assert cli.main(["report", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    # --compare against itself: nothing moved, exit 0
    assert cli.main(["report", str(fixture_dir), "--no-plots", "--compare", str(fixture_dir)]) == 0
    assert "Reproduction check" in (fixture_dir / "report.md").read_text()


def test_compare_lists_the_cells_that_moved():
    table = pd.read_csv(FIXTURE)
    same = compare(table, table)
    assert (same["status"] == "within").all()
    shifted = table.copy()
    hit = (shifted["model"] == "rnn") & (shifted["metric"] == "test_accuracy") & (shifted["task"] == "recall")
    shifted.loc[hit, "value"] += 0.3
    extra = shifted[shifted["model"] == "gru"].assign(model="mingru", run_id=lambda f: f["run_id"] + "x")
    result = compare(pd.concat([shifted, extra]), table)
    assert set(result.loc[result["status"] == MOVED, "model"]) == {"rnn"}
    assert (result.loc[result["model"] == "mingru", "status"] == NEW_ONLY).all()


def test_harness_efficiency_divides_run_throughput_by_raw_step_throughput():
    import pandas as pd

    from bench.report.build import harness_efficiency

    runs = pd.DataFrame({"model": ["lstm", "lstm", "gru"], "device": "cuda", "length": [256, 256, 256],
                         "batch_size": 32, "budget_params": 1000, "train_tokens_per_s": [90.0, 110.0, 50.0]})
    speed = pd.DataFrame({"model": ["lstm", "lstm", "transformer"], "implementation": "x", "device": "cuda",
                          "dtype": "bf16", "length": [256, 1024, 256], "batch": 32, "budget_params": 1000,
                          "metric": "train_tokens_per_s", "value": [200.0, 300.0, 400.0], "status": "ok"})
    table = harness_efficiency(runs, speed)
    assert table["model"].tolist() == ["lstm"]  # gru has no speed row; lstm@1024 has no run
    assert table["run_tokens_per_s"].iloc[0] == 100.0 and table["efficiency"].iloc[0] == 0.5
    assert harness_efficiency(runs, speed.iloc[0:0]).empty
