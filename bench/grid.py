"""Run grids: the one place that turns names, knobs and ``key=value`` text into RunConfigs,
shared by ``bench run`` (flags, ``--set``, ``--config FILE``) and ``bench.run(...)``, so the
CLI and the Python API accept and refuse exactly the same things.

Settings are the RunConfig fields other than the grid axes (task, model, variant, seed),
each typed by its field (a mistake is one ValueError naming the valid keys; whole floats such
as ``budget_params=1e5`` pass for ints; ``device`` also takes ``auto``).

Grid file (``bench run --config FILE``): TOML, or YAML (needs pyyaml) or JSON with the same
keys. Every (task, variant, model, seed, lr) combination is one run::

    models = ["lstm", "transformer"]    # optional; default: every registered model
    seeds = [0, 1, 2]                   # optional; default [0]
    lrs = [1e-3, 3e-3]                  # optional; default: settings.lr (RunConfig's default)
    plugins = ["my_model.py"]           # optional; imported first with --allow-plugins (relative paths)

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

Refused before any work: a key, model, seed, lr or variant given twice, ``lrs`` that is not
a list, a grid of over MAX_RUNS runs without ``yes`` (``--yes``), and a file's ``plugins``
(they run code) without ``allow_plugins`` (``--allow-plugins``) unless already imported.
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
MAX_RUNS = 10_000  # a larger grid needs yes=True (bench run --yes): likely a typo, hours of work
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
    """``["steps=400", "lr=1e-3"]`` -> typed settings; a key given twice is refused."""
    settings: dict[str, Any] = {}
    texts: dict[str, str] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} wants KEY=VALUE, got {item!r}; valid keys: {', '.join(SETTINGS)}")
        key = key.strip()
        if key in settings:
            raise ValueError(f"{what} {key} given twice ({texts[key]} and {raw}); give it once")
        settings[key], texts[key] = coerce(key, raw), raw
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


def check_size(n_runs: int, yes: bool = False) -> None:
    """Refuse a grid of more than MAX_RUNS runs unless `yes`: counted before anything is built."""
    if n_runs > MAX_RUNS and not yes:
        raise ValueError(f"this grid has {n_runs:,} runs, more than {MAX_RUNS:,}: pass --yes to run it "
                         "(bench.run(..., yes=True))")


def _listed(value: Any, what: str) -> list[Any]:
    """A grid axis as a list: any sequence as given, one name or number as a list of one."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (Mapping, bool)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{what} must be a list, got {value!r}")
    return list(value)


def _once(values: Sequence[Any], what: str) -> None:
    keys = [json.dumps(value, sort_keys=True, default=str) for value in values]
    if len(set(keys)) < len(keys):
        raise ValueError(f"{what} {values[next(i for i, k in enumerate(keys) if k in keys[:i])]!r} given twice")


def _axes(variants: Any, models: Any, seeds: Any, lrs: Any) -> tuple[list, list, list, list | None]:
    """The four axes as lists (models None: every registered model), shapes checked."""
    from bench.models import MODELS

    variants = [variants or {}] if variants is None or isinstance(variants, Mapping) else _listed(variants, "variants")
    for variant in variants:
        if not isinstance(variant, Mapping):
            raise ValueError(f"each variant is a table of knobs (e.g. {{distance = 4}}), got {variant!r}")
    models = list(MODELS.names()) if models is None else _listed(models, "models")
    seeds = _listed(seeds, "seeds")
    if lrs is not None:
        if isinstance(lrs, (str, bytes, Mapping)) or not hasattr(lrs, "__iter__"):
            raise ValueError(f"lrs must be a list of numbers (lrs = [0.001]), got {lrs!r}")
        lrs = list(lrs)
    return variants, models, seeds, lrs


