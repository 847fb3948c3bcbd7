"""The long-range family (copy, adding, mqar, selective_copy, listops) against its spec.

Hand-checked examples, per-seed determinism, variant validation, and one tiny CPU run per
task through the shared training loop. Small variants only: the whole file runs in seconds.
"""
from __future__ import annotations

import math

import pytest
import torch

import tasks  # noqa: F401  (registers tasks)
import tasks.adding as adding
import tasks.copy as copy_task
import tasks.listops as listops
import tasks.mqar as mqar
import tasks.selective_copy as selective_copy
from bench.run.config import RunConfig
from bench.run.loop import train_run
from tasks.base import TASKS

SMALL = {"n_train": 64, "n_val": 16, "n_test": 16}
# a small variant of every task, used by the determinism and end-to-end tests
TINY = {
    "copy": {"lag": 12, "n_memory": 4, **SMALL},
    "adding": {"length": 20, **SMALL},
    "mqar": {"seq_len": 64, "n_kv": 4, "vocab": 64, **SMALL},
    "selective_copy": {"seq_len": 32, "n_copy": 4, **SMALL},
    "listops": {"min_len": 10, "max_len": 40, **SMALL},
}


def build(name: str, seed: int = 0, **overrides):
    task = TASKS[name]
    variant = task.variant({**TINY[name], **overrides})
    return task.build(variant, seed), variant


# --- listops: the evaluator by hand, then the generator -----------------------------------

@pytest.mark.parametrize("text, value", [
    ("[MAX 2 9 [MIN 4 7 ] 0 ]", 9),
    ("[SM 3 8 ]", 1),
    ("[MED 1 5 2 9]", 3),  # int of the median 3.5
    ("[MED 1 5 2 ]", 2),
    ("[MIN 3 [MAX 1 0 ] 4 ]", 1),
    ("[SM 9 9 [SM 5 5 ] 3 ]", 1),  # 9 + 9 + 0 + 3 = 21
    ("[MED [MAX 8 2 ] [MIN 7 9 ] 0 4 ]", 5),  # sorted 0 4 7 8 -> int(5.5)
    ("7", 7),
    ("( ( ( [MIN 1 ) 2 ) ] )", 1),  # LRA's file form, with its grouping parentheses
])
def test_listops_evaluator_by_hand(text, value):
    assert listops.evaluate(text) == value


@pytest.mark.parametrize("text", ["[FOO 1 2 ]", "[MIN 1 2", "[MIN 10 2 ]", "1 2", "]", "[MIN ]"])
def test_listops_evaluator_rejects_malformed(text):
    with pytest.raises(ValueError, match="listops"):
        listops.evaluate(text)


def test_listops_tokens_round_trip():
    text = "[MAX 2 9 [MIN 4 7 ] 0 ]"
    ids = listops.tokenize(text)
    assert ids[0] == listops.OP0 + 1 and ids[-1] == listops.CLOSE and len(ids) == 9
    assert listops.to_string(ids) == text


def test_listops_generator_matches_spec():
    data, v = build("listops", n_train=200, n_val=50, n_test=50)
    assert data.output == "sequence" and data.n_classes == 10 and data.vocab_size == 16
    keys = {}
    for name, split in data.splits().items():
        assert ((split.lengths > v["min_len"]) & (split.lengths < v["max_len"])).all()
        assert split.inputs.shape[1] == int(max(s.lengths.max() for s in data.splits().values()))
        for i in range(len(split)):
            row = split.inputs[i]
            length = int(split.lengths[i])
            assert (row[length:] == listops.PAD).all() and (row[:length] != listops.PAD).all()
            # the label is the expression's value; brackets are balanced (evaluate checks)
            assert listops.evaluate_ids(row) == int(split.targets[i])
            assert listops.evaluate(listops.to_string(row)) == int(split.targets[i])
        keys[name] = [tuple(split.inputs[i, : int(split.lengths[i])].tolist()) for i in range(len(split))]
    every = keys["train"] + keys["val"] + keys["test"]
    assert len(set(every)) == len(every), "no expression twice, within or across splits"
    assert not set(keys["val"]) & set(keys["test"])
    assert 0.0 < data.trivial_baseline < 1.0


def test_listops_test_split_does_not_depend_on_train_size():
    a, _ = build("listops", n_train=30)
    b, _ = build("listops", n_train=90)
    assert a.test.content_hash() == b.test.content_hash()


def test_listops_chunked_streams_merge_in_order(monkeypatch):
    """Fixed-size streams, merged in order and deduplicated; a process pool gives the same."""
    v = TASKS["listops"].variant(TINY["listops"])
    monkeypatch.setattr(listops, "CHUNK", 7)
    jobs = [(v, listops._stream_seed(0, "train", j), 7) for j in range(3)]
    sequential = listops._map_chunks(jobs, parallel=False)
    assert [len(c) for c in sequential] == [7, 7, 7]
    assert listops._map_chunks(jobs, parallel=True) == sequential
    in_order = list(dict.fromkeys(tree for chunk in sequential for tree in chunk))
    seen: set[bytes] = set()
    merged = listops.sample_split(v, 0, "train", len(in_order), seen)
    assert merged == in_order and len(seen) == len(in_order)


