"""The check registry an assignment's checks module fills, and the context a
check runs with.

A checks module creates ``registry = Registry()`` and decorates each check
with ``@registry.check("name", calls=[...])``. A check receives a `Context`,
calls student functions only through ``ctx.call`` and fails by raising
`CheckFailed` (the helpers in grader.compare do that with good messages).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import sys
from collections import deque
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Protocol

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import UnsatisfiedAssumption

from .compare import judge_at
from .errors import SpecError
from .figures import Figure, make_figure
from .outcome import CheckFailed, Status
from .reference_calls import ReferenceCalls
from .shrinks import FirstFailure, ShrinkTraces, Trace, tracing
from .sandbox.client import CallOutcome, Sandbox
from .spec import Assignment, CheckSpec


class ExampleSource(Protocol):
    """Where a check's for_all examples come from. The engine's sources: LIVE (hypothesis
    draws them), RecordingExamples (hypothesis draws them and they are logged), an
    example bank (grader.examples.ExampleBank: replays what was logged, hypothesis takes
    over at the first failure); the handout's replay (handout.replay) is one more."""

    def run(self, check: str, index: int, signature: str, body: Callable,
            live: Callable[[Callable], None]) -> None:
        """Run `body` on the examples of the `index`-th for_all of `check`, whose
        strategies `signature` describes; `live(body)` runs hypothesis on it."""
        ...


class LiveExamples:
    """Every for_all runs hypothesis."""

    def run(self, check: str, index: int, signature: str, body: Callable,
            live: Callable[[Callable], None]) -> None:
        live(body)


LIVE = LiveExamples()


class RecordingExamples:
    """Hypothesis draws, and each for_all's examples are appended to `log` as
    (signature, [argument tuples]). `prepare(values, count)` may replace what the body
    receives (count: the examples logged so far for this for_all) before it is logged;
    `keep(values)` turns them into what is logged (a copy, by default)."""

    def __init__(self, log: list, prepare: Callable[[tuple, int], tuple] | None = None,
                 keep: Callable[[tuple], Any] | None = None):
        self.log = log
        self.prepare = prepare
        self.keep = keep or copy_example

    def run(self, check: str, index: int, signature: str, body: Callable,
            live: Callable[[Callable], None]) -> None:
        drawn: list = []
        self.log.append((signature, drawn))
        live(_logging(body, drawn, self.prepare, self.keep))


class ReplayingExamples:
    """Replays recorded examples (`recorded(check, index, signature)`: the argument
    tuples, or None to run live). With `fallback`, the first example the body fails on
    hands the for_all to hypothesis, which draws the same examples up to there and
    shrinks the failure (an example bank); without, the recording is all there is and
    an example the body rejects (hypothesis's assume) is skipped (the handout)."""

    def __init__(self, recorded: Callable[[str, int, str], list | None], fallback: bool = True):
        self.recorded = recorded
        self.fallback = fallback

    def run(self, check: str, index: int, signature: str, body: Callable,
            live: Callable[[Callable], None]) -> None:
        examples = self.recorded(check, index, signature)
        if examples is None:
            live(body)
        elif self.fallback:
            _replay(body, examples, live)
        else:
            for example in examples:
                try:
                    body(*example)
                except UnsatisfiedAssumption:
                    continue


CheckFunction = Callable[["Context"], None]


def _ignore_local_constants() -> None:
    """Make generated examples depend on the check alone.

    Recent hypothesis versions mix into generation the literal constants of
    every "local" module loaded in the process, so the same check would draw
    different examples under `grade`, `validate`, `grade-all` or pytest. An
    empty pool restores "same input, same grade". Older versions lack the
    hook, and need nothing.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - layout of another hypothesis version
        return
    if hasattr(providers, "_get_local_constants") and hasattr(providers, "Constants"):
        empty = providers.Constants()
        providers._get_local_constants = lambda: empty


_ignore_local_constants()
# After one of these a function is not called again: the same failure stands for every later call.
# A timeout stands only for later calls with the same time limit: a 60 s training check
# that runs out does not condemn the 10 s checks of the same function.
BROKEN_KINDS = ("timeout", "crash", "import", "missing", "protocol", "too_large", "missing_name", "harness")


class Unrecordable(Exception):
    """An example holds something an example bank cannot store (see grader.examples)."""


def copy_example(value: Any) -> Any:
    """A private copy of an example argument (arrays, numbers, strings, tuples, lists).

    Raises Unrecordable for anything else (a hypothesis Random, a data object):
    checks that draw those always run hypothesis live.
    """
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(copy_example(v) for v in value)
    if isinstance(value, list):
        return [copy_example(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return value
    raise Unrecordable(type(value).__name__)


@dataclass(frozen=True)
class RegisteredCheck:
    """A check function and the student functions it calls."""

    name: str
    calls: tuple[str, ...]
    function: CheckFunction
    # what the check runs with instead of the grading job's reference and examples, made
    # fresh for each run: {"reference": ..., "answers": ..., "examples": ...} (the
    # handout's recording and replay); None: the job's own
    sources: Callable[[], dict[str, Any]] | None = None


class Registry:
    """Collects an assignment's checks by name."""

    def __init__(self) -> None:
        self.checks: dict[str, RegisteredCheck] = {}

    def check(self, name: str, *, calls: list[str] | tuple[str, ...]) -> Callable[[CheckFunction], CheckFunction]:
        """Register the decorated function as check `name`, calling `calls`."""

        def decorate(function: CheckFunction) -> CheckFunction:
            if name in self.checks:
                raise ValueError(f"check {name!r} is registered twice")
            self.checks[name] = RegisteredCheck(name, tuple(calls), function)
            return function

        return decorate


