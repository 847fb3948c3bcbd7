"""Bad input fails gracefully: one line on stderr, exit status 2, and nothing written.

Through the CLI (bench.cli.main in-process; one real `python -m bench` subprocess).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import tasks  # noqa: F401  (registers tasks)
from bench.cli import ArgumentParser
from bench.cli import main as cli_main
from bench.commands.run import add_executor_arguments
from bench.commands.run import execute as run_from_args
from bench.execute.ray_executor import run_ray

ROOT = Path(__file__).resolve().parents[1]
TASK = ["run", "--task", "recall", "--variant", "distance=4", "--variant", "n_train=50",
        "--model", "rnn", "--steps", "5", "--device", "cpu", "--threads", "1", "--no-progress"]


def snapshot(folder: Path) -> dict:
    """Every file under `folder` with its bytes and mtime, to prove nothing was touched."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()} if folder.exists() else {}


def fails_in_one_line(argv: list[str], capsys, needle: str) -> str:
    try:
        status = cli_main(argv)
    except SystemExit as exit_:  # argparse errors exit from inside the parser
        status = exit_.code
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and needle in err, err
    return err


@pytest.mark.parametrize("argv, needle", [
    (["run", "--task", "nope"], "unknown task 'nope'; valid: "),
    (["run", "--task", "recall", "--model", "nope"], "unknown model 'nope'; valid: "),
    (["run", "--suite", "nope"], "unknown suite 'nope'; valid: "),
    (["run", "--task", "recall", "--variant", "nope=1"], "no variant key 'nope'; valid: "),
    (["run", "--task", "recall", "--variant", "distance=far"], "distance='far' is not a int"),
    (["run", "--task", "recall", "--variant", "distance=-1"], "distance must be >= 0"),
    (["run", "--task", "recall", "--steps", "abc"], "--steps: invalid int value: 'abc'"),
    (["run", "--task", "recall", "--seeds", "0,x"], "--seeds must be comma-separated integers"),
    (["nope"], "invalid choice: 'nope'"),
    (["run", "--task", "recall", "--set", "nope=1"], "unknown setting 'nope'; valid: budget_params"),
    (["run", "--task", "recall", "--set", "dropout=2"], "dropout must be in [0, 1)"),
    (["run", "--config", "no/such/grid.toml"], "--config file no/such/grid.toml does not exist"),
    (["run", "--config", "grid.ini"], "does not exist"),
    (["run", "--import", "no_such_plugin_module", "--task", "recall"], "plugin 'no_such_plugin_module' failed"),
    (["eval", "no/such.safetensors"], "checkpoint no/such.safetensors does not exist"),
    (["eval", "x.safetensors", "--split", "dev"], "invalid choice: 'dev'"),
])
def test_bad_names_and_values(argv, needle, capsys, tmp_path):
    fails_in_one_line([*argv, "--out", str(tmp_path / "out")] if argv[0] == "run" else argv,
                      capsys, needle)
    assert not (tmp_path / "out").exists()


