"""`python -m grader grade ASSIGNMENT SUBMISSION`: grade one submission.

Whatever goes wrong, a well-formed report is emitted in the requested
format: a grader error (bad spec, missing submission) or an unexpected
failure inside the grader (a bug, RecursionError, MemoryError...) becomes a
zero report naming the reason, with a non-zero exit status (DESIGN.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from .. import spec as spec_module
from ..errors import GraderError, SandboxError
from ..output import EXIT_GRADER_FAILED, EXIT_OK, emit, failure_report, minimal_report
from ..reporters import REPORTERS
from ..results import REVEAL
from ..secret import course_secret
from ..sandbox.levels import LEVELS
from ..sandbox.spawner import warm_up
from ..text import clean

NAME = "grade"
HELP = "grade one submission"
TRACEBACK_SHOWN = 20000  # characters of an internal error's traceback on stderr


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="folder name under assignments/ or a path to one")
    parser.add_argument("submission", help=".py, .ipynb, handin .tar or folder")
    parser.add_argument("--format", choices=sorted(REPORTERS), default="table")
    parser.add_argument("--output", help="write the report here (atomically) instead of stdout")
    parser.add_argument("--visibility", choices=["public", "all"], default="all",
                        help="public runs only the checks students may see")
    parser.add_argument("--reveal", choices=sorted(REVEAL), default="visible",
                        help="which checks the report shows in full: visible ones only (default, "
                             "for students before the due date), also after_due_date ones, or all "
                             "(staff); the others show only their status and points")
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="the platform's limit for this grading job, counted from the "
                             "grader's start (default: the assignment's platform limit for "
                             "--format autolab or gradescope, none otherwise); checks left without "
                             "time score 0 and the report is still written in time")
    parser.add_argument("--isolation", choices=list(reversed(LEVELS)), default=None,
                        help="the weakest sandbox student code may run in (default: the "
                             "assignment's `isolation`, else landlock); below it nothing is graded")


def run(args: argparse.Namespace) -> int:
    """Grade and emit the report; on a grader failure still emit a zero report."""
    status = EXIT_OK
    try:
        assignment = spec_module.load(args.assignment)
        if Path(args.submission).exists():
            warm_up(assignment.library)  # the worker's interpreter imports torch while we import
        from ..runner import grade
        limit = args.time_limit if args.time_limit is not None else \
            assignment.platform_limits.get(args.format)
        # on a platform the examples must be the server's own (grader/secret.py)
        secret = course_secret(assignment.folder, required=args.format in ("autolab", "gradescope"))
        report = grade(assignment, Path(args.submission), visibility=args.visibility,
                       minimum=args.isolation, deadline=job_deadline(limit), secret=secret)
    except GraderError as exc:
        _say(f"error: {exc}")
        report, status = failure_report(args.assignment, args.submission, str(exc)), EXIT_GRADER_FAILED
        if isinstance(exc, SandboxError):  # say how far the sandbox got
            report.isolation = {"level": exc.level or "none", "minimum": exc.minimum, "features": []}
    except Exception as exc:  # noqa: BLE001 - a bug or an exhausted resource in the grader
        _say(f"internal grader error:\n{traceback.format_exc()}")
        reason = f"internal grader error ({type(exc).__name__}: {exc}); please tell the course staff"
        report, status = failure_report(args.assignment, args.submission, reason), EXIT_GRADER_FAILED
    try:
        if args.format != "gradescope":  # Gradescope applies each test's visibility itself
            report = report.shown_to_students(args.reveal)
        text = REPORTERS[args.format](report)
    except Exception as exc:  # noqa: BLE001 - rendering must not cost the platform its report
        _say(f"internal grader error while rendering the report:\n{traceback.format_exc()}")
        reason = f"internal grader error while writing the report ({type(exc).__name__}: {exc})"
        text, status = minimal_report(args.format, args.assignment, args.submission, reason), EXIT_GRADER_FAILED
    try:
        emit(text, args.output)
    except OSError as exc:
        _say(f"error: the report could not be written ({exc})")
        return EXIT_GRADER_FAILED
    # the curves and pictures, as PNGs beside the report; Gradescope's results.json carries
    # them inline, and its results folder is the platform's
    if args.output and report.figures() and args.format != "gradescope":
        try:
            from ..figures import write_figures  # numpy: imported only when there are figures

            write_figures(report.figures(), Path(args.output))
        except OSError as exc:
            _say(f"error: the figures could not be written ({exc})")
    return status


def job_deadline(limit: float | None) -> float | None:
    """The time.monotonic() by which student code must stop for the report to be out
    within `limit` seconds of this process's start (a margin for the report itself
    and the sandbox's clean-up)."""
    if limit is None:
        return None
    margin = max(8.0, 0.1 * limit)
    return time.monotonic() - _age() + limit - margin


def _age() -> float:
    """Seconds since this process started (the platform's clock started before ours)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            started = int(handle.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
        with open("/proc/uptime", encoding="ascii") as handle:
            return max(0.0, float(handle.read().split()[0]) - started)
    except (OSError, ValueError, IndexError):
        return 0.0


def _say(message: str) -> None:
    """Tell the person running the grader (stderr), if anyone is listening."""
    try:
        stream = sys.stderr
        if stream is not None:
            stream.write(clean(message, TRACEBACK_SHOWN) + "\n")  # stderr escapes what it cannot encode
            stream.flush()
    except (OSError, ValueError):
        pass