# --- copy ------------------------------------------------------------------------------------

def test_copy_answers_are_the_first_symbols():
    data, v = build("copy")
    m, lag = v["n_memory"], v["lag"]
    split = data.train
    assert split.seq_len == lag + 2 * m and data.n_classes == v["n_alphabet"]
    symbols = split.inputs[:, :m] - copy_task.SYMBOL0  # classes 0..A-1
    assert ((symbols >= 0) & (symbols < v["n_alphabet"])).all()
    assert torch.equal(split.targets, symbols)
    assert (split.inputs[:, m: m + lag - 1] == copy_task.BLANK).all()
    assert (split.inputs[:, m + lag - 1:] == copy_task.DELIM).all()  # m + 1 delimiters
    assert torch.equal(split.positions[0], torch.arange(lag + m, lag + 2 * m))
    assert data.trivial_baseline == pytest.approx(1 / 8)


def test_copy_score_all_is_tcn_loss():
    data, v = build("copy", score="all")
    m, length = v["n_memory"], v["lag"] + 2 * v["n_memory"]
    split = data.train
    assert split.positions.shape == (len(split), length) and data.n_classes == v["n_alphabet"] + 1
    assert (split.targets[:, : length - m] == 0).all()  # blank everywhere before the answers
    assert torch.equal(split.targets[:, length - m:], split.inputs[:, :m] - copy_task.SYMBOL0 + 1)
    # TCN's trivial baseline: 10 ln 8 / (T + 20), 0.0204 at T = 1000
    tcn = TASKS["copy"].variant({"lag": 1000, "score": "all"})
    assert copy_task.trivial_loss(tcn) == pytest.approx(10 * math.log(8) / 1020)
    assert copy_task.trivial_loss(tcn) == pytest.approx(0.0204, abs=1e-4)


# --- adding ----------------------------------------------------------------------------------

@pytest.mark.parametrize("markers", ["halves", "uniform"])
def test_adding_target_is_the_sum_of_the_marked_values(markers):
    data, v = build("adding", markers=markers, n_train=500)
    split = data.train
    assert data.output == "regression" and data.n_features == 2 and data.vocab_size is None
    assert data.n_classes == 1 and data.tolerance == 0.04
    assert split.inputs.shape == (500, v["length"], 2) and split.targets.dtype == torch.float32
    values, marker = split.inputs[..., 0], split.inputs[..., 1]
    assert ((values >= 0) & (values <= 1)).all()
    assert ((marker == 0) | (marker == 1)).all() and (marker.sum(1) == 2).all()
    torch.testing.assert_close(split.targets, (values * marker).sum(1))
    where = marker.nonzero()[:, 1].reshape(-1, 2)  # (N, 2) sorted marked positions
    half = v["length"] // 2
    if markers == "halves":
        assert (where[:, 0] < half).all() and (where[:, 1] >= half).all()
    else:  # both markers land in the same half sometimes
        assert ((where < half).all(1) | (where >= half).all(1)).any()


def test_adding_trivial_baseline():
    data, _ = build("adding", n_train=20000)
    mse_of_one = ((data.train.targets - 1.0) ** 2).mean().item()
    assert mse_of_one == pytest.approx(adding.TRIVIAL_MSE, abs=0.01)  # 1/6
    within = ((data.train.targets - 1.0).abs() < 0.04).float().mean().item()
    assert within == pytest.approx(data.trivial_baseline, abs=0.01)  # 0.0784


# --- mqar ------------------------------------------------------------------------------------

def test_mqar_query_answer_is_its_paired_value():
    data, v = build("mqar", seq_len=128, n_kv=8, n_train=200)
    half, kv = v["vocab"] // 2, v["n_kv"]
    split = data.train
    assert split.positions.shape == (200, kv) and data.n_classes == v["vocab"] - half
    for i in range(len(split)):
        row = split.inputs[i].tolist()
        keys, values = row[0: 2 * kv: 2], row[1: 2 * kv: 2]
        assert all(1 <= k < half for k in keys) and len(set(keys)) == kv
        assert all(half <= x < v["vocab"] for x in values) and len(set(values)) == kv
        pairs = dict(zip(keys, values, strict=True))
        asked = [row[p] for p in split.positions[i].tolist()]
        assert sorted(asked) == sorted(keys), "every key is asked exactly once"
        for p, key, target in zip(split.positions[i].tolist(), asked, split.targets[i].tolist(), strict=True):
            assert p >= 2 * kv and (p - 2 * kv) % 2 == 0
            assert target + half == pairs[key]
    assert (data.train.inputs != mqar.PAD).all()


