"""Atomic file writes for the store (and anything else that writes into a results folder).

Every file is written to a temporary file beside it (``.<name>.<random>.tmp``), fsynced and
renamed over its target, so a reader or a kill -9 never sees half a file; a write that
raises removes its temporary file. The file gets the mode a new file gets under the umask
(``0o666 & ~umask``): mkstemp alone would leave it 0600, unreadable to the group of a
shared results folder. `clean_temporary` removes what killed writers left behind.
Imports nothing of bench.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator, Sequence

TMP_SUFFIX = ".tmp"
STALE_TMP_S = 600  # a temporary file this old is a leftover of a killed writer, not a write in flight


def umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` for a writer that wants a file name (pandas, matplotlib):
    fsynced and renamed over `path` when the block ends, removed when it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~umask())
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file in the same folder, fsync, then rename over `path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def clean_temporary(folders: Sequence[Path], now_names: Sequence[str] = (),
                    older_than: float = STALE_TMP_S) -> list[Path]:
    """Remove leftover temporary files in `folders`: those of the files in `now_names` at once
    (their only writer holds a lock the caller holds too), any other once older than
    `older_than` seconds (a write in flight takes milliseconds). Returns what was removed."""
    prefixes = tuple(f".{name}." for name in now_names)
    now, removed = time.time(), []
    for folder in map(Path, folders):
        for path in folder.glob(f".*{TMP_SUFFIX}"):
            try:
                if path.name.startswith(prefixes) or now - path.stat().st_mtime > older_than:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:  # its writer renamed or removed it meanwhile
                continue
    return removed


def keep_unsaved(record: dict) -> Path | None:
    """Where a run record whose write failed is kept instead: the system temp folder
    (bench-unsaved-runs/<run_id>.json), else the home folder; None when nowhere works."""
    text = json.dumps(record, indent=1, sort_keys=True)
    for folder in (Path(tempfile.gettempdir()), Path.home()):
        path = folder / "bench-unsaved-runs" / f"{record['run_id']}.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            return path
        except OSError:
            continue
    return None
