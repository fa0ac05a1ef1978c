"""grade-all on the platforms' exports (#16): Gradescope's "Export Submissions" (a folder
or its .zip; submission_metadata.yml; groups; an uploaded handin.tar kept as it is) and
Autolab's download (EMAIL_VERSION_FILE; the latest version per student, or all)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, run_grader

TOY = ROOT / "tests" / "assignments" / "toy_numpy"
METADATA = """\
submission_101:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1001'
    :email: ada@school.edu
  :created_at: 2026-11-30 10:00:00.000000000 -08:00
  :score: 0.0
submission_102:
  :submitters:
  - :name: Bo Li
    :sid: '1002'
    :email: bo@school.edu
  - :name: Cy Diaz
    :sid: '1003'
    :email: cy@school.edu
  :created_at: 2026-11-30 11:00:00.000000000 -08:00
  :score: 0.0
submission_103:
  :submitters:
  - :name: Dee Park
    :sid: '1004'
    :email: dee@school.edu
  :created_at: 2026-11-30 12:00:00.000000000 -08:00
  :score: 0.0
"""


def _solution(wrong: bool = False) -> str:
    lines = (TOY / "reference_toy.py").read_text().splitlines(keepends=True)
    source = "".join(line for line in lines if "SOLUTION" not in line)
    return source.replace("return x * factor", "return x + factor") if wrong else source


def _tar_of(path: Path, name: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    with tarfile.open(path, "w") as archive:
        archive.addfile(info, io.BytesIO(data))


@pytest.fixture
def assignment(tmp_path) -> Path:
    copy = tmp_path / "toy_numpy"
    shutil.copytree(TOY, copy, ignore=shutil.ignore_patterns("__pycache__", "secret.txt"))
    return copy


def _gradescope_export(folder: Path) -> Path:
    export = folder / "assignment_77_export"
    for name in ("submission_101", "submission_102", "submission_103"):
        (export / name).mkdir(parents=True)
    (export / "submission_metadata.yml").write_text(METADATA)
    (export / "submission_101" / "toy.py").write_text(_solution())
    _tar_of(export / "submission_102" / "handin.tar", "toy.py", _solution())  # uploaded as a tar
    (export / "submission_103" / "toy.py").write_text(_solution(wrong=True))
    return folder


def _rows(out: Path) -> dict[str, dict]:
    return {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}


def _score_alone(assignment: Path, submission: Path) -> float:
    done = run_grader("grade", str(assignment), str(submission), "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["score"]


def test_a_gradescope_export_gives_one_row_per_student_with_their_identity(assignment, tmp_path):
    folder = _gradescope_export(tmp_path / "download")
    out = tmp_path / "out"
    done = run_grader("grade-all", str(assignment), str(folder), "--out", str(out), "--jobs", "1")
    assert done.returncode == 0, done.stderr
    rows = _rows(out)
    assert sorted(rows) == ["ada@school.edu", "bo@school.edu", "cy@school.edu", "dee@school.edu"]
    assert rows["cy@school.edu"]["name"] == "Cy Diaz" and rows["cy@school.edu"]["sid"] == "1003"
    assert rows["bo@school.edu"]["total"] == rows["cy@school.edu"]["total"]  # one group, one grade
    export = folder / "assignment_77_export"
    for email, submission in (("ada@school.edu", "submission_101"), ("bo@school.edu", "submission_102"),
                              ("dee@school.edu", "submission_103")):
        assert float(rows[email]["total"]) == _score_alone(assignment, export / submission), email
    assert float(rows["dee@school.edu"]["total"]) < float(rows["ada@school.edu"]["total"])
    identity = json.loads((out / "reports" / "bo@school.edu.json").read_text())["identity"]
    assert identity["platform"] == "gradescope" and len(identity["members"]) == 2
    # Canvas's import: its header, the points possible, the SID and login of each student
    canvas = list(csv.reader((out / "gradebook_canvas.csv").open()))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and len(canvas[0]) == 6
    assert canvas[1][0] == "Points Possible" and float(canvas[1][5]) > 0
    by_login = {row[3]: row for row in canvas[2:]}
    assert sorted(by_login) == sorted(rows)
    assert by_login["cy@school.edu"][:3] == ["Cy Diaz", "", "1003"]
    assert all(float(by_login[e][5]) == float(rows[e]["total"]) for e in rows)


def test_the_zipped_export_grades_the_same(assignment, tmp_path):
    folder = _gradescope_export(tmp_path / "download")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(folder).as_posix())
    plain, zipped_out = tmp_path / "plain", tmp_path / "zipped"
    assert run_grader("grade-all", str(assignment), str(folder), "--out", str(plain)).returncode == 0
    done = run_grader("grade-all", str(assignment), str(archive), "--out", str(zipped_out))
    assert done.returncode == 0, done.stderr
    totals = lambda out: {s: r["total"] for s, r in _rows(out).items()}  # noqa: E731
    assert totals(plain) == totals(zipped_out)


def test_an_autolab_download_grades_each_students_latest_version(assignment, tmp_path):
    folder = tmp_path / "download"
    folder.mkdir()
    _tar_of(folder / "alice@school.edu_1_handin.tar", "toy.py", _solution(wrong=True))
    _tar_of(folder / "alice@school.edu_2_handin.tar", "toy.py", _solution())
    (folder / "bob@school.edu_1_toy.py").write_text(_solution(wrong=True))
    out = tmp_path / "out"
    done = run_grader("grade-all", str(assignment), str(folder), "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = _rows(out)
    assert sorted(rows) == ["alice@school.edu", "bob@school.edu"]
    assert float(rows["alice@school.edu"]["total"]) == _score_alone(assignment, folder / "alice@school.edu_2_handin.tar")
    assert json.loads((out / "reports" / "alice@school.edu.json").read_text())["identity"]["version"] == 2
    every = tmp_path / "every"
    done = run_grader("grade-all", str(assignment), str(folder), "--out", str(every), "--all-versions")
    assert done.returncode == 0, done.stderr
    listed = [(r["student"], r["version"]) for r in csv.DictReader((every / "gradebook.csv").open())]
    assert listed == [("alice@school.edu", "1"), ("alice@school.edu", "2"), ("bob@school.edu", "1")]
    assert sorted(p.stem for p in (every / "reports").glob("*.json")) == [
        "alice@school.edu_v1", "alice@school.edu_v2", "bob@school.edu_v1"]
    # Autolab's scores import: email, then each problem's score, the latest version only
    latest = json.loads((every / "reports" / "alice@school.edu_v2.json").read_text())
    imported = list(csv.reader((every / "gradebook_autolab.csv").open()))
    assert [row[0] for row in imported] == ["alice@school.edu", "bob@school.edu"]
    manual = {"written"}  # graded by hand: blank, which Autolab leaves as the staff set it
    assert imported[0][1:] == ["" if q["name"] in manual else f"{q['score']:g}" for q in latest["questions"]]
    assert imported[0][1:] != imported[1][1:]  # alice's right version, bob's wrong one


def test_a_plain_folder_is_left_out_of_the_import_files_and_told(assignment, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "someone.py").write_text(_solution())
    out = tmp_path / "out"
    done = run_grader("grade-all", str(assignment), str(folder), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "1 submission(s) name no email or SID" in done.stdout
    assert len(list(csv.reader((out / "gradebook_canvas.csv").open()))) == 2  # header, points
    assert (out / "gradebook_autolab.csv").read_text() == ""


def test_a_zip_that_leaves_the_export_is_refused(assignment, tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../outside.txt", "x")
    done = run_grader("grade-all", str(assignment), str(archive), "--out", str(tmp_path / "out"))
    assert done.returncode != 0 and "outside the export" in done.stderr
    assert not (tmp_path / "outside.txt").exists()


def test_grade_all_scores_each_export_as_the_platforms_bundle_does(assignment, tmp_path):
    """The gradebook's totals equal what the Gradescope bundle's run_autograder and the
    Autolab bundle's make give the same files (the bundles built from the same assignment)."""
    from handout import build_all
    from test_platforms import gradescope_root, run, run_autograder

    built = build_all(assignment, tmp_path / "build")
    folder = _gradescope_export(tmp_path / "download")
    out = tmp_path / "out"
    assert run_grader("grade-all", str(assignment), str(folder), "--out", str(out)).returncode == 0
    rows = _rows(out)
    export = folder / "assignment_77_export"
    for email, submission in (("ada@school.edu", "submission_101"), ("bo@school.edu", "submission_102"),
                              ("dee@school.edu", "submission_103")):
        root = gradescope_root(built, tmp_path / f"gradescope_{submission}")
        for path in (export / submission).iterdir():
            shutil.copy(path, root / "submission" / path.name)
        assert float(rows[email]["total"]) == pytest.approx(run_autograder(root)["score"]), email
    download = tmp_path / "autolab_download"
    download.mkdir()
    _tar_of(download / "alice@school.edu_1_handin.tar", "toy.py", _solution())
    _tar_of(download / "alice@school.edu_2_handin.tar", "toy.py", _solution(wrong=True))
    autolab_out = tmp_path / "autolab_out"
    assert run_grader("grade-all", str(assignment), str(download), "--out", str(autolab_out)).returncode == 0
    job = tmp_path / "autolab_job"
    job.mkdir()
    shutil.copy(built["autograde_tar"], job / "autograde.tar")
    shutil.copy(built["autograde_makefile"], job / "Makefile")
    shutil.copy(download / "alice@school.edu_2_handin.tar", job / "handin.tar")  # Autolab renames it
    made = run(["make"], job)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr
    line = json.loads(made.stdout.rstrip("\n").splitlines()[-1])
    assert float(_rows(autolab_out)["alice@school.edu"]["total"]) == pytest.approx(sum(line["scores"].values()))
