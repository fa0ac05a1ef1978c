"""Mutants as data: assignments/NAME/mutants.yaml, small edits of the reference.

A mutant is a deliberate student mistake written as an edit of the reference
solution, never as a copy of it, so the catalogue follows the reference when
it changes. The file is a YAML list; each item is one mutant:

    - name: error_summed                  # lower_case_with_underscores, unique
      description: mean_error sums instead of averaging.   # one line
      function: mean_error                # a top-level function of the reference
      find: |-                            # exact text, exactly once in that function
        errors = (predicted - target) ** 2
            return errors.mean()
      replace: return ((predicted - target) ** 2).sum()   # what the student wrote instead
      loses: [mean_error]                 # the questions it must cost points
      caught_by: [mean_error_matches_reference]   # optional: checks expected to fail
      notes: a batch of one hides it ...  # optional: free text, why it is plausible

`function` may also name a method, as `Class.method`. For a package handin
(the spec's student_files), each edit also says which file of the reference
package it changes, as `file: mytorch/tensor.py`.

An edit that spans several functions lists them instead of the three keys
`function`, `find`, `replace`:

      edits:
        - {function: softmax, find: ..., replace: ...}
        - {function: softmax_backward, find: ..., replace: ...}

`find` and `replace` are exact text: a multi-line one starts at the first
character of its first line, so its later lines keep the function body's
indentation (as above). Edits apply one after the other to the reference's
source text, each inside its function's source (found with `ast`). `load`
checks the file's shape (SpecError naming the file and the key); `apply`
checks each edit against the reference (MutantError naming the file, the
mutant and the function) and returns the mutated source.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError
from . import spec as spec_module
from .spec import Assignment, _Reader

FILENAME = "mutants.yaml"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
EDIT_KEYS = {"function", "find", "replace", "file"}
KEYS = {"name", "description", "loses", "caught_by", "notes", "edits"} | EDIT_KEYS


class MutantError(SpecError):
    """A mutant does not apply to the reference as it is now (its key names the mutant)."""


@dataclass(frozen=True)
class Edit:
    """Replace `find`, which occurs exactly once in `function`'s source, with `replace`."""

    function: str
    find: str
    replace: str
    file: str = ""  # the reference package's file it changes (package handins only)


@dataclass(frozen=True)
class Mutant:
    """One catalogued mistake; `key` is where it sits in the file (for messages)."""

    name: str
    description: str
    loses: tuple[str, ...]
    edits: tuple[Edit, ...]
    caught_by: tuple[str, ...] = ()
    notes: str = ""
    listed: bool = False  # written as `edits: [...]` rather than function/find/replace

    def edit_key(self, index: int) -> str:
        """Where edit `index` sits in the file: NAME or NAME.edits[i] (its keys follow)."""
        return f"{self.name}.edits[{index}]" if self.listed or len(self.edits) > 1 else self.name


def path_of(assignment: Assignment) -> Path:
    """Where an assignment's mutants live."""
    return assignment.folder / FILENAME


def load(assignment: Assignment) -> list[Mutant]:
    """Read and check mutants.yaml (an absent file holds no mutants); SpecError names file and key."""
    path = path_of(assignment)
    if not path.is_file():
        return []
    return parse(path.read_text(encoding="utf-8"), str(path), assignment)


