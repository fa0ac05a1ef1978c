"""An assignment ready to grade: its spec, checks, reference and harness, loaded and
cross-checked once per process, and the example bank that goes with them.

Every command that grades (grade, grade-all, validate, examples, the handout's
recording) starts from `load`, so they cannot disagree on what was loaded.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from . import spec as spec_module
from .checks import RegisteredCheck, import_reference, load_registry
from .examples import ExampleBank, bank_for
from .reference_calls import ReferenceCalls
from .spec import Assignment


@dataclass(frozen=True)
class LoadedAssignment:
    """The spec with its checks registry, its reference module and the reference's calls."""

    spec: Assignment
    registry: dict[str, RegisteredCheck]
    reference: ModuleType

    def bank(self, salt: str = "") -> ExampleBank | None:
        """The example bank for this course secret's salt (recorded on first use; None when off)."""
        return bank_for(self.spec, self.registry, self.reference, salt)

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
        _LOADED[key] = LoadedAssignment(spec, load_registry(spec), import_reference(spec))
        _one_thread_for_torch()
    return _LOADED[key]


def _one_thread_for_torch() -> None:
    """The judge's tensor work is small (reference answers, numerical gradients): with
    torch's default thread pool its idle threads spin on the cores the student's worker
    needs, for a tenth of a second's CPU a grade."""
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_num_threads"):
        torch.set_num_threads(1)
