"""`python -m grader handout ASSIGNMENT --out DIR`: build what students and platforms get."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..errors import GraderError
from ..output import EXIT_GRADER_FAILED, EXIT_OK

NAME = "handout"
HELP = "build the student handout and the Autolab and Gradescope bundles"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="folder name under assignments/ or a path to one")
    parser.add_argument("--out", required=True, help="write everything under OUT/ASSIGNMENT/")


def run(args: argparse.Namespace) -> int:
    """Build, then list what was built; on failure say why and exit non-zero."""
    from handout import build_all  # imported here: other commands must not need the builder

    started = time.monotonic()
    try:
        built = build_all(args.assignment, Path(args.out))
    except GraderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_GRADER_FAILED
    print(f"Built in {time.monotonic() - started:.1f} s:")
    for key, path in built.items():
        print(f"  {key:<20} {path}")
    return EXIT_OK
