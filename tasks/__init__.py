"""Task families. Importing this package imports every module in it, which registers each
task in `tasks.base.TASKS`. Modules whose name starts with '_' are helpers, not tasks.
An import error in any task module is raised, never skipped."""
import importlib
import pkgutil

from tasks.base import TASKS, Split, Task, TaskData

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in ("base", "data") and not _module.startswith("_"):
        importlib.import_module(f"tasks.{_module}")

__all__ = ["TASKS", "Split", "Task", "TaskData"]
