"""End-to-end: grade realistic submissions of the softmax_vectorized assignment.

tests/submissions/softmax_vectorized/good/ holds correct submissions in many
styles (loops, einsum, np.take_along_axis, a log-sum-exp helper, float64
inside, float32 inside, float32 kept, Python floats or 0-d arrays or numpy
scalars for the losses, lists for tuples, a class, the bias trick, a loop
over the classes only, a history measured after each step); each must score
full marks.

tests/submissions/softmax_vectorized/bad/ holds submissions with one
plausible bug each. The last line of each module docstring is
``Loses: q1, q2`` and names the questions the bug must cost points on; every
other question must keep full marks.

Every file is graded once, through the real command line, in one
``python -m grader grade-all`` run; the parametrized tests and the message
tests read those reports. Two more grades check that the conventions of the
spec's ``extra:`` mapping are what the checks judge by.
"""

from __future__ import annotations

import ast
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

ASSIGNMENT = "softmax_vectorized"
REPO_ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions" / ASSIGNMENT
GOOD = sorted((SUBMISSIONS / "good").glob("*.py"))
BAD = sorted((SUBMISSIONS / "bad").glob("*.py"))
QUESTIONS = {"loss_naive", "loss_vectorized", "jacobian", "linear_backward", "label_smoothing", "training"}
TIMEOUT_S = 900  # a guard against a hung grader, not a timing assertion


