"""Verdict logic on synthetic tables whose truth is known (bench/claims.py)."""
import math

import pandas as pd
import pytest

from bench.analysis import claims
from bench.analysis.claims import (
    INCONCLUSIVE,
    NOT_RUN,
    REFUTED,
    SUPPORTED,
    above,
    agree,
    all_of,
    greater,
    mean_ci,
    t_quantile,
)
from bench.probes.structure import structural_params

RECALL = "distance={d},n_pairs=1,n_values=8"


def runs_frame(cells: dict, task: str = "recall", label: str = RECALL, spread: float = 0.01,
               seeds: int = 3) -> pd.DataFrame:
    """cells {(model, knob): mean accuracy} -> one row per (model, knob, seed); the seeds sit at
    mean - spread, mean, mean + spread (so the truth is known exactly)."""
    rows = []
    for (model, knob), mean in cells.items():
        for seed in range(seeds):
            offset = (seed - (seeds - 1) / 2) * spread
            rows.append({"task": task, "variant": label.format(d=knob), "model": model, "seed": seed,
                         "status": "ok", "test_accuracy": mean + offset, "trivial_baseline": 0.125,
                         "device": "cpu", "length": knob, "lr": 1e-3, "budget_params": 1000})
    return pd.DataFrame(rows)


TRUTH = {("rnn", 8): 0.95, ("rnn", 32): 0.30, ("rnn", 128): 0.13,
         ("lstm", 8): 0.99, ("lstm", 32): 0.97, ("lstm", 128): 0.35,
         ("gru", 8): 0.99, ("gru", 32): 0.96, ("gru", 128): 0.30,
         ("transformer", 8): 1.0, ("transformer", 32): 0.99, ("transformer", 128): 0.98}


# ---------------------------------------------------------------- statistics
def test_t_quantiles_match_tables():
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-4)
    assert t_quantile(0.975, 2) == pytest.approx(4.302653, abs=1e-5)
    assert t_quantile(0.975, 10) == pytest.approx(2.228139, abs=1e-5)
    assert t_quantile(0.975, 30) == pytest.approx(2.042272, abs=1e-5)
    assert t_quantile(0.5, 5) == pytest.approx(0.0, abs=1e-8)


def test_confidence_interval_of_one_two_three():
    stat = mean_ci([1, 2, 3])
    assert stat.mean == 2 and stat.n == 3
    assert stat.half == pytest.approx(4.302653 / math.sqrt(3), abs=1e-5)  # 2.484
    assert stat.half == pytest.approx(2.484, abs=1e-3)
    assert (stat.lo, stat.hi) == pytest.approx((2 - 2.4842, 2 + 2.4842), abs=1e-3)


def test_one_seed_has_no_interval_and_says_so():
    stat = mean_ci([0.7])
    assert stat.n == 1 and math.isnan(stat.half) and "no CI" in stat.text()
    assert mean_ci([]).n == 0 and mean_ci([float("nan"), 0.5]).n == 1


def test_greater_uses_intervals_then_the_margin_rule():
    assert greater([0.9, 0.91, 0.92], [0.1, 0.11, 0.12]).verdict == SUPPORTED
    assert greater([0.1, 0.11, 0.12], [0.9, 0.91, 0.92]).verdict == REFUTED
    overlap = greater([0.5, 0.6, 0.7], [0.55, 0.65, 0.75])
    assert overlap.verdict == INCONCLUSIVE and "overlap" in overlap.detail
    one = greater([0.9], [0.5])
    assert one.verdict == SUPPORTED and "margin rule" in one.detail
    assert greater([0.55], [0.5]).verdict == INCONCLUSIVE
    assert greater([0.3], [0.5]).verdict == REFUTED
    assert greater([], [0.5]).verdict == NOT_RUN


def test_threshold_and_combinators():
    assert above([0.9, 0.92], 0.5).verdict == SUPPORTED
    assert above([0.1, 0.12], 0.5).verdict == REFUTED
    assert above([0.3, 0.7], 0.5).verdict == INCONCLUSIVE
    parts = lambda *vs: [claims.Part("p", v, "") for v in vs]  # noqa: E731
    assert all_of(parts(SUPPORTED, SUPPORTED)) == SUPPORTED
    assert all_of(parts(SUPPORTED, INCONCLUSIVE)) == INCONCLUSIVE
    assert all_of(parts(SUPPORTED, REFUTED, INCONCLUSIVE)) == REFUTED
    assert all_of(parts(NOT_RUN, NOT_RUN)) == NOT_RUN and all_of([]) == NOT_RUN
    assert agree(parts(SUPPORTED, NOT_RUN)) == SUPPORTED
    assert agree(parts(SUPPORTED, REFUTED)) == INCONCLUSIVE


