"""grade-all over N generated submissions: --jobs 2 against --jobs 1, in one run.

Usage: python bench/bench_batch.py [N]   (default 200; `make bench` uses the default)

The class (bench/make_class.py) mixes correct, buggy and hostile submissions.
One grade first records the example bank into a private cache, so that both
runs start equal. Then: --jobs 1, --jobs 2 (wall time, per-submission cost,
speed-up), every report checked against what its source must score, and a
third run killed halfway and started again (nothing lost, nothing graded twice).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from make_class import check_reports, make_class  # noqa: E402


def grade_all(folder: Path, out: Path, jobs: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "grader", "grade-all", "softmax_lab", str(folder),
                             "--out", str(out), "--jobs", str(jobs)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def timed(folder: Path, out: Path, jobs: int, env: dict) -> float:
    started = time.perf_counter()
    process = grade_all(folder, out, jobs, env)
    _, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"grade-all failed: {err[-2000:]}")
    return time.perf_counter() - started


def killed_and_resumed(folder: Path, out: Path, count: int, env: dict) -> str:
    """Kill a --jobs 2 run once half the reports exist, rerun it, say what happened."""
    reports = out / "reports"
    first = grade_all(folder, out, 2, env)
    while first.poll() is None and len(list(reports.glob("*.json"))) < count // 2:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    before = {p.name: p.stat().st_mtime_ns for p in reports.glob("*.json")}
    second = grade_all(folder, out, 2, env)
    _, err = second.communicate()
    after = {p.name: p.stat().st_mtime_ns for p in reports.glob("*.json")}
    regraded = [name for name in before if after.get(name) != before[name]]
    return (f"killed after {len(before)} reports; rerun: {len(after)} reports of {count}, "
            f"{len(regraded)} regraded, exit {second.returncode}; "
            f"{err.strip().splitlines()[0] if err.strip() else ''}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        env = {**os.environ, "GRADECHECK_CACHE": str(base / "cache")}
        folder = base / "class"
        written = make_class(folder, count)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", "grade", "softmax_lab", str(next(iter(written.values()))),
                        "--format", "json"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        warm = time.perf_counter() - started
        one = timed(folder, base / "out1", 1, env)
        two = timed(folder, base / "out2", 2, env)
        wrong = check_reports(base / "out1" / "reports", written) + check_reports(base / "out2" / "reports", written)
        differ = [p.name for p in (base / "out2" / "reports").glob("*.json")
                  if _scores(p) != _scores(base / "out1" / "reports" / p.name)]
        resumed = killed_and_resumed(folder, base / "out3", count, env)
        wrong += check_reports(base / "out3" / "reports", written)
    print(f"{count} submissions (bench/make_class.py); bank recorded by a first grade in {warm:.1f} s")
    print(f"--jobs 1   {one:8.1f} s   {one / count:6.3f} s per submission")
    print(f"--jobs 2   {two:8.1f} s   {two / count:6.3f} s per submission")
    print(f"speed-up jobs 2 / jobs 1: {one / two:.2f}x")
    print(f"reports right: {'all' if not wrong else f'{len(wrong)} wrong'}; "
          f"jobs 1 and jobs 2 scores identical: {not differ}")
    for problem in wrong[:20]:
        print(f"  {problem}")
    print(f"kill and resume: {resumed}")


def _scores(path: Path) -> object:
    data = json.loads(path.read_text())
    return data["score"], [(q["name"], q["score"]) for q in data["questions"]]


if __name__ == "__main__":
    main()
