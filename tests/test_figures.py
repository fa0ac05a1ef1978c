"""Figures a check draws from a student's run: PNGs beside the report, inline in
Gradescope's output, gone with a hidden check's details."""

from __future__ import annotations

import json
import math
import struct
import zlib

import numpy as np
import pytest

from grader.figures import make_figure
from grader.outcome import Status
from grader.results import CheckResult, QuestionResult, Report

from conftest import ROOT, run_grader

TOY = ROOT / "tests" / "assignments" / "toy_numpy"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of PNG bytes, after checking the signature and every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, size = 8, None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        crc, = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        position += 12 + length
    return size


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("figures")
    lines = (TOY / "reference_toy.py").read_text().splitlines(keepends=True)
    (folder / "toy.py").write_text("".join(line for line in lines if "SOLUTION" not in line))
    return folder


def test_the_figures_are_written_as_pngs_beside_the_report(solved):
    output = solved / "report.txt"
    done = run_grader("grade", str(TOY), str(solved / "toy.py"), "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert png_size((solved / "report-totals.png").read_bytes()) == (480, 300)
    assert png_size((solved / "report-points.png").read_bytes())[0] > 0
    assert "figure totals: Running totals: yours (blue), expected (red)" in output.read_text()


def test_gradescope_shows_them_inline_in_html(solved):
    done = run_grader("grade", str(TOY), str(solved / "toy.py"), "--format", "gradescope")
    tests = {t["name"]: t for t in json.loads(done.stdout)["tests"]}
    test = tests["accumulator: accumulator_totals"]
    assert test["output_format"] == "html"
    assert '<img alt="totals" src="data:image/png;base64,' in test["output"]
    assert "output_format" not in tests["scaling: scale_contract"]


def test_a_hidden_check_keeps_its_figures_from_students():
    figure = make_figure("curve", "loss", lines={"train": [1.0, 0.5]})
    check = CheckResult("secret_check", "q", Status.PASSED, "", "hidden", 1.0, 0.0, figures=[figure])
    report = Report("a", "s", [QuestionResult("q", "", 1.0, 1.0, False, [check])])
    assert report.figures() == [figure]
    assert report.shown_to_students("visible").figures() == []
    assert report.shown_to_students("all").figures() == [figure]


def test_whatever_a_student_returned_becomes_a_drawable_figure():
    figure = make_figure("curve", "", lines={"loss": [1.0, float("nan"), "oops", math.inf, 0.25] * 3000})
    values = figure.series[0][1]
    assert len(values) == 5000 and math.isnan(values[1]) and math.isnan(values[2]) and values[4] == 0.25
    assert png_size(figure.png()) == (480, 300)
    assert png_size(make_figure("flat", "", lines={"a": [2.0, 2.0]}).png()) == (480, 300)
    weights = make_figure("weights", "", images=[np.random.default_rng(0).normal(size=(3, 32, 32))] * 10)
    assert weights.images[0].shape == (32, 32, 3)  # channels first becomes channels last
    assert png_size(weights.png()) == (4 + 5 * (128 + 4), 4 + 2 * (128 + 4))


@pytest.mark.parametrize("arguments", [
    {"name": "Bad Name", "title": "", "lines": {"a": [1.0]}},
    {"name": "both", "title": "", "lines": {"a": [1.0]}, "images": [np.zeros((2, 2))]},
    {"name": "shape", "title": "", "images": [np.zeros((2, 2, 2, 2))]},
])
def test_a_check_drawing_a_bad_figure_is_a_bug_of_the_check(arguments):
    with pytest.raises(ValueError):
        make_figure(**arguments)
