"""grade-all over N generated submissions: --jobs 2 against --jobs 1, in one run.

Prints wall seconds, per-submission cost and the speed-up. Usage:
python bench/bench_batch.py [N]   (default 200; `make bench` uses the default)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from make_class import make_class  # noqa: E402


def run(folder: Path, out: Path, jobs: int) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "grade-all", "softmax_lab", str(folder), "--out", str(out),
                    "--jobs", str(jobs)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "class"
        make_class(folder, count)
        one = run(folder, Path(scratch) / "out1", 1)
        two = run(folder, Path(scratch) / "out2", 2)
        same = all((Path(scratch) / "out1" / "reports" / p.name).read_text() ==
                   p.read_text() for p in (Path(scratch) / "out2" / "reports").glob("*.json"))
    print(f"{count} submissions")
    print(f"--jobs 1   {one:8.1f} s   {one / count:6.3f} s per submission")
    print(f"--jobs 2   {two:8.1f} s   {two / count:6.3f} s per submission")
    print(f"speed-up jobs 2 / jobs 1: {one / two:.2f}x; identical reports: {same}")


if __name__ == "__main__":
    main()