def parse(text: str, file: str, assignment: Assignment) -> list[Mutant]:
    """The mutants of `text` (the contents of `file`), checked against the assignment's spec."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(file, "(syntax)", f"is not valid YAML: {exc}") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise SpecError(file, "(top level)", f"must be a list of mutants, got {type(data).__name__}")
    questions = [q.name for q in assignment.questions]
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        mutant = _mutant(file, item, f"[{index}]", questions)
        if mutant.name in seen:
            raise SpecError(file, f"[{index}].name", f"{mutant.name!r} is used by an earlier mutant")
        seen.add(mutant.name)
        mutants.append(mutant)
    return mutants


def _mutant(file: str, item: Any, where: str, questions: list[str]) -> Mutant:
    name = _Reader(file, item, where).get("name", str)
    if not NAME.match(name):
        raise SpecError(file, f"{where}.name", f"{name!r}: use lower-case letters, digits and "
                        "underscores, starting with a letter")
    top = _Reader(file, item, name)  # from here on, keys are named after the mutant
    top.unknown(KEYS)
    description = top.get("description", str).strip()
    if not description or "\n" in description:
        top.fail("description", "must be one non-empty line saying what the mistake is")
    loses = _names(top, "loses", questions, "question", required=True)
    caught_by = _names(top, "caught_by", None, "check", required=False)
    notes = top.get("notes", str, "").strip()
    single = EDIT_KEYS & set(item)
    if "edits" in item:
        if single:
            top.fail(sorted(single)[0], "give either edits: [...] or function/find/replace, not both")
        raw = top.get("edits", list)
        if not raw:
            top.fail("edits", "must list at least one {function, find, replace}")
        edits = tuple(_edit(_Reader(file, e, f"{name}.edits[{i}]"), listed=True) for i, e in enumerate(raw))
        listed = True
    else:
        edits, listed = (_edit(top, listed=False),), False
    return Mutant(name, description, loses, edits, caught_by, notes, listed=listed)


def _names(top: _Reader, key: str, known: list[str] | None, kind: str, *, required: bool) -> tuple[str, ...]:
    """A list of names; each one of `known` (None: any identifier, e.g. a check that the spec
    may have dropped: `caught_by` is informational, and validate says which checks did fail)."""
    value = top.get(key, list) if required or key in top.data else []
    if required and not value:
        top.fail(key, f"must list at least one {kind} (from: {', '.join(known or [])})")
    for entry in value:
        if known is None and not (isinstance(entry, str) and spec_module.NAME.match(entry)):
            top.fail(key, f"{entry!r} is not a {kind} name")
        if known is not None and entry not in known:
            top.fail(key, f"{entry!r} is not a {kind} of the spec (known: {', '.join(known)})")
    if len(set(value)) != len(value):
        top.fail(key, f"names a {kind} twice")
    return tuple(value)


def _edit(reader: _Reader, *, listed: bool) -> Edit:
    if listed:
        reader.unknown(EDIT_KEYS)
    function = reader.get("function", str)
    find = reader.get("find", str)
    replace = reader.get("replace", str)
    if not find:
        reader.fail("find", "must not be empty")
    if find == replace:
        reader.fail("replace", "is the same as find: the edit changes nothing")
    file = reader.get("file", str, "")
    if file and (not file.endswith(".py") or file.startswith("/") or ".." in file.split("/")):
        reader.fail("file", f"must be a .py path inside the reference package, got {file!r}")
    return Edit(function, find, replace, file)


# -- applying -----------------------------------------------------------------------

def function_spans(source: str) -> dict[str, tuple[int, int]]:
    """Character spans (start, end) of the top-level functions of `source`, decorators included."""
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    spans = {}

    def span(node: ast.AST) -> tuple[int, int]:
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        return starts[first - 1], starts[node.end_lineno]

    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            spans[node.name] = span(node)
        elif isinstance(node, ast.ClassDef):  # methods, as Class.method
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    spans[f"{node.name}.{item.name}"] = span(item)
    return spans


def apply(mutant: Mutant, source: str, *, file: str, reference: str) -> str:
    """`source` (the reference's text) with the mutant's edits made, one after the other.

    Raises MutantError, keyed on the mutant and naming `file` (mutants.yaml)
    and the function, when a function is not in the reference or a `find` does
    not occur exactly once in it. `reference` names the reference in messages.
    """
    for index, edit in enumerate(mutant.edits):
        key = mutant.edit_key(index)
        try:
            spans = function_spans(source)
        except SyntaxError as exc:
            raise MutantError(file, key, f"the source does not parse before this edit: {exc}") from None
        if edit.function not in spans:
            raise MutantError(file, f"{key}.function", f"{reference} has no top-level function "
                              f"{edit.function!r} (functions and Class.methods it has: {', '.join(spans)})")
        start, end = spans[edit.function]
        body = source[start:end]
        count = body.count(edit.find)
        if count != 1:
            times = "does not occur" if count == 0 else f"occurs {count} times"
            raise MutantError(file, f"{key}.find", f"{edit.find!r} {times} in function "
                              f"{edit.function} of {reference}; it must occur exactly once "
                              "(has the reference changed?)")
        source = source[:start] + body.replace(edit.find, edit.replace) + source[end:]
    return source


def mutate(assignment: Assignment, mutant: Mutant, source: str | None = None) -> str:
    """The reference of `assignment` (or its `source`, when given) with `mutant` applied.

    Raises MutantError when the mutant does not apply.
    """
    reference = assignment.reference
    if source is None:
        source = reference.read_text(encoding="utf-8")
    return apply(mutant, source, file=str(path_of(assignment)), reference=f"reference/{reference.name}")


def reference_sources(assignment: Assignment) -> dict[str, str]:
    """The reference's source text by path: its one file (under its own name), or each
    .py file of its package folder (by path inside it, e.g. mytorch/tensor.py)."""
    reference = assignment.reference
    if not assignment.package:
        return {reference.name: reference.read_text(encoding="utf-8")}
    return {path.relative_to(reference).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(reference.rglob("*.py")) if "__pycache__" not in path.parts}


def mutate_sources(assignment: Assignment, mutant: Mutant,
                   sources: dict[str, str] | None = None) -> dict[str, str]:
    """The reference's sources (see reference_sources) with `mutant` applied: only the
    files it edits change. Raises MutantError when it does not apply (a package's edit
    without `file`, or naming a file the reference does not have, included)."""
    sources = dict(sources if sources is not None else reference_sources(assignment))
    if not assignment.package:
        (name, text), = sources.items()
        sources[name] = mutate(assignment, mutant, text)
        return sources
    for index, edit in enumerate(mutant.edits):
        key = mutant.edit_key(index)
        if edit.file not in sources:
            problem = "is required for a package handin" if not edit.file else \
                f"{edit.file!r} is not a file of reference/{assignment.reference.name}/"
            raise MutantError(str(path_of(assignment)), f"{key}.file",
                              f"{problem} (files: {', '.join(sources)})")
        single = Mutant(mutant.name, mutant.description, mutant.loses, (edit,), listed=mutant.listed)
        sources[edit.file] = apply(single, sources[edit.file], file=str(path_of(assignment)),
                                   reference=f"reference/{assignment.reference.name}/{edit.file}")
    return sources


def write_handin(assignment: Assignment, sources: dict[str, str], folder: Path) -> Path:
    """Write `sources` (from mutate_sources) under `folder` as a student would hand them
    in; return the path to grade (the .py file, or the package's folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        target = folder / (name if assignment.package else assignment.student_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder if assignment.package else folder / assignment.student_file


# -- writing ------------------------------------------------------------------------

def stanza(mutant: Mutant) -> str:
    """The mutant as a YAML list item, readable (block scalars for multi-line text)."""
    lines = [f"- name: {_scalar(mutant.name, 2)}", f"  description: {_scalar(mutant.description, 2)}"]
    if mutant.notes:
        lines.append(f"  notes: {_folded(mutant.notes, 2)}")
    if mutant.edits and not mutant.listed and len(mutant.edits) == 1:
        edit = mutant.edits[0]
        if edit.file:
            lines.append(f"  file: {_scalar(edit.file, 2)}")
        lines += [f"  function: {_scalar(edit.function, 2)}", f"  find: {_scalar(edit.find, 2)}",
                  f"  replace: {_scalar(edit.replace, 2)}"]
    else:
        lines.append("  edits:")
        for edit in mutant.edits:
            lines += [f"    - function: {_scalar(edit.function, 6)}"]
            if edit.file:
                lines.append(f"      file: {_scalar(edit.file, 6)}")
            lines += [f"      find: {_scalar(edit.find, 6)}", f"      replace: {_scalar(edit.replace, 6)}"]
    lines.append(f"  loses: [{', '.join(mutant.loses)}]")
    if mutant.caught_by:
        lines.append(f"  caught_by: [{', '.join(mutant.caught_by)}]")
    text = "\n".join(lines) + "\n"
    assert yaml.safe_load(text)[0]["name"] == mutant.name
    return text


def _scalar(value: str, indent: int) -> str:
    """A YAML scalar for `value`; multi-line text as a `|-` block indented by `indent` + 2."""
    if "\n" in value and _block_safe(value):
        pad = " " * (indent + 2)
        return "|-\n" + "\n".join(pad + line if line else "" for line in value.split("\n"))
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True)
    dumped = dumped[:-len("\n...\n")] if dumped.endswith("\n...\n") else dumped.rstrip("\n")
    if yaml.safe_load(dumped) != value:
        dumped = '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    return dumped


def _folded(value: str, indent: int, width: int = 88) -> str:
    """Prose as a `>-` block wrapped at `width` columns, when it reads back the same."""
    pad = " " * (indent + 2)
    text = ">-\n" + textwrap.fill(value, width, initial_indent=pad, subsequent_indent=pad,
                                  break_long_words=False, break_on_hyphens=False)
    try:
        same = yaml.safe_load(f"k: {text}\n") == {"k": value}
    except yaml.YAMLError:
        same = False
    return text if same and len(value) > width - indent - 8 else _scalar(value, indent)


def _block_safe(value: str) -> bool:
    lines = value.split("\n")
    return (not value.endswith("\n") and not lines[0][:1].isspace() and lines[0] != ""
            and all(line == line.rstrip() and "\t" not in line for line in lines)
            and all(ch.isprintable() for line in lines for ch in line))
