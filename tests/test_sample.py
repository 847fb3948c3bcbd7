"""`bench sample`: JSON lines a person or a script can check a task with."""
from __future__ import annotations

import json

import pytest

import tasks  # noqa: F401  (registers tasks)
import tasks.listops as listops
from bench.cli import main
from tasks.base import TASKS

SIZES = ["--variant", "n_train=8", "--variant", "n_val=4", "--variant", "n_test=4"]


def sample(capsys, task: str, *variant: str, n: int = 4, split: str = "train", seed: int = 0):
    argv = ["sample", task, "--n", str(n), "--seed", str(seed), "--split", split, "--format", "jsonl"]
    for item in variant:
        argv += ["--variant", item]
    assert main(argv + SIZES) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == n
    for i, row in enumerate(rows):
        assert {"task", "split", "index", "input", "target"} <= set(row)
        assert (row["task"], row["split"], row["index"]) == (task, split, i)
    return rows


def test_copy_lines(capsys):
    for row in sample(capsys, "copy", "lag=6", "n_memory=3"):
        tokens = row["input"].split()
        assert len(tokens) == 6 + 2 * 3 and tokens[3:8] == ["_"] * 5 and tokens[8:] == [":"] * 4
        assert row["target"] == tokens[:3] and row["positions"] == [9, 10, 11]


def test_copy_score_all_lines(capsys):
    for row in sample(capsys, "copy", "lag=4", "n_memory=2", "score=all", n=2):
        tokens = row["input"].split()
        assert row["target"] == ["_"] * 6 + tokens[:2] and row["positions"] == list(range(8))


def test_adding_lines(capsys):
    for row in sample(capsys, "adding", "length=10"):
        steps = row["input"]
        assert len(steps) == 10 and all(len(step) == 2 for step in steps)
        marked = [t for t, (_, mark) in enumerate(steps) if mark == 1]
        assert marked == row["marked"] and marked[0] < 5 <= marked[1]
        assert row["target"] == pytest.approx(sum(steps[t][0] for t in marked), abs=1e-6)


def test_mqar_lines(capsys):
    for row in sample(capsys, "mqar", "seq_len=32", "n_kv=4", "vocab=32"):
        tokens = row["input"].split()
        pairs = dict(zip(tokens[0:8:2], tokens[1:8:2], strict=True))
        asked = [tokens[p] for p in row["positions"]]
        assert row["target"] == [pairs[key] for key in asked]


def test_selective_copy_lines(capsys):
    for row in sample(capsys, "selective_copy", "seq_len=20", "n_copy=4"):
        tokens = row["input"].split()
        copy_at = tokens.index(">")
        assert copy_at == 20 - 4 - 1 and tokens[copy_at + 1:] == ["_"] * 4
        assert row["target"] == [t for t in tokens[:copy_at] if t != "_"]


def test_listops_lines(capsys):
    rows = sample(capsys, "listops", "min_len=10", "max_len=30", split="test")
    for row in rows:
        assert isinstance(row["target"], int) and listops.evaluate(row["input"]) == row["target"]
        assert 10 < row["length"] == len(row["input"].split()) < 30


@pytest.mark.parametrize("task, variant", [("recall", ["distance=5"]), ("fill_in", ["length=8"])])
def test_generic_fallback_prints_raw_ids(capsys, task, variant):
    rows = sample(capsys, task, *variant, n=3, split="val", seed=2)
    spec = TASKS[task]
    parsed = {k: int(v) for k, v in (item.split("=") for item in variant + [s for s in SIZES if "=" in s])}
    data = spec.build(spec.variant(parsed), 2)
    for i, row in enumerate(rows):
        assert row["input"] == data.val.inputs[i].tolist()
        assert row["target"] == data.val.targets[i].tolist()
        assert row["positions"] == data.val.positions[i].tolist()


def test_same_seed_same_lines_other_seed_other_lines(capsys):
    a = sample(capsys, "copy", "lag=5", seed=1)
    b = sample(capsys, "copy", "lag=5", seed=1)
    c = sample(capsys, "copy", "lag=5", seed=2)
    assert a == b and a != c


@pytest.mark.parametrize("argv, message", [
    (["sample", "copy", "--variant", "lag=0"], "lag must be >= 1"),
    (["sample", "copy", "--variant", "lag"], "KEY=VALUE"),
    (["sample", "copy", "--variant", "lag=ten"], "not a int"),
    (["sample", "copy", "--variant", "lenght=3"], "no variant key"),
    (["sample", "nope"], "unknown task"),
    (["sample", "copy", "--n", "0"], "--n must be >= 1"),
])
def test_bad_input_is_one_line_and_status_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


@pytest.mark.parametrize("task, variant, key", [
    ("imdb", ["vocab_size=2000", "max_len=40"], "tokens"),
    ("imdb_bytes", ["max_len=60"], "bytes"),
])
def test_real_text_tasks_show_text_not_ids(imdb_fixture_data, capsys, task, variant, key):
    argv = ["sample", task, "--n", "2", "--variant", "source=csv"] + [a for v in variant for a in ("--variant", v)]
    assert main(argv) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    for row in rows:
        assert isinstance(row["input"], str) and len(row["input"].split()) >= 5  # words, not ids
        assert not row["input"].replace(" ", "").isdigit()
        assert row["target"] in ("positive", "negative") and row[key] >= 5


def test_cloze_shows_the_window_and_the_hidden_word(imdb_fixture_data, capsys):
    assert main(["sample", "cloze", "--n", "2", "--variant", "source=csv", "--variant", "vocab_size=2000",
                 "--variant", "k=50", "--variant", "window=8"]) == 0
    for line in capsys.readouterr().out.strip().splitlines():
        row = json.loads(line)
        words = row["input"].split()
        assert len(words) == 8 and words[4] == "[MASK]" and row["target"].isalpha()
