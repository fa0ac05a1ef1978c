"""`python -m grader validate ASSIGNMENT`: prove an assignment's checks (grader.validate)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .. import spec as spec_module
from ..errors import GraderError
from ..output import EXIT_GRADER_FAILED, EXIT_OK

if TYPE_CHECKING:  # grader.validate pulls in hypothesis and nbformat: only `validate` needs them
    from ..validate import Finding, MutantResult, Validation

NAME = "validate"
HELP = "check that the reference scores full marks, the starter zero, and every mutant loses points"
EXIT_SHORTFALL = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="folder name under assignments/ or a path to one")
    parser.add_argument("--jobs", type=int, default=2, help="files graded at once (default 2)")


def run(args: argparse.Namespace) -> int:
    """Validate and print the table; 1 when something fell short, 2 when the spec is broken."""
    try:
        assignment = spec_module.load(args.assignment)
        from ..validate import validate

        result = validate(assignment, jobs=args.jobs)
    except GraderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_GRADER_FAILED
    sys.stdout.write(render(result))
    sys.stdout.flush()
    return exit_status(result)


def exit_status(result: Validation) -> int:
    """0 when everything held, 1 when something fell short."""
    return EXIT_OK if result.ok else EXIT_SHORTFALL


def render(result: Validation) -> str:
    """The verdict as a terminal table, shortfalls named at the end."""
    lines = [f"validate {result.assignment}", ""]
    width = max(len(f.name) for f in result.lint + result.grading)
    for title, findings in (("spec lint", result.lint), ("grading", result.grading)):
        lines.append(title)
        lines += [_finding(f, width) for f in findings]
        lines.append("")
    lines.append("mutants (points lost per question; caught by the checks that failed)")
    name_width = max([len(m.name) for m in result.mutants] + [6])
    lines += [_mutant(m, name_width) for m in result.mutants]
    total = len(result.mutants)
    percent = f" ({100 * result.caught / total:.0f}%)" if total else ""
    lines += ["", f"mutation score: {result.caught}/{total} mutants caught{percent}"]
    idle = [name for name, mutants in result.catches().items() if not mutants]
    if idle and result.mutants:
        lines.append(f"checks no mutant fails: {', '.join(idle)}")
    shortfalls = result.shortfalls()
    if shortfalls:
        lines += ["", f"FAILED: {len(shortfalls)} shortfall(s)"] + [f"  - {s}" for s in shortfalls]
    else:
        lines += ["", "OK: the checks give full marks to the reference and catch every mutant"]
    return "\n".join(lines) + "\n"


def _finding(finding: Finding, width: int) -> str:
    return f"  {'ok' if finding.ok else 'FAIL':<5} {finding.name:<{width}}  {finding.detail}"


def _mutant(mutant: MutantResult, width: int) -> str:
    verdict = "caught" if mutant.caught else "FAIL"
    lost = ", ".join(f"{q} -{points:g}" for q, points in mutant.lost.items()) or "nothing"
    line = f"  {verdict:<6} {mutant.name:<{width}}  lost {lost}"
    if mutant.failed_checks:
        line += f"  <- {', '.join(mutant.failed_checks)}"
    if mutant.problem:
        line += f"\n         {mutant.problem} (declared Loses: {', '.join(mutant.declared) or '?'})"
    return line

