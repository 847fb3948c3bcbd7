"""Plugins: the example model and task (examples/) registered from outside the package and
run through the command line (a fresh interpreter, and in-process) and the Python API, in
this process and in a worker pool; installed entry points; failures that are loud."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bench
from bench.cli import main
from bench.logs import configure
from bench.models import MODELS
from bench.plugins import isolated, load_entry_points, loaded
from tasks.base import TASKS

ROOT = Path(__file__).resolve().parents[1]
MODEL, TASK = ROOT / "examples" / "my_model.py", ROOT / "examples" / "my_task.py"
VARIANT = {"length": 7, "n_train": 64, "n_val": 32, "n_test": 32}
SETTINGS = {"steps": 6, "eval_every": 3, "budget_params": 20_000, "d_embed": 32, "batch_size": 16,
            "device": "cpu"}
FLAGS = ["--task", "majority", *[a for k, v in VARIANT.items() for a in ("--variant", f"{k}={v}")],
         *[a for k, v in SETTINGS.items() for a in ("--set", f"{k}={v}")], "--no-progress", "--threads", "1"]


@pytest.fixture(autouse=True)
def _isolated():
    """Each test registers the plugins itself; none leaks into another test's MODELS/TASKS."""
    with isolated():
        yield
    assert "causal_conv" not in MODELS and "majority" not in TASKS and "demo_gru" not in MODELS


def test_the_examples_run_from_a_fresh_command_line_outside_the_clone(tmp_path):
    """`bench --import FILE run ... --import FILE`: both spellings, nothing pre-registered."""
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "bench", "--import", str(MODEL), "run", "--import", str(TASK),
                             *FLAGS, "--model", "causal_conv", "--model", "lstm", "--out", str(out)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2 runs: 0 already done, 2 ok" in result.stdout
    records = [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]
    assert sorted(r["config"]["model"] for r in records) == ["causal_conv", "lstm"]
    assert {r["config"]["task"] for r in records} == {"majority"}
    assert all(0.0 <= r["metrics"]["test_accuracy"] <= 1.0 and "trivial_baseline" in r["metrics"] for r in records)


def test_the_examples_through_the_cli_in_process_and_the_api(tmp_path, capsys):
    assert main(["--import", str(MODEL), "--import", str(TASK), "list"]) == 0
    listed = capsys.readouterr().out
    assert "causal_conv" in listed and "majority" in listed
    # the same files again (CLI and API in one process): imported once, registered once
    assert main(["run", "--import", str(MODEL), "--import", str(TASK), *FLAGS, "--model", "causal_conv",
                 "--out", str(tmp_path / "cli")]) == 0
    rows = bench.run(task="majority", model="causal_conv", variant=VARIANT, out=tmp_path / "api",
                     plugins=[str(MODEL), str(TASK)], progress=False, **SETTINGS)
    assert set(rows.model) == {"causal_conv"} and set(rows.task) == {"majority"}
    cli_rows = bench.load(tmp_path / "cli")
    accuracy = lambda frame: frame.loc[frame.metric == "test_accuracy", "value"].tolist()  # noqa: E731
    assert accuracy(rows) == accuracy(cli_rows)  # the CLI is a layer over the same run
    assert TASKS["majority"].build.__module__.startswith("bench_plugin_my_task_")
    assert str(MODEL.resolve()) in loaded()


def test_a_worker_pool_loads_the_plugins_too(tmp_path, capsys):
    """Spawned workers start empty: each imports the parent's plugins before its first run,
    and the parent prints one line per finished run."""
    configure(0)
    rows = bench.run(task="majority", model=["causal_conv", "lstm"], variant=VARIANT, out=tmp_path, jobs=2,
                     plugins=[str(MODEL), str(TASK)], progress=False, threads=1, **SETTINGS)
    assert sorted(set(rows.model)) == ["causal_conv", "lstm"]
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("ok ")]
    assert len(lines) == 2 and all("majority[length=7]" in line and "test_acc" in line for line in lines)


def test_the_example_task_samples_and_has_its_trivial_baseline(capsys):
    assert main(["--import", str(TASK), "sample", "majority", "--variant", "length=5", "--n", "3"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for row in rows:
        bits = [int(b) for b in row["input"].split()]
        assert len(bits) == 5 and row["target"] == int(sum(bits) > 2)
    data = TASKS["majority"].build(TASKS["majority"].variant(VARIANT), 0)
    assert 0.3 < data.trivial_baseline < 0.7


def test_the_example_model_only_sees_its_receptive_field():
    import torch

    main(["--import", str(MODEL), "list"])
    encoder = MODELS["causal_conv"].build(4, 8, 2, 0.0, 4, 32)  # receptive field 7
    x = torch.randn(1, 12, 4)
    y = x.clone()
    y[0, 0] += 1.0  # position 0 is out of reach of position 7 and beyond, in reach of 6
    a, b = encoder(x, None), encoder(y, None)
    assert torch.allclose(a[0, 7:], b[0, 7:]) and not torch.allclose(a[0, 6], b[0, 6])


def _dist(folder: Path, name: str, value: str) -> None:
    """An installed distribution, as pip leaves it: a dist-info folder with entry_points.txt."""
    info = folder / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[bench.plugins]\n{name} = {value}\n")


def test_an_installed_entry_point_plugin_loads_by_itself(tmp_path, monkeypatch, capsys):
    (tmp_path / "bench_demo_plugin.py").write_text(
        "from bench.models import MODELS, ModelSpec, register_model\n"
        "def register():\n"
        "    register_model(ModelSpec('demo_gru', 'recurrent', 'last state', MODELS['gru'].build, core=False))\n")
    _dist(tmp_path, "bench_demo_plugin", "bench_demo_plugin:register")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["list"]) == 0
    assert "demo_gru" in capsys.readouterr().out
    assert load_entry_points() == []  # loaded once per process
    assert "demo_gru" in MODELS


def test_a_broken_installed_plugin_fails_in_one_line(tmp_path, monkeypatch, capsys):
    _dist(tmp_path, "bench_broken_plugin", "bench_no_such_module_here")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["list"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "installed plugin 'bench_broken_plugin'" in err
    assert "No module named 'bench_no_such_module_here'" in err


@pytest.mark.parametrize("source, needle", [
    (None, "plugin 'bench_no_such_plugin' failed to import: ModuleNotFoundError"),
    ("raise RuntimeError('boom\\nand a second line')\n", "RuntimeError: boom"),
    ("def broken(:\n", "SyntaxError"),
])
def test_a_plugin_that_fails_to_import_fails_loudly(tmp_path, capsys, source, needle):
    spec = "bench_no_such_plugin"
    if source is not None:
        spec = str(tmp_path / "bad_plugin.py")
        Path(spec).write_text(source)
    out = tmp_path / "out"
    assert main(["run", "--import", spec, "--task", "recall", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and needle in err, err
    assert not out.exists()


def test_a_missing_plugin_file_is_named(tmp_path, capsys):
    assert main(["--import", str(tmp_path / "nope.py"), "list"]) == 2
    assert "does not exist" in capsys.readouterr().err
