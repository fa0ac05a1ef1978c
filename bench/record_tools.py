"""Record how long Otter-Grader and nbgrader take to grade one submission of the lab's
softmax question, as multiples of the teardown-free torch floor measured in the same
run. bench_tools.py keeps the printed figures as constants (with the date and versions)
and holds gradecheck, measured live, to at least 3x faster (issue #17).

Usage: python bench/record_tools.py OTHER_PYTHON [--repeats R]

OTHER_PYTHON is an interpreter of a separate environment with otter-grader, nbgrader,
ipykernel and torch==2.13.0 installed (never the project's: they pin much else). The
same submission (samples/correct.py's softmax) and the same five tests (shape, sums
to one, large logits, a known answer, shift invariance) are graded by each tool the
way it grades one submission without containers: `otter run` on the notebook with the
bundle `otter generate` made, and `nbgrader autograde` on it in a course folder.
gradecheck grades the lab's softmax question alone (its six checks, hypothesis
examples replayed from the bank) with the project's interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, TEARDOWN_FREE_TORCH, environment, interleaved, run_once  # noqa: E402

SOLUTION = '''import torch


def softmax(a):
    """Return the softmax over all entries of `a`, same shape; stable for huge logits."""
    shifted = a - a.max()
    exps = torch.exp(shifted)
    return exps / exps.sum()
'''
# (code, what it must print): the same five tests for both tools
TESTS = [
    ("tuple(softmax(torch.tensor([[1.0], [2.0], [3.0]])).shape)", "(3, 1)"),
    ("round(float(softmax(torch.randn(10, 1, generator=torch.Generator().manual_seed(0))).sum()), 5)", "1.0"),
    ("bool(torch.isfinite(softmax(torch.tensor([[1000.0], [0.0], [-1000.0]]))).all())", "True"),
    ("[round(float(v), 4) for v in softmax(torch.tensor([[0.0], [1.0]])).flatten()]", "[0.2689, 0.7311]"),
    ("bool(torch.allclose(softmax(torch.tensor([[1.0], [2.0]])), softmax(torch.tensor([[101.0], [102.0]]))))",
     "True"),
]
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
          "language_info": {"name": "python"}}


def tool_env(other: str) -> dict[str, str]:
    """The environment the other tools run in: their own bin folder first (nbgrader runs
    alembic by name)."""
    return environment(PATH=f"{Path(other).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def otter_setup(folder: Path, other: str) -> list[str]:
    """An Otter autograder for the softmax question; the command grading the submission."""
    tests = folder / "tests"
    tests.mkdir(parents=True)
    cases = [{"code": f">>> import torch\n>>> {code}\n{expected}", "hidden": False, "locked": False}
             for code, expected in TESTS]
    test = {"name": "softmax", "points": 10, "suites": [
        {"cases": cases, "scored": True, "setup": "", "teardown": "", "type": "doctest"}]}
    (tests / "softmax.py").write_text(f"OK_FORMAT = True\n\ntest = {test!r}\n")
    (folder / "requirements.txt").write_text("")
    done = subprocess.run([other, "-m", "otter", "generate", "-t", "tests", "-r", "requirements.txt"],
                          cwd=folder, capture_output=True, text=True, env=tool_env(other))
    if done.returncode != 0:
        raise SystemExit(f"otter generate failed: {done.stderr[-2000:]}")
    notebook = nbformat.v4.new_notebook(metadata=KERNEL)
    notebook.cells = [nbformat.v4.new_code_cell(SOLUTION)]
    nbformat.write(notebook, folder / "submission.ipynb")
    (folder / "out").mkdir()
    return [other, "-m", "otter", "run", "-a", "autograder.zip", "-o", "out", "submission.ipynb"]


def nbgrader_setup(folder: Path, other: str) -> list[str]:
    """An nbgrader course with the softmax question; the command autograding one student."""
    source = folder / "source" / "ps1"
    source.mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'bench'\nc.CourseDirectory.root = {str(folder)!r}\n")
    tests = "import torch\n" + "\n".join(f"assert repr({code}) == {expected!r}" for code, expected in TESTS)
    notebook = nbformat.v4.new_notebook(metadata=KERNEL)
    marked = SOLUTION.replace("    shifted", "    ### BEGIN SOLUTION\n    shifted", 1) + "    ### END SOLUTION\n"
    notebook.cells = [
        nbformat.v4.new_code_cell(marked, metadata={"nbgrader": {
            "grade": False, "grade_id": "softmax_solution", "locked": False, "schema_version": 3,
            "solution": True, "task": False}}),
        nbformat.v4.new_code_cell(tests, metadata={"nbgrader": {
            "grade": True, "grade_id": "softmax_tests", "locked": True, "points": 10, "schema_version": 3,
            "solution": False, "task": False}}),
    ]
    nbformat.write(notebook, source / "ps1.ipynb")
    nbgrader = [other, "-m", "nbgrader"]
    for command in (["db", "assignment", "add", "ps1"], ["db", "student", "add", "s1"],
                    ["generate_assignment", "ps1", "--force"]):
        done = subprocess.run(nbgrader + command, cwd=folder, capture_output=True, text=True, env=tool_env(other))
        if done.returncode != 0:
            raise SystemExit(f"nbgrader {' '.join(command)} failed: {done.stderr[-2000:]}")
    submitted = folder / "submitted" / "s1" / "ps1"
    submitted.mkdir(parents=True)
    released = nbformat.read(folder / "release" / "ps1" / "ps1.ipynb", as_version=4)
    released.cells[0].source = SOLUTION  # the student's answer in place of the stub
    nbformat.write(released, submitted / "ps1.ipynb")
    return nbgrader + ["autograde", "ps1", "--student", "s1", "--force"]


def one_question_copy(folder: Path) -> Path:
    """softmax_lab with only its softmax question (its six checks)."""
    copy = folder / "softmax_lab"
    shutil.copytree(ROOT / "assignments" / "softmax_lab", copy,
                    ignore=shutil.ignore_patterns("__pycache__", "samples"))
    data = yaml.safe_load((copy / "assignment.yaml").read_text(encoding="utf-8"))
    data["questions"] = [q for q in data["questions"] if q["name"] == "softmax"]
    data.pop("parts", None)
    data["total_points"] = sum(q["points"] for q in data["questions"])
    (copy / "assignment.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return copy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("other_python")
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    other = options.other_python
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        env = environment(GRADECHECK_CACHE=str(base / "cache"))
        otter = otter_setup(base / "otter", other)
        nbgrader = nbgrader_setup(base / "nbgrader", other)
        ours = [sys.executable, "-m", "grader", "grade", str(one_question_copy(base)),
                str(ROOT / "assignments" / "softmax_lab" / "samples" / "correct.py"), "--format", "json"]
        run_once(ours, env=env)  # records the bank
        others = tool_env(other)
        run_once(otter, env=others, cwd=base / "otter")
        run_once(nbgrader, env=others, cwd=base / "nbgrader")
        timings = interleaved({
            "floor": lambda: run_once([other, "-c", TEARDOWN_FREE_TORCH], env=env),
            "gradecheck": lambda: run_once(ours, env=env),
            "otter": lambda: run_once(otter, env=others, cwd=base / "otter"),
            "nbgrader": lambda: run_once(nbgrader, env=others, cwd=base / "nbgrader"),
        }, options.repeats)
        otter_score = json.loads((base / "otter" / "out" / "results.json").read_text())
        graded = subprocess.run(nbgrader[:3] + ["export", "--to", "grades.csv"], cwd=base / "nbgrader",
                                capture_output=True, text=True, env=others)
        nbgrader_grades = (base / "nbgrader" / "grades.csv").read_text() if graded.returncode == 0 else graded.stderr
    versions = subprocess.run([other, "-c", "import importlib.metadata as m; print(' '.join(f'{p} {m.version(p)}' "
                               "for p in ('otter-grader', 'nbgrader', 'torch')))"],
                              capture_output=True, text=True, check=True).stdout.strip()
    floor = timings["floor"].median
    print(f"versions: {versions}; floor {floor:.2f} s")
    for name in ("gradecheck", "otter", "nbgrader"):
        print(f"{name}: {timings[name].median:.2f} s = {timings[name].median / floor:.2f} floors "
              f"({timings[name].spread()})")
    print(f"otter's results: {json.dumps(otter_score)[:300]}")
    print(f"nbgrader's grades: {nbgrader_grades[:300]}")


if __name__ == "__main__":
    main()
