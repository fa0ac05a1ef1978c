"""The portable local grade: a student's own grade where the Linux sandbox cannot run.

On macOS and Windows the handout's grade.py runs the student's code in a plain
child process (grader/sandbox/plain.py). Here the Linux-only pieces are
disabled in the judge's interpreter (the modules and os functions macOS and
Windows lack), and the portable grade must give every visible check the same
verdict and message as the sandboxed local grade, on every file of the
corpus and on the attack files a student's own machine can run unconfined
(the others attack the machine itself: fork bombs, process spawners, a
killer of the parent, writers into the grader; the sandbox tests cover them).
The lab's corpus and those attacks are compared in tests/test_handout.py, in
the same run that compares the local grade with the server's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from handout import build_all

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"
# Attacks whose harm stays inside their own process. results_json_writer is not
# one: unconfined, it plants results.json in every working folder it can see,
# the test runner's (the repository's root) included.
ATTACKS_A_STUDENT_CAN_RUN = [
    "syntax_error", "missing_functions", "wrong_signatures", "returns_nan_and_wrong_shapes",
    "returns_none_and_lists", "mutates_inputs", "exit_in_functions", "sys_exit_at_import",
    "os_exit_at_import", "close_stdio", "garbage_fds", "garbage_channel", "fake_autolab_lines",
    "print_flood", "huge_result", "patch_libraries",
]

# What macOS and Windows lack of the Linux sandbox's needs, taken away before anything runs.
WITHOUT_LINUX = """
import os, sys
for name in ("fcntl", "resource", "pwd", "grp", "termios"):
    sys.modules[name] = None
for name in ("memfd_create", "pidfd_open", "sysconf", "fork"):
    if hasattr(os, name):
        delattr(os, name)
"""

VERDICTS = """
import json, sys
from pathlib import Path
from gradecheck_local.local import load_public, plain_reason
from grader.runner import grade
plain = sys.argv[1] == "plain"
assert (plain_reason() is not None) == plain, plain_reason()
assignment, _facts = load_public()
verdicts = {}
for path in sys.argv[2:]:
    report = grade(assignment, Path(path), visibility="public", use_bank=False, secret="",
                   minimum="none", plain=plain)
    isolation = report.isolation or {}  # empty: nothing ran
    verdicts[path] = {"level": isolation.get("level"), "features": isolation.get("features", []),
                      "checks": {c.name: [c.passed, c.message] for q in report.questions for c in q.checks}}
print(json.dumps(verdicts))
"""


def attacks_a_student_can_run() -> list[Path]:
    return [SUBMISSIONS / "attacks" / f"{name}.py" for name in ATTACKS_A_STUDENT_CAN_RUN]


def corpus(assignment: str) -> list[Path]:
    if assignment == "mytorch_hw1":
        return sorted(p for p in (SUBMISSIONS / assignment).glob("*/*") if p.is_dir())
    return sorted((SUBMISSIONS / assignment).glob("*/*.py"))


def handout(assignment: str, tmp_path: Path) -> Path:
    """The student's unpacked handout folder."""
    built = build_all(assignment, tmp_path / "build")
    with tarfile.open(built["handout_tar"]) as archive:
        archive.extractall(tmp_path / "student", **({"filter": "tar"} if hasattr(tarfile, "data_filter") else {}))
    return tmp_path / "student" / assignment


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "GRADECHECK_PLAIN"}


def local_verdicts(lab: Path, files: list[Path]) -> dict[str, dict]:
    """The handout's local grade of each file, sandboxed and portable (run side by side:
    the machine has two cores): {"sandbox"|"plain": {file: {"level", "features", "checks": {name:
    [passed, message]}}}}."""
    runs = {
        mode: subprocess.Popen([sys.executable, "-c", (WITHOUT_LINUX if mode == "plain" else "") + VERDICTS,
                                mode, *map(str, files)], cwd=lab / "local_grader", env=environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for mode in ("sandbox", "plain")}
    verdicts = {}
    for mode, run in runs.items():
        out, err = run.communicate(timeout=900)
        assert run.returncode == 0, f"{mode}: {err[-3000:]}"
        verdicts[mode] = json.loads(out.strip().splitlines()[-1])
    return verdicts


def assert_portable_agrees(verdicts: dict[str, dict]) -> None:
    """Every file: the same checks, each with the same verdict and message."""
    sandbox, plain = verdicts["sandbox"], verdicts["plain"]
    assert sandbox.keys() == plain.keys() and sandbox
    ran = [f for f in plain if plain[f]["level"] is not None]  # None: nothing ran (a layout problem)
    assert ran and all(plain[f]["level"] == "none" and "plain-process" in plain[f]["features"] for f in ran)
    # the sandboxed grade is the Linux sandbox, at whatever level this machine allows
    assert not any("plain-process" in sandbox[f]["features"] for f in sandbox)
    differ = [f"{Path(f).name}: {name}: sandbox {sandbox[f]['checks'].get(name)} plain {verdict}"
              for f in plain for name, verdict in plain[f]["checks"].items()
              if sandbox[f]["checks"].get(name) != verdict]
    assert not differ, "\n".join(differ[:20])
    assert all(sandbox[f]["checks"].keys() == plain[f]["checks"].keys() for f in plain)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["softmax_vectorized", "mytorch_hw1"])  # the lab: test_handout
