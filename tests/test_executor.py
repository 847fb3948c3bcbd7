"""Executors agree: in-process, a spawned process pool and Ray give the same rows.

Timing fields (wall_s, train_tokens_per_s, curve elapsed_s) differ between any two runs and
are left out; every other number must be equal. Threads are pinned to 1 everywhere, since
a different torch thread count may reorder float sums (attention) on CPU.
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
from pathlib import Path

import pandas as pd
import pytest

import tasks  # noqa: F401  (registers tasks)
from bench.commands.run import execute as run_from_args
from bench.execute.local import run_local
from bench.execute.plan import TIMING_METRICS
from bench.execute.ray_executor import run_ray
from bench.execute.store import STORE_VERSION
from bench.run.config import RunConfig
from tasks.base import TASKS

ROOT = Path(__file__).resolve().parents[1]
TINY_VARIANT = {"distance": 4, "n_train": 300, "n_val": 100, "n_test": 100}



def tiny_runs(models=("rnn", "gru", "transformer_causal"), seeds=(0,)) -> list[RunConfig]:
    variant = TASKS["recall"].variant(TINY_VARIANT)
    return [RunConfig(task="recall", model=m, variant=variant, seed=s, budget_params=20_000,
                      d_embed=32, steps=10, eval_every=10, device="cpu")
            for m in models for s in seeds]


def comparable(out: Path) -> tuple[pd.DataFrame, dict]:
    """The results table without timing metrics, and each record's curve without elapsed_s."""
    table = pd.read_csv(out / "results.csv")
    table = table[~table.metric.isin(TIMING_METRICS)].sort_values(["run_id", "metric"])
    curves = {}
    for path in (out / "runs").glob("*.json"):
        record = json.loads(path.read_text())
        curves[record["run_id"]] = [{k: v for k, v in point.items() if k != "elapsed_s"}
                                    for point in record["curve"]]
    return table.reset_index(drop=True), curves


@pytest.fixture(scope="module")
def in_process(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("in_process")
    counts = run_local(tiny_runs(), out, progress=False, threads=1)
    assert counts == {"asked": 3, "skipped": 0, "ok": 3, "diverged": 0}
    return out


def test_pool_matches_in_process(in_process, tmp_path):
    counts = run_local(tiny_runs(), tmp_path, progress=False, jobs=2, threads=1)
    assert counts["ok"] == 3
    table, curves = comparable(tmp_path)
    expected_table, expected_curves = comparable(in_process)
    assert len(table) > 3 * 5
    pd.testing.assert_frame_equal(table, expected_table)
    assert curves == expected_curves


def test_rerun_skips_finished_runs(in_process):
    before = {p.name: p.stat().st_mtime_ns for p in (in_process / "runs").glob("*.json")}
    counts = run_local(tiny_runs(), in_process, progress=False, threads=1)
    assert counts == {"asked": 3, "skipped": 3, "ok": 0, "diverged": 0}
    after = {p.name: p.stat().st_mtime_ns for p in (in_process / "runs").glob("*.json")}
    assert after == before  # nothing retrained or rewritten


def test_run_from_args_dispatches_local(tmp_path):
    class Args:  # what argparse gives run_from_args; missing flags take their defaults
        executor, jobs, runs_per_gpu, address, threads, no_progress = "local", 1, 1, None, 1, True

    runs = tiny_runs(models=("rnn",))
    assert run_from_args(runs, tmp_path, Args())["ok"] == 1
    assert json.loads((tmp_path / "store.json").read_text()) == {"store_version": STORE_VERSION}


@pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                    reason="ray is not installed (optional extra: pip install '.[ray]')")
def test_ray_matches_local(in_process, tmp_path, monkeypatch):
    # a local Ray whose temp files and auth token stay under .cache/ (not /tmp/ray, ~/.ray);
    # Ray reads its auth settings when imported, so set them first
    cache = ROOT / ".cache"
    (cache / "ray").mkdir(parents=True, exist_ok=True)
    token = cache / "ray_auth_token"
    if not token.exists():
        token.write_text(secrets.token_hex(32))
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token))
    # workers import bench/tasks from the repository
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    import ray

    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=str(cache / "ray"),
             log_to_driver=False, configure_logging=False)
    try:
        counts = run_ray(tiny_runs(), tmp_path, progress=False, threads=1)
    finally:
        ray.shutdown()
    assert counts["ok"] == 3
    table, curves = comparable(tmp_path)
    expected_table, expected_curves = comparable(in_process)
    pd.testing.assert_frame_equal(table, expected_table)
    assert curves == expected_curves
