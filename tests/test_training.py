"""softmax_lab's training part: train() judged on the embedded CIFAR-like data and on
fresh draws it has not seen, its figures, the written question, and the isolation of
train() from the lab's other functions."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import ROOT, SAMPLES, grade_json, run_grader, scores

pytestmark = pytest.mark.slow

LAB = ROOT / "assignments" / "softmax_lab"
TRAINING = ["training", "histogram_training"]


def _harness():
    spec = importlib.util.spec_from_file_location("softmax_lab_harness_for_tests", LAB / "harness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _trained_weights() -> tuple[np.ndarray, np.ndarray]:
    """The reference's weights after training on the embedded fixture (what a student who
    trained in their notebook would paste into their file)."""
    spec = importlib.util.spec_from_file_location("softmax_lab_reference_for_tests", ROOT / "reference" / "softmax_lab.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    harness = _harness()
    with np.load(LAB / "data" / "cifar_like.npz") as data:
        train_x, val_x = (torch.from_numpy(harness._images(data[k])) for k in ("train_x", "val_x"))
        train_y, val_y = (torch.from_numpy(data[k].astype(np.int64)) for k in ("train_y", "val_y"))
    result = reference.train(train_x, train_y, val_x, val_y, 5, 0.005)
    return result["weight"].numpy(), result["bias"].numpy()


def _encoded(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array.astype(np.float32), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def hard_coded(tmp_path_factory) -> dict:
    """A submission whose train() ignores its data and returns weights trained beforehand
    on the embedded fixture, with a plausible history."""
    weight, bias = _trained_weights()
    source = (SAMPLES / "correct.py").read_text()
    start = source.index("\ndef train(")
    end = source.index("\n    return dict(weight=W, bias=b, **hist)", start) + len("\n    return dict(weight=W, bias=b, **hist)")
    fake = f'''
import base64 as _b64, io as _io
import numpy as _np

_W = {_encoded(weight)!r}
_B = {_encoded(bias)!r}


def train(trainX, trainY, valX, valY, epochs, learningRate, weightDecay=0.0, momentum=0.0,
          batchSize=1, seed=0):
    W = torch.from_numpy(_np.load(_io.BytesIO(_b64.b64decode(_W))))
    b = torch.from_numpy(_np.load(_io.BytesIO(_b64.b64decode(_B))))
    p = softmax_batch(linear(valX.t(), W, b))
    accuracy = float((p.argmax(0) == valY).float().mean())
    value = float(loss_batch(valY, p))
    return {{"weight": W, "bias": b, "train_loss": [value] * epochs, "val_loss": [value] * epochs,
            "train_accuracy": [accuracy] * epochs, "val_accuracy": [accuracy] * epochs}}
'''
    path = tmp_path_factory.mktemp("hard_coded") / "softmax_lab.py"
    path.write_text(source[:start] + fake + source[end:])
    return grade_json(path)


def test_hard_coded_weights_earn_nothing_for_training(hard_coded):
    got = scores(hard_coded)
    assert got["training"][0] == 0 and got["histogram_training"][0] == 0, got
    checks = {c["name"]: c for q in hard_coded["questions"] for c in q["checks"]}
    # the fixture run alone would have passed: the fresh draw is what exposes it
    assert checks["train_reaches_accuracy"]["passed"]
    assert not checks["train_unseen_data"]["passed"]
    assert "has not seen" in checks["train_unseen_data"]["message"]
    assert "must be learned from the data" in checks["train_unseen_data"]["message"]
    # and it costs nothing elsewhere
    assert all(score == full for name, (score, full) in got.items() if name not in TRAINING), got


@pytest.fixture(scope="module")
def correct_run(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("figures") / "report.json"
    done = run_grader("grade", "softmax_lab", str(SAMPLES / "correct.py"), "--format", "json",
                      "--output", str(out))
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), out


def test_a_correct_training_run_reaches_the_stated_accuracy_and_draws_its_curves(correct_run):
    report, out = correct_run
    got = scores(report)
    for name in TRAINING + ["sgd", "momentum", "minibatch"]:
        assert got[name][0] == got[name][1] > 0, (name, got[name])
    for figure in ("train_loss", "train_accuracy", "train_weights", "histogram_loss", "histogram_accuracy"):
        png = out.with_name(f"{out.stem}-{figure}.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure


def test_the_written_question_is_pending_on_every_platform():
    autolab = run_grader("grade", "softmax_lab", str(SAMPLES / "correct.py"), "--format", "autolab")
    assert autolab.returncode == 0, autolab.stderr
    line = json.loads(autolab.stdout.strip().splitlines()[-1])
    assert "softmax_gradient_derivation" not in line["scores"]
    assert sum(line["scores"].values()) == pytest.approx(140)
    gradescope = run_grader("grade", "softmax_lab", str(SAMPLES / "correct.py"), "--format", "gradescope")
    assert gradescope.returncode == 0, gradescope.stderr
    data = json.loads(gradescope.stdout)
    assert not any("written" in test.get("name", "").lower() for test in data["tests"])
    assert data["score"] == pytest.approx(140) and "10 points pending" in data["output"]
    text = run_grader("grade", "softmax_lab", str(SAMPLES / "correct.py"))
    assert "softmax_gradient_derivation  pending" in text.stdout


def test_train_is_judged_with_the_graders_own_lab_functions(write_submission):
    """A softmax that is wrong (and a linear_backward that raises) costs their own
    questions only: train() still earns its points, because while it runs the names it
    calls are the grader's."""
    path = write_submission("broken_lab_functions", {
        "def softmax(a):": "def softmax(a):\n    return a / a.sum()\n\n\ndef _unused(a):",
        "def linear_backward(x, weight, bias, gradOutput):":
            "def linear_backward(x, weight, bias, gradOutput):\n    raise RuntimeError('not done')\n\n\n"
            "def _unused2(x, weight, bias, gradOutput):",
    })
    got = scores(grade_json(path))
    assert got["softmax"][0] < got["softmax"][1] and got["linear"][0] < got["linear"][1]
    for name in TRAINING:
        assert got[name][0] == got[name][1], (name, got)


