"""The judge trusts nothing that crosses from the worker or comes in a submission.

Oversized frames are refused before their body is read; a tar whose GNU long
name or pax header claims 64 MiB is refused from its headers, with the
grader's memory staying low; megabyte-long exception and parameter names,
lone surrogates and notebooks Python cannot parse all end in well-formed
reports under 1 MB in every format; and an unexpected failure inside the
grader still emits a zero report in the requested format.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import AUTOMATIC, QUESTIONS, ROOT, SAMPLES
from grader import unpack
from grader.errors import SubmissionError
from grader.outcome import Status
from grader.results import MAX_REPORT_BYTES, CheckResult, QuestionResult, Report
from grader.reporters import REPORTERS
from grader.sandbox import outcomes, protocol, values
from grader.text import clean, clean_name

MiB = 2**20
LIMIT_BYTES = 1_000_000  # "every report stays under 1 MB"
RSS_LIMIT_KB = 500 * 1024
HUGE = 2 * MiB  # characters of the hostile names
GRADE_TIMEOUT_S = 300  # a guard against a hung grader, not a timing assertion


# -- helpers --------------------------------------------------------------------------
def grade(submission: Path, fmt: str, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m grader grade softmax_lab SUBMISSION --format FMT`, output kept as bytes."""
    return subprocess.run([sys.executable, "-m", "grader", "grade", "softmax_lab", str(submission),
                           "--format", fmt, *extra], cwd=ROOT, capture_output=True,
                          timeout=GRADE_TIMEOUT_S, env=env)


def strict_json(data: bytes) -> dict:
    """Parse `data` as UTF-8 JSON whose every string is valid Unicode (no lone surrogates)."""
    parsed = json.loads(data.decode("utf-8"))

    def walk(value: object) -> None:
        if isinstance(value, str):
            value.encode("utf-8")  # raises on a lone surrogate
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(parsed)
    return parsed


def check_json(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(done.stdout) < LIMIT_BYTES
    report = strict_json(done.stdout)
    assert [q["name"] for q in report["questions"]] == QUESTIONS
    return report


def check_autolab(done: subprocess.CompletedProcess, code: int = 0) -> dict:
    assert done.returncode == code, done.stderr[-3000:]
    assert len(done.stdout) < LIMIT_BYTES
    lines = done.stdout.decode("utf-8").rstrip("\n").split("\n")
    assert lines[-2] == "", "a blank line must precede the scores line"
    last = strict_json(lines[-1].encode("utf-8"))
    assert list(last["scores"]) == AUTOMATIC
    return last


def check_gradescope(done: subprocess.CompletedProcess, target: Path, code: int = 0) -> dict:
    assert done.returncode == code, done.stderr[-3000:]
    assert target.stat().st_size < LIMIT_BYTES
    results = strict_json(target.read_bytes())
    assert results["tests"]
    assert abs(results["score"] - sum(t["score"] for t in results["tests"])) < 1e-6
    assert all(t["status"] in ("passed", "failed") for t in results["tests"])
    assert [p.name for p in target.parent.iterdir()] == [target.name], "no temporary file left behind"
    return results


def peak_rss_kb(*args: str) -> tuple[int, subprocess.CompletedProcess]:
    """Run the grader from a fresh wrapper process and return the peak RSS of its children
    (the grader and whatever it started): getrusage(RUSAGE_CHILDREN) around that one run."""
    wrapper = textwrap.dedent("""
        import json, resource, subprocess, sys
        done = subprocess.run(sys.argv[1:], capture_output=True)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        sys.stdout.buffer.write(json.dumps([peak, done.returncode]).encode() + b"\\n" + done.stdout)
        sys.stderr.buffer.write(done.stderr)
    """)
    done = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "grader", *args],
                          cwd=ROOT, capture_output=True, timeout=GRADE_TIMEOUT_S)
    first, _, stdout = done.stdout.partition(b"\n")
    peak, code = json.loads(first)
    return peak, subprocess.CompletedProcess(args, code, stdout, done.stderr)


def tar_header(name: bytes, size: int, typeflag: bytes) -> bytes:
    """One 512-byte ustar header, checksum included, built by hand."""
    header = bytearray(512)
    header[0:len(name)] = name
    header[100:108] = b"0000644\0"
    header[108:116] = header[116:124] = b"0000000\0"
    header[124:136] = b"%011o\0" % size
    header[136:148] = b"00000000000\0"
    header[156:157] = typeflag
    header[257:265] = b"ustar\x0000"
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


