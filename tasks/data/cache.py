"""Where prepared data lives: one cache folder, overridable by one variable.

``$BENCH_CACHE`` if set, else the platform's user cache folder: ``$XDG_CACHE_HOME`` or
``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows, each
with ``rnn-vs-transformer-bench/`` appended. Nothing is ever written inside the clone.
Hugging Face data (only with ``--source hub``) goes where Hugging Face puts it (HF_HOME).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "rnn-vs-transformer-bench"


def cache_root() -> Path:
    env = os.environ.get("BENCH_CACHE")
    if env:
        return Path(env)
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / APP
