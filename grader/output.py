"""Where the command line's reports go: stdout or a file written atomically."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import yaml

from . import spec as spec_module
from .results import QuestionResult, Report

EXIT_OK, EXIT_GRADER_FAILED = 0, 2


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
    """Send a rendered report to `output` (atomically) or to stdout, flushed."""
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
