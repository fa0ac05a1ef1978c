"""Nothing the grader reads back from disk is trusted unless the grader wrote it.

Hostile submissions that reached the grader's files rewrote example banks
(NaN examples cost correct submissions 80 points, empty ones gave buggy
submissions 25-45) and other students' finished grade-all reports; an
OOM-killed judge hung grade-all. Here: every way of editing a bank on disk
is ignored and grades stay honest; rewritten reports are graded again; a
judge that dies is one grader-error row and the batch finishes.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, SAMPLES
from grader import batch, examples, signing
from grader.checks import import_file, load_registry
from grader.runner import grade
from grader.sandbox import protocol
from grader.spec import load

CORPUS = ROOT / "tests" / "submissions" / "softmax_lab"
GOOD = CORPUS / "good" / "numpy_inside.py"
BAD = CORPUS / "bad" / "diagonal_jacobian.py"  # Loses: softmax_backward (25 points)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assignment():
    return load("softmax_lab")


def _fresh_process(monkeypatch) -> None:
    """Forget every bank and key held in memory, as a new judge process would."""
    monkeypatch.setattr(examples, "_MEMORY", {})
    monkeypatch.setattr(signing, "_KEYS", {})
    monkeypatch.setattr(signing, "_REFUSED", {})


def _expected(assignment, submission: Path) -> float:
    """What a submission must score: full marks less the questions its docstring says it loses."""
    line = next(x for x in submission.read_text().splitlines() if x.startswith("Loses:"))
    lost = {name.strip() for name in line.split(":", 1)[1].split(",")} - {"none"}
    return assignment.automatic_points - sum(q.points for q in assignment.questions if q.name in lost)


def _score(assignment, submission: Path, monkeypatch) -> float:
    _fresh_process(monkeypatch)
    return grade(assignment, submission, secret="").score  # the unsalted bank recorded here


# -- banks -------------------------------------------------------------------------------

def _record(assignment, cache: Path) -> tuple[Path, str, dict]:
    before = os.environ.get("GRADECHECK_CACHE")
    os.environ["GRADECHECK_CACHE"] = str(cache)
    saved = (examples._MEMORY, signing._KEYS, signing._REFUSED)
    examples._MEMORY, signing._KEYS, signing._REFUSED = {}, {}, {}
    try:
        registry = load_registry(assignment)
        reference = import_file(assignment.reference, "gradecheck_reference_test_integrity")
        bank = examples.bank_for(assignment, registry, reference)
    finally:
        examples._MEMORY, signing._KEYS, signing._REFUSED = saved
        if before is None:
            del os.environ["GRADECHECK_CACHE"]
        else:
            os.environ["GRADECHECK_CACHE"] = before
    path = cache / examples.bank_path(assignment, bank.key).name  # in this cache, not the default one
    assert path.is_file() and (cache / "key").is_file()
    return cache, path.name, examples.bank_to_json(bank)


@pytest.fixture(scope="module")
def recordings(assignment, tmp_path_factory):
    """Cache folders holding the key and an honest, signed bank, recorded once (again
    only if the checks or engine change while the tests run)."""
    made: dict[str, tuple[Path, str, dict]] = {}

    def current() -> tuple[Path, str, dict]:
        key = examples.bank_key(assignment)
        if key not in made:
            made[key] = _record(assignment, tmp_path_factory.mktemp("template") / "cache")
        return made[key]

    return current


@pytest.fixture
def recorded_cache(recordings):
    return recordings()


@pytest.fixture
def cache(recorded_cache, tmp_path, monkeypatch):
    """A private copy of the recorded cache folder, named by GRADECHECK_CACHE."""
    template, _, _ = recorded_cache
    folder = tmp_path / "cache"
    shutil.copytree(template, folder)
    monkeypatch.setenv("GRADECHECK_CACHE", str(folder))
    monkeypatch.delenv("GRADECHECK_EXAMPLES", raising=False)
    _fresh_process(monkeypatch)
    return folder


def _nan(obj):
    """Every float array of a bank's examples filled with NaN."""
    if isinstance(obj, dict):
        if obj.get("t") == "array" and obj["dtype"].startswith("float"):
            array = protocol.decode_array(obj).copy()
            array[...] = np.nan
            return protocol.encode_array(array, obj["lib"])
        return {k: _nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan(v) for v in obj]
    return obj