# ---------------------------------------------------------------- recall claims 1 and 8
def test_forgetting_supported_on_the_textbook_table():
    claim = claims.claim_forgetting(runs_frame(TRUTH))
    assert claim.verdict == SUPPORTED, claim.parts
    assert set(claim.evidence["model"]) == {"rnn", "lstm", "gru", "transformer"}
    held = claim.evidence.drop_duplicates("model").set_index("model")["holds_to"]
    assert held["rnn"] == 8 and held["lstm"] == 32 and held["transformer"] == 128


def test_forgetting_refuted_when_the_transformer_fails_at_length():
    table = {**TRUTH, ("transformer", 128): 0.2}
    claim = claims.claim_forgetting(runs_frame(table))
    assert claim.verdict == REFUTED
    assert any("transformer" in p.name and p.verdict == REFUTED for p in claim.parts)


def test_forgetting_inconclusive_when_intervals_overlap():
    noisy = runs_frame(TRUTH, spread=0.5)  # seeds 0.5 apart: every interval is wide
    assert claims.claim_forgetting(noisy).verdict == INCONCLUSIVE


def test_missing_runs_show_not_run():
    empty = runs_frame({}).reindex(columns=["task", "variant", "model", "seed", "status", "test_accuracy"])
    assert claims.claim_forgetting(empty).verdict == NOT_RUN
    assert claims.claim_gates_mitigate(empty).verdict == NOT_RUN
    one_distance = runs_frame({k: v for k, v in TRUTH.items() if k[1] == 8})
    assert claims.claim_forgetting(one_distance).verdict == NOT_RUN
    verdicts = [c.verdict for c in claims.evaluate_claims(pd.DataFrame())]
    assert verdicts == [NOT_RUN] * 8


def test_gates_mitigate_supported_then_inconclusive_when_gates_hold():
    assert claims.claim_gates_mitigate(runs_frame(TRUTH)).verdict == SUPPORTED
    held = {**TRUTH, ("lstm", 128): 0.97, ("gru", 128): 0.96}
    claim = claims.claim_gates_mitigate(runs_frame(held))
    assert claim.verdict == INCONCLUSIVE  # never refuted by a finite sweep
    assert "longest tested distance" in claim.parts[0].detail


def test_one_seed_falls_back_to_the_stated_margin_rule():
    claim = claims.claim_forgetting(runs_frame(TRUTH, seeds=1))
    assert claim.verdict == SUPPORTED
    assert "margin rule" in claim.parts[0].detail


# ---------------------------------------------------------------- claim 2
FILL = {("rnn", 32): 0.13, ("lstm", 32): 0.12, ("gru", 32): 0.125, ("transformer_causal", 32): 0.13,
        ("bilstm", 32): 0.97, ("transformer", 32): 0.99}


def test_bidirectional_claim():
    frame = runs_frame(FILL, task="fill_in", label="length={d},n_values=8")
    claim = claims.claim_bidirectional(frame)
    assert claim.verdict == SUPPORTED and "cloze: not run" in claim.rule
    cheating = runs_frame({**FILL, ("transformer_causal", 32): 0.95}, task="fill_in",
                          label="length={d},n_values=8")
    assert claims.claim_bidirectional(cheating).verdict == REFUTED
    cloze = runs_frame({("lstm", 32): 0.20, ("transformer", 32): 0.35}, task="cloze", label="window={d}")
    both = claims.claim_bidirectional(pd.concat([frame, cloze]))
    assert both.verdict == SUPPORTED and any(p.name.startswith("cloze") for p in both.parts)
    assert claims.claim_bidirectional(runs_frame(TRUTH)).verdict == NOT_RUN


# ---------------------------------------------------------------- speed claims 3 and 5
def speed_frame(rates: dict) -> pd.DataFrame:
    """rates {(device, model, length): tokens/s} -> tidy speed rows."""
    return pd.DataFrame([{"model": m, "implementation": "torch", "device": d, "length": t,
                          "metric": "train_tokens_per_s", "value": v, "dtype": "bf16", "batch": 32,
                          "budget_params": 10**6, "status": "ok"}
                         for (d, m, t), v in rates.items()])


