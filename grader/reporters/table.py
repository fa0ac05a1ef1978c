"""A terminal table: one row per question, failed checks explained below it."""

from __future__ import annotations

import textwrap

from ..results import Report, render_within

MARK = {"passed": "ok  ", "failed": "FAIL", "timeout": "TIME", "error": "ERR ", "not_run": "SKIP"}
OUTPUT_SHOWN = 2000


def render(report: Report) -> str:
    """Human-readable text; student output, if any, trimmed at the end.

    Every text is cleaned (no terminal escapes or control characters) and the
    whole stays under MAX_REPORT_BYTES.
    """
    return render_within(report, render_bounded)


def render_bounded(report: Report) -> str:
    """The table of a report whose texts are already cleaned (`Report.bounded`)."""
    lines = [f"{report.assignment}: {report.submission}", ""]
    if report.error:
        lines += [f"The grader could not run: {report.error}", ""]
    width = max([len(q.name) + (11 if q.optional else 0) for q in report.questions] + [8])
    lines.append(f"{'question':<{width}}  {'score':>7}  {'max':>7}")
    lines.append("-" * (width + 18))
    for question in report.questions:
        label = question.name + (" (optional)" if question.optional else "")
        if question.manual:
            lines.append(f"{label:<{width}}  {'pending':>7}  {question.pending:>7.2f}  graded by hand")
            continue
        lines.append(f"{label:<{width}}  {question.score:>7.2f}  {question.max_score:>7.2f}")
        for check in question.checks:
            for figure in check.figures:
                lines.append(f"  figure {figure.name}: {figure.caption}")
            if check.passed and not check.message:
                continue
            if check.earns:
                points = f"{check.score:.2f}/{check.max_score:.2f}" if check.passed else f"0/{check.max_score:.2f}"
            else:
                points = f"{check.score:+.2f}"
            lines.append(f"  {MARK[check.status.value]} {check.name} ({points})")
            for paragraph in check.message.splitlines()[:12]:
                lines.extend(textwrap.wrap(paragraph, 100, initial_indent="       ",
                                           subsequent_indent="         ") or [""])
    lines.append("-" * (width + 18))
    lines.append(f"{'total':<{width}}  {report.score:>7.2f}  {report.max_score:>7.2f}")
    if report.pending_line():
        lines += ["", report.pending_line()]
    if report.isolation_line():
        lines += ["", report.isolation_line()]
    for note in report.notes:
        lines += ["", f"Note: {note}"]
    if report.output.strip():
        shown = report.output if len(report.output) <= OUTPUT_SHOWN else \
            report.output[:OUTPUT_SHOWN // 2] + "\n...\n" + report.output[-OUTPUT_SHOWN // 2:]
        lines += ["", "Your code printed (trimmed):", textwrap.indent(shown.rstrip(), "  | ")]
    return "\n".join(lines) + "\n"
