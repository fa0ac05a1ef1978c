"""Read a student's notebook into Python source the worker can import.

IPython syntax is dropped first: line magics (``%load_ext``), shell escapes
(``!pip install``, ``files = !ls``), help (``obj?``) and cell magics that are
not Python (``%%bash``, ``%%writefile``); ``%%time``, ``%%timeit`` and
``%%capture`` cells keep their Python.

By default only what defines things is kept: imports, function and class
definitions, and assignments whose value is cheap (literals, numpy, torch
and math calls), each import and assignment guarded so that a missing file
or package does not sink the import. Training loops, plots and downloads do
not run. With ``notebook: {run: all}`` in assignment.yaml every code cell
runs in order, a failing cell reported in the output without stopping the
others. A cell that is not valid Python is left out with a note, and so is a
cell Python cannot parse at all (nested too deeply, too large, a NUL byte).
A notebook over MAX_NOTEBOOK_BYTES is refused before it is read.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat

from .errors import SubmissionError
from .text import clean_name

MAX_NOTEBOOK_BYTES = 20 * 2**20
# What ast.parse (or a walk over its tree) raises for a cell it cannot take
# besides SyntaxError: RecursionError or MemoryError for deep nesting, ValueError
# for a NUL byte (before Python 3.12).
UNPARSABLE = (RecursionError, MemoryError, ValueError)
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
IPYTHON_LINE = re.compile(r"^\s*(%|!|\?)|^\s*[\w.\[\], ]+=\s*[%!]|^\s*[\w.]+\?\??\s*(#.*)?$")
SAFE_MODULES = ("numpy", "torch", "math")
SAFE_BUILTINS = {
    "abs", "all", "any", "bool", "complex", "dict", "divmod", "enumerate", "float", "frozenset",
    "int", "len", "list", "max", "min", "pow", "range", "reversed", "round", "set", "slice",
    "sorted", "str", "sum", "tuple", "zip",
}
# Numpy/torch attributes that read or write files, download or start processes.
UNSAFE_ATTRIBUTES = {
    "load", "save", "hub", "download", "fromfile", "tofile", "loadtxt", "savetxt", "genfromtxt",
    "memmap", "open", "datasets", "DataLoader", "compile", "distributed", "multiprocessing",
    "from_file", "testing", "show_config",
}


def _read(path: Path) -> list[dict]:
    """The notebook's cells as dicts; SubmissionError saying clearly what is wrong."""
    name = clean_name(path.name)
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{name} is {size / 2**20:.1f} MB, more than the {MAX_NOTEBOOK_BYTES // 2**20} MB "
                              "a notebook may be; clear its outputs (Kernel > Restart & Clear Output), "
                              "save it and submit it again")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(f"{name} is not a Jupyter notebook: it is not text "
                              "(download it from Jupyter with File > Download as .ipynb)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"{name} is not a readable Jupyter notebook: it is not valid JSON "
                              f"({exc.msg} at line {exc.lineno}, column {exc.colno}); was it saved "
                              "completely? Download it again from Jupyter (File > Download).") from None
    except (RecursionError, MemoryError):
        raise SubmissionError(f"{name} is not a readable Jupyter notebook: its JSON is nested too deeply "
                              "to read; download it again from Jupyter (File > Download).") from None
    except ValueError as exc:  # e.g. an integer literal too long to convert
        raise SubmissionError(f"{name} is not a readable Jupyter notebook ({clean_name(exc, 200)}); "
                              "download it again from Jupyter (File > Download).") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        raise SubmissionError(f"{name} is JSON but not a Jupyter notebook (it has no cells)")
    try:
        return [dict(cell) for cell in nbformat.reads(text, as_version=4).cells]
    except Exception:  # noqa: BLE001 - nbformat raises many types; fall back to a lenient read
        cells = data.get("cells")
        if not isinstance(cells, list):
            raise SubmissionError(f"{name} is an old or damaged notebook that could not be read; "
                                  "open it in Jupyter and save it again") from None
        return [c for c in cells if isinstance(c, dict)]


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):  # a damaged notebook read leniently may hold anything here
        return "".join(line for line in source if isinstance(line, str))
    return source if isinstance(source, str) else ""


def strip_ipython(source: str) -> tuple[str | None, int]:
    """Python of one code cell without IPython syntax: (source or None if dropped, lines dropped)."""
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in PYTHON_CELL_MAGICS:
            return None, len(lines)
        lines, dropped = lines[first + 1:], 1
        source = "\n".join(lines)
    else:
        dropped = 0
    try:
        ast.parse(source)
        return source, dropped  # plain Python: leave even its strings alone
    except SyntaxError:
        pass  # perhaps IPython syntax: drop it below (what Python cannot parse at all propagates)
    kept = []
    for line in lines:
        if IPYTHON_LINE.match(line):
            indent = line[: len(line) - len(line.lstrip())]
            kept.append(f"{indent}pass  # IPython syntax dropped by the grader")
            dropped += 1
        else:
            kept.append(line)
    return "\n".join(kept), dropped


