"""Choosing each cell's learning rate and init on validation: the tuning rule, in one place.

A cell is (task, variant, model, budget_params); its runs may try several learning rates and,
for the gated models and the plain RNN, several memory inits (bench/models/init.py). The
choice, on **validation** only (test is never used for a choice):

1. Compare the (init, lr) combinations of a cell on the seeds every combination ran (a
   cell tuned on seeds 0 and 1, then confirmed with more seeds at its choice, chooses on 0
   and 1: an lr does not win by having more, or luckier, seeds). A diverged seed counts as
   validation accuracy 0.
2. The best mean validation accuracy wins. Ties (within 1e-9: on the memory tasks several
   lrs often reach 1.0) go to the standard init first (the default a reader assumes), then to
   the middle of the tied lrs (their lower median): the centre of the plateau, not its edge.
   When no combination has started learning (every mean validation accuracy within
   LEARNING_MARGIN of the trivial baseline; `learned` False), all of them tie (a difference
   between runs at chance is noise, not a better lr), except that a combination with a
   diverged run never wins such a tie.
3. `edge`: the chosen lr is the smallest or largest this (cell, init) tried, so the best lr
   may lie outside the grid; `at_limit`: that edge is also LR_LIMITS' end, where the
   standard suite stops extending its grid (bench/execute/suites.py), so the report says
   the grid reached its limit instead of asking for a wider one.

`select_lr(runs)` chooses (init, lr) jointly per cell (what a cell reports); with
`per_init=True` it chooses the lr per (cell, init), so every init is reported at its own
best lr (the init ablation, claim 9). Runs without an `init` column (results from before
it existed) count as the standard init. Pure pandas (no torch).
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from bench.analysis.labels import short_variant, sort_cells
from bench.analysis.outcome import LEARNING_MARGIN

CELL = ["task", "variant", "model", "budget_params"]
DIVERGED_VAL = 0.0  # a diverged seed's val_accuracy in the choice
MIN_GRID = 3  # a verdict needs an LR grid of at least this many values per cell
LR_LIMITS = (1e-4, 1e-1)  # the standard suite never extends its grid past these
INIT_ORDER = ("standard", "chrono", "orthogonal")  # tie-break order
TIE = 1e-9


def with_init(runs: pd.DataFrame) -> pd.DataFrame:
    """`runs` with an `init` column (missing or empty: "standard")."""
    frame = runs.copy()
    if "init" not in frame:
        frame["init"] = "standard"
    frame["init"] = frame["init"].fillna("standard").replace("", "standard").astype(str)
    return frame


def _seed_list(seeds) -> str:
    return ",".join(str(x) for x in sorted(set(seeds)))


def _init_rank(init: str) -> int:
    return INIT_ORDER.index(init) if init in INIT_ORDER else len(INIT_ORDER)


def _choose(group: pd.DataFrame) -> tuple[str, float]:
    """(init, lr) of the best row of one cell's grid (columns init, lr, _key, learned) by the
    rule; when no row has started learning, every row ties (differences at chance are noise)."""
    best = group["_key"].max()
    if group["learned"].any():
        tied = group[group["_key"] >= best - TIE]
    else:  # at chance every lr ties, except that an lr whose runs diverged never wins a tie
        tied = group[group["diverged"] == 0] if (group["diverged"] == 0).any() else group
    init = min(tied["init"], key=lambda name: (_init_rank(name), name))
    lrs = sorted(tied.loc[tied["init"] == init, "lr"])
    return init, lrs[(len(lrs) - 1) // 2]


def select_lr(runs: pd.DataFrame, order: Sequence[str] = (),
              per_init: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per cell (per cell and init with per_init), the (init, lr) chosen by the module's rule.

    Returns (the runs at the chosen combination, with `lr_grid` = lrs the chosen init tried,
    `lr_edge`, `lr_at_limit`, `inits_tried`, `tuning` (the seed took part in the choice); the
    grid: one row per (cell, init, lr) with
    mean_val_accuracy over the compared seeds `tuned_on`, seeds (how many it ran), diverged,
    grid_size (lrs of that init), selected, edge, at_limit)."""
    if runs.empty:
        empty = runs.assign(lr_grid=pd.Series(dtype=float), lr_edge=pd.Series(dtype=bool),
                            lr_at_limit=pd.Series(dtype=bool), init=pd.Series(dtype=str))
        return empty, pd.DataFrame()
    frame = with_init(runs)
    keys = CELL + (["init"] if per_init else [])
    val = frame["val_accuracy"] if "val_accuracy" in frame else pd.Series(float("nan"), index=frame.index)
    frame["_val"] = val.where(frame["status"] != "diverged", DIVERGED_VAL)
    combo = ["init", "lr"]
    per_combo = frame.groupby(keys + [c for c in combo if c not in keys], dropna=False)["seed"].agg(frozenset)
    shared = per_combo.groupby(keys, dropna=False).agg(lambda sets: frozenset.intersection(*sets))
    every = frame.groupby(keys, dropna=False)["seed"].agg(frozenset)
    tuned_on = pd.DataFrame({
        "_shared": shared, "tuned_on": [_seed_list(c) if c else _seed_list(e) + " (no seed shared by every lr)"
                                        for c, e in zip(shared, every, strict=True)]}).reset_index()
    frame = frame.merge(tuned_on, on=keys, how="left")
    frame["_common"] = [s in common or not common for s, common in zip(frame["seed"], frame["_shared"], strict=True)]
    grid_keys = CELL + combo
    grid = (frame.groupby(grid_keys, dropna=False)
            .agg(seeds=("seed", "nunique"), diverged=("status", lambda s: int((s == "diverged").sum())))
            .reset_index())
    key = frame[frame["_common"]].groupby(grid_keys, dropna=False)["_val"].mean().rename("_key").reset_index()
    grid = grid.merge(key, on=grid_keys, how="left")
    grid["mean_val_accuracy"] = grid["_key"]
    grid["_key"] = grid["_key"].fillna(-1.0)
    if "trivial_baseline" in frame and frame["trivial_baseline"].notna().any():
        base = frame.groupby(CELL, dropna=False)["trivial_baseline"].median().rename("_base").reset_index()
        grid = grid.merge(base, on=CELL, how="left")
        grid["learned"] = ~(grid["_key"] < grid["_base"] + LEARNING_MARGIN)  # NaN baseline: learned
        grid = grid.drop(columns="_base")
    else:
        grid["learned"] = True
    grid = grid.merge(tuned_on[keys + ["tuned_on"]], on=keys, how="left")
    lrs = grid.groupby(CELL + ["init"], dropna=False)["lr"]
    grid["grid_size"] = lrs.transform("nunique")
    low, high = lrs.transform("min"), lrs.transform("max")
    chosen = {}
    for cell, group in grid.groupby(keys, dropna=False, sort=False):
        chosen[cell if isinstance(cell, tuple) else (cell,)] = _choose(group)
    pick = [chosen[tuple(row[k] for k in keys)] == (row["init"], row["lr"]) for _, row in grid.iterrows()]
    grid["selected"] = pick
    at_edge = ((grid["lr"] == low) | (grid["lr"] == high)) & (grid["grid_size"] >= 2)
    limit = ((grid["lr"] == low) & (grid["lr"] <= LR_LIMITS[0] * (1 + 1e-9))) | \
            ((grid["lr"] == high) & (grid["lr"] >= LR_LIMITS[1] * (1 - 1e-9)))
    grid["edge"] = grid["selected"] & at_edge
    grid["at_limit"] = grid["edge"] & limit
    inits = grid.groupby(CELL, dropna=False)["init"].nunique().rename("inits_tried").reset_index()
    picked = grid.loc[grid["selected"], grid_keys + ["grid_size", "edge", "at_limit"]]
    picked = picked.rename(columns={"grid_size": "lr_grid", "edge": "lr_edge", "at_limit": "lr_at_limit"})
    selected = frame.merge(picked, on=grid_keys).merge(inits, on=CELL, how="left")
    # `tuning`: this seed's validation score took part in a choice (the cell tried more than one
    # combination); the claims test the other, held-out seeds only
    combos = grid.groupby(keys, dropna=False).size().rename("_combos").reset_index()
    selected = selected.merge(combos, on=keys, how="left")
    selected["tuning"] = selected["_common"] & (selected["_combos"] > 1)
    selected = selected.drop(columns=["_val", "_shared", "_common", "tuned_on", "_combos"])
    return selected, sort_cells(grid.drop(columns="_key"), order)


