"""Results as plain data: what each check, question and submission scored.

Reporters render these; nothing here knows any platform's format.

Text in a result can come from the submission (exception messages, printed
output, file names), so a report is rendered from `Report.bounded()`: every
text cleaned (grader.text.clean: valid UTF-8, no control characters) and
bounded, and `render_within` shrinks the bounds further should a rendered
report still exceed MAX_REPORT_BYTES.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from .outcome import Status
from .text import clean, clean_name

MAX_REPORT_BYTES = 1_000_000  # every rendered report stays below this (Autolab cuts at 1000 KiB)
MAX_MESSAGE = 4000  # characters of one check's message
MAX_MESSAGES = 120_000  # characters of all check messages together
MIN_MESSAGE = 300  # a message is never cut shorter than this (at scale 1)
MAX_OUTPUT = 64 * 1024  # characters of captured student output (head and tail)
MAX_NOTE = 4000
MAX_NOTES = 20
MAX_ERROR = 4000
MAX_LABEL = 200  # assignment, question and check names, titles, visibility
MAX_PATH = 1000  # the submission's path as given
SCALES = (1.0, 0.25, 0.05, 0.0)


@dataclass
class CheckResult:
    """One check's outcome and the points it moved (negative for a deduction)."""

    name: str
    question: str
    status: Status
    message: str
    visibility: str
    earns: float
    deducts: float
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    figures: list = field(default_factory=list)  # grader.figures.Figure, drawn by the check
    floor: float | None = None  # a credit floor check (grader.spec.CheckSpec.floor)

    @property
    def passed(self) -> bool:
        return self.status == Status.PASSED


@dataclass
class QuestionResult:
    """A question's score: the sum of its checks' scores, within [0, max_score]."""

    name: str
    title: str
    score: float
    max_score: float
    optional: bool
    checks: list[CheckResult]
    manual: bool = False  # graded by hand: score and max_score 0 here, `pending` points to come
    pending: float = 0.0
    rubric: str = ""


