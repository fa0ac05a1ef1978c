"""Report renderers: each turns a Report into the text of one format."""

from __future__ import annotations

from typing import Callable

from ..results import Report
from . import autolab, gradescope, json_report, markdown, table

Renderer = Callable[[Report], str]

REPORTERS: dict[str, Renderer] = {
    "table": table.render,
    "json": json_report.render,
    "autolab": autolab.render,
    "gradescope": gradescope.render,
    "markdown": markdown.render,
}