def import_file(path: Any, module_name: str) -> ModuleType:
    """Import a trusted judge-side file (reference or checks) under a private name."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def import_reference(assignment: Assignment) -> ModuleType:
    """Import the assignment's reference in the judge: its one file under a private
    name, or, for a package handin, its package (reference/NAME/ put on sys.path, so
    the reference's own absolute imports work as a student's do in the worker)."""
    if not assignment.package:
        return import_file(assignment.reference, f"gradecheck_reference_{assignment.name}")
    folder = str(assignment.reference)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(assignment.module)


def import_judge_reference(assignment: Assignment) -> ModuleType:
    """Import the module the spec's `judge_reference` names (there must be one), under a
    private name: what the checks call ctx.reference."""
    return import_file(assignment.judge_reference, f"gradecheck_judge_reference_{assignment.name}")


def load_registry(assignment: Assignment) -> dict[str, RegisteredCheck]:
    """Import the checks module and cross-check it against the spec.

    Raises SpecError naming assignment.yaml and the key when a check named in
    the spec does not exist, calls a function outside its question, or when a
    question's functions are not all exercised by its checks.
    """
    file = str(assignment.folder / "assignment.yaml")
    module = import_file(assignment.checks_module, f"gradecheck_checks_{assignment.name}")
    registry = getattr(module, "registry", None)
    if not isinstance(registry, Registry):
        raise SpecError(str(assignment.checks_module), "registry", "the checks module must define registry = Registry()")
    for qi, question in enumerate(assignment.questions):
        exercised: set[str] = set()
        for ci, check in enumerate(question.checks):
            key = f"questions[{qi}].checks[{ci}].name"
            registered = registry.checks.get(check.name)
            if registered is None:
                raise SpecError(file, key, f"{check.name!r} is not a check in {assignment.checks_module.name}")
            # a driver exercises the student functions it uses
            reached = [u for f in registered.calls
                       for u in (assignment.drivers[f].uses if f in assignment.drivers else (f,))]
            outside = [f for f in reached if f not in question.functions]
            if check.floor is not None:  # a floor can only add points: it may look beyond its question
                outside = [f for f in outside if f not in assignment.functions]
                reached = [f for f in reached if f in question.functions]
            if outside:
                unknown = [f for f in outside if f not in assignment.functions]
                raise SpecError(file, key, f"{check.name!r} calls {', '.join(outside)}, "
                                           f"which question {question.name!r} does not cover"
                                + (f" ({', '.join(unknown)}: neither a function nor a driver of the spec)"
                                   if unknown else ""))
            exercised.update(reached)
        missing = [f for f in question.functions if f not in exercised]
        if missing:
            raise SpecError(file, f"questions[{qi}].functions",
                            f"{', '.join(missing)} is exercised by none of {question.name!r}'s checks")
    return registry.checks


class Context:
    """What a running check can use: student calls, the reference, hypothesis.

    `reference` is what the checks call for expected values (the spec's
    judge_reference, or the reference); `solution`, the student-style reference
    that answers ctx.expected with the assignment's drivers (default: `reference`).
    `examples` says where for_all's examples come from (ExampleSource: live by
    default, an example bank, a recording...). `answers(function, *args)`, when
    given, answers ctx.expected instead of the reference run here.
    """

    def __init__(self, *, sandbox: Sandbox, reference: ModuleType, assignment: Assignment,
                 check: CheckSpec, registered: RegisteredCheck, broken: dict[str, CallOutcome],
                 examples: ExampleSource | None = None, answers: Callable[..., Any] | None = None,
                 salt: str = "", solution: ModuleType | None = None):
        self.sandbox = sandbox
        self.reference = reference
        self.solution = reference if solution is None else solution
        self.assignment = assignment
        self.spec = check
        self.registered = registered
        self.broken = broken
        self.examples = examples or LIVE
        self.answers = answers
        # the course secret's salt (grader/secret.py): "" draws the public examples
        self.salt = salt
        self.rng = np.random.default_rng(_seed(salt + check.name))
        judge_at(assignment.judged_dtype)
        self.mutated: dict[str, list[int]] = {}
        self.seconds_used = 0.0  # in this check's calls (its own budget, when it has one)
        self.figures: list[Figure] = []
        self.notes: list[str] = []
        self._for_alls = 0
        # Recording a bank: per for_all, per example, the calls its body made ((function,
        # args), None for a call_many) - the calls a replay sends ahead in one request.
        self.planned_calls: list[list[list]] = []
        self._call_log: list | None = None
        # Replaying: the answers to those calls, (function, args, outcome, seconds) in order
        self._queue: deque | None = None

    def call(self, function: str, *args: Any) -> Any:
        """Call a student function (or a harness driver) with judge-made arguments;
        fail the check if it misbehaves."""
        return self._call(function, [args], many=False)

    def call_many(self, function: str, arg_sets: list[tuple] | tuple[tuple, ...]) -> list[Any]:
        """Call `function` once per argument tuple in one round trip (numerical-gradient
        probes, say); return the list of results, or fail the check as `call` would at
        the first call that misbehaves."""
        if not arg_sets:
            return []
        return self._call(function, [tuple(a) for a in arg_sets], many=True)

    def expected(self, function: str, *args: Any) -> Any:
        """The reference's answer to `function(*args)` (a student function or a driver,
        run here with a kit around the reference), decoded as a worker's reply is.
        A reference that fails is a bug of the assignment: RuntimeError."""
        if self.answers is not None:
            return self.answers(function, *args)
        calls = ReferenceCalls.of(self.assignment, self.solution)
        outcome = calls.call(function, *args, driver=function in self.assignment.drivers)
        if not outcome.ok:
            raise RuntimeError(f"the reference failed on {function}(): {outcome.message}")
        return outcome.value

    def figure(self, name: str, *, title: str = "", lines: dict[str, Any] | None = None,
               images: list[np.ndarray] | None = None) -> None:
        """Draw a figure of the student's run into the report (grader.figures): `lines`
        maps a label to values per step (loss per epoch...), or `images` is a list of
        (H, W) / (H, W, 3) arrays (learned weights...). Kept whether the check passes."""
        self.figures.append(make_figure(name, title, lines=lines, images=images))

    def note(self, text: str) -> None:
        """Tell the student something about a check that passes (it is shown as the
        check's message, as a failure's would be)."""
        self.notes.append(str(text))

    def data(self, name: str) -> dict[str, np.ndarray]:
        """The arrays of the assignment's data fixture `name` (what drivers see as kit.data)."""
        fixture = self.assignment.data.get(name)
        if fixture is None:
            raise KeyError(f"the spec declares no data fixture {name!r}")
        with np.load(fixture.path(), allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}

    def _call(self, function: str, arg_sets: list[tuple], *, many: bool) -> Any:
        if function not in self.registered.calls:
            raise RuntimeError(f"check {self.spec.name} calls {function} without declaring it")
        if self._call_log is not None:
            arguments = None if many else _recordable(arg_sets[0])  # None: a replay sends no further
            self._call_log.append(None if arguments is None else (function, arguments))
        limit = self.spec.call_seconds or self.assignment.limits.call_seconds
        outcome = (self._answered_ahead(function, arg_sets, many)
                   or self.broken.get(function) or self.broken.get((function, limit)))
        if outcome is None:
            budget = None
            if self.spec.budget_seconds is not None:
                budget = self.spec.budget_seconds - self.seconds_used
            send = self.sandbox.call_many if many else self.sandbox.call
            arguments = (arg_sets,) if many else arg_sets[0]
            outcome = send(function, *arguments, timeout=self.spec.call_seconds,
                           driver=function in self.assignment.drivers, budget=budget)
            self.seconds_used += self.sandbox.last_call_seconds
        # (noting an outcome already noted changes nothing)
        if outcome.kind == "timeout":
            self.broken[(function, limit)] = outcome
        elif outcome.kind in BROKEN_KINDS:
            self.broken[function] = outcome
        if not outcome.ok:
            status = Status.TIMEOUT if outcome.kind == "timeout" else Status.FAILED
            if function in self.assignment.drivers:
                uses = ", ".join(f"{u}()" for u in self.assignment.drivers[function].uses)
                message = f"the grader's driver {function} (which runs your {uses}) failed: {outcome.message}"
            else:
                message = f"calling {function}() failed: {outcome.message}"
            if outcome.where:
                message += f"\n{outcome.where.rstrip()}"
            raise CheckFailed(message, status=status)
        if outcome.mutated:
            self.mutated[function] = outcome.mutated
        return outcome.value

    def _answered_ahead(self, function: str, arg_sets: list[tuple], many: bool) -> CallOutcome | None:
        """The outcome of this call if it was sent ahead with its for_all's recorded calls
        and is the next of them, argument for argument; any other call ends the queue."""
        if not self._queue:
            return None
        planned, arguments, outcome, seconds = self._queue[0]
        if many or planned != function or not same_arguments(arguments, arg_sets[0]):
            self._queue = None
            return None
        self._queue.popleft()
        self.seconds_used += seconds
        return outcome

    def _send_ahead(self, index: int, signature: str) -> None:
        """Send the calls the recorded examples of this for_all made against the reference
        in one request (grader.sandbox.client.Sandbox.call_sequence), up to the first
        call_many or call of a broken function; their answers wait in the queue."""
        planner = getattr(self.examples, "planned", None)
        if planner is not None:
            self._send_plan(planner(self.spec.name, index, signature))

    def _send_plan(self, plan: list[list] | None) -> None:
        """Send the calls of `plan` (per example, (function, args) or None) ahead, as above."""
        sequence = getattr(self.sandbox, "call_sequence", None)
        if not plan or sequence is None:
            return
        limit = self.spec.call_seconds or self.assignment.limits.call_seconds
        calls = []
        for entry in (entry for example in plan for entry in example):
            if entry is None:
                break
            function, arguments = entry
            if function not in self.registered.calls or function in self.broken \
                    or (function, limit) in self.broken:
                break
            calls.append((function, arguments, function in self.assignment.drivers))
        if not calls:
            return
        budget = None if self.spec.budget_seconds is None else self.spec.budget_seconds - self.seconds_used
        answers = sequence(calls, timeout=self.spec.call_seconds, budget=budget)
        self._queue = deque((function, arguments, outcome, seconds)
                            for (function, arguments, _), (outcome, seconds) in zip(calls, answers))

    def _logging_calls(self, body: Callable, per_example: list) -> Callable:
        """`body`, logging the calls each example makes into `per_example` (recording)."""

        @functools.wraps(body)  # hypothesis reads the body's parameters through this
        def logged(*args: Any, **kwargs: Any) -> Any:
            self._call_log = []
            try:
                return body(*args, **kwargs)
            finally:
                per_example.append(self._call_log)
                self._call_log = None

        return logged

    def for_all(self, *strategies: Any, max_examples: int | None = None) -> Callable[[Callable], None]:
        """Run the decorated body on hypothesis-generated inputs, right away.

        Deterministic: derandomized, no example database, no deadline. The
        failure reported is hypothesis's shrunk, minimal example.
        """
        examples = max_examples or self.assignment.max_examples
        index = self._for_alls
        self._for_alls += 1
        # what a recording must match to stand in for this for_all (a check may
        # choose its for_all calls by what the student answered)
        signature = f"{examples} {strategies!r}"

        def live(body: Callable) -> None:
            test = settings(
                max_examples=examples, derandomize=True, database=None, deadline=None,
                verbosity=Verbosity.quiet, report_multiple_bugs=False, print_blob=False,
                phases=(Phase.explicit, Phase.generate, Phase.shrink),
                suppress_health_check=list(HealthCheck),
            )(given(*strategies)(body))
            if self.salt:  # the server's own examples: seeded by the course secret
                test = seed(_seed(f"{self.salt}:{self.spec.name}:{index}"))(test)
            test()

        def run(body: Callable) -> None:
            live_run = live
            traces = getattr(self.examples, "shrinks", None)
            if isinstance(self.examples, RecordingExamples):
                per_example: list = []
                self.planned_calls.append(per_example)
                body = self._logging_calls(body, per_example)
            else:
                self._send_ahead(index, signature)
                if traces is not None:  # a failure is shrunk by replaying a trace, if one fits
                    first = FirstFailure(body)
                    body = first.counted
                    live_run = functools.partial(self._shrink, first=first, live=live, traces=traces,
                                                 where=(self.spec.name, index, signature))
            try:
                self.examples.run(self.spec.name, index, signature, body, live_run)
            finally:
                self._queue = None

        return run

    def _shrink(self, _body: Callable, *, first: FirstFailure, live: Callable[[Callable], None],
                traces: ShrinkTraces, where: tuple[str, int, str]) -> None:
        """Hypothesis's live run after a replay's first failure: a kept trace that the
        submission follows outcome for outcome, else hypothesis itself, traced
        (grader.shrinks)."""
        failed = first.key()
        for kept in traces.find(where, failed):
            if self._follow(first.body, kept, ahead=failed[0] + 1):
                return
        trace: Trace = []
        traced = tracing(first.body, trace, copy_example, self._log_calls)
        try:
            live(traced)
        except Exception as error:
            if trace and trace[-1].error is error:  # hypothesis reported the body's own failure
                traces.keep(where, failed, trace)
            raise
        if trace and trace[-1].error is None:
            traces.keep(where, failed, trace)

    def _follow(self, body: Callable, trace: Trace, *, ahead: int) -> bool:
        """Replay `trace` on `body`: False at the first outcome that differs from the
        traced one; else, as hypothesis would, raise the last run's failure, or return
        True when the run ended passing.

        Only the calls of the first `ahead` runs (the examples up to the first failure,
        which hypothesis draws again) are sent ahead; the others are made one by one,
        so that the worker never runs a call hypothesis would not have made: a replay
        that parts from the trace has made only calls the live run makes too."""
        self._send_plan([execution.calls for execution in trace[:ahead]])
        runs: Trace = []
        traced = tracing(body, runs, lambda values: values, self._log_calls)
        try:
            for execution in trace:
                try:
                    traced(*copy_example(execution.example))
                except Exception:  # noqa: BLE001 - the outcome is in `runs`
                    pass
                if runs[-1].outcome != execution.outcome:
                    return False
        finally:
            self._queue = None
        if runs[-1].error is not None:
            raise runs[-1].error
        return True

    def _log_calls(self) -> Callable[[], list | None]:
        """Start logging the calls a run makes; the function returned stops and gives the log."""
        outer = self._call_log
        self._call_log = []

        def finish() -> list | None:
            log, self._call_log = self._call_log, outer
            return log

        return finish


