"""An assignment ready to grade: its spec, checks, reference and harness, loaded and
cross-checked once per process, and the example bank that goes with them.

Every command that grades (grade, grade-all, validate, examples, the handout's
recording) starts from `load`, so they cannot disagree on what was loaded.

The references are imported on first use (grader.lazy): a judge whose checks compare
with float64 formulas (the spec's `judge_reference`) and whose bank is on disk never
imports the student-style reference, nor torch with it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from . import lazy
from . import spec as spec_module
from .checks import RegisteredCheck, import_judge_reference, import_reference, load_registry
from .examples import ExampleBank, bank_for
from .reference_calls import ReferenceCalls
from .spec import Assignment


@dataclass(frozen=True)
class LoadedAssignment:
    """The spec with its checks registry, its reference module and the reference's calls.

    `reference` is the student-style solution (it answers calls for a recording and
    ctx.expected); `judge_reference` is what the checks see as ctx.reference (the
    spec's judge_reference, else the reference itself).
    """

    spec: Assignment
    registry: dict[str, RegisteredCheck]
    reference: Any  # a module, or a grader.lazy.LazyModule standing in for it
    judge_reference: Any

    def bank(self, salt: str = "") -> ExampleBank | None:
        """The example bank for this course secret's salt (recorded on first use; None when off)."""
        return bank_for(self.spec, self.registry, self.reference, salt, judge_reference=self.judge_reference)

    def reference_calls(self) -> ReferenceCalls:
        """The reference answering calls in this process, drivers included."""
        return ReferenceCalls.of(self.spec, self.reference)


_LOADED: dict[tuple, LoadedAssignment] = {}


def load(assignment: Assignment | str | Path) -> LoadedAssignment:
    """Load (once per process and version of its files) the assignment named, or given.

    Raises SpecError naming file and key when spec, checks and reference disagree.
    """
    spec = assignment if isinstance(assignment, Assignment) else spec_module.load(assignment)
    key = (str(spec.folder), tuple((str(p), p.stat().st_mtime_ns) for p in spec.source_files()))
    if key not in _LOADED:
        reference = lazy.LazyModule(spec.reference.name, _on_one_thread(lambda: import_reference(spec)))
        judge = reference
        if spec.judge_reference is not None:
            judge = lazy.LazyModule(spec.judge_reference.name, _on_one_thread(lambda: import_judge_reference(spec)))
        _LOADED[key] = LoadedAssignment(spec, load_registry(spec), reference, judge)
        _one_thread_for_torch()
    return _LOADED[key]


def _on_one_thread(importer: Callable[[], ModuleType]) -> Callable[[], ModuleType]:
    """`importer`, followed by putting the judge's torch on one thread if it brought torch."""
    def importing() -> ModuleType:
        module = importer()
        _one_thread_for_torch()
        return module

    return importing


def _one_thread_for_torch() -> None:
    """The judge's tensor work is small (reference answers, numerical gradients): with
    torch's default thread pool its idle threads spin on the cores the student's worker
    needs, for a tenth of a second's CPU a grade."""
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_num_threads"):
        torch.set_num_threads(1)
