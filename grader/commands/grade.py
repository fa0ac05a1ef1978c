"""`python -m grader grade ASSIGNMENT SUBMISSION`: grade one submission."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import spec as spec_module
from ..errors import GraderError
from ..output import EXIT_GRADER_FAILED, EXIT_OK, emit, failure_report
from ..reporters import REPORTERS

NAME = "grade"
HELP = "grade one submission"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="folder name under assignments/ or a path to one")
    parser.add_argument("submission", help=".py, .ipynb, handin .tar or folder")
    parser.add_argument("--format", choices=sorted(REPORTERS), default="table")
    parser.add_argument("--output", help="write the report here (atomically) instead of stdout")
    parser.add_argument("--visibility", choices=["public", "all"], default="all",
                        help="public runs only the checks students may see")


def run(args: argparse.Namespace) -> int:
    """Grade and emit the report; on a grader failure still emit a zero platform report."""
    from ..runner import grade

    render = REPORTERS[args.format]
    try:
        assignment = spec_module.load(args.assignment)
        report = grade(assignment, Path(args.submission), visibility=args.visibility)
    except GraderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.format in ("autolab", "gradescope"):
            emit(render(failure_report(args.assignment, args.submission, str(exc))), args.output)
        return EXIT_GRADER_FAILED
    emit(render(report), args.output)
    return EXIT_OK
