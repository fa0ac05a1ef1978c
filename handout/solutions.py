"""Put the reference's solutions back into starter stubs (for tests and staff checks).

`fill_stubs` replaces each stub that handout.starter.make_starter wrote (the
TODO comment and the NotImplementedError line naming its function) with that
function's solution region from the reference, at the stub's indentation.
It works on a starter file and on the code of a notebook cell alike.
"""

from __future__ import annotations

import re
import textwrap

from .starter import BEGIN, END

STUB = re.compile(r'^(?P<indent>[ \t]*)# TODO: implement this function\.\n'
                  r'[ \t]*raise NotImplementedError\("(?P<name>\w+): your code here"\)[ \t]*$',
                  re.MULTILINE)


def solution_regions(reference: str) -> dict[str, str]:
    """Each function's solution region (markers excluded, dedented), by function name."""
    regions: dict[str, list[str]] = {}
    function, inside = None, False
    for line in reference.splitlines():
        match = re.match(r"^\s*def\s+(\w+)", line)
        if match and not inside:
            function = match.group(1)
        if BEGIN.match(line):
            inside = True
            regions.setdefault(function or "", [])
        elif END.match(line):
            inside = False
        elif inside:
            regions[function or ""].append(line)
    return {name: textwrap.dedent("\n".join(lines)).strip("\n") for name, lines in regions.items()}


def fill_stubs(text: str, reference: str, *, only: set[str] | None = None) -> str:
    """`text` with every stub (or those of the functions in `only`) filled from `reference`."""
    regions = solution_regions(reference)

    def fill(match: re.Match) -> str:
        name = match.group("name")
        if only is not None and name not in only or name not in regions:
            return match.group(0)
        return textwrap.indent(regions[name], match.group("indent"))

    return STUB.sub(fill, text)
