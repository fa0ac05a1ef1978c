"""gradecheck's own JSON report (DESIGN.md's shape)."""

from __future__ import annotations

import json

from ..results import Report, render_within


def render(report: Report) -> str:
    """The report as indented JSON, keys in a stable order.

    Plain ASCII (other characters escaped), every text cleaned, under
    MAX_REPORT_BYTES whatever the submission printed or raised.
    """
    return render_within(report, lambda bounded: json.dumps(bounded.to_dict(), indent=2) + "\n")
