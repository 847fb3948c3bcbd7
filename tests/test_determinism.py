"""Determinism: the same config and seed on CPU give the same numbers, bit for bit."""
from __future__ import annotations

import os

import pytest
import torch

import tasks  # noqa: F401  (registers tasks)
from bench.run.config import RunConfig
from bench.run.determinism import set_determinism
from bench.run.loop import train_run
from tasks.base import TASKS

VARIANT = {"distance": 4, "n_train": 300, "n_val": 100, "n_test": 100}



def tiny(model: str, seed: int = 0) -> RunConfig:
    return RunConfig(task="recall", model=model, variant=TASKS["recall"].variant(VARIANT), seed=seed,
                     budget_params=20_000, d_embed=32, steps=20, eval_every=10, dropout=0.1)


def numbers(record: dict) -> tuple:
    m = record["metrics"]
    return (m["test_accuracy"], m["test_loss"], m["val_accuracy"], m["val_loss"],
            [(p["train_loss"], p["val_loss"], p["val_accuracy"]) for p in record["curve"]])


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_same_config_same_numbers_on_cpu(model):
    first, second = train_run(tiny(model)), train_run(tiny(model))
    assert numbers(first) == numbers(second)
    assert len(first["curve"]) == 2
    assert numbers(train_run(tiny(model, seed=1))) != numbers(first)  # and the seed matters


@pytest.fixture
def deterministic():
    set_determinism(True, "cpu")
    yield
    set_determinism(False, "cpu")


def test_set_determinism_switches_torch(deterministic):
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] in (":4096:8", ":16:8")
    set_determinism(False, "cpu")
    assert not torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.deterministic
    with pytest.raises(ValueError, match="device"):
        set_determinism(True, "tpu")


@pytest.mark.parametrize("model", ["bilstm", "transformer_causal", "mingru"])
def test_every_op_has_a_deterministic_cpu_kernel(model, deterministic):
    """In deterministic mode an op without a deterministic kernel would raise; none does on CPU,
    and the numbers are those of the default mode."""
    config = tiny(model).replace(steps=10)
    record = train_run(config)
    set_determinism(False, "cpu")
    assert numbers(record) == numbers(train_run(config))