def _safe_roots(tree: ast.Module, roots: set[str]) -> None:
    """Add the names that imports of numpy, torch and math bind."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in SAFE_MODULES:
                    roots.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] in SAFE_MODULES:
            roots.update(alias.asname or alias.name for alias in node.names if alias.name != "*")


def _cheap(node: ast.AST | None, roots: set[str]) -> bool:
    """Whether evaluating an expression cannot train, plot, download or touch files."""
    if node is None or isinstance(node, (ast.Constant, ast.Name, ast.Lambda)):
        return True
    if isinstance(node, ast.Attribute):
        return node.attr not in UNSAFE_ATTRIBUTES and _cheap(node.value, roots)
    if isinstance(node, ast.Call):
        callee = node.func
        if isinstance(callee, ast.Name):
            allowed = callee.id in SAFE_BUILTINS or callee.id in roots
        else:
            root = callee
            while isinstance(root, ast.Attribute):
                root = root.value
            allowed = isinstance(root, ast.Name) and root.id in roots and _cheap(callee, roots)
        arguments = [*node.args, *(k.value for k in node.keywords)]
        return allowed and all(k.arg != "download" for k in node.keywords) and all(
            _cheap(a, roots) for a in arguments)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_cheap(e, roots) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(_cheap(e, roots) for e in [*node.keys, *node.values])
    if isinstance(node, (ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Subscript,
                         ast.Slice, ast.Starred, ast.JoinedStr, ast.FormattedValue)):
        return all(_cheap(child, roots) for child in ast.iter_child_nodes(node)
                   if isinstance(child, ast.expr))
    return False


def _defines(node: ast.stmt, roots: set[str]) -> bool:
    """Whether a top-level statement only defines things."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef, ast.Pass)):
        return True
    if isinstance(node, ast.Assign):
        return _cheap(node.value, roots)
    if isinstance(node, ast.AnnAssign):
        return _cheap(node.value, roots)
    if isinstance(node, ast.Try):
        body = [*node.body, *node.orelse, *node.finalbody, *(s for h in node.handlers for s in h.body)]
        return all(_defines(s, roots) for s in body)
    if isinstance(node, ast.If):
        return _cheap(node.test, roots) and all(_defines(s, roots) for s in [*node.body, *node.orelse])
    return False


def _definitions_only(source: str, roots: set[str]) -> tuple[str, int]:
    """Keep the defining statements of a cell, guarded; return (source, statements left out)."""
    tree = ast.parse(source)
    _safe_roots(tree, roots)
    lines = source.splitlines()
    parts, skipped = [], 0
    for node in tree.body:
        if isinstance(node, ast.Pass):  # what is left of a dropped magic
            continue
        try:
            defines = _defines(node, roots)
        except RecursionError:  # an expression too deep to judge: it does not run
            defines = False
        if not defines:
            skipped += 1
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.Try)):
            start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
            segment = "\n".join(lines[start - 1: node.end_lineno])
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                    and not node.decorator_list:
                parts.append(segment)
                continue
        else:
            segment = ast.get_source_segment(source, node) or ""
        body = "\n".join("    " + line for line in segment.splitlines())
        parts.append(f"try:\n{body}\nexcept Exception:\n    pass")
    return "\n\n".join(parts), skipped


def _run_all(cells: list[tuple[int, str]]) -> str:
    """A module that runs every cell in order, reporting a failing cell and going on."""
    listing = ",\n    ".join(f"({index}, {source!r})" for index, source in cells)
    return (
        "# Generated by gradecheck: every code cell of the notebook runs in order.\n"
        "import sys as _gradecheck_sys\n\n"
        f"_gradecheck_cells = [\n    {listing},\n]\n"
        "for _gradecheck_index, _gradecheck_source in _gradecheck_cells:\n"
        "    try:\n"
        "        exec(compile(_gradecheck_source, f'{__file__}:cell{_gradecheck_index}', 'exec'), globals())\n"
        "    except (Exception, SystemExit) as _gradecheck_error:\n"
        "        print(f'notebook cell {_gradecheck_index} raised {type(_gradecheck_error).__name__}: '\n"
        "              f'{_gradecheck_error}', file=_gradecheck_sys.stderr)\n"
        "del _gradecheck_cells, _gradecheck_index, _gradecheck_source, _gradecheck_sys\n"
    )


def _unparsable(exc: BaseException) -> str:
    """Why Python could not parse a cell, in words a student can act on."""
    if isinstance(exc, ValueError):
        return f"Python cannot parse it ({clean_name(exc, 120)}); remove the stray character"
    return ("it is too deeply nested (or too large) for Python to parse; split the deeply nested "
            "expression into several statements")


def notebook_to_source(path: Path, *, run_all: bool = False) -> tuple[str, list[str]]:
    """Return (python source, notes for the report); SubmissionError if unreadable."""
    cells = [c for c in _read(path) if c.get("cell_type") == "code"]
    notes: list[str] = []
    kept: list[tuple[int, str]] = []
    roots: set[str] = set()
    ipython = skipped = 0
    name = clean_name(path.name)
    for number, cell in enumerate(cells, start=1):
        try:
            source, dropped = strip_ipython(_cell_source(cell))
            ipython += dropped
            if source is None:
                continue
            if run_all:
                ast.parse(source)
                kept.append((number, source))
                continue
            defined, left_out = _definitions_only(source, roots)
        except SyntaxError as exc:
            notes.append(f"code cell {number} of {name} is not valid Python and was left out: "
                         f"{clean_name(exc.msg, 200)} (line {exc.lineno} of the cell: "
                         f"{clean_name(exc.text or '', 80)})")
            continue
        except UNPARSABLE as exc:
            notes.append(f"code cell {number} of {name} was left out: {_unparsable(exc)}")
            continue
        skipped += left_out
        if defined:
            kept.append((number, f"# code cell {number}\n{defined}"))
    if ipython:
        notes.append(f"{ipython} line(s) of IPython magics or shell commands in {name} were "
                     "not run")
    if skipped:
        notes.append(f"{skipped} statement(s) of {name} that define nothing (loops, plots, "
                     "training, downloads) were not run during grading; a graded function must "
                     "not rely on values they compute")
    if run_all:
        return _run_all(kept), notes
    return "\n\n".join(source for _, source in kept) + "\n", notes
