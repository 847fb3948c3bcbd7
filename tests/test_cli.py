"""CLI smoke tests: list, params, run + resume, one-line errors that write nothing."""
import csv
import io
import json

import pytest

from bench.cli import main
from bench.execute.store import COLUMNS

TINY = ["--task", "recall", "--variant", "distance=3", "--variant", "n_train=200",
        "--variant", "n_val=50", "--variant", "n_test=50", "--steps", "10",
        "--budget-params", "20000", "--device", "cpu", "--no-progress"]


def test_list_names_tasks_with_family_and_default_variant_and_models(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "recall" in out and "family=long_range" in out and "distance=32" in out
    for model in ("rnn", "lstm", "gru", "bilstm", "transformer", "transformer_causal"):
        assert model in out


def test_params_csv_is_within_budget_for_every_model(capsys):
    assert main(["params", "--budget-params", "100000", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) >= 6
    for row in rows:
        assert abs(int(row["params_core"]) / 100_000 - 1) <= 0.05
        assert int(row["params_total"]) > int(row["params_core"])
    assert len({row["params_embed"] for row in rows}) == 1 and len({row["params_head"] for row in rows}) == 1


def test_run_writes_runs_and_table_then_resumes(tmp_path, capsys):
    out = tmp_path / "res"
    args = ["run", *TINY, "--model", "lstm", "--model", "transformer", "--seeds", "0,1", "--out", str(out)]
    assert main(args) == 0
    assert "4 runs: 0 already done, 4 ok" in capsys.readouterr().out
    files = sorted((out / "runs").glob("*.json"))
    assert len(files) == 4
    mtimes = [f.stat().st_mtime_ns for f in files]
    with open(out / "results.csv") as handle:
        table = list(csv.DictReader(handle))
    assert set(COLUMNS) <= set(table[0])
    metrics = {row["metric"] for row in table}
    assert {"test_accuracy", "val_accuracy", "params_core", "params_total",
            "train_tokens_per_s", "wall_s"} <= metrics
    assert (out / "results.parquet").exists()
    record = json.loads(files[0].read_text())
    assert record["run_id"] == files[0].stem and record["status"] == "ok"
    # the same command again finds every run finished and trains nothing
    assert main(args) == 0
    assert "4 runs: 4 already done, 0 ok" in capsys.readouterr().out
    assert [f.stat().st_mtime_ns for f in sorted((out / "runs").glob("*.json"))] == mtimes


@pytest.mark.parametrize("argv,needle", [
    (["run", "--task", "recal"], "valid: "),
    (["run", "--task", "recall", "--model", "lstn"], "valid: rnn, lstm"),
    (["run", "--task", "recall", "--variant", "far=3"], "valid: distance"),
    (["run", "--task", "recall", "--variant", "distance"], "KEY=VALUE"),
    (["run", "--task", "recall", "--variant", "distance=abc"], "not a int"),
    (["run", "--task", "recall", "--seeds", "0,x"], "--seeds"),
    (["run", "--task", "recall", "--steps", "many"], "invalid int value"),
    (["run", "--task", "recall", "--colour", "red"], "unrecognized arguments"),
    (["run", "--suite", "quik"], "valid: quick"),
    (["run", "--task", "recall", "--budget-params", "10"], "cannot be met"),
    (["params", "--budget-params", "0"], ">= 1"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, needle):
    out = tmp_path / "never"
    argv = argv + ["--out", str(out)] if argv[0] == "run" else argv
    with pytest.raises(SystemExit) if "many" in argv or "--colour" in argv else _nothing():
        code = main(argv)
        assert code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1, err
    assert not out.exists()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