def hostile_tar(path: Path, typeflag: bytes, size: int = 64 * MiB) -> Path:
    """A gzip tar whose first header (GNU 'L' long name, or pax 'x') claims `size` bytes,
    followed by that much payload and a real softmax_lab.py: about 65 KB on disk."""
    source = (SAMPLES / "correct.py").read_bytes()
    with gzip.open(path, "wb", compresslevel=9) as out:
        if typeflag == b"L":
            out.write(tar_header(b"././@LongLink", size, b"L"))
            prefix = b""
        else:
            out.write(tar_header(b"././@PaxHeader", size, b"x"))
            prefix = b"%d path=" % size
        out.write(prefix)
        left = size - len(prefix) - 1
        chunk = b"A" * MiB
        while left > 0:
            out.write(chunk[:min(left, MiB)])
            left -= MiB
        out.write(b"\n" if typeflag == b"x" else b"\0")
        out.write(tar_header(b"softmax_lab.py", len(source), b"0"))
        out.write(source + b"\0" * (-len(source) % 512) + b"\0" * 1024)
    return path


def small_tar(path: Path, name: str, data: bytes = b"x = 1\n", fmt: int = tarfile.PAX_FORMAT,
              mode: str = "w") -> Path:
    with tarfile.open(path, mode, format=fmt) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


# -- text.clean -------------------------------------------------------------------------
def test_clean_replaces_lone_surrogates_and_joins_pairs():
    assert clean("a\ud800b") == "a\ufffdb"
    assert clean("\ud83d\ude00") == "\U0001F600"  # a pair made by hand is the character it stands for
    assert clean(b"ok \xff".decode("utf-8", "surrogateescape")) == "ok \ufffd"
    for text in ("\udcff" * 10, "x\ud800\ud800\udfff"):
        clean(text).encode("utf-8")


def test_clean_strips_control_characters_and_terminal_escapes():
    text = "\x1b[31mred\x1b[0m\x1b]0;title\x07 a\x00b\x07c\x7f\x9b d\r\ne\rf\tg\nh\u202ei"
    assert clean(text) == "red ab" + "c d\ne\nf\tg\nhi"
    assert "\x1b" not in clean("\x1b" * 50 + "[2J")


def test_clean_truncates_with_a_marker_and_never_exceeds_the_limit():
    text = "E" * (64 * MiB)
    out = clean(text, 2000)
    assert len(out) <= 2000 and out.startswith("EEE") and "truncated" in out and "67,108,864" in out
    for limit in (0, 1, 5, 30, 100):
        assert len(clean("x" * 500, limit)) <= limit
    assert clean("short", 2000) == "short"
    assert clean(clean(text, 300), 2000) == clean(text, 300), "cleaning is idempotent"


def test_clean_converts_anything_without_trusting_it():
    class Sub(str):
        def __str__(self):
            raise RuntimeError("no")

    class Unprintable:
        def __str__(self):
            raise ValueError("no")

    assert clean(Sub("kept")) == "kept" and type(clean(Sub("kept"))) is str
    assert clean(Unprintable()) == "<unprintable Unprintable>"
    assert clean(b"bytes \xff") == "bytes \ufffd"
    assert clean(None) == "None" and clean(12) == "12"


def test_clean_name_is_one_short_line():
    assert clean_name("  My\n\tError  ") == "My Error"
    assert len(clean_name("N" * HUGE)) <= 100
    assert "\n" not in clean_name("a\nb" * 1000, 50)


# -- the channel --------------------------------------------------------------------------
def test_receive_refuses_an_oversized_frame_before_reading_its_body():
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, struct.pack(">I", 64 * MiB) + b"body")
        with pytest.raises(protocol.ProtocolError) as error:
            protocol.receive(read_end, max_bytes=16 * MiB)
        assert str(64 * MiB) in str(error.value) and str(16 * MiB) in str(error.value)
        assert os.read(read_end, 100) == b"body", "the body must not have been read"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_receive_within_the_limit_still_works():
    read_end, write_end = os.pipe()
    try:
        protocol.send(write_end, {"op": "hello", "text": "\u00e9"})
        assert protocol.receive(read_end, max_bytes=1024) == {"op": "hello", "text": "\u00e9"}
    finally:
        os.close(read_end)
        os.close(write_end)


