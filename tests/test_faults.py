"""Writes under faults (issue 19, item 5): every table write atomic and each table file
judged on its own state, leftovers cleaned, files as readable as the umask allows, a
folder checked for writing before any training, a run whose write fails kept elsewhere,
and every OS error, Ctrl-C and failed run one line with its exit status."""
from __future__ import annotations

import errno
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pytest
from fake_runs import TINY_RECALL, config_of, record_of

import bench.execute.local as local
import bench.execute.store as store
from bench.cli import main
from bench.execute.atomic import atomic_write
from bench.execute.plan import RunFailed, Tally
from bench.execute.store import load_table, open_store, rebuild, write_run

ROOT = Path(__file__).resolve().parents[1]
VARIANT = [a for k, v in TINY_RECALL.items() for a in ("--variant", f"{k}={v}")]
RUN = ["run", "--task", "recall", *VARIANT, "--model", "lstm", "--budget-params", "2e4", "--set", "d_embed=32",
       "--steps", "10", "--device", "cpu", "--threads", "1", "--no-progress", "-q"]


def one_line(capsys, needle: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(("error: ", "interrupted")) and needle in err, err
    return err


@pytest.fixture
def fake_training(monkeypatch):
    """train_run replaced by a record of the current code (no training): the configs it got."""
    trained = []
    monkeypatch.setattr(local, "train_run", lambda config, **kw: trained.append(config) or record_of(config))
    return trained


KILL_BETWEEN_RENAMES = """
import os, signal, sys
from pathlib import Path
import bench.execute.atomic as atomic
from bench.execute.store import rebuild
real = os.replace
def replace(src, dst):
    real(src, dst)
    if Path(dst).name == "results.parquet":
        os.kill(os.getpid(), signal.SIGKILL)  # after the first table's rename, before the second's
atomic.os.replace = replace
rebuild(Path(sys.argv[1]))
"""


def test_kill_between_the_table_renames_then_each_table_is_judged_on_its_own(tmp_path):
    records = [record_of(config_of(seed=s)) for s in range(3)]
    for record in records[:2]:
        write_run(tmp_path, record)
    rebuild(tmp_path)
    write_run(tmp_path, records[2])
    (tmp_path / "runs" / f".{records[2]['run_id']}.json.x1.tmp").write_text("{")  # a killed run write
    old = time.time() - 3600
    os.utime(tmp_path / "runs" / f".{records[2]['run_id']}.json.x1.tmp", (old, old))
    (tmp_path / "runs" / ".fresh.json.x2.tmp").write_text("{")  # a run write in flight: left alone
    result = subprocess.run([sys.executable, "-c", KILL_BETWEEN_RENAMES, str(tmp_path)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, timeout=120)
    assert result.returncode == -signal.SIGKILL
    assert set(pd.read_parquet(tmp_path / "results.parquet").run_id) == {r["run_id"] for r in records}
    assert set(pd.read_csv(tmp_path / "results.csv").run_id) == {r["run_id"] for r in records[:2]}  # stale
    (tmp_path / ".results.csv.dead.tmp").write_text("half")  # as a kill mid-write leaves it
    (tmp_path / "tmpab12cd.parquet.tmp").write_text("half")  # what the old rebuild left behind

    assert set(load_table(tmp_path).run_id) == {r["run_id"] for r in records}
    assert set(pd.read_csv(tmp_path / "results.csv").run_id) == {r["run_id"] for r in records}
    leftovers = sorted(p.name for p in [*tmp_path.glob("*.tmp"), *tmp_path.glob(".*.tmp"),
                                        *(tmp_path / "runs").glob(".*.tmp")])
    assert leftovers == [".fresh.json.x2.tmp"]

    # the parquet stale on its own (a crash after the CSV's rename): rewritten too
    frame = pd.read_parquet(tmp_path / "results.parquet")
    frame[frame.run_id != records[0]["run_id"]].to_parquet(tmp_path / "results.parquet", index=False)
    load_table(tmp_path)
    assert set(pd.read_parquet(tmp_path / "results.parquet").run_id) == {r["run_id"] for r in records}


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_results_files_are_as_readable_as_the_umask_allows(tmp_path, mask, mode):
    before = os.umask(mask)
    try:
        write_run(tmp_path, record_of(config_of()))
        rebuild(tmp_path)
        atomic_write(tmp_path / "report.md", b"# report")
    finally:
        os.umask(before)
    for path in [*(tmp_path / "runs").glob("*.json"), tmp_path / "results.csv", tmp_path / "results.parquet",
                 tmp_path / "report.md"]:
        assert path.stat().st_mode & 0o777 == mode, path


def test_a_write_that_fails_leaves_no_temporary_file_and_is_one_line(tmp_path, capsys, monkeypatch, fake_training):
    real = os.replace

    def disk_full(src, dst):
        if Path(dst).name == "results.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", disk_full)
    assert main([*RUN, "--out", str(tmp_path)]) == 2
    one_line(capsys, f"No space left on device: {tmp_path / 'results.csv'}")
    assert not list(tmp_path.glob(".*.tmp")) and len(fake_training) == 1
    assert len(list((tmp_path / "runs").glob("*.json"))) == 1  # the finished run is kept


def test_a_folder_that_cannot_be_written_is_refused_before_any_training(tmp_path, capsys, monkeypatch, fake_training):
    real = tempfile.mkstemp

    def read_only(*args, dir=None, **kwargs):  # noqa: A002 - mkstemp's own keyword
        if dir is not None and Path(dir).is_relative_to(tmp_path):
            raise PermissionError(errno.EROFS, "Read-only file system", str(dir))
        return real(*args, dir=dir, **kwargs)

    open_store(tmp_path)
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert main([*RUN, "--out", str(tmp_path)]) == 2
    one_line(capsys, f"results folder {tmp_path} is not writable (Read-only file system); nothing trained")
    assert fake_training == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_a_read_only_folder_is_refused_before_any_training(tmp_path, capsys, fake_training):
    open_store(tmp_path)
    for folder in (tmp_path / "runs", tmp_path):
        folder.chmod(0o555)
    try:
        assert main([*RUN, "--out", str(tmp_path)]) == 2
    finally:
        for folder in (tmp_path, tmp_path / "runs"):
            folder.chmod(0o755)
    one_line(capsys, "is not writable")
    assert fake_training == []


def test_a_run_whose_record_cannot_be_written_is_kept_elsewhere(tmp_path, capsys, monkeypatch, fake_training):
    real = store.atomic_write

    def disk_full(path, data):
        if Path(path).parent.name == "runs":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data)

    monkeypatch.setattr(store, "atomic_write", disk_full)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    out = tmp_path / "out"
    assert main([*RUN, "--out", str(out)]) == 2
    err = one_line(capsys, "(No space left on device); its record is kept in ")
    kept = Path(err.split("kept in ")[1].split(" (copy it")[0])
    assert kept.parent == tmp_path / "tmp" / "bench-unsaved-runs"
    assert json.loads(kept.read_text())["run_id"] == record_of(fake_training[0])["run_id"]


