"""Feedback a TA can send a student: the report as Markdown (grade-all writes one per
student, from the student's view of the report)."""

from __future__ import annotations

from ..results import Report, render_within

MARK = {"passed": "passed", "failed": "failed", "timeout": "ran out of time", "error": "grader error",
        "not_run": "not run"}
MESSAGE_LINES = 40


def _fence(text: str) -> str:
    """`text` in a code block whose fence it cannot close."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}\n{text.rstrip()}\n{fence}"


def render(report: Report) -> str:
    """Markdown: the total, a table of questions, then what each failed check said."""
    return render_within(report, render_bounded)


def render_bounded(report: Report) -> str:
    """The Markdown of a report whose texts are already cleaned (`Report.bounded`)."""
    lines = [f"# {report.assignment}: feedback", ""]
    if report.error:
        lines += [f"The grader could not grade this submission: {report.error}", ""]
    lines += [f"**Score: {report.score:g} / {report.max_score:g}**", ""]
    if report.pending_line():
        lines += [report.pending_line(), ""]
    lines += ["| question | score | out of |", "|---|---:|---:|"]
    for question in report.questions:
        label = (question.title or question.name).replace("|", "\\|")
        if question.optional and "optional" not in label.lower():
            label += " (optional)"
        if question.manual:
            lines.append(f"| {label} | pending | {question.pending:g} |")
        else:
            lines.append(f"| {label} | {question.score:g} | {question.max_score:g} |")
    lines.append("")
    for question in report.questions:
        failed = [c for c in question.checks if not c.passed or c.message]
        if question.manual or not failed:
            continue
        lines += [f"## {question.title or question.name}", ""]
        for check in failed:
            points = f"{check.score:+g} points" if not check.earns else f"{check.score:g} / {check.max_score:g}"
            lines.append(f"- **{check.name}** ({MARK.get(check.status.value, check.status.value)}, {points})")
            if check.message.strip():
                message = "\n".join(check.message.splitlines()[:MESSAGE_LINES])
                lines += ["", _fence(message), ""]
        lines.append("")
    for note in report.notes:
        lines += [f"> Note: {note}", ""]
    return "\n".join(lines).rstrip() + "\n"