def test_decode_array_refuses_base64_longer_than_the_shape_needs():
    good = protocol.encode_array(np.arange(3, dtype=np.float32), "numpy")
    assert protocol.decode_array(good).tolist() == [0, 1, 2]
    # garbage that is not even base64: refused for its length, before any decoding
    with pytest.raises(protocol.ProtocolError, match="base64 characters"):
        protocol.decode_array({**good, "data": "!" * (10 * MiB)})
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_array({**good, "data": good["data"] + "AAAA"})


def test_worker_names_and_reprs_are_cleaned_and_capped():
    opaque = values.decode_value({"t": "opaque", "type": "T\x1b[2J" + "t" * HUGE, "repr": "\ud800" + "r" * HUGE})
    assert len(opaque.type) <= values.MAX_TYPE and "\x1b" not in opaque.type
    assert len(opaque.repr) <= values.MAX_REPR and opaque.repr.startswith("\ufffd")
    raw = {f"helper{i}": {"params": [], "positional": []} for i in range(5000)}
    raw["x" * HUGE] = {"params": ["a"], "positional": ["a"]}
    raw["linear"] = {"params": ["p" * HUGE] * 1000, "positional": ["p" * HUGE] * 1000}
    functions = outcomes.read_functions(raw)
    assert len(functions) <= outcomes.MAX_FUNCTIONS and "x" * HUGE not in functions
    few = outcomes.read_functions({"linear": raw["linear"], "softmax": {"params": ["a"], "positional": ["a"]}})
    assert len(few["linear"]["params"]) == outcomes.MAX_PARAMS
    message = outcomes.signature_mismatch("linear", few["linear"], 3)
    assert "cannot be called with 3 arguments" in message and len(message) < 1000
    assert outcomes.signature_mismatch("softmax", few["softmax"], 1) == ""


# -- archives -----------------------------------------------------------------------------
@pytest.mark.parametrize("typeflag, kind", [(b"L", "GNU long name"), (b"x", "pax extended")])
def test_a_tar_with_a_64_mib_header_is_refused_with_low_memory(tmp_path, typeflag, kind):
    archive = hostile_tar(tmp_path / "handin.tar", typeflag)
    assert archive.stat().st_size < 200_000
    peak_kb, done = peak_rss_kb("grade", "softmax_lab", str(archive), "--format", "json", "--reveal", "all")
    report = check_json(done)
    assert peak_kb < RSS_LIMIT_KB, f"the grader peaked at {peak_kb // 1024} MB"
    assert report["score"] == 0
    messages = {c["message"] for q in report["questions"] for c in q["checks"]}
    assert len(messages) == 1
    message = messages.pop()
    assert kind in message and "67,108,864 bytes" in message and "refused" in message


def test_tar_prescan_refuses_long_names_bombs_and_sparse_files(tmp_path, monkeypatch):
    target = tmp_path / "out"
    name = "d/" * 2100 + "softmax_lab.py"  # 4214 bytes, in a pax header and in a GNU long name
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        with pytest.raises(SubmissionError, match="4,214 bytes long"):
            unpack.safe_extract(small_tar(tmp_path / f"long{fmt}.tar", name, fmt=fmt), target)
    sparse = tmp_path / "sparse.tar"
    sparse.write_bytes(tar_header(b"softmax_lab.py", 0, b"S") + b"\0" * 1024)
    with pytest.raises(SubmissionError, match="sparse files are not accepted"):
        unpack.safe_extract(sparse, target)
    bomb = small_tar(tmp_path / "bomb.tar.gz", "softmax_lab.py", b"\0" * (3 * MiB), mode="w:gz")
    monkeypatch.setattr(unpack, "MAX_ARCHIVE_BYTES", MiB)
    with pytest.raises(SubmissionError, match="decompresses to more than"):
        unpack.safe_extract(bomb, target)
    assert not target.exists(), "nothing is written for a refused archive"


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_tar_prescan_accepts_ordinary_archives_with_long_names(tmp_path, mode, fmt):
    name = "handin/" + "x" * 200 + "/" + "\u00e9" * 100 + "/softmax_lab.py"
    archive = small_tar(tmp_path / "handin.tar", name, b"y = 2\n", fmt=fmt, mode=mode)
    assert unpack.looks_like_tar(archive)
    assert unpack.safe_extract(archive, tmp_path / "out") == []
    assert (tmp_path / "out" / name).read_bytes() == b"y = 2\n"


