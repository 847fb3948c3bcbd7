"""Verdict logic on synthetic tables whose truth is known (bench/analysis/claims*.py).

Each rule of issue 11 has a test that fails if the rule breaks: an undertrained run cannot
yield `supported`; one seed reads `preliminary`; an LR grid of one reads `preliminary`; Holm
is applied within a claim; claims 3 and 5 never fall back to run throughput; claim 2 compares
left-to-right models with the computed left-only ceiling.
"""
import pandas as pd
import pytest

from bench.analysis import claims, stats
from bench.analysis.claims_accuracy import NOTHING_LEARNED
from bench.analysis.stats import (
    INCONCLUSIVE,
    NOT_RUN,
    NOT_SIGNIFICANT_AFTER_HOLM,
    PRELIMINARY,
    REFUTED,
    SUPPORTED,
    UNDERTRAINED,
)
from bench.probes.structure import structural_params

RECALL = "distance={d},n_pairs=1,n_values=8"
THRESHOLD = (0.125 + 1) / 2  # halfway between chance (1/8) and 1


def runs_frame(cells: dict, task: str = "recall", label: str = RECALL, spread: float = 0.01,
               seeds: int = 3, lr_grid: int = 3, converged: float | None = 1.0, **metrics) -> pd.DataFrame:
    """cells {(model, knob): mean accuracy, or a list of per-seed values} -> one row per
    (model, knob, seed) at the selected lr; scalar means give seeds at mean - spread, mean,
    mean + spread (so the truth is known exactly). Extra keyword metrics go on every row."""
    rows = []
    for (model, knob), mean in cells.items():
        values = mean if isinstance(mean, list) else [mean + (s - (seeds - 1) / 2) * spread for s in range(seeds)]
        for seed, value in enumerate(values):
            row = {"task": task, "variant": label.format(d=knob), "model": model, "seed": seed,
                   "status": "ok", "test_accuracy": value, "val_accuracy": value, "trivial_baseline": 0.125,
                   "device": "cpu", "length": knob, "lr": 1e-3, "budget_params": 1000,
                   "lr_grid": lr_grid, **metrics}
            if converged is not None:
                row["converged"] = converged
            rows.append(row)
    return pd.DataFrame(rows)


TRUTH = {("rnn", 8): 0.95, ("rnn", 32): 0.30, ("rnn", 128): 0.13,
         ("lstm", 8): 0.99, ("lstm", 32): 0.97, ("lstm", 128): 0.35,
         ("gru", 8): 0.99, ("gru", 32): 0.96, ("gru", 128): 0.30,
         ("transformer", 8): 1.0, ("transformer", 32): 0.99, ("transformer", 128): 0.98}


# ---------------------------------------------------------------- recall claims 1 and 8
def test_forgetting_supported_on_the_textbook_table():
    claim = claims.claim_forgetting(runs_frame(TRUTH))
    assert claim.verdict == SUPPORTED, claim.parts
    assert set(claim.evidence["model"]) == {"rnn", "lstm", "gru", "transformer"}
    held = claim.evidence.drop_duplicates("model").set_index("model")["holds_to"]
    assert held["rnn"] == 8 and held["lstm"] == 32 and held["transformer"] == 128
    assert all(p.n == 3 and p.p_adjusted >= p.p_value for p in claim.parts)  # every test is Holm-corrected
    assert "paired" in claim.rule and "Holm" in claim.rule


def test_forgetting_refuted_when_the_transformer_fails_at_length():
    claim = claims.claim_forgetting(runs_frame({**TRUTH, ("transformer", 128): 0.2}))
    assert claim.verdict == REFUTED
    assert any(p.name.startswith("transformer holds at d=128") and p.verdict == REFUTED for p in claim.parts)


def test_forgetting_inconclusive_when_seeds_disagree():
    noisy = runs_frame(TRUTH, spread=0.5)  # seeds 0.5 apart: nothing is significant
    assert claims.claim_forgetting(noisy).verdict == INCONCLUSIVE


def test_missing_runs_show_not_run():
    empty = runs_frame({}).reindex(columns=["task", "variant", "model", "seed", "status", "test_accuracy"])
    assert claims.claim_forgetting(empty).verdict == NOT_RUN
    assert claims.claim_gates_mitigate(empty).verdict == NOT_RUN
    one_distance = runs_frame({k: v for k, v in TRUTH.items() if k[1] == 8})
    assert claims.claim_forgetting(one_distance).verdict == NOT_RUN
    verdicts = [c.verdict for c in claims.evaluate_claims(pd.DataFrame())]
    assert verdicts == [NOT_RUN] * 8


