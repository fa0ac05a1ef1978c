"""One submission, whole command-line process, against the floor `python -c "import torch"`.

Both are timed in this run, alternating, several times each; the ratio of
medians is printed (the machines are noisy: read the ratios, not the seconds).
The example bank lives in a private cache: the first grade records it (the
cost a fresh machine pays once per version of the checks), the timed grades
find it there, as every grade after the first does.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "assignments" / "softmax_lab" / "samples"
REPEATS = 5


def seconds(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def grade_command(sample: str) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", "softmax_lab", str(SAMPLES / sample), "--format", "json"]


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "GRADECHECK_CACHE": cache}
        floor_cmd = [sys.executable, "-c", "import torch"]
        seconds(floor_cmd, env)  # page the libraries in before anything is timed
        floor = [seconds(floor_cmd, env)]
        cold = seconds(grade_command("buggy.py"), env)
        timings: dict[str, list[float]] = {"buggy.py": [], "correct.py": []}
        for _ in range(REPEATS):
            floor.append(seconds(floor_cmd, env))
            for sample, runs in timings.items():
                runs.append(seconds(grade_command(sample), env))
    f = statistics.median(floor)
    print(f"python -c 'import torch'                  {f:6.2f} s (median of {len(floor)})")
    print(f"grade buggy.py, first (records the bank)  {cold:6.2f} s   {cold / f:5.2f}x")
    for sample, runs in timings.items():
        g = statistics.median(runs)
        print(f"grade {sample:<12} (median of {REPEATS})        {g:6.2f} s   {g / f:5.2f}x")


if __name__ == "__main__":
    main()
