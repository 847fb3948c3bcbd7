"""Run grids: the one place that turns names, knobs and ``key=value`` text into RunConfigs,
shared by ``bench run`` (flags, ``--set``, ``--config FILE``) and ``bench.run(...)``, so the
CLI and the Python API accept and refuse exactly the same things.

Settings are the RunConfig fields other than the grid axes (task, model, variant, seed):
each value is typed by its field, and a mistake is one ValueError naming the valid keys.
Whole numbers written as floats are accepted for int fields (``budget_params=1e5``);
``device`` also takes ``auto`` (cuda when available, else cpu).

Grid file (``bench run --config FILE``): TOML, or YAML (needs pyyaml) or JSON with the same
keys. Every (task, variant, model, seed, lr) combination is one run::

    models = ["lstm", "transformer"]    # optional; default: every registered model
    seeds = [0, 1, 2]                   # optional; default [0]
    lrs = [1e-3, 3e-3]                  # optional; default: settings.lr (RunConfig's default)
    plugins = ["my_model.py"]           # optional; imported first (paths: relative to the file)

    [settings]                          # any run setting, for every run (see `--set`)
    budget_params = 1e5
    steps = 400

    [[tasks]]                           # one table per task; a bare name also works
    name = "recall"
    variants = [{distance = 4}, {distance = 16}]   # default [{}]: the task's defaults

    [[tasks]]
    name = "fill_in"
    models = ["lstm"]                   # a task may narrow models, seeds, lrs, settings
    settings = {steps = 200}

Precedence, lowest first: RunConfig defaults, the file's [settings], a task's settings, then
the command line (``--set`` and flags such as ``--steps``). examples/grid.toml is a full file.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from bench.run.config import RunConfig, resolve_device

AXES = ("task", "model", "variant", "seed")  # set by their own arguments, never by --set
SETTINGS = tuple(f.name for f in dataclasses.fields(RunConfig) if f.name not in AXES)
_TYPES = {f.name: str(f.type) for f in dataclasses.fields(RunConfig)}
FILE_KEYS = ("tasks", "models", "seeds", "lrs", "settings", "plugins")
TASK_KEYS = ("name", "variants", "models", "seeds", "lrs", "settings")


def whole(value: Any, what: str) -> int:
    """An int from an int, a whole float (1e5) or text ('100000', '1e5'); bools refused."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{what}={text!r} is not a whole number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what}={value!r} is not a whole number")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{what}={value!r} is not a whole number")
    return int(value)


def coerce(key: str, value: Any) -> Any:
    """One setting typed by its RunConfig field; unknown keys name the valid ones."""
    if key in AXES:
        flag, argument = {"seed": ("--seeds", "seeds"), "model": ("--model", "model"),
                          "task": ("--task", "task"), "variant": ("--variant", "variant")}[key]
        raise ValueError(f"{key} is a grid axis, not a setting: give it with {flag} "
                         f"(bench.run({argument}=...)); settings: {', '.join(SETTINGS)}")
    if key not in SETTINGS:
        raise ValueError(f"unknown setting {key!r}; valid: {', '.join(SETTINGS)}")
    kind = _TYPES[key]
    if kind == "int":
        return whole(value, key)
    if kind == "float":
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                raise ValueError(f"{key}={value!r} is not a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key}={value!r} is not a number")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{key}={value!r} is not text")
    return value


def typed(key: str) -> Callable[[str], Any]:
    """A text parser for one setting, e.g. a command-line type (so --budget-params 1e5 works);
    named like the field's type, so argparse's one-line error reads 'invalid int value'."""
    def parse(text: str) -> Any:
        return coerce(key, text)

    parse.__name__ = _TYPES[key]
    return parse


def parse_assignments(items: Sequence[str], what: str = "--set") -> dict[str, Any]:
    """``["steps=400", "lr=1e-3"]`` -> typed settings; a repeated key keeps the last value."""
    settings: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} wants KEY=VALUE, got {item!r}; valid keys: {', '.join(SETTINGS)}")
        settings[key.strip()] = coerce(key.strip(), raw)
    return settings


def settings_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting typed (coerce), with ``device`` resolved ('auto' -> cuda or cpu)."""
    typed = {key: coerce(key, value) for key, value in values.items()}
    if "device" in typed:
        typed["device"] = resolve_device(typed["device"])
    return typed


def _typed_knob(default: Any, value: Any) -> Any:
    """One variant value typed like its default; ValueError when it is not that type."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if str(value).lower() not in ("true", "false", "1", "0"):
            raise ValueError
        return str(value).lower() in ("true", "1")
    if isinstance(default, int):
        return whole(value, "")
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError
        return float(value)
    if not isinstance(value, type(default)):
        raise ValueError
    return value