def test_speed_claims_per_device():
    gpu = {("cuda", "lstm", 64): 2.6e5, ("cuda", "lstm", 4096): 5.0e5,
           ("cuda", "gru", 64): 2.8e5, ("cuda", "gru", 4096): 4.5e5,
           ("cuda", "transformer", 64): 2.9e5, ("cuda", "transformer", 4096): 6.2e6}
    speed = speed_frame(gpu)
    assert claims.claim_parallel_speedup(speed, None).verdict == SUPPORTED
    assert claims.claim_gru_faster(speed, None).verdict == INCONCLUSIVE  # 1.08 then 0.9: geometric mean 0.985
    cpu = {("cpu", "lstm", 64): 1e5, ("cpu", "lstm", 512): 1e5, ("cpu", "gru", 64): 6e4,
           ("cpu", "gru", 512): 6e4, ("cpu", "transformer", 64): 2e5, ("cpu", "transformer", 512): 5e4}
    both = speed_frame({**gpu, **cpu})
    three = claims.claim_parallel_speedup(both, None)
    assert three.verdict == INCONCLUSIVE  # cuda supported, cpu refuted: devices disagree
    assert {p.name.split()[0]: p.verdict for p in three.parts} == {"cuda": SUPPORTED, "cpu": REFUTED}
    assert claims.claim_gru_faster(speed_frame(cpu), None).verdict == REFUTED
    assert claims.claim_parallel_speedup(pd.DataFrame(), None).verdict == NOT_RUN


def test_speed_claims_fall_back_to_run_throughput():
    runs = runs_frame({("lstm", 16): 0.9, ("lstm", 256): 0.9, ("transformer", 16): 0.9,
                       ("transformer", 256): 0.9})
    runs["train_tokens_per_s"] = [1e4] * 6 + [1e4] * 3 + [1e5] * 3
    claim = claims.claim_parallel_speedup(pd.DataFrame(), runs)
    assert claim.verdict == SUPPORTED and "runs" in claim.rule


# ---------------------------------------------------------------- claim 4
def test_params_at_equal_width():
    structure = structural_params(widths=(32, 64))
    assert claims.claim_params_at_width(structure).verdict == SUPPORTED
    fake = pd.DataFrame([{"model": "lstm", "width": 64, "params_core": 200},
                         {"model": "transformer", "width": 64, "params_core": 100}])
    assert claims.claim_params_at_width(fake).verdict == REFUTED
    assert claims.claim_params_at_width(pd.DataFrame()).verdict == NOT_RUN


# ---------------------------------------------------------------- gradflow claims 6 and 7
def position_rows(decay: dict, phase: str = "init") -> list[dict]:
    """decay {model: per-step factor} -> grad_norm = factor ** distance."""
    return [{"kind": "position", "model": m, "phase": phase, "quantity": "hidden", "distance": d,
             "grad_norm": f ** d} for m, f in decay.items() for d in range(0, 31)]


def test_vanishing_gradient_claim():
    rows = pd.DataFrame(position_rows({"rnn": 0.5, "lstm": 0.9, "gru": 0.8}))
    assert claims.claim_vanishing(rows).verdict == SUPPORTED
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


def test_clipping_claim():
    calm = [0.01] * 20
    exploding = [0.01] * 19 + [50.0]
    diverging = [0.01] * 10 + [float("nan")]
    assert claims.claim_clipping(pd.DataFrame(clip_rows("sgd", exploding, calm))).verdict == SUPPORTED
    assert claims.claim_clipping(pd.DataFrame(clip_rows("sgd", diverging, calm))).verdict == SUPPORTED
    assert claims.claim_clipping(pd.DataFrame(clip_rows("sgd", exploding, exploding))).verdict == REFUTED
    nothing = claims.claim_clipping(pd.DataFrame(clip_rows("adamw", calm, calm)))
    assert nothing.verdict == INCONCLUSIVE and "nothing exploded" in nothing.parts[0].detail
    mixed = pd.DataFrame(clip_rows("sgd", exploding, calm) + clip_rows("adamw", calm, calm))
    assert claims.claim_clipping(mixed).verdict == SUPPORTED  # adamw tested nothing
    assert claims.claim_clipping(pd.DataFrame()).verdict == NOT_RUN


def test_a_missing_model_makes_its_parts_not_run_and_the_claim_inconclusive():
    no_rnn = runs_frame({k: v for k, v in TRUTH.items() if k[0] != "rnn"})
    claim = claims.claim_forgetting(no_rnn)
    assert claim.verdict == INCONCLUSIVE  # the transformer part ran; the rnn parts did not
    assert [p.verdict for p in claim.parts[:3]] == [NOT_RUN] * 3
