"""A store that loses nothing: kill -9 and rerun, concurrent writers, corrupt files, versions."""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import tasks  # noqa: F401  (registers tasks)
from bench.cli import main as cli_main
from bench.execute.store import (
    STORE_VERSION,
    StoreError,
    check_store,
    finished_ids,
    load_runs,
    open_store,
    rebuild,
    rebuild_table,
    store_lock,
    write_run,
)
from bench.run.config import RunConfig
from tasks.base import TASKS

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ["run", "--task", "recall", "--variant", "distance=4", "--variant", "n_train=300",
         "--variant", "n_val=100", "--variant", "n_test=100", "--model", "rnn", "--model", "gru",
         "--model", "lstm", "--seeds", "0,1", "--budget-params", "20000", "--steps", "40",
         "--device", "cpu", "--threads", "1", "--no-progress"]  # 6 runs, ~1 s each



def fake_record(seed: int, model: str = "rnn") -> dict:
    """A run record as train_run writes it, without training (for store plumbing tests)."""
    config = RunConfig(task="recall", model=model, variant=TASKS["recall"].variant({"distance": 4}),
                       seed=seed, budget_params=20_000, steps=10)
    return {"config": config.to_dict(), "task_version": 1, "family": "long_range", "length": 8,
            "run_id": config.run_id(1), "status": "ok", "curve": [],
            "metrics": {"test_accuracy": seed / 1000, "val_accuracy": 0.5}}


def test_kill_9_then_rerun_keeps_every_run_once(tmp_path):
    out = tmp_path / "sweep"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "bench", *SWEEP, "--out", str(out)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runs = out / "runs"
    deadline = time.monotonic() + 120
    while not list(runs.glob("*.json")):
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "no run finished in 120 s"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    survivors = {p.name: p.read_bytes() for p in runs.glob("*.json")}
    assert 1 <= len(survivors) < 6, "the sweep should have been killed mid-way"
    # what a kill in the middle of atomic_write leaves behind: a half-written temp file
    (runs / ".0123456789abcdef.json.x1y2.tmp").write_text('{"run_id": "0123456789abcdef", "conf')

    assert cli_main([*SWEEP, "--out", str(out)]) == 0  # the same command again

    files = sorted(runs.glob("*.json"))
    ids = [json.loads(p.read_text())["run_id"] for p in files]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert [p.stem for p in files] == sorted(ids)  # each file named by its own id
    for name, data in survivors.items():  # finished runs were kept, not retrained
        assert (runs / name).read_bytes() == data
    table = pd.read_csv(out / "results.csv")
    assert sorted(table.run_id.unique()) == sorted(ids)
    assert not table.duplicated(["run_id", "metric"]).any()
    assert "0123456789abcdef" not in set(table.run_id)
    # results.csv is always rebuildable from runs/ alone
    (out / "results.csv").unlink()
    (out / "results.parquet").unlink()
    rebuilt = rebuild_table(out)
    pd.testing.assert_frame_equal(rebuilt.reset_index(drop=True), table, check_dtype=False)
    assert pd.read_parquet(out / "results.parquet").shape == table.shape


def _writer(out: str, worker: int, n: int) -> None:
    """One of several processes writing its own runs (and one shared run) to one folder."""
    for i in range(n):
        write_run(Path(out), fake_record(seed=100 * worker + i))
        write_run(Path(out), fake_record(seed=999))  # the same run finished by everyone
        rebuild(Path(out))


def test_concurrent_writers_lose_no_row(tmp_path):
    workers, per_worker = 4, 8
    context = multiprocessing.get_context("fork")  # cheap: no re-import of torch
    processes = [context.Process(target=_writer, args=(str(tmp_path), w, per_worker))
                 for w in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    expected = {fake_record(100 * w + i)["run_id"] for w in range(workers) for i in range(per_worker)}
    expected.add(fake_record(999)["run_id"])
    assert {p.stem for p in (tmp_path / "runs").glob("*.json")} == expected
    assert not list((tmp_path / "runs").glob("*.tmp"))
    # the last rebuild to finish saw every run: the lock keeps a stale table from landing last
    table = pd.read_csv(tmp_path / "results.csv")
    assert set(table.run_id) == expected
    assert len(table) == 2 * len(expected)  # two metrics per run, none duplicated
    assert set(pd.read_parquet(tmp_path / "results.parquet").run_id) == expected


def test_rebuild_waits_for_the_store_lock(tmp_path):
    """Rebuilds are serialized across processes (the race is too narrow to hit on demand)."""
    write_run(tmp_path, fake_record(0))
    child = multiprocessing.get_context("fork").Process(target=rebuild, args=(tmp_path,))
    with store_lock(tmp_path):
        child.start()
        time.sleep(0.5)
        assert child.is_alive() and not (tmp_path / "results.csv").exists()
    child.join(30)
    assert child.exitcode == 0 and (tmp_path / "results.csv").exists()


def test_corrupt_run_files_are_named_and_skipped(tmp_path, capsys):
    good = [fake_record(seed) for seed in range(3)]
    for record in good:
        write_run(tmp_path, record)
    runs = tmp_path / "runs"
    corrupt = {"truncated.json": b'{"run_id": "abc", "config": {"ta',
               "empty.json": b"",
               "binary.json": b"\xff\xfe\x00garbage",
               "a_list.json": b"[1, 2, 3]",
               "no_config.json": b'{"run_id": "abc", "status": "ok"}'}
    for name, data in corrupt.items():
        (runs / name).write_bytes(data)

    table = rebuild_table(tmp_path)
    err = capsys.readouterr().err
    for name in corrupt:
        assert f"skipping run file {runs / name}: " in err  # (tests/test_one_record.py: every shape, once)
    assert set(table.run_id) == {r["run_id"] for r in good}
    assert len(load_runs(tmp_path)) == 3
    assert finished_ids(tmp_path) == {r["run_id"] for r in good}  # corrupt ones would re-run
    assert pd.read_csv(tmp_path / "results.csv").shape == table.shape


def test_store_version(tmp_path):
    fresh = tmp_path / "fresh"
    check_store(fresh)  # a missing folder is fine, and checking creates nothing
    assert not fresh.exists()
    open_store(fresh)
    assert json.loads((fresh / "store.json").read_text()) == {"store_version": STORE_VERSION}
    check_store(fresh)

    legacy = tmp_path / "legacy"  # runs written before store versions: their ids lack the code hash
    write_run(legacy, fake_record(0))
    with pytest.raises(StoreError, match="without a version"):
        check_store(legacy)

    other = tmp_path / "other"
    other.mkdir()
    (other / "store.json").write_text(json.dumps({"store_version": STORE_VERSION + 1}))
    with pytest.raises(StoreError, match=f"store_version {STORE_VERSION + 1}"):
        open_store(other)
    (other / "store.json").write_text("{not json")
    with pytest.raises(StoreError, match="unreadable"):
        check_store(other)
