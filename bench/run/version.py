"""The harness code version that goes into every run id.

`code_hash()` hashes the parsed source (``ast.dump``: comments and formatting do not count,
code and docstrings do) of every module whose change can move a result: the training loop
and its settings (`bench/run/`), the models (`bench/models/`) and the tasks (`tasks/`). A
run id includes it, so a results folder never hands back a run that older code computed:
changed code re-runs, unchanged code resumes. Imports nothing heavy (no torch).
"""
from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULT_CODE = ("bench/run", "bench/models", "tasks")  # folders whose code decides a run's numbers


@functools.lru_cache(maxsize=None)
def code_hash() -> str:
    """16 hex digits over the normalized source of RESULT_CODE (sorted paths, AST dumps)."""
    digest = hashlib.sha256()
    for folder in RESULT_CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(ast.dump(ast.parse(path.read_text(encoding="utf-8"))).encode())
    return digest.hexdigest()[:16]