def _logging(body: Callable, drawn: list, prepare: Callable[[tuple, int], tuple] | None = None,
             keep: Callable[[tuple], Any] = lambda values: copy_example(values)) -> Callable:
    """`body`, appending what `keep` makes of each example to `drawn` before running it
    (after `prepare`, if given, replaced what the body receives)."""
    signature = inspect.signature(body)

    @functools.wraps(body)  # hypothesis reads the body's parameters through this
    def logged(*args: Any, **kwargs: Any) -> Any:
        values = tuple(signature.bind(*args, **kwargs).arguments.values())
        if prepare is not None:
            values = tuple(prepare(values, len(drawn)))
        drawn.append(keep(values))
        return body(*values)

    return logged


def _replay(body: Callable, recorded: list[tuple], live: Callable[[Callable], None]) -> None:
    """Run `body` on the recorded examples; on the first failure, let hypothesis run live.

    Hypothesis draws the same examples up to that failure, fails there too
    and shrinks it, so the check ends exactly as it would have without a
    bank. Should the live run pass (the submission answered differently the
    second time), the failure already seen stands.
    """
    for example in recorded:
        try:
            body(*copy_example(example))
        except UnsatisfiedAssumption:  # the body filters on the answers: only hypothesis knows what comes next
            live(body)
            return
        except Exception as failure:  # noqa: BLE001 - whatever hypothesis would have caught
            live(body)
            raise failure


def _recordable(arguments: tuple) -> tuple | None:
    """A private copy of a call's arguments for a bank, or None when one cannot be stored."""
    try:
        return copy_example(arguments)
    except Unrecordable:
        return None


def same_arguments(a: Any, b: Any) -> bool:
    """Whether two calls' arguments are the same values, bit for bit, of the same types."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (a.dtype == b.dtype and a.shape == b.shape and getattr(a, "lib", None) == getattr(b, "lib", None)
                and a.tobytes() == b.tobytes())
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same_arguments(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


def _seed(name: str) -> int:
    """A stable seed from a check's name (Python's hash() is salted per process)."""
    import zlib

    return zlib.crc32(name.encode())
