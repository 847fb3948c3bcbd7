"""One record per config in every table, and every record the store cannot use named once.

Issue 19, items 1 and 3: a resume after a harness code change leaves the old and the new
record of the same config in one folder; every table counts one of them (the current one;
`--code any`: the current one, else the newest) and says how many it left out. A record
that is unreadable, incomplete or of the wrong shape is warned about once (path and
reason), never counted, and retrained on resume.
"""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from fake_runs import TINY_RECALL, config_of, from_other_code, record_of

import bench
import bench.execute.local as local
from bench.cli import main
from bench.execute.local import run_local
from bench.execute.store import (
    finished_ids,
    load_folder,
    load_runs,
    load_table,
    open_store,
    rebuild_table,
    write_run,
)

NOTE = "3 records from other harness code not counted: rerun or `bench report --code any`"


def test_a_folder_of_two_code_versions_counts_each_config_once(tmp_path):
    current = [record_of(config_of(seed=s), accuracy=0.9) for s in range(3)]
    for record in current:
        write_run(tmp_path, record)
        write_run(tmp_path, from_other_code(record))  # the same config, run before a code change
    only_old = from_other_code(record_of(config_of(seed=3), accuracy=0.1))
    legacy = from_other_code(record_of(config_of(seed=4)))  # written before records listed their files
    legacy["environment"].pop("code_files")
    for record in (only_old, legacy):
        write_run(tmp_path, record)

    table = load_table(tmp_path)
    assert sorted(table.drop_duplicates("run_id").seed) == [0, 1, 2]  # n=3, not 6
    assert set(table.run_id) == {r["run_id"] for r in current} and table.counted.all()
    assert table.attrs["notes"] == ["5 records from other harness code not counted: rerun or "
                                    "`bench report --code any`"]
    # results.csv keeps every row and says which are counted: pandas users filter on it
    on_disk = pd.read_csv(tmp_path / "results.csv")
    assert on_disk.run_id.nunique() == 8
    assert set(on_disk.loc[on_disk.counted, "run_id"]) == set(table.run_id)
    assert set(pd.read_parquet(tmp_path / "results.parquet").query("counted").run_id) == set(table.run_id)

    anyone = load_folder(tmp_path, "any")  # the current record where it exists, else the newest
    assert sorted(anyone.table.drop_duplicates("run_id").seed) == [0, 1, 2, 3, 4]
    assert {r["run_id"] for r in anyone.records} == {r["run_id"] for r in current} | {only_old["run_id"],
                                                                                     legacy["run_id"]}
    assert any("3 records of a config that has a current or newer record" in n for n in anyone.notes)
    assert any("2 of 5 counted records were computed by other harness code" in n for n in anyone.notes)
    pd.testing.assert_frame_equal(bench.load(tmp_path, code="any"), anyone.table)


def test_any_takes_the_newest_record_when_no_current_one_exists(tmp_path):
    base = record_of(config_of(seed=0))
    older = from_other_code(base, finished_at="2025-01-01T00:00:00+00:00")
    newer = {**from_other_code(base, finished_at="2025-06-01T00:00:00+00:00"), "run_id": "fedcba9876543210"}
    newer["metrics"] = {**newer["metrics"], "test_accuracy": 0.77}
    for record in (older, newer):
        write_run(tmp_path, record)
    assert load_table(tmp_path).empty
    chosen = load_table(tmp_path, code="any")
    assert set(chosen.run_id) == {"fedcba9876543210"}
    assert chosen.loc[chosen.metric == "test_accuracy", "value"].tolist() == [0.77]


@pytest.fixture
def tiny_cli():
    """`bench run` arguments for three seeds of one tiny LSTM, at one thread."""
    variant = [a for k, v in TINY_RECALL.items() for a in ("--variant", f"{k}={v}")]
    return ["run", "--task", "recall", *variant, "--model", "lstm", "--seeds", "0,1,2", "--budget-params",
            "2e4", "--set", "d_embed=32", "--steps", "10", "--device", "cpu", "--threads", "1", "--no-progress"]


