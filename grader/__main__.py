"""python -m grader: see grader.cli."""

import atexit
import importlib.util
import os
import sys

# what every command needs: module -> the package that provides it
NEEDED = {"numpy": "numpy", "yaml": "pyyaml", "hypothesis": "hypothesis", "nbformat": "nbformat"}
missing = [package for module, package in NEEDED.items() if importlib.util.find_spec(module) is None]
if missing:
    print(f"gradecheck needs Python packages this Python ({sys.executable}) does not have: "
          f"{', '.join(missing)}.\nFrom the project's folder, `make venv` sets up .venv with all of them "
          "(then run .venv/bin/python -m grader ...); or install the project into this Python with "
          "`python -m pip install -e .`.", file=sys.stderr)
    raise SystemExit(2)

from .cli import main  # noqa: E402 - after the check, so a missing package is named, not traced

code = main()
# The work is done and written. Skip the interpreter's teardown, which with
# torch loaded costs about a third of a second per run, but first flush the
# streams and run the exit handlers (they stop the zygote).
for stream in (sys.stdout, sys.stderr):
    try:
        if stream is not None:
            stream.flush()
    except (OSError, ValueError):
        code = code or 1
atexit._run_exitfuncs()
os._exit(code)
