"""Shrink traces of the usual mistakes, made before any student submits
(`python -m grader examples NAME --mutants`; Gradescope's setup.sh runs it).

Each mutant of the assignment's catalogue (assignments/NAME/mutants.yaml,
grader.mutants) is graded once, through the sandbox like any submission and with
the example bank, so that every failure it meets is shrunk by hypothesis and the
run kept as a shrink trace (grader.shrinks). A submission that makes one of these
mistakes later follows the trace instead of running hypothesis's shrinker: the
same grade and message, sooner. The reports themselves are not kept.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .spec import Assignment


def record(assignment: Assignment, *, jobs: int = 2) -> int:
    """Grade every catalogued mutant that applies to the reference, `jobs` at a time,
    keeping the shrink traces of its failures in the cache; return how many were
    graded. Raises SpecError for a broken mutants.yaml, GraderError (SandboxError)
    when the sandbox cannot run here."""
    from .runner import grade
    from .validate import mutant_handins

    with tempfile.TemporaryDirectory(prefix="gradecheck-traces-") as scratch:
        _mutants, paths = mutant_handins(assignment, Path(scratch))
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            # grading is what keeps the traces; the reports are validate's business
            list(pool.map(lambda path: grade(assignment, path), paths.values()))
    return len(paths)
