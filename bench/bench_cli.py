"""One submission, whole command-line process, against the floor `python -c "import torch"`.

Both are timed in this run, alternating, several times each; the ratio of
medians is printed (the machines are noisy: read the ratio, not the seconds).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 5


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    floor_cmd = [sys.executable, "-c", "import torch"]
    grade_cmd = [sys.executable, "-m", "grader", "grade", "softmax_lab",
                 str(ROOT / "assignments" / "softmax_lab" / "samples" / "buggy.py"), "--format", "json"]
    floor, grade = [], []
    for _ in range(REPEATS):
        floor.append(seconds(floor_cmd))
        grade.append(seconds(grade_cmd))
    f, g = statistics.median(floor), statistics.median(grade)
    print(f"python -c 'import torch'        {f:7.2f} s (median of {REPEATS})")
    print(f"grader grade (one submission)   {g:7.2f} s (median of {REPEATS})")
    print(f"ratio grade / import torch      {g / f:7.2f}x")


if __name__ == "__main__":
    main()
