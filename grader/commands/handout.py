"""`python -m grader handout ASSIGNMENT --out DIR`: build what students and platforms get."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import GraderError
from ..output import EXIT_GRADER_FAILED, EXIT_OK

if TYPE_CHECKING:
    from ..spec import Assignment

NAME = "handout"
HELP = "build the student handout and the Autolab and Gradescope bundles"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="folder name under assignments/ or a path to one")
    parser.add_argument("--out", required=True, help="write everything under OUT/ASSIGNMENT/")


def build(assignment: str | Path | Assignment, out: Path) -> dict[str, Path]:
    """Build the handout and bundles of `assignment` under out/NAME/ (handout.build_all).

    The one place the engine reaches the builder (grader.demo uses it too), and only
    when called: no other command needs the builder or what it imports. ImportError
    when this copy of the engine has no handout package (a platform bundle).
    """
    from handout import build_all

    return build_all(assignment, out)


def run(args: argparse.Namespace) -> int:
    """Build, then list what was built; on failure say why and exit non-zero."""
    from ..spec import load

    started = time.monotonic()
    try:
        assignment = load(args.assignment)
        built = build(assignment, Path(args.out))
    except GraderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_GRADER_FAILED
    print(f"Built in {time.monotonic() - started:.1f} s:")
    for key, path in built.items():
        print(f"  {key:<20} {path}")
    if assignment.package:
        print(f"No notebook: {assignment.name} is a package handin; students work in and hand in "
              f"{', '.join(assignment.student_files)} (see the handout's README.md).")
    return EXIT_OK
