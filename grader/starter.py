"""Make a student's starter file from a reference file with solution markers.

Every region between a line ``# BEGIN SOLUTION`` and a line ``# END SOLUTION``
is replaced by a stub that raises NotImplementedError, at the region's
indentation; everything else (imports, signatures, docstrings, classes) is
kept. A stub names its function, qualified by the classes around it for a
method (``Accumulator.add: your code here``).

The engine needs this (`grader validate` grades the starter); the handout
builder imports it from here.
"""

from __future__ import annotations

import re

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
STUB = 'raise NotImplementedError("{name}: your code here")'
TODO = "# TODO: implement this function."
DEFINITION = re.compile(r"^(\s*)(?:async\s+def|def|class)\s+(\w+)")


class MarkerError(ValueError):
    """The solution markers are unbalanced or nested."""


class _Scope:
    """Which function (qualified by its enclosing classes) a line of source belongs to."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str, bool]] = []  # (indent, name, is a class)
        self.name = "this function"

    def see(self, line: str) -> None:
        match = DEFINITION.match(line)
        if not match:
            return
        indent = len(match.group(1).expandtabs())
        while self.stack and self.stack[-1][0] >= indent:
            self.stack.pop()
        is_class = line.lstrip().startswith("class")
        self.stack.append((indent, match.group(2), is_class))
        if not is_class:
            classes = [name for _, name, cls in self.stack[:-1] if cls]
            self.name = ".".join([*classes, match.group(2)])


def make_starter(source: str) -> str:
    """Return `source` with each marked solution region replaced by a stub."""
    out: list[str] = []
    inside = False
    scope = _Scope()
    for number, line in enumerate(source.splitlines(), start=1):
        if not inside:
            scope.see(line)
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise MarkerError(f"line {number}: BEGIN SOLUTION inside another solution region")
            inside = True
            out.append(begin.group(1) + TODO)
            out.append(begin.group(1) + STUB.format(name=scope.name))
            continue
        if END.match(line):
            if not inside:
                raise MarkerError(f"line {number}: END SOLUTION without BEGIN SOLUTION")
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise MarkerError("a BEGIN SOLUTION region is never closed")
    return "\n".join(out) + "\n"


def solution_regions(reference: str) -> dict[str, list[str]]:
    """Each function's solution lines (markers excluded, as written), by qualified name."""
    regions: dict[str, list[str]] = {}
    scope, inside = _Scope(), False
    for line in reference.splitlines():
        if not inside:
            scope.see(line)
        if BEGIN.match(line):
            inside = True
            regions.setdefault(scope.name, [])
        elif END.match(line):
            inside = False
        elif inside:
            regions[scope.name].append(line)
    return regions


def solution_lines(source: str) -> list[str]:
    """The non-blank lines inside solution regions (what a handout must never contain)."""
    lines, inside = [], False
    for line in source.splitlines():
        if BEGIN.match(line):
            inside = True
        elif END.match(line):
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines
