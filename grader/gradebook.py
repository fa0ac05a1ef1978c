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
    """A PNG histogram of total scores: `bins` equal bins from 0 to the automatic maximum
    (the last one holds the maximum itself), titled, with axes labelled and the count,
    mean and median of the class. Drawn with matplotlib (the tiny built-in bar chart
    where it is not installed: a platform bundle)."""
    top = assignment.automatic_points
    totals = [float(r.get("score", 0)) for r in reports]
    try:
        pyplot = _pyplot()
    except ImportError:
        counts = [0] * bins
        for total in totals:
            counts[min(int((total / top if top else 0) * bins), bins - 1)] += 1
        bar_chart(counts, [f"{int(top * i / bins)}" for i in range(bins)], path)
        return
    import numpy as np

    edges = np.linspace(0, top, bins + 1)
    figure, axes = pyplot.subplots(figsize=(8, 4.5), dpi=110)
    axes.hist(np.clip(totals, 0, top), bins=edges, color="#4878a8", edgecolor="white")
    axes.set_xticks(edges)
    axes.set_xticklabels([f"{e:g}" for e in edges])
    axes.set_xlabel(f"total score (out of {top:g})")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    stats = (f"n = {len(totals)}, mean {statistics.fmean(totals):.1f}, median {statistics.median(totals):.1f}"
             if totals else "n = 0")
    axes.set_title(f"{assignment.title or assignment.name}: total scores ({stats})")
    _save(pyplot, figure, path)


def write_question_chart(assignment: Assignment, reports: list[dict], path: Path) -> None:
    """A PNG bar chart of each automatically graded question: the class's mean score as
    a share of its points, and the share of students with full marks. Nothing is
    written where matplotlib is not installed."""
    try:
        pyplot = _pyplot()
    except ImportError:
        return
    import numpy as np

    questions = [q for q in assignment.questions if not q.manual]
    means, full = [], []
    for question in questions:
        scored = [q for r in reports for q in r.get("questions", []) if q.get("name") == question.name]
        means.append(statistics.fmean([q["score"] / question.points for q in scored]) if scored and question.points
                     else 0.0)
        full.append(sum(1 for q in scored if q["score"] >= q["max_score"] - 1e-9) / len(reports) if reports else 0.0)
    figure, axes = pyplot.subplots(figsize=(max(8, 0.7 * len(questions) + 3), 4.8), dpi=110)
    where = np.arange(len(questions))
    axes.bar(where - 0.2, [100 * m for m in means], width=0.4, label="mean score (% of the points)", color="#4878a8")
    axes.bar(where + 0.2, [100 * f for f in full], width=0.4, label="students with full marks (%)", color="#e1812c")
    axes.set_xticks(where)
    axes.set_xticklabels([q.name for q in questions], rotation=35, ha="right")
    axes.set_ylim(0, 105)
    axes.set_ylabel("%")
    axes.set_title(f"{assignment.title or assignment.name}: each question (n = {len(reports)})", pad=28)
    # above the bars, under the title: a legend inside the axes would cover bars near 100%
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize="small", frameon=False)
    _save(pyplot, figure, path)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no screen needed
    from matplotlib import pyplot

    return pyplot


def _save(pyplot, figure, path: Path) -> None:
    buffer = io.BytesIO()
    figure.tight_layout()
    # no timestamps or software tags: the same class gives the same bytes
    figure.savefig(buffer, format="png", metadata={"Software": None})
    pyplot.close(figure)
    from .output import write_atomically_bytes

    write_atomically_bytes(path, buffer.getvalue())
