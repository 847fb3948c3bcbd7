"""The code a run executes, hashed into its run id.

A run's numbers are decided by the training loop and its settings (`bench/run/`, the
registry, the shared model wrapper, the task base), by its model's module and every
harness module that module imports (the minGRU scan for mingru, the BiLSTM kernel for
bilstm), and by its task's module and its data helpers (the IMDB loader and tokenizers for
imdb and cloze). `run_code(model, task)` hashes exactly those files, found by following
their import statements (also those inside functions) within `bench/` and `tasks/`; a
plugin's model or task adds the plugin's own file. So an edit to one model's file reruns
that model's runs and leaves every other model's committed runs valid; a plugin edit
reruns the plugin's runs. The package `__init__` files that only register every model or
task are not followed (they would tie every model to every other).

The hash is over parsed source (``ast.dump``: comments and formatting do not count, code
and docstrings do). `files_hash(files)` recomputes it from a record's list of files, so the
store can tell whether a record was computed by the code on disk now without importing
torch or the registries. `code_hash()` hashes every result-affecting folder at once
(`bench --version`). Imports nothing heavy (no torch).
"""
from __future__ import annotations

import ast
import functools
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULT_CODE = ("bench/run", "bench/models", "tasks")  # folders whose code decides a run's numbers
# what every run executes, whatever its model and task
CORE = ("bench/run", "bench/registry.py", "bench/models/spec.py", "bench/models/wrapper.py", "tasks/base.py")
# import edges followed inside the repository (other harness layers never decide a number)
FOLLOWED = ("bench/run/", "bench/models/", "tasks/", "bench/registry.py")
REGISTERING = ("bench/models/__init__.py", "tasks/__init__.py")  # import every model / task: not followed


@dataclass(frozen=True)
class CodeIdentity:
    """The hash of the code a run executes and the files it covers (repository-relative
    POSIX paths; a plugin outside the repository by its absolute path)."""

    hash: str
    files: tuple[str, ...]


def _label(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path.resolve())


def _path(label: str) -> Path:
    path = Path(label)
    return path if path.is_absolute() else ROOT / path


@functools.lru_cache(maxsize=None)
def _dump(path: Path, stamp: tuple[int, int]) -> str:
    """ast.dump of a file; `stamp` (mtime_ns, size) makes an edited file parse again."""
    return ast.dump(ast.parse(path.read_text(encoding="utf-8")))


def _source_dump(path: Path) -> str:
    stat = path.stat()
    return _dump(path, (stat.st_mtime_ns, stat.st_size))


def _module_file(name: str) -> Path | None:
    """The repository file of a dotted module name (a module or a package's __init__), or None."""
    parts = name.split(".")
    if parts[0] not in ("bench", "tasks"):
        return None
    base = ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package(path: Path) -> str:
    """The dotted package a repository file belongs to (for relative imports)."""
    relative = path.resolve().relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1])


@functools.lru_cache(maxsize=None)
def _imports(path: Path, stamp: tuple[int, int]) -> tuple[Path, ...]:
    """Repository files a file imports (module-level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                try:
                    package = _package(path).split(".")
                except ValueError:  # a file outside the repository: its relative imports are its own
                    continue
                module = ".".join(package[: len(package) - node.level + 1] + ([module] if module else []))
            names.append(module)
            names += [f"{module}.{alias.name}" for alias in node.names]  # `from pkg import module`
    found = []
    for name in names:
        file = _module_file(name)
        if file is not None and file not in found:
            found.append(file)
    return tuple(found)


def _closure(start: Path) -> set[Path]:
    """`start` and every repository file it reaches through FOLLOWED import edges."""
    seen, todo = set(), [start.resolve()]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        stat = path.stat()
        for target in _imports(path, (stat.st_mtime_ns, stat.st_size)):
            label = _label(target)
            if label in REGISTERING or not label.startswith(FOLLOWED):
                continue
            todo.append(target.resolve())
    return seen


def _core_files() -> set[Path]:
    files: set[Path] = set()
    for entry in CORE:
        path = ROOT / entry
        files |= set(path.rglob("*.py")) if path.is_dir() else {path}
    return {f.resolve() for f in files}


def files_hash(files) -> str:
    """16 hex digits over the parsed source of `files` (labels as recorded, sorted); raises
    OSError when a file no longer exists."""
    digest = hashlib.sha256()
    for label in sorted(files):
        digest.update(label.encode())
        digest.update(_source_dump(_path(label)).encode())
    return digest.hexdigest()[:16]


def defining_file(function) -> Path:
    """The source file of the module that defines `function` (a model's or task's builder)."""
    module = sys.modules.get(function.__module__)
    file = getattr(module, "__file__", None)
    if file is None:
        raise ValueError(f"cannot find the source of {function.__module__!r} to hash it")
    return Path(file)


def run_code(model: str, task: str) -> CodeIdentity:
    """The code one run of (model, task) executes: CORE, the model's module and the task's
    module with the harness files they import. Looks the builders up in the registries."""
    from bench.models import MODELS  # here: hashing a config must not load torch before it is needed
    from tasks.base import TASKS

    starts = (defining_file(MODELS[model].build), defining_file(TASKS[task].build))
    files = _core_files()
    for start in starts:
        files |= _closure(start)
    labels = tuple(sorted(_label(f) for f in files))
    return CodeIdentity(files_hash(labels), labels)


def _simple(value) -> str | None:
    """repr of a value that names a configuration (str, number, bool, None, tuples of them)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return repr(value)
    if isinstance(value, tuple) and all(_simple(v) is not None for v in value):
        return repr(value)
    return None


def builder_identity(function) -> str:
    """What a builder is, beyond its file: its module and qualified name, and the simple
    values its closure and defaults bind (`_recurrent("lstm")` and `_recurrent("gru")` share
    a file and a qualified name but not the cell they build)."""
    cells = [_simple(c.cell_contents) for c in (getattr(function, "__closure__", None) or ())]
    defaults = [_simple(d) for d in (getattr(function, "__defaults__", None) or ())]
    return repr((function.__module__, function.__qualname__, cells, defaults))


def run_spec(model: str, task: str) -> str:
    """16 hex digits over what the registries say the run's model and task are (their spec
    fields and builders' identities): a spec registered under a built-in name that reuses
    another model's builder from the same file gets another run id than the genuine one."""
    import dataclasses

    from bench.models import MODELS
    from tasks.base import TASKS

    parts = []
    for spec in (MODELS[model], TASKS[task]):
        for field in dataclasses.fields(spec):
            value = getattr(spec, field.name)
            parts.append((field.name, builder_identity(value) if callable(value) else _simple(value)
                          if _simple(value) is not None else repr(type(value).__name__)))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def is_current(code: str, files) -> bool:
    """Was a record with code hash `code` over `files` computed by the code on disk now?"""
    try:
        return bool(files) and files_hash(files) == code
    except OSError:  # a file it executed is gone: other code
        return False


@functools.lru_cache(maxsize=None)
def code_hash() -> str:
    """16 hex digits over every file of RESULT_CODE (`bench --version`): any result-affecting
    change moves it. A run id uses run_code instead."""
    files = [p for folder in RESULT_CODE for p in (ROOT / folder).rglob("*.py")]
    return files_hash(_label(p) for p in files)
