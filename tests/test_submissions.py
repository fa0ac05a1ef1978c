"""End-to-end: grade a corpus of realistic student submissions for softmax_lab.

tests/submissions/softmax_lab/good/ holds correct submissions written in many
styles (explicit loops, numpy inside, float64 inside, autograd backward, debug
prints, ...); each must score full marks on every question.

tests/submissions/softmax_lab/bad/ holds submissions with one plausible
student bug each.  The last line of each file's module docstring is
``Loses: q1, q2`` and names the questions the bug must cost points on; every
other question must still get full marks (so a bug in one function must not
leak into the score of another).

Every file is graded once through the real command line, in one
``python -m grader grade-all`` run with two jobs (each report is the JSON
``grade --format json`` prints); the parametrized tests read the cached
reports. tests/test_cli.py covers ``grade`` itself.  The module is
marked ``slow``: deselect it with ``-m "not slow"``, run only it with
``-m slow`` or ``pytest tests/test_submissions.py``.
"""

from __future__ import annotations

import ast
import json
import math
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import graded_once

pytestmark = pytest.mark.slow

ASSIGNMENT = "softmax_lab"
REPO_ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions" / ASSIGNMENT
GOOD = sorted((SUBMISSIONS / "good").glob("*.py"))
BAD = sorted((SUBMISSIONS / "bad").glob("*.py"))

# The graded questions of softmax_lab; used to catch typos in `Loses:` lines.
QUESTIONS = {
    "softmax",
    "linear",
    "loss",
    "loss_backward",
    "softmax_backward",
    "color_histogram",
    "max_margin",
    "sgd",
    "momentum",
    "minibatch",
    "training",
    "histogram_training",
}

# Not a timing assertion: only a guard so a hung grader fails the case
# instead of hanging the whole test session.
GRADE_TIMEOUT_S = 900
MAX_WORKERS = 2


def expected_losses(path: Path) -> set[str]:
    """Questions named on the `Loses:` line ending the module docstring."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{path.name}: no module docstring"
    last = docstring.strip().splitlines()[-1].strip()
    assert last.startswith("Loses:"), (
        f"{path.name}: last docstring line must be 'Loses: ...', got {last!r}"
    )
    names = last[len("Loses:"):].strip()
    if names == "none":
        return set()
    return {name.strip() for name in names.split(",") if name.strip()}


@dataclass
class Graded:
    returncode: int | None
    stdout: str
    stderr: str
    report: dict | None
    error: str | None


def _text(data) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def grade_batch(paths: list[Path], scratch: pytest.TempPathFactory) -> dict[Path, Graded]:
    """Grade many files with one `grade-all` run (judges forked once, reports per file),
    shared with tests/test_handout.py's server side (conftest.graded_once).

    The reports are the same JSON `grade --format json` prints; grading them
    in one batch spares each file an interpreter and torch start-up.
    """
    proc, out = graded_once(scratch, ASSIGNMENT, paths, jobs=MAX_WORKERS, timeout=GRADE_TIMEOUT_S)
    names = {path: f"{path.parent.name}__{path.stem}" for path in paths}
    graded = {}
    for path, name in names.items():
        try:
            report = json.loads((out / "reports" / f"{name}.json").read_text())
            graded[path] = Graded(proc.returncode, proc.stdout, proc.stderr, report, None)
        except (OSError, ValueError) as exc:
            graded[path] = Graded(proc.returncode, proc.stdout, proc.stderr, None, f"no report ({exc})")
    return graded


@pytest.fixture(scope="module")
def reports(request, tmp_path_factory) -> dict[Path, Graded]:
    """Grade every submission the session selected from this module, once, two at a time."""
    wanted = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec and "path" in callspec.params and Path(item.path) == Path(__file__):
            wanted.append(callspec.params["path"])
    wanted = sorted(set(wanted)) or GOOD + BAD
    return grade_batch(wanted, tmp_path_factory)


def _tail(text: str, limit: int = 3000) -> str:
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _report_of(graded: Graded, path: Path) -> dict:
    if graded.report is None or graded.returncode != 0:
        pytest.fail(
            f"grading {path.name} failed: {graded.error or f'exit status {graded.returncode}'}\n"
            f"--- stdout ---\n{_tail(graded.stdout)}\n--- stderr ---\n{_tail(graded.stderr)}"
        )
    return graded.report


def _full(question: dict) -> bool:
    return math.isclose(question["score"], question["max_score"], rel_tol=1e-9, abs_tol=1e-9)


def _describe(question: dict) -> str:
    lines = [f"  question {question['name']}: {question['score']}/{question['max_score']}"]
    for check in question.get("checks", []):
        if not check.get("passed"):
            message = str(check.get("message", "")).strip().replace("\n", "\n        ")
            lines.append(
                f"    FAILED {check.get('name')} ({check.get('score')}/{check.get('max_score')},"
                f" {check.get('visibility')}):\n        {message}"
            )
    return "\n".join(lines)


def test_corpus_is_well_formed():
    assert len(GOOD) >= 10, f"expected at least 10 good submissions, found {len(GOOD)}"
    assert len(BAD) >= 14, f"expected at least 14 bad submissions, found {len(BAD)}"
    stems = [p.stem for p in GOOD + BAD]
    assert len(stems) == len(set(stems)), "submission file names must be unique across good/ and bad/"
    for path in GOOD:
        assert expected_losses(path) == set(), f"{path.name}: good submissions must say 'Loses: none'"
    for path in BAD:
        losses = expected_losses(path)
        assert losses, f"{path.name}: a bad submission must lose at least one question"
        assert losses <= QUESTIONS, f"{path.name}: unknown questions {sorted(losses - QUESTIONS)}"


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_good_submission_gets_full_marks(path, reports):
    report = _report_of(reports[path], path)
    questions = report["questions"]
    assert questions, f"{path.name}: report has no questions"
    short = [q for q in questions if not _full(q)]
    assert not short, (
        f"correct submission {path.name} lost points "
        f"({report['score']}/{report['max_score']}):\n" + "\n".join(_describe(q) for q in short)
    )


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_submission_loses_exactly_its_questions(path, reports):
    losses = expected_losses(path)
    report = _report_of(reports[path], path)
    by_name = {q["name"]: q for q in report["questions"]}
    missing = sorted(losses - set(by_name))
    assert not missing, f"{path.name}: report has no question(s) {missing}; has {sorted(by_name)}"

    not_penalised = [by_name[name] for name in sorted(losses) if _full(by_name[name])]
    wrongly_penalised = [q for name, q in by_name.items() if name not in losses and not _full(q)]
    problems = []
    if not_penalised:
        problems.append(
            "bug not caught, full marks on: " + ", ".join(q["name"] for q in not_penalised)
        )
    if wrongly_penalised:
        problems.append(
            "points lost on questions the bug does not touch:\n"
            + "\n".join(_describe(q) for q in wrongly_penalised)
        )
    assert not problems, (
        f"{path.name} (Loses: {', '.join(sorted(losses))}; "
        f"score {report['score']}/{report['max_score']}):\n" + "\n".join(problems)
    )
