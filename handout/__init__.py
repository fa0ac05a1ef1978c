"""Build student handouts and Autolab / Gradescope bundles (see handout.build).

Importing this package is cheap: only `build_all` pulls in the builder. The
engine never imports it, except the `handout` command (and `make demo`, through
that command's `build`); what the engine needs of a handout's making (the
starter maker) lives in grader.starter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def build_all(assignment: Any, out_dir: str | Path) -> dict[str, Path]:
    """Build the handout and both platform bundles under out_dir/NAME/ (see handout.build)."""
    from .build import build_all as build

    return build(assignment, out_dir)
