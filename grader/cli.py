"""The command line: a thin layer over plain functions (DESIGN.md's contract).

Subcommands live in grader/commands/, one module each, found at start-up.
Only the command modules write to stdout. Exit status is 0 whenever a report
was produced, whatever the score; non-zero when the grader itself could not run.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from . import commands


def discover(only: str | None = None) -> dict[str, object]:
    """Every subcommand module under grader/commands, keyed by its NAME; with `only`,
    just the module of that command when there is one (its file is the NAME with
    `_` for `-`), so a grade does not pay for importing every other command.

    A module that fails to import is left out with a warning on stderr, so
    one broken subcommand cannot stop `grade` from emitting its report.
    """
    infos = sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name)
    if only is not None:
        chosen = [info for info in infos if info.name == only.replace("-", "_")]
        if chosen:
            found = discover_among(chosen)
            if only in found:
                return found
    return discover_among(infos)


def discover_among(infos: list) -> dict[str, object]:
    """The command modules of `infos` (pkgutil.ModuleInfo) that import, keyed by NAME."""
    found = {}
    for info in infos:
        try:
            module = importlib.import_module(f"{commands.__name__}.{info.name}")
        except Exception as exc:  # noqa: BLE001
            print(f"warning: the {info.name} command is unavailable ({type(exc).__name__}: {exc})",
                  file=sys.stderr)
            continue
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found[module.NAME] = module
    return found


def build_parser(found: dict[str, object]) -> argparse.ArgumentParser:
    """The argument parser with one subparser per discovered command."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="python -m grader", description="gradecheck autograder")
    parser.add_argument("--version", action="version", version=f"gradecheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in found.items():
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of python -m grader."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    found = discover(only=arguments[0] if arguments and not arguments[0].startswith("-") else None)
    args = build_parser(found).parse_args(argv)
    return found[args.command].run(args)
