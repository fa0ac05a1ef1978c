"""A module imported on first use: the judge's references (grader.loaded), so that a
grade that never needs one never pays its import (the student-style reference imports
torch)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

_OWN = ("_lazy_name", "_lazy_importer", "_lazy_module")


class LazyModule:
    """Stands in for a module until one of its names is read or set: then imports it, once.
    Reading, setting and deleting names go to the module itself."""

    def __init__(self, name: str, importer: Callable[[], ModuleType]):
        object.__setattr__(self, "_lazy_name", name)
        object.__setattr__(self, "_lazy_importer", importer)
        object.__setattr__(self, "_lazy_module", None)

    def __getattr__(self, name: str) -> Any:
        if name in _OWN:
            raise AttributeError(name)
        return getattr(imported(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(imported(self), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(imported(self), name)

    def __repr__(self) -> str:
        state = "imported" if self._lazy_module is not None else "not imported yet"
        return f"<module {self._lazy_name} ({state})>"


def imported(module: Any) -> Any:
    """The module itself, imported now if `module` stands in for one; anything else as is."""
    if not isinstance(module, LazyModule):
        return module
    if module._lazy_module is None:
        object.__setattr__(module, "_lazy_module", module._lazy_importer())
    return module._lazy_module
