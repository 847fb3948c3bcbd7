"""Test settings: offline Hugging Face, project-local caches, small thread count, fixtures."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HOME", str(ROOT / ".cache" / "hf"))
os.environ.setdefault("MPLCONFIGDIR", str(ROOT / ".cache" / "mpl"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

# one thread: tiny models gain nothing from two, and two threads thrash on a loaded 2-core machine
torch.set_num_threads(1)

import tasks  # noqa: E402,F401  (registers tasks)
from bench.run.config import RunConfig  # noqa: E402
from tasks.base import TASKS  # noqa: E402

IMDB_FIXTURE = ROOT / "tests" / "fixtures" / "imdb_sample.csv"


@pytest.fixture(scope="module")
def imdb_fixture_data(tmp_path_factory):
    """IMDB tasks read the 600-review real-data fixture (source 'csv') with a private cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENCH_CACHE", str(tmp_path_factory.mktemp("cache")))
        patch.setenv("BENCH_IMDB_CSV", str(IMDB_FIXTURE))
        yield


TINY_RECALL = {"distance": 4, "n_pairs": 1, "n_train": 300, "n_val": 100, "n_test": 100}


@pytest.fixture
def tiny_config():
    """A run that trains in about a second on CPU."""
    def make(model: str = "lstm", task: str = "recall", variant: dict | None = None, **changes):
        base = dict(task=task, model=model,
                    variant=TASKS[task].variant(variant if variant is not None else TINY_RECALL),
                    budget_params=20_000, d_embed=32, steps=20, eval_every=10, device="cpu")
        base.update(changes)
        return RunConfig(**base)
    return make
