"""A grader that cannot run student code says so to the staff; it never blames the student."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import AUTOMATIC, ROOT, SAMPLES

pytestmark = pytest.mark.slow

# Runs the real command line with a torch that cannot be imported in the worker: a
# stand-in package put first on the worker's path, as a broken CUDA build would be.
WRAPPER = textwrap.dedent("""
    import sys
    from grader.sandbox import client, jail
    fake = sys.argv[1]
    environment, needed = client.base_environment, jail.needed_paths
    client.base_environment = lambda: {**environment(), "PYTHONPATH": fake}
    jail.needed_paths = lambda *args, **kwargs: [*needed(*args, **kwargs), fake]
    from grader.cli import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.fixture
def broken_torch(tmp_path):
    package = tmp_path / "fake" / "torch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        'raise ImportError("libcudart.so.12: failed to map segment from shared object")\n')
    return package.parent


def _grade(fake, fmt: str, tmp_path):
    command = [sys.executable, "-c", WRAPPER, str(fake), "grade", "softmax_lab",
               str(SAMPLES / "correct.py"), "--format", fmt]
    target = tmp_path / f"results-{fmt}.json"
    if fmt == "gradescope":
        command += ["--output", str(target)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "GRADECHECK_ZYGOTE": "0", "HOME": str(tmp_path),
                               "GRADECHECK_SECRET": "a course secret"})
    return done, target


@pytest.mark.parametrize("fmt", ["json", "table", "autolab", "gradescope"])
def test_a_library_that_cannot_import_is_a_grader_error(broken_torch, tmp_path, fmt):
    done, target = _grade(broken_torch, fmt, tmp_path)
    assert done.returncode != 0, "the staff's log must show the failure"
    text = target.read_text() if fmt == "gradescope" else done.stdout
    assert "problem of the grader's installation" in text, text[-3000:]
    assert "your module could not be imported" not in text
    assert "failed to map segment" in text, "the cause reaches the staff"
    if fmt == "autolab":
        last = json.loads(done.stdout.rstrip("\n").split("\n")[-1])
        assert last["scores"] == {q: 0 for q in AUTOMATIC}
    if fmt == "gradescope":
        results = json.loads(text)
        assert results["score"] == 0 and "grader" in results["output"]
    if fmt == "json":
        assert json.loads(text)["error"]
