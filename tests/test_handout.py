"""The student handout: reproducible, leak-free, and usable by a student.

One build per module (plus one more to compare bytes); the student's steps
run the handout's own scripts in subprocesses with this interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import nbformat
import pytest

from grader import spec
from handout import build_all
from handout.public import find_leaks
from handout.solutions import fill_stubs
from handout.starter import solution_lines
from conftest import graded_once
from test_portable import assert_portable_agrees, attacks_a_student_can_run, local_verdicts

ASSIGNMENT = "softmax_lab"
ROOT = Path(__file__).resolve().parent.parent
TOTAL = re.compile(r"^total\s+([\d.]+)\s+([\d.]+)\s*$", re.MULTILINE)


@pytest.fixture(scope="module")
def assignment():
    return spec.load(ASSIGNMENT)


@pytest.fixture(scope="module")
def reference(assignment) -> str:
    return assignment.reference.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    return build_all(ASSIGNMENT, tmp_path_factory.mktemp("build"))


def unpack(tar: Path, into: Path) -> Path:
    """Extract the handout as a student would; return the lab folder."""
    with tarfile.open(tar) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(into, filter="tar")
        else:
            archive.extractall(into)
    return into / ASSIGNMENT


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "GRADECHECK_PYTHON": sys.executable, **env}
    return subprocess.run(command, check=False, cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=300)


def totals(output: str) -> tuple[float, float]:
    found = TOTAL.findall(output)
    assert found, f"no total line in:\n{output}"
    score, maximum = found[-1]
    return float(score), float(maximum)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the build -----------------------------------------------------------------

def test_building_twice_gives_identical_archives(built, tmp_path):
    """The second build goes through the command line, which lists what it built."""
    command = [sys.executable, "-m", "grader", "handout", ASSIGNMENT, "--out", str(tmp_path)]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "handout.tar" in result.stdout and "autograder.zip" in result.stdout
    again = tmp_path / ASSIGNMENT
    for key, path in (("handout_tar", again / "handout.tar"),
                      ("autograde_tar", again / "autolab" / "autograde.tar"),
                      ("autograder_zip", again / "gradescope" / "autograder.zip")):
        assert sha256(built[key]) == sha256(path), key


def test_handout_tar_is_normalised_and_matches_the_folder(built):
    with tarfile.open(built["handout_tar"]) as archive:
        members = archive.getmembers()
        names = [m.name for m in members]
        assert all(n == ASSIGNMENT or n.startswith(f"{ASSIGNMENT}/") for n in names)
        assert {m.mtime for m in members} == {315532800}
        assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
        files = {m.name[len(ASSIGNMENT) + 1:]: archive.extractfile(m).read()
                 for m in members if m.isfile()}
        modes = {m.name.split("/")[-1]: m.mode for m in members if m.isfile()}
        regular = [m.name for m in members if m.isfile()]
    assert regular == sorted(regular)
    on_disk = {p.relative_to(built["handout"]).as_posix(): p.read_bytes()
               for p in built["handout"].rglob("*") if p.is_file()}
    assert files == on_disk
    for wanted in ("softmax_lab.py", "softmax_lab.ipynb", "grade.sh", "make_handin.sh",
                   "README.md"):
        assert wanted in files
    assert modes["grade.sh"] == modes["make_handin.sh"] == 0o755
    assert modes["softmax_lab.py"] == 0o644


def test_handout_holds_no_solution_and_no_hidden_check(built, assignment, reference):
    """Every file of handout.tar, the notebook's cells included, is scanned."""
    lines = set(solution_lines(reference))
    hidden = [c.name for q in assignment.questions for c in q.checks if c.visibility != "visible"]
    assert lines and hidden
    words = [re.compile(rf"(?<![A-Za-z0-9_]){re.escape(h)}(?![A-Za-z0-9_])") for h in hidden]
    with tarfile.open(built["handout_tar"]) as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            text = archive.extractfile(member).read().decode("utf-8", "replace")
            candidates = text.splitlines()
            if member.name.endswith(".ipynb"):
                notebook = nbformat.reads(text, as_version=4)
                candidates += [line for cell in notebook.cells for line in cell.source.splitlines()]
            found = lines & {line.strip() for line in candidates}
            assert not found, f"{member.name} holds solution lines {sorted(found)}"
            for name, word in zip(hidden, words, strict=True):
                assert not word.search(text), f"{member.name} names hidden check {name}"
    # nor the reference or the full checks module under any name
    assert "BEGIN SOLUTION" not in built["handout_tar"].read_bytes().decode("latin-1")