def grid(task: str, variants: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
         models: Sequence[str] | str | None = None, seeds: Sequence[int] | int = (0,),
         lrs: Sequence[float] | None = None, settings: Mapping[str, Any] | None = None,
         yes: bool = False) -> list[RunConfig]:
    """Every (variant, model, seed, lr) of one task with shared settings, validated up front
    (every seed, lr and setting range before any work: RunConfig). models None: every
    registered model; lrs None: the settings' lr; more than MAX_RUNS runs needs yes=True."""
    from bench.models import MODELS

    variants, models, seeds, lrs = _axes(variants, models, seeds, lrs)
    check_size(len(variants) * len(models) * len(seeds) * (len(lrs) if lrs is not None else 1), yes)
    for name in models:
        MODELS[name]  # noqa: B018 - loud lookup, before any work
    if not models or not seeds or not variants or lrs == []:
        raise ValueError("a grid needs at least one model, one seed, one variant and one lr")
    typed = settings_of({"device": "auto", **dict(settings or {})})
    lr_values = [coerce("lr", lr) for lr in lrs] if lrs is not None else [typed.pop("lr", RunConfig.lr)]
    typed.pop("lr", None)
    seed_values = [whole(seed, "seed") for seed in seeds]
    resolved = [typed_variant(task, variant) for variant in variants]
    for values, what in ((models, "model"), (seed_values, "seed"), (lr_values, "lr"), (resolved, "variant")):
        _once(values, what)
    return [RunConfig(task=task, model=model, variant=variant, seed=seed, lr=lr, **typed)
            for variant in resolved for model in models for seed in seed_values for lr in lr_values]


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
        return tomllib.loads  # refuses a key given twice itself
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ValueError(f"--config {path}: YAML needs pyyaml (pip install pyyaml); "
                             f"or write the grid as TOML (see examples/grid.toml)") from None
        return lambda text: yaml.load(text, Loader=_unique_yaml_loader(yaml))  # noqa: S506 - a SafeLoader
    if suffix == ".json":
        return lambda text: json.loads(text, object_pairs_hook=_unique_pairs)
    raise ValueError(f"--config {path}: unknown format {suffix or '(none)'!r}; valid: .toml, .yaml, .yml, .json")


def _unique_pairs(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """A JSON object whose keys are each given once."""
    table: dict[Any, Any] = {}
    for key, value in pairs:
        if key in table:
            raise ValueError(f"key {key!r} given twice")
        table[key] = value
    return table


def _unique_yaml_loader(yaml):
    """yaml.SafeLoader (no object tags) that refuses a mapping key given twice."""
    loader_class = type("UniqueKeyLoader", (yaml.SafeLoader,), {})

    def mapping(loader, node, deep=False):
        loader.flatten_mapping(node)
        table = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in table:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice", key_node.start_mark)
            table[key] = loader.construct_object(value_node, deep=deep)
        return table

    loader_class.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return loader_class


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


def _file_plugins(path: Path, data: Mapping[str, Any], allow_plugins: bool) -> None:
    """Import the file's `plugins` (paths relative to the file): only with allow_plugins,
    unless every one is loaded already (--import), since importing runs their code."""
    from bench.plugins import is_path, load_plugins, loaded

    specs = _listed(data.get("plugins", []), f"--config {path}: plugins")
    if not all(isinstance(spec, str) for spec in specs):
        raise ValueError(f"--config {path}: plugins must be a list of module names or .py paths")
    resolved = [str(path.parent / spec) if is_path(spec) else spec for spec in specs]
    keys = [str(Path(spec).resolve()) if is_path(spec) else spec for spec in resolved]
    new = [spec for spec, key in zip(specs, keys) if key not in loaded()]
    if new and not allow_plugins:
        raise ValueError(f"--config {path} lists plugins ({', '.join(new)}), and importing them runs "
                         "their code: pass --allow-plugins to import them (bench.run(..., allow_plugins=True)), "
                         "or --import them yourself")
    load_plugins(resolved)


def grid_from_file(path: str | Path, overrides: Mapping[str, Any] | None = None, *,
                   allow_plugins: bool = False, yes: bool = False) -> list[RunConfig]:
    """Every run a grid file describes, with `overrides` (the command line's settings) on top.
    The file's `plugins` are imported first (with allow_plugins), so its tasks and models may
    come from them; the grid's size is checked (check_size) before any run is built."""
    path = Path(path)
    data = read_file(path)
    _known(data, FILE_KEYS, f"--config {path}")
    _file_plugins(path, data, allow_plugins)
    entries = data.get("tasks")
    if not entries or not isinstance(entries, list):
        raise ValueError(f"--config {path}: needs a non-empty `tasks` list ([[tasks]] tables or names)")
    planned = []
    for entry in entries:
        entry = {"name": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict) or "name" not in entry:
            raise ValueError(f"--config {path}: each task is a name or a table with `name`, got {entry!r}")
        _known(entry, TASK_KEYS, f"--config {path}, task {entry['name']!r}")
        # a task's own models, seeds, lrs, else the file's; the command line's settings win
        models, seeds, lrs = (entry.get(key, data.get(key)) for key in ("models", "seeds", "lrs"))
        settings = {**data.get("settings", {}), **entry.get("settings", {}), **dict(overrides or {})}
        axes = _axes(entry.get("variants", [{}]), models, [0] if seeds is None else seeds,
                     None if "lr" in (overrides or {}) else lrs)
        planned.append((entry["name"], axes, settings))
    check_size(sum(len(v) * len(m) * len(s) * (len(lr) if lr is not None else 1)
                   for _, (v, m, s, lr), _ in planned), yes)
    return [run for name, axes, settings in planned for run in grid(name, *axes, settings, yes=True)]
