"""`python -m grader grade-all ASSIGNMENT DIR --out OUT [--jobs N]`: grade a whole class."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .. import spec as spec_module
from tqdm import tqdm

from ..errors import GraderError
from ..exports import ExportError, unzip_export
from ..output import EXIT_GRADER_FAILED, EXIT_OK, write_atomically

NAME = "grade-all"
HELP = ("grade every submission in a folder, N at a time, resumably: a report stays only while its "
        "submission and the assignment are unchanged")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="folder name under assignments/ or a path to one")
    parser.add_argument("folder", help="one entry (.py, .ipynb, .tar or folder) per student, or a platform's "
                                       "export: Gradescope's (a folder or .zip with submission_metadata.yml) "
                                       "or Autolab's download (EMAIL_VERSION_FILE names)")
    parser.add_argument("--out", required=True, help="reports, gradebook.csv, summary.json, histogram.png")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once, each by its own judge (default: the CPU count)")
    parser.add_argument("--only", action="append", default=[], metavar="STUDENT",
                        help="grade this student only (repeat for more); the others keep their reports")
    parser.add_argument("--all-versions", action="store_true",
                        help="an Autolab download: grade every version, not only each student's latest")
    parser.add_argument("--force", action="store_true",
                        help="grade again even the reports that are current (same submission, same assignment)")


def run(args: argparse.Namespace) -> int:
    """Grade the folder, then write the gradebook, summary and histogram.

    They are built from the reports this run holds: those the judges sent back,
    and those of an earlier run whose signature verifies (grader.batch); nothing
    else under OUT/reports is read."""
    from ..batch import Batch
    from ..gradebook import summarise, write_gradebook, write_histogram, write_question_chart
    from ..lms_exports import unidentified, write_lms_gradebooks

    folder, out = Path(args.folder), Path(args.out)
    try:
        assignment = spec_module.load(args.assignment)
        if folder.is_file() and folder.suffix.lower() == ".zip":  # Gradescope's export, zipped
            folder = unzip_export(folder, out / "export")
        if not folder.is_dir():
            raise GraderError(f"{folder} is not a folder of submissions (nor an export's .zip)")
    except (ExportError, GraderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_GRADER_FAILED
    try:
        batch = Batch(assignment, folder, out, only=args.only, force=args.force, all_versions=args.all_versions)
    except ValueError as exc:  # ExportError included
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_GRADER_FAILED
    if batch.key is None:
        print(f"warning: the grader's key cannot be used ({batch.key_problem or 'its folder cannot be written'}): "
              "example banks are neither read nor saved there and reports are not signed, so a later "
              "run will grade every submission again", file=sys.stderr)
    pending = batch.pending
    if batch.skipped:
        print(f"{batch.skipped} of {len(batch.submissions)} submissions already graded and unchanged; "
              "skipping them", file=sys.stderr)
    if batch.stale:
        print(f"{batch.stale} report(s) out of date (the submission or the assignment changed since"
              f"{', or --force' if args.force else ''}): grading them again", file=sys.stderr)
    started = time.monotonic()
    done = 0
    # on a terminal, a progress bar with an estimated finish; in a log, one line per submission
    tty = sys.stderr.isatty()
    with tqdm(total=len(pending), unit="submission", file=sys.stderr, disable=not tty, dynamic_ncols=True) as bar:
        for student, score, seconds, error in batch.run(args.jobs):
            done += 1
            if error:
                bar.write(f"grader failure on {student}: {error}", file=sys.stderr)
            if not tty:
                print(f"graded {done}/{len(pending)}: {student} ({seconds:.1f}s)", file=sys.stderr, flush=True)
            bar.set_postfix_str(student, refresh=False)
            bar.update(1)
    reports = batch.ordered_reports()
    write_gradebook(assignment, reports, out / "gradebook.csv")
    imports = write_lms_gradebooks(assignment, reports, out)
    summary = summarise(assignment, reports)
    write_atomically(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_histogram(assignment, reports, out / "histogram.png")
    write_question_chart(assignment, reports, out / "questions.png")
    elapsed = time.monotonic() - started
    print(f"graded {done} submission(s) in {elapsed:.1f}s with {args.jobs} job(s); "
          f"{len(reports)} report(s) in {out / 'reports'}")
    print(f"mean {summary['mean']:g}, median {summary['median']:g} of {summary['max_score']:g}")
    for name, stats in summary["questions"].items():
        print(f"  {name:<20} full marks {stats['full_marks_rate']:.0%}")
    print(f"gradebook: {out / 'gradebook.csv'}; summary: {out / 'summary.json'}; "
          f"charts: {out / 'histogram.png'}, {out / 'questions.png'}; feedback to send: {out / 'feedback'}")
    nobody = unidentified(reports)
    print(f"to import: Canvas {imports['canvas']}, Autolab {imports['autolab']}"
          + (f" ({nobody} submission(s) name no email or SID and are left out of both)" if nobody else ""))
    return EXIT_OK
