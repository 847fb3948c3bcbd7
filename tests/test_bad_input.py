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
