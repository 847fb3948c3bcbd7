"""Every named suite builds valid run configs, and the evidence suite meets the verdict rules."""
from collections import defaultdict

import pytest

from bench.execute.suites import SUITES, core_models
from bench.models import MODELS


@pytest.mark.parametrize("name", SUITES.names())
def test_every_suite_builds_valid_configs(name):
    runs = SUITES[name].runs()  # RunConfig validates every field (min_steps <= steps, ...)
    assert runs and all(run.model in MODELS for run in runs)


def test_standard_gives_every_cell_three_seeds_and_three_learning_rates():
    cells = defaultdict(lambda: (set(), set()))
    for run in SUITES["standard"].runs():
        seeds, lrs = cells[(run.task, tuple(sorted(run.variant.items())), run.model)]
        seeds.add(run.seed)
        lrs.add(run.lr)
    assert all(len(seeds) >= 3 and len(lrs) >= 3 for seeds, lrs in cells.values())
    assert {run.device for run in SUITES["standard"].runs()} == {"cpu"}
    # recall as a memory sweep (claims 1, 8) and as associative recall (several pairs)
    pairs = {run.variant["n_pairs"] for run in SUITES["standard"].runs() if run.task == "recall"}
    assert pairs == {1, 2}


def test_model_lists_come_from_the_registry():
    assert core_models() == [m for m in MODELS if MODELS[m].core]
    assert {run.model for run in SUITES["quick"].runs()} == set(core_models())
