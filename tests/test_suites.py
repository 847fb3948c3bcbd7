"""Every named suite builds valid run configs, and the evidence suite meets the verdict rules."""
from collections import defaultdict

import pandas as pd
import pytest

from bench.analysis.variants import variant_label
from bench.execute.suites import SEEDS, SUITES, TUNE_SEED, confirmation_runs, core_models
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


def test_standard_gives_every_cell_three_learning_rates_and_the_decisive_cells_three_seeds_each():
    runs = SUITES["standard"].runs()
    cells = cells_of(runs)
    assert all(len(lrs) >= 3 for _, lrs in cells.values())
    full = {key for key, (seeds, _) in cells.items() if len(seeds) >= 3}
    tuned = {key for key, (seeds, _) in cells.items() if seeds == {TUNE_SEED}}
    assert full | tuned == set(cells)  # every cell is one or the other
    assert {key[0] for key in full} == {"recall", "fill_in"}  # claims 1, 2, 8: the full grid
    assert {key[0] for key in tuned} == {"imdb", "mqar", "copy", "adding", "cloze"}
    assert set(SUITES["standard"].confirm_seeds) == set(SEEDS) and len(SEEDS) >= 3
    assert {run.device for run in runs} == {"cpu"}
    assert {run.variant["n_pairs"] for run in runs if run.task == "recall"} == {1}  # a memory sweep


def tidy_rows(results: list[tuple[RunConfig, float]]) -> pd.DataFrame:
    """The store's tidy rows for finished runs with these validation accuracies."""
    rows = []
    for config, val in results:
        ids = {"task": config.task, "task_version": TASKS[config.task].version, "variant":
               variant_label(config.variant), "model": config.model, "seed": config.seed, "lr": config.lr,
               "budget_params": config.budget_params, "status": "ok",
               "run_id": config.run_id(TASKS[config.task].version)}
        rows += [{**ids, "metric": "val_accuracy", "value": val}, {**ids, "metric": "test_accuracy", "value": val}]
    return pd.DataFrame(rows)


def test_stage_two_confirms_each_tuned_cell_at_the_lr_chosen_on_validation_and_waits_for_unfinished_ones():
    base = {"task": "adding", "variant": {"length": 20}, "budget_params": 20_000, "steps": 10,
            "eval_every": 5, "min_steps": 5}
    tuned_lstm = [RunConfig(model="lstm", seed=0, lr=lr, **base) for lr in (1e-3, 3e-3, 1e-2)]
    tuned_gru = [RunConfig(model="gru", seed=0, lr=lr, **base) for lr in (1e-3, 3e-3, 1e-2)]
    full_rnn = [RunConfig(model="rnn", seed=s, lr=lr, **base) for lr in (1e-3, 3e-3) for s in (0, 1, 2)]
    finished = list(zip(tuned_lstm, (0.5, 0.9, 0.7), strict=True))  # lstm: 3e-3 is best on validation
    finished += [(tuned_gru[0], 0.8), (tuned_gru[1], 0.6)]  # gru: one lr still running
    finished += [(config, 0.5) for config in full_rnn]
    second = confirmation_runs(tuned_lstm + tuned_gru + full_rnn, tidy_rows(finished), SEEDS)
    assert [(c.model, c.lr, c.seed) for c in second] == [("lstm", 3e-3, 1), ("lstm", 3e-3, 2)]
    assert all(c.replace(seed=0) == tuned_lstm[1] for c in second)  # everything else as tuned
    # once the gru's last lr finishes, its cell is confirmed too (its best: 1e-3)
    finished.append((tuned_gru[2], 0.1))
    second = confirmation_runs(tuned_lstm + tuned_gru + full_rnn, tidy_rows(finished), SEEDS)
    assert {(c.model, c.lr) for c in second} == {("lstm", 3e-3), ("gru", 1e-3)} and len(second) == 4


def test_model_lists_come_from_the_registry():
    assert core_models() == [m for m in MODELS if MODELS[m].core]
    assert {run.model for run in SUITES["quick"].runs()} == set(core_models())


def test_bench_run_on_a_two_stage_suite_runs_the_confirmation_seeds_by_itself(tmp_path, tiny_config, monkeypatch,
                                                                              capsys):
    from bench import cli
    from bench.execute.store import load_table
    from bench.execute.suites import Suite

    tuning = [tiny_config("lstm", lr=lr, seed=0) for lr in (1e-3, 3e-3, 1e-2)]
    monkeypatch.setitem(SUITES._Registry__items, "tiny_two_stage",
                        Suite("tiny_two_stage", "test", lambda: list(tuning), confirm_seeds=(0, 1, 2)))
    out = tmp_path / "runs"
    assert cli.main(["run", "--suite", "tiny_two_stage", "--out", str(out), "--no-progress"]) == 0
    assert "stage two: 2 runs" in capsys.readouterr().out
    table = load_table(out)
    seeds_per_lr = table.drop_duplicates("run_id").groupby("lr")["seed"].apply(sorted)
    assert sorted(map(len, seeds_per_lr)) == [1, 1, 3]  # the chosen lr has all three seeds
    # resuming trains nothing again, and --seeds replaces the suite's own seeds (no stage two)
    assert cli.main(["run", "--suite", "tiny_two_stage", "--out", str(out), "--no-progress"]) == 0
    resumed = capsys.readouterr().out
    assert "3 runs: 3 already done" in resumed and "2 runs: 2 already done" in resumed  # both stages
    assert cli.main(["run", "--suite", "tiny_two_stage", "--out", str(tmp_path / "one"), "--seeds", "0",
                     "--no-progress"]) == 0
    assert "stage two" not in capsys.readouterr().out
