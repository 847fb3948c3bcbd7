"""Claims about gradients, from `bench gradflow` rows (gradflow.csv): 6 (vanishing gradients, at
initialisation and after training) and 7 (clipping, under AdamW and under SGD).

Gradient norms are deterministic measurements on one seed: ratios count when they pass a
factor (GRAD_FACTOR), not by a t-test.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.analysis.stats import INCONCLUSIVE, NOT_RUN, REFUTED, SUPPORTED, Claim, Part, agree, all_of, ratio_rule

GRAD_FACTOR = 2.0  # gradient-ratio comparisons must differ by this factor
EXPLODE_FACTOR = 10.0  # a step this many times the run's median step is an explosion
GATED = ("lstm", "gru")  # the claim's gated models
PHASE_WORDS = {"init": "at initialisation", "trained": "after training (the training loop, best weights)"}


def _decay(rows: pd.DataFrame) -> tuple[float, float, float]:
    """(nearest distance, farthest distance, grad(farthest) / grad(nearest)), medians over seeds."""
    by = rows.groupby("distance")["grad_norm"].median()
    by = by[by.index >= 1] if (by.index >= 1).sum() >= 2 else by
    return float(by.index.min()), float(by.index.max()), float(by.iloc[-1] / by.iloc[0])


def _position_rows(gradflow: pd.DataFrame | None) -> pd.DataFrame:
    if gradflow is None or gradflow.empty or "kind" not in gradflow:
        return pd.DataFrame(columns=["model", "phase", "quantity", "distance", "grad_norm"])
    rows = gradflow[gradflow["kind"] == "position"].copy()
    if "quantity" not in rows:
        rows["quantity"] = "hidden"
    return rows


def claim_vanishing(gradflow: pd.DataFrame | None) -> Claim:
    statement = ("Vanishing gradients: the gradient reaching a position falls with its distance from "
                 "the loss, fast for the plain RNN, slower for gated models.")
    rule = (f"Measured twice: at initialisation and after training (the ordinary training loop, its "
            f"best-on-validation weights). r(model) = gradient size at the farthest position / at the "
            f"position next to the loss (the hidden state's gradient; the input's if absent). The RNN "
            f"falls when r(rnn) < 1/{GRAD_FACTOR:g}. A gated model falls slower when r(model) is more "
            f"than {GRAD_FACTOR:g}x r(rnn) (supported), less than 1/{GRAD_FACTOR:g}x (refuted), else "
            f"inconclusive. If the two phases disagree, the claim is inconclusive.")
    rows = _position_rows(gradflow)
    if rows.empty or "rnn" not in set(rows["model"]):
        return Claim(6, statement, rule, NOT_RUN, [Part("gradflow", NOT_RUN, "no rnn gradflow rows")])
    quantity = "hidden" if (rows["quantity"] == "hidden").any() else "input"
    rows = rows[rows["quantity"] == quantity]
    phase_parts, evidence = [], []
    for phase, group in rows.groupby("phase", sort=True):
        ratios = {m: _decay(g) for m, g in group.groupby("model")}
        accuracy = group.groupby("model")["val_accuracy"].first() if "val_accuracy" in group else {}
        evidence += [{"phase": phase, "model": m, "quantity": quantity, "near": r[0], "far": r[1],
                      "ratio_far_near": r[2], "val_accuracy": accuracy.get(m, math.nan)}
                     for m, r in ratios.items()]
        if "rnn" not in ratios:
            continue
        r_rnn = ratios["rnn"][2]
        inner = [ratio_rule(1 / r_rnn, "rnn falls", GRAD_FACTOR, "1/r(rnn)")]
        for model in (m for m in ratios if m in GATED):
            inner.append(ratio_rule(ratios[model][2] / r_rnn, f"{model} slower", GRAD_FACTOR,
                                    f"r({model})/r(rnn)"))
        if len(inner) == 1:
            inner.append(Part("gated", NOT_RUN, "no lstm or gru rows"))
        trained = ""
        if phase == "trained" and len(accuracy):
            trained = " (validation accuracy " + ", ".join(f"{m} {a:.3f}" for m, a in accuracy.items()) + ")"
        phase_parts.append(Part(f"{phase}", all_of(inner), f"{PHASE_WORDS.get(phase, phase)}{trained}: "
                                + "; ".join(f"{p.name}: {p.verdict} ({p.detail})" for p in inner)))
    return Claim(6, statement, rule, agree(phase_parts), phase_parts, pd.DataFrame(evidence))


def claim_clipping(gradflow: pd.DataFrame | None) -> Claim:
    statement = "Gradient clipping prevents exploding updates (plain RNN, high learning rate)."
    rule = (f"A plain RNN is trained at a high learning rate with and without clipping, under AdamW "
            f"(the harness's optimizer) and under plain SGD; both are shown. A run 'explodes' when one "
            f"step changes a weight by more than {EXPLODE_FACTOR:g}x the run's typical (median) step, "
            f"or the weights become NaN/inf. Per optimizer: supported when the unclipped run explodes "
            f"and the clipped one does not; refuted when the clipped run explodes too; if the "
            f"unclipped run never explodes there is nothing to prevent (inconclusive: AdamW's "
            f"normalised step usually keeps updates small). Overall: all optimizers where something "
            f"exploded must agree; inconclusive when nothing exploded anywhere.")
    if gradflow is None or gradflow.empty or "kind" not in gradflow or not (gradflow["kind"] == "clip").any():
        return Claim(7, statement, rule, NOT_RUN, [Part("gradflow", NOT_RUN, "no clipping rows")])
    rows = gradflow[gradflow["kind"] == "clip"].copy()
    rows["clipped"] = rows["clip_norm"].notna() & (rows["clip_norm"] > 0)
    parts, tested, evidence = [], [], []
    for optimizer, group in rows.groupby("optimizer", sort=True):
        stats = {clipped: _update_stats(optimizer, clipped, g) for clipped, g in group.groupby("clipped")}
        evidence += list(stats.values())
        if True not in stats or False not in stats:
            parts.append(Part(optimizer, NOT_RUN, "needs a clipped and an unclipped run"))
            continue
        free, clip = stats[False], stats[True]
        detail = (f"largest step / median step: {free['update_max']:.3g} / {free['update_median']:.3g} "
                  f"without clipping, {clip['update_max']:.3g} / {clip['update_median']:.3g} with clip "
                  f"{clip['clip_norm']:g}; largest gradient norm without: {free['grad_norm_max']:.3g}")
        if not free["exploded"]:
            also = "with or without clipping" if not clip["exploded"] else "without clipping"
            parts.append(Part(optimizer, INCONCLUSIVE, f"under {optimizer} nothing exploded {also}: "
                              f"nothing for clipping to prevent; {detail}", "nothing exploded"))
            continue
        part = Part(optimizer, REFUTED if clip["exploded"] else SUPPORTED, detail)
        parts.append(part)
        tested.append(part)
    verdict = all_of(tested) if tested else (INCONCLUSIVE if any(p.verdict != NOT_RUN for p in parts)
                                             else NOT_RUN)
    return Claim(7, statement, rule, verdict, parts, pd.DataFrame(evidence))


def _update_stats(optimizer: str, clipped: bool, group: pd.DataFrame) -> dict:
    update = group["update_max"].astype(float).fillna(np.inf)
    median = float(update[np.isfinite(update)].median()) if np.isfinite(update).any() else np.inf
    worst = float(update.max())
    return {"optimizer": optimizer, "clipped": clipped, "clip_norm": group["clip_norm"].max(),
            "lr": group["lr"].iloc[0] if "lr" in group else math.nan,
            "steps": len(group), "grad_norm_median": float(group["grad_norm"].median()),
            "grad_norm_max": float(group["grad_norm"].max()), "update_median": median,
            "update_max": worst,
            "exploded": not math.isfinite(worst) or worst > EXPLODE_FACTOR * median,
            "final_loss": float(group.sort_values("step")["loss"].iloc[-1])}
