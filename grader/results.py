"""Results as plain data: what each check, question and submission scored.

Reporters render these; nothing here knows any platform's format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .outcome import Status


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

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 4)

    @property
    def max_score(self) -> float:
        return round(sum(q.max_score for q in self.questions), 4)

    def to_dict(self) -> dict[str, Any]:
        """gradecheck's own JSON shape (DESIGN.md), timings left out for determinism."""
        data: dict[str, Any] = {
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "questions": [
                {
                    "name": q.name,
                    "score": q.score,
                    "max_score": q.max_score,
                    "optional": q.optional,
                    "checks": [
                        {
                            "name": c.name,
                            "passed": c.passed,
                            "status": c.status.value,
                            "score": c.score,
                            "max_score": c.max_score,
                            "message": c.message,
                            "visibility": c.visibility,
                        }
                        for c in q.checks
                    ],
                }
                for q in self.questions
            ],
        }
        if self.error:
            data["error"] = self.error
        if self.notes:
            data["notes"] = list(self.notes)
        return data
