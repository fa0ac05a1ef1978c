"""Gradescope's results.json: one test per check, numbered question.check."""

from __future__ import annotations

import json
import math

from ..results import Report, render_within

OUTPUT_LIMIT = 20000


def to_dict(report: Report) -> dict:
    """The results.json content; top-level score equals the sum of test scores.

    Texts are cleaned and bounded (`Report.bounded`).
    """
    report = report.bounded()
    tests = []
    for qi, question in enumerate(report.questions, start=1):
        for ci, check in enumerate(question.checks, start=1):
            label = f"{question.name}: {check.name}"
            if question.optional:
                label += " (optional question)"
            tests.append({
                "name": label,
                "number": f"{qi}.{ci}",
                "score": check.score,
                "max_score": check.max_score,
                "status": "passed" if check.passed else "failed",
                "output": check.message or ("passed" if check.passed else check.status.value),
                "visibility": check.visibility,
            })
    output = []
    if report.error:
        output.append(f"The grader could not run: {report.error}")
    output.extend(report.notes)
    if report.isolation_line():
        output.append(report.isolation_line())
    if report.output.strip():
        output.append("Your code printed (trimmed):\n" + report.output[-OUTPUT_LIMIT:])
    return {
        "score": round(sum(t["score"] for t in tests), 4),
        "execution_time": int(math.ceil(report.seconds)),
        "output": "\n\n".join(output),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"isolation": report.isolation} if report.isolation else {},
        "tests": tests,
    }


def render(report: Report) -> str:
    """results.json as text: plain ASCII JSON, under MAX_REPORT_BYTES."""
    return render_within(report, lambda bounded: json.dumps(to_dict(bounded), indent=2) + "\n")
