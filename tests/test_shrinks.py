"""Shrink traces change what grading costs, never a grade or a message.

A trace is a live hypothesis run kept after a bank's replay met a failure; a later
submission whose first failure is the same follows it instead of running
hypothesis, as long as its outcomes stay those of the trace (grader.shrinks).
These tests run the lab's checks on every one-bug submission of the corpus with no
traces, with the traces of the other bugs and with their own, and demand the same
outcome and message each time; they also check that traces are really followed,
that a forged outcome sends the check back to hypothesis, and that traces on disk
are signed and keyed.
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import ROOT, SAMPLES
from grader import examples, shrinks, signing
from grader.checks import Context, import_file, import_judge_reference, load_registry
from grader.outcome import CheckFailed
from grader.reference_calls import ReferenceCalls
from grader.runner import grade
from grader.spec import load

BAD = sorted((ROOT / "tests" / "submissions" / "softmax_lab" / "bad").glob("*.py"))


@pytest.fixture(scope="module")
def lab():
    assignment = load("softmax_lab")
    registry = load_registry(assignment)
    reference = import_file(assignment.reference, "gradecheck_reference_test_shrinks")
    judge = import_judge_reference(assignment)
    bank = examples.record_bank(assignment, registry, reference, judge_reference=judge)
    # the checks that train call drivers (seconds each): the others shrink what they find
    names = [c.name for q in assignment.questions for c in q.checks
             if not set(registry[c.name].calls) & set(assignment.drivers)]
    submissions = {path.stem: import_file(path, f"gradecheck_shrinks_{path.stem}") for path in BAD}
    return assignment, registry, reference, judge, bank, names, submissions


def _with_traces(bank: examples.ExampleBank, traces: shrinks.ShrinkTraces | None) -> examples.ExampleBank:
    copy = examples.ExampleBank(bank.key, bank.checks, bank.calls)
    copy.shrinks = traces
    return copy


def _run(lab, module, name: str, bank) -> str:
    """How check `name` ends on `module` (answering in this process): its message."""
    assignment, registry, reference, judge, *_ = lab
    check = next(c for q in assignment.questions for c in q.checks if c.name == name)
    ctx = Context(sandbox=ReferenceCalls.of(assignment, module), reference=judge, solution=reference,
                  assignment=assignment, check=check, registered=registry[name], broken={}, examples=bank)
    try:
        registry[name].function(ctx)
    except CheckFailed as failure:
        return f"failed: {failure.message}"
    except Exception as error:  # noqa: BLE001 - compared like any other ending
        return f"{type(error).__name__}: {error}"
    return "passed"


def _grade_all(lab, bank) -> dict[tuple[str, str], str]:
    *_, names, submissions = lab
    return {(stem, name): _run(lab, module, name, bank) for stem, module in submissions.items() for name in names}


@pytest.fixture(scope="module")
def without_traces(lab):
    return _grade_all(lab, _with_traces(lab[4], None))


def test_outcomes_tell_runs_apart_as_hypothesis_does():
    from hypothesis.errors import UnsatisfiedAssumption

    def fail(where: int) -> BaseException:
        try:
            if where == 1:
                raise CheckFailed("one")
            raise CheckFailed("two")
        except CheckFailed as error:
            return error

    def rejected() -> BaseException:
        try:
            raise UnsatisfiedAssumption()  # what assume(False) raises inside a test
        except UnsatisfiedAssumption as error:
            return error

    assert shrinks.outcome_of(None) == shrinks.PASSED
    assert shrinks.outcome_of(rejected()) == shrinks.REJECTED
    assert shrinks.outcome_of(fail(1)) == shrinks.outcome_of(fail(1))  # the message is not the outcome
    assert shrinks.outcome_of(fail(1)) != shrinks.outcome_of(fail(2))  # the place is
    try:
        try:
            raise ValueError("inner")
        except ValueError:
            raise CheckFailed("outer")
    except CheckFailed as chained:
        assert shrinks.outcome_of(chained) != shrinks.outcome_of(fail(1))
        assert "ValueError" in shrinks.outcome_of(chained)


def test_traces_of_other_bugs_and_of_the_same_bug_change_no_message(lab, without_traces, monkeypatch):
    import hypothesis.core

    engine = hypothesis.core.StateForActualGivenExecution.run_engine
    traces = shrinks.ShrinkTraces("softmax_lab", lab[4].key, None)
    bank = _with_traces(lab[4], traces)
    runs: list[int] = []
    monkeypatch.setattr(hypothesis.core.StateForActualGivenExecution, "run_engine",
                        lambda self, *a, **k: (runs.append(1), engine(self, *a, **k))[1])
    first_pass = _grade_all(lab, bank)  # each bug meets the traces of the bugs before it
    assert first_pass == without_traces
    failures = [key for key, ending in without_traces.items() if ending != "passed"]
    assert len(failures) > 20 and len(runs) > 20
    runs.clear()
    second_pass = _grade_all(lab, bank)  # and now its own
    assert second_pass == without_traces
    assert runs == []  # every failure was shrunk by following a trace, none by hypothesis
    # the reversed order meets other traces first: still the same messages
    reversed_bank = _with_traces(lab[4], shrinks.ShrinkTraces("softmax_lab", lab[4].key, None))
    *_, names, submissions = lab
    for stem in reversed(list(submissions)):
        for name in names:
            assert _run(lab, submissions[stem], name, reversed_bank) == without_traces[(stem, name)]


def test_a_trace_whose_outcomes_differ_sends_the_check_back_to_hypothesis(lab, without_traces):
    traces = shrinks.ShrinkTraces("softmax_lab", lab[4].key, None)
    bank = _with_traces(lab[4], traces)
    # a bug that hypothesis's first example does not show: the trace shrinks a later one
    module = lab[6]["bias_grad_missing"]
    name = "linear_backward_matches_reference"
    assert _run(lab, module, name, bank) == without_traces[("bias_grad_missing", name)]
    ((where_first, kept),) = [(n, t) for n, t in traces._memory.items() if t]
    trace = kept[0]
    assert len(trace) > 3 and trace[-1].outcome.startswith("failed")
    # a trace saying the last example passed, or one whose examples were swapped
    for forged in ([*trace[:-1], shrinks.Execution(trace[-1].example, shrinks.PASSED, trace[-1].calls)],
                   [*trace[:-2], trace[-1], trace[-2]]):
        traces._memory[where_first] = [forged]
        assert _run(lab, module, name, bank) == without_traces[("bias_grad_missing", name)]


def test_traces_on_disk_are_signed_and_keyed(lab, tmp_path):
    key = lab[4].key
    traces = shrinks.ShrinkTraces("softmax_lab", key, tmp_path)
    bank = _with_traces(lab[4], traces)
    _run(lab, lab[6]["diagonal_jacobian"], "softmax_backward_sums_to_zero", bank)
    files = sorted(tmp_path.glob("softmax_lab-*-shrink-*.json"))
    assert len(files) == 1
    (name, original), = [(name, kept) for name, kept in traces._memory.items() if kept]
    parsed = json.loads((tmp_path / name).read_text())["signed"]
    where, first = tuple(parsed["where"]), tuple(parsed["first"])
    # read back by a new process's store: the same examples and outcomes
    again = shrinks.ShrinkTraces("softmax_lab", key, tmp_path).find(where, first)
    assert [[(e.outcome, repr(e.example)) for e in t] for t in again] == \
           [[(e.outcome, repr(e.example)) for e in t] for t in original]
    assert shrinks.ShrinkTraces("softmax_lab", "another key" + key, tmp_path).find(where, first) == []
    # a file without this grader's MAC, or not a trace file, is not used
    text = files[0].read_text()
    assert '"format":1,' in text
    files[0].write_text(text.replace('"format":1,', '"format":1 ,', 1))  # one byte more, same meaning
    assert shrinks.ShrinkTraces("softmax_lab", key, tmp_path).find(where, first) == []
    assert signing.write_signed(tmp_path, files[0].name, shrinks.PURPOSE, b'{"format": 1}')
    assert shrinks.ShrinkTraces("softmax_lab", key, tmp_path).find(where, first) == []


@pytest.mark.slow
def test_a_second_grade_follows_the_first_ones_traces_through_the_sandbox(monkeypatch, tmp_path):
    """Through the worker (calls sent ahead, then one by one): the same report as
    hypothesis live, and hypothesis's engine does not run on the second grade."""
    import hypothesis.core

    assignment = load("softmax_lab")
    monkeypatch.setenv("GRADECHECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GRADECHECK_EXAMPLES", raising=False)  # a machine's "live" would turn banks off
    examples._MEMORY.clear()
    reports = []
    for path in (SAMPLES / "buggy.py", BAD[0]):
        first = grade(assignment, path).to_dict()
        runs = []
        original = hypothesis.core.StateForActualGivenExecution.run_engine
        monkeypatch.setattr(hypothesis.core.StateForActualGivenExecution, "run_engine",
                            lambda self, *a, **k: (runs.append(1), original(self, *a, **k))[1])
        second = grade(assignment, path).to_dict()
        monkeypatch.setattr(hypothesis.core.StateForActualGivenExecution, "run_engine", original)
        assert runs == []
        reports.append((path, first, second))
    monkeypatch.setenv("GRADECHECK_EXAMPLES", "live")
    for path, first, second in reports:
        live = grade(assignment, path).to_dict()
        for report in (first, second, live):
            report.pop("seconds", None)
        assert first == live and second == live
        assert live["score"] < live["max_score"]


