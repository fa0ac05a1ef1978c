"""Record what the visible checks need from the reference, as data.

Each visible check runs once, exactly as the grader runs it, with the
reference solution as the submission (in the sandbox; a package handin's
reference folder is run as its handin would be). Two things are
captured (see handout.replay for how the handout uses them):

- the examples hypothesis drew for each ``ctx.for_all`` (a random.Random that
  hypothesis would supply becomes a seeded random.Random, here and in the
  replay, so both see the same shuffles);
- every call the check made to ``ctx.reference``, and every answer it asked
  of ``ctx.expected`` (the reference's answer to a student function or a
  harness driver), keyed by a digest of its inputs, with the answer.

Checks that call harness drivers or use ``ctx.call_many`` and ``ctx.data`` need
nothing recorded for them: drivers and batched calls run student code in the
sandbox (the handout ships harness.py), and data fixtures ship with the
handout. Recording uses the fixtures' embedded files (never a dataset an
environment variable points at), as the handout does.

A visible check that fails on the reference stops the build: its recording
would judge students against a wrong answer.

torch is imported only for a torch assignment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Callable, Iterator
from typing import Any

from grader import codec
from grader.checks import RecordingExamples, RegisteredCheck
from grader.errors import GraderError
from grader.loaded import load as load_assignment
from grader.reference_calls import ReferenceCalls
from grader.runner import run_check
from grader.sandbox.client import Sandbox
from grader.sandbox.kit import top_names
from grader.spec import Assignment, DataFixture

from . import replay


class BuildError(GraderError):
    """The handout or a bundle cannot be built; the message says why."""


class RecordingReference:
    """Wraps the reference module and logs each call and its answer."""

    def __init__(self, module: Any, record: dict):
        self._module = module
        self._record = record

    def __getattr__(self, name: str) -> Callable:
        target = getattr(self._module, name)
        if not callable(target):
            raise BuildError(f"a check reads reference.{name}, which is not a function; "
                             "checks may only call the reference")

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.log(name, target(*args, **kwargs), args, kwargs)

        return call

    def log(self, name: str, result: Any, args: tuple, kwargs: dict) -> Any:
        """Note that the call `name(*args, **kwargs)` answered `result`; return `result`."""
        key = replay.digest(name, args, kwargs)
        try:
            answer = codec.encode(result)
        except codec.Unencodable as exc:
            shown = name[len(replay.EXPECTED):] if name.startswith(replay.EXPECTED) else name
            raise BuildError(f"a visible check asks the reference for {shown}(), whose answer the "
                             f"handout cannot record (it holds {exc}): checks may ask the reference "
                             "for arrays, numbers, strings and tuples or lists of them") from None
        self._record["answers"].setdefault(key, answer)
        self._record["calls"].append([name, key, replay.fingerprint(args, kwargs)])
        return result


def _encode_example(value: Any) -> Any:
    if isinstance(value, _SeededRandom):
        return {"t": "random", "seed": value.seed_used}
    return codec.encode(value)


class _SeededRandom(random.Random):
    """A random.Random that remembers its seed (to record it)."""

    def __init__(self, seed: int):
        super().__init__(seed)
        self.seed_used = seed


def _seeded_randoms(values: tuple, count: int) -> tuple:
    return tuple(_SeededRandom(count) if isinstance(v, random.Random) else v for v in values)


def recording_sources(assignment: Assignment, reference: Any, record: dict,
                      log: list, *, judge: Any = None) -> Callable[[], dict[str, Any]]:
    """What a visible check runs with while it is recorded: its ctx.reference (`judge`, the
    spec's judge_reference, else `reference`), logging each call and answer into `record`;
    ctx.expected's answers from `reference` and its drivers, logged the same way; and
    hypothesis's examples, logged into `log` (a RecordingExamples source)."""
    calls = ReferenceCalls.of(assignment, reference)

    def make() -> dict[str, Any]:
        recording = RecordingReference(reference if judge is None else judge, record)

        def answers(function: str, *args: Any) -> Any:
            outcome = calls.call(function, *args, driver=function in assignment.drivers)
            if not outcome.ok:
                raise RuntimeError(f"the reference failed on {function}(): {outcome.message}")
            return recording.log(replay.EXPECTED + function, outcome.value, args, {})

        examples = RecordingExamples(log, prepare=_seeded_randoms,
                                     keep=lambda values: [_encode_example(v) for v in values])
        return {"reference": recording, "answers": answers, "examples": examples}

    return make


def embedded(assignment: Assignment) -> Assignment:
    """The assignment with each data fixture on its own file (what the handout ships),
    whatever dataset an environment variable names."""
    return dataclasses.replace(assignment, data={
        name: DataFixture(name, fixture.file) for name, fixture in assignment.data.items()})


@contextlib.contextmanager
def _single_threaded(library: str) -> Iterator[None]:
    """torch on one thread (the same sums in the same order on every build); numpy as it is."""
    if library != "torch":
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def record_visible_checks(assignment: Assignment) -> dict:
    """Run the visible checks on the reference; return recorded.json's content.

    Raises BuildError if the reference cannot be imported by the sandbox or a
    visible check does not pass on it.
    """
    assignment = embedded(assignment)
    checks: dict[str, dict] = {}
    with _single_threaded(assignment.library):
        # the course's own reference: any isolation will do; a package's reference is its
        # folder, in the student's layout, run as grader.runner runs a package handin
        package = assignment.package
        sandbox = Sandbox(assignment.reference, module=assignment.module,
                          library=assignment.library, limits=assignment.limits, minimum="none",
                          files=assignment.reference if package else None,
                          harness=assignment.harness, data=assignment.data_files(),
                          homes=assignment.homes if package else None,
                          tops=top_names(assignment.student_files) if package else ())
        try:
            sandbox.start()  # the worker imports its library while the checks load
            loaded = load_assignment(assignment)  # as every grading command loads it
            registry, reference, judge = loaded.registry, loaded.reference, loaded.judge_reference
            failure = sandbox.ensure_ready()
            if failure is not None:
                raise BuildError(f"the sandbox cannot import {assignment.reference}: {failure.message}")
            broken: dict = {}
            for question in assignment.questions:
                for check in question.checks:
                    if check.visibility != "visible":
                        continue
                    record: dict = {"examples": [], "answers": {}, "calls": []}
                    log: list = []
                    registered = registry[check.name]
                    recorded = RegisteredCheck(check.name, registered.calls, registered.function,
                                               sources=recording_sources(assignment, reference, record, log,
                                                                         judge=judge))
                    result = run_check(check, recorded, sandbox=sandbox, reference=judge, solution=reference,
                                       assignment=assignment, broken=broken)
                    record["examples"] = [drawn for _signature, drawn in log]
                    if not result.passed:
                        raise BuildError(f"visible check {check.name} does not pass on the reference "
                                         f"({result.status.value}): {result.message}")
                    checks[check.name] = record
        finally:
            sandbox.close()
    return {"format": replay.FORMAT, "assignment": assignment.name, "checks": checks}
