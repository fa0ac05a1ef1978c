"""The server's examples come from the course secret: the handout's public set cannot be replayed."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import AUTOMATIC, QUESTIONS, ROOT, run_grader
from grader import secret as secret_module
from grader.errors import GraderError

LAB = ROOT / "assignments" / "softmax_lab"


def _key(function: str, args: tuple) -> str:
    digest = hashlib.sha256(function.encode())
    for arg in args:
        array = np.ascontiguousarray(np.asarray(arg, dtype=np.float32))
        digest.update(repr(array.shape).encode() + array.tobytes())
    return digest.hexdigest()


class Spy:
    """Answers the public checks' calls from the reference and notes them: what the handout's
    recording of the visible checks gives any student."""

    def __init__(self, reference, library):
        from grader.reference_calls import ReferenceCalls

        self.calls = ReferenceCalls(reference, library)
        self.table: dict[str, object] = {}
        self.last_call_seconds = 0.0

    def call(self, function, *args, timeout=None, driver=False, budget=None):
        outcome = self.calls.call(function, *args)
        if outcome.ok:
            value = outcome.value
            if isinstance(value, np.ndarray):
                self.table[_key(function, args)] = {"shape": list(value.shape),
                                                    "data": np.asarray(value, np.float64).ravel().tolist()}
            elif isinstance(value, (int, float)):
                self.table[_key(function, args)] = {"shape": [], "data": [float(value)]}
        return outcome


def _public_table() -> dict:
    from grader import spec
    from grader.checks import Context, import_file, load_registry
    from grader.examples import checks_reference

    assignment = spec.load("softmax_lab")
    registry = load_registry(assignment)
    reference = import_file(assignment.reference, "gradecheck_reference_for_secret_test")
    spy = Spy(reference, assignment.library)
    for question in assignment.questions:
        for check in question.checks:
            if check.visibility != "visible":
                continue
            ctx = Context(sandbox=spy, reference=checks_reference(assignment, reference),  # type: ignore[arg-type]
                          solution=reference, assignment=assignment, check=check,
                          registered=registry[check.name], broken={})
            try:
                registry[check.name].function(ctx)
            except Exception:  # noqa: BLE001 - only the calls matter
                pass
    return spy.table


LOOKUP = '''
"""A lookup table of the handout's public examples: no math at all."""
import base64, hashlib, json, zlib
import numpy as np
import torch

TABLE = json.loads(zlib.decompress(base64.b64decode(%r)))


def _answer(function, args, like):
    digest = hashlib.sha256(function.encode())
    for arg in args:
        array = np.ascontiguousarray(np.asarray(arg, dtype=np.float32))
        digest.update(repr(array.shape).encode() + array.tobytes())
    found = TABLE.get(digest.hexdigest())
    if found is None:
        return torch.zeros_like(torch.as_tensor(like, dtype=torch.float32))
    return torch.tensor(found["data"], dtype=torch.float32).reshape(found["shape"])


def softmax(a): return _answer("softmax", (a,), a)
def linear(x, weight, bias): return _answer("linear", (x, weight, bias), bias)
def loss(label, predictions): return _answer("loss", (label, predictions), 0.0)
def loss_softmax_backward(label, predictions): return _answer("loss_softmax_backward", (label, predictions), predictions)
def linear_backward(x, weight, bias, gradOutput):
    return _answer("linear_backward", (x, weight, bias, gradOutput), weight), gradOutput.clone()
def loss_backward(label, predictions): return _answer("loss_backward", (label, predictions), predictions)
def softmax_backward(inputTensor, gradOutput):
    return _answer("softmax_backward", (inputTensor, gradOutput), inputTensor)
def color_histogram(img, bins): return torch.zeros(3 * int(bins))
def max_margin_loss(label, scores, delta): return _answer("max_margin_loss", (label, scores, delta), 0.0)
def max_margin_loss_backward(label, scores, delta):
    return _answer("max_margin_loss_backward", (label, scores, delta), scores)
'''


GRADE_WITH_SECRET = """
import json, sys
from pathlib import Path
from grader import spec
from grader.runner import grade
report = grade(spec.load("softmax_lab"), Path(sys.argv[1]), secret=sys.argv[2])
print(json.dumps(report.to_dict()))
"""


@pytest.mark.slow
def test_a_lookup_table_of_the_public_examples_scores_nothing_on_the_server(tmp_path):
    import zlib

    table = _public_table()
    assert table, "the public checks call the reference"
    packed = base64.b64encode(zlib.compress(json.dumps(table).encode())).decode()
    submission = tmp_path / "lookup.py"
    submission.write_text(textwrap.dedent(LOOKUP % packed))

    def grade(secret: str) -> dict:
        import subprocess
        import sys

        done = subprocess.run([sys.executable, "-c", GRADE_WITH_SECRET, str(submission), secret],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return {q["name"]: q["score"] for q in json.loads(done.stdout)["questions"]}

    public = grade("")  # no secret: the public examples, the handout's own
    assert sum(public.values()) > 0, "the table must be a real attack on the public examples"
    server = grade("the course's own secret")
    assert server == {q: 0.0 for q in QUESTIONS}, server


def test_platform_formats_refuse_to_grade_without_a_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADECHECK_SECRET", raising=False)
    monkeypatch.delenv("GRADECHECK_SECRET_FILE", raising=False)
    if (LAB / secret_module.FILE_NAME).exists():
        pytest.skip("this checkout has a secret.txt beside the assignment")
    with pytest.raises(GraderError, match="no course secret"):
        secret_module.course_secret(LAB, required=True)
    assert secret_module.course_secret(LAB) == "", "without a secret, staff get the public examples"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADECHECK_SECRET")}
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "grader", "grade", "softmax_lab",
                           str(LAB / "samples" / "correct.py"), "--format", "autolab"],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0 and "no course secret" in done.stdout
    assert json.loads(done.stdout.rstrip("\n").split("\n")[-1])["scores"] == {q: 0 for q in AUTOMATIC}


def test_secret_files_and_salts(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADECHECK_SECRET", raising=False)
    monkeypatch.delenv("GRADECHECK_SECRET_FILE", raising=False)
    value, created = secret_module.ensure_secret_file(tmp_path)
    assert created and (tmp_path / "secret.txt").stat().st_mode & 0o777 == 0o600
    assert secret_module.ensure_secret_file(tmp_path) == (value, False)
    assert secret_module.course_secret(tmp_path) == value
    assert secret_module.salt_of(value) != secret_module.salt_of(value + "x")
    assert value not in secret_module.salt_of(value) and secret_module.salt_of("") == ""
    monkeypatch.setenv("GRADECHECK_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(GraderError, match="cannot be read"):
        secret_module.course_secret(tmp_path)
