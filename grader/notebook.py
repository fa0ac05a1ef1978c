"""Read a student's notebook into Python source the worker can import.

IPython magics and shell escapes are dropped. By default only what defines
things is kept (imports, functions, classes, assignments), each assignment
and import guarded so that a missing file or package does not sink the
import; training loops, plots and downloads do not run. With run_all, every
code cell runs in order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from .errors import SubmissionError

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
GUARDED = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)


def _strip_magics(source: str) -> str:
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return ""  # a cell magic such as %%time or %%bash changes the whole cell
    kept = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or stripped.endswith("?") and not stripped.startswith("#"):
            kept.append(line[: len(line) - len(stripped)] + "pass  # IPython magic dropped")
        else:
            kept.append(line)
    return "\n".join(kept)


def _definitions_only(source: str) -> str:
    tree = ast.parse(source)
    parts = []
    for node in tree.body:
        segment = ast.get_source_segment(source, node)
        if segment is None:
            continue
        if isinstance(node, DEFINITIONS):
            start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            segment = "\n".join(source.splitlines()[start - 1: node.end_lineno])
            parts.append(segment)
        elif isinstance(node, GUARDED):
            body = "\n".join("    " + line for line in segment.splitlines())
            parts.append(f"try:\n{body}\nexcept Exception:\n    pass")
    return "\n\n".join(parts)


def notebook_to_source(path: Path, *, run_all: bool = False) -> tuple[str, list[str]]:
    """Return (python source, notes for the report); SubmissionError if unreadable."""
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types
        raise SubmissionError(f"{path.name} is not a readable Jupyter notebook ({type(exc).__name__}: "
                              f"{str(exc)[:200]})") from None
    chunks, notes = [], []
    skipped = 0
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        source = _strip_magics(cell.get("source", ""))
        if run_all:
            chunks.append(f"# cell {index}\n{source}")
            continue
        try:
            kept = _definitions_only(source)
        except SyntaxError as exc:
            # keep it as is: the worker's import reports the syntax error with its line
            notes.append(f"cell {index} has a syntax error: {exc.msg} (line {exc.lineno})")
            chunks.append(f"# cell {index}\n{source}")
            continue
        if kept:
            chunks.append(f"# cell {index}\n{kept}")
        elif source.strip():
            skipped += 1
    if skipped:
        notes.append(f"{skipped} notebook cell(s) without definitions were not run during grading")
    return "\n\n".join(chunks) + "\n", notes
