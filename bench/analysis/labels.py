"""Variant labels and display order: parse a sweep's knob out of the labels, shorten labels to
what differs, sort cells naturally. Pure pandas (no torch).

Model order is never written out here: callers pass the model registry's order
(`order=tuple(MODELS)` in bench/commands); without one, models sort alphabetically, and
models missing from a given order come after the known ones, alphabetically.
"""
from __future__ import annotations

import math
from typing import Sequence

import pandas as pd

from bench.analysis.variants import variant_values

# the x axis of "accuracy against length": the knob each built-in task sweeps (a task not
# listed falls back to 'distance' or 'length' in its labels, then the `length` column)
TASK_KNOBS = {"recall": "distance", "fill_in": "length", "adding": "length", "copy": "lag",
              "mqar": "seq_len", "selective_copy": "seq_len", "listops": "max_len",
              "cloze": "window", "imdb": "max_len", "imdb_bytes": "max_len"}


def model_key(order: Sequence[str] = ()):
    """Sort key for model names: position in `order`, then alphabetical for the rest."""
    rank = {m: i for i, m in enumerate(order)}
    return lambda m: (rank.get(m, len(rank)), str(m))


def sort_models(models, order: Sequence[str] = ()) -> list[str]:
    return sorted(dict.fromkeys(models), key=model_key(order))


def natural_key(label: str) -> tuple:
    """Sort key for variant labels: numbers compare as numbers ('distance=8' < 'distance=32')."""
    key = []
    for part in str(label).split(","):
        name, _, value = part.partition("=")
        try:
            key.append((name, 0, float(value), ""))
        except ValueError:
            key.append((name, 1, 0.0, value))
    return tuple(key)


def sort_cells(frame: pd.DataFrame, order: Sequence[str] = ()) -> pd.DataFrame:
    """Rows ordered by task, variant (natural order), model (`order`), then lr."""
    if frame.empty:
        return frame
    ranks = {v: i for i, v in enumerate(sorted(frame["variant"].unique(), key=natural_key))}
    keys = frame.assign(_variant=frame["variant"].map(ranks))
    by = ["task", "_variant"]
    if "model" in frame:
        models = sort_models(frame["model"].unique(), order)
        keys["_model"] = frame["model"].map({m: i for i, m in enumerate(models)})
        by.append("_model")
    by += ["lr"] if "lr" in frame else []
    ordered = keys.sort_values(by, kind="stable")
    return ordered.drop(columns=[c for c in ("_variant", "_model") if c in ordered]).reset_index(drop=True)


def with_knob(runs: pd.DataFrame, knob: str) -> pd.DataFrame:
    """Add columns `knob` (a number parsed from the variant label) and `rest` (the label
    without the knob), so a sweep over the knob groups by `rest`. Rows without it drop out."""
    frame = runs.copy()
    parsed = frame["variant"].map(variant_values)
    frame[knob] = parsed.map(lambda v: float(v[knob]) if knob in v else math.nan)
    frame["rest"] = parsed.map(lambda v: ",".join(f"{k}={x}" for k, x in sorted(v.items()) if k != knob))
    return frame.dropna(subset=[knob])


def shared_settings(frame: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Per task, the variant knobs whose value is the same in every variant of that task."""
    shared = {}
    for task, group in frame.groupby("task"):
        parsed = [variant_values(v) for v in group["variant"].unique()]
        keys = set.intersection(*(set(p) for p in parsed)) if parsed else set()
        shared[task] = {k: parsed[0][k] for k in sorted(keys) if len({p[k] for p in parsed}) == 1}
    return shared


SPLIT_SIZES = ("n_train", "n_val", "n_test")  # never what names a variant


def short_variant(frame: pd.DataFrame) -> pd.Series:
    """Variant labels without the knobs every variant of the task shares. When that leaves
    nothing (a task run at one variant), the label keeps the task's knob (TASK_KNOBS: the
    distance=64 a user passed), or every knob but the split sizes; 'default' only for an
    empty label."""
    shared = shared_settings(frame)

    def short(task: str, variant: str) -> str:
        values = variant_values(variant)
        rest = {k: v for k, v in values.items() if k not in shared.get(task, {})}
        if not rest and TASK_KNOBS.get(task) in values:
            rest = {TASK_KNOBS[task]: values[TASK_KNOBS[task]]}
        if not rest:
            rest = {k: v for k, v in values.items() if k not in SPLIT_SIZES}
        return ",".join(f"{k}={v}" for k, v in rest.items()) or "default"

    return pd.Series([short(t, v) for t, v in zip(frame["task"], frame["variant"], strict=True)],
                     index=frame.index, dtype=object)


def shared_text(frame: pd.DataFrame) -> list[str]:
    """Markdown lines naming each task's shared settings (what the short labels leave out)."""
    return [f"- `{task}` in every variant: {', '.join(f'{k}={v}' for k, v in knobs.items()) or '–'}"
            for task, knobs in shared_settings(frame).items()]


def knob_for(task: str, runs: pd.DataFrame) -> str:
    """The x axis for a task: its knob from TASK_KNOBS if the variant labels carry it,
    else 'distance' or 'length' from the label, else the `length` column."""
    labels = runs.loc[runs["task"] == task, "variant"].map(variant_values)
    keys = set().union(*labels) if len(labels) else set()
    for knob in (TASK_KNOBS.get(task), "distance", "length"):
        if knob and knob in keys:
            return knob
    return "length"


def with_x(runs: pd.DataFrame, task: str) -> tuple[pd.DataFrame, str]:
    """The task's runs with a numeric column named by its knob and `rest` (the other knobs)."""
    knob = knob_for(task, runs)
    frame = runs[runs["task"] == task]
    parsed = frame["variant"].map(variant_values)
    if len(frame) and parsed.map(lambda v: knob in v).all():
        return with_knob(frame, knob), knob
    frame = frame.copy()
    frame["rest"] = ""
    frame[knob] = pd.to_numeric(frame["length"], errors="coerce")
    return frame, knob
