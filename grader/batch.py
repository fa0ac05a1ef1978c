"""Grade every submission in a folder, N at a time, resumably.

Each submission is one entry of the folder (a .py, .ipynb, .tar or a
sub-folder); its report goes to OUT/reports/<student>.json, written
atomically, so a run that is interrupted and started again skips what is
done and loses nothing. Judges are processes forked from this one after it
has imported the engine, the checks and torch, so none of them pays that
start-up again; each submission still runs in its own sandboxed worker.
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import signal
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .output import write_atomically
from .spec import Assignment

SUFFIXES = (".tar.gz", ".tgz", ".tar", ".ipynb", ".py")


@dataclass(frozen=True)
class Submission:
    """One student's entry in the batch folder."""

    student: str
    path: Path


def discover(folder: Path) -> list[Submission]:
    """Every gradable entry of `folder`, sorted, with a unique student name each."""
    entries = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".")
               and (p.is_dir() or p.name.endswith(SUFFIXES))]
    names = []
    for entry in entries:
        stem = entry.name
        for suffix in SUFFIXES:
            if stem.endswith(suffix) and not entry.is_dir():
                stem = stem[: -len(suffix)]
                break
        names.append(stem)
    return [Submission(name if names.count(name) == 1 else entry.name, entry)
            for name, entry in zip(names, entries)]


def report_path(out: Path, student: str) -> Path:
    return out / "reports" / f"{student}.json"


def is_done(out: Path, student: str) -> bool:
    """A report exists, parses, and records no grader failure (those are retried)."""
    path = report_path(out, student)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return "error" not in data


_STATE: dict = {}


def _die_with_parent() -> None:
    """Ask Linux to kill this judge if the batch process dies (no orphans grading on)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _grade_one(submission: Submission) -> tuple[str, float, float, str | None]:
    from .runner import grade

    assignment: Assignment = _STATE["assignment"]
    out: Path = _STATE["out"]
    started = time.monotonic()
    try:
        data = grade(assignment, submission.path).to_dict()
        error = None
    except Exception as exc:  # a grader failure must not stop the batch
        error = f"{type(exc).__name__}: {exc}"
        data = {"assignment": assignment.name, "score": 0, "max_score": assignment.total_points,
                "questions": [], "error": error, "traceback": traceback.format_exc()[-4000:]}
    data["student"] = submission.student
    write_atomically(report_path(out, submission.student), json.dumps(data, indent=2) + "\n")
    return submission.student, float(data["score"]), time.monotonic() - started, error


def preload(assignment: Assignment) -> None:
    """Import everything a judge needs, once, before forking the judges."""
    import torch

    from .checks import import_file, load_registry
    from .examples import bank_for

    torch.set_num_threads(1)
    registry = load_registry(assignment)
    reference = import_file(assignment.reference, f"gradecheck_reference_{assignment.name}")
    bank_for(assignment, registry, reference)  # recorded or read once, shared by every judge


def grade_all(assignment: Assignment, folder: Path, out: Path, *, jobs: int = 1,
              progress: Callable[[int, int, str, float], None] | None = None) -> Iterator[tuple[str, float, float, str | None]]:
    """Grade every not-yet-graded submission of `folder`; yield (student, score, seconds, error).

    Reports are written as each finishes; already graded students are skipped.
    """
    submissions = discover(folder)
    pending = [s for s in submissions if not is_done(out, s.student)]
    (out / "reports").mkdir(parents=True, exist_ok=True)
    preload(assignment)
    _STATE.update(assignment=assignment, out=out)
    if not pending:
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(processes=max(1, jobs), initializer=_die_with_parent) as pool:
        yield from pool.imap_unordered(_grade_one, pending)
