"""Example banks change what grading costs, never a grade or a message.

A bank replays what hypothesis drew against the reference and runs
hypothesis live only from a failing example on; these tests grade real
submissions both ways and demand identical reports, and check that banks
are complete, keyed and safe to read back.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES
from grader import examples, signing
from grader.checks import import_file, load_registry, same_arguments
from grader.runner import grade
from grader.spec import load

CORPUS = ROOT / "tests" / "submissions"
# Every one-bug submission fails some checks (replay, then live shrinking);
# the good ones and some attacks pass or break checks in other ways.
SUBMISSIONS = sorted((CORPUS / "softmax_lab" / "bad").glob("*.py")) + [
    CORPUS / "softmax_lab" / "good" / "numpy_inside.py",
    CORPUS / "softmax_lab" / "good" / "float64_inside.py",
    CORPUS / "attacks" / "returns_nan_and_wrong_shapes.py",
    CORPUS / "attacks" / "wrong_signatures.py",
    CORPUS / "attacks" / "mutates_inputs.py",
    SAMPLES / "buggy.py",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assignment():
    return load("softmax_lab")


@pytest.fixture(scope="module")
def recorded(assignment):
    registry = load_registry(assignment)
    reference = import_file(assignment.reference, "gradecheck_reference_test_examples")
    return examples.record_bank(assignment, registry, reference)


def _comparable(report) -> dict:
    data = report.to_dict()
    data.pop("seconds", None)
    return data


def test_every_check_is_recorded(recorded, assignment):
    """A check that cannot be replayed silently costs hypothesis's engine on every grade."""
    names = [c.name for q in assignment.questions for c in q.checks]
    assert sorted(recorded.checks) == sorted(names)
    assert [n for n in names if recorded.checks[n] is None] == []
    drawn = sum(len(examples_) for calls in recorded.checks.values() for _, examples_ in calls)
    assert drawn > 100
    # signatures must read the same in every process, or no bank would ever be used
    assert not [s for calls in recorded.checks.values() for s, _ in calls if " at 0x" in s]


def test_a_recording_stands_only_for_the_same_strategies():
    bank = examples.ExampleBank("k", {"c": [("15 (integers(),)", [(1,), (2,)])], "d": None})
    assert bank.examples("c", 0, "15 (integers(),)") == [(1,), (2,)]
    assert bank.examples("c", 0, "15 (floats(),)") is None  # the check chose another for_all
    assert bank.examples("c", 1, "15 (integers(),)") is None
    assert bank.examples("d", 0, "15 (integers(),)") is None
    assert bank.examples("e", 0, "15 (integers(),)") is None


@pytest.mark.parametrize("path", SUBMISSIONS, ids=lambda p: p.stem)
def test_bank_and_live_hypothesis_grade_identically(path, assignment, monkeypatch, tmp_path):
    monkeypatch.setenv("GRADECHECK_CACHE", str(tmp_path / "cache"))
    banked = _comparable(grade(assignment, path))
    monkeypatch.setenv("GRADECHECK_EXAMPLES", "live")
    live = _comparable(grade(assignment, path))
    assert banked == live


def test_a_replay_sends_its_recorded_calls_ahead_in_one_request(assignment, monkeypatch, tmp_path):
    """A for_all's recorded calls go to the worker in one request (Sandbox.call_sequence):
    a correct grade makes a tenth of the round trips, and the same report."""
    from grader import checks
    from grader.sandbox.client import Sandbox

    monkeypatch.setenv("GRADECHECK_CACHE", str(tmp_path / "cache"))
    requests, sequences = [], []
    one_at_a_time, sequence = Sandbox._request, Sandbox.call_sequence
    monkeypatch.setattr(Sandbox, "_request", lambda self, *a, **k: (requests.append(1), one_at_a_time(self, *a, **k))[1])
    monkeypatch.setattr(Sandbox, "call_sequence", lambda self, calls, **k: (sequences.append(len(calls)),
                                                                            sequence(self, calls, **k))[1])
    batched = _comparable(grade(assignment, SAMPLES / "correct.py"))
    assert batched["score"] == batched["max_score"] and sum(sequences) > 400 and len(requests) < 100
    monkeypatch.setattr(checks.Context, "_send_ahead", lambda self, index, signature: None)
    assert _comparable(grade(assignment, SAMPLES / "correct.py")) == batched


