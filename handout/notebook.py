"""Build the student notebook with nbformat from a plan and the starter.

A plan (handout/notebooks/NAME.py, a list ``CELLS``) interleaves markdown,
code of our own, ``("imports", more)`` (the starter's imports and more), and
``("functions", [...])`` cells that take the student functions (and classes),
stubs and docstrings included, from the starter file. Every
student function of the spec must appear in exactly one such cell. An
assignment without a plan gets a plain notebook: one cell per function and
the cell that runs the local grader. A plan may also hold ``README``, a
paragraph for the handout's README (what data its experiments use, say).

The result is deterministic (fixed cell ids) and passes nbformat.validate.
"""

from __future__ import annotations

import ast
import importlib

import nbformat

from grader.spec import Assignment

from .record import BuildError

GRADE_CELL = '''import os
import subprocess
import sys

if __name__ == "__main__":  # in Jupyter only; never while a grader reads this notebook
    os.environ.setdefault("GRADECHECK_PYTHON", sys.executable)
    result = subprocess.run(["bash", "grade.sh", "@@NOTEBOOK@@"], capture_output=True, text=True)
    print(result.stdout + result.stderr)'''


def starter_functions(starter: str) -> tuple[list[str], dict[str, str]]:
    """The starter's import lines and each top-level function's (or class's) source, by name."""
    tree = ast.parse(starter)
    lines = starter.splitlines()
    imports = [ast.get_source_segment(starter, n) for n in tree.body
               if isinstance(n, (ast.Import, ast.ImportFrom))]
    functions = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            functions[node.name] = "\n".join(lines[start - 1: node.end_lineno])
    return imports, functions


def default_plan(assignment: Assignment) -> list[tuple]:
    """One markdown title, the imports, one cell per function, the grader cell."""
    return [
        ("markdown", (f"# {assignment.title}\n\nImplement each function below, then run the "
                      "last cell to check your work with the public checks.")),
        ("imports",),
        *[("functions", [name]) for name in assignment.functions],
        ("markdown", "## Check your work\n\nSave the notebook first: the grader reads the file."),
        ("grade",),
    ]


def _plan_module(assignment: Assignment):
    """handout/notebooks/NAME.py, or None when the assignment has no plan of its own."""
    try:
        return importlib.import_module(f"{__package__}.notebooks.{assignment.name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.notebooks.{assignment.name}":
            raise
        return None


def plan_for(assignment: Assignment) -> list[tuple]:
    """The assignment's notebook plan, or the default one."""
    module = _plan_module(assignment)
    return default_plan(assignment) if module is None else list(module.CELLS)


def readme_notes(assignment: Assignment) -> str:
    """The plan's paragraph for the handout README ("" when there is none)."""
    module = _plan_module(assignment)
    return str(getattr(module, "README", "")) if module is not None else ""


def build_notebook(assignment: Assignment, starter: str) -> str:
    """The notebook's JSON text; BuildError if the plan and the spec disagree."""
    imports, functions = starter_functions(starter)
    notebook_name = assignment.student_file[:-3] + ".ipynb"
    placed: list[str] = []
    cells = []
    for item in plan_for(assignment):
        kind = item[0]
        if kind == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(item[1].strip()))
            continue
        if kind == "code":
            source = item[1].strip()
        elif kind == "imports":  # the plan's own imports, then the starter's
            more = item[1].strip() if len(item) > 1 else ""
            source = "\n".join([more] + [i for i in imports if i not in more.splitlines()]).strip()
        elif kind == "grade":
            source = GRADE_CELL.replace("@@NOTEBOOK@@", notebook_name)
        elif kind == "functions":
            missing = [name for name in item[1] if name not in functions]
            if missing:
                raise BuildError(f"the notebook plan names {', '.join(missing)}, which the starter "
                                 "does not define")
            placed += item[1]
            source = "\n\n\n".join(functions[name] for name in item[1])
        else:
            raise BuildError(f"unknown notebook plan cell kind {kind!r}")
        cells.append(nbformat.v4.new_code_cell(source))
    unplaced = [f for f in assignment.functions if f not in placed]
    twice = sorted({f for f in placed if placed.count(f) > 1})
    if unplaced or twice:
        raise BuildError("the notebook plan must place every student function once (missing: "
                         f"{', '.join(unplaced) or 'none'}; twice: {', '.join(twice) or 'none'})")
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index:02d}"
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"