def lr_grid_table(grid: pd.DataFrame, order: Sequence[str] = ()) -> pd.DataFrame:
    """The grid for the report: cell, init, lr, mean val accuracy, n seeds, chosen, and a flag
    for a choice at the grid's edge (or its limit) or a grid too small for a verdict."""
    if grid is None or grid.empty:
        return pd.DataFrame()
    table = sort_cells(grid, order)
    flags = []
    for row in table.itertuples(index=False):
        flag = []
        if row.selected and row.grid_size < MIN_GRID:
            flag.append(f"grid of {row.grid_size} < {MIN_GRID}: preliminary")
        if row.edge:
            flag.append("at the grid's limit" if getattr(row, "at_limit", False) else "at the grid's edge")
        flags.append("; ".join(flag))
    return pd.DataFrame({"task": table["task"], "variant": short_variant(table), "model": table["model"],
                         "init": table["init"] if "init" in table else "standard",
                         "lr": [f"{v:g}" for v in table["lr"]],
                         "mean val acc (chosen-on seeds)": table["mean_val_accuracy"], "n": table["seeds"],
                         "chosen on seeds": table["tuned_on"] if "tuned_on" in table else "",
                         "diverged": table["diverged"], "chosen": table["selected"].map({True: "yes", False: ""}),
                         "flag": flags})
