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
    (["run", "--suite", "quick", "--only", "mqar"], "not in suite quick (its tasks: cloze, fill_in"),
    (["run", "--task", "recall", "--only", "recall"], "--only TASK goes with --suite"),
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


# ---- every setting reachable: --set, whole floats, --config grid files ----

def _configs(argv: list[str]):
    """The configs `bench run ARGV` would train; plugins a grid file loads are forgotten after."""
    from bench.cli import build_parser
    from bench.commands.run import configs_from_args
    from bench.plugins import isolated

    with isolated():
        return configs_from_args(build_parser().parse_args(argv))


def _value_for(key: str):
    """A valid non-default text value for each RunConfig setting, typed as the field is."""
    from bench.run.config import RunConfig

    default = getattr(RunConfig(task="-", model="-"), key)
    if key == "device":
        return "cpu", "cpu"
    if key == "init":
        return "chrono", "chrono"
    if isinstance(default, int):
        return str(default + 1), default + 1
    return "0.25", 0.25


def test_set_reaches_every_run_setting():
    import dataclasses

    from bench.grid import SETTINGS
    from bench.run.config import RunConfig

    fields = {f.name for f in dataclasses.fields(RunConfig)} - {"task", "model", "variant", "seed"}
    assert set(SETTINGS) == fields  # every RunConfig field but task, model, variant, seed
    for key in SETTINGS:
        text, value = _value_for(key)
        [config] = _configs(["run", "--task", "recall", "--model", "lstm", "--set", f"{key}={text}"])
        assert getattr(config, key) == value, key


def test_whole_floats_and_flags_with_set():
    [config] = _configs(["run", "--task", "recall", "--model", "lstm", "--budget-params", "1e5",
                         "--set", "steps=2e3", "--set", "warmup_frac=0.1", "--lr", "1e-3"])
    assert (config.budget_params, config.steps, config.warmup_frac, config.lr) == (100_000, 2000, 0.1, 1e-3)


@pytest.mark.parametrize("argv, needle", [
    (["--set", "stepz=3"], "unknown setting 'stepz'; valid: budget_params, steps, batch_size, lr"),
    (["--set", "steps"], "--set wants KEY=VALUE"),
    (["--set", "steps=1.5"], "steps=1.5 is not a whole number"),
    (["--set", "steps=10", "--steps", "20"], "steps given twice"),
    (["--set", "seed=1"], "seed is a grid axis, not a setting: give it with --seeds"),
    (["--budget-params", "2.5e4", "--steps", "2.5"], "invalid int value: '2.5'"),
    (["--config", "examples/grid.toml"], "give one of --suite NAME, --task NAME or --config FILE"),
])
def test_bad_settings_are_one_line_naming_the_valid_keys(tmp_path, capsys, argv, needle):
    out = tmp_path / "never"
    try:
        code = main(["run", "--task", "recall", *argv, "--out", str(out)])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and needle in err, err
    assert not out.exists()


def test_only_runs_a_piece_of_a_suite_and_the_pieces_make_the_whole():
    from bench.execute.suites import SUITES

    whole = SUITES["standard"].runs()
    recall = _configs(["run", "--suite", "standard", "--only", "recall"])
    rest = _configs(["run", "--suite", "standard", "--only", "fill_in", "--only", "imdb", "--only", "copy",
                     "--only", "adding", "--only", "mqar", "--only", "cloze"])
    assert recall and {c.task for c in recall} == {"recall"}
    assert "recall" not in {c.task for c in rest}
    assert sorted(c.run_id(0) for c in recall + rest) == sorted(c.run_id(0) for c in whole)


def test_config_file_describes_a_whole_grid():
    from pathlib import Path

    from bench.grid import grid_from_file
    from bench.plugins import isolated

    example = Path(__file__).resolve().parents[1] / "examples" / "grid.toml"
    runs = _configs(["run", "--config", str(example), "--allow-plugins"])
    assert len(runs) == 2 * 3 * 2 + 3  # recall: variants x models x lrs; majority: 3 models, 1 lr
    assert {c.task for c in runs} == {"recall", "majority"} and {c.budget_params for c in runs} == {20_000}
    assert {c.steps for c in runs if c.task == "majority"} == {200}  # a task's own settings
    # the command line wins over the file, lr over the file's lrs
    runs = _configs(["run", "--config", str(example), "--allow-plugins", "--set", "steps=5", "--lr", "0.1"])
    assert {(c.steps, c.lr) for c in runs} == {(5, 0.1)} and len(runs) == 2 * 3 + 3
    with isolated():
        assert runs == grid_from_file(example, {"steps": 5, "lr": 0.1}, allow_plugins=True)  # the API's reader