# -- hostile submissions, graded for real ------------------------------------------------------
def huge_names_submission(tmp_path: Path) -> Path:
    """correct.py whose softmax raises an exception of a class with a 2-MB name and whose
    linear_backward has two parameters with 2-MB names."""
    big = "E" * HUGE
    source = (SAMPLES / "correct.py").read_text()
    source = source.replace("def softmax(a):", f"class {big}(Exception):\n    pass\n\n\n"
                            f"def softmax(a):\n    raise {big}('\\x1b[2J' * 1000)\n\n\ndef _unused(a):")
    source = source.replace("def linear_backward(x, weight, bias, gradOutput):",
                            f"def linear_backward({'p' * HUGE}, {'q' * HUGE}):\n    return None\n\n\n"
                            "def _unused_backward(x, weight, bias, gradOutput):")
    path = tmp_path / "huge_names.py"
    path.write_text(source)
    return path


def test_megabyte_names_from_the_worker_stay_out_of_every_report(tmp_path):
    submission = huge_names_submission(tmp_path)
    importer = tmp_path / "huge_import.py"
    importer.write_text(f"class {'I' * HUGE}(Exception):\n    pass\n\n\nraise {'I' * HUGE}('at import')\n")
    target = tmp_path / "results" / "results.json"
    with ThreadPoolExecutor(max_workers=2) as pool:
        as_json, as_autolab, as_gradescope, import_json = pool.map(lambda a: grade(*a), [
            (submission, "json"), (submission, "autolab"), (submission, "gradescope", "--output", str(target)),
            (importer, "json")])
    report = check_json(as_json)
    lost = {q["name"] for q in report["questions"] if q["score"] < q["max_score"]}
    assert lost == {"softmax", "linear", "softmax_backward"}
    for question in report["questions"]:
        for check in question["checks"]:
            assert len(check["message"]) <= 4000 and "\x1b" not in check["message"]
    scores = check_autolab(as_autolab)["scores"]
    assert scores == {q["name"]: q["score"] for q in report["questions"] if not q.get("manual")}
    assert check_gradescope(as_gradescope, target)["score"] == report["score"]
    imported = check_json(import_json)
    assert imported["score"] == 0


def deep_notebook(path: Path) -> Path:
    """The correct sample in one cell, then cells ast.parse cannot take."""
    deep = "y = 1" + " + 1" * 100_000
    with pytest.raises((RecursionError, MemoryError)):
        compile(deep, "cell", "exec", flags=0x400)  # ast.PyCF_ONLY_AST: what ast.parse does
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell((SAMPLES / "correct.py").read_text()),
                      nbformat.v4.new_code_cell(deep),
                      nbformat.v4.new_code_cell("(" * 100_000)]
    nbformat.write(notebook, path)
    return path


def surrogate_submission(tmp_path: Path) -> Path:
    source = (SAMPLES / "correct.py").read_text().replace(
        "def softmax(a):", "def softmax(a):\n    raise ValueError('\\ud800 bad')\n\n\ndef _unused(a):")
    path = tmp_path / "surrogate.py"
    path.write_text(source)
    return path


def test_unparsable_notebook_cells_and_lone_surrogates_give_well_formed_reports(tmp_path):
    notebook = deep_notebook(tmp_path / "softmax_lab.ipynb")
    surrogate = surrogate_submission(tmp_path)
    ascii_stdout = {**os.environ, "PYTHONIOENCODING": "ascii"}  # the report must still be written
    runs = []
    for name, submission in (("notebook", notebook), ("surrogate", surrogate)):
        target = tmp_path / name / "results.json"
        runs += [((submission, "json"), None), ((submission, "autolab"), ascii_stdout if name == "surrogate" else None),
                 ((submission, "gradescope", "--output", str(target)), None)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda run: grade(*run[0], env=run[1]), runs))
    for offset, name in ((0, "notebook"), (3, "surrogate")):
        report = check_json(done[offset])
        scores = check_autolab(done[offset + 1])["scores"]
        assert scores == {q["name"]: q["score"] for q in report["questions"] if not q.get("manual")}
        results = check_gradescope(done[offset + 2], tmp_path / name / "results.json")
        assert results["score"] == report["score"]
        if name == "notebook":
            assert report["score"] == report["max_score"] == 140
            notes = "\n".join(report["notes"])
            assert "code cell 2" in notes and "too deeply nested" in notes
            assert "code cell 3" in notes
        else:
            softmax = next(q for q in report["questions"] if q["name"] == "softmax")
            assert softmax["score"] == 0
            assert any("ValueError: \ufffd bad" in c["message"] for c in softmax["checks"])
            done[offset + 1].stdout.decode("ascii")
            assert b"ValueError: \\ufffd bad" in done[offset + 1].stdout


