"""Every named suite builds valid run configs, and the evidence suite meets the verdict rules."""
from collections import defaultdict

import pandas as pd
import pytest

from bench.analysis.variants import variant_label
from bench.execute.adaptive import START_LRS, next_runs
from bench.execute.suites import SUITES, TUNE_SEEDS, VERDICT_TASKS, core_models
from bench.models import MODELS
from bench.run.config import RunConfig
from tasks.base import TASKS


@pytest.mark.parametrize("name", SUITES.names())
def test_every_suite_builds_valid_configs(name):
    runs = SUITES[name].runs()  # RunConfig validates every field (min_steps <= steps, ...)
    assert runs and all(run.model in MODELS for run in runs)


def cells_of(runs):
    cells = defaultdict(lambda: (set(), set()))
    for run in runs:
        seeds, lrs = cells[(run.task, tuple(sorted(run.variant.items())), run.model)]
        seeds.add(run.seed)
        lrs.add(run.lr)
    return cells


def test_standard_tunes_every_cell_and_init_on_three_lrs_and_confirms_the_verdict_cells_to_six_seeds():
    suite = SUITES["standard"]
    runs = suite.runs()
    groups = defaultdict(lambda: (set(), set()))
    for run in runs:
        seeds, lrs = groups[(run.task, tuple(sorted(run.variant.items())), run.model, run.init)]
        seeds.add(run.seed)
        lrs.add(run.lr)
    assert all(len(lrs) >= 3 for _, lrs in groups.values())
    verdict = {key for key, (seeds, _) in groups.items() if seeds == set(TUNE_SEEDS)}
    assert {key[0] for key in verdict} == set(VERDICT_TASKS) == {"recall", "fill_in"}
    assert all(len(TUNE_SEEDS) + len(suite.confirm(run)) >= 6 for run in runs if run.task in VERDICT_TASKS)
    # both inits of every gated model, and the RNN's own, in the recall sweep
    recall = {(run.model, run.init) for run in runs if run.task == "recall"}
    assert {("lstm", "chrono"), ("lstm", "standard"), ("gru", "chrono"), ("rnn", "orthogonal"),
            ("transformer_causal", "standard"), ("transformer", "standard")} <= recall
    assert {run.variant["n_pairs"] for run in runs if run.task == "recall"} == {1}  # a memory sweep
    assert {run.device for run in runs} == {"cpu"} and all(run.min_steps == 0 for run in runs if run.task != "imdb")
    assert "Step caps" in suite.design and "Barnard" in suite.design  # the design section, from the constants


def tidy_rows(results: list[tuple[RunConfig, float]]) -> pd.DataFrame:
    """The store's tidy rows for finished runs with these validation accuracies."""
    rows = []
    for config, val in results:
        ids = {"task": config.task, "task_version": TASKS[config.task].version, "variant":
               variant_label(config.variant), "model": config.model, "seed": config.seed, "lr": config.lr,
               "init": config.init, "budget_params": config.budget_params, "status": "ok",
               "run_id": config.run_id(TASKS[config.task].version)}
        rows += [{**ids, "metric": "val_accuracy", "value": val}, {**ids, "metric": "test_accuracy", "value": val},
                 {**ids, "metric": "trivial_baseline", "value": 0.1}]
    return pd.DataFrame(rows)


BASE = {"task": "adding", "variant": {"length": 20}, "budget_params": 20_000, "steps": 10, "eval_every": 5}


def confirm(config):
    return (1, 2)


def test_the_grid_extends_past_an_edge_choice_then_confirms_at_an_interior_one():
    tuned = [RunConfig(model="lstm", seed=0, lr=lr, **BASE) for lr in START_LRS]
    finished = list(zip(tuned, (0.5, 0.7, 0.9), strict=True))  # best at the top edge, 1e-2
    nxt = next_runs(tuned, tidy_rows(finished), confirm)
    assert [(c.lr, c.seed) for c in nxt] == [(3e-2, 0)]  # one step past the edge, on the tuning seed
    assert next_runs(tuned, tidy_rows(finished[:2]), confirm) == []  # a group still tuning adds nothing
    finished.append((nxt[0], 0.8))  # 3e-2 is worse: 1e-2 is now interior
    nxt = next_runs(tuned, tidy_rows(finished), confirm)
    assert [(c.lr, c.seed) for c in nxt] == [(1e-2, 1), (1e-2, 2)]
    assert all(c.replace(seed=0) == tuned[2] for c in nxt)  # everything else as tuned


