"""Autolab: human feedback, then the scores JSON as the very last line.

Autolab reads only the last line of output, as JSON with a non-empty
"scores" object keyed by the assessment's problem names (our question names).
"""

from __future__ import annotations

import json

from ..results import Report, render_within
from . import table


def scores_line(report: Report) -> str:
    """The single JSON line Autolab parses. A question graded by hand has no score here:
    its Autolab problem stays for the staff to fill in."""
    graded = [q for q in report.questions if not q.manual]
    scores = {q.name: q.score for q in graded} or {"grader_error": 0}
    total = report.score
    board = [total] + [q.score for q in graded]
    return json.dumps({"scores": scores, "scoreboard": board}, separators=(", ", ": "))


def render(report: Report) -> str:
    """Feedback table, a blank line, then the scores line (newline-terminated).

    The whole stays under MAX_REPORT_BYTES, so Autolab never cuts the output
    (its limit is 1000 KiB) and the scores line survives whatever was printed.
    """
    def whole(bounded: Report) -> str:
        # Student output in the feedback cannot end the text: the scores line is last.
        return f"{table.render_bounded(bounded)}\n{scores_line(bounded)}\n"

    return render_within(report, whole)
