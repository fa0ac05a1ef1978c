"""The mytorch_hw1 assignment (assignments/mytorch_hw1), graded end to end on handins.

Each handin of tests/submissions/mytorch_hw1/ is stored as the few files in which it
differs from the solved reference (reference/mytorch_hw1 with its solution markers
removed), and built here:

- `good/NAME/`: correct handins written in other styles (a topological or iterative
  engine, tuple or numpy gradients, fused Linear and cross-entropy Functions, torch-style
  momentum, other training loops...); each must score 100.
- `bad/NAME/`: one plausible bug each; each must lose exactly the points in BAD.
- `layout/NAME/`: handins in the course's own layout. A MANIFEST says where the solved
  package sits in the handin (`base: FOLDER`), which of its files to drop (`delete:
  PATH, ...`) and whether to hand it in as a .tar (`archive: tar`, graded as NAME.tar).

A file `PATH.append` is appended to the solved reference's PATH (later definitions of a
class or function replace the reference's), any other file replaces or adds PATH.

All handins are graded in one `grader grade-all` run (two judges): the module takes
10-40 seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, grade_json, scores

ASSIGNMENT = "mytorch_hw1"
REFERENCE = ROOT / "reference" / "mytorch_hw1"
HANDINS = ROOT / "tests" / "submissions" / "mytorch_hw1"
POINTS = {"sub": 5.0, "mul": 5.0, "div": 5.0, "autograd": 25.0, "linear": 10.0, "mlp": 10.0,
          "cross_entropy": 10.0, "sgd": 10.0, "momentum": 10.0, "mnist": 10.0}

# bad handin -> (the score of each question that loses points, the checks that fail)
BAD = {
    "no_broadcast": ({"sub": 4.0, "mul": 4.0, "div": 4.0, "cross_entropy": 7.0, "mnist": 4.0},
                     {"sub_backward_broadcast", "mul_backward_broadcast", "div_backward_broadcast",
                      "ce_gradient", "mnist_accuracy"}),
    "overwrite_grad": ({"autograd": 10.0, "cross_entropy": 7.0, "mnist": 4.0},
                       {"worked_example", "random_graphs", "accumulation", "ce_gradient", "mnist_accuracy"}),
    "constant_grads": ({"autograd": 15.0}, {"worked_example", "only_leaves_keep_grad", "graph_nodes"}),
    "grads_everywhere": ({"autograd": 18.0}, {"worked_example", "only_leaves_keep_grad"}),
    "reshape_no_graph": ({"autograd": 23.0}, {"reshape"}),
    "transpose_forgotten": ({"linear": 2.0, "mnist": 4.0},
                            {"linear_backward", "linear_input_gradient", "matmul_transpose", "mnist_accuracy"}),
    "relu_at_zero": ({"mlp": 7.0}, {"relu"}),
    "ce_naive_softmax": ({"cross_entropy": 8.0}, {"ce_stable"}),
    "ce_sum": ({"cross_entropy": 2.0, "mnist": 4.0}, {"ce_loss", "ce_gradient", "ce_stable", "mnist_accuracy"}),
    "sgd_rebinds": ({"sgd": 3.0, "momentum": 0.0, "mnist": 4.0},
                    {"sgd_step", "sgd_in_place", "sgd_skips_missing_grads", "momentum_steps",
                     "momentum_first_step", "momentum_per_parameter", "mnist_accuracy"}),
    "zero_grad_local": ({"sgd": 7.0, "mnist": 4.0}, {"sgd_zero_grad", "mnist_accuracy"}),
    "momentum_ema": ({"momentum": 0.0}, {"momentum_steps", "momentum_first_step", "momentum_per_parameter"}),
    "validate_last_batch": ({"mnist": 0.0}, {"mnist_accuracy", "mnist_validate", "mnist_train_loop"}),
    "mnist_syntax_error": ({"mnist": 0.0}, {"mnist_accuracy", "mnist_validate", "mnist_train_loop"}),
}
GOOD = sorted(p.name for p in (HANDINS / "good").iterdir() if p.is_dir())
LAYOUTS = sorted(p.name for p in (HANDINS / "layout").iterdir() if p.is_dir())


def solved(folder: Path) -> None:
    """Write the reference package under `folder` without its solution markers."""
    for path in REFERENCE.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        target = folder / path.relative_to(REFERENCE)
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = path.read_text().splitlines(keepends=True)
        target.write_text("".join(line for line in lines if "SOLUTION" not in line))


def manifest(source: Path) -> dict[str, str]:
    path = source / "MANIFEST"
    if not path.is_file():
        return {}
    entries = [line.split(":", 1) for line in path.read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    return {key.strip(): value.strip() for key, value in entries}


def build(source: Path, batch: Path) -> Path:
    """The handin stored in `source`, built into the batch folder (a folder, or a .tar)."""
    spec = manifest(source)
    folder = batch / source.name if "archive" not in spec else batch.parent / "staging" / source.name
    package = folder / spec.get("base", "")
    solved(package)
    for path in sorted(source.rglob("*")):
        if path.is_dir() or path.name == "MANIFEST":
            continue
        relative = path.relative_to(source).as_posix()
        if relative.endswith(".append"):
            target = folder / relative[:-len(".append")]
            target.write_text(target.read_text() + path.read_text())
        else:
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    for name in filter(None, spec.get("delete", "").split(",")):
        (package / name.strip()).unlink()
    if "archive" not in spec:
        return folder
    archive = batch / f"{source.name}.tar"
    with tarfile.open(archive, "w") as tar:
        for child in sorted(folder.iterdir()):
            tar.add(child, arcname=child.name)
    return archive


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    """Every handin graded in one grade-all run: student name -> JSON report."""
    root = tmp_path_factory.mktemp("mytorch_hw1")
    batch, out = root / "batch", root / "out"
    batch.mkdir()
    for kind in ("good", "bad", "layout"):
        for source in sorted((HANDINS / kind).iterdir()):
            if source.is_dir():
                build(source, batch)
    done = subprocess.run([sys.executable, "-m", "grader", "grade-all", ASSIGNMENT, str(batch),
                           "--out", str(out), "--jobs", "2"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return {path.stem: json.loads(path.read_text()) for path in (out / "reports").glob("*.json")}


def failed_checks(report: dict) -> set[str]:
    return {c["name"] for q in report["questions"] for c in q["checks"] if not c["passed"]}


def messages(report: dict) -> dict[str, str]:
    return {c["name"]: c["message"] for q in report["questions"] for c in q["checks"]}


def test_the_handins_are_all_here():
    assert len(GOOD) >= 8 and len(BAD) >= 12 and LAYOUTS
    assert sorted(BAD) == sorted(p.name for p in (HANDINS / "bad").iterdir() if p.is_dir())


@pytest.mark.parametrize("name", GOOD)
def test_a_correct_handin_in_its_own_style_scores_full_marks(reports, name):
    report = reports[name]
    assert {q: s for q, (s, _) in scores(report).items() if s < POINTS[q]} == {}, \
        {c: m[:400] for c, m in messages(report).items() if m}


@pytest.mark.parametrize("name", LAYOUTS)
def test_a_handin_in_the_course_layout_grades_without_changes(reports, name):
    report = reports[name]
    assert report["score"] == 100.0, {c: m[:400] for c, m in messages(report).items() if m}
    assert "namespace package" in " ".join(report.get("notes", []))  # hw1/ has no __init__.py


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_buggy_handin_loses_exactly_its_points(reports, name):
    expected_scores, expected_failures = BAD[name]
    report = reports[name]
    got = {q: s for q, (s, _) in scores(report).items() if s < POINTS[q]}
    assert got == expected_scores, {c: m[:300] for c, m in messages(report).items() if m}
    assert failed_checks(report) == expected_failures


def test_messages_say_which_tensor_is_wrong_and_where(reports):
    sub = messages(reports["no_broadcast"])["sub_backward_broadcast"]
    assert "Sub.backward's gradient for" in sub and "has shape" in sub and "sum it over the axes" in sub
    graph = messages(reports["overwrite_grad"])["accumulation"]
    assert "x0.grad" in graph and "n1 = x0 * x0" in graph and "Hint: AccumulateGrad adds" in graph
    constant = messages(reports["constant_grads"])["only_leaves_keep_grad"]
    assert "must stay None: it does not require grad (a constant)" in constant
    intermediate = messages(reports["grads_everywhere"])["worked_example"]
    assert "ab, d, dc, e (intermediate results) hold a .grad" in intermediate
    nodes = messages(reports["constant_grads"])["graph_nodes"]
    assert "y.grad_fn.next_functions[1] is None (c is a constant)" in nodes
    stable = messages(reports["ce_naive_softmax"])["ce_stable"]
    assert "NaN or infinity" in stable
    relu = messages(reports["relu_at_zero"])["relu"]
    assert "ReLU.backward's gradient" in relu and "a <= 0 (0 at 0)" in relu
    loop = messages(reports["validate_last_batch"])["mnist_train_loop"]
    assert "the model's validation accuracy is" in loop
    syntax = messages(reports["mnist_syntax_error"])["mnist_accuracy"]
    assert "SyntaxError: '(' was never closed (hw1/mnist.py, line 52" in syntax


def test_mnist_reports_the_accuracies_and_runs_on_staff_data(tmp_path, monkeypatch):
    """A correct handin on the embedded digits, then on a staff-provided .npz (the
    GRADECHECK_MNIST_NPZ override)."""
    handin = tmp_path / "handin"
    solved(handin)
    report = grade_json(handin, ASSIGNMENT)
    assert report["score"] == 100.0

    rng = np.random.default_rng(0)
    prototypes = (rng.random((10, 784)) < 0.5).astype(np.uint8) * 255
    train_y, val_y = rng.integers(0, 10, 400), rng.integers(0, 10, 100)

    def noisy(labels):
        return np.clip(prototypes[labels] + rng.normal(0, 60, (len(labels), 784)), 0, 255)

    staff = tmp_path / "staff_mnist.npz"
    np.savez(staff, train_x=noisy(train_y).astype(np.uint8), train_y=train_y,
             val_x=noisy(val_y).astype(np.uint8), val_y=val_y)
    monkeypatch.setenv("GRADECHECK_MNIST_NPZ", str(staff))
    report = grade_json(handin, ASSIGNMENT)
    assert scores(report)["mnist"] == (10.0, 10.0)


def test_the_handout_and_bundles_play_their_parts(tmp_path):
    """The student's starter scores 0 and the solution 100 with grade.sh; make_handin.sh packs
    mytorch/ and hw1/; Autolab's make and Gradescope's run_autograder grade that handin.tar to
    full marks, as the platforms run the bundles."""
    import shutil

    from conftest import no_torch_environment
    from test_numpy_only import run, totals
    from test_platforms import check_results, gradescope_root, run_autograder

    env = no_torch_environment(tmp_path)  # a numpy assignment: nothing may need torch
    out = tmp_path / "build"
    done = run(env, [sys.executable, "-m", "grader", "handout", ASSIGNMENT, "--out", str(out)])
    assert done.returncode == 0, done.stderr[-3000:]
    built = out / ASSIGNMENT
    with tarfile.open(built / "handout.tar") as archive:
        archive.extractall(tmp_path, **({"filter": "tar"} if hasattr(tarfile, "data_filter") else {}))
    lab = tmp_path / ASSIGNMENT
    starter = run(env, ["./grade.sh"], cwd=lab)
    assert totals(starter.stdout)[0] == 0.0, starter.stdout[-2000:] + starter.stderr[-2000:]
    for entry in ("mytorch", "hw1"):
        shutil.rmtree(lab / entry)
        shutil.copytree(REFERENCE / entry, lab / entry, ignore=shutil.ignore_patterns("__pycache__"))
    solved(lab)
    graded = run(env, ["./grade.sh"], cwd=lab)
    assert totals(graded.stdout) == (100.0, 100.0), graded.stdout[-2000:] + graded.stderr[-2000:]
    # the parts students know: ./grade.sh 1 (the automatic part) and ./grade.sh m (MNIST)
    automatic, mnist = run(env, ["./grade.sh", "1"], cwd=lab), run(env, ["./grade.sh", "m"], cwd=lab)
    assert totals(automatic.stdout) == (90.0, 90.0) and "mnist" not in automatic.stdout.split("Part 1:")[1]
    assert totals(mnist.stdout) == (10.0, 10.0) and "autograd" not in mnist.stdout
    assert "./grade.sh m       grades mnist alone" in (lab / "grade.sh").read_text()
    assert run(env, ["./make_handin.sh"], cwd=lab).returncode == 0

    job = tmp_path / "autolab"
    job.mkdir()
    shutil.copy(built / "autolab" / "autograde.tar", job / "autograde.tar")
    shutil.copy(built / "autolab" / "autograde-Makefile", job / "Makefile")
    shutil.copy(lab / "handin.tar", job / "handin.tar")
    made = run({k: v for k, v in env.items() if k != "GRADECHECK_SECRET"}, ["make"], cwd=job)
    assert json.loads(made.stdout.rstrip("\n").splitlines()[-1])["scores"] == POINTS

    root = gradescope_root({"autograder_zip": built / "gradescope" / "autograder.zip"}, tmp_path / "gs")
    shutil.copy(lab / "handin.tar", root / "submission" / "handin.tar")
    results = run_autograder(root, PYTHONPATH=env["PYTHONPATH"])
    check_results(results)
    assert results["score"] == pytest.approx(100.0)
    # the plot the course asks for, inline in the output (no files in the platform's results folder)
    assert "data:image/png;base64," in json.dumps(results)
    assert [p.name for p in (root / "results").iterdir()] == ["results.json"]