@pytest.mark.parametrize("seq_len, n_kv", [(64, 4), (128, 8), (256, 16), (512, 64)])
def test_mqar_zoology_variants_build(seq_len, n_kv):
    data, _ = build("mqar", seq_len=seq_len, n_kv=n_kv, vocab=256, n_train=8, n_val=4, n_test=4)
    assert data.train.inputs.shape == (8, seq_len) and data.train.targets.shape == (8, n_kv)


def test_mqar_queries_follow_a_power_law():
    data, v = build("mqar", seq_len=256, n_kv=4, n_train=2000)
    gaps = (data.train.positions - 2 * v["n_kv"]) // 2
    space = (v["seq_len"] - 2 * v["n_kv"]) // 2
    assert (gaps < 10).float().mean() > 0.2 > (gaps >= space - 10).float().mean()


# --- selective copy --------------------------------------------------------------------------

@pytest.mark.parametrize("seq_len, n_copy, n_noise", [(32, 4, 1), (64, 16, 1), (64, 5, 3), (256, 16, 1)])
def test_selective_copy_honors_the_copy_count(seq_len, n_copy, n_noise):
    data, v = build("selective_copy", seq_len=seq_len, n_copy=n_copy, n_noise=n_noise)
    split = data.train
    region = seq_len - n_copy - 1
    symbol0 = selective_copy.BLANK + n_noise
    is_data = split.inputs[:, :region] >= symbol0
    assert (is_data.sum(1) == n_copy).all(), "exactly n_copy data tokens per sequence"
    assert split.targets.shape == (len(split), n_copy) and data.n_classes == v["n_symbols"]
    for i in range(len(split)):
        shown = split.inputs[i, :region][is_data[i]] - symbol0
        assert torch.equal(shown, split.targets[i]), "answers are the data tokens, in order"
    assert (split.inputs[:, region] == selective_copy.COPY).all()
    assert (split.inputs[:, region + 1:] == selective_copy.BLANK).all()
    assert torch.equal(split.positions[0], torch.arange(region + 1, seq_len))
    # data positions vary between sequences (scattered, not a fixed layout)
    assert len({tuple(row.nonzero()[:, 0].tolist()) for row in is_data}) > 1


# --- every task: determinism, validation, a tiny run -----------------------------------------

@pytest.mark.parametrize("name", sorted(TINY))
def test_same_seed_same_data_other_seed_other_data(name):
    a, _ = build(name, seed=3)
    b, _ = build(name, seed=3)
    c, _ = build(name, seed=4)
    for split in ("train", "val", "test"):
        assert a.splits()[split].content_hash() == b.splits()[split].content_hash()
        assert a.splits()[split].content_hash() != c.splits()[split].content_hash()
    assert a.train.content_hash() != a.val.content_hash() != a.test.content_hash()


@pytest.mark.parametrize("name, bad, message", [
    ("copy", {"lag": 0}, "lag"),
    ("copy", {"score": "some"}, "score"),
    ("copy", {"n_alphabet": 1}, "n_alphabet"),
    ("adding", {"length": 1}, "length"),
    ("adding", {"markers": "thirds"}, "markers"),
    ("mqar", {"seq_len": 63}, "even"),
    ("mqar", {"seq_len": 64, "n_kv": 17}, "4 \\* n_kv"),
    ("mqar", {"vocab": 16, "n_kv": 8, "seq_len": 64}, "keys"),
    ("selective_copy", {"seq_len": 32, "n_copy": 16}, "2 \\* n_copy"),
    ("selective_copy", {"n_copy": 0}, "n_copy"),
    ("listops", {"min_len": 50, "max_len": 40}, "min_len"),
    ("listops", {"max_depth": 2, "max_args": 3, "min_len": 10, "max_len": 40}, "allow at most"),
    ("listops", {"n_test": 0}, "split"),
])
def test_variant_beyond_limits_fails_loudly(name, bad, message):
    with pytest.raises(ValueError, match=f"{name}: .*{message}"):
        TASKS[name].variant(bad)


@pytest.mark.parametrize("name", sorted(TINY))
def test_unknown_variant_key_names_the_valid_ones(name):
    with pytest.raises(ValueError, match="valid: "):
        TASKS[name].variant({"lenght": 5})


@pytest.mark.parametrize("name", sorted(TINY))
def test_tiny_lstm_run_ends_ok(name):
    task = TASKS[name]
    config = RunConfig(task=name, model="lstm", variant=task.variant(TINY[name]),
                       budget_params=20000, d_embed=32, steps=20, eval_every=10)
    record = train_run(config)
    assert record["status"] == "ok"
    assert record["metrics"]["steps_done"] == 20 and math.isfinite(record["metrics"]["test_loss"])
    if name == "adding":
        assert "test_mse" in record["metrics"]