def test_a_missing_model_makes_its_parts_not_run_and_the_claim_inconclusive():
    claim = claims.claim_forgetting(runs_frame({k: v for k, v in TRUTH.items() if k[0] != "rnn"}))
    assert claim.verdict == INCONCLUSIVE  # the transformer parts ran; the rnn parts did not
    assert [p.verdict for p in claim.parts[:3]] == [NOT_RUN] * 3


def test_gates_mitigate_supported_then_never_refuted_when_gates_hold():
    assert claims.claim_gates_mitigate(runs_frame(TRUTH)).verdict == SUPPORTED
    held = {**TRUTH, ("lstm", 128): 0.97, ("gru", 128): 0.96}
    claim = claims.claim_gates_mitigate(runs_frame(held))
    assert claim.verdict == INCONCLUSIVE  # never refuted by a finite sweep
    below = [p for p in claim.parts if "below the bar" in p.name]
    assert all(p.verdict == INCONCLUSIVE for p in below)
    assert "held up to d=128" in below[0].detail and "with converged runs" in below[0].detail


# ---------------------------------------------------------------- undertrained, seeds, LR grid
def test_an_undertrained_run_cannot_yield_supported():
    frame = runs_frame(TRUTH)
    long_gated = frame["model"].isin(["lstm", "gru"]) & (frame["length"] == 128)
    frame.loc[long_gated & (frame["seed"] == 0), "converged"] = 0.0  # one seed still improving
    claim = claims.claim_gates_mitigate(frame)
    assert claim.verdict != SUPPORTED
    assert all(p.verdict == INCONCLUSIVE and p.reason == UNDERTRAINED for p in claim.parts), claim.parts
    # claim 1: the rnn at the longest distance lost, and did not converge
    frame = runs_frame(TRUTH)
    frame.loc[(frame["model"] == "rnn") & (frame["length"] == 128), "converged"] = 0.0
    part = claims.claim_forgetting(frame).parts[0]
    assert part.name.startswith("rnn falls") and part.verdict == INCONCLUSIVE and part.reason == UNDERTRAINED


def test_a_run_stopped_early_at_chance_has_stalled_and_cannot_lose_a_verdict():
    # the LSTM at d=128 sits at chance: stopped by early stopping at step 1000 of 1500 it never
    # started learning (stalled); at the cap with the same numbers it used its whole budget
    truth = {**TRUTH, ("lstm", 128): 0.13, ("gru", 128): 0.13}
    stopped = runs_frame(truth, steps_done=1000, step_cap=1500)
    claim = claims.claim_gates_mitigate(stopped)
    assert all(p.verdict == INCONCLUSIVE and p.reason == UNDERTRAINED for p in claim.parts), claim.parts
    table = claim.evidence
    assert "stalled at chance" in table.loc[(table["model"] == "lstm") & (table["distance"] == 128),
                                            "converged"].iloc[0]
    capped = runs_frame(truth, steps_done=1500, step_cap=1500)
    assert claims.claim_gates_mitigate(capped).verdict == SUPPORTED
    # a model that learned (well above chance) and then stopped early has not stalled
    learned = runs_frame(TRUTH, steps_done=600, step_cap=1500)
    assert claims.claim_gates_mitigate(learned).verdict == SUPPORTED
    # fill-in's left-only models at their computed ceiling are at an information limit: a
    # plateau there is convergence even when early stopping ended it
    assert claims.claim_bidirectional(fill_in(ceiling=0.125, steps_done=500, step_cap=1500)).verdict == SUPPORTED
    # ... and however long they would train: the ceiling bounds them, converged or not
    assert claims.claim_bidirectional(fill_in(ceiling=0.125, converged=0.0)).verdict == SUPPORTED


def test_runs_without_the_converged_metric_count_as_not_converged_and_say_so():
    claim = claims.claim_gates_mitigate(runs_frame(TRUTH, converged=None))
    assert claim.verdict == INCONCLUSIVE and all(p.reason == UNDERTRAINED for p in claim.parts)
    assert "convergence unknown" in claim.parts[0].detail