def test_a_file_where_the_folder_should_be(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert main([*RUN, "--out", str(tmp_path / "afile")]) == 2
    one_line(capsys, "exists and is not a folder")
    assert main([*RUN, "--out", str(tmp_path / "afile" / "sub")]) == 2
    one_line(capsys, "is not writable (Not a directory)")


def test_ctrl_c_is_one_line_and_exit_130(tmp_path, capsys, monkeypatch):
    def interrupted(config, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "train_run", interrupted)
    assert main([*RUN, "--out", str(tmp_path)]) == 130
    one_line(capsys, "interrupted: finished runs are kept; the same command resumes")


def _worker_sigint(queue) -> None:
    local._init_worker(1, False, "cpu", None, 0, ())
    queue.put(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)


def test_pool_workers_leave_ctrl_c_to_the_parent():
    """A worker's own KeyboardInterrupt traceback would print for every worker."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_worker_sigint, args=(queue,))
    process.start()
    assert queue.get(timeout=60) is True
    process.join(30)


def test_a_failed_run_is_one_line_exit_1_and_its_traceback_under_v(tmp_path, capsys, monkeypatch):
    def broken(config, **kwargs):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(local, "train_run", broken)
    assert main([*RUN, "--out", str(tmp_path)]) == 1
    one_line(capsys, "run failed: recall lstm seed=0 lr=0.003: ZeroDivisionError: division by zero "
                     "(-v shows the traceback)")
    assert main([*(a for a in RUN if a != "-q"), "--out", str(tmp_path), "-v"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: run failed: ")


def test_pool_failures_become_one_line(tmp_path):
    configs = [config_of(seed=s) for s in range(3)]
    futures = {Future(): config for config in configs}
    outcomes = [RuntimeError("boom"), record_of(configs[1]), ValueError("task 'x': bad targets")]
    for future, outcome in zip(futures, outcomes):
        future.set_exception(outcome) if isinstance(outcome, Exception) else future.set_result(outcome)
    open_store(tmp_path)
    tally = Tally(configs, configs, tmp_path)
    with pytest.raises(RunFailed) as error:
        local._collect(futures, tally, type("Bar", (), {"update": lambda self: None})())
    assert str(error.value) in ("run failed: recall lstm seed=0 lr=0.003: RuntimeError: boom (2 failed in all)",
                                "run failed: recall lstm seed=2 lr=0.003: ValueError: task 'x': bad targets "
                                "(2 failed in all)")  # whichever as_completed yields first
    assert tally.counts["ok"] == 1  # what finished is kept
    broken = Future()
    broken.set_exception(BrokenProcessPool("a process terminated abruptly"))
    with pytest.raises(RunFailed, match="a worker process died"):
        local._collect({broken: configs[0]}, tally, None)


def test_a_folder_that_cannot_be_written_is_still_read(tmp_path, capsys, monkeypatch):
    """bench.load / bench report on a shared read-only folder whose tables are stale."""
    record = record_of(config_of())
    write_run(tmp_path, record)

    def read_only(out):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".lock"))

    monkeypatch.setattr(store, "rebuild", read_only)
    assert set(load_table(tmp_path).run_id) == {record["run_id"]}
    assert "could not update the tables" in capsys.readouterr().err and not (tmp_path / "results.csv").exists()