def test_the_students_functions_are_back_after_train(tmp_path):
    """Kit.substituted restores the student's names, and removes names they never had."""
    import types

    from grader.sandbox.kit import Kit

    module = types.ModuleType("student")
    module.softmax = "theirs"
    kit = Kit(module, "student.py")
    with kit.substituted({"softmax": "grader's", "sgd_step": "grader's"}):
        assert module.softmax == module.sgd_step == "grader's"
    assert module.softmax == "theirs" and not hasattr(module, "sgd_step")


def test_the_fixture_is_the_generators_seed_0_draw():
    train_x, train_y, val_x, val_y = _harness().cifar_like(0, 800, 200)
    with np.load(LAB / "data" / "cifar_like.npz") as data:
        assert (data["train_x"] == train_x).all() and (data["train_y"] == train_y).all()
        assert (data["val_x"] == val_x).all() and (data["val_y"] == val_y).all()
        assert data["train_x"].dtype == np.uint8 and data["train_x"].shape == (800, 3072)


def test_the_graders_own_functions_match_the_reference():
    """What train() runs with in the worker (harness.GRADER_FUNCTIONS, written with torch's
    own operations and autograd so the handout does not carry the solutions) agrees with
    the reference, in float32 and float64."""
    spec = importlib.util.spec_from_file_location("softmax_lab_reference_exact", ROOT / "reference" / "softmax_lab.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    own = _harness().GRADER_FUNCTIONS
    torch.manual_seed(0)
    for dtype in (torch.float32, torch.float64):
        a, g = torch.randn(10, 1, dtype=dtype), torch.randn(10, 1, dtype=dtype)
        p = ref.softmax(a)
        x, weight, bias = torch.rand(30, 1, dtype=dtype), torch.randn(10, 30, dtype=dtype), torch.randn(10, 1, dtype=dtype)
        xs, gs, scores = torch.rand(30, 4, dtype=dtype), torch.randn(10, 4, dtype=dtype), torch.randn(10, 4, dtype=dtype)
        labels, ps = torch.tensor([3, 0, 9, 2]), ref.softmax_batch(scores)
        cases = {
            "softmax": (a,), "linear": (x, weight, bias), "loss": (4, p), "loss_softmax_backward": (4, p),
            "loss_backward": (4, p), "softmax_backward": (a, g), "color_histogram": (torch.rand(3, 5, 6, dtype=dtype), 7),
            "softmax_batch": (scores,), "loss_batch": (labels, ps), "loss_softmax_backward_batch": (labels, ps),
            "linear_backward": (x, weight, bias, g), "linear_backward_batch": (xs, weight, bias, gs),
            "sgd_step": (weight, bias, 2 * weight, 3 * bias, 0.1, 0.01),
            "momentum_step": (weight, bias, 2 * weight, 3 * bias, weight, bias, 0.1, 0.01, 0.9),
        }
        assert set(cases) == set(own)
        for name, args in cases.items():
            got, want = own[name](*args), getattr(ref, name)(*args)
            for u, v in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
                assert u.shape == v.shape and u.dtype == v.dtype, (name, dtype)
                assert torch.allclose(u, v, rtol=1e-5, atol=1e-6), (name, dtype)
