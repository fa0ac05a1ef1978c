"""Make a student's starter file from a reference file with solution markers.

Every region between a line ``# BEGIN SOLUTION`` and a line ``# END SOLUTION``
is replaced by a stub that raises NotImplementedError, at the region's
indentation; everything else (imports, signatures, docstrings) is kept.
"""

from __future__ import annotations

import re

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
STUB = 'raise NotImplementedError("{name}: your code here")'


class MarkerError(ValueError):
    """The solution markers are unbalanced or nested."""


def make_starter(source: str) -> str:
    """Return `source` with each marked solution region replaced by a stub."""
    out: list[str] = []
    inside = False
    function = "this function"
    for number, line in enumerate(source.splitlines(), start=1):
        match = re.match(r"^\s*def\s+(\w+)", line)
        if match and not inside:
            function = match.group(1)
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise MarkerError(f"line {number}: BEGIN SOLUTION inside another solution region")
            inside = True
            out.append(begin.group(1) + "# TODO: implement this function.")
            out.append(begin.group(1) + STUB.format(name=function))
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
