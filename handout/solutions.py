"""Put the reference's solutions back into starter stubs (for tests and staff checks).

`fill_stubs` replaces each stub that grader.starter.make_starter wrote (the
TODO comment and the NotImplementedError line naming its function, a method
qualified by its class) with that function's solution region from the
reference, at the stub's indentation. It works on a starter file and on the
code of a notebook cell alike.
"""

from __future__ import annotations

import re
import textwrap

from grader.starter import solution_regions as _regions

STUB = re.compile(r'^(?P<indent>[ \t]*)# TODO: implement this function\.\n'
                  r'[ \t]*raise NotImplementedError\("(?P<name>[\w.]+): your code here"\)[ \t]*$',
                  re.MULTILINE)


def solution_regions(reference: str) -> dict[str, str]:
    """Each function's solution region (markers excluded, dedented), by qualified name."""
    return {name: textwrap.dedent("\n".join(lines)).strip("\n")
            for name, lines in _regions(reference).items()}


def fill_stubs(text: str, reference: str, *, only: set[str] | None = None) -> str:
    """`text` with every stub (or those of the functions in `only`) filled from `reference`.

    `only` names functions as the stubs do (a method as Class.method) or by their
    top-level name (a class name fills all of its methods).
    """
    regions = solution_regions(reference)

    def fill(match: re.Match) -> str:
        name = match.group("name")
        if only is not None and name not in only and name.split(".")[0] not in only or name not in regions:
            return match.group(0)
        return textwrap.indent(regions[name], match.group("indent"))

    return STUB.sub(fill, text)
