"""Build student handouts and Autolab / Gradescope bundles (see handout.build).

Importing this package is cheap: grader modules import handout.starter, and
only `build_all` pulls in the builder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def build_all(assignment: Any, out_dir: str | Path) -> dict[str, Path]:
    """Build the handout and both platform bundles under out_dir/NAME/ (see handout.build)."""
    from .build import build_all as build

    return build(assignment, out_dir)