def test_budget_too_small_for_a_model(capsys, tmp_path):
    out = tmp_path / "out"
    fails_in_one_line([*TASK, "--budget-params", "10", "--out", str(out)], capsys, "budget 10 cannot be met")
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_a_gpu(capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    fails_in_one_line([*TASK, "--device", "cuda", "--out", str(out)], capsys, "cuda")
    assert list(out.iterdir()) == []


def test_results_folder_of_another_store_version(capsys, tmp_path):
    out = tmp_path / "out"
    (out / "runs").mkdir(parents=True)
    (out / "store.json").write_text(json.dumps({"store_version": 999}))
    (out / "runs" / "0123456789abcdef.json").write_text("{}")
    before = snapshot(out)
    fails_in_one_line([*TASK, "--out", str(out)], capsys, "store_version 999")
    assert snapshot(out) == before


def test_one_real_command_line(tmp_path):
    """`python -m bench` itself: exit 2, one line, no traceback."""
    result = subprocess.run([sys.executable, "-m", "bench", "run", "--task", "recall",
                             "--model", "nope", "--out", str(tmp_path / "out")],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "unknown model 'nope'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


# ---- the executor flags (wired into `bench run` by add_executor_arguments) ----

def executor_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="bench run")
    add_executor_arguments(parser)
    return parser


@pytest.mark.parametrize("argv, needle", [
    (["--jobs", "0"], "--jobs: invalid positive integer value: '0'"),
    (["--jobs", "two"], "--jobs: invalid positive integer value: 'two'"),
    (["--runs-per-gpu", "-1"], "--runs-per-gpu: invalid positive integer value"),
    (["--executor", "slurm"], "invalid choice: 'slurm' (choose from"),
])
def test_bad_executor_flags(argv, needle, capsys):
    with pytest.raises(SystemExit) as exit_:
        executor_parser().parse_args(argv)
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1 and needle in err, err


@pytest.mark.parametrize("argv, needle", [
    (["--address", "auto"], "--address goes with --executor ray"),
    (["--executor", "ray", "--jobs", "2"], "--jobs is for --executor local"),
])
def test_inconsistent_executor_flags(argv, needle, tmp_path):
    args = executor_parser().parse_args(argv)
    with pytest.raises(ValueError, match=needle):
        run_from_args([], tmp_path / "out", args)
    assert not (tmp_path / "out").exists()


def test_ray_missing_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    args = argparse.Namespace(executor="ray", jobs=1, runs_per_gpu=1, address=None)
    with pytest.raises(ValueError, match=r"needs ray: pip install '\.\[ray\]'"):
        run_from_args([], tmp_path / "out", args)
    with pytest.raises(ValueError, match="needs ray"):
        run_ray([], tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---- issue 19: settings and data checked before training, repeated keys, grid size ----

@pytest.mark.parametrize("extra, needle", [
    (["--set", "clip_norm=-1"], "clip_norm must be > 0, got -1.0"),  # trained uphill before
    (["--set", "warmup_frac=-3"], "warmup_frac must be in [0, 1), got -3.0"),
    (["--set", "weight_decay=-0.1"], "weight_decay must be >= 0"),
    (["--lr", "inf"], "lr must be a finite number, got inf"),  # wrote Infinity (not JSON) before
    (["--set", "init=zeros"], "init must be one of standard, chrono, orthogonal"),
    (["--seeds", "0,-1"], "seed must be in [0, 4294967295], got -1"),  # seed 0 trained first before
    (["--seeds", "0,18446744073709551616"], "seed must be in [0, 4294967295]"),
    (["--variant", "distance=8"], "--variant distance given twice (4 and 8)"),  # one was dropped before
    (["--set", "steps=7"], "--set steps given twice (5 and 7)"),
    (["--model", "rnn"], "model 'rnn' given twice"),
    (["--seeds", "3,3"], "seed 3 given twice"),
])
def test_bad_settings_and_repeated_keys_are_refused_before_training(extra, needle, capsys, tmp_path):
    steps = TASK.index("--steps")  # TASK gives distance=4, rnn and 5 steps (as --set here)
    argv = [*TASK[:steps], *TASK[steps + 2:], "--set", "steps=5"]
    fails_in_one_line([*argv, *extra, "--out", str(tmp_path / "out")], capsys, needle)
    assert not (tmp_path / "out").exists()


def test_a_grid_over_the_limit_needs_yes_and_is_refused_before_planning(capsys, tmp_path):
    import time

    from bench.cli import build_parser
    from bench.commands.run import configs_from_args

    seeds = ",".join(map(str, range(10_001)))
    fails_in_one_line([*TASK, "--seeds", seeds, "--out", str(tmp_path / "out")], capsys,
                      "this grid has 10,001 runs, more than 10,000: pass --yes")
    assert len(configs_from_args(build_parser().parse_args([*TASK, "--seeds", seeds, "--yes"]))) == 10_001
    grid_file = tmp_path / "huge.json"  # 10^6 runs: planned for minutes and 0.68 GB before
    grid_file.write_text(json.dumps({"seeds": list(range(1000)), "lrs": [1e-4 * (i + 1) for i in range(1000)],
                                     "models": ["rnn"], "tasks": ["recall"]}))
    started = time.monotonic()
    fails_in_one_line(["run", "--config", str(grid_file), "--out", str(tmp_path / "out")], capsys,
                      "this grid has 1,000,000 runs")
    assert time.monotonic() - started < 5 and not (tmp_path / "out").exists()


def _bad_regression(variant, seed):
    """A regression task whose targets are (N, 1): they would broadcast against (N,) predictions."""
    from tasks.base import Split, TaskData

    def split(n):
        return Split(inputs=torch.rand(n, 6, 2), lengths=torch.full((n,), 6), targets=torch.rand(n, 1))
    return TaskData(train=split(32), val=split(8), test=split(8), output="regression", n_classes=1, n_features=2)


def test_a_task_whose_tensors_have_the_wrong_shape_is_refused_naming_the_task(capsys, tmp_path):
    from tasks.base import TASKS, Task

    with TASKS.scoped():
        TASKS.add("bad_regression", Task("bad_regression", "test", 1, {}, _bad_regression))
        fails_in_one_line(["run", "--task", "bad_regression", "--model", "lstm", "--steps", "5", "--device", "cpu",
                           "--budget-params", "2e4", "--no-progress", "--out", str(tmp_path / "out")], capsys,
                          "task 'bad_regression': train split: regression targets must be (N,) finite floats, "
                          "got (32, 1)")
    assert not list((tmp_path / "out" / "runs").glob("*.json"))  # recorded test_accuracy 50.0 before


# ---- issue 19: the smaller probes ----

@pytest.mark.parametrize("text, needle", [
    ('lrs = "0.001"\n[[tasks]]\nname = "recall"\n', "lrs must be a list of numbers (lrs = [0.001]), got '0.001'"),
    ('[[tasks]]\nname = "recall"\nvariants = "distance=4"\n', "each variant is a table of knobs"),
])
def test_grid_file_values_of_the_wrong_kind(text, needle, capsys, tmp_path):
    (tmp_path / "g.toml").write_text(text)
    fails_in_one_line(["run", "--config", str(tmp_path / "g.toml"), "--out", str(tmp_path / "out")], capsys, needle)


@pytest.mark.parametrize("name, text", [
    ("g.json", '{"models": ["rnn"], "models": ["lstm"], "tasks": ["recall"]}'),
    ("g.yaml", "models: [rnn]\nmodels: [lstm]\ntasks: [recall]\n"),
])
def test_a_key_given_twice_in_a_grid_file(name, text, capsys, tmp_path):
    if name.endswith(".yaml"):
        pytest.importorskip("yaml")
    (tmp_path / name).write_text(text)
    fails_in_one_line(["run", "--config", str(tmp_path / name), "--out", str(tmp_path / "out")], capsys,
                      "key 'models' given twice")


def test_a_grid_files_plugins_run_only_when_allowed(capsys, tmp_path):
    from bench.cli import build_parser
    from bench.commands.run import configs_from_args
    from bench.models import MODELS
    from bench.plugins import isolated

    grid = ROOT / "examples" / "grid.toml"
    with isolated():
        fails_in_one_line(["run", "--config", str(grid), "--out", str(tmp_path / "out")], capsys,
                          "lists plugins (my_model.py, my_task.py), and importing them runs their code: "
                          "pass --allow-plugins")
        assert "causal_conv" not in MODELS  # nothing imported
        assert configs_from_args(build_parser().parse_args(["run", "--config", str(grid), "--allow-plugins"]))
    with isolated():  # loaded already with --import: nothing new runs, no flag needed
        assert cli_main(["--import", str(ROOT / "examples" / "my_model.py"), "--import",
                         str(ROOT / "examples" / "my_task.py"), "run", "--config", str(grid), "--set", "steps=1",
                         "--yes", "--out", str(tmp_path / "never"), "--executor", "ray", "--jobs", "2"]) == 2
        assert "--jobs is for --executor local" in capsys.readouterr().err  # got past the plugin check


def test_a_plugin_calling_sys_exit_is_reported(capsys, tmp_path):
    (tmp_path / "quits.py").write_text("import sys\nsys.exit(3)\n")
    fails_in_one_line(["--import", str(tmp_path / "quits.py"), "list"], capsys, "called sys.exit(3) while importing")


def test_report_of_a_file_an_empty_folder_and_a_table_without_run_id(capsys, tmp_path):
    (tmp_path / "afile").write_text("x")
    fails_in_one_line(["report", str(tmp_path / "afile")], capsys,
                      f"results folder {tmp_path / 'afile'} is not a folder")
    (tmp_path / "empty").mkdir()
    fails_in_one_line(["report", str(tmp_path / "empty")], capsys, "holds nothing to report")
    assert list((tmp_path / "empty").iterdir()) == []  # no "wrote ... (and csv)" and nothing written
    copy = tmp_path / "copy"  # a results.csv without runs/ to rebuild it from
    copy.mkdir()
    (copy / "results.csv").write_text("task,model,metric,value\nrecall,lstm,test_accuracy,0.5\n")
    fails_in_one_line(["report", str(copy)], capsys, f"{copy / 'results.csv'} lacks columns")


def test_a_results_csv_without_run_id_is_rebuilt_from_the_runs(tmp_path):
    import pandas as pd
    from fake_runs import config_of, record_of

    from bench.execute.store import load_table, rebuild, write_run

    record = record_of(config_of())
    write_run(tmp_path, record)
    rebuild(tmp_path)
    table = pd.read_csv(tmp_path / "results.csv")
    table.drop(columns=["run_id"]).to_csv(tmp_path / "results.csv", index=False)  # gave pandas' usecols error
    assert set(load_table(tmp_path).run_id) == {record["run_id"]}
    assert set(pd.read_csv(tmp_path / "results.csv").run_id) == {record["run_id"]}
