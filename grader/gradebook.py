"""Summaries of a graded batch: gradebook CSV, statistics and a score histogram."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from pathlib import Path

from .output import write_atomically
from .pngplot import bar_chart
from .spec import Assignment


def load_reports(out: Path, assignment: Assignment) -> list[dict]:
    """Every report under OUT/reports that this grader signed (grader.batch), sorted by
    student; a report anyone else wrote or changed is left out.

    grade-all itself builds its gradebook from the reports it holds in memory
    (grader.batch.Batch.reports); this is for reading a finished OUT folder again."""
    from .batch import grader_key, read_report

    key = grader_key(create=False)
    reports = []
    for path in sorted((out / "reports").glob("*.json")):
        report = read_report(out, path.name[: -len(".json")], assignment, key)
        if report is not None:
            reports.append(report)
    return reports


def write_gradebook(assignment: Assignment, reports: list[dict], path: Path) -> None:
    """CSV with a header row, then one row per student: student, name, email, sid, version
    (Autolab's, graded with --all-versions: one row per version), total, each question. A submission from a platform's export is keyed by the platform's
    identity (email, else SID), one row per member of a group; name, email and sid stay
    blank for a plain folder's students."""
    questions = [q.name for q in assignment.questions]
    manual = {q.name for q in assignment.questions if q.manual}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "name", "email", "sid", "version", "total"] + questions)
    for report in reports:
        by_name = {q["name"]: q["score"] for q in report.get("questions", [])}
        # a question graded by hand stays blank for the staff to fill in
        scores = [report.get("score", 0)] + ["" if name in manual else by_name.get(name, 0) for name in questions]
        identity = report.get("identity") or {}
        version = identity.get("version", "")
        people = [(m.get("email") or m.get("sid") or m.get("name") or report.get("student", "?"),
                   m.get("name", ""), m.get("email", ""), m.get("sid", ""), version)
                  for m in identity.get("members") or [] if isinstance(m, dict)]
        for person in people or [(report.get("student", "?"), "", "", "", "")]:
            writer.writerow(list(person) + scores)
    write_atomically(path, buffer.getvalue())


def summarise(assignment: Assignment, reports: list[dict]) -> dict:
    """Mean, median, per-question full-marks rate and the checks failed most often."""
    totals = [float(r.get("score", 0)) for r in reports]
    per_question = {}
    for question in assignment.questions:
        if question.manual:
            continue
        scored = [q for r in reports for q in r.get("questions", []) if q["name"] == question.name]
        full = sum(1 for q in scored if q["score"] >= q["max_score"] - 1e-9)
        per_question[question.name] = {
            "full_marks_rate": round(full / len(reports), 4) if reports else 0.0,
            "mean": round(statistics.fmean([q["score"] for q in scored]), 4) if scored else 0.0,
        }
    failed = Counter(c["name"] for r in reports for q in r.get("questions", [])
                     for c in q["checks"] if not c["passed"])
    return {
        "assignment": assignment.name,
        "submissions": len(reports),
        "max_score": assignment.automatic_points,
        "mean": round(statistics.fmean(totals), 4) if totals else 0.0,
        "median": round(statistics.median(totals), 4) if totals else 0.0,
        "questions": per_question,
        "most_failed_checks": failed.most_common(10),
        "grader_errors": [r.get("student") for r in reports if r.get("error")],
    }


def write_histogram(assignment: Assignment, reports: list[dict], path: Path, bins: int = 10) -> None:
    """A PNG histogram of total scores in `bins` equal bins from 0 to the maximum."""
    top = assignment.automatic_points
    counts = [0] * bins
    for report in reports:
        share = float(report.get("score", 0)) / top if top else 0
        counts[min(int(share * bins), bins - 1)] += 1
    labels = [f"{int(top * i / bins)}" for i in range(bins)]
    bar_chart(counts, labels, path)
