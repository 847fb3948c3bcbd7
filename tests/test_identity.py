"""A run's identity is the code it executes (issue 19, item 2).

A plugin edit changes that plugin's run ids and nobody else's; an edit to one model's file
(the minGRU scan, in a copy of the repository) leaves every other model's run ids alone,
while an edit to the training loop's folder moves them all; a plugin that swaps a model into
the registry through its internals never inherits the genuine model's run id; every record
names the plugins its process loaded; the registry has no public path to replace a name.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fake_runs import TINY_RECALL

from bench.cli import main
from bench.execute.store import load_folder, load_runs
from bench.models import MODELS, ModelSpec
from bench.plugins import isolated, load_plugins
from bench.run.config import RunConfig
from tasks.base import TASKS

ROOT = Path(__file__).resolve().parents[1]
VERSION = TASKS["recall"].version


def run_id(model: str) -> str:
    """The run id of the tiny run `bench run` trains below."""
    return RunConfig(task="recall", model=model, variant=TASKS["recall"].variant(TINY_RECALL), budget_params=20_000,
                     d_embed=32, steps=10, device="cpu").run_id(VERSION)


def edit(path: Path, old: str, new: str) -> None:
    """Edit a file and move its mtime on, so an edit of the same size is seen too."""
    stat = path.stat()
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def test_a_plugin_edit_reruns_only_the_plugins_runs_and_records_name_it(tmp_path, capsys):
    plugin = tmp_path / "my_model.py"
    shutil.copy(ROOT / "examples" / "my_model.py", plugin)
    variant = [a for k, v in TINY_RECALL.items() for a in ("--variant", f"{k}={v}")]
    argv = ["--import", str(plugin), "run", "--task", "recall", *variant, "--model", "causal_conv",
            "--budget-params", "2e4", "--set", "d_embed=32", "--steps", "10", "--device", "cpu",
            "--threads", "1", "--no-progress", "--out", str(tmp_path / "out")]
    with isolated():
        load_plugins([str(plugin)])
        before = run_id("causal_conv"), run_id("lstm")
        assert main(argv) == 0
    [record] = load_runs(tmp_path / "out")
    assert record["run_id"] == before[0]
    assert record["environment"]["plugins"] == [str(plugin.resolve())]  # the record says which plugins ran
    assert str(plugin.resolve()) in record["environment"]["code_files"]

    edit(plugin, "KERNEL = 3", "KERNEL = 7")
    with isolated():  # a fresh import of the edited file, as a new `bench` process would do
        load_plugins([str(plugin)])
        after = run_id("causal_conv"), run_id("lstm")
        capsys.readouterr()
        assert main(argv) == 0
        assert "1 runs: 0 already done, 1 ok" in capsys.readouterr().out  # not "1 already done"
        folder = load_folder(tmp_path / "out")
    assert after[0] != before[0] and after[1] == before[1]
    assert folder.table.run_id.unique().tolist() == [after[0]]
    assert folder.notes == ["1 record from other harness code not counted: rerun or `bench report --code any`"]


SCRIPT = """
import json
from pathlib import Path
import tasks
from bench.run.config import RunConfig
from tasks.base import TASKS

def ids():
    variant = TASKS["recall"].variant({})
    return {m: RunConfig(task="recall", model=m, variant=variant).run_id(TASKS["recall"].version)
            for m in ("lstm", "transformer", "mingru")}

def append(path):
    path = Path(path)
    path.write_text(path.read_text() + "\\n_X = 1\\n")

before = ids()
append("bench/models/scan.py")   # the minGRU scan
after_scan = ids()
append("bench/run/budget.py")    # what every run executes
print(json.dumps([before, after_scan, ids()]))
"""


def test_an_edit_to_one_models_file_moves_only_that_models_run_ids(tmp_path):
    """In a copy of the repository: the scan edit moves minGRU's run id only; an edit under
    bench/run moves every model's."""
    for folder in ("bench", "tasks"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    before, after_scan, after_core = json.loads(result.stdout.strip().splitlines()[-1])
    assert after_scan["mingru"] != before["mingru"]
    assert {m: after_scan[m] for m in ("lstm", "transformer")} == {m: before[m] for m in ("lstm", "transformer")}
    assert all(after_core[m] != after_scan[m] for m in before)


SWAP = """
from bench.models import MODELS, ModelSpec

def build(d_in, width, layers, dropout, heads, ffn):  # not the LSTM
    return MODELS["gru"].build(d_in, width, layers, dropout, heads, ffn)

MODELS._Registry__items["lstm"] = ModelSpec("lstm", "recurrent", "last state", build)
"""


def test_a_plugin_swapping_lstm_through_the_registry_internals_gets_another_run_id(tmp_path):
    genuine = run_id("lstm")
    (tmp_path / "swap.py").write_text(SWAP)
    with isolated():
        load_plugins([str(tmp_path / "swap.py")])
        assert MODELS["lstm"].build.__module__.startswith("bench_plugin_swap_")
        assert run_id("lstm") != genuine
    assert run_id("lstm") == genuine


def test_a_swapped_spec_reusing_a_builtin_builder_gets_another_run_id():
    genuine = run_id("lstm")
    with MODELS.scoped():
        MODELS._Registry__items["lstm"] = ModelSpec("lstm", "recurrent", "last state", MODELS["gru"].build)
        assert run_id("lstm") != genuine


def test_the_registry_has_no_public_path_to_replace_a_name():
    with pytest.raises(ValueError, match="registered twice"):
        MODELS.add("lstm", MODELS["gru"])
    public = {name for name in dir(MODELS) if not name.startswith("_")}
    assert public == {"add", "items", "kind", "names", "register", "scoped"}
    assert not hasattr(MODELS, "__setitem__") and not hasattr(MODELS, "__delitem__")