def test_leak_guard_catches_what_it_should_and_only_that():
    hidden = ["softmax_backward_numerical"]
    files = {"a.py": b"    return exps / exps.sum()\n",
             "b.py": b"x = 'softmax_backward_numerical'\n",
             "c.py": b"loss_softmax_backward_numerical(ctx)\nreturn exps / exps.sum() + 1\n"}
    leaks = find_leaks(files, ["return exps / exps.sum()"], hidden)
    assert [leak.split(":")[0] for leak in leaks] == ["a.py", "b.py"]


def test_replay_answers_exact_and_last_bit_inputs_and_refuses_others():
    """Judge-side numpy may round differently on a student's machine: one ulp still replays."""
    import numpy as np
    import torch

    from handout.record import RecordingReference
    from handout.replay import RecordedReference, ReplayMiss

    class Module:
        @staticmethod
        def double(x, factor=2):
            return x * factor

    record: dict = {"examples": [], "answers": {}, "calls": []}
    x = torch.linspace(0.1, 1.0, 10, dtype=torch.float64)
    recording = RecordingReference(Module, record)
    for _ in range(2):
        recording.double(x)
    assert len(record["answers"]) == 1 and len(record["calls"]) == 2
    record = json.loads(json.dumps(record))  # as shipped

    replay = RecordedReference("demo", record)
    assert torch.equal(replay.double(x), x * 2)
    nudged = torch.from_numpy(np.nextafter(x.numpy(), 2.0))
    assert not torch.equal(nudged, x)
    assert torch.equal(replay.double(nudged), x * 2)  # second call, nearly the same input
    with pytest.raises(ReplayMiss):
        replay.double(x + 1)


def test_public_checks_are_the_visible_ones(built, assignment):
    public = built["handout"] / "local_grader" / "public"
    data = json.loads((public / "assignment.json").read_text())
    shipped = [c["name"] for q in data["questions"] for c in q["checks"]]
    visible = [c.name for q in assignment.questions for c in q.checks if c.visibility == "visible"]
    assert shipped == visible
    recorded = json.loads((public / "recorded.json").read_text())
    assert sorted(recorded["checks"]) == sorted(visible)
    source = (public / "checks.py").read_text()
    registered = re.findall(r"@check\('(\w+)'", source)
    assert sorted(registered) == sorted(visible)
    assert "def softmax_backward_expected" not in source  # a helper no visible check uses
    assert not (built["handout"] / "local_grader" / "grader" / "cli.py").exists()


def test_notebook_is_valid_and_places_every_function_once(built, assignment):
    notebook = nbformat.read(str(built["handout"] / "softmax_lab.ipynb"), as_version=4)
    nbformat.validate(notebook)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    for function in assignment.functions:
        assert len(re.findall(rf"^def {function}\(", code, re.MULTILINE)) == 1, function
        assert f'raise NotImplementedError("{function}: your code here")' in code
    assert "grade.sh" in notebook.cells[-1].source
    assert len({c.id for c in notebook.cells}) == len(notebook.cells)


# -- the student -------------------------------------------------------------------

def test_student_grades_the_starter_then_the_solution_then_hands_in(built, reference, tmp_path):
    lab = unpack(built["handout_tar"], tmp_path)

    untouched = run(["./grade.sh"], lab)
    assert untouched.returncode == 0, untouched.stderr
    assert "Traceback" not in untouched.stdout + untouched.stderr
    assert re.search(r"^question\s+score\s+max$", untouched.stdout, re.MULTILINE)
    assert totals(untouched.stdout) == (0.0, 140.0)
    assert "NotImplementedError: softmax: your code here" in untouched.stdout

    script = lab / "softmax_lab.py"
    script.write_text(fill_stubs(script.read_text(), reference))
    solved = run(["./grade.sh"], lab)
    assert solved.returncode == 0, solved.stderr
    assert totals(solved.stdout) == (140.0, 140.0), solved.stdout
    assert "FAIL" not in solved.stdout

    handin = run(["./make_handin.sh"], lab)
    assert handin.returncode == 0, handin.stderr
    with tarfile.open(lab / "handin.tar") as archive:
        assert archive.getnames() == ["softmax_lab.py"]
        assert archive.extractfile("softmax_lab.py").read() == script.read_bytes()


