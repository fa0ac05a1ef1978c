"""The starter maker, which lives in the engine (grader.starter): `grader validate`
grades the starter too. Re-exported here for the handout builder and its tests."""

from __future__ import annotations

from grader.starter import BEGIN, END, STUB, MarkerError, make_starter, solution_lines, solution_regions

__all__ = ["BEGIN", "END", "STUB", "MarkerError", "make_starter", "solution_lines", "solution_regions"]
