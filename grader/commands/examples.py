"""`python -m grader examples ASSIGNMENT`: record the example bank ahead of grading."""

from __future__ import annotations

import argparse
import sys
import time

from .. import spec as spec_module
from ..errors import GraderError
from ..output import EXIT_GRADER_FAILED, EXIT_OK

NAME = "examples"
HELP = "record what hypothesis draws for each check into the cache (grading does it on first use)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="folder name under assignments/ or a path to one")
    parser.add_argument("--mutants", action="store_true",
                        help="also grade the mutants of mutants.yaml once, keeping how hypothesis "
                             "shrank their failures, so that submissions making those mistakes "
                             "are graded sooner (grader.shrinks)")


def run(args: argparse.Namespace) -> int:
    """Record (or find) the bank, say where it is and which checks will run hypothesis live."""
    from ..examples import bank_path, enabled
    from ..loaded import load
    from ..secret import course_secret, salt_of

    started = time.monotonic()
    try:
        assignment = spec_module.load(args.assignment)
        if not enabled():
            raise GraderError("GRADECHECK_EXAMPLES=live turns example banks off")
        bank = load(assignment).bank(salt_of(course_secret(assignment.folder)))
    except GraderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_GRADER_FAILED
    path = bank_path(assignment, bank.key)
    live = sorted(name for name, calls in bank.checks.items() if calls is None)
    drawn = sum(len(examples) for calls in bank.checks.values() if calls for _, examples in calls)
    print(f"{len(bank.checks)} checks, {drawn} examples, in {time.monotonic() - started:.1f} s")
    print(f"bank: {path}" + ("" if path.is_file() else " (not writable: kept in memory only)"))
    if live:
        print(f"run live every time (they do not pass on the reference, or draw what cannot be stored): "
              f"{', '.join(live)}")
    if args.mutants:
        from ..mutant_traces import record

        started = time.monotonic()
        try:
            graded = record(assignment)
        except GraderError as exc:  # the traces only make grading faster: the bank stands
            print(f"warning: the catalogue's mutants could not be graded, so no shrink traces were "
                  f"kept (grading works without them): {exc}", file=sys.stderr)
            return EXIT_OK
        print(f"shrink traces of {graded} catalogued mistakes kept, in {time.monotonic() - started:.1f} s")
    return EXIT_OK
