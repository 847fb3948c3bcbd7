"""cloze on the real-data fixture (source "csv", private cache, no network)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

import tasks  # noqa: F401  (registers tasks)
from bench.run.config import RunConfig
from bench.run.loop import train_run
from tasks.base import TASKS
from tasks.cloze import answer_classes
from tasks.data.imdb import load_imdb
from tasks.data.tokenize import MASK, token_ids

FIXTURE = Path(__file__).parent / "fixtures" / "imdb_sample.csv"
SMALL = {"source": "csv", "window": 16, "k": 100, "vocab_size": 2000}


@pytest.fixture(scope="module", autouse=True)
def fixture_data(imdb_fixture_data):
    """Every test here reads the real-data fixture (see conftest)."""


@pytest.fixture(scope="module")
def built():
    task = TASKS["cloze"]
    return task.build(task.variant(SMALL), 0)


def _ids_of(split_name):
    tokenizer, ids = token_ids(load_imdb("csv"), "word", SMALL["vocab_size"], progress=False)
    return tokenizer, [list(x) for x in ids[split_name]["input_ids"]]


def test_targets_are_the_hidden_words(built):
    """Put the answer back in the mask: the window must then occur verbatim in a review,
    and the answer is one of the k most frequent training words."""
    tokenizer, reviews = _ids_of("test")
    _, words = answer_classes(tokenizer, SMALL["k"])
    text = [" ".join(map(str, r)) for r in reviews]
    split = built.test
    half = SMALL["window"] // 2
    assert (split.positions == half).all() and (split.inputs[:, half] == MASK).all()
    assert (split.inputs == MASK).sum() == len(split)  # exactly one masked position per window
    for row in range(0, len(split), max(1, len(split) // 40)):
        restored = split.inputs[row].clone()
        word = words[int(split.targets[row, 0])]
        restored[half] = tokenizer.convert_tokens_to_ids(word)
        needle = " ".join(map(str, restored.tolist()))
        assert any(needle in t for t in text), row


def test_answers_are_training_frequency_order():
    tokenizer, reviews = _ids_of("train")
    classes, words = answer_classes(tokenizer, SMALL["k"])
    counts = torch.bincount(torch.tensor([i for r in reviews for i in r]), minlength=len(tokenizer))
    ranked = [counts[tokenizer.convert_tokens_to_ids(w)].item() for w in words]
    assert ranked == sorted(ranked, reverse=True) and all(w.isalpha() for w in words)
    assert (classes >= 0).sum() == SMALL["k"]


def test_deterministic_and_seeded_windows(built):
    task = TASKS["cloze"]
    again, other = task.build(task.variant(SMALL), 0), task.build(task.variant(SMALL), 1)
    assert again.train.content_hash() == built.train.content_hash()
    assert other.train.content_hash() != built.train.content_hash()  # the seed picks windows
    assert other.test.content_hash() == built.test.content_hash()  # test windows are fixed
    assert built.output == "token" and built.n_classes == SMALL["k"]
    assert built.train.inputs.shape[1] == SMALL["window"]


def test_trivial_baseline_is_most_frequent_training_target(built):
    guess = int(torch.bincount(built.train.targets.reshape(-1)).argmax())
    assert built.trivial_baseline == pytest.approx((built.test.targets == guess).float().mean().item())
    assert 0.0 < built.trivial_baseline < 0.5


def test_bad_variant_is_loud():
    with pytest.raises(ValueError, match="k"):
        TASKS["cloze"].variant({"k": 5000, "vocab_size": 2000})
    with pytest.raises(ValueError, match="whole words"):
        TASKS["cloze"].build(TASKS["cloze"].variant({**SMALL, "k": 1990}), 0)


def test_tiny_training_run():
    variant = TASKS["cloze"].variant({**SMALL, "n_train": 256})
    config = RunConfig(task="cloze", model="bilstm", variant=variant, budget_params=20_000,
                       d_embed=32, steps=20, eval_every=10, batch_size=16, device="cpu")
    record = train_run(config)
    assert record["status"] == "ok"
    assert 0.0 <= record["metrics"]["test_accuracy"] <= 1.0