def test_a_one_seed_cell_reads_preliminary():
    for claim in (claims.claim_forgetting(runs_frame(TRUTH, seeds=1)),
                  claims.claim_gates_mitigate(runs_frame(TRUTH, seeds=1))):
        assert claim.verdict == PRELIMINARY
        assert all(p.verdict == PRELIMINARY for p in claim.parts), claim.parts
        assert "n=1 < 3" in claim.parts[0].detail
    assert claims.claim_forgetting(runs_frame(TRUTH, seeds=2)).verdict == PRELIMINARY


def test_an_lr_grid_of_one_reads_preliminary():
    claim = claims.claim_forgetting(runs_frame(TRUTH, lr_grid=1))
    assert claim.verdict == PRELIMINARY
    assert all(p.verdict == PRELIMINARY for p in claim.parts)
    assert "LR grid of 1 < 3" in claim.parts[0].detail
    assert claims.claim_bidirectional(fill_in(lr_grid=2)).verdict == PRELIMINARY
    no_grid = runs_frame(TRUTH).drop(columns="lr_grid")  # unknown grid: never a verdict
    assert claims.claim_forgetting(no_grid).verdict == PRELIMINARY


def test_holm_is_applied_within_a_claim():
    # three tested comparisons: rnn falls (p = 0, every seed 0.75 apart), the transformer above
    # the bar at d=8 (p ~ 0.03 alone) and at d=32 (p ~ 0.5); Holm doubles the 0.03
    significant_alone = [0.625, 0.685, 0.655]
    table = {("rnn", 8): [0.95] * 3, ("rnn", 32): [0.2] * 3,
             ("transformer", 8): significant_alone, ("transformer", 32): [0.5, 0.9, 0.6]}
    alone = stats.above_threshold(dict(enumerate(significant_alone)), THRESHOLD)
    assert alone.verdict == SUPPORTED and 0.025 < alone.p_value < 0.05
    claim = claims.claim_forgetting(runs_frame(table))
    parts = {p.name: p for p in claim.parts}
    assert parts["rnn falls: d=8 > d=32"].verdict == SUPPORTED
    corrected = parts["transformer holds at d=8"]
    assert corrected.p_value == pytest.approx(alone.p_value)
    assert corrected.p_adjusted == pytest.approx(2 * alone.p_value)
    assert corrected.verdict == INCONCLUSIVE and corrected.reason == NOT_SIGNIFICANT_AFTER_HOLM


# ---------------------------------------------------------------- claim 2
FILL = {("rnn", 32): 0.13, ("lstm", 32): 0.12, ("gru", 32): 0.125, ("transformer_causal", 32): 0.13,
        ("bilstm", 32): 0.97, ("transformer", 32): 0.99}


def fill_in(cells=None, ceiling: float = 0.14, **kwargs) -> pd.DataFrame:
    return runs_frame(cells or FILL, task="fill_in", label="length={d},n_values=8",
                      left_only_ceiling=ceiling, **kwargs)


def test_bidirectional_claim_supported_and_cloze_optional():
    claim = claims.claim_bidirectional(fill_in())
    assert claim.verdict == SUPPORTED and "cloze: not run" in claim.rule
    cheating = fill_in({**FILL, ("transformer_causal", 32): 0.95})
    assert claims.claim_bidirectional(cheating).verdict == REFUTED
    cloze = runs_frame({("lstm", 32): 0.30, ("transformer", 32): 0.45}, task="cloze", label="window={d}",
                       bigram_baseline=0.20)
    both = claims.claim_bidirectional(pd.concat([fill_in(), cloze]))
    assert both.verdict == SUPPORTED and any(p.name.startswith("cloze") for p in both.parts)
    assert claims.claim_bidirectional(runs_frame(TRUTH)).verdict == NOT_RUN


def test_claim_2_compares_left_only_models_with_the_left_only_ceiling():
    # the left context alone reaches 0.70: a causal model at 0.70 is not reading the future
    # (the old 'below halfway' rule would have refuted the claim here)
    high = {**FILL, ("lstm", 32): 0.70, ("rnn", 32): 0.69, ("gru", 32): 0.70, ("transformer_causal", 32): 0.71}
    claim = claims.claim_bidirectional(fill_in(high, ceiling=0.70))
    assert claim.verdict == SUPPORTED, claim.parts
    assert "left-only ceiling" in claim.parts[-1].detail
    # a causal model clearly above the ceiling reads past the blank: refuted, though below halfway
    leak = claims.claim_bidirectional(fill_in({**FILL, ("transformer_causal", 32): 0.40}, ceiling=0.14))
    assert leak.verdict == REFUTED
    assert any("transformer_causal" in p.name and p.verdict == REFUTED for p in leak.parts)
    # a bidirectional model must beat the ceiling too, not only the halfway bar
    assert claims.claim_bidirectional(fill_in({**FILL, ("bilstm", 32): 0.80}, ceiling=0.92)).verdict == REFUTED
    # results without the ceiling (an older fill_in) cannot test the claim
    old = fill_in().drop(columns="left_only_ceiling")
    assert claims.claim_bidirectional(old).verdict == NOT_RUN


