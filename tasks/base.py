"""What every task hands the training loop: a spec and three tensor splits.

A task supplies data and its metric only; the one training loop in `bench.run.loop`
does the rest. Three output kinds cover every family:

- ``token``: predict at given positions. ``positions`` (N, K) holds the scored
  positions, ``targets`` (N, K) their class ids (recall, fill_in, copy, mqar, cloze).
- ``sequence``: one class per sequence from a pooled state; ``targets`` (N,) (imdb).
- ``regression``: one real number per sequence, MSE loss; ``targets`` (N,) float
  (adding). Its ``accuracy`` is the share of answers within ``tolerance``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import torch

from bench.registry import Registry

OutputKind = Literal["token", "sequence", "regression"]


@dataclass
class Split:
    """One split, all tensors on CPU until the loop moves them.

    inputs: (N, T) int64 token ids, or (N, T, F) float features.
    lengths: (N,) int64 number of real (non-pad) positions; padding is on the right.
    targets: (N, K) int64 for token tasks, (N,) int64 for sequence, (N,) float for regression.
    positions: (N, K) int64 scored positions (token tasks only).
    """

    inputs: torch.Tensor
    lengths: torch.Tensor
    targets: torch.Tensor
    positions: torch.Tensor | None = None

    def __post_init__(self) -> None:
        n = self.inputs.shape[0]
        for name in ("lengths", "targets", "positions"):
            t = getattr(self, name)
            if t is not None and t.shape[0] != n:
                raise ValueError(f"{name} has {t.shape[0]} rows, inputs have {n}")

    def __len__(self) -> int:
        return self.inputs.shape[0]

    @property
    def seq_len(self) -> int:
        return self.inputs.shape[1]

    @property
    def variable_length(self) -> bool:
        """True when some sequence is shorter than the padded length."""
        return bool((self.lengths < self.seq_len).any())

    def content_hash(self) -> str:
        h = hashlib.sha256()
        for t in (self.inputs, self.lengths, self.targets, self.positions):
            if t is not None:
                h.update(t.contiguous().numpy().tobytes())
        return h.hexdigest()[:16]


@dataclass
class TaskData:
    """The three splits plus what the model needs to know to read and answer them."""

    train: Split
    val: Split
    test: Split
    output: OutputKind
    n_classes: int  # output units: classes, or 1 for regression
    vocab_size: int | None = None  # token inputs
    n_features: int | None = None  # float inputs (inputs is (N, T, F))
    tolerance: float = 0.04  # regression: |prediction - target| below this counts as right
    trivial_baseline: float | None = None  # accuracy of the best guess that ignores what must be learned
    # further reference scores computed from the data, recorded with every run, e.g.
    # left_only_ceiling (the best accuracy from the left context alone), bigram_baseline
    baselines: dict[str, float] = field(default_factory=dict)

    def splits(self) -> dict[str, Split]:
        return {"train": self.train, "val": self.val, "test": self.test}

    def check(self, task: str) -> None:
        """Shapes and ranges, once when built: ValueError "task <name>: <what>" on the first
        problem (a regression target shaped (N, 1) would broadcast against (N,) predictions
        and score nonsense; an id past the vocabulary would index out of the embedding)."""
        def fail(message: str) -> None:
            raise ValueError(f"task {task!r}: {message}")

        if self.output not in ("token", "sequence", "regression"):
            fail(f"unknown output kind {self.output!r}")
        if (self.vocab_size is None) == (self.n_features is None):
            fail("give exactly one of vocab_size (token inputs) or n_features (float inputs)")
        if self.n_classes < 1 or (self.output == "regression") != (self.n_classes == 1):
            fail(f"n_classes={self.n_classes} does not fit output {self.output!r}")
        for name, split in self.splits().items():
            where = f"{name} split"
            if len(split) == 0:
                fail(f"{where} is empty")
            x, t = split.inputs, split.targets
            if self.vocab_size is not None:
                if x.ndim != 2 or x.dtype != torch.int64:
                    fail(f"{where}: token inputs must be (N, T) int64, got {tuple(x.shape)} {x.dtype}")
                if x.min() < 0 or x.max() >= self.vocab_size:
                    fail(f"{where}: token ids must be in [0, {self.vocab_size}), got [{int(x.min())}, {int(x.max())}]")
            elif x.ndim != 3 or x.shape[2] != self.n_features or not x.is_floating_point():
                fail(f"{where}: feature inputs must be (N, T, {self.n_features}) float, got {tuple(x.shape)} {x.dtype}")
            if split.lengths.min() < 1 or split.lengths.max() > x.shape[1]:
                fail(f"{where}: lengths must be in [1, {x.shape[1]}]")
            if self.output == "token":
                p = split.positions
                if p is None or t.ndim != 2 or p.shape != t.shape:
                    fail(f"{where}: token targets and positions must both be (N, K), got "
                         f"{tuple(t.shape)} and {None if p is None else tuple(p.shape)}")
                if p.min() < 0 or (p >= split.lengths[:, None]).any():
                    fail(f"{where}: scored positions must lie inside each sequence")
                scored = t[t != -100]
                if scored.numel() and (scored.min() < 0 or scored.max() >= self.n_classes):
                    fail(f"{where}: token targets must be in [0, {self.n_classes}) or -100")
            elif self.output == "sequence":
                if t.ndim != 1 or t.dtype != torch.int64 or t.min() < 0 or t.max() >= self.n_classes:
                    fail(f"{where}: sequence targets must be (N,) int64 in [0, {self.n_classes}), "
                         f"got {tuple(t.shape)} {t.dtype}")
            elif t.ndim != 1 or not t.is_floating_point() or not torch.isfinite(t).all():
                fail(f"{where}: regression targets must be (N,) finite floats, got {tuple(t.shape)} {t.dtype}")


@dataclass(frozen=True)
class Task:
    """A registered task: name, family, version, default variant, and its builder.

    ``build(variant, seed)`` returns TaskData; the same (variant, seed) must return the
    same tensors, another seed other data. ``validate(variant)`` raises ValueError for a
    variant beyond the task's limits.
    """

    name: str
    family: str
    version: int
    defaults: dict[str, Any]
    build: Callable[[dict[str, Any], int], TaskData]
    doc: str = ""
    validate: Callable[[dict[str, Any]], None] | None = None
    needs_data: bool = False  # True when it reads a data set that must be fetched first

    def variant(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Defaults merged with overrides; an unknown key raises ValueError naming the valid ones."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"task {self.name!r} has no variant key {unknown[0]!r}; "
                f"valid: {', '.join(sorted(self.defaults))}"
            )
        merged = {**self.defaults, **overrides}
        if self.validate is not None:
            self.validate(merged)
        return merged


TASKS: Registry[Task] = Registry("task")


def register_task(name: str, family: str, version: int, defaults: dict[str, Any],
                  validate: Callable[[dict[str, Any]], None] | None = None,
                  needs_data: bool = False):
    """Decorator for a ``build(variant, seed) -> TaskData`` function; its docstring is the task's doc."""

    def add(build: Callable[[dict[str, Any], int], TaskData]):
        TASKS.add(name, Task(name, family, version, dict(defaults), build,
                             (build.__doc__ or "").strip(), validate, needs_data))
        return build

    return add


