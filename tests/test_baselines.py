"""Every trivial baseline against a brute-force computation on the task's own data."""
import random

import torch

import tasks  # noqa: F401  (registers tasks)
from tasks.base import TASKS, Split, constant_guess_share, next_token_baseline


def build(task: str, **variant):
    spec = TASKS[task]
    return spec.build(spec.variant(variant), 0)


def test_mqar_baseline_is_a_guess_among_the_context_values():
    data = build("mqar", n_train=300, n_val=10, n_test=400, seq_len=32, n_kv=4, vocab=64)
    rng = random.Random(0)
    half, test, right, total = 32, data.test, 0, 0
    for i in range(len(test)):  # simulate: answer each query with a random value from the context
        context_values = [int(t) for t in test.inputs[i, : 2 * 4] if int(t) >= half]
        for target in test.targets[i].tolist():
            right += rng.choice(context_values) - half == target
            total += 1
    assert abs(data.trivial_baseline - 0.25) < 1e-12
    assert abs(right / total - data.trivial_baseline) < 0.04  # 1600 queries: 3 sd ~ 0.033


def test_recall_baseline_is_the_key_blind_guess():
    data = build("recall", n_train=50, n_val=10, n_test=3000, n_pairs=3, n_values=4, distance=2, slack=0)
    test, expected = data.test, 0.0
    for i in range(len(test)):  # brute force on the asked pair: the context's mode, ties shared
        values = test.inputs[i, 1:6:2].tolist()
        best = max(values.count(v) for v in values)
        modes = {v for v in values if values.count(v) == best}
        target = int(test.targets[i, 0]) + 2 + 8  # class -> token id (2 + n_keys offset)
        expected += (target in modes) / len(modes)
    assert abs(data.trivial_baseline - expected / len(test)) < 0.03  # 3000 examples: 3 sd ~ 0.026
    assert data.baselines["no_memory_baseline"] < data.trivial_baseline


def test_recall_with_one_pair_is_a_memory_task_with_the_no_memory_baseline():
    """One pair: the key is redundant (the key-blind guess would score 1.0); the baseline is
    the best guess without memory, the most frequent training value scored on test."""
    data = build("recall", n_train=400, n_val=5, n_test=300, n_pairs=1)
    guess = int(torch.bincount(data.train.targets[:, 0]).argmax())
    assert data.trivial_baseline == (data.test.targets[:, 0] == guess).float().mean().item()
    assert data.trivial_baseline == data.baselines["no_memory_baseline"] < 0.25


def test_constant_guess_and_bigram_baselines_by_hand():
    def split(inputs, targets):
        inputs = torch.tensor(inputs)
        n = len(inputs)
        return Split(inputs=inputs, lengths=torch.full((n,), inputs.shape[1]),
                     targets=torch.tensor(targets)[:, None], positions=torch.full((n, 1), 1))
    # the token before the mask (position 0) decides the answer on train: 5 -> 0, 6 -> 1
    train = split([[5, 1], [5, 1], [6, 1], [6, 1], [6, 1]], [0, 0, 1, 1, 1])
    test = split([[5, 1], [6, 1], [7, 1], [5, 1]], [0, 1, 1, 1])
    assert constant_guess_share(train.targets, test.targets) == 0.75  # always 1
    # 5 -> 0 right, 6 -> 1 right, 7 unseen -> majority 1 right, 5 -> 0 wrong
    assert next_token_baseline(train, test) == 0.75
    test_b = split([[5, 1], [5, 1]], [0, 0])
    assert next_token_baseline(train, test_b) == 1.0 and constant_guess_share(train.targets, test_b.targets) == 0.0


def test_fill_in_left_only_ceiling_is_the_constant_guess():
    data = build("fill_in", n_train=1000, n_val=10, n_test=1000)
    brute = max((data.test.targets == c).float().mean().item() for c in range(8))
    guess = int(torch.bincount(data.train.targets[:, 0]).argmax())
    assert data.baselines["left_only_ceiling"] == (data.test.targets == guess).float().mean().item()
    assert data.baselines["left_only_ceiling"] <= brute
    assert abs(data.baselines["left_only_ceiling"] - 0.125) < 0.04
