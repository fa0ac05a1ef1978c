"""The command line: a thin layer over plain functions (DESIGN.md's contract).

Only this module writes to stdout. Exit status is 0 whenever a report was
produced, whatever the score; 2 when the grader itself could not run, in
which case the autolab and gradescope formats still emit a zero report.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import yaml

from . import spec as spec_module
from .errors import GraderError
from .reporters import REPORTERS
from .results import QuestionResult, Report

EXIT_OK, EXIT_GRADER_FAILED = 0, 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m grader", description="gradecheck autograder")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade one submission")
    grade.add_argument("assignment", help="folder name under assignments/ or a path to one")
    grade.add_argument("submission", help=".py, .ipynb, handin .tar or folder")
    grade.add_argument("--format", choices=sorted(REPORTERS), default="table")
    grade.add_argument("--output", help="write the report here (atomically) instead of stdout")
    grade.add_argument("--visibility", choices=["public", "all"], default="all",
                       help="public runs only the checks students may see")
    return parser


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def emit(text: str, output: str | None) -> None:
    """Send a rendered report to --output or stdout (flushed)."""
    if output:
        write_atomically(Path(output), text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def failure_report(assignment: str, submission: str, reason: str) -> Report:
    """A zero-score report for when the grader could not run; questions from the spec if readable."""
    names = []
    try:
        folder = spec_module.resolve(assignment)
        raw = yaml.safe_load((folder / "assignment.yaml").read_text(encoding="utf-8"))
        for q in raw.get("questions", []):
            if isinstance(q, dict) and isinstance(q.get("name"), str):
                points = q.get("points")
                points = float(points) if isinstance(points, (int, float)) else 0.0
                names.append((q["name"], points))
    except Exception:
        pass
    questions = [QuestionResult(name, "", 0.0, points, False, []) for name, points in names]
    return Report(Path(assignment).name, submission, questions, error=reason)


def command_grade(args: argparse.Namespace) -> int:
    """Grade one submission and emit the report in the chosen format."""
    from .runner import grade

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


COMMANDS = {"grade": command_grade}


def main(argv: list[str] | None = None) -> int:
    """Entry point of python -m grader."""
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args)
