"""Where the command line's reports go: stdout or a file written atomically.

Writing a report never fails on encoding: stdout gets bytes encoded for its
own encoding with unencodable characters backslash-escaped, and files get
UTF-8 the same way.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import yaml

from . import spec as spec_module
from .results import QuestionResult, Report
from .text import clean

EXIT_OK, EXIT_GRADER_FAILED = 0, 2


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same folder and a rename."""
    write_atomically_bytes(path, text.encode("utf-8"))


def write_atomically_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def emit(text: str, output: str | None) -> None:
    """Send a rendered report to `output` (atomically) or to stdout, flushed.

    Raises OSError only when the report cannot be written at all (stdout
    closed, folder not writable); never an encoding error.
    """
    if output:
        write_atomically(Path(output), text.encode("utf-8", "backslashreplace").decode("utf-8"))
        return
    stream = sys.stdout
    if stream is None:
        raise OSError("stdout is closed")
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        data = text.encode(encoding, "backslashreplace")
    except LookupError:
        encoding, data = "utf-8", text.encode("utf-8", "backslashreplace")
    buffer = getattr(stream, "buffer", None)
    try:
        stream.flush()  # whatever was written to the text layer goes first
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:
            stream.write(data.decode(encoding))
            stream.flush()
    except ValueError as exc:  # "I/O operation on closed file"
        raise OSError(str(exc)) from None


def minimal_report(fmt: str, assignment: str, submission: str, reason: str) -> str:
    """A last-resort zero report in format `fmt`, built without the reporters
    (for when rendering a report itself failed)."""
    reason = clean(reason, 2000)
    if fmt == "autolab":
        return f"The grader could not run: {reason}\n\n" + json.dumps(
            {"scores": {"grader_error": 0}, "scoreboard": [0]}, separators=(", ", ": ")) + "\n"
    if fmt == "gradescope":
        return json.dumps({"score": 0, "execution_time": 0, "output": f"The grader could not run: {reason}",
                           "visibility": "visible", "stdout_visibility": "hidden", "tests": []}, indent=2) + "\n"
    if fmt == "json":
        return json.dumps({"assignment": clean(Path(str(assignment)).name, 200), "score": 0, "max_score": 0,
                           "questions": [], "error": reason}, indent=2) + "\n"
    return f"{clean(assignment, 200)}: {clean(submission, 1000)}\n\nThe grader could not run: {reason}\n"


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
                names.append((q["name"], points, q.get("manual") is True))
    except Exception:
        pass
    questions = [QuestionResult(name, "", 0.0, 0.0, False, [], manual=True, pending=points) if manual
                 else QuestionResult(name, "", 0.0, points, False, []) for name, points, manual in names]
    return Report(Path(assignment).name, submission, questions, error=reason)
