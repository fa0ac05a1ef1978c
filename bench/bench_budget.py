"""The scores line comes before the platform's limit: the Autolab job, end to end.

A correct submission whose softmax_backward takes 2.5 s per call is graded
through the bundle's own Makefile (autograde.tar, handin.tar, `make`) under
`timeout LIMIT`, as Autolab runs it. Prints the job's time as a share of the
limit, and fails (exit 1) when the limit struck first, when the last line is
not the grader's own scores line, or when no check was cut short (then the
run proved nothing about the budget).

    bench/bench_budget.py [LIMIT]     # seconds, 40 by default; 180 is Autolab's default
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from test_budget import NOT_RUN, assignment_with_limits, slow_submission  # noqa: E402


def handin_tar(source: str) -> bytes:
    """A handin.tar holding softmax_lab.py with `source`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as handin:
        data = source.encode()
        info = tarfile.TarInfo("softmax_lab.py")
        info.size = len(data)
        handin.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def main() -> int:
    from grader import spec
    from handout.build import autolab_files

    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 40.0
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        assignment = spec.load(assignment_with_limits(folder / "course", autolab=limit))
        job = folder / "job"
        job.mkdir()
        files = autolab_files(assignment)
        (job / "autograde.tar").write_bytes(files["autograde.tar"].data)
        (job / "Makefile").write_bytes(files["autograde-Makefile"].data)
        (job / "handin.tar").write_bytes(handin_tar(slow_submission()))
        outer = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}  # Autolab starts make itself
        env = {k: v for k, v in os.environ.items() if k not in outer}
        env["GRADECHECK_PYTHON"] = sys.executable
        env["GRADECHECK_CACHE"] = str(folder / "cache")
        env.setdefault("GRADECHECK_SECRET", "the budget bench's course secret")
        started = time.monotonic()
        done = subprocess.run(["timeout", f"{limit:g}", "make"], cwd=job, env=env, capture_output=True,
                              text=True, check=False)
        elapsed = time.monotonic() - started
    from common import Figure, finish

    problems = []
    if done.returncode != 0:
        problems.append(f"the platform's limit struck first (make exited {done.returncode})")
    scores = None
    try:
        scores = json.loads(done.stdout.rstrip("\n").splitlines()[-1])["scores"]
    except (ValueError, IndexError, KeyError, TypeError):
        problems.append("the last line is not a scores line")
    if "The grader stopped with status" in done.stdout:
        problems.append("the Makefile's fallback line was printed: the grader did not finish by itself")
    if NOT_RUN not in done.stdout:
        problems.append("no check was cut short: the run says nothing about the budget")
    if problems:
        print(done.stderr[-2000:], file=sys.stderr)
    figures = [Figure(f"Autolab job (limit {limit:g} s), slow correct submission",
                      f"{elapsed:.1f} s, {elapsed / limit:.2f}x the limit", "< 1x", elapsed < limit),
               Figure("  its scores line", "present" if scores is not None else "missing")]
    finish("bench_budget: the report comes before the platform's limit", figures, problems)
    return 0


if __name__ == "__main__":
    sys.exit(main())
