"""The grader plans inside the platform's job limit: the scores line always comes in time."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from conftest import QUESTIONS, ROOT, SAMPLES

pytestmark = pytest.mark.slow
LAB = ROOT / "assignments" / "softmax_lab"
# seconds: Autolab's job limit in this test (180 by default; GRADECHECK_TEST_AUTOLAB_LIMIT=180
# runs the issue's own case, 3 minutes)
PLATFORM_LIMIT = int(os.environ.get("GRADECHECK_TEST_AUTOLAB_LIMIT", "40"))
SLOW = {  # a correct submission whose softmax_backward takes 2.5 s per call
    "def softmax_backward(inputTensor, gradOutput):\n":
        "def softmax_backward(inputTensor, gradOutput):\n    import time\n    time.sleep(2.5)\n",
}


def _assignment_with_limit(folder: Path) -> Path:
    copy = folder / "softmax_lab"
    copy.mkdir(parents=True)
    data = yaml.safe_load((LAB / "assignment.yaml").read_text(encoding="utf-8"))
    data["platforms"] = {"autolab": {"timeout": PLATFORM_LIMIT}}
    (copy / "assignment.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    shutil.copy(LAB / "checks.py", copy / "checks.py")
    return copy


def test_a_slow_submission_keeps_what_it_earned_and_the_scores_line_comes_in_time(tmp_path):
    from grader import spec
    from handout.build import autolab_files

    assignment = spec.load(_assignment_with_limit(tmp_path / "course"))
    job = tmp_path / "job"
    job.mkdir()
    files = autolab_files(assignment)
    (job / "autograde.tar").write_bytes(files["autograde.tar"].data)
    (job / "Makefile").write_bytes(files["autograde-Makefile"].data)
    source = (SAMPLES / "correct.py").read_text()
    for old, new in SLOW.items():
        assert old in source
        source = source.replace(old, new)
    with tarfile.open(job / "handin.tar", "w") as handin:
        data = source.encode()
        info = tarfile.TarInfo("softmax_lab.py")
        info.size = len(data)
        handin.addfile(info, io.BytesIO(data))
    outer = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}
    env = {k: v for k, v in os.environ.items() if k not in outer}
    env["GRADECHECK_PYTHON"] = sys.executable
    started = time.monotonic()
    done = subprocess.run(["timeout", str(PLATFORM_LIMIT), "make"], cwd=job, env=env, capture_output=True,
                          text=True, check=False)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, f"the platform's limit struck first ({elapsed:.1f} s)\n{done.stderr[-2000:]}"
    last = json.loads(done.stdout.rstrip("\n").splitlines()[-1])
    scores = last["scores"]
    assert list(scores) == QUESTIONS
    for question in ("softmax", "linear", "loss", "loss_backward"):  # graded before the slow one
        assert scores[question] == assignment.question(question).points, scores
    print(f"limit {PLATFORM_LIMIT} s: make took {elapsed:.1f} s; scores {scores}")
    if PLATFORM_LIMIT <= 60:  # too short for all of softmax_backward's calls: the budget runs out
        assert scores["softmax_backward"] < assignment.question("softmax_backward").points
        assert "not run: time limit of the grading job" in done.stdout
    short = [q for q in QUESTIONS if scores[q] < assignment.question(q).points]
    assert not short or "not run: time limit of the grading job" in done.stdout, short
    assert last["scoreboard"][0] == pytest.approx(sum(scores.values()))