def test_cloze_where_nothing_beats_the_bigram_baseline_is_inconclusive():
    cloze = runs_frame({("lstm", 32): 0.19, ("transformer", 32): 0.21}, task="cloze", label="window={d}",
                       bigram_baseline=0.20)
    part = next(p for p in claims.claim_bidirectional(cloze).parts if p.name == "cloze")
    assert part.verdict == INCONCLUSIVE and part.reason == NOTHING_LEARNED


# ---------------------------------------------------------------- speed claims 3 and 5
def speed_frame(rates: dict, width_rule: str | None = None, threads: int = 2) -> pd.DataFrame:
    """rates {(device, model, length): tokens/s} -> tidy speed rows."""
    rows = pd.DataFrame([{"model": m, "implementation": f"torch nn.{m.upper()}", "device": d,
                          "device_name": "Xeon" if d == "cpu" else "H100", "threads": threads,
                          "length": t, "metric": "train_tokens_per_s", "value": v, "dtype": "bf16",
                          "batch": 32, "budget_params": 10**6, "width": 256, "status": "ok"}
                         for (d, m, t), v in rates.items()])
    if width_rule:
        rows["width_rule"] = width_rule
    return rows


GPU = {("cuda", "lstm", 64): 2.6e5, ("cuda", "lstm", 4096): 5.0e5,
       ("cuda", "gru", 64): 2.8e5, ("cuda", "gru", 4096): 4.5e5,
       ("cuda", "transformer", 64): 2.9e5, ("cuda", "transformer", 4096): 6.2e6}
CPU = {("cpu", "lstm", 64): 1e5, ("cpu", "lstm", 512): 1e5, ("cpu", "gru", 64): 4e4,
       ("cpu", "gru", 512): 4e4, ("cpu", "transformer", 64): 2e5, ("cpu", "transformer", 512): 5e4}


def test_speed_claims_per_device_state_the_device_and_implementation():
    speed = speed_frame(GPU)
    assert claims.claim_parallel_speedup(speed).verdict == SUPPORTED
    assert claims.claim_gru_faster(speed).verdict == INCONCLUSIVE  # 1.08 then 0.9: geometric mean 0.985
    three = claims.claim_parallel_speedup(speed_frame({**GPU, **CPU}))
    assert three.verdict == INCONCLUSIVE  # cuda supported, cpu refuted: devices disagree
    assert {p.name.split()[0]: p.verdict for p in three.parts} == {"cuda": SUPPORTED, "cpu": REFUTED}
    five = claims.claim_gru_faster(speed_frame(CPU))
    assert five.verdict == REFUTED
    detail = five.parts[0].detail
    assert "this CPU (Xeon, 2 threads" in detail and "torch nn.GRU vs torch nn.LSTM" in detail
    assert "the GRU is 0.40x the LSTM" in detail and "refuted on this device" in detail


def test_claim_5_shows_equal_params_and_equal_width():
    both = pd.concat([speed_frame(CPU, "params"), speed_frame(CPU, "width")])
    claim = claims.claim_gru_faster(both)
    assert claim.verdict == REFUTED
    texts = [p.detail for p in claim.parts]
    assert any("equal core parameters" in t for t in texts) and any("equal width" in t for t in texts)
    only_params = claims.claim_gru_faster(speed_frame(CPU, "params"))
    assert any(p.verdict == NOT_RUN and "equal width" in p.name for p in only_params.parts)
    # settings never mix: a different thread count is another setting
    mixed = claims.claim_gru_faster(pd.concat([speed_frame(CPU, threads=2), speed_frame(CPU, threads=1)]))
    assert len([p for p in mixed.parts if p.verdict != NOT_RUN]) == 2