def test_student_works_in_the_notebook(built, reference, tmp_path):
    """Fill the notebook's stubs, run every code cell (the last one grades it), hand it in."""
    lab = unpack(built["handout_tar"], tmp_path)
    path = lab / "softmax_lab.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = fill_stubs(cell.source, reference)
    nbformat.write(notebook, str(path))
    runner = ("import nbformat, sys\n"
              "namespace = {'__name__': '__main__'}\n"
              "for cell in nbformat.read(sys.argv[1], as_version=4).cells:\n"
              "    if cell.cell_type == 'code':\n"
              "        exec(compile(cell.source, 'cell', 'exec'), namespace)\n")
    executed = run([sys.executable, "-c", runner, path.name], lab)
    assert executed.returncode == 0, executed.stderr
    assert "synthetic" in executed.stdout  # no CIFAR-10 here, and no download
    assert re.search(r"validation accuracy: \d", executed.stdout)
    assert totals(executed.stdout) == (140.0, 140.0), executed.stdout  # the grade cell's table

    handin = run(["./make_handin.sh"], lab)  # only the notebook was edited
    assert handin.returncode == 0, handin.stderr
    with tarfile.open(lab / "handin.tar") as archive:
        assert archive.getnames() == ["softmax_lab.ipynb"]


def test_grade_sh_refuses_a_missing_file_clearly(built, tmp_path):
    lab = unpack(built["handout_tar"], tmp_path)
    result = run(["./grade.sh", "nowhere.py"], lab)
    assert result.returncode != 0
    assert "nowhere.py" in result.stderr and "Traceback" not in result.stderr


LOCAL_VERDICTS = """
import json, sys
from pathlib import Path
from gradecheck_local.local import load_public
from grader.runner import grade
assignment, _facts = load_public()
verdicts = {}
for path in sys.argv[1:]:
    report = grade(assignment, Path(path), visibility="public", use_bank=False, secret="", minimum="none")
    verdicts[path] = {c.name: c.passed for q in report.questions for c in q.checks}
print(json.dumps(verdicts))
"""


@pytest.mark.slow
def test_the_local_grade_and_the_server_agree_on_every_honest_submission(built, tmp_path, tmp_path_factory):
    """Visible checks, pass or fail: the handout's public examples against the server's own,
    drawn from the course secret, for every file of the corpus. The same run proves the
    portable local grade (the Linux-only pieces taken away: tests/test_portable.py) gives
    every visible check the sandboxed local grade's verdict and message, on the corpus and
    on the attack files a student's machine can run unconfined."""
    corpus = sorted((ROOT / "tests" / "submissions" / ASSIGNMENT).glob("*/*.py"))
    lab = unpack(built["handout_tar"], tmp_path / "student")
    verdicts = local_verdicts(lab, corpus + attacks_a_student_can_run())
    local = {path: {name: passed for name, (passed, _message) in found["checks"].items()}
             for path, found in verdicts["sandbox"].items()}
    assert os.environ.get("GRADECHECK_SECRET"), "the server side must draw its own examples"
    # the server's grade of the corpus: the same run tests/test_submissions.py reads
    server, out = graded_once(tmp_path_factory, ASSIGNMENT, corpus)
    assert server.returncode == 0, server.stderr[-3000:]
    disagree = []
    for path in corpus:
        report = json.loads((out / "reports" / f"{path.parent.name}__{path.stem}.json").read_text())
        remote = {c["name"]: c["passed"] for q in report["questions"] for c in q["checks"]
                  if c["visibility"] == "visible"}
        if local[str(path)] != remote:
            disagree.append(f"{path.parent.name}/{path.name}: local {local[str(path)]} "
                            f"server {remote}")
    assert not disagree, "\n".join(disagree)
    assert_portable_agrees(verdicts)


# -- what the engine and a numpy assignment need of the builder -----------------------

TOY = ROOT / "tests" / "assignments" / "toy_numpy"


def test_the_engine_never_imports_the_handout_builder():
    """Only the `handout` command reaches the builder (grader.starter makes starters)."""
    found = []
    for path in sorted((ROOT / "grader").rglob("*.py")):
        if path == ROOT / "grader" / "commands" / "handout.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"^\s*(from handout\b|import handout\b)", line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, found


