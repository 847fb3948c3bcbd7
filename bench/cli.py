"""`python -m bench COMMAND ...`: one module per command under bench/commands, imported
statically (a command that fails to import fails the CLI loudly; it never vanishes).

Each command module has ``add_arguments(parser)`` and ``main(args) -> int``. Any bad input
raises ValueError (or KeyError from a registry); it ends here as one line on stderr and
exit status 2, before anything is written.
"""
from __future__ import annotations

import argparse
import sys

from bench.commands import data, gradflow, list_, params, report, run, sample, speed
from bench.registry import UnknownName

# command name -> (module, one-line help)
COMMANDS = {
    "list": (list_, "print the registered tasks, models and suites"),
    "params": (params, "print every model's width and parameter counts at a budget"),
    "run": (run, "train and evaluate a suite or a task x models x seeds grid"),
    "report": (report, "write tables, plots and claim verdicts for a results folder"),
    "data": (data, "fetch, prepare and cache a real data set (imdb)"),
    "sample": (sample, "print examples of a task as JSON lines"),
    "speed": (speed, "measure training and inference speed against sequence length"),
    "gradflow": (gradflow, "measure gradient norm against distance from the loss"),
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse that fails with one line and status 2 (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see: python -m {self.prog} --help)\n")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="bench", description="RNN vs Transformer benchmark harness")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser,
                                metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command)
        command.set_defaults(handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (ValueError, UnknownName) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
