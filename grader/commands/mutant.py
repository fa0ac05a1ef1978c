"""`python -m grader mutant ASSIGNMENT NAME`: start a new mutant from the reference.

Copies the reference to assignments/ASSIGNMENT/mutants/NAME.py with its module
docstring replaced by a template to fill in. `grader validate` rejects the
file until the template is filled in and the code differs from the reference.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import textwrap
from pathlib import Path

from .. import spec as spec_module
from ..errors import GraderError
from ..output import EXIT_GRADER_FAILED, EXIT_OK

NAME = "mutant"
HELP = "copy the reference into the assignment's mutants/ folder, ready for one mistake"
MUTANT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TEMPLATE = '''"""Mutant: <the student mistake, in one line>.

<What the student wrote instead of the reference, and why it is a plausible
mistake. Change only that, below; say which check should catch it.>

{questions}
Loses: <question, ...>
"""
'''


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="folder name under assignments/ or a path to one")
    parser.add_argument("name", help="the mutant's name: lower_case_with_underscores")


def run(args: argparse.Namespace) -> int:
    """Write the new mutant and print its path; refuse bad names and existing files."""
    if not MUTANT_NAME.match(args.name):
        print(f"error: name={args.name!r}: use lower-case letters, digits and underscores, "
              "starting with a letter", file=sys.stderr)
        return EXIT_GRADER_FAILED
    try:
        assignment = spec_module.load(args.assignment)
    except GraderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_GRADER_FAILED
    target = assignment.folder / "mutants" / f"{args.name}.py"
    if target.exists():
        print(f"error: {target} already exists; pick another name or edit that file", file=sys.stderr)
        return EXIT_GRADER_FAILED
    questions = textwrap.fill("<The questions this mistake must cost points, from: "
                              + ", ".join(q.name for q in assignment.questions) + ".>", 79)
    source = TEMPLATE.format(questions=questions) + _without_docstring(assignment.reference)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as out:  # "x": never overwrite, even in a race
        out.write(source)
    print(f"wrote {target}: fill in its docstring, make one mistake, then run "
          f"python -m grader validate {args.assignment}")
    return EXIT_OK


def _without_docstring(reference: Path) -> str:
    """The reference's source after its module docstring (kept verbatim)."""
    source = reference.read_text(encoding="utf-8")
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        lines = source.splitlines(keepends=True)
        return "".join(lines[body[0].end_lineno:])
    return "\n" + source
