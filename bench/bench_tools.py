"""gradecheck against Otter-Grader and nbgrader: one submission of the lab's softmax question.

The other tools' figures come from a recorded run (bench/record_tools.py, which sets
both up with the same submission and five equivalent tests), as multiples of the
teardown-free torch floor measured in that run; a multiple of the floor carries
from machine to machine far better than seconds. gradecheck's grade of the softmax
question alone (its six checks) is measured here, against the floor, taking turns
REPEATS times. Goal (issue #17): at least 3x faster than each, per submission.
Fails (exit 1) when missed, or when gradecheck's report is not full marks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (ROOT, TEARDOWN_FREE_TORCH, BenchError, Figure, environment, finish,  # noqa: E402
                    interleaved, ratio_figure, run_once)
from record_tools import one_question_copy  # noqa: E402

REPEATS = 5
GOAL = 3.0
# python bench/record_tools.py OTHER_PYTHON, 2026-12-05, on a quiet 2-core AMD EPYC
# machine: otter-grader 7.0.0, nbgrader 0.9.6, torch 2.13.0+cpu, Python 3.11;
# `otter run` 10.84 s, `nbgrader autograde` 4.57 s, the floor 1.03 s (medians of 5)
RECORDED_FLOORS = {"Otter-Grader 7.0.0 (otter run)": 10.56, "nbgrader 0.9.6 (nbgrader autograde)": 4.45}
SAMPLE = ROOT / "assignments" / "softmax_lab" / "samples" / "correct.py"


def main() -> None:
    problems: list[str] = []

    def full_marks(done: subprocess.CompletedProcess) -> None:
        if done.returncode != 0:
            raise BenchError(f"grading failed: {done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        if report["score"] != report["max_score"]:
            problems.append(f"the softmax question scored {report['score']} of {report['max_score']}")

    with tempfile.TemporaryDirectory() as scratch:
        env = environment(GRADECHECK_CACHE=str(Path(scratch) / "cache"))
        ours = [sys.executable, "-m", "grader", "grade", str(one_question_copy(Path(scratch))), str(SAMPLE),
                "--format", "json"]
        run_once(ours, env=env, check=full_marks)  # records the bank
        timings = interleaved({
            "floor": lambda: run_once([sys.executable, "-c", TEARDOWN_FREE_TORCH], env=env),
            "gradecheck": lambda: run_once(ours, env=env, check=full_marks),
        }, REPEATS)
    floor, grade = timings["floor"], timings["gradecheck"]
    floors = grade.median / floor.median
    figures = [Figure("teardown-free torch floor (median)", f"{floor.median:.2f} s, {floor.spread()}"),
               Figure("gradecheck: the softmax question alone", f"{grade.median:.2f} s = {floors:.2f} floors")]
    for tool, recorded in RECORDED_FLOORS.items():
        figures.append(ratio_figure(f"  {tool}, {recorded:.2f} floors: ours faster by", recorded / floors, GOAL,
                                    at_least=True))
    finish("bench_tools: one submission, gradecheck against Otter-Grader and nbgrader", figures, problems)


if __name__ == "__main__":
    main()
