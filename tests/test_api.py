"""The Python API: bench.run / bench.load / bench.report, and that the CLI is a layer over it."""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import bench
import bench.commands.report as report_command
from bench.cli import build_parser
from bench.commands.run import configs_from_args
from bench.execute.store import COLUMNS, load_table
from bench.grid import grid

ROOT = Path(__file__).resolve().parents[1]
TINY_RECALL = {"distance": 4, "n_pairs": 1, "n_train": 200, "n_val": 50, "n_test": 50}
TINY = {"steps": 6, "eval_every": 3, "budget_params": 20_000, "d_embed": 32, "device": "cpu"}


def test_import_bench_loads_no_torch_and_knows_its_version():
    code = ("import sys, bench\n"
            "assert 'torch' not in sys.modules, 'import bench loaded torch'\n"
            "assert callable(bench.run) and callable(bench.report)\n"
            "print(bench.__version__)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == importlib.metadata.version("rnn-vs-transformer-bench")


def test_bench_run_stays_callable_next_to_its_subpackage():
    import bench.run.loop  # binds the subpackage bench.run to the package attribute

    assert callable(bench.run) and callable(bench.report)
    assert bench.run.config.RunConfig.__name__ == "RunConfig"  # the subpackage still reads as one


def test_run_returns_the_tidy_rows_of_exactly_those_runs(tmp_path):
    rows = bench.run(task="recall", model=["lstm", "gru"], seeds=(0, 1), variant=TINY_RECALL, out=tmp_path,
                     progress=False, **TINY)
    assert isinstance(rows, pd.DataFrame) and list(rows.columns) == COLUMNS
    assert rows.run_id.nunique() == 4 and set(rows.model) == {"lstm", "gru"} and set(rows.seed) == {0, 1}
    assert {"test_accuracy", "val_accuracy", "params_core", "steps_done"} <= set(rows.metric)
    assert rows.attrs["out"] == str(tmp_path)
    # a second call finds its finished twins (nothing retrained) and returns only its own rows
    again = bench.run(task="recall", model="lstm", seeds=0, variant=TINY_RECALL, out=tmp_path, progress=False,
                      **TINY)
    assert again.run_id.nunique() == 1 and set(again.model) == {"lstm"}
    mine = rows[(rows.model == "lstm") & (rows.seed == 0)].reset_index(drop=True)
    pd.testing.assert_frame_equal(again, mine)
    pd.testing.assert_frame_equal(bench.load(tmp_path), load_table(tmp_path))


def test_run_without_out_writes_to_the_cache_not_the_clone(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    rows = bench.run(task="recall", model="rnn", variant=TINY_RECALL, progress=False, **TINY)
    assert rows.attrs["out"] == str(tmp_path / "cache" / "runs")
    assert (tmp_path / "cache" / "runs" / "results.csv").exists()


@pytest.mark.parametrize("settings, needle", [
    ({"stepz": 3}, "unknown setting 'stepz'; valid: budget_params, steps"),
    ({"steps": 2.5}, "steps=2.5 is not a whole number"),
    ({"lr": "fast"}, "lr='fast' is not a number"),
    ({"seed": 1}, "seed is a grid axis"),
    ({"dropout": 1.5}, "dropout must be in [0, 1)"),
])
def test_run_refuses_what_the_cli_refuses_before_writing(tmp_path, settings, needle):
    with pytest.raises(ValueError) as error:
        bench.run(task="recall", model="lstm", variant=TINY_RECALL, out=tmp_path / "out", **settings)
    assert needle in str(error.value)
    assert not (tmp_path / "out").exists()


def test_whole_floats_are_accepted_where_whole():
    [config] = grid("recall", TINY_RECALL, "lstm", [0], None, {"budget_params": 1e5, "steps": "2e3"})
    assert (config.budget_params, config.steps) == (100_000, 2000)
    assert isinstance(config.budget_params, int)


def test_the_cli_builds_the_configs_the_api_builds():
    argv = ["run", "--task", "recall", "--variant", "distance=4", "--model", "lstm", "--model", "gru",
            "--seeds", "0,1", "--budget-params", "1e5", "--set", "layers=1", "--set", "dropout=0.1", "--device", "cpu"]
    from_cli = configs_from_args(build_parser().parse_args(argv))
    from_api = grid("recall", {"distance": 4}, ["lstm", "gru"], [0, 1], None,
                    {"budget_params": 100_000, "layers": 1, "dropout": 0.1, "device": "cpu"})
    assert from_cli == from_api


def test_report_writes_through_the_report_command(tmp_path, monkeypatch):
    calls = []

    def write(folder, **options):
        calls.append((folder, options))
        return folder / "report.md"

    monkeypatch.setattr(report_command, "write", write, raising=False)
    assert bench.report(tmp_path, plots=False) == tmp_path / "report.md"
    assert calls == [(tmp_path, {"plots": False})]


def test_run_takes_a_grid_file_or_a_task_not_both(tmp_path):
    with pytest.raises(ValueError, match="give task=... or config=FILE"):
        bench.run(task="recall", config=ROOT / "examples" / "grid.toml", out=tmp_path)
    with pytest.raises(ValueError, match="give task=... or config=FILE"):
        bench.run(out=tmp_path)


def test_report_writes_a_real_report(tmp_path):
    bench.run(task="recall", model="lstm", variant=TINY_RECALL, out=tmp_path, progress=False, **TINY)
    path = bench.report(tmp_path, plots=False)
    assert path.exists() and path.parent == tmp_path