def test_code_change_then_resume_then_report_shows_n3_and_what_it_left_out(tmp_path, tiny_cli, capsys):
    """The issue's probe: records of seeds 0-2 from other harness code, the same command
    rerun (a resume after the change trains all three anew), `bench report`."""
    out = tmp_path / "res"
    assert main([*tiny_cli, "--out", str(out)]) == 0
    for path in (out / "runs").glob("*.json"):  # what a code change makes of them: other code
        record = json.loads(path.read_text())
        path.unlink()
        write_run(out, from_other_code(record))
    capsys.readouterr()
    assert main([*tiny_cli, "--out", str(out)]) == 0
    ran = capsys.readouterr()
    assert "3 runs: 0 already done, 3 ok" in ran.out and f"note: {NOTE}" in ran.err
    assert len(list((out / "runs").glob("*.json"))) == 6

    assert main(["report", str(out), "--no-plots"]) == 0
    reported = capsys.readouterr()
    summary = pd.read_csv(out / "summary.csv")
    assert summary["n"].tolist() == [3]  # not 6
    assert NOTE in (out / "report.md").read_text()[:2000] and f"note: {NOTE}" in reported.err

    for record in load_runs(out):  # keep only the other code's records
        if record["environment"]["harness_code"] != "0123456789abcdef":
            (out / "runs" / f"{record['run_id']}.json").unlink()
    assert main(["report", str(out), "--no-plots"]) == 2  # nothing current: says so, overwrites nothing
    assert "holds nothing to report (3 records from other harness code" in capsys.readouterr().err
    assert main(["report", str(out), "--no-plots", "--code", "any"]) == 0
    assert pd.read_csv(out / "summary.csv")["n"].tolist() == [3]
    assert "3 of 3 counted records were computed by other harness code" in (out / "report.md").read_text()


UNUSABLE = {
    "truncated.json": b'{"run_id": "abc", "config": {"ta',
    "empty.json": b"",
    "binary.json": b"\xff\xfe\x00garbage",
    "a_list.json": b"[1, 2, 3]",
    "no_config.json": b'{"run_id": "abc", "status": "ok"}',
}


def _shapes(good: dict) -> dict[str, tuple[dict, str]]:
    """Valid JSON of the wrong shape: file name -> (record, what the warning says)."""
    def named(name: str, **changes) -> dict:
        return {**good, "run_id": name, **changes}

    return {"no_metrics.json": ({k: v for k, v in named("no_metrics").items() if k != "metrics"}, "no metrics"),
            "null_metrics.json": (named("null_metrics", metrics=None), "metrics is null"),
            "list_metrics.json": (named("list_metrics", metrics=[0.5]), "metrics is a list"),
            "text_metric.json": (named("text_metric", metrics={"test_accuracy": "high"}),
                                 "metric 'test_accuracy' is 'high'"),
            "no_model.json": (named("no_model", config={k: v for k, v in good["config"].items() if k != "model"}),
                              "incomplete config (no model)"),
            "running.json": (named("running", status="running"), "status 'running'"),
            "renamed.json": (good, "does not match its file name")}


def test_unusable_run_files_are_warned_once_never_counted_and_retrained(tmp_path, capsys, monkeypatch):
    open_store(tmp_path)
    good = [record_of(config_of(seed=s)) for s in range(2)]
    for record in good:
        write_run(tmp_path, record)
    runs = tmp_path / "runs"
    for name, data in UNUSABLE.items():
        (runs / name).write_bytes(data)
    shapes = _shapes(good[0])
    for name, (record, _) in shapes.items():
        (runs / name).write_text(json.dumps(record))

    table = rebuild_table(tmp_path)
    folder = load_folder(tmp_path)  # the report, bench.load and a resume read the folder again
    assert finished_ids(tmp_path) == {r["run_id"] for r in good}  # the others are not done: retrained
    assert len(load_runs(tmp_path)) == 2
    err = capsys.readouterr().err
    for name in [*UNUSABLE, *shapes]:
        assert err.count(f"skipping run file {runs / name}:") == 1, name  # once, with its path
    for name, (_, reason) in shapes.items():
        assert reason in err.split(f"{runs / name}:")[1].splitlines()[0], name
    assert "not counted, and a rerun of its config trains it again" in err
    assert set(table.run_id) == set(folder.table.run_id) == {r["run_id"] for r in good}
    assert f"{len(UNUSABLE) + len(shapes)} unreadable or incomplete run files not counted" in folder.notes[0]

    # resume: a record cut short is trained again and its file replaced
    config = config_of(seed=7)
    record = record_of(config)
    path = runs / f"{record['run_id']}.json"
    path.write_text(json.dumps(record)[:100])
    trained = []
    monkeypatch.setattr(local, "train_run", lambda c, **kw: trained.append(c) or record_of(c))
    counts = run_local([config], tmp_path, progress=False)
    assert counts["ok"] == 1 and counts["skipped"] == 0 and trained == [config]
    assert json.loads(path.read_text())["run_id"] == record["run_id"]


def test_report_and_run_never_crash_on_wrong_shaped_records(tmp_path, capsys):
    good = record_of(config_of(seed=0))
    write_run(tmp_path, good)
    for name, (record, _) in _shapes(good).items():
        (tmp_path / "runs" / name).write_text(json.dumps(record))
    shutil.copy(tmp_path / "runs" / f"{good['run_id']}.json", tmp_path / "runs" / "copy.json")
    assert main(["report", str(tmp_path), "--no-plots", "--format", "md"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("renamed.json") == 1