# -- the grader's own failures ---------------------------------------------------------------
BREAK_GRADING = """
import sys
import grader.runner
def broken(*args, **kwargs):
    raise RecursionError("maximum recursion depth exceeded \\ud800")
grader.runner.grade = broken
from grader.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_an_internal_failure_still_emits_each_format(tmp_path):
    submission = SAMPLES / "correct.py"
    target = tmp_path / "results" / "results.json"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", BREAK_GRADING, "grade", "softmax_lab", str(submission),
                               *args], cwd=ROOT, capture_output=True, timeout=GRADE_TIMEOUT_S)

    last = check_autolab(run("--format", "autolab"), code=2)
    assert set(last["scores"].values()) == {0}
    done = run("--format", "gradescope", "--output", str(target))
    assert done.returncode == 2
    results = strict_json(target.read_bytes())  # a failure report holds no tests, only its reason
    assert results["score"] == 0 and "RecursionError" in results["output"]
    done = run("--format", "json")
    assert done.returncode == 2
    report = strict_json(done.stdout)
    assert report["score"] == 0 and "RecursionError" in report["error"]
    done = run("--format", "table")
    assert done.returncode == 2 and b"The grader could not run" in done.stdout


def test_reports_stay_under_the_limit_whatever_the_text():
    nasty = ("\U0001F600\u00e9\ud800\x1b[2J\r" * 40_000)  # every character expensive to encode
    checks = [CheckResult(f"check{i}", "q", Status.FAILED, nasty, "visible", 1.0, 0.0, 0.0, 1.0)
              for i in range(60)]
    report = Report("lab", "sub\ud800.py", [QuestionResult("q", "Q", 0.0, 60.0, False, checks)],
                    output=nasty * 10, error=nasty, notes=[nasty] * 50)
    for name, render in REPORTERS.items():
        text = render(report)
        data = text.encode("utf-8")
        assert len(data) < MAX_REPORT_BYTES <= LIMIT_BYTES, name
        assert "\x1b" not in text and "\r" not in text, name
        if name in ("json", "gradescope"):
            strict_json(data)


FORGED_REPLY = '''
import os, struct
def _forge():
    """Write a 64 MiB frame (header and body) on every pipe this process may write to."""
    body = b"[" + b"1," * (32 * 2**20 - 1) + b"1]"
    for entry in os.listdir("/proc/self/fd"):
        fd = int(entry)
        if fd < 3:
            continue
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                os.write(fd, struct.pack(">I", len(body)))
                os.write(fd, body)
        except OSError:
            pass
'''


def test_a_forged_64_mib_reply_is_refused_and_the_judge_stays_small(tmp_path):
    """The worker is student code: it can write a whole frame of its own on the judge's channel."""
    source = (SAMPLES / "correct.py").read_text()
    source = source.replace("def softmax(a):\n", FORGED_REPLY + "\n\ndef softmax(a):\n    _forge()\n", 1)
    path = tmp_path / "forged_reply.py"
    path.write_text(source)
    peak_kb, done = peak_rss_kb("grade", "softmax_lab", str(path), "--format", "json", "--reveal", "all")
    report = check_json(done)
    assert peak_kb < 500 * 1024, f"the judge and its children peaked at {peak_kb / 1024:.0f} MB"
    softmax = next(q for q in report["questions"] if q["name"] == "softmax")
    assert softmax["score"] == 0 and "limit" in json.dumps(softmax), softmax
    others = [q for q in report["questions"] if q["name"] != "softmax"]
    assert all(q["score"] == q["max_score"] for q in others if q["name"] != "softmax_backward"), others
    assert len(done.stdout) < 1_000_000
