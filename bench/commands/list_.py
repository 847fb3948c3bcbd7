"""`bench list`: the registered tasks (family, default variant), models and suites."""
from __future__ import annotations

import tasks  # noqa: F401  (registers tasks)
from bench.analysis.variants import variant_label
from bench.execute.suites import SUITES
from bench.models import MODELS
from tasks.base import TASKS


def add_arguments(parser) -> None:
    pass


def main(args) -> int:
    print("tasks:")
    for name, task in TASKS.items():
        print(f"  {name:<16} family={task.family:<14} v{task.version}  default: {variant_label(task.defaults)}")
    print("models:")
    for name, spec in MODELS.items():
        print(f"  {name:<20} {spec.family:<15} pooling: {spec.pooling}")
    print("suites:")
    for name, suite in SUITES.items():
        print(f"  {name:<10} {suite.description}")
    return 0