@pytest.mark.slow
def test_the_catalogues_mistakes_leave_traces_that_submissions_follow(monkeypatch, tmp_path):
    """`grader examples --mutants` grades each catalogued mutant once; a submission making
    one of those mistakes then runs no hypothesis engine, and gets hypothesis's report."""
    import hypothesis.core

    from grader import mutant_traces, mutants
    from grader.validate import read_mutant

    assignment = load(str(ROOT / "tests" / "assignments" / "toy_numpy"))
    monkeypatch.setenv("GRADECHECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GRADECHECK_EXAMPLES", raising=False)  # a machine's "live" would turn banks off
    examples._MEMORY.clear()
    catalogue = mutants.load(assignment)
    assert mutant_traces.record(assignment) == len(catalogue)
    assert list((tmp_path / "cache").glob("toy_numpy-*-shrink-*.json"))
    mistake = read_mutant(next(m for m in catalogue if m.name == "scale_by_two"), assignment)
    submission = mutants.write_handin(assignment, mistake.sources, tmp_path / "student")
    examples._MEMORY.clear()  # as in a new process: the traces come from the disk
    runs = []
    original = hypothesis.core.StateForActualGivenExecution.run_engine
    monkeypatch.setattr(hypothesis.core.StateForActualGivenExecution, "run_engine",
                        lambda self, *a, **k: (runs.append(1), original(self, *a, **k))[1])
    followed = grade(assignment, submission).to_dict()
    assert runs == []
    monkeypatch.setenv("GRADECHECK_EXAMPLES", "live")
    live = grade(assignment, submission).to_dict()
    assert runs  # live, hypothesis shrinks the failure itself
    for report in (followed, live):
        report.pop("seconds", None)
    assert followed == live and live["score"] < live["max_score"]