@dataclass
class Report:
    """Everything known about one graded submission."""

    assignment: str
    submission: str
    questions: list[QuestionResult]
    output: str = ""
    error: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    # the sandbox's isolation: {"level", "minimum", "features"} (grader/sandbox/levels.py)
    isolation: dict[str, Any] | None = None
    # what the student's code printed before any check that is not visible ran
    public_output: str | None = None
    # seconds the worker spent inside the student's calls (its own word, at most their wall
    # time): what benchmarks subtract to see the grader's own cost; in no report format
    student_seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 4)

    @property
    def max_score(self) -> float:
        return round(sum(q.max_score for q in self.questions), 4)

    @property
    def pending(self) -> float:
        """Points of the questions graded by hand, not in score or max_score."""
        return round(sum(q.pending for q in self.questions), 4)

    def figures(self) -> list:
        """Every figure the checks drew, in report order."""
        return [figure for q in self.questions for c in q.checks for figure in c.figures]

    def pending_line(self) -> str:
        """One line on the questions graded by hand ("" when there are none)."""
        manual = [q for q in self.questions if q.manual]
        if not manual:
            return ""
        names = ", ".join(f"{q.name} ({q.pending:g})" for q in manual)
        return (f"Graded by hand, not in this total: {names}; {self.pending:g} points pending "
                f"(out of {self.max_score + self.pending:g} in all).")

    def bounded(self, scale: float = 1.0) -> Report:
        """A copy whose every text is cleaned and bounded; `scale` (0 to 1) shrinks the bounds.

        Scores, statuses and the structure are unchanged. At scale 1, each
        check message keeps MAX_MESSAGE characters (less when the report has
        so many messages that they would exceed MAX_MESSAGES together), the
        student's output its first and last MAX_OUTPUT / 2 characters, each
        note MAX_NOTE characters (at most MAX_NOTES notes). Bounding a
        bounded report again with a scale at least as large changes nothing.
        """
        scale = min(max(scale, 0.0), 1.0)
        count = sum(1 for q in self.questions for c in q.checks if c.message)
        share = MAX_MESSAGES // max(count, 1)
        message_limit = max(int(min(MAX_MESSAGE, max(share, MIN_MESSAGE)) * scale), 100)
        note_limit = max(int(MAX_NOTE * scale), 200)
        questions = [
            dataclasses.replace(
                q, name=clean_name(q.name, MAX_LABEL), title=clean_name(q.title, MAX_LABEL),
                checks=[dataclasses.replace(c, name=clean_name(c.name, MAX_LABEL),
                                            question=clean_name(c.question, MAX_LABEL),
                                            message=clean(c.message, message_limit),
                                            visibility=clean_name(c.visibility, MAX_LABEL))
                        for c in q.checks])
            for q in self.questions
        ]
        notes = [clean(note, note_limit) for note in self.notes]
        if len(notes) > MAX_NOTES:
            notes[MAX_NOTES - 1:] = [f"{len(notes) - MAX_NOTES + 1} more notes were left out"]
        return Report(
            assignment=clean_name(self.assignment, MAX_LABEL),
            submission=clean_name(self.submission, MAX_PATH),
            questions=questions,
            output=bound_output(self.output, int(MAX_OUTPUT * scale)),
            error=None if self.error is None else clean(self.error, max(int(MAX_ERROR * scale), 200)),
            seconds=self.seconds,
            notes=notes,
            isolation=_bounded_isolation(self.isolation),
        )

    def shown_to_students(self, reveal: str = "visible") -> Report:
        """A copy for the student's eyes: a check whose visibility `reveal` does not open
        keeps its status and points but loses its name, message, inputs and hint (it
        reads "hidden check"); the student's output is cut to what was printed before
        such a check ran. `reveal` is one of REVEAL: "visible" (before the due date),
        "after_due_date" (grading after it), "all" (staff)."""
        opened = REVEAL[reveal]
        if all(c.visibility in opened for q in self.questions for c in q.checks):
            return self
        questions = []
        for question in self.questions:
            checks, hidden = [], 0
            for check in question.checks:
                if check.visibility in opened:
                    checks.append(check)
                    continue
                hidden += 1
                checks.append(dataclasses.replace(
                    check, name=f"hidden check {hidden}", visibility="hidden",
                    message="" if check.passed else "hidden check: failed", figures=[]))
            questions.append(dataclasses.replace(question, checks=checks))
        withheld = "" if self.public_output is None else self.public_output
        notes = list(self.notes)
        if self.output.strip() and withheld != self.output:
            notes.append("What your code printed while hidden checks ran is not shown.")
        return dataclasses.replace(self, questions=questions, output=withheld, notes=notes)

    def isolation_line(self) -> str:
        """One line naming the sandbox's isolation level ("" when no sandbox ran)."""
        if not self.isolation or not self.isolation.get("level"):
            return ""
        features = ", ".join(self.isolation.get("features", []))
        return (f"Sandbox isolation: {self.isolation['level']} (minimum {self.isolation.get('minimum', '?')})"
                + (f": {features}" if features else ""))

    def to_dict(self) -> dict[str, Any]:
        """gradecheck's own JSON shape (DESIGN.md), timings left out for determinism.

        Every text is cleaned and bounded (see `bounded`).
        """
        report = self.bounded()
        data: dict[str, Any] = {
            "assignment": report.assignment,
            "score": report.score,
            "max_score": report.max_score,
            "questions": [
                {
                    "name": q.name,
                    "score": q.score,
                    "max_score": q.max_score,
                    "optional": q.optional,
                    **({"manual": True, "pending": q.pending, "rubric": q.rubric} if q.manual else {}),
                    "checks": [
                        {
                            "name": c.name,
                            "passed": c.passed,
                            "status": c.status.value,
                            "score": c.score,
                            "max_score": c.max_score,
                            "message": c.message,
                            "visibility": c.visibility,
                            **({"figures": [f.name for f in c.figures]} if c.figures else {}),
                        }
                        for c in q.checks
                    ],
                }
                for q in report.questions
            ],
        }
        if report.error:
            data["error"] = report.error
        if report.isolation:
            data["isolation"] = report.isolation
        if report.notes:
            data["notes"] = list(report.notes)
        if report.pending:
            data["pending"] = report.pending
        return data


# which check visibilities each audience may see
REVEAL = {
    "visible": frozenset({"visible"}),
    "after_due_date": frozenset({"visible", "after_due_date"}),
    "all": frozenset({"visible", "after_due_date", "after_published", "hidden"}),
}


def _bounded_isolation(isolation: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isolation:
        return None
    return {"level": clean_name(isolation.get("level", ""), 20),
            "minimum": clean_name(isolation.get("minimum", ""), 20),
            "features": [clean_name(f, 60) for f in list(isolation.get("features", []))[:32]]}


def bound_output(text: object, limit: int) -> str:
    """Captured output cleaned and cut to at most `limit` characters, keeping its head and
    tail with a marker between them."""
    raw = text if isinstance(text, str) else clean(text, max(limit, 0))
    if len(raw) <= limit:
        return clean(raw, limit)
    half = max((limit - 64) // 2, 0)  # 64 characters are enough for the marker
    left_out = len(raw) - 2 * half
    return (clean(raw[:half], half) + f"\n... [{left_out:,} characters of output left out] ...\n"
            + clean(raw[len(raw) - half:], half))


def render_within(report: Report, render: Callable[[Report], str],
                  max_bytes: int = MAX_REPORT_BYTES) -> str:
    """`render(report.bounded(scale))` for the largest scale whose text fits in `max_bytes`
    of UTF-8 (the smallest scale's text if none does)."""
    text = ""
    for scale in SCALES:
        text = render(report.bounded(scale))
        if len(text.encode("utf-8", "backslashreplace")) <= max_bytes:
            break
    return text
