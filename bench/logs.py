"""Standard `logging` for the logger "bench", written so progress bars stay intact.

The CLI calls ``configure(verbosity)`` once (``-q`` -> -1: warnings only; default 0: one line
per finished run; ``-v`` -> 1: every validation point too). A library user gets nothing
unless they configure logging themselves (``logging.basicConfig(level=logging.INFO)`` or
``bench.logs.configure(0)``), as a library should.
"""
from __future__ import annotations

import logging
import sys

LOGGER = "bench"
LEVELS = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}


class TqdmHandler(logging.Handler):
    """Writes through tqdm.write (to the current sys.stderr), so a line never splits a bar."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging's own contract: report, never raise
            self.handleError(record)


def configure(verbosity: int = 0) -> logging.Logger:
    """Set the "bench" logger's level and its one handler (calling again replaces it)."""
    logger = logging.getLogger(LOGGER)
    level = LEVELS[max(-1, min(1, verbosity))]
    logger.setLevel(level)
    for handler in [h for h in logger.handlers if isinstance(h, TqdmHandler)]:
        logger.removeHandler(handler)
    handler = TqdmHandler(level)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False  # one copy of each line, even when the root logger has a handler
    return logger


def get(name: str = "") -> logging.Logger:
    """The "bench" logger or one of its children ("bench.watch")."""
    return logging.getLogger(f"{LOGGER}.{name}" if name else LOGGER)
