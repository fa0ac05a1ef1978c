"""gradecheck's own JSON report (DESIGN.md's shape)."""

from __future__ import annotations

import json

from ..results import Report


def render(report: Report) -> str:
    """The report as indented JSON, keys in a stable order."""
    return json.dumps(report.to_dict(), indent=2) + "\n"
