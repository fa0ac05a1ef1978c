"""What drivers (an assignment's harness.py) work with, in the worker and in the judge.

A driver is a public function of harness.py whose first parameter is `kit`.
In the worker, its kit wraps the student's module; in the judge (to compute
the reference's answer, or to record examples) the same driver runs with a kit
around the reference. This file is copied into the worker's runtime folder
beside worker.py and imports nothing of the grader.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import os
import sys
import types
from typing import Any, Callable, Iterator

import numpy as np


class StudentNameMissing(Exception):
    """A driver asked for a name the student's code does not define."""

    def __init__(self, name: str):
        super().__init__(f"your code does not define {name}")
        self.name = name


class StudentNamespace:
    """The student's module as a driver sees it: names resolved when first used, so
    a missing class costs only the checks whose drivers need it."""

    def __init__(self, module: Any):
        object.__setattr__(self, "_module", module)

    def __getattr__(self, name: str) -> Any:
        module = object.__getattribute__(self, "_module")
        try:
            value = getattr(module, name)
        except AttributeError:
            value = _submodule(module, name)  # a package's module not imported yet
        # a package's modules are namespaces too: kit.student.nn.functional.ReLU
        return StudentNamespace(value) if isinstance(value, types.ModuleType) else value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the student's namespace is read-only to drivers")


def _submodule(package: Any, name: str) -> Any:
    """Import `package.name` (student code runs); StudentNameMissing if there is none."""
    if not hasattr(package, "__path__"):
        raise StudentNameMissing(name)
    return _student_module(f"{getattr(package, '__name__', '?')}.{name}")


def _student_module(full: str) -> Any:
    """Import the student's module `full`; StudentNameMissing if it does not exist (an
    import error inside it is the student's, and propagates)."""
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name == full:
            raise StudentNameMissing(full) from None
        raise


class PackageRoot:
    """The top of a package handin, for `kit.student`: each top-level package or
    module the spec names (mytorch, hw1, train...) is imported on first use."""

    def __init__(self, tops: list[str]):
        self._tops = list(tops)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._tops:
            raise AttributeError(name)
        return _student_module(name)


def top_names(student_files: list[str] | tuple[str, ...]) -> list[str]:
    """The importable top-level names of a handin's entries (mytorch/ -> mytorch, train.py -> train)."""
    return [entry.rstrip("/").split("/")[0].removesuffix(".py") for entry in student_files]


class Kit:
    """What a driver receives first: the student's names (`student`: their module, or
    for a package handin the handin's top-level packages and modules), the path to
    recognise their code by (`student_file`: a folder ending in a separator for a
    package), and the staged data fixtures (`data`)."""

    Missing = StudentNameMissing

    def __init__(self, module: Any, student_file: str, data_dir: str = "", library: str = "numpy",
                 data_files: dict[str, str] | None = None, tops: list[str] | None = None,
                 report: Callable[[str], None] | None = None):
        # a package handin: kit.student.mytorch.tensor.Tensor, kit.student.hw1.mnist.mnist
        self.student = StudentNamespace(PackageRoot(tops) if tops else module)
        self._module = module
        self.student_file = student_file
        self.library = library
        self._data_dir = data_dir
        self._data_files = dict(data_files or {})
        self._data: dict[str, dict] = {}
        self._report = report

    def progress(self, text: str) -> None:
        """Say how far a long call got ("epoch 3 of 10"): should the call run out of
        time, the student's message ends with the last thing said."""
        if self._report is not None:
            self._report(str(text)[:500])

    @contextlib.contextmanager
    def substituted(self, values: dict[str, Any], module: str = "") -> Iterator[None]:
        """Within the block, the student's module (or, in a package handin, its module
        `module`, e.g. "hw1.mnist") has the names in `values` bound to the given
        objects, so code of theirs that calls those names gets the grader's own (a
        training loop judged apart from the functions it calls). Names are restored,
        or removed if the student had none, when the block ends."""
        target = _student_module(module) if module else self._module
        if target is None:
            raise ValueError("a package handin's substitution must name the module")
        missing = object()
        saved = {name: target.__dict__.get(name, missing) for name in values}
        for name, value in values.items():
            setattr(target, name, value)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is missing:
                    target.__dict__.pop(name, None)
                else:
                    setattr(target, name, value)

    def data(self, name: str) -> dict:
        """The arrays of the data fixture `name`, as a fresh dict of read-only arrays."""
        if name not in self._data:
            path = self._data_files.get(name) or (
                os.path.join(self._data_dir, f"{name}.npz") if self._data_dir and name.isidentifier() else "")
            if not path or not os.path.isfile(path):
                raise KeyError(f"no data fixture named {name!r} is staged")
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
            for array in arrays.values():
                array.flags.writeable = False
            self._data[name] = arrays
        return dict(self._data[name])


def load_drivers(harness_file: str, module_name: str = "gradecheck_harness") -> dict[str, Callable]:
    """Import harness.py under `module_name`; return its drivers by name."""
    spec = importlib.util.spec_from_file_location(module_name, harness_file)
    harness = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = harness
    spec.loader.exec_module(harness)
    drivers = {}
    for name, value in list(vars(harness).items()):
        if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == module_name:
            if list(inspect.signature(value).parameters)[:1] == ["kit"]:
                drivers[name] = value
    return drivers