def test_yaml_and_json_grids_read_like_toml(tmp_path):
    pytest.importorskip("yaml")
    toml = tmp_path / "g.toml"
    toml.write_text('models = ["lstm"]\nseeds = [0, 1]\n[settings]\nsteps = 5e2\n'
                    '[[tasks]]\nname = "recall"\nvariants = [{distance = 4}]\n')
    (tmp_path / "g.yaml").write_text("models: [lstm]\nseeds: [0, 1]\nsettings: {steps: 500}\n"
                                     "tasks:\n  - name: recall\n    variants: [{distance: 4}]\n")
    (tmp_path / "g.json").write_text(json.dumps({"models": ["lstm"], "seeds": [0, 1], "settings": {"steps": 500},
                                                 "tasks": [{"name": "recall", "variants": [{"distance": 4}]}]}))
    runs = [_configs(["run", "--config", str(tmp_path / name)]) for name in ("g.toml", "g.yaml", "g.json")]
    assert runs[0] == runs[1] == runs[2] and len(runs[0]) == 2 and runs[0][0].steps == 500


@pytest.mark.parametrize("text, needle", [
    ('[[tasks]]\nname = "recall"\nmodles = ["lstm"]\n', "unknown key 'modles'; valid: name, variants, models"),
    ('task = "recall"\n', "unknown key 'task'; valid: tasks, models"),
    ('models = ["lstm"]\n', "needs a non-empty `tasks` list"),
    ('[[tasks]]\nname = "recall"\nvariants = [{distanse = 4}]\n', "no variant key 'distanse'"),
    ('[settings]\nstepz = 4\n[[tasks]]\nname = "recall"\n', "unknown setting 'stepz'"),
    ('[[tasks]\nname = "recall"\n', "g.toml: "),  # TOML syntax, one line with the file's name
])
def test_bad_config_files_are_one_line(tmp_path, capsys, text, needle):
    (tmp_path / "g.toml").write_text(text)
    assert main(["run", "--config", str(tmp_path / "g.toml"), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not (tmp_path / "never").exists()


def test_yaml_without_pyyaml_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "yaml", None)
    (tmp_path / "g.yaml").write_text("tasks: [recall]\n")
    assert main(["run", "--config", str(tmp_path / "g.yaml")]) == 2
    assert "YAML needs pyyaml (pip install pyyaml)" in capsys.readouterr().err


def test_the_default_out_is_git_ignored():
    import subprocess
    from pathlib import Path

    from bench.commands.run import DEFAULT_OUT

    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(["git", "check-ignore", "-q", f"{DEFAULT_OUT}/results.csv"], cwd=root)
    assert result.returncode == 0, f"{DEFAULT_OUT} is not git-ignored: runs would dirty the clone"


def test_rerun_trains_a_slice_again_under_the_same_run_ids_and_the_comparison_pairs_them(tmp_path, capsys):
    committed, again = tmp_path / "committed", tmp_path / "again"
    assert main(["run", *TINY, "--model", "lstm", "--model", "gru", "--seeds", "0,1", "--out", str(committed)]) == 0
    capsys.readouterr()
    assert main(["rerun", str(committed), "--model", "lstm", "--seeds", "1", "--variant", "distance=3.0",
                 "--threads", "1", "--no-progress", "--out", str(again)]) == 0
    assert "1 runs of" in capsys.readouterr().out
    [rerun_file] = (again / "runs").glob("*.json")
    assert (committed / "runs" / rerun_file.name).exists()  # the same config and code: the same run id
    record = json.loads(rerun_file.read_text())
    assert (record["config"]["model"], record["config"]["seed"]) == ("lstm", 1)
    assert main(["report", str(again), "--no-plots", "--compare", str(committed)]) == 0  # deterministic here
    out = capsys.readouterr().out
    assert "per run: 1 of 1 identical in every score" in out and "of its cells not rerun here" in out
    # refused, one line each, nothing written: no match, or the folder being checked as --out
    assert main(["rerun", str(committed), "--model", "rnn", "--out", str(tmp_path / "none")]) == 2
    assert main(["rerun", str(committed), "--out", str(committed)]) == 2
    assert "no run of" in capsys.readouterr().err and not (tmp_path / "none").exists()
    assert main(["rerun", str(committed), "--variant", "distance=3", "--variant", "distance=4",
                 "--out", str(tmp_path / "none")]) == 2  # the same refusal as bench run's
    assert "--variant distance given twice" in capsys.readouterr().err and not (tmp_path / "none").exists()
