"""What a check can end as, and the exception a check raises to fail."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """A check's outcome: passed, failed (with a message), timed out, or errored
    (the check's own code broke: a grader bug, never the student's fault)."""

    PASSED = "passed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    ERROR = "error"
    NOT_RUN = "not_run"  # the grading job's time ran out first: earns nothing, deducts nothing


class CheckFailed(Exception):
    """Raised inside a check to fail it; the message is shown to the student."""

    def __init__(self, message: str, *, status: Status = Status.FAILED, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        # the hint that fits this failure: None shows the spec's, "" shows none
        self.hint = hint
