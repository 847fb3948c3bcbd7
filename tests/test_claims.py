"""Verdict logic on synthetic tables whose truth is known (bench/analysis/claims*.py).

Each rule of issue 11 has a test that fails if the rule breaks: an undertrained run cannot
yield `supported`; one seed reads `preliminary`; an LR grid of one reads `preliminary`; Holm
is applied within a claim; claims 3 and 5 never fall back to run throughput; claim 2 compares
left-to-right models with the computed left-only ceiling.
"""
import pandas as pd

from bench.analysis import claims
from bench.analysis.claims_accuracy import NOTHING_LEARNED
from bench.analysis.claims_recall import HELD
from bench.analysis.rates import UNREACHABLE
from bench.analysis.stats import (
    INCONCLUSIVE,
    NOT_RUN,
    PRELIMINARY,
    REFUTED,
    SUPPORTED,
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


# ---------------------------------------------------------------- recall claims 1, 8, 9 (solve rates)
def solve_frame(cells: dict, seeds: int = 6, lr_grid: int = 3) -> pd.DataFrame:
    """cells {(model, distance[, init]): seeds solved} -> one row per seed: solved seeds at
    accuracy 1.0, the others at chance (0.13), on validation and test alike."""
    rows = []
    for key, solved in cells.items():
        model, distance, init = key if len(key) == 3 else (*key, "standard")
        for seed in range(seeds):
            value = 1.0 if seed < solved else 0.13
            rows.append({"task": "recall", "variant": RECALL.format(d=distance), "model": model, "init": init,
                         "seed": seed, "status": "ok", "test_accuracy": value, "val_accuracy": value,
                         "trivial_baseline": 0.125, "lr": 1e-3, "budget_params": 1000, "lr_grid": lr_grid,
                         "converged": 1.0, "steps_done": 2000, "step_cap": 2000})
    return pd.DataFrame(rows)


SOLVES = {("rnn", 8): 6, ("rnn", 32): 0, ("rnn", 128): 0,
          ("lstm", 8): 6, ("lstm", 32): 6, ("lstm", 128): 0,
          ("gru", 8): 6, ("gru", 32): 6, ("gru", 128): 0,
          ("transformer_causal", 8): 6, ("transformer_causal", 32): 6, ("transformer_causal", 128): 6}


def test_forgetting_supported_on_the_textbook_table_by_exact_tests_on_solve_rates():
    claim = claims.claim_forgetting(solve_frame(SOLVES))
    assert claim.verdict == SUPPORTED, claim.parts
    parts = {p.name: p for p in claim.parts}
    assert "Barnard" in parts["rnn falls: d=8 > d=128"].detail
    assert "lstm holds longer than rnn (at d=32, where the rnn falls on validation)" in parts
    assert "exact binomial" in parts["transformer_causal holds at d=128"].detail
    assert all(p.p_adjusted >= p.p_value for p in claim.parts)  # Holm-corrected
    reach = claim.evidence.drop_duplicates("model").set_index("model")["remembers to"]
    assert reach["rnn"] == 8 and reach["lstm"] == 32 and reach["transformer_causal"] == 128
    # the bidirectional transformer is shown beside, but the causal one decides
    failing = {**SOLVES, ("transformer", 8): 0, ("transformer", 32): 0, ("transformer", 128): 0}
    assert claims.claim_forgetting(solve_frame(failing)).verdict == SUPPORTED


def test_forgetting_refuted_when_attention_fails_at_length_and_undecidable_at_three_seeds():
    claim = claims.claim_forgetting(solve_frame({**SOLVES, ("transformer_causal", 128): 0}))
    assert claim.verdict == REFUTED
    small = claims.claim_forgetting(solve_frame(SOLVES, seeds=3))
    assert small.verdict == INCONCLUSIVE
    assert all(p.reason == UNREACHABLE for p in small.parts), small.parts  # 3/3 vs 0/3 cannot pass 4 tests
    assert "cannot pass the Holm-corrected level" in small.parts[0].detail


def test_no_p_value_is_set_by_hand_and_few_seeds_read_preliminary():
    one = claims.claim_forgetting(solve_frame(SOLVES, seeds=1))
    assert one.verdict == PRELIMINARY and all(p.verdict == PRELIMINARY for p in one.parts)
    assert "n=1 < 3" in one.parts[0].detail
    assert claims.claim_forgetting(solve_frame(SOLVES, lr_grid=1)).verdict == PRELIMINARY
    for part in claims.claim_forgetting(solve_frame(SOLVES)).parts:  # every p computed by a test
        assert 0 < part.p_value <= 1


def test_missing_runs_show_not_run():
    empty = solve_frame({}).reindex(columns=["task", "variant", "model", "seed", "status", "test_accuracy"])
    assert claims.claim_forgetting(empty).verdict == NOT_RUN
    assert claims.claim_gates_mitigate(empty).verdict == NOT_RUN
    one_distance = solve_frame({k: v for k, v in SOLVES.items() if k[1] == 8})
    part = claims.claim_forgetting(one_distance).parts[0]
    assert part.verdict == NOT_RUN and part.detail == "needs at least 2 distances, has 8"  # no numpy reprs
    verdicts = [c.verdict for c in claims.evaluate_claims(pd.DataFrame())]
    assert verdicts == [NOT_RUN] * 9


def test_a_missing_model_makes_its_parts_not_run_and_the_claim_inconclusive():
    claim = claims.claim_forgetting(solve_frame({k: v for k, v in SOLVES.items() if k[0] != "rnn"}))
    assert claim.verdict == INCONCLUSIVE  # the transformer part ran; the rnn parts did not
    assert [p.verdict for p in claim.parts[:3]] == [NOT_RUN] * 3


def test_gates_mitigate_supported_when_they_fall_and_never_refuted_when_they_hold():
    assert claims.claim_gates_mitigate(solve_frame(SOLVES)).verdict == SUPPORTED
    held = claims.claim_gates_mitigate(solve_frame({**SOLVES, ("lstm", 128): 6, ("gru", 128): 6}))
    assert held.verdict == INCONCLUSIVE  # a finite sweep cannot refute "at a long enough distance"
    assert all(p.reason == HELD for p in held.parts), held.parts
    assert "held to d=128, the longest tested distance" in held.parts[0].detail


def test_init_decides_how_far_supported_when_chrono_and_standard_differ_for_both_gated_models():
    cells = {**{(m, d, "standard"): k for (m, d), k in SOLVES.items() if m in ("lstm", "gru")},
             **{(m, d, "chrono"): 6 for m in ("lstm", "gru") for d in (8, 32, 128)},
             **{("rnn", d, "standard"): k for d, k in ((8, 6), (32, 0), (128, 0))}}
    claim = claims.claim_init_decides(solve_frame(cells))
    assert claim.verdict == SUPPORTED, claim.parts
    lstm = next(p for p in claim.parts if p.name.startswith("lstm"))
    assert "at d=128" in lstm.name  # where the inits differ most on validation
    assert "standard init remembers to d=32" in lstm.detail and "chrono init remembers to d=128 (the longest" \
        in lstm.detail
    same = {k: v for k, v in cells.items() if k[2] == "standard" or k[0] == "rnn"}
    same.update({(m, d, "chrono"): k for (m, d, init), k in cells.items() if init == "standard" and m != "rnn"})
    flat = claims.claim_init_decides(solve_frame(same))
    assert flat.verdict == INCONCLUSIVE and all(p.reason == "the inits do not differ" for p in flat.parts)
    only_standard = claims.claim_init_decides(solve_frame(SOLVES))
    assert only_standard.verdict == NOT_RUN


# ---------------------------------------------------------------- claim 2
FILL = {("rnn", 32): 0.13, ("lstm", 32): 0.12, ("gru", 32): 0.125, ("transformer_causal", 32): 0.13,
        ("bilstm", 32): 0.97, ("transformer", 32): 0.99}


def fill_in(cells=None, ceiling: float = 0.14, seeds: int = 6, **kwargs) -> pd.DataFrame:
    return runs_frame(cells or FILL, task="fill_in", label="length={d},n_values=8", seeds=seeds,
                      left_only_ceiling=ceiling, **kwargs)


def test_bidirectional_claim_supported_and_cloze_optional():
    claim = claims.claim_bidirectional(fill_in())
    assert claim.verdict == SUPPORTED and "cloze: not run" in claim.rule
    cheating = fill_in({**FILL, ("transformer_causal", 32): 0.95})
    assert claims.claim_bidirectional(cheating).verdict == REFUTED
    cloze = runs_frame({("transformer_causal", 32): [0.30, 0.31, 0.29, 0.30, 0.32, 0.28],
                        ("transformer", 32): [0.45, 0.47, 0.44, 0.46, 0.45, 0.44]}, task="cloze",
                       label="window={d}", bigram_baseline=0.20)
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
    # a bidirectional model that does not clear the ceiling does not fill in; with one test fixed
    # in advance (its solve rate against its one-directional counterpart's) that is no evidence either way
    below = claims.claim_bidirectional(fill_in({**FILL, ("bilstm", 32): 0.80}, ceiling=0.92))
    assert next(p for p in below.parts if "bilstm fills in" in p.name).verdict == INCONCLUSIVE
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


def test_claims_count_held_out_seeds_only_and_a_plateau_stop_below_the_bar_is_undertrained():
    # seeds 0 and 1 chose the lr (tuning) and solved; the four held-out seeds did not
    frame = solve_frame({**SOLVES, ("transformer_causal", 128): 2})
    frame["tuning"] = frame["seed"] < 2
    part = next(p for p in claims.claim_forgetting(frame).parts if p.name.startswith("transformer_causal holds"))
    assert "0/4 solved" in part.detail and part.verdict in (REFUTED, INCONCLUSIVE)
    # the LSTM at d=128 learned a little and stopped early on a plateau: its fall is not a verdict
    short = solve_frame(SOLVES)
    rows = (short["model"] == "lstm") & short["variant"].str.contains("distance=128,")
    short.loc[rows, ["test_accuracy", "val_accuracy", "steps_done"]] = [0.40, 0.40, 900]
    falls = next(p for p in claims.claim_gates_mitigate(short).parts if p.name.startswith("lstm falls"))
    assert falls.verdict == INCONCLUSIVE and falls.reason == "undertrained"