def test_the_grid_stops_at_its_limit_and_extends_upward_where_nothing_was_learned():
    tuned = [RunConfig(model="gru", seed=0, lr=lr, **BASE) for lr in START_LRS]
    finished = list(zip(tuned, (0.9, 0.5, 0.3), strict=True))
    for lr in (3e-4, 1e-4):  # the best keeps sitting at the lower edge
        nxt = next_runs(tuned, tidy_rows(finished), confirm)
        assert [c.lr for c in nxt] == [lr]
        finished.append((nxt[0], 0.95))
    limit = next_runs(tuned, tidy_rows(finished), confirm)
    assert [(c.lr, c.seed) for c in limit] == [(1e-4, 1), (1e-4, 2)]  # at LR_LIMITS: confirmed there
    flat = list(zip(tuned, (0.11, 0.12, 0.13), strict=True))  # every lr at chance (baseline 0.1)
    for lr in (3e-2, 1e-1):  # nothing learned: extend upward to the limit, one step at a time
        nxt = next_runs(tuned, tidy_rows(flat), confirm)
        assert [(c.lr, c.seed) for c in nxt] == [(lr, 0)]
        flat.append((nxt[0], 0.12))
    # still at chance everywhere: every lr ties, the middle one (1e-2 of 1e-3..1e-1) is confirmed
    assert [(c.lr, c.seed) for c in next_runs(tuned, tidy_rows(flat), confirm)] == [(1e-2, 1), (1e-2, 2)]


def test_each_init_is_its_own_tuning_group():
    tuned = [RunConfig(model="lstm", seed=0, lr=lr, init=init, **BASE) for init in ("standard", "chrono")
             for lr in START_LRS]
    finished = list(zip(tuned, (0.5, 0.9, 0.7, 0.9, 0.95, 0.5), strict=True))
    nxt = next_runs(tuned, tidy_rows(finished), confirm)
    assert {(c.init, c.lr) for c in nxt} == {("standard", 3e-3), ("chrono", 3e-3)} and len(nxt) == 4


def test_model_lists_come_from_the_registry():
    assert core_models() == [m for m in MODELS if MODELS[m].core]
    assert {run.model for run in SUITES["quick"].runs()} == set(core_models())


def test_bench_run_on_a_two_stage_suite_runs_the_confirmation_seeds_by_itself(tmp_path, tiny_config, capsys):
    from bench import cli
    from bench.execute.store import load_table
    from bench.execute.suites import Suite

    tuning = [tiny_config("lstm", lr=lr, seed=0) for lr in (1e-3, 3e-3, 1e-2)]
    with SUITES.scoped():  # registered through the public path, unregistered at the end
        SUITES.add("tiny_two_stage", Suite("tiny_two_stage", "test", lambda: list(tuning), lambda c: (0, 1, 2)))
        out = tmp_path / "runs"
        assert cli.main(["run", "--suite", "tiny_two_stage", "--out", str(out), "--no-progress"]) == 0
        assert "next stage: 2 runs" in capsys.readouterr().out
        table = load_table(out)
        seeds_per_lr = table.drop_duplicates("run_id").groupby("lr")["seed"].apply(sorted)
        lengths = sorted(map(len, seeds_per_lr))  # (the grid may have extended itself past an edge)
        assert lengths[-1] == 3 and set(lengths[:-1]) == {1} and len(lengths) >= 3  # the chosen lr: all three
        # resuming trains nothing again, and --seeds replaces the suite's own seeds (no stage two)
        assert cli.main(["run", "--suite", "tiny_two_stage", "--out", str(out), "--no-progress"]) == 0
        resumed = capsys.readouterr().out
        assert "3 runs: 3 already done" in resumed and "2 runs: 2 already done" in resumed  # every stage
        assert all(" 0 ok" in line for line in resumed.splitlines() if "already done" in line)
        assert cli.main(["run", "--suite", "tiny_two_stage", "--out", str(tmp_path / "one"), "--seeds", "0",
                         "--no-progress"]) == 0
        assert "next stage" not in capsys.readouterr().out
    assert "tiny_two_stage" not in SUITES


def test_quick_follows_the_standard_protocol_at_a_small_scale():
    runs = SUITES["quick"].runs()
    recall = {(run.model, run.init) for run in runs if run.task == "recall"}
    assert {("lstm", "chrono"), ("gru", "chrono"), ("rnn", "orthogonal"), ("lstm", "standard")} <= recall
    assert all(run.min_steps == 0 for run in runs)  # no stop at chance: the loop's rule, not min_steps
    assert {run.variant["n_pairs"] for run in runs if run.task == "recall"} == {1}
    assert all(run.variant["slack"] > 0 for run in runs if run.task == "recall")  # the fact at a random position
    assert {run.seed for run in runs} == {0} and len({run.lr for run in runs}) == 1  # preliminary by the rules
