"""Plugins: a user's own module that registers models and tasks, loaded before a command runs.

A plugin is any Python module that, when imported, registers with the same public functions
the built-in models and tasks use: ``bench.models.register_model(ModelSpec(...))`` and the
``tasks.base.register_task(...)`` decorator (examples/my_model.py, examples/my_task.py).
It reaches the harness in one of two ways:

- named on the command line: ``bench --import my_pkg.models run ...`` or
  ``bench run --import path/to/my_model.py ...`` (repeatable; a dotted module name or a
  ``.py`` file), or from Python with ``load_plugins([...])``;
- installed with an entry point in the group ``bench.plugins`` (loaded automatically by the
  CLI and the Python API)::

      [project.entry-points."bench.plugins"]
      my_models = "my_pkg.models"            # importing the module registers
      my_tasks = "my_pkg.tasks:register"     # or a function, called with no arguments

A plugin that fails to import, or calls ``sys.exit`` while importing, fails loudly
(`PluginError`: one line, exit 2), never skipped. A grid file's ``plugins`` list is imported
only with ``--allow-plugins`` (bench/grid.py): naming a file to read must not run its code.
Loading is idempotent (a module is imported once per process), and `loaded()` lists what was
named so a process pool can load the same plugins in each worker (bench/execute/local.py).
Imports nothing of bench at import time: any layer may call it.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterable, Iterator

GROUP = "bench.plugins"
_LOADED: dict[str, ModuleType] = {}  # the spec as named (resolved path or dotted name) -> module
_ENTRY_POINTS: dict[str, str] = {}  # entry-point name already loaded -> its module


class PluginError(ValueError):
    """A plugin that cannot be found or fails on import; str() is one line."""


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def is_path(spec: str) -> bool:
    """A file path (ends in .py or holds a separator), not a dotted module name."""
    return spec.endswith(".py") or "/" in spec or "\\" in spec


def _module_name(path: Path) -> str:
    """A stable private module name for a file: the same file is one module, two files with
    the same stem are two (pickling and a second --import of the same file find it again)."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"bench_plugin_{stem}_{digest}"


def _import_file(path: Path) -> ModuleType:
    name = _module_name(path)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"plugin {str(path)!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: a dataclass or pickle inside looks itself up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def import_plugin(spec: str) -> ModuleType:
    """Import one plugin, a dotted module name or a .py file path; PluginError when it fails."""
    key = str(Path(spec).resolve()) if is_path(spec) else spec
    if key in _LOADED:
        return _LOADED[key]
    try:
        if is_path(spec):
            path = Path(key)
            if not path.is_file():
                raise PluginError(f"plugin file {spec!r} does not exist")
            module = _import_file(path)
        else:
            module = importlib.import_module(spec)
    except PluginError:
        raise
    except SystemExit as error:  # sys.exit() in a plugin must not end the harness silently
        raise PluginError(f"plugin {spec!r} called sys.exit({error.code!r}) while importing") from error
    except Exception as error:  # noqa: BLE001 - any failure of user code becomes one loud line
        raise PluginError(f"plugin {spec!r} failed to import: {_one_line(error)}") from error
    _LOADED[key] = module
    return module


def load_entry_points() -> list[str]:
    """Load every installed plugin of the group ``bench.plugins`` not loaded yet; returns
    their names. A value naming a function (``module:function``) is called after import."""
    names = []
    for entry in importlib.metadata.entry_points(group=GROUP):
        if entry.name in _ENTRY_POINTS:
            continue
        try:
            loaded_object = entry.load()
            if entry.attr and callable(loaded_object):
                loaded_object()
        except SystemExit as error:
            raise PluginError(f"installed plugin {entry.name!r} ({entry.value}) called "
                              f"sys.exit({error.code!r}) while loading") from error
        except Exception as error:  # noqa: BLE001 - one loud line naming the plugin
            raise PluginError(f"installed plugin {entry.name!r} ({entry.value}) failed to load: "
                              f"{_one_line(error)}") from error
        _ENTRY_POINTS[entry.name] = entry.module
        names.append(entry.name)
    return names


def load_plugins(specs: Iterable[str] = (), entry_points: bool = True) -> list[ModuleType]:
    """Installed plugins (unless entry_points=False), then each named one, in order."""
    if entry_points:
        load_entry_points()
    return [import_plugin(spec) for spec in specs]


def loaded() -> list[str]:
    """The plugins named in this process (resolved paths, dotted names), in load order: what a
    worker process loads to see the same models and tasks."""
    return list(_LOADED)


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Plugins loaded inside the block are forgotten at its end: their models and tasks are
    unregistered and their modules dropped, so a later load registers them afresh. For tests
    (registries are process-wide) and for re-running a notebook cell that edits a plugin."""
    from bench.models import MODELS
    from tasks.base import TASKS

    loaded_before, entry_points_before, modules_before = dict(_LOADED), dict(_ENTRY_POINTS), set(sys.modules)
    with MODELS.scoped(), TASKS.scoped():
        try:
            yield
        finally:
            modules = {m.__name__ for k, m in _LOADED.items() if k not in loaded_before}
            modules |= {m for k, m in _ENTRY_POINTS.items() if k not in entry_points_before}
            for name in modules - modules_before:  # a module imported before the block stays
                sys.modules.pop(name, None)
            _LOADED.clear()
            _LOADED.update(loaded_before)
            _ENTRY_POINTS.clear()
            _ENTRY_POINTS.update(entry_points_before)