def test_claims_3_and_5_without_speed_rows_are_not_run_never_from_run_throughput():
    runs = runs_frame({("lstm", 16): 0.9, ("lstm", 256): 0.9, ("transformer", 16): 0.9, ("transformer", 256): 0.9,
                       ("gru", 16): 0.9, ("gru", 256): 0.9})
    runs["train_tokens_per_s"] = [1e4] * 6 + [1e4] * 3 + [1e5] * 3 + [5e4] * 6
    verdicts = {c.number: c.verdict for c in claims.evaluate_claims(runs, speed=pd.DataFrame())}
    assert verdicts[3] == NOT_RUN and verdicts[5] == NOT_RUN
    assert claims.claim_parallel_speedup(None).verdict == NOT_RUN


# ---------------------------------------------------------------- claim 4
def test_params_at_equal_width_is_labelled_arithmetic():
    claim = claims.claim_params_at_width(structural_params(widths=(32, 64)))
    assert claim.verdict == SUPPORTED and "not a measurement" in claim.statement
    fake = pd.DataFrame([{"model": "lstm", "width": 64, "params_core": 200},
                         {"model": "transformer", "width": 64, "params_core": 100}])
    assert claims.claim_params_at_width(fake).verdict == REFUTED
    assert claims.claim_params_at_width(pd.DataFrame()).verdict == NOT_RUN


# ---------------------------------------------------------------- gradflow claims 6 and 7
def position_rows(decay: dict, phase: str = "init") -> list[dict]:
    """decay {model: per-step factor} -> grad_norm = factor ** distance."""
    return [{"kind": "position", "model": m, "phase": phase, "quantity": "hidden", "distance": d,
             "grad_norm": f ** d, "val_accuracy": 0.9} for m, f in decay.items() for d in range(0, 31)]


def test_vanishing_gradient_claim_at_init_and_after_training():
    rows = pd.DataFrame(position_rows({"rnn": 0.5, "lstm": 0.9, "gru": 0.8}) +
                        position_rows({"rnn": 0.5, "lstm": 0.9}, phase="trained"))
    claim = claims.claim_vanishing(rows)
    assert claim.verdict == SUPPORTED and [p.name for p in claim.parts] == ["init", "trained"]
    assert "after training" in claim.parts[1].detail and "validation accuracy" in claim.parts[1].detail
    flipped = pd.DataFrame(position_rows({"rnn": 0.9, "lstm": 0.5, "gru": 0.5}))
    assert claims.claim_vanishing(flipped).verdict == REFUTED
    phases = pd.DataFrame(position_rows({"rnn": 0.5, "lstm": 0.9}) +
                          position_rows({"rnn": 0.9, "lstm": 0.5}, phase="trained"))
    assert claims.claim_vanishing(phases).verdict == INCONCLUSIVE  # phases disagree
    assert claims.claim_vanishing(pd.DataFrame()).verdict == NOT_RUN


def clip_rows(optimizer: str, free: list, clipped: list) -> list[dict]:
    rows = []
    for clip, updates in ((None, free), (1.0, clipped)):
        rows += [{"kind": "clip", "model": "rnn", "optimizer": optimizer, "step": i + 1,
                  "clip_norm": clip, "grad_norm": 10 * u, "update_max": u, "loss": 1.0}
                 for i, u in enumerate(updates)]
    return rows


def test_clipping_claim_under_both_optimizers():
    calm = [0.01] * 20
    exploding = [0.01] * 19 + [50.0]
    diverging = [0.01] * 10 + [float("nan")]
    assert claims.claim_clipping(pd.DataFrame(clip_rows("sgd", exploding, calm))).verdict == SUPPORTED
    assert claims.claim_clipping(pd.DataFrame(clip_rows("sgd", diverging, calm))).verdict == SUPPORTED
    assert claims.claim_clipping(pd.DataFrame(clip_rows("sgd", exploding, exploding))).verdict == REFUTED
    nothing = claims.claim_clipping(pd.DataFrame(clip_rows("adamw", calm, calm)))
    assert nothing.verdict == INCONCLUSIVE
    assert "under adamw nothing exploded with or without clipping" in nothing.parts[0].detail
    mixed = claims.claim_clipping(pd.DataFrame(clip_rows("sgd", exploding, calm) + clip_rows("adamw", calm, calm)))
    assert mixed.verdict == SUPPORTED  # adamw tested nothing
    assert [p.name for p in mixed.parts] == ["adamw", "sgd"]  # both optimizers shown
    assert set(mixed.evidence["optimizer"]) == {"adamw", "sgd"}
    assert claims.claim_clipping(pd.DataFrame()).verdict == NOT_RUN