def typed_variant(task_name: str, variant: Mapping[str, Any] | None) -> dict[str, Any]:
    """The task's resolved variant with each value typed by its default (text parsed, 1e3 for
    an int knob accepted); unknown keys and out-of-range values fail naming the task."""
    from tasks.base import TASKS  # here: importing this module must not register every task

    task = TASKS[task_name]
    typed = {}
    for key, value in dict(variant or {}).items():
        if key not in task.defaults:
            raise ValueError(f"task {task_name!r} has no variant key {key!r}; "
                             f"valid: {', '.join(sorted(task.defaults))}")
        try:
            typed[key] = _typed_knob(task.defaults[key], value)
        except ValueError:
            raise ValueError(f"variant {key}={value!r} is not a {type(task.defaults[key]).__name__}") from None
    return task.variant(typed)


def grid(task: str, variants: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
         models: Sequence[str] | str | None = None, seeds: Sequence[int] | int = (0,),
         lrs: Sequence[float] | None = None, settings: Mapping[str, Any] | None = None) -> list[RunConfig]:
    """Every (variant, model, seed, lr) of one task with shared settings, validated up front.
    models None: every registered model; lrs None: the settings' lr."""
    from bench.models import MODELS

    variants = [variants or {}] if variants is None or isinstance(variants, Mapping) else list(variants)
    models = [models] if isinstance(models, str) else list(models or MODELS.names())
    seeds = [seeds] if isinstance(seeds, (int, str)) else list(seeds)
    for name in models:
        MODELS[name]  # noqa: B018 - loud lookup, before any work
    if not models or not seeds or not variants:
        raise ValueError("a grid needs at least one model, one seed and one variant")
    typed = settings_of({"device": "auto", **dict(settings or {})})
    lr_values = [coerce("lr", lr) for lr in lrs] if lrs is not None else [typed.pop("lr", RunConfig.lr)]
    typed.pop("lr", None)
    resolved = [typed_variant(task, variant) for variant in variants]
    return [RunConfig(task=task, model=model, variant=variant, seed=whole(seed, "seed"), lr=lr, **typed)
            for variant in resolved for model in models for seed in seeds for lr in lr_values]


def _parser(path: Path):
    """The parser for a grid file's suffix: text -> mapping."""
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            try:
                import tomli as tomllib
            except ImportError:
                raise ValueError("--config TOML needs Python 3.11+ or the tomli package") from None
        return tomllib.loads
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ValueError(f"--config {path}: YAML needs pyyaml (pip install pyyaml); "
                             f"or write the grid as TOML (see examples/grid.toml)") from None
        return yaml.safe_load
    if suffix == ".json":
        return json.loads
    raise ValueError(f"--config {path}: unknown format {suffix or '(none)'!r}; valid: .toml, .yaml, .yml, .json")


def read_file(path: str | Path) -> dict[str, Any]:
    """A grid file's raw mapping: TOML (.toml), YAML (.yaml/.yml, needs pyyaml) or JSON."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--config file {path} does not exist")
    parse = _parser(path)
    try:
        data = parse(path.read_text(encoding="utf-8"))
    except Exception as error:  # noqa: BLE001 - the parser's own error (YAML's spans lines), as one line
        raise ValueError(f"--config {path}: {' '.join(str(error).split())}") from None
    if not isinstance(data, dict):
        raise ValueError(f"--config {path}: the file must hold a table of keys ({', '.join(FILE_KEYS)})")
    return data


def _known(table: Mapping[str, Any], valid: Sequence[str], where: str) -> None:
    unknown = sorted(set(table) - set(valid))
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; valid: {', '.join(valid)}")


def grid_from_file(path: str | Path, overrides: Mapping[str, Any] | None = None) -> list[RunConfig]:
    """Every run a grid file describes, with `overrides` (the command line's settings) on top.
    The file's `plugins` are imported first, so its tasks and models may come from them."""
    from bench.plugins import is_path, load_plugins

    data = read_file(path)
    _known(data, FILE_KEYS, f"--config {path}")
    here = Path(path).parent  # plugin paths are relative to the grid file
    load_plugins([str(here / spec) if is_path(spec) else spec for spec in data.get("plugins", [])])
    entries = data.get("tasks")
    if not entries or not isinstance(entries, list):
        raise ValueError(f"--config {path}: needs a non-empty `tasks` list ([[tasks]] tables or names)")
    runs: list[RunConfig] = []
    for entry in entries:
        entry = {"name": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict) or "name" not in entry:
            raise ValueError(f"--config {path}: each task is a name or a table with `name`, got {entry!r}")
        _known(entry, TASK_KEYS, f"--config {path}, task {entry['name']!r}")
        # a task's own models, seeds, lrs, else the file's; the command line's settings win
        models, seeds, lrs = (entry.get(key, data.get(key)) for key in ("models", "seeds", "lrs"))
        settings = {**data.get("settings", {}), **entry.get("settings", {}), **dict(overrides or {})}
        runs += grid(entry["name"], entry.get("variants", [{}]), models, [0] if seeds is None else seeds,
                     None if "lr" in (overrides or {}) else lrs, settings)
    return runs
