"""Grade one submission: start its sandbox, run the checks, score the questions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SandboxError, SubmissionError
from .outcome import CheckFailed, Status
from .results import CheckResult, QuestionResult, Report
from .sandbox.client import REFUSED, SANDBOX_FAILED, CallOutcome, Sandbox
from .sandbox.kit import top_names
from .sandbox.plain import PlainSandbox
from .sandbox.outcomes import JOB_TIME_USED
from .scoring import score_question
from .secret import course_secret, salt_of
from .spec import Assignment, CheckSpec, Question
from .submission import prepare

if TYPE_CHECKING:
    from .checks import RegisteredCheck

# The checks, hypothesis and the example bank are imported once the sandbox has started,
# not before: the worker's start (its torch import) is a grade's longest wait, and
# whatever the judge imports first delays it.


def selected(check: CheckSpec, visibility: str) -> bool:
    """Whether a check runs at this visibility level ("public" runs visible checks only)."""
    return visibility == "all" or check.visibility == "visible"


def grade(assignment: Assignment, submission: Path, *, visibility: str = "all",
          use_bank: bool = True, minimum: str | None = None, deadline: float | None = None,
          secret: str | None = None, plain: bool = False) -> Report:
    """Grade `submission` against `assignment`; student failures never raise.

    `use_bank` replays the examples hypothesis drew against the reference
    (grader.examples); the grade is the same without, only slower.

    `minimum` overrides the assignment's minimum isolation level. `deadline`
    (a time.monotonic() value) is when the grading job must stop running
    student code: checks it leaves no time for score 0, "not run: time limit
    of the grading job"; what was earned before is kept.

    Raises SubmissionError only when the path does not exist at all; a
    submission that exists but cannot be used scores zero with the reason.
    Raises SandboxError when the sandbox could not start or is below the
    minimum isolation (before any student code ran).

    `plain` runs the student's code in a plain child process instead of the
    Linux sandbox (grader/sandbox/plain.py): a student's own grade on a system
    without it; its level is "none", below every course's minimum.
    """
    started = time.monotonic()
    salt = salt_of(course_secret(assignment.folder) if secret is None else secret)
    try:
        prepared = prepare(assignment, Path(submission))
    except SubmissionError as exc:
        if not Path(submission).exists():
            raise
        return _zero_report(assignment, str(submission), str(exc), visibility, started)
    kind = PlainSandbox if plain else Sandbox
    sandbox = kind(prepared.student_file, module=assignment.module,
                   library=assignment.library, limits=assignment.limits, files=prepared.folder,
                   hide=(assignment.folder, assignment.reference.parent,
                         assignment.checks_module.parent, Path(submission).resolve().parent),
                   minimum=minimum or assignment.isolation,
                   harness=assignment.harness, data=assignment.data_files(),
                   homes=assignment.homes if assignment.package else None,
                   tops=top_names(assignment.student_files) if assignment.package else ())
    sandbox.deadline = deadline
    try:
        sandbox.start()  # the worker imports torch while the judge loads its checks
        from .loaded import load as load_assignment

        loaded = load_assignment(assignment)
        registry, reference, solution = loaded.registry, loaded.judge_reference, loaded.reference
        bank = loaded.bank(salt) if use_bank else None
        broken: dict[str, CallOutcome] = {}
        questions = []
        import_failure = sandbox.ensure_ready()
        public_output: str | None = None
        if import_failure is not None and import_failure.kind in (REFUSED, SANDBOX_FAILED):
            raise SandboxError(import_failure.message, level=sandbox.level, minimum=sandbox.minimum)
        for question in assignment.questions:
            if question.manual:
                questions.append(manual_result(question))
                continue
            results = []
            for check in question.checks:
                if not selected(check, visibility):
                    continue
                if public_output is None and check.visibility != "visible":
                    public_output = sandbox.output()  # what the student may see of their prints
                if import_failure is not None:
                    status = Status.NOT_RUN if import_failure.message == JOB_TIME_USED else Status.FAILED
                    result = _result(check, status, import_failure.message)
                elif deadline is not None and time.monotonic() >= deadline:
                    result = _result(check, Status.NOT_RUN, JOB_TIME_USED)
                else:
                    result = run_check(check, registry[check.name], sandbox=sandbox,
                                       reference=reference, solution=solution, assignment=assignment,
                                       broken=broken, examples=bank,
                                       salt=salt)
                    if (deadline is not None and time.monotonic() >= deadline
                            and JOB_TIME_USED in result.message and not result.passed):
                        result.status = Status.NOT_RUN  # cut short by the job's clock, not by the code
                results.append(result)
            questions.append(score_question(question, say_once(results)))
        notes = list(prepared.notes)
        if import_failure is not None and import_failure.where:
            notes.append(f"Where the import failed:\n{import_failure.where.rstrip()}")
    finally:
        sandbox.close()
        prepared.cleanup()
    isolation = {"level": sandbox.level, "minimum": sandbox.minimum,
                 "features": [f for f in sandbox.isolation.split(",") if f]}
    return Report(assignment.name, str(submission), questions, output=sandbox.output(),
                  seconds=time.monotonic() - started, notes=notes, isolation=isolation,
                  public_output=public_output, student_seconds=sandbox.student_seconds)


def run_check(check: CheckSpec, registered: RegisteredCheck, **context: object) -> CheckResult:
    """Run one check and turn however it ended into a CheckResult."""
    from hypothesis.errors import Flaky, HypothesisException

    from .checks import Context

    started = time.monotonic()
    if registered.sources is not None:  # the check's own reference and examples (the handout's)
        context = {**context, **registered.sources()}
    ctx = Context(check=check, registered=registered, **context)  # type: ignore[arg-type]
    failure_seen: CheckFailed | None = None
    try:
        registered.function(ctx)
        status, message = Status.PASSED, "\n".join(ctx.notes)
    except CheckFailed as failure:
        status, message = failure.status, failure.message
        failure_seen = failure
    except Flaky as exc:
        status = Status.FAILED
        message = ("your function gave different results for the same input, so no stable "
                   f"answer could be checked ({type(exc).__name__})")
    except HypothesisException as exc:
        status, message = Status.ERROR, f"internal grader error in check {check.name}: {exc!r}"
    except Exception as exc:  # a bug in the check itself, not the student's fault
        status, message = Status.ERROR, f"internal grader error in check {check.name}: {exc!r}"
    if status not in (Status.PASSED, Status.ERROR):
        # the check may choose the hint that fits what failed, or say the spec's does not apply
        chosen = getattr(failure_seen, "hint", None) if failure_seen is not None else None
        hint = check.hint if chosen is None else chosen
        if hint:
            message = f"{message}\nHint: {hint}"
    result = _result(check, status, message)
    result.seconds = time.monotonic() - started
    result.figures = list(ctx.figures)
    return result


def _result(check: CheckSpec, status: Status, message: str) -> CheckResult:
    return CheckResult(check.name, check.question, status, message, check.visibility,
                       check.earns, check.deducts, floor=check.floor)


def say_once(results: list[CheckResult]) -> list[CheckResult]:
    """Within a question, a failure already explained by an earlier check (the same
    message: a function that is missing, does not import, or crashed) is not repeated:
    it points to the first one instead."""
    first: dict[tuple[str, str], str] = {}
    for result in results:
        if result.passed or not result.message or result.status == Status.NOT_RUN:
            continue  # a check the job had no time for says so itself
        # only to a check of the same visibility: a hidden check's name must not show
        key = (result.message.split("\nHint: ")[0], result.visibility)
        if key in first:
            result.message = f"the same failure as {first[key]} above"
        else:
            first[key] = result.name
    return results


def manual_result(question: Question) -> QuestionResult:
    """A written question's place in a report: nothing scored here, its points pending."""
    return QuestionResult(question.name, question.title, 0.0, 0.0, question.optional, [],
                          manual=True, pending=question.points, rubric=question.rubric)


def _zero_report(assignment: Assignment, submission: str, reason: str, visibility: str,
                 started: float) -> Report:
    questions = [
        manual_result(q) if q.manual else
        score_question(q, [_result(c, Status.FAILED, reason) for c in q.checks if selected(c, visibility)])
        for q in assignment.questions
    ]
    return Report(assignment.name, submission, questions, error=None, notes=[reason],
                  seconds=time.monotonic() - started)