def _emptied(data: dict) -> dict:
    data = copy.deepcopy(data)
    for calls in data["checks"].values():
        for call in calls or []:
            call["examples"] = []
    return data


def _body(data: dict) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _keep_mac(path: Path, data: dict) -> None:
    """Replace the bank's data, keeping the MAC that was there."""
    raw = path.read_bytes()
    head = raw[: raw.index(b'"signed":') + len(b'"signed":')]
    path.write_bytes(head + _body(data) + b"}\n")


def _signed(key: bytes, name: str, data: dict) -> bytes:
    body = _body(data)
    return (b'{"hmac-sha256":"' + signing.mac(key, signing.BANK, name, body).encode() + b'","signed":'
            + body + b"}\n")


def _tamper(kind: str, folder: Path, name: str, honest: dict) -> bool:
    """Edit the cache as a hostile submission would; True when the whole folder must
    then be refused (nothing read or written), False when the bank must be replaced."""
    path = folder / name
    key = (folder / "key").read_bytes()
    if kind == "nan_examples_mac_kept":
        _keep_mac(path, _nan(honest))
    elif kind == "emptied_examples_mac_kept":
        _keep_mac(path, _emptied(honest))
    elif kind == "mac_stripped":
        path.write_bytes(_body(_emptied(honest)) + b"\n")
    elif kind == "signed_with_another_key":
        path.write_bytes(_signed(os.urandom(32), name, _emptied(honest)))
    elif kind == "not_json":
        path.write_bytes(b'{"hmac-sha256":"' + b"0" * 64 + b'","signed":[}\n')
    elif kind == "bank_group_writable":
        path.write_bytes(_signed(key, name, _emptied(honest)))
        path.chmod(0o664)
    elif kind == "bank_symlink":
        elsewhere = folder.parent / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / name).write_bytes(_signed(key, name, _emptied(honest)))
        path.unlink()
        path.symlink_to(elsewhere / name)
    elif kind == "bank_not_ours":
        path.write_bytes(_signed(key, name, _emptied(honest)))
        os.chown(path, 65534, 65534)
    elif kind == "key_world_readable":  # anyone could have read it and signed this
        (folder / "key").chmod(0o644)
        path.write_bytes(_signed(key, name, _emptied(honest)))
        return True
    elif kind == "key_group_writable":
        (folder / "key").chmod(0o620)
        path.write_bytes(_signed(key, name, _emptied(honest)))
        return True
    elif kind == "key_symlink":
        planted = folder.parent / "planted-key"
        planted.write_bytes(b"k" * 32)
        planted.chmod(0o600)
        (folder / "key").unlink()
        (folder / "key").symlink_to(planted)
        path.write_bytes(_signed(b"k" * 32, name, _emptied(honest)))
        return True
    elif kind == "folder_group_writable":
        path.write_bytes(_signed(key, name, _emptied(honest)))
        folder.chmod(0o770)
        return True
    elif kind == "folder_not_ours":
        path.write_bytes(_signed(key, name, _emptied(honest)))
        os.chown(folder, 65534, 65534)
        return True
    else:
        raise AssertionError(kind)
    return False


KINDS = ["nan_examples_mac_kept", "emptied_examples_mac_kept", "mac_stripped", "signed_with_another_key",
         "not_json", "bank_group_writable", "bank_symlink", "bank_not_ours", "key_world_readable",
         "key_group_writable", "key_symlink", "folder_group_writable", "folder_not_ours"]


def test_the_tampered_banks_would_change_grades(assignment, recorded_cache, monkeypatch):
    """The edits below matter: trusted, they cost a correct submission points and give
    a buggy one points (as in the incident)."""
    _, _, honest = recorded_cache
    key = honest["key"]
    monkeypatch.setattr(examples, "_MEMORY", {key: examples.bank_from_json(_nan(honest), key)})
    assert grade(assignment, GOOD, secret="").score < _expected(assignment, GOOD) - 50
    monkeypatch.setattr(examples, "_MEMORY", {key: examples.bank_from_json(_emptied(honest), key)})
    assert grade(assignment, BAD, secret="").score > _expected(assignment, BAD)