def parse_variant_value(task: Task, key: str, raw: str) -> Any:
    """Parse a command-line 'key=value' by the type of the key's default; loud on failure."""
    if key not in task.defaults:
        raise ValueError(f"task {task.name!r} has no variant key {key!r}; "
                         f"valid: {', '.join(sorted(task.defaults))}")
    default = task.defaults[key]
    try:
        if isinstance(default, bool):
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return raw.lower() in ("true", "1")
        return type(default)(raw)
    except ValueError:
        raise ValueError(f"variant {key}={raw!r} is not a {type(default).__name__}") from None


def require(condition: bool, message: str) -> None:
    """Variant validation helper: raise ValueError(message) unless condition holds."""
    if not condition:
        raise ValueError(message)


def seeded(seed: int, salt: str) -> torch.Generator:
    """A CPU generator from (seed, salt): each split draws from its own stream."""
    digest = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


def generated_splits(task: str, variant: dict[str, Any], seed: int,
                     make: Callable[[dict[str, Any], int, torch.Generator], Split]) -> dict[str, Split]:
    """train/val/test of a generated task: ``make(variant, n, generator)`` per split, sized by
    the variant's n_train/n_val/n_test, each split drawn from its own stream seeded by
    (seed, "<task>/<split>"), so a split never changes when another one's size does."""
    return {name: make(variant, variant[f"n_{name}"], seeded(seed, f"{task}/{name}"))
            for name in ("train", "val", "test")}


def constant_guess_share(train_targets: torch.Tensor, test_targets: torch.Tensor) -> float:
    """Test accuracy of always answering the most frequent training target (a constant guess)."""
    guess = int(torch.bincount(train_targets.reshape(-1)).argmax())
    return float((test_targets.reshape(-1) == guess).float().mean())


def next_token_baseline(train: Split, test: Split, before: int = 1) -> float:
    """Test accuracy of answering each scored position from the `before` tokens just left of
    it alone (an n-gram table counted on train, the most frequent answer per context, the
    overall majority for an unseen context): what a model that reads only the nearest left
    context can reach without learning anything longer-range. 1 token = a bigram baseline."""
    def contexts(split: Split) -> tuple[list[tuple[int, ...]], list[int]]:
        pos = split.positions[:, 0]
        rows = torch.arange(len(split))
        keys = [tuple(split.inputs[rows, pos - k].tolist()) for k in range(before, 0, -1)]
        return list(zip(*keys)), split.targets[:, 0].tolist()

    table: dict[tuple[int, ...], dict[int, int]] = {}
    for key, target in zip(*contexts(train)):
        counts = table.setdefault(key, {})
        counts[target] = counts.get(target, 0) + 1
    fallback = int(torch.bincount(train.targets[:, 0]).argmax())
    keys, targets = contexts(test)
    right = sum(max(table[k], key=table[k].get) == t if k in table else fallback == t
                for k, t in zip(keys, targets))
    return right / max(len(targets), 1)


class LazyModule:
    """A module imported on first attribute access. `datasets` and `transformers` take seconds
    to import; only runs that read real text need them, not every worker and CLI call."""

    def __init__(self, name: str):
        self._name, self._module = name, None

    def __getattr__(self, attribute: str):
        if self._module is None:
            import importlib

            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)
