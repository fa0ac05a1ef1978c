"""Generate a class of N submissions (correct, buggy and hostile) for batch benchmarks.

Files come from tests/submissions (correct styles and one-bug variants) and
the assignment's samples, cycled in a fixed order so every run is the same.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sources() -> list[Path]:
    corpus = ROOT / "tests" / "submissions"
    files = sorted((corpus / "softmax_lab" / "good").glob("*.py"))
    files += sorted((corpus / "softmax_lab" / "bad").glob("*.py"))
    files += sorted((corpus / "attacks").glob("*.py"))
    files += sorted((ROOT / "assignments" / "softmax_lab" / "samples").glob("*.py"))
    return files


def make_class(folder: Path, count: int) -> list[Path]:
    """Write `count` submissions named student000.py ... into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    pool = sources()
    written = []
    for i in range(count):
        target = folder / f"student{i:03d}.py"
        shutil.copy(pool[i % len(pool)], target)
        written.append(target)
    return written


if __name__ == "__main__":
    make_class(Path(sys.argv[1]), int(sys.argv[2]))