@pytest.mark.parametrize("kind", KINDS)
def test_a_bank_edited_on_disk_is_ignored(kind, assignment, recorded_cache, cache, monkeypatch):
    if kind.endswith("not_ours") and os.geteuid() != 0:
        pytest.skip("needs root to give a file away")
    _, name, honest = recorded_cache
    path = cache / name
    refused = _tamper(kind, cache, name, honest)
    left = path.read_bytes()

    assert _score(assignment, GOOD, monkeypatch) == _expected(assignment, GOOD) == 140
    assert _score(assignment, BAD, monkeypatch) == _expected(assignment, BAD) == 115

    if refused:  # neither read nor written from that folder; the reason is kept
        assert signing.refusal(cache)
        assert path.read_bytes() == left
    else:  # recorded afresh and replaced by an honest, signed bank
        assert signing.refusal(cache) is None
        assert not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600
        _fresh_process(monkeypatch)
        again = examples.read_bank(path, honest["key"])
        assert again is not None and examples.bank_to_json(again) == honest


def test_the_key_is_private_and_made_once(tmp_path, monkeypatch):
    _fresh_process(monkeypatch)
    folder = tmp_path / "a" / "cache"
    key = signing.key_in(folder, create=True)
    assert key is not None and len(key) == 32
    assert stat.S_IMODE((folder / "key").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert [p.name for p in folder.iterdir()] == ["key"]
    _fresh_process(monkeypatch)
    assert signing.key_in(folder, create=True) == key  # read back, not made again
    _fresh_process(monkeypatch)
    (folder / "key").write_bytes(b"short")
    assert signing.key_in(folder, create=True) is None and "bytes" in signing.refusal(folder)
    _fresh_process(monkeypatch)
    assert signing.key_in(tmp_path / "absent", create=False) is None
    assert not (tmp_path / "absent").exists()


def test_signed_data_stays_where_it_was_signed(tmp_path, monkeypatch):
    _fresh_process(monkeypatch)
    folder = tmp_path / "cache"
    assert signing.write_signed(folder, "one.json", signing.BANK, b'{"a":1}')
    assert signing.read_signed(folder, "one.json", signing.BANK, 1000) == b'{"a":1}'
    assert signing.read_signed(folder, "one.json", signing.REPORT, 1000) is None  # another purpose
    assert signing.read_signed(folder, "one.json", signing.BANK, 5) is None  # over the limit
    shutil.copy(folder / "one.json", folder / "two.json")
    assert signing.read_signed(folder, "two.json", signing.BANK, 1000) is None  # another name
    raw = (folder / "one.json").read_bytes()
    (folder / "one.json").write_bytes(raw.replace(b'"a":1', b'"a":2'))
    assert signing.read_signed(folder, "one.json", signing.BANK, 1000) is None


# -- grade-all -----------------------------------------------------------------------------

CLASS = {
    "alice.py": CORPUS / "good" / "explicit_loops.py",
    "bob.py": BAD,
    "dave.py": GOOD,
    "erin.py": CORPUS / "bad" / "histogram_bgr.py",
}
HONEST = {"alice": 140, "bob": 115, "dave": 140, "erin": 125}


@pytest.fixture
def class_folder(tmp_path) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    for name, source in CLASS.items():
        shutil.copy(source, folder / name)
    return folder


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_run_left_behind():
    """A grade-all a failing test leaves running is killed (its judges die with it)."""
    yield
    while _STARTED:
        run = _STARTED.pop()
        if run.poll() is None:
            run.kill()
            run.communicate()


def _grade_all(folder: Path, out: Path, cache: Path, jobs: int = 2, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "GRADECHECK_CACHE": str(cache), **env}
    environment.pop("GRADECHECK_EXAMPLES", None)
    run = subprocess.Popen([sys.executable, "-m", "grader", "grade-all", "softmax_lab", str(folder),
                            "--out", str(out), "--jobs", str(jobs)], cwd=ROOT, env=environment,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _STARTED.append(run)
    return run


def _finish(run: subprocess.Popen, timeout: float = 600) -> str:
    try:
        _, stderr = run.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.kill()
        _, stderr = run.communicate()
        raise AssertionError(f"grade-all still running after {timeout:.0f} s:\n{stderr[-3000:]}") from None
    assert run.returncode == 0, stderr
    return stderr


def _gradebook(out: Path) -> dict[str, float]:
    return {row["student"]: float(row["total"]) for row in csv.DictReader((out / "gradebook.csv").open())}


def test_rewritten_reports_are_graded_again(class_folder, tmp_path, assignment):
    out, cache = tmp_path / "out", tmp_path / "cache"
    _finish(_grade_all(class_folder, out, cache))
    assert _gradebook(out) == HONEST
    reports = out / "reports"
    original = {p.stem: json.loads(p.read_text()) for p in reports.glob("*.json")}
    assert all(isinstance(r.get("signature"), str) for r in original.values())

    alice = copy.deepcopy(original["alice"])  # a 100 made a 0, signature kept
    alice["score"] = 0
    for question in alice["questions"]:
        question["score"] = 0
    (reports / "alice.json").write_text(json.dumps(alice, indent=2))
    bob = copy.deepcopy(original["bob"])  # a 75 made a 100, signature removed
    bob["score"] = 100
    del bob["signature"]
    (reports / "bob.json").write_text(json.dumps(bob, indent=2))
    dave = copy.deepcopy(original["erin"])  # another student's signed report, renamed
    dave["student"] = "dave"
    (reports / "dave.json").write_text(json.dumps(dave, indent=2))
    mallory = copy.deepcopy(original["alice"])  # a report for nobody in the folder
    mallory["student"] = "mallory"
    (reports / "mallory.json").write_text(json.dumps(mallory, indent=2))

    stderr = _finish(_grade_all(class_folder, out, cache))
    assert "1 of 4 submissions already graded" in stderr
    regraded = sorted(line.split(": ")[1].split(" ")[0] for line in stderr.splitlines()
                      if line.startswith("graded "))
    assert regraded == ["alice", "bob", "dave"]
    assert _gradebook(out) == HONEST
    summary = json.loads((out / "summary.json").read_text())
    assert summary["submissions"] == 4 and summary["grader_errors"] == []
    for student, total in HONEST.items():
        report = json.loads((reports / f"{student}.json").read_text())
        assert report["score"] == total and report["student"] == student
        assert batch.read_report(out, student, assignment, (cache / "key").read_bytes()) is not None


def test_a_judge_that_dies_is_one_error_row(class_folder, tmp_path):
    """The judges of bob (SIGKILL, as the OOM killer does) and erin (SIGSEGV) die at
    their first check; the batch grades the others, writes everything and exits."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    stderr = _finish(_grade_all(class_folder, out, cache, **{batch.TEST_KILL_JUDGE: "bob:9,erin:11"}))
    assert _gradebook(out) == {**HONEST, "bob": 0, "erin": 0}
    reports = {p.stem: json.loads(p.read_text()) for p in (out / "reports").glob("*.json")}
    assert "the judge grading this submission died (signal 9" in reports["bob"]["error"]
    assert "signal 11" in reports["erin"]["error"]
    assert "grader failure on bob: the judge grading this submission died (signal 9" in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["submissions"] == 4 and summary["grader_errors"] == ["bob", "erin"]
    assert (out / "histogram.png").read_bytes().startswith(b"\x89PNG")

    stderr = _finish(_grade_all(class_folder, out, cache))  # grader errors are graded again
    assert "2 of 4 submissions already graded" in stderr
    assert _gradebook(out) == HONEST


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_judge_killed_from_outside_mid_grade(class_folder, tmp_path):
    """No test hook: aaron's submission never finishes importing, and the test kills his
    judge (the grade-all process's only child then) with SIGKILL: the batch still ends."""
    slow = (SAMPLES / "correct.py").read_text().replace(
        "import torch", "import time\nimport torch\nwhile True:\n    time.sleep(1)", 1)
    (class_folder / "aaron.py").write_text(slow)
    (class_folder / "dave.py").unlink()
    (class_folder / "erin.py").unlink()
    out, cache = tmp_path / "out", tmp_path / "cache"
    run = _grade_all(class_folder, out, cache, jobs=1)
    deadline = time.monotonic() + 120
    judges: list[int] = []
    while time.monotonic() < deadline and run.poll() is None:
        judges = _children(run.pid)
        if judges and _children(judges[0]):  # the judge has started aaron's sandbox
            break
        time.sleep(0.1)
    assert len(judges) == 1, judges
    time.sleep(1)
    os.kill(judges[0], signal.SIGKILL)
    _finish(run, timeout=300)  # the import never ends: only a batch that waits for nobody finishes
    assert _gradebook(out) == {"aaron": 0, "alice": 140, "bob": 115}
    report = json.loads((out / "reports" / "aaron.json").read_text())
    assert "died (signal 9, SIGKILL)" in report["error"]
    assert json.loads((out / "summary.json").read_text())["grader_errors"] == ["aaron"]


# -- the batch's judges, faked: what the parent makes of what comes down the pipe -------------

def _fake_judge(assignment, submissions, parent, task_fd, result_fd, inherited):
    """Stands in for batch._judge in the forked child, with the same pipes; never returns."""
    code = 0
    try:
        for fd in inherited:
            os.close(fd)
        while True:
            task = batch._read_exactly(task_fd, 4)
            if task is None:
                break
            student = submissions[struct.unpack(">I", task)[0]].student
            report = {"assignment": assignment.name, "score": 42, "max_score": 100, "questions": [
                {"name": "softmax", "score": 4, "max_score": 10, "checks": [{"name": "c", "passed": False}]}]}
            body = json.dumps(report).encode()
            message = struct.pack(">Q", len(body)) + body
            if student == "huge":
                message = struct.pack(">Q", 9 * 2**20) + b" " * (9 * 2**20)
            elif student == "truncated":
                message = message[:20]
            elif student == "malformed":
                body = json.dumps({**report, "score": "100"}).encode()
                message = struct.pack(">Q", len(body)) + body
            elif student == "exits":
                os._exit(3)
            elif student == "hangs":
                time.sleep(60)
            elif student == "leaks" and os.fork() == 0:  # a grandchild keeps the pipes open
                time.sleep(3)
                os._exit(0)
            view = memoryview(message)
            while view:
                view = view[os.write(result_fd, view):]
            if student == "truncated":
                os._exit(0)
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def test_what_a_judge_sends_is_checked(assignment, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADECHECK_CACHE", str(tmp_path / "cache"))
    _fresh_process(monkeypatch)
    monkeypatch.setattr(batch, "preload", lambda assignment: None)
    monkeypatch.setattr(batch, "_judge", _fake_judge)
    limits = assignment.limits
    monkeypatch.setattr(batch, "JUDGE_SLACK_SECONDS", 2 - 2 * (limits.total_seconds + limits.import_seconds))
    folder = tmp_path / "class"
    folder.mkdir()
    names = ("fine", "huge", "truncated", "malformed", "exits", "hangs", "leaks", "after1", "after2", "after3")
    for name in names:
        (folder / f"{name}.py").write_text("")
    run = batch.Batch(assignment, folder, tmp_path / "out")
    results = {student: (score, error) for student, score, _, error in run.run(jobs=3)}
    honest = ("fine", "leaks", "after1", "after2", "after3")
    assert all(results[name] == (42, None) for name in honest), results
    assert "larger than 8 MB" in results["huge"][1]
    assert "ended in the middle of its report" in results["truncated"][1]
    assert "malformed report" in results["malformed"][1]
    assert "exited with status 3" in results["exits"][1]
    assert "still running after 2 s" in results["hangs"][1]
    assert all(score == 0 for student, (score, _) in results.items() if student not in honest)
    assert sorted(run.reports) == sorted(results)
    on_disk = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "out" / "reports").glob("*.json")}
    assert {s: r["score"] for s, r in on_disk.items()} == {s: score for s, (score, _) in results.items()}


def test_student_names_stay_inside_the_reports_folder(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    names = ["a\nb.py", "a_b.py", " ..x.py", "x.py", "-rf.py", "tab\there.py", "esc\x1b[31m.py",
             "名前.py", "x" * 250 + ".py", "rtl\u202egp.py", " .py"]
    for name in names + ["...py", "..x.py", ".hidden.py"]:  # hidden entries are not submissions
        (folder / name).write_text("")
    os.mkdir(os.path.join(os.fsencode(folder), b"bad\xffbytes"))
    found = batch.discover(folder)
    students = [s.student for s in found]
    assert len(found) == len(names) + 1 and len(set(students)) == len(students)
    reports = (tmp_path / "out" / "reports").resolve()
    for student in students:
        assert not re.search(r"[\x00-\x1f\x7f/\\]", student) and not student.startswith(".")
        assert student not in ("", ".", "..") and len(student.encode()) <= batch.NAME_BYTES
        assert "\u202e" not in student and "\udcff" not in student
        assert batch.report_path(tmp_path / "out", student).resolve().parent == reports
    by_file = {s.path.name: s.student for s in found}
    assert by_file["x.py"] == "x" and by_file["a_b.py"] == "a_b"  # an honest name is never taken
    assert by_file["名前.py"] == "名前" and by_file["-rf.py"] == "-rf"
