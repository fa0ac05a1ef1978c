"""grade-all: every report right, resumable after a kill, gradebook, summary, histogram."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES

CORPUS = ROOT / "tests" / "submissions" / "softmax_lab"
CLASS = {
    "alice.py": CORPUS / "good" / "explicit_loops.py",
    "bob.py": CORPUS / "bad" / "diagonal_jacobian.py",
    "carol.py": SAMPLES / "fake_score.py",
    "dave.py": CORPUS / "good" / "numpy_inside.py",
    "erin.py": CORPUS / "bad" / "histogram_bgr.py",
    "frank.py": CORPUS / "bad" / "loss_backward_sign.py",
}
EXPECTED_TOTAL = {"alice": 140, "bob": 115, "carol": 120, "dave": 140, "erin": 125, "frank": 120}

pytestmark = pytest.mark.slow


@pytest.fixture
def class_folder(tmp_path) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    for name, source in CLASS.items():
        shutil.copy(source, folder / name)
    (folder / "notes.txt").write_text("not a submission")
    return folder


def grade_all(folder: Path, out: Path, jobs: int = 2) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "grader", "grade-all", "softmax_lab", str(folder),
                             "--out", str(out), "--jobs", str(jobs)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_interrupted_run_resumes_without_losing_or_regrading(class_folder, tmp_path):
    out = tmp_path / "out"
    first = grade_all(class_folder, out, jobs=1)
    reports = out / "reports"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(list(reports.glob("*.json"))) < 2:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before = sorted(p.stem for p in reports.glob("*.json"))
    assert 2 <= len(done_before) < len(CLASS)
    assert not list(reports.glob(".*")) or all(p.name.startswith(".") for p in reports.glob(".*"))

    written = {p.stem: p.stat().st_mtime_ns for p in reports.glob("*.json")}
    second = grade_all(class_folder, out)
    stdout, stderr = second.communicate(timeout=900)
    assert second.returncode == 0, stderr
    assert f"{len(done_before)} of {len(CLASS)} submissions already graded" in stderr
    assert f"graded {len(CLASS) - len(done_before)} submission(s)" in stdout
    regraded = [p.stem for p in reports.glob("*.json") if written.get(p.stem) != p.stat().st_mtime_ns]
    assert sorted(regraded) == sorted(set(EXPECTED_TOTAL) - set(done_before))

    totals = {p.stem: json.loads(p.read_text())["score"] for p in reports.glob("*.json")}
    assert totals == EXPECTED_TOTAL

    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [r["student"] for r in rows] == sorted(EXPECTED_TOTAL)
    assert {r["student"]: float(r["total"]) for r in rows} == EXPECTED_TOTAL
    assert float(next(r for r in rows if r["student"] == "bob")["softmax_backward"]) == 0

    summary = json.loads((out / "summary.json").read_text())
    assert summary["submissions"] == len(CLASS)
    assert summary["median"] == 122.5
    assert summary["questions"]["softmax"]["full_marks_rate"] == 1.0
    assert summary["questions"]["color_histogram"]["full_marks_rate"] == round(5 / 6, 4)
    assert summary["most_failed_checks"]

    for chart in ("histogram.png", "questions.png"):
        png = (out / chart).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in png[:16] and png.endswith(b"IEND\xaeB`\x82")
        width, height = struct.unpack(">II", png[16:24])
        assert width >= 800 and height >= 450, (chart, width, height)  # a slide's, not a thumbnail's
    feedback = (out / "feedback" / "bob.md").read_text()
    assert feedback.startswith("# softmax_lab: feedback") and "**Score: 115 / 140**" in feedback
    assert "## Question 2: softmax_backward" in feedback and "softmax_backward_matches_reference" in feedback


def test_nothing_to_do_second_time(class_folder, tmp_path):
    out = tmp_path / "out"
    for _ in range(2):
        run = grade_all(class_folder, out)
        _, stderr = run.communicate(timeout=900)
        assert run.returncode == 0, stderr
    assert "6 of 6 submissions already graded" in stderr


def test_not_a_folder_is_a_clear_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "grader", "grade-all", "softmax_lab", str(tmp_path / "nope"),
                           "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode != 0 and "not a folder" in done.stderr
