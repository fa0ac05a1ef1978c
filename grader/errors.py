"""The grader's own errors: one root type, so callers can tell them from bugs."""


class GraderError(Exception):
    """Root of every error the grader raises on purpose (bad spec, bad path...)."""


class SpecError(GraderError):
    """assignment.yaml or its checks module is wrong; the message names file and key."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}")


class SubmissionError(GraderError):
    """The submission path cannot be read as a submission of this assignment."""


class SandboxError(GraderError):
    """The sandbox could not start, or reached less isolation than the course requires:
    no student code ran, and the staff (not the student) must act."""

    def __init__(self, message: str, level: str = "", minimum: str = ""):
        self.level, self.minimum = level, minimum
        super().__init__(message)
