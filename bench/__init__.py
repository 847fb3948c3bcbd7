"""bench: the engine of the RNN-vs-Transformer benchmark harness, and its Python API.

    import bench
    rows = bench.run(task="recall", model=["lstm", "transformer"], steps=400)  # tidy DataFrame
    rows = bench.load("runs/local")                                   # a results folder
    path = bench.report("runs/local")                                  # its report

`run`, `load` and `report` live in bench/api.py and are imported on first use, so
``import bench`` (and ``import bench.analysis``, ``bench.report``) never loads torch.

Why the subpackages `bench.run` and `bench.report` are callable: the API's names are the
natural ones, but Python binds an imported subpackage to its parent's attribute of the same
name (``import bench.run.loop`` sets ``bench.run`` to the package), which would silently
replace a function. So the two subpackages (their __init__ files are empty: cheap, no torch)
get a module class whose call forwards to bench.api; ``bench.run.config`` still works.
"""
from __future__ import annotations

import importlib
import types
from typing import Any

__all__ = ["__version__", "load", "report", "run"]


def _version() -> str:
    """The installed distribution's version; "0+unknown" when run from an uninstalled tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rnn-vs-transformer-bench")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _version()


class _CallableModule(types.ModuleType):
    """A subpackage that is also the API function of the same name in bench.api."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        api = importlib.import_module("bench.api")  # by name: bench.api imports the whole engine
        return getattr(api, self.__name__.rsplit(".", 1)[1])(*args, **kwargs)


for _name in ("run", "report"):
    importlib.import_module(f"{__name__}.{_name}").__class__ = _CallableModule


def __getattr__(name: str) -> Any:
    """`bench.load` (and any other API name) on first use, importing bench.api then."""
    if name == "load":
        return importlib.import_module("bench.api").load
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
