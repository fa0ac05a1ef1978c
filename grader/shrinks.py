"""Shrink traces: how hypothesis shrank a failure, kept so that the next submission
failing the same way is told the same minimal example without hypothesis's shrinker.

Hypothesis runs derandomized here (grader.checks), so what it feeds a for_all's body
next depends only on how the body fared on what came before: it passed, it rejected
the example (assume), or it failed, at a given place in the code. A live run (after
an example bank's replay met a failure) is a function of those outcomes. A trace
records such a run: each example the body received, its outcome, and the calls the
body made. A later submission whose first failure is the same (the same recorded
example, the same outcome) replays a trace: the body runs on each traced example in
order, the calls sent ahead in one request. While every outcome equals the traced
one, hypothesis would have fed exactly these examples, so the last one's failure is
the one hypothesis would have reported, message and all. At the first outcome that
differs the replay stops and hypothesis runs live, its run traced in turn. A trace
changes the time a grade takes, never a grade or a message (tests/test_shrinks.py).

Traces are kept in the example bank's cache folder, under the bank's key, signed as
the bank is (grader.signing): JSON data, never code, a few per first failure.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hypothesis.errors import UnsatisfiedAssumption

from . import signing
from .codec import Unencodable, decode, encode

FORMAT = 1
PURPOSE = "gradecheck shrink traces"
PASSED = "passed"
REJECTED = "rejected"
KEPT_PER_FAILURE = 3  # traces kept for one first failure (submissions that go on differently)
LONGEST = 2000  # executions in a trace worth keeping (hypothesis stops shrinking after 500 shrinks)
LARGEST = 4 * 2**20  # bytes of a trace file (the oldest traces make way; a larger one is not kept)
_CONTEXTS = 4  # how deep an outcome follows an exception's __context__


def outcome_of(error: BaseException | None) -> str:
    """How one run of a body ended, as hypothesis tells runs apart: passed, rejected
    (assume), or failed with this exception type at this place (every frame of the
    traceback and of its context: at least as fine as hypothesis's own distinction)."""
    if error is None:
        return PASSED
    if isinstance(error, UnsatisfiedAssumption):
        return REJECTED
    return "failed " + _where(error, 0)


def _where(error: BaseException, depth: int) -> str:
    kind = type(error)
    frames = " < ".join(f"{frame.f_code.co_filename}:{line}" for frame, line in traceback.walk_tb(error.__traceback__))
    text = f"{kind.__module__}.{kind.__qualname__} at {frames}"
    if error.__context__ is not None and depth < _CONTEXTS:
        text += " | context " + _where(error.__context__, depth + 1)
    return text


@dataclass
class Execution:
    """One run of a body: its arguments (a private copy, or None when they cannot be
    kept), its outcome, the calls it made ((function, args), or None where a replay
    must stop sending ahead), and the exception it raised."""

    example: tuple | None
    outcome: str = PASSED
    calls: list | None = None
    error: BaseException | None = None


Trace = list[Execution]


def tracing(body: Callable, into: Trace, copy: Callable[[tuple], tuple],
            calls: Callable[[], Any]) -> Callable:
    """`body`, appending an Execution to `into` for each run. `copy(values)` keeps the
    arguments (it may raise: the execution then keeps None); `calls()` starts a log of
    the calls the run makes and returns a function that ends it and gives the log."""
    signature = inspect.signature(body)

    @functools.wraps(body)  # hypothesis reads the body's parameters through this
    def traced(*args: Any, **kwargs: Any) -> Any:
        values = tuple(signature.bind(*args, **kwargs).arguments.values())
        try:
            kept = copy(values)
        except Exception:  # noqa: BLE001 - an argument a trace cannot hold
            kept = None
        execution = Execution(kept)
        into.append(execution)
        finish = calls()
        try:
            return body(*values)
        except Exception as error:  # noqa: BLE001 - hypothesis's own exceptions included
            execution.outcome, execution.error = outcome_of(error), error
            raise
        finally:
            execution.calls = finish()

    return traced


class FirstFailure:
    """A body that counts its runs and keeps the outcome of the last: a replay's first
    failure is then (its position among the recorded examples, its outcome)."""

    def __init__(self, body: Callable):
        self.body = body
        self.runs = 0
        self.last = PASSED

        @functools.wraps(body)
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.runs += 1
            self.last = PASSED
            try:
                return body(*args, **kwargs)
            except Exception as error:  # noqa: BLE001
                self.last = outcome_of(error)
                raise

        self.counted = counted

    def key(self) -> tuple[int, str]:
        """(the position of the last run, its outcome)."""
        return self.runs - 1, self.last


class ShrinkTraces:
    """The shrink traces of one example bank (its `key`), in `folder` (None: this
    process only), found by check, for_all, strategies and first failure."""

    def __init__(self, assignment: str, key: str, folder: Path | None):
        self.assignment = assignment
        self.key = key
        self.folder = folder
        self._memory: dict[str, list[Trace]] = {}

    def _name(self, where: tuple[str, int, str], first: tuple[int, str]) -> str:
        digest = hashlib.sha256(json.dumps([*where, *first]).encode("utf-8")).hexdigest()
        return f"{self.assignment}-{self.key[:24]}-shrink-{digest[:32]}.json"

    def find(self, where: tuple[str, int, str], first: tuple[int, str]) -> list[Trace]:
        """The traces kept for this for_all (check, index, strategies) and first failure,
        newest first."""
        name = self._name(where, first)
        if self._memory.get(name) or self.folder is None:
            return self._memory.get(name, [])
        # read again each time until found: another judge of a grade-all may keep one meanwhile
        data = signing.read_signed(self.folder, name, PURPOSE, LARGEST)
        traces = [] if data is None else _traces_from_json(data, self.key, where, first)
        self._memory[name] = traces
        return traces

    def keep(self, where: tuple[str, int, str], first: tuple[int, str], trace: Trace) -> None:
        """Keep `trace` (a live run that began with this first failure), if it can be stored."""
        if not trace or len(trace) > LONGEST or any(e.example is None for e in trace):
            return
        name = self._name(where, first)
        # without the exceptions: their tracebacks hold every frame's arrays
        trace = [Execution(e.example, e.outcome, e.calls) for e in trace]
        kept = [trace, *self.find(where, first)][:KEPT_PER_FAILURE]
        try:
            encoded = [_trace_to_json(t) for t in kept]
        except (Unencodable, ValueError, TypeError):
            return
        while True:  # the oldest traces go first when the file would be too large
            data = json.dumps({"format": FORMAT, "key": self.key, "where": list(where), "first": list(first),
                               "traces": encoded}, separators=(",", ":")).encode("utf-8")
            if len(data) <= LARGEST or len(encoded) == 1:
                break
            encoded.pop()
        if len(data) > LARGEST:
            return
        self._memory[name] = kept[:len(encoded)]
        if self.folder is not None:
            signing.write_signed(self.folder, name, PURPOSE, data)


def plan_to_json(plan: list[list] | None) -> list | None:
    """Calls per example ((function, args) or None), as JSON-safe data."""
    if plan is None:
        return None
    return [[None if call is None else [call[0], [encode(v) for v in call[1]]] for call in example]
            for example in plan]


def plan_from_json(data: Any) -> list[list] | None:
    """The inverse of plan_to_json, each argument a private example value."""
    from .checks import copy_example  # (grader.checks imports this module)

    if data is None:
        return None
    return [[None if call is None else (str(call[0]), tuple(copy_example(decode(v)) for v in call[1]))
             for call in example] for example in data]


def _trace_to_json(trace: Trace) -> list:
    return [[[encode(v) for v in e.example or ()], e.outcome, plan_to_json([e.calls or []])[0]]
            for e in trace]


def _traces_from_json(data: bytes, key: str, where: tuple[str, int, str], first: tuple[int, str]) -> list[Trace]:
    from .checks import copy_example

    try:
        parsed = json.loads(data.decode("utf-8"))
        if (not isinstance(parsed, dict) or parsed.get("format") != FORMAT or parsed.get("key") != key
                or parsed.get("where") != list(where) or parsed.get("first") != list(first)):
            return []
        return [[Execution(tuple(copy_example(decode(v)) for v in example), str(outcome),
                           plan_from_json([calls])[0])
                 for example, outcome, calls in trace] for trace in parsed["traces"]]
    except Exception:  # noqa: BLE001 - a file that is not what we wrote is simply not used
        return []
