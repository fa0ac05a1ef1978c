"""Gradescope's results.json: one test per check, numbered question.check.

A check that is not `visible` becomes two tests: "hidden check N" with its
points and status only, visible (Gradescope hides a student's total while any
point-carrying test is hidden from them), and a 0-point `hidden` test with
its name and details, which only the staff see, numbered after the
question's checks.
"""

from __future__ import annotations

import base64
import html
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
        if question.manual:  # a manual question of the Gradescope assignment carries it
            continue
        if not question.checks:  # nothing was graded (the grader could not run): the points show
            tests.append({"name": f"{question.name}: not graded", "number": f"{qi}.1",
                          "score": 0.0, "max_score": question.max_score, "status": "failed",
                          "output": report.error or "not graded", "visibility": "visible"})
            continue
        hidden, details_number = 0, len(question.checks)
        for ci, check in enumerate(question.checks, start=1):
            label = f"{question.name}: {check.name}"
            if question.optional:
                label += " (optional question)"
            status = "passed" if check.passed else "failed"
            details = check.message or ("passed" if check.passed else check.status.value)
            if check.visibility == "visible":
                test = {"name": label, "number": f"{qi}.{ci}", "score": check.score,
                        "max_score": check.max_score, "status": status, "output": details,
                        "visibility": "visible"}
                if check.figures:  # Gradescope shows images only in HTML output, inline
                    test.update(output=_html(details, check.figures), output_format="html")
                tests.append(test)
                continue
            # Points stay in a visible test (a test students cannot see yet hides their
            # total); the check's name and details go to a 0-point test for the staff.
            hidden += 1
            tests.append({"name": f"{question.name}: hidden check {hidden}", "number": f"{qi}.{ci}",
                          "score": check.score, "max_score": check.max_score, "status": status,
                          "output": f"hidden check: {status}", "visibility": "visible"})
            details_number += 1
            tests.append({"name": f"{label} (details for the staff)", "number": f"{qi}.{details_number}",
                          "score": 0.0, "max_score": 0.0, "status": status, "output": details,
                          "visibility": "hidden"})
    output = []
    if report.error:
        output.append(f"The grader could not run: {report.error}")
    output.extend(report.notes)
    if report.pending_line():
        output.append(report.pending_line())
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


def _html(text: str, figures: list) -> str:
    """The check's message as preformatted HTML, then each figure as an inline PNG."""
    parts = [f"<pre>{html.escape(text)}</pre>"]
    for figure in figures:
        data = base64.b64encode(figure.png()).decode("ascii")
        parts.append(f"<p>{html.escape(figure.caption)}</p>"
                     f'<img alt="{html.escape(figure.name)}" src="data:image/png;base64,{data}">')
    return "\n".join(parts)


def render(report: Report) -> str:
    """results.json as text: plain ASCII JSON, under MAX_REPORT_BYTES."""
    return render_within(report, lambda bounded: json.dumps(to_dict(bounded), indent=2) + "\n")