def test_the_portable_grade_agrees_with_the_sandboxed_one_on_every_file(assignment, tmp_path):
    assert_portable_agrees(local_verdicts(handout(assignment, tmp_path), corpus(assignment)))


def test_grade_py_runs_without_the_linux_pieces_and_says_so(tmp_path):
    """A student on macOS or Windows: `python grade.py` grades, one line says how."""
    lab = handout("softmax_vectorized", tmp_path)
    good = sorted((SUBMISSIONS / "softmax_vectorized" / "good").glob("*.py"))[0]
    script = WITHOUT_LINUX + "import runpy; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    run = subprocess.run([sys.executable, "-c", script, str(lab / "grade.py"), str(good)], cwd=tmp_path,
                         env=environment(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Note: your code runs in a plain child process, not in the grader's sandbox" in run.stdout
    assert "Sandbox isolation: none" in run.stdout
    total = [line.split() for line in run.stdout.splitlines() if line.startswith("total")]
    assert total and total[-1][1] == total[-1][2], run.stdout


def test_grade_sh_and_make_handin_sh_are_thin_wrappers_of_the_python_scripts(tmp_path):
    lab = handout("softmax_vectorized", tmp_path)
    for script in ("grade", "make_handin"):
        shell = (lab / f"{script}.sh").read_text()
        assert f'"$HERE/{script}.py"' in shell and "exec" in shell
    run = subprocess.run(["bash", str(lab / "make_handin.sh")], cwd=lab, capture_output=True, text=True,
                         timeout=120, env={**environment(), "GRADECHECK_PYTHON": sys.executable})
    assert run.returncode == 0, run.stderr
    assert (lab / "handin.tar").is_file()
    plain = subprocess.run([sys.executable, str(lab / "grade.py"), "--plain"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300, env=environment())
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert "(you asked for it (--plain))" in plain.stdout


@pytest.fixture
def open_folder():
    """A folder uid 65534 can reach (pytest's own are root's, 0700), removed afterwards."""
    from test_isolation import _temporary_root

    folder = Path(tempfile.mkdtemp(prefix="gradecheck-portable-", dir=_temporary_root()))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_student_without_privileges_grades_both_ways(open_folder):
    """The local grade as an ordinary user (uid 65534, no capabilities), plain and sandboxed:
    full marks both ways, each naming how it ran."""
    from test_isolation import NOBODY, _nobody_python

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("switching to an unprivileged user needs root and setpriv")
    tmp_path = open_folder
    tools = tmp_path / "tools"
    tools.mkdir(mode=0o755)
    python = _nobody_python(tools)
    student = tmp_path / "student"
    student.mkdir()
    lab = handout("softmax_vectorized", student)
    good = lab / "good.py"
    shutil.copy(sorted((SUBMISSIONS / "softmax_vectorized" / "good").glob("*.py"))[0], good)
    for path in [student, *student.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(student), "LANG": "C.UTF-8"}
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all"]
    for extra, how in ((["--plain"], "plain-process"), ([], None)):
        run = subprocess.run([*prefix, python, str(lab / "grade.py"), *extra, str(good)], cwd=student, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        total = [line.split() for line in run.stdout.splitlines() if line.startswith("total")]
        assert total and total[-1][1] == total[-1][2], run.stdout
        isolation = next(line for line in run.stdout.splitlines() if line.startswith("Sandbox isolation:"))
        assert (how in isolation) if how else ("plain-process" not in isolation), isolation