def test_a_trace_too_large_to_keep_is_not_kept(tmp_path):
    import numpy as np

    traces = shrinks.ShrinkTraces("softmax_lab", "k" * 64, tmp_path)
    where, first = ("check", 0, "15 (arrays(),)"), (2, "failed somewhere")
    small = [shrinks.Execution((np.zeros(3),), shrinks.PASSED, []),
             shrinks.Execution((np.ones(3),), "failed somewhere", [("f", (np.ones(3),))],
                               error=CheckFailed("kept without me"))]
    traces.keep(where, first, small)
    kept = shrinks.ShrinkTraces("softmax_lab", "k" * 64, tmp_path).find(where, first)
    assert [[e.outcome for e in t] for t in kept] == [[shrinks.PASSED, "failed somewhere"]]
    assert all(e.error is None for t in traces.find(where, first) for e in t)  # no tracebacks held
    huge = [shrinks.Execution((np.zeros(shrinks.LARGEST // 4),), "failed somewhere", [])]
    traces.keep(where, first, huge)  # the file would be too large even alone: not kept
    again = shrinks.ShrinkTraces("softmax_lab", "k" * 64, tmp_path).find(where, first)
    assert [[e.outcome for e in t] for t in again] == [[shrinks.PASSED, "failed somewhere"]]


def test_a_broken_catalogue_costs_the_traces_not_the_image(tmp_path):
    """setup.sh runs `examples --mutants` under `set -e`: a catalogue that cannot be graded
    leaves no traces and a warning, but the bank is recorded and the command succeeds."""
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "toy_numpy"
    shutil.copytree(ROOT / "tests" / "assignments" / "toy_numpy", folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "mutants.yaml").write_text("- name: broken\n  description: no edit at all\n")
    # this machine's own GRADECHECK_* settings aside (GRADECHECK_EXAMPLES=live turns banks off)
    env = {name: value for name, value in os.environ.items() if not name.startswith("GRADECHECK_")}
    env["GRADECHECK_CACHE"] = str(tmp_path / "cache")
    done = subprocess.run([sys.executable, "-m", "grader", "examples", str(folder), "--mutants"], cwd=ROOT,
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "warning: the catalogue's mutants could not be graded" in done.stderr
    assert "mutants.yaml" in done.stderr
    assert list((tmp_path / "cache").glob("toy_numpy-*.json")) and \
        not list((tmp_path / "cache").glob("*-shrink-*.json"))
