"""`python -m bench COMMAND ...`: one module per command under bench/commands, imported
statically (a command that fails to import fails the CLI loudly; it never vanishes).

Each command module has ``add_arguments(parser)`` and ``main(args) -> int``. Any bad input
raises ValueError (or KeyError from a registry); it ends here as one line on stderr and
exit status 2, before anything is written. So does an OS error (disk full, a read-only or
missing folder, a file where a folder should be): one line naming the file, exit 2; Ctrl-C
is one line and exit 130 (finished runs are kept; the same command resumes); a run that
fails is one line naming the run and its error, exit 1 (2 when its error is a ValueError),
with the traceback under ``-v``.

Options every command takes (before or after the command name): ``--import MODULE_OR_PATH``
(repeatable: a plugin registering models and tasks, bench/plugins.py; installed
``bench.plugins`` entry points load by themselves), ``-v`` / ``-q`` (the "bench" logger:
each validation point / warnings only). ``bench --version`` prints the version.
"""
from __future__ import annotations

import argparse
import sys
import traceback

from bench.commands import data, eval_, gradflow, list_, params, report, rerun, run, sample, speed
from bench.execute.plan import RunFailed
from bench.logs import configure
from bench.plugins import PluginError, load_plugins
from bench.registry import UnknownName

# command name -> (module, one-line help)
COMMANDS = {
    "list": (list_, "print the registered tasks, models and suites"),
    "params": (params, "print every model's width and parameter counts at a budget"),
    "run": (run, "train and evaluate a suite, a task x models x seeds grid, or a grid file"),
    "eval": (eval_, "re-score a best-weights checkpoint (bench run --checkpoints)"),
    "report": (report, "write tables, plots and claim verdicts for a results folder"),
    "rerun": (rerun, "train a results folder's runs (or a slice) again into another folder, to compare"),
    "data": (data, "fetch, prepare and cache a real data set (imdb)"),
    "sample": (sample, "print examples of a task as JSON lines"),
    "speed": (speed, "measure training and inference speed against sequence length"),
    "gradflow": (gradflow, "measure gradient norm against distance from the loss"),
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse that fails with one line and status 2 (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see: python -m {self.prog} --help)\n")


class _Version(argparse.Action):
    """`--version`: the package version and the code hash that goes into every run id."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from bench import __version__
        from bench.run.version import code_hash

        print(f"bench {__version__} (code {code_hash()})")  # stdout, as --version does everywhere
        parser.exit(0)


def add_common_arguments(parser: argparse.ArgumentParser, top: bool) -> None:
    """--import, -v, -q on the top-level parser and on each command (distinct dests: a
    command's defaults would otherwise overwrite what was given before the command name)."""
    suffix = "" if top else "_command"
    parser.add_argument("--import", dest=f"imports{suffix}", action="append", default=[],
                        metavar="MODULE_OR_PATH",
                        help="a plugin module or .py file that registers models/tasks (repeatable)")
    parser.add_argument("-v", "--verbose", dest=f"verbose{suffix}", action="count", default=0,
                        help="log each validation point")
    parser.add_argument("-q", "--quiet", dest=f"quiet{suffix}", action="count", default=0,
                        help="warnings and errors only")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="bench", description="RNN vs Transformer benchmark harness")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    add_common_arguments(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser,
                                metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command)
        add_common_arguments(command, top=False)
        command.set_defaults(handler=module.main)
    return parser


def os_error_line(error: OSError) -> str:
    """'No space left on device: runs/x/results.csv': what failed, and on which file."""
    files = [str(f) for f in (error.filename, error.filename2) if f is not None]
    text = error.strerror or str(error) or type(error).__name__
    return f"{text}: {' -> '.join(files)}" if files else text


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.imports = [*args.imports, *args.imports_command]
    verbosity = args.verbose + args.verbose_command - args.quiet - args.quiet_command
    configure(verbosity)
    try:
        load_plugins(args.imports)  # installed plugins, then --import ones, before the command
        return int(args.handler(args) or 0)
    except (ValueError, UnknownName, PluginError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {os_error_line(error)}", file=sys.stderr)
        return 2
    except RunFailed as error:
        if verbosity > 0:
            traceback.print_exception(error)
        print(f"error: {error}{'' if verbosity > 0 else ' (-v shows the traceback)'}", file=sys.stderr)
        return 2 if isinstance(error.__cause__, ValueError) else 1
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept; the same command resumes", file=sys.stderr)
        return 130
