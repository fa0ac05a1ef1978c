"""One CLI grade of softmax_lab, whole process, against the teardown-free torch floor.

The torch floor is `python -c "import torch, os; os._exit(0)"`: what any grade of
a torch assignment must pay (the interpreter and torch), without the interpreter's
teardown, which the grader skips too. The physical floor of a grade adds the
time the student's own code runs in it (train() alone runs four times, about a
second; the worker's word, the median of REPEATS grades of each sample, each in
a fresh process): the goal (issue #17: at most 1.25x) is on that floor. Issue
#17 set it on the torch floor alone for the lab as it then was (7 questions, no
training); the ratio to the torch floor is shown without a goal. Floor, correct
grade and buggy grade take turns, REPEATS times each; the table gives medians,
their spread and the CPU of every process of each run. Every report is checked:
the correct sample must get every automatic point, the buggy one must lose
exactly loss_backward and softmax_backward; a wrong report fails the bench like
a missed goal.

The example bank lives in a private cache: a first grade records it (the cost a
fresh machine pays once per version of the checks, shown apart); the timed
grades find it there, as every grade after the first does. buggy.py is timed
twice over: with the shrink traces an earlier grade of the same bug left in the
cache (grader.shrinks: a class's later submissions with a bug already met, a
regrade), and with them deleted before each run (a bug met for the first time,
so hypothesis shrinks live). The goal holds for both.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (ROOT, TEARDOWN_FREE_TORCH, BenchError, Figure, environment, finish,  # noqa: E402
                    interleaved, ratio_figure, run_once, student_seconds)

SAMPLES = ROOT / "assignments" / "softmax_lab" / "samples"
REPEATS = 5
GOAL = 1.25  # a grade at most this many floors
BUGGY_LOSES = {"loss_backward", "softmax_backward"}
FIRST_SEEN = "buggy.py, no shrink traces"


def forget_shrinks(cache: Path) -> None:
    """Delete the shrink traces kept in `cache` (grader.shrinks), keeping the example bank."""
    for path in cache.glob("*-shrink-*.json"):
        path.unlink()


def grade_command(sample: str) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", "softmax_lab", str(SAMPLES / sample), "--format", "json"]


def checker(sample: str, problems: list[str]):
    """A check of one grade's JSON report: the right score, question by question."""
    def check(done: subprocess.CompletedProcess) -> None:
        if done.returncode != 0:
            raise BenchError(f"grading {sample} failed: {done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        lost = {q["name"] for q in report["questions"]
                if q["score"] < q["max_score"] - 1e-9 and q.get("status") != "pending"}
        lost -= {"softmax_gradient_derivation"}  # graded by hand: pending
        expected = BUGGY_LOSES if sample == "buggy.py" else set()
        if lost != expected:
            problems.append(f"{sample}: lost points on {sorted(lost)}, expected {sorted(expected)}")
    return check


def main() -> None:
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as cache:
        env = environment(GRADECHECK_CACHE=cache)
        floor_command = [sys.executable, "-c", TEARDOWN_FREE_TORCH]
        run_once(floor_command, env=env)  # page the libraries in before anything is timed
        first, first_cpu = run_once(grade_command("buggy.py"), env=env, check=checker("buggy.py", problems))
        timings = interleaved({
            "floor": lambda: run_once(floor_command, env=env),
            "correct.py": lambda: run_once(grade_command("correct.py"), env=env,
                                           check=checker("correct.py", problems)),
            "buggy.py": lambda: run_once(grade_command("buggy.py"), env=env, check=checker("buggy.py", problems)),
            FIRST_SEEN: lambda: (forget_shrinks(Path(cache)),
                                 run_once(grade_command("buggy.py"), env=env, check=checker("buggy.py", problems)))[1],
        }, REPEATS)
        samples = [SAMPLES / name for name in ("correct.py", "buggy.py")]
        own = student_seconds("softmax_lab", samples * REPEATS, env)  # the medians of REPEATS grades
    floor = timings["floor"]
    figures = [Figure("teardown-free torch floor (median)", f"{floor.median:.2f} s", ""),
               Figure("  its spread; CPU of its process", f"{floor.spread()}; {floor.cpu_median:.2f} s")]
    figures.append(Figure("grade buggy.py, first (records the example bank)", f"{first:.2f} s "
                          f"({first / floor.median:.2f}x); CPU {first_cpu:.2f} s"))
    for sample, name in (("correct.py", "correct.py"), ("buggy.py", "buggy.py"), ("buggy.py", FIRST_SEEN)):
        timing = timings[name]
        title = {"buggy.py": "buggy.py, its bug met before", FIRST_SEEN: "buggy.py, its bug met first"}.get(name, name)
        figures.append(Figure(f"grade {title} (median of {REPEATS})", f"{timing.median:.2f} s, {timing.spread()}"))
        figures.append(Figure(f"  CPU of every process of it (median)", f"{timing.cpu_median:.2f} s "
                              f"({timing.cpu_median / floor.cpu_median:.2f}x the floor's)"))
        figures.append(Figure(f"  {title} / torch floor", f"{timing.median / floor.median:.2f}x"))
        figures.append(Figure(f"  the student's own code in it", f"{own[str(SAMPLES / sample)]:.2f} s"))
        figures.append(ratio_figure(f"  {title} / (floor + student)",
                                    timing.median / (floor.median + own[str(SAMPLES / sample)]), GOAL))
    finish("bench_cli: one grade of softmax_lab", figures, problems)


if __name__ == "__main__":
    main()
