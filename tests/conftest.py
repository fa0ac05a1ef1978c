"""Shared helpers: run the grader's command line as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The platform formats refuse to grade without a course secret (grader/secret.py); every
# grader these tests start inherits this one.
os.environ.setdefault("GRADECHECK_SECRET", "the tests' course secret")
SAMPLES = ROOT / "assignments" / "softmax_lab" / "samples"
QUESTIONS = ["softmax", "linear", "loss", "loss_backward", "softmax_backward", "color_histogram", "max_margin",
             "sgd", "momentum", "minibatch", "training", "histogram_training", "softmax_gradient_derivation"]
# the questions the grader scores (Autolab's scores line): all but the written one
AUTOMATIC = [q for q in QUESTIONS if q != "softmax_gradient_derivation"]


def run_grader(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m grader ARGS` from the repository root and capture its output."""
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def grade_json(submission: Path | str, assignment: str = "softmax_lab") -> dict:
    """Grade a submission and return the parsed JSON report, staff view (asserting exit 0)."""
    done = run_grader("grade", assignment, str(submission), "--format", "json", "--reveal", "all")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def scores(report: dict) -> dict[str, tuple[float, float]]:
    """{question: (score, max_score)} of a JSON report."""
    return {q["name"]: (q["score"], q["max_score"]) for q in report["questions"]}


@pytest.fixture
def write_submission(tmp_path):
    """Write a variant of the sample correct submission with text replaced."""

    def write(name: str, replacements: dict[str, str], prefix: str = "") -> Path:
        source = (SAMPLES / "correct.py").read_text()
        for old, new in replacements.items():
            assert old in source, old
            source = source.replace(old, new)
        path = tmp_path / f"{name}.py"
        path.write_text(prefix + source)
        return path

    return write


NO_TORCH = "torch is not installed here (the tests' stand-in)"


def no_torch_environment(folder: Path) -> dict[str, str]:
    """The environment of a machine without torch: a stand-in `torch` package made under
    `folder` raises ImportError (NO_TORCH) when imported; also the tests' course secret, a
    cache folder of its own, and no trace of an outer make (Autolab starts make itself)."""
    fake = folder / "no-torch"
    (fake / "torch").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text(f"raise ImportError({NO_TORCH!r})\n")
    outer = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}
    environment = {k: v for k, v in os.environ.items() if k not in outer}
    environment.update({
        "PYTHONPATH": os.pathsep.join([str(fake), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "GRADECHECK_PYTHON": sys.executable,
        "GRADECHECK_CACHE": str(folder / "cache"),
        "GRADECHECK_SECRET": os.environ.get("GRADECHECK_SECRET") or "the tests' course secret",
    })
    return environment
