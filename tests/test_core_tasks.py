import torch

from tasks.base import TASKS


def _equal(a, b):
    return all(torch.equal(getattr(a, f), getattr(b, f)) for f in ("inputs", "lengths", "targets", "positions"))


def test_generators_are_deterministic_per_seed_and_differ_across_seeds():
    for name, overrides in (("recall", {"distance": 10, "n_train": 200}), ("fill_in", {"n_train": 200})):
        task = TASKS[name]
        variant = task.variant(overrides)
        first, again, other = task.build(variant, 0), task.build(variant, 0), task.build(variant, 1)
        for split in ("train", "val", "test"):
            assert _equal(getattr(first, split), getattr(again, split))
            assert not torch.equal(getattr(first, split).inputs, getattr(other, split).inputs)
        # the three splits are drawn from distinct streams
        assert not torch.equal(first.train.inputs[:100], first.val.inputs[:100])


def test_recall_answer_is_the_queried_keys_value():
    task = TASKS["recall"]
    data = task.build(task.variant({"distance": 5, "n_pairs": 3, "n_train": 50, "slack": 0}), 3)
    split = data.train
    val0 = 2 + task.defaults["n_keys"]
    assert split.inputs.shape[1] == 2 * 3 + 5 + 2
    for row in range(len(split)):
        tokens = split.inputs[row].tolist()
        pairs = dict(zip(tokens[0:6:2], tokens[1:6:2]))
        assert tokens[-2] == 1  # QUERY marker
        assert split.targets[row, 0].item() == pairs[tokens[-1]] - val0
        assert split.positions[row, 0].item() == len(tokens) - 1
        noise = tokens[6:-2]
        assert len(noise) == 5 and min(noise) >= val0 + task.defaults["n_values"]


def test_fill_in_answer_comes_only_from_the_right():
    task = TASKS["fill_in"]
    data = task.build(task.variant({"length": 12, "offset": 2, "n_train": 100}), 0)
    split = data.train
    middle = 6
    assert (split.inputs[:, middle] == 1).all()  # MASK
    assert torch.equal(split.targets[:, 0], split.inputs[:, middle + 2] - 2)
    assert (split.positions == middle).all()
    # the left context carries no information: it is independent of the answer
    left_agree = (split.inputs[:, middle - 1] - 2 == split.targets[:, 0]).float().mean()
    assert left_agree < 0.3
    assert abs(data.trivial_baseline - 1 / 8) < 1e-12