def test_bank_survives_the_disk_and_rejects_stale_or_broken_files(recorded, tmp_path):
    path = tmp_path / "bank.json"
    assert examples.write_bank(path, recorded)  # signed with the folder's key (grader.signing)
    again = examples.read_bank(path, recorded.key)
    assert again is not None
    for name, calls in recorded.checks.items():
        assert len(again.checks[name]) == len(calls)
        for (signature, mine), (same, theirs) in zip(calls, again.checks[name]):
            assert signature == same and len(mine) == len(theirs)
            for a, b in zip(mine, theirs):
                assert repr(a) == repr(b)
    # the calls each example made, which a replay sends ahead, survive too, bit for bit
    assert any(plan for plans in recorded.calls.values() if plans for plan in plans)
    for name, plans in recorded.calls.items():
        assert same_arguments(again.calls[name], plans), name
    assert examples.read_bank(path, "another key") is None
    # written by this grader's user but not a bank: refused all the same
    signed = {"format": examples.FORMAT, "key": recorded.key, "checks": {
        "x": [{"strategies": "s", "examples": [[{"t": "pickle", "data": "..."}]]}]}}
    assert signing.write_signed(tmp_path, path.name, signing.BANK, json.dumps(signed).encode())
    assert examples.read_bank(path, recorded.key) is None
    assert signing.write_signed(tmp_path, path.name, signing.BANK, b"not json")
    assert examples.read_bank(path, recorded.key) is None
    # a bank without this grader's MAC is not read at all (tests/test_integrity.py has more)
    path.write_text(json.dumps(examples.bank_to_json(recorded)))
    assert examples.read_bank(path, recorded.key) is None
    assert examples.read_bank(tmp_path / "absent.json", recorded.key) is None


def test_key_follows_the_checks(assignment, tmp_path):
    copy = tmp_path / "softmax_lab"
    shutil.copytree(assignment.folder, copy, ignore=shutil.ignore_patterns("__pycache__", "secret.txt", "samples"))
    first = examples.bank_key(load(str(copy)))
    assert first == examples.bank_key(load(str(copy)))
    (copy / "checks.py").write_text((copy / "checks.py").read_text() + "\n# changed\n")
    assert examples.bank_key(load(str(copy))) != first


def test_a_correct_submission_runs_no_hypothesis_engine(assignment, monkeypatch, tmp_path):
    """With a bank, passing checks never enter hypothesis (that is the whole saving)."""
    import hypothesis.core

    monkeypatch.setenv("GRADECHECK_CACHE", str(tmp_path / "cache"))
    registry = load_registry(assignment)
    reference = import_file(assignment.reference, "gradecheck_reference_test_examples2")
    examples.bank_for(assignment, registry, reference)  # recorded here, outside the count
    runs = []
    original = hypothesis.core.StateForActualGivenExecution.run_engine
    monkeypatch.setattr(hypothesis.core.StateForActualGivenExecution, "run_engine",
                        lambda self, *a, **k: (runs.append(1), original(self, *a, **k))[1])
    report = grade(assignment, SAMPLES / "correct.py")
    assert report.score == report.max_score
    assert runs == []


def test_every_reply_is_counted_once_towards_the_students_own_time_and_in_no_report(
        assignment, monkeypatch, tmp_path):
    """Report.student_seconds (for benchmarks) adds up what client.student_time makes of
    each reply's "took", once per reply, calls sent ahead included; no report format shows
    it. The rule is made to answer 1 per reply, so the total counts replies: nothing here
    is a measured time (the rule itself is tested in test_sandbox)."""
    from grader.sandbox import client

    monkeypatch.setenv("GRADECHECK_CACHE", str(tmp_path / "cache"))
    replies = []
    monkeypatch.setattr(client, "student_time", lambda took, spent: (replies.append(took), 1.0)[1])
    report = grade(assignment, SAMPLES / "correct.py")
    assert replies and all(isinstance(took, float) for took in replies)
    assert report.student_seconds == len(replies)  # each reply once: none dropped, none twice
    assert "student_seconds" not in json.dumps(report.to_dict())