def test_starter_stubs_name_methods_by_their_class():
    from grader.starter import make_starter

    starter = make_starter((TOY / "reference_toy.py").read_text())
    assert 'raise NotImplementedError("scale: your code here")' in starter
    assert 'raise NotImplementedError("Accumulator.add: your code here")' in starter
    assert "class Accumulator:" in starter and "self.value" not in starter
    filled = fill_stubs(starter, (TOY / "reference_toy.py").read_text(), only={"Accumulator"})
    assert "self.value += value" in filled and "scale: your code here" in filled


def test_replay_keeps_what_the_sandbox_decoded():
    """ctx.expected answers as a worker's reply: arrays remember their library. The
    recording is written with the engine's codec (grader.codec) and read back with it."""
    import random

    import numpy as np
    import torch

    from grader.codec import encode
    from grader.sandbox.values import Opaque, ReturnedArray
    from handout.replay import decode

    array = np.arange(6, dtype=np.float32).reshape(2, 3).view(ReturnedArray)
    array.lib = "torch"
    value = (array, Opaque("Widget", "<Widget>"), [1.5, float("nan")], torch.ones(2), np.float32(2))
    again = decode(json.loads(json.dumps(encode(value))))
    assert isinstance(again[0], ReturnedArray) and again[0].lib == "torch"
    assert again[0].dtype == np.float32 and np.array_equal(again[0], array)
    assert again[1] == Opaque("Widget", "<Widget>") and np.isnan(again[2][1])
    assert isinstance(again[3], torch.Tensor) and torch.equal(again[3], torch.ones(2))  # as recorded
    assert again[4] == 2 and again[4].dtype == np.float32
    # the handout's own tag: a seeded Random in place of hypothesis's
    assert decode({"t": "random", "seed": 3}).random() == random.Random(3).random()
    with pytest.raises(ValueError):
        decode({"t": "random", "seed": "3"})


def test_the_local_grader_ships_the_engine_codec(built):
    """replay.py reads recorded.json with grader.codec: the handout must carry it."""
    engine = built["handout"] / "local_grader" / "grader"
    assert (engine / "codec.py").read_bytes() == (ROOT / "grader" / "codec.py").read_bytes()
    replay = (built["handout"] / "local_grader" / "gradecheck_local" / "replay.py").read_text()
    assert "from grader import codec" in replay and "b64decode" not in replay


def test_leak_guard_refuses_a_solution_line_in_the_harness(tmp_path, monkeypatch):
    import shutil

    from handout.record import BuildError

    monkeypatch.setenv("GRADECHECK_SECRET", "the tests' course secret")
    copy = tmp_path / "toy_numpy"
    shutil.copytree(TOY, copy, ignore=shutil.ignore_patterns("__pycache__", "secret.txt"))
    with (copy / "harness.py").open("a") as harness:
        harness.write("\n\ndef _peek(X):\n    return X.mean(axis=0)\n")
    with pytest.raises(BuildError, match=r"harness\.py: solution line 'return X\.mean\(axis=0\)'"):
        build_all(copy, tmp_path / "out")
    assert not (tmp_path / "out" / "toy_numpy").exists()


def test_the_leak_guard_looks_for_telling_solution_lines_only():
    """Lines that tell nothing (else:, return out, a bare method call) or that the starter
    ships anyway (outside the solution regions) may appear anywhere."""
    from handout.public import telling_lines

    reference = ("def given(ctx):\n    a, b = ctx.saved\n    return a\n\n\n"
                 "def solved(ctx, model, optimizer):\n    # BEGIN SOLUTION\n    a, b = ctx.saved\n"
                 "    if a > b:\n        out = a * b + 1\n    else:\n        return\n"
                 "    optimizer.step()\n    return out\n    # END SOLUTION\n")
    assert telling_lines([reference]) == ["if a > b:", "out = a * b + 1"]


