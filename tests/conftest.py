"""Shared helpers: run the grader's command line as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
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


# `make test` runs two pytest workers (pytest-xdist). Each module runs whole in one worker, so
# its module-scoped fixtures run once; the modules that look for attack processes left anywhere
# on the machine share one worker, so that one never sees the other's live ones.
SCANS_THE_PROCESS_TABLE = {"test_attacks", "test_isolation", "test_sandbox", "test_integrity"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """A module's tests to one worker; the process-table scanners together."""
    from xdist.scheduler import LoadFileScheduling

    class ByModule(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "process-table" if Path(path).stem in SCANS_THE_PROCESS_TABLE else path

    return ByModule(config, log)


def graded_once(tmp_path_factory: pytest.TempPathFactory, assignment: str, files: list[Path],
                jobs: int = 2, timeout: float = 900) -> tuple[subprocess.CompletedProcess, Path]:
    """`grade-all ASSIGNMENT` over `files` (each copied as PARENT__NAME), run once per test
    session and shared by every module that asks for the same files (also across pytest
    workers, which wait for the first): the grade-all result and its OUT folder."""
    import fcntl
    import hashlib

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the session's own folder
    key = hashlib.sha256("\0".join([assignment, *map(str, files)]).encode()).hexdigest()[:16]
    where = shared / f"graded-once-{key}"
    with open(shared / f"graded-once-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (where / "done.json").exists():
            done = json.loads((where / "done.json").read_text())
            return subprocess.CompletedProcess(done["args"], done["returncode"], done["stdout"],
                                               done["stderr"]), where / "out"
        shutil.rmtree(where, ignore_errors=True)
        (where / "class").mkdir(parents=True)
        for path in files:
            shutil.copy(path, where / "class" / f"{path.parent.name}__{path.name}")
        command = [sys.executable, "-m", "grader", "grade-all", assignment, str(where / "class"),
                   "--out", str(where / "out"), "--jobs", str(jobs)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        (where / "done.json").write_text(json.dumps({"args": command, "returncode": done.returncode,
                                                     "stdout": done.stdout, "stderr": done.stderr}))
        return done, where / "out"


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
