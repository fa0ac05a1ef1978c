"""`python -m grader mutant ASSIGNMENT NAME --function F --find TEXT --replace TEXT --loses Q,...`.

Appends a mutant (one deliberate student mistake, written as an edit of the
reference) to assignments/ASSIGNMENT/mutants.yaml, after checking that the
stanza is well formed and that the edit applies: FIND occurs exactly once in
the reference's function F, and the result is still Python but not the
reference's code. `grader validate` then grades it. See grader/mutants.py for
the file's format; edits spanning several functions are written by hand there.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import tempfile

from .. import mutants as mutants_module
from .. import spec as spec_module
from ..errors import GraderError
from ..output import EXIT_GRADER_FAILED, EXIT_OK

NAME = "mutant"
HELP = "add a mutant (an edit of the reference that must lose points) to the assignment's mutants.yaml"
DESCRIPTION = """\
Append one mutant to assignments/ASSIGNMENT/mutants.yaml: the reference with
FIND replaced by REPLACE inside function F, which must cost points on exactly
the questions given to --loses. FIND must occur exactly once in F's source in
the reference; both are exact text (several lines, in bash: $'a\\n    b';
text starting with '-': --find=TEXT).
Nothing is written unless the edit applies. Then run `grader validate`.

example:
  python -m grader mutant softmax_lab loss_no_log --function loss \\
      --find 'torch.log(predictions[label])' --replace 'predictions[label]' \\
      --loses loss --description 'loss forgets the log.'
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("assignment", help="folder name under assignments/ or a path to one")
    parser.add_argument("name", help="the mutant's name: lower_case_with_underscores, new in mutants.yaml")
    parser.add_argument("--function", required=True, metavar="F",
                        help="the reference's top-level function (or Class.method) to edit")
    parser.add_argument("--file", default="", metavar="PATH",
                        help="for a package handin: the reference package's file to edit (e.g. mytorch/tensor.py)")
    parser.add_argument("--find", required=True, metavar="TEXT", help="exact text occurring exactly once in that function")
    parser.add_argument("--replace", required=True, metavar="TEXT", help="the text the student wrote instead")
    parser.add_argument("--loses", required=True, metavar="Q,...", help="the questions it must cost points, comma-separated")
    parser.add_argument("--description", default="", metavar="LINE",
                        help="one line: the student mistake (default: the edit itself)")
    parser.add_argument("--caught-by", default="", metavar="CHECK,...", help="checks expected to fail, comma-separated (optional)")


def run(args: argparse.Namespace) -> int:
    """Check the new stanza, append it and print where; 2 (nothing written) when it is wrong."""
    if not mutants_module.NAME.match(args.name):
        print(f"error: name={args.name!r}: use lower-case letters, digits and underscores, "
              "starting with a letter", file=sys.stderr)
        return EXIT_GRADER_FAILED
    try:
        assignment = spec_module.load(args.assignment)
        path = mutants_module.path_of(assignment)
        existing = path.read_text(encoding="utf-8") if path.is_file() else ""
        if args.name in {m.name for m in mutants_module.parse(existing, str(path), assignment)}:
            print(f"error: {path}: {args.name}: already exists; pick another name or edit that stanza",
                  file=sys.stderr)
            return EXIT_GRADER_FAILED
        description = args.description.strip() or \
            f"{args.function}: {_one_line(args.find)} -> {_one_line(args.replace)}"
        mutant = mutants_module.Mutant(
            args.name, description, _split(args.loses),
            (mutants_module.Edit(args.function, args.find, args.replace, args.file),), _split(args.caught_by))
        text = mutants_module.stanza(mutant)
        if existing and not existing.endswith("\n"):
            existing += "\n"
        combined = existing + ("\n" if existing.strip() else "") + text
        # what the file will say, checked as `grader validate` will read it
        added = mutants_module.parse(combined, str(path), assignment)[-1]
        sources = mutants_module.reference_sources(assignment)
        mutated = mutants_module.mutate_sources(assignment, added, sources)
        try:
            same = all(ast.dump(ast.parse(mutated[name])) == ast.dump(ast.parse(sources[name])) for name in sources)
        except SyntaxError as exc:
            print(f"error: {path}: {args.name}: the edited reference does not parse: {exc}", file=sys.stderr)
            return EXIT_GRADER_FAILED
        if same:
            print(f"error: {path}: {args.name}: the edit leaves the reference's code unchanged",
                  file=sys.stderr)
            return EXIT_GRADER_FAILED
    except GraderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_GRADER_FAILED
    _write(path, combined)
    print(f"added mutant {args.name} to {path}; run python -m grader validate {args.assignment}")
    return EXIT_OK


def _split(names: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in names.split(",") if n.strip())


def _one_line(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def _write(path, text: str) -> None:
    """Replace the file atomically (a temporary file in the same folder, then a rename)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, path.stat().st_mode if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