def test_public_checks_keep_what_a_module_level_loop_registers(tmp_path):
    """Checks registered by a loop at the top level (names computed when it runs) ship with
    the constants the loop reads; with a hidden check among them the build refuses."""
    from types import SimpleNamespace

    from handout.public import public_checks_source
    from handout.record import BuildError

    module = tmp_path / "checks.py"
    module.write_text(
        '"""Docs."""\nfrom grader.checks import Registry\n\nregistry = Registry()\ncheck = registry.check\n'
        'NAMES = {"a": 1, "b": 2}\n\n\ndef _register(name):\n'
        '    @check(f"{name}_works", calls=[name])\n    def run(ctx):\n        ctx.call(name, NAMES[name])\n\n\n'
        'for _name in NAMES:\n    _register(_name)\n')

    def assignment(hidden: bool):
        checks = [SimpleNamespace(name="a_works", visibility="visible"),
                  SimpleNamespace(name="b_works", visibility="hidden" if hidden else "visible")]
        return SimpleNamespace(name="loop", checks_module=module,
                               questions=[SimpleNamespace(checks=checks)])

    source = public_checks_source(assignment(False), {"a_works": None, "b_works": None})
    namespace: dict = {}
    exec(compile(source.split("# The reference is not in the handout")[0], "checks", "exec"), namespace)
    assert sorted(namespace["registry"].checks) == ["a_works", "b_works"]
    with pytest.raises(BuildError, match=r"names computed when it runs.*b_works"):
        public_checks_source(assignment(True), {"a_works": None, "b_works": None})


# -- installing what the local grader needs ------------------------------------------

def _fresh_venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True)
    return folder / "bin" / "python"


@pytest.mark.slow
def test_the_handouts_install_line_sets_up_a_python_that_grades(built, reference, tmp_path):
    """A clean virtual environment given only the README's install line grades the solution
    at full marks locally; on Linux the line takes torch's CPU build."""
    lab = unpack(built["handout_tar"], tmp_path / "lab")
    readme = (lab / "README.md").read_text()
    assert "python3 -m pip install -r requirements.txt" in readme
    requirements = (lab / "requirements.txt").read_text()
    assert "https://download.pytorch.org/whl/cpu" in requirements
    assert 'torch==2.13.0+cpu; sys_platform == "linux"' in requirements
    python = _fresh_venv(tmp_path / "venv")
    # this machine reaches no network: a failed index lookup is not retried
    environment = {**os.environ, "PIP_RETRIES": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", "requirements.txt"],
                               cwd=lab, capture_output=True, text=True, env=environment, timeout=1200)
    if installed.returncode != 0 and "No matching distribution found for torch" in installed.stderr:
        pytest.skip("this machine reaches neither a torch CPU wheel on disk nor PyTorch's CPU index")
    assert installed.returncode == 0, installed.stderr[-3000:]
    version = subprocess.run([str(python), "-c", "import torch; print(torch.__version__)"],
                             capture_output=True, text=True)
    assert version.stdout.strip().endswith("+cpu"), version.stdout + version.stderr
    script = lab / "softmax_lab.py"
    script.write_text(fill_stubs(script.read_text(), reference))
    solved = subprocess.run(["./grade.sh"], cwd=lab, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "GRADECHECK_PYTHON": str(python)})
    assert solved.returncode == 0, solved.stderr[-3000:]
    assert totals(solved.stdout) == (140.0, 140.0), solved.stdout[-3000:]


def test_a_python_without_the_packages_is_told_the_install_line(built, tmp_path):
    lab = unpack(built["handout_tar"], tmp_path / "lab")
    bare = _fresh_venv(tmp_path / "bare")
    done = subprocess.run(["./grade.sh"], cwd=lab, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GRADECHECK_PYTHON": str(bare)})
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert "-m pip install -r requirements.txt" in done.stderr
    for package in ("numpy", "hypothesis", "nbformat", "pyyaml", "torch"):
        assert package in done.stderr


def test_make_handin_says_when_the_file_is_not_valid_python(built, tmp_path):
    lab = unpack(built["handout_tar"], tmp_path / "lab")
    script = lab / "softmax_lab.py"
    script.write_text(script.read_text() + "\ndef broken(:\n    pass\n")
    done = run(["./make_handin.sh"], lab)
    assert done.returncode == 0, done.stderr
    assert "softmax_lab.py is not valid Python (line" in done.stdout
    assert (lab / "handin.tar").is_file()  # packed all the same: it is the student's call


def test_the_readme_defines_optional_and_says_the_score_can_differ(built, tmp_path):
    lab = unpack(built["handout_tar"], tmp_path / "lab")
    readme = (lab / "README.md").read_text()
    assert "An optional question counts toward the total like the others" in readme
    assert "can differ from the local one" in readme and "can be lower" not in readme
    assert "simplifies to" not in (lab / "softmax_lab.py").read_text()
