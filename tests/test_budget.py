"""The grader plans inside the platform's job limit: checks left without time are "not run".

Whether the scores line comes before the platform's limit under the real
Autolab Makefile is a matter of seconds, so it is measured by
bench/bench_budget.py (which fails when the limit strikes first), not here.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SAMPLES

LAB = ROOT / "assignments" / "softmax_lab"
JOB_LIMIT = 40  # seconds: softmax_backward alone needs more (15 examples x 2.5 s per check)
NOT_RUN = "not run: time limit of the grading job"
SLOW = {  # a correct submission whose softmax_backward takes 2.5 s per call
    "def softmax_backward(inputTensor, gradOutput):\n":
        "def softmax_backward(inputTensor, gradOutput):\n    import time\n    time.sleep(2.5)\n",
}


def slow_submission() -> str:
    """The correct sample with a softmax_backward that sleeps 2.5 s per call."""
    source = (SAMPLES / "correct.py").read_text()
    for old, new in SLOW.items():
        assert old in source
        source = source.replace(old, new)
    return source


def assignment_with_limits(folder: Path, autolab: float, gradescope: float = 600) -> Path:
    """A copy of softmax_lab whose assignment.yaml declares these platform limits."""
    copy = folder / "softmax_lab"
    shutil.copytree(LAB, copy, ignore=shutil.ignore_patterns("__pycache__", "secret.txt", "samples"))
    data = yaml.safe_load((LAB / "assignment.yaml").read_text(encoding="utf-8"))
    data["platforms"] = {"autolab": {"timeout": autolab}, "gradescope": {"timeout": gradescope}}
    (copy / "assignment.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return copy


@pytest.mark.slow
def test_a_slow_submission_keeps_what_it_earned_and_loses_only_what_had_no_time(tmp_path):
    path = tmp_path / "softmax_lab.py"
    path.write_text(slow_submission())
    done = subprocess.run([sys.executable, "-m", "grader", "grade", "softmax_lab", str(path), "--format",
                           "json", "--reveal", "all", "--time-limit", str(JOB_LIMIT)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    checks = [c for q in report["questions"] for c in q["checks"]]
    not_run = [c for c in checks if c["status"] == "not_run"]
    assert not_run, "the job's time must run out before softmax_backward's checks are done"
    assert all(NOT_RUN in c["message"] for c in not_run)
    # The submission is correct: every check either passed or had no time, and a deducting
    # check with no time takes nothing, so each question keeps exactly what it earned.
    assert all(c["passed"] or c["status"] == "not_run" for c in checks), \
        [c for c in checks if not c["passed"] and c["status"] != "not_run"]
    for question in report["questions"]:
        earned = sum(c["score"] for c in question["checks"] if c["passed"])
        assert question["score"] == pytest.approx(earned), question
    backward = next(q for q in report["questions"] if q["name"] == "softmax_backward")
    assert backward["score"] < backward["max_score"]


def test_the_bundles_pass_each_platforms_limit_from_the_spec(tmp_path):
    from grader import spec
    from handout.build import autolab_files, gradescope_files

    assignment = spec.load(assignment_with_limits(tmp_path, autolab=97, gradescope=733))
    assert assignment.platform_limits == {"autolab": 97.0, "gradescope": 733.0}
    makefile = autolab_files(assignment)["autograde-Makefile"].data.decode()
    assert "GRADECHECK_LIMIT ?= 97\n" in makefile and "--time-limit $(GRADECHECK_LIMIT)" in makefile
    assert "GRADECHECK_TIMEOUT ?= 94\n" in makefile, "the hard stop comes just before the platform's"
    import zipfile

    with zipfile.ZipFile(io.BytesIO(gradescope_files(assignment)["autograder.zip"].data)) as bundle:
        script = bundle.read("run_autograder").decode()
    assert 'JOB_LIMIT="${GRADECHECK_LIMIT:-733}"' in script and '--time-limit "$JOB_LIMIT"' in script


@pytest.mark.parametrize("timeout, problem", [(5, "between 10 and 900"), ("soon", "must be")])
def test_a_platform_limit_out_of_range_is_a_spec_error(tmp_path, timeout, problem):
    from grader import spec
    from grader.errors import SpecError

    folder = assignment_with_limits(tmp_path, autolab=180)
    data = yaml.safe_load((folder / "assignment.yaml").read_text())
    data["platforms"]["autolab"]["timeout"] = timeout
    (folder / "assignment.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(SpecError, match=problem) as raised:
        spec.load(folder)
    assert "platforms.autolab" in str(raised.value) and "timeout" in str(raised.value)

