"""Handouts of package handins, on tests/assignments/toy_package (minigrad/ and train.py).

One build (through the command line), then the student's steps with the handout's
own scripts, and the platform bundles played as Autolab and Gradescope run them.
Every script runs with this interpreter (GRADECHECK_PYTHON).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader import mutants, spec
from grader.starter import solution_lines

from conftest import ROOT, grade_json, scores
from test_handout import LOCAL_VERDICTS  # the local grader's verdicts, check by check

TOY = ROOT / "tests" / "assignments" / "toy_package"
NAME = "toy_package"
ENTRIES = ["minigrad/", "train.py"]
FULL = {"ops": (10.0, 10.0), "scalar": (10.0, 10.0), "training": (10.0, 10.0)}
TOTAL = re.compile(r"^total\s+([\d.]+)\s+([\d.]+)\s*$", re.MULTILINE)


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    outer = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}  # Autolab starts make itself
    environment = {k: v for k, v in os.environ.items() if k not in outer}
    environment.update({"GRADECHECK_PYTHON": sys.executable, **env})
    return subprocess.run(command, check=False, cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=300)


def totals(output: str) -> tuple[float, float]:
    found = TOTAL.findall(output)
    assert found, f"no total line in:\n{output}"
    return float(found[-1][0]), float(found[-1][1])


def extract(tar: Path, into: Path) -> None:
    with tarfile.open(tar) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(into, filter="tar")
        else:
            archive.extractall(into)


def reference_files() -> dict[str, bytes]:
    folder = TOY / "reference"
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.py"))
            if "__pycache__" not in p.parts}


def solve(lab: Path) -> None:
    """Put a correct solution in the handout's folders: the reference without its markers."""
    for relative, data in reference_files().items():
        lines = [line for line in data.decode().splitlines(keepends=True) if "SOLUTION" not in line]
        (lab / relative).write_text("".join(lines))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("build")
    done = subprocess.run([sys.executable, "-m", "grader", "handout", str(TOY), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No notebook" in done.stdout and "minigrad/, train.py" in done.stdout
    assert not (TOY / "secret.txt").exists(), "the tests' secret comes from the environment"
    root = out / NAME
    return {"root": root, "handout": root / "handout", "handout_tar": root / "handout.tar",
            "autograde_tar": root / "autolab" / "autograde.tar",
            "autograde_makefile": root / "autolab" / "autograde-Makefile",
            "autograder_zip": root / "gradescope" / "autograder.zip"}


@pytest.fixture
def lab(built, tmp_path) -> Path:
    """The handout as a student unpacks it."""
    extract(built["handout_tar"], tmp_path)
    return tmp_path / NAME


@pytest.fixture(scope="module")
def handin(built, tmp_path_factory) -> Path:
    """The solved handout's handin.tar, made by make_handin.sh."""
    folder = tmp_path_factory.mktemp("student")
    extract(built["handout_tar"], folder)
    lab = folder / NAME
    solve(lab)
    done = run(["./make_handin.sh"], lab)
    assert done.returncode == 0, done.stderr
    return lab / "handin.tar"


# -- the build ---------------------------------------------------------------------------

def test_the_handout_lays_out_the_students_folders_without_a_notebook(built):
    shipped = {p.relative_to(built["handout"]).as_posix() for p in built["handout"].rglob("*")
               if p.is_file()}
    assert {"minigrad/__init__.py", "minigrad/ops.py", "minigrad/value.py", "train.py",
            "grade.sh", "make_handin.sh", "README.md"} <= shipped
    assert not [p for p in shipped if p.endswith(".ipynb")]
    assert not [p for p in shipped if p.startswith(("reference/", "assignments/"))]
    # a file without solution regions ships as it is; the others get stubs
    handout = built["handout"]
    assert (handout / "minigrad" / "__init__.py").read_bytes() == reference_files()["minigrad/__init__.py"]
    value = (handout / "minigrad" / "value.py").read_text()
    for method in ("__add__", "__mul__", "backward"):
        assert f'raise NotImplementedError("Scalar.{method}: your code here")' in value
    assert "self.value = float(value)" in value  # code outside the regions stays
    assert 'raise NotImplementedError("fit_slope: your code here")' in (handout / "train.py").read_text()
    readme = (handout / "README.md").read_text()
    assert "`minigrad/` and `train.py`" in readme and "no notebook" in readme
    assert "@@" not in readme and ".ipynb" not in readme
    public = json.loads((handout / "local_grader" / "public" / "assignment.json").read_text())
    assert public["student_files"] == ENTRIES and public["handout"] == {"student_files": ENTRIES}
    assert public["homes"] == {"square": "minigrad.ops", "Scalar": "minigrad.value", "fit_slope": "train"}


def test_building_twice_gives_identical_archives(built, tmp_path):
    done = subprocess.run([sys.executable, "-m", "grader", "handout", str(TOY), "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for key in ("handout_tar", "autograde_tar", "autograder_zip"):
        again = tmp_path / NAME / built[key].relative_to(built["root"])
        assert again.read_bytes() == built[key].read_bytes(), key


def test_no_shipped_file_holds_a_solution_line(built):
    lines = set()
    for data in reference_files().values():
        lines |= set(solution_lines(data.decode()))
    assert len(lines) >= 5
    with tarfile.open(built["handout_tar"]) as archive:
        members = [m for m in archive.getmembers() if m.isfile()]
        assert len(members) > 20  # the starter, the local grader and the engine
        for member in members:
            text = archive.extractfile(member).read().decode("utf-8", "replace")
            found = lines & {line.strip() for line in text.splitlines()}
            assert not found, f"{member.name} holds solution lines {sorted(found)}"
            assert "BEGIN SOLUTION" not in text, member.name


def test_the_bundles_carry_the_reference_package(built):
    expected = {f"assignments/{NAME}/reference/{p}": data for p, data in reference_files().items()}
    with tarfile.open(built["autograde_tar"]) as archive:
        autolab = {m.name: archive.extractfile(m).read() for m in archive.getmembers()
                   if m.name.startswith(f"assignments/{NAME}/reference/") and m.isfile()}
    with zipfile.ZipFile(built["autograder_zip"]) as archive:
        gradescope = {n: archive.read(n) for n in archive.namelist()
                      if n.startswith(f"assignments/{NAME}/reference/") and not n.endswith("/")}
        run_autograder = archive.read("run_autograder").decode()
    assert autolab == expected and gradescope == expected
    assert '[ ! -e "$submission/minigrad" ]' in run_autograder and "@@" not in run_autograder


# -- the student ----------------------------------------------------------------------------

def test_the_starter_package_imports_and_scores_zero(lab):
    imported = run([sys.executable, "-c", "import minigrad.ops, minigrad.value, train"], lab)
    assert imported.returncode == 0, imported.stderr
    done = run(["./grade.sh"], lab)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert totals(done.stdout) == (0.0, 30.0)
    for stub in ("square: your code here", "Scalar.__mul__: your code here", "fit_slope: your code here"):
        assert f"NotImplementedError: {stub}" in done.stdout.replace("\n         ", " ")
    assert "could not be found" not in done.stdout
    assert f"{NAME}: {lab}" in done.stdout  # the report names the student's folder, not a copy




def test_the_solution_scores_full_marks_locally_as_on_the_server(built, lab, tmp_path):
    solve(lab)
    done = run(["./grade.sh"], lab)
    assert done.returncode == 0, done.stderr
    assert totals(done.stdout) == (30.0, 30.0), done.stdout
    assert "FAIL" not in done.stdout
    # check by check, the local grader and the server agree on the solution, the starter
    # and a mutant (square doubles instead of squaring: ops and training fail)
    starter = tmp_path / "starter"
    shutil.copytree(built["handout"] / "minigrad", starter / "minigrad")
    shutil.copy(built["handout"] / "train.py", starter / "train.py")
    assignment = spec.load(TOY)
    mutant = next(m for m in mutants.load(assignment) if m.name == "square_doubles")
    wrong = mutants.write_handin(assignment, mutants.mutate_sources(assignment, mutant), tmp_path / "mutant")
    submissions = [lab, starter, wrong]
    local = run([sys.executable, "-c", LOCAL_VERDICTS, *map(str, submissions)], lab / "local_grader")
    assert local.returncode == 0, local.stderr[-3000:]
    verdicts = json.loads(local.stdout.strip().splitlines()[-1])
    for path in submissions:
        report = grade_json(path, str(TOY))
        server = {c["name"]: c["passed"] for q in report["questions"] for c in q["checks"]
                  if c["visibility"] == "visible"}
        assert verdicts[str(path)] == server, path
        if path == lab:
            assert scores(report) == FULL
    assert verdicts[str(lab)] == dict.fromkeys(verdicts[str(lab)], True)
    assert not any(verdicts[str(starter)].values())
    assert verdicts[str(wrong)] == {"square_matches_reference": False, "scalar_gradients": True,
                                    "slope_found": False}


def test_make_handin_packs_both_entries_and_nothing_else(handin, tmp_path):
    with tarfile.open(handin) as archive:
        names = archive.getnames()
        files = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    assert sorted(files) == ["minigrad/__init__.py", "minigrad/ops.py", "minigrad/value.py", "train.py"]
    assert "minigrad" in names
    assert b"BEGIN SOLUTION" not in b"".join(files.values())
    assert b"** 2" in files["minigrad/ops.py"]  # the student's code, not the stub
    assert scores(grade_json(handin, str(TOY))) == FULL
    # caches and hidden files stay out, any other file of the folders goes in
    copy = tmp_path / "again"
    shutil.copytree(handin.parent, copy)
    (copy / "minigrad" / "__pycache__").mkdir(exist_ok=True)
    (copy / "minigrad" / "__pycache__" / "ops.cpython-310.pyc").write_bytes(b"\0")
    (copy / "minigrad" / ".notes.swp").write_text("scratch")
    (copy / "minigrad" / "extra.py").write_text("HELPER = 1\n")
    done = run(["./make_handin.sh"], copy)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stdout
    with tarfile.open(copy / "handin.tar") as archive:
        again = sorted(m.name for m in archive.getmembers() if m.isfile())
    assert again == ["minigrad/__init__.py", "minigrad/extra.py", "minigrad/ops.py",
                     "minigrad/value.py", "train.py"]
    graded = run(["./grade.sh", "handin.tar"], copy)  # grade.sh grades a handin.tar too
    assert graded.returncode == 0, graded.stderr
    assert totals(graded.stdout) == (30.0, 30.0), graded.stdout


def test_make_handin_refuses_when_an_entry_is_missing(lab):
    (lab / "train.py").unlink()
    done = run(["./make_handin.sh"], lab)
    assert done.returncode != 0
    assert "train.py" in done.stderr and "Traceback" not in done.stderr
    assert not (lab / "handin.tar").exists()
    graded = run(["./grade.sh"], lab)
    assert graded.returncode != 0 and "train.py" in graded.stderr


def test_the_starter_hands_in_with_a_warning(lab):
    done = run(["./make_handin.sh"], lab)
    assert done.returncode == 0, done.stderr
    assert "Warning: 5 function(s) still raise NotImplementedError." in done.stdout


# -- the platforms ---------------------------------------------------------------------------

def test_autolab_grades_the_handin_as_it_runs_it(built, handin, tmp_path):
    shutil.copy(built["autograde_tar"], tmp_path / "autograde.tar")
    shutil.copy(built["autograde_makefile"], tmp_path / "Makefile")
    shutil.copy(handin, tmp_path / "handin.tar")
    done = run(["make"], tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    line = json.loads(done.stdout.rstrip("\n").splitlines()[-1])
    assert line["scores"] == {"ops": 10, "scalar": 10, "training": 10}


def gradescope_root(built: dict[str, Path], folder: Path) -> Path:
    """autograder.zip unpacked as Gradescope does (modes kept), with submission/ and results/."""
    with zipfile.ZipFile(built["autograder_zip"]) as archive:
        for info in archive.infolist():
            archive.extract(info, folder / "source")
            mode = info.external_attr >> 16 & 0o777
            if mode:
                (folder / "source" / info.filename).chmod(mode)
    for name in ("submission", "results"):
        (folder / name).mkdir()
    return folder


@pytest.mark.parametrize("upload", ["handin.tar", "folders"])
def test_gradescope_grades_the_handin_as_it_runs_it(built, handin, tmp_path, upload):
    root = gradescope_root(built, tmp_path)
    if upload == "handin.tar":
        shutil.copy(handin, root / "submission" / "handin.tar")
    else:
        extract(handin, root / "submission")
    done = run([str(root / "source" / "run_autograder")], root, GRADECHECK_AUTOGRADER_ROOT=str(root))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == pytest.approx(30)
    assert {t["status"] for t in results["tests"]} == {"passed"}