def expected_losses(path: Path) -> set[str]:
    """Questions named on the `Loses:` line ending the module docstring."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{path.name}: no module docstring"
    last = docstring.strip().splitlines()[-1].strip()
    assert last.startswith("Loses:"), f"{path.name}: last docstring line must be 'Loses: ...', got {last!r}"
    names = last[len("Loses:"):].strip()
    return set() if names == "none" else {n.strip() for n in names.split(",") if n.strip()}


def grade_folder(paths: list[Path], scratch: Path, assignment: str | Path = ASSIGNMENT) -> dict[str, dict]:
    """Grade files with one `grade-all` run; {file stem: JSON report}."""
    folder, out = scratch / "class", scratch / "out"
    folder.mkdir(parents=True)
    for path in paths:
        shutil.copy(path, folder / f"{path.stem}.py")
    done = subprocess.run([sys.executable, "-m", "grader", "grade-all", str(assignment), str(folder),
                           "--out", str(out), "--jobs", "2"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
    reports = {}
    for path in paths:
        report = out / "reports" / f"{path.stem}.json"
        assert report.is_file(), (f"no report for {path.name} (exit {done.returncode})\n"
                                  f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        reports[path.stem] = json.loads(report.read_text())
    return reports


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    return grade_folder(GOOD + BAD, tmp_path_factory.mktemp("softmax_vectorized"))


def full(question: dict) -> bool:
    return math.isclose(question["score"], question["max_score"], rel_tol=1e-9, abs_tol=1e-9)


def describe(question: dict) -> str:
    lines = [f"  {question['name']}: {question['score']}/{question['max_score']}"]
    for check in question["checks"]:
        if not check["passed"]:
            message = str(check.get("message", "")).strip().replace("\n", "\n      ")
            lines.append(f"    FAILED {check['name']}:\n      {message}")
    return "\n".join(lines)


def check_of(report: dict, name: str) -> dict:
    for question in report["questions"]:
        for check in question["checks"]:
            if check["name"] == name:
                return check
    raise KeyError(name)


def question_of(report: dict, name: str) -> dict:
    return next(q for q in report["questions"] if q["name"] == name)


def test_corpus_is_well_formed():
    assert len(GOOD) >= 10 and len(BAD) >= 15
    stems = [p.stem for p in GOOD + BAD]
    assert len(stems) == len(set(stems)), "file names must be unique across good/ and bad/"
    for path in GOOD:
        assert expected_losses(path) == set(), path.name
    for path in BAD:
        losses = expected_losses(path)
        assert losses and losses <= QUESTIONS, f"{path.name}: {sorted(losses)}"


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_good_submission_gets_full_marks(path, reports):
    report = reports[path.stem]
    assert {q["name"] for q in report["questions"]} == QUESTIONS
    short = [q for q in report["questions"] if not full(q)]
    assert not short, f"{path.name} lost points:\n" + "\n".join(describe(q) for q in short)


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_submission_loses_exactly_its_questions(path, reports):
    losses = expected_losses(path)
    by_name = {q["name"]: q for q in reports[path.stem]["questions"]}
    uncaught = [name for name in sorted(losses) if full(by_name[name])]
    leaked = [q for name, q in by_name.items() if name not in losses and not full(q)]
    assert not uncaught, f"{path.name}: full marks on {uncaught} despite the bug"
    assert not leaked, f"{path.name} lost points elsewhere:\n" + "\n".join(describe(q) for q in leaked)


def test_disagreement_between_naive_and_vectorized_is_explained(reports):
    check = check_of(reports["vectorized_one_based_labels"], "vectorized_agrees_with_naive")
    assert not check["passed"]
    message = check["message"]
    assert "softmax_loss_vectorized and softmax_loss_naive disagree for W = " in message
    assert "loss: vectorized" in message and "naive" in message and "(expected" in message
    assert "your naive version gives the expected values here, so the vectorised one is off" in message.lower()
    # a wrong naive version with a right vectorised one costs nothing here (question 1 reports it)
    assert check_of(reports["naive_sums_not_mean"], "vectorized_agrees_with_naive")["passed"]


def test_messages_name_the_other_regularisation_convention(reports):
    message = check_of(reports["vectorized_half_reg"], "vectorized_matches_reference")["message"]
    assert "Your loss matches 0.5 * reg * sum(W*W); this assignment uses reg * sum(W*W)." in message
    assert ("Your dW matches the gradient of 0.5 * reg * sum(W*W) (reg * W); this assignment uses "
            "reg * sum(W*W), whose gradient is 2 * reg * W.") in message
    assert "softmax_loss_vectorized(W, X, y, reg)" in message and "expected" in message and "got" in message
    naive = check_of(reports["both_half_reg"], "naive_matches_reference")["message"]
    assert "Your loss matches 0.5 * reg * sum(W*W)" in naive
    missing = check_of(reports["vectorized_reg_grad_missing"], "vectorized_matches_reference")["message"]
    assert "Your dW leaves out the gradient of the regularisation term, 2 * reg * W." in missing


def test_messages_name_the_other_smoothing(reports):
    report = reports["smoothing_others"]
    for name in ("smooth_labels_matches_reference", "label_smoothing_loss_matches_reference"):
        message = check_of(report, name)["message"]
        assert ("matches the other way of smoothing, 1 - eps at the label and eps / (C - 1) at every other "
                "class; this assignment uses (1 - eps) * onehot + eps / C.") in message, message


def test_loop_over_examples_is_reported_from_line_counts(reports):
    check = check_of(reports["vectorized_loops_rows"], "vectorized_has_no_example_loop")
    assert not check["passed"]
    assert "lines of your file for a batch of 500 examples" in check["message"]
    assert "loops over them" in check["message"]
    for name in ("loop_over_classes", "class_based", "logsumexp_helpers"):  # helpers and class loops are fine
        assert check_of(reports[name], "vectorized_has_no_example_loop")["passed"], name


def test_hard_coded_training_weights_earn_nothing(reports):
    report = reports["train_hardcoded_weights"]
    training = question_of(report, "training")
    assert training["score"] == 0
    earning = [c for c in training["checks"] if c["max_score"] > 0]
    assert earning and not any(c["passed"] for c in earning)
    message = check_of(report, "train_reaches_accuracy")["message"]
    assert "held-out" in message and "at least 90% is required" in message


def test_unstable_softmax_is_judged_only_on_large_scores(reports):
    report = reports["vectorized_global_max"]
    check = check_of(report, "vectorized_stable")
    assert not check["passed"] and "NaN or infinity for large scores" in check["message"]
    assert "np.max(scores, axis=1, keepdims=True)" in check["message"]  # the hint
    assert check_of(report, "vectorized_matches_reference")["passed"]


def test_conventions_come_from_the_spec(tmp_path):
    """With extra: {reg_convention: half, smoothing: others}, a submission written that way gets
    full marks on those questions and the course's own (full, uniform) answers are named."""
    folder = tmp_path / "spec" / ASSIGNMENT
    shutil.copytree(REPO_ROOT / "assignments" / ASSIGNMENT, folder,
                    ignore=shutil.ignore_patterns("__pycache__", "secret.txt"))
    spec = yaml.safe_load((folder / "assignment.yaml").read_text())
    spec["extra"] = {"reg_convention": "half", "smoothing": "others"}
    (folder / "assignment.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    source = (SUBMISSIONS / "bad" / "both_half_reg.py").read_text()
    smoothing = (SUBMISSIONS / "bad" / "smoothing_others.py").read_text()
    start, end = smoothing.index("def smooth_labels"), smoothing.index("def label_smoothing_loss")
    a, b = source.index("def smooth_labels"), source.index("def label_smoothing_loss")
    other_course = tmp_path / "other_course.py"
    other_course.write_text(source[:a] + smoothing[start:end] + source[b:])
    usual = tmp_path / "usual.py"
    shutil.copy(SUBMISSIONS / "good" / "logsumexp_helpers.py", usual)

    graded = grade_folder([other_course, usual], tmp_path / "grading", folder)
    assert all(full(q) for q in graded["other_course"]["questions"]), \
        "\n".join(describe(q) for q in graded["other_course"]["questions"])
    report = graded["usual"]
    lost = {q["name"] for q in report["questions"] if not full(q)}
    assert lost == {"loss_naive", "loss_vectorized", "label_smoothing"}
    message = check_of(report, "vectorized_matches_reference")["message"]
    assert "Your loss matches reg * sum(W*W); this assignment uses 0.5 * reg * sum(W*W)." in message
    message = check_of(report, "smooth_labels_matches_reference")["message"]
    assert ("matches the other way of smoothing, (1 - eps) * onehot + eps / C; this assignment uses 1 - eps "
            "at the label and eps / (C - 1) at every other class.") in message


# -- the handout and the platform bundles, on a machine without torch ------------------

def test_the_handout_and_bundles_play_their_parts_without_torch(tmp_path):
    import tarfile
    import zipfile

    from conftest import ROOT, no_torch_environment
    from test_numpy_only import run, totals

    from grader import spec as spec_module

    env = no_torch_environment(tmp_path)
    out = tmp_path / "build"
    built_run = run(env, [sys.executable, "-m", "grader", "handout", "softmax_vectorized", "--out", str(out)])
    assert built_run.returncode == 0, built_run.stderr[-3000:]
    built = out / "softmax_vectorized"
    with zipfile.ZipFile(built / "gradescope" / "autograder.zip") as bundle:
        requirements = bundle.read("requirements.txt").decode()
        setup = bundle.read("setup.sh").decode()
    pins = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert "numpy==" in requirements and not any("torch" in pin for pin in pins)
    assert "pip install" in setup and "torch" not in setup.replace("no torch", "")

    with tarfile.open(built / "handout.tar") as archive:
        archive.extractall(tmp_path, **({"filter": "tar"} if hasattr(tarfile, "data_filter") else {}))
    lab = tmp_path / "softmax_vectorized"
    untouched = run(env, ["./grade.sh"], cwd=lab)
    assert totals(untouched.stdout) == (0.0, 100.0), untouched.stdout[-2000:] + untouched.stderr[-2000:]
    reference = (ROOT / "reference" / "softmax_vectorized.py").read_text()
    (lab / "softmax_vectorized.py").write_text(
        "".join(line for line in reference.splitlines(keepends=True) if "SOLUTION" not in line))
    solved = run(env, ["./grade.sh"], cwd=lab)
    assert totals(solved.stdout) == (100.0, 100.0), solved.stdout[-2000:] + solved.stderr[-2000:]
    assert run(env, ["./make_handin.sh"], cwd=lab).returncode == 0

    job = tmp_path / "autolab"  # as Tango runs it: make beside autograde.tar and handin.tar
    job.mkdir()
    shutil.copy(built / "autolab" / "autograde.tar", job / "autograde.tar")
    shutil.copy(built / "autolab" / "autograde-Makefile", job / "Makefile")
    shutil.copy(lab / "handin.tar", job / "handin.tar")
    graded = run({k: v for k, v in env.items() if k != "GRADECHECK_SECRET"}, ["make"], cwd=job)
    scores = json.loads(graded.stdout.rstrip("\n").splitlines()[-1])["scores"]
    full = {q.name: q.points for q in spec_module.load("softmax_vectorized").questions}
    assert scores == full

    # Gradescope, as it runs the bundle: run_autograder beside source/, submission/, results/
    from test_platforms import check_results, gradescope_root, run_autograder

    root = gradescope_root({"autograder_zip": built / "gradescope" / "autograder.zip"}, tmp_path / "gs")
    shutil.copy(lab / "softmax_vectorized.py", root / "submission" / "softmax_vectorized.py")
    results = run_autograder(root, PYTHONPATH=env["PYTHONPATH"])
    check_results(results)
    assert results["score"] == pytest.approx(sum(full.values()))

