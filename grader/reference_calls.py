"""The reference answering calls in the judge's own process, as a correct
submission's worker would: for recording example banks and for checks that
want the reference's answer to a driver (`Context.expected`).

The reference is the course's trusted code; drivers (harness.py) run here with
a kit around it, exactly as they run in the worker with a kit around the
student's code, and every answer goes through the same encoding as a worker's
reply, so the judge compares like with like.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from .lazy import imported
from .sandbox import protocol
from .sandbox.kit import Kit, load_drivers, top_names
from .sandbox.outcomes import CallOutcome
from .sandbox.values import decode_value
from .spec import Assignment

_DRIVERS: dict[tuple[str, int], dict[str, Callable]] = {}


def reference_drivers(assignment: Assignment, reference: ModuleType) -> dict[str, Callable]:
    """The assignment's drivers bound to a kit around `reference` (loaded once per
    reference module); {} when the assignment has no harness."""
    if assignment.harness is None:
        return {}
    # the module itself, not a stand-in (grader.lazy): a kit edits its names through its
    # __dict__ (Kit.substituted), and a package's folder must be on sys.path for its tops
    reference = imported(reference)
    key = (str(assignment.harness), id(reference))
    if key not in _DRIVERS:
        kit = Kit(reference, str(assignment.reference) + ("/" if assignment.package else ""),
                  library=assignment.library,
                  tops=top_names(assignment.student_files) if assignment.package else None,
                  data_files={name: str(path) for name, path in assignment.data_files().items()})
        drivers = load_drivers(str(assignment.harness), f"gradecheck_harness_{assignment.name}")
        _DRIVERS[key] = {name: _bound(driver, kit) for name, driver in drivers.items()}
    return _DRIVERS[key]


def _bound(driver: Callable, kit: Kit) -> Callable:
    return lambda *args: driver(kit, *args)


class ReferenceCalls:
    """Stands in for a sandbox when recording: answers calls from the reference, in
    this process, in the form the sandbox would return a correct submission's answers.
    Drivers run here too, with a kit around the reference (`drivers`, from
    grader.checks.reference_drivers)."""

    def __init__(self, reference: ModuleType, library: str, drivers: dict[str, Callable] | None = None,
                 homes: dict[str, str] | None = None):
        self.reference = reference
        self.library = library
        self.drivers = drivers or {}
        self.homes = homes or {}  # a package's functions: name -> defining module
        self.last_call_seconds = 0.0

    @classmethod
    def of(cls, assignment: Assignment, reference: ModuleType) -> "ReferenceCalls":
        """The reference's calls for `assignment`: its functions, drivers and modules."""
        return cls(reference, assignment.library, reference_drivers(assignment, reference),
                   assignment.homes if assignment.package else None)

    def _function(self, name: str) -> Callable:
        if name in self.homes:
            imported(self.reference)  # a package reference puts its folder on sys.path first
            return getattr(importlib.import_module(self.homes[name]), name)
        return getattr(self.reference, name)

    def call(self, function: str, *args: Any, timeout: float | None = None, driver: bool = False,
             budget: float | None = None) -> CallOutcome:
        """Call the reference's `function` (or the driver `function`) on copies of `args`."""
        try:
            target = self.drivers[function] if driver else self._function(function)
            value = target(*[self._argument(a) for a in args])
            return CallOutcome("ok", value=decode_value(self._wire(value)))
        except Exception as exc:
            return CallOutcome("exception", message=f"{type(exc).__name__}: {exc}")

    def call_many(self, function: str, arg_sets: Any, *, timeout: float | None = None, driver: bool = False,
                  budget: float | None = None) -> CallOutcome:
        """`call` once per argument list; the value is the list of results."""
        values = []
        for args in arg_sets:
            outcome = self.call(function, *args, driver=driver)
            if not outcome.ok:
                return outcome
            values.append(outcome.value)
        return CallOutcome("ok", value=values)

    def _argument(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            if self.library == "torch":
                import torch

                return torch.from_numpy(value.copy())
            return value.copy()
        if isinstance(value, tuple):
            return tuple(self._argument(v) for v in value)
        return value.item() if isinstance(value, np.generic) else value

    def _wire(self, value: Any) -> Any:
        if hasattr(value, "detach") and hasattr(value, "numpy"):
            return protocol.encode_array(value.detach().cpu().numpy(), "torch")
        if isinstance(value, (np.ndarray, np.generic)):
            return protocol.encode_array(np.asarray(value), "numpy")
        if isinstance(value, (tuple, list)):
            return {"t": type(value).__name__, "items": [self._wire(v) for v in value]}
        return value


