"""Replay the public checks in the student handout, where the reference is absent.

At build time (handout.record) each visible check runs once against the
reference. What hypothesis drew for it and every answer it asked of the
reference are stored as data (recorded.json: arrays as base64 bytes, no
code). In the handout, `install` gives each public check its own sources
(grader.checks.RegisteredCheck.sources): its for_all calls replay the recorded
examples (an example source, as the engine's banks are), and `ctx.reference`
and `ctx.expected` (the reference's answer to a function or a harness driver)
answer from the recording. Everything else is the engine's: student code runs
in the sandbox (drivers of the shipped harness.py included, `ctx.call_many`
too), the check's own judgement and messages apply, scoring is the same.

Shipped as gradecheck_local/replay.py: imports numpy, the engine and, for a
torch assignment's recording only, torch; nothing from handout/.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis.errors import UnsatisfiedAssumption

from grader import codec
from grader.checks import RegisteredCheck, Registry, ReplayingExamples

FORMAT = 1
# How far a call's inputs may drift (relative, on sums) from the recorded ones
# and still get the recorded answer: judge-side numpy (exp, log) may differ in
# the last bit between machines, which changes digests but not answers.
DRIFT = 1e-6


class ReplayMiss(Exception):
    """The check asked for something the recording does not hold."""


# -- values <-> JSON -------------------------------------------------------------
# The engine's codec (grader.codec, shared with the example banks) writes the recorded
# values (handout.record) and reads them back; only the seeded Randoms that stand in for
# hypothesis's ({"t": "random", "seed": N}) are the handout's own.

def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def decode(obj: Any) -> Any:
    """A recorded value: what grader.codec.encode described (tensors back as torch
    tensors), or the seeded random.Random recorded in place of hypothesis's."""
    if isinstance(obj, dict) and obj.get("t") == "random":
        seed = obj.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"a recorded random.Random without an integer seed: {seed!r}")
        return random.Random(seed)
    return codec.decode(obj, tensors=True)


# -- call keys ----------------------------------------------------------------------

def _leaves(value: Any):
    if _is_tensor(value):
        value = value.detach().cpu().numpy()
    if isinstance(value, (tuple, list)):
        yield ("(", len(value))
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for key in sorted(value):
            yield ("k", key)
            yield from _leaves(value[key])
    else:
        yield value


def digest(function: str, args: tuple, kwargs: dict) -> str:
    """A hash of a reference call: function name and the exact bytes of its inputs."""
    h = hashlib.sha256(function.encode())
    for leaf in _leaves((args, kwargs)):
        if isinstance(leaf, np.ndarray):
            array = np.ascontiguousarray(leaf)
            h.update(f"|a{array.dtype.str}{array.shape}".encode())
            h.update(array.tobytes())
        else:
            h.update(f"|{type(leaf).__name__}:{leaf!r}".encode())
    return h.hexdigest()


def fingerprint(args: tuple, kwargs: dict) -> list:
    """A short summary of a call's inputs, to recognise nearly identical inputs."""
    out = []
    for leaf in _leaves((args, kwargs)):
        if isinstance(leaf, np.ndarray):
            x = leaf.astype(np.float64) if leaf.dtype.kind in "fiub" else leaf
            out.append(["a", leaf.dtype.str, list(leaf.shape), float(np.sum(x)),
                        float(np.sum(np.abs(x))), float(np.sum(x * x))])
        else:
            out.append(["s", f"{type(leaf).__name__}:{leaf!r}"])
    return out


def _near(recorded: list, now: list) -> bool:
    if len(recorded) != len(now):
        return False
    for a, b in zip(recorded, now, strict=True):
        if a[:3] != b[:3] or a[0] == "s":
            if a != b:
                return False
            continue
        total, absolute, squares = a[3:]
        if not (abs(total - b[3]) <= DRIFT * (absolute + 1e-300)
                and abs(absolute - b[4]) <= DRIFT * (absolute + 1e-300)
                and abs(squares - b[5]) <= DRIFT * (squares + 1e-300)):
            return False
    return True


# -- replay -------------------------------------------------------------------------

# How a call of ctx.expected(function, ...) is named among the recorded calls.
EXPECTED = "expected:"


class RecordedReference:
    """Stands in for the reference module: answers the calls recorded for one check
    (`expected` answers those of ctx.expected, in the same sequence)."""

    def __init__(self, check: str, record: dict):
        self._check = check
        self._answers = record["answers"]
        self._calls = record["calls"]
        self._position = 0

    def __getattr__(self, name: str) -> Callable:
        if name.startswith("__"):
            raise AttributeError(name)
        return functools.partial(self._answer, name)

    def expected(self, function: str, *args: Any) -> Any:
        """What ctx.expected(function, *args) answered when the check was recorded."""
        return self._answer(EXPECTED + function, *args)

    def _answer(self, name: str, *args: Any, **kwargs: Any) -> Any:
        position, self._position = self._position, self._position + 1
        key = digest(name, args, kwargs)
        if key in self._answers:
            return decode(self._answers[key])
        if position < len(self._calls):
            function, recorded_key, recorded_print = self._calls[position]
            if function == name and _near(recorded_print, fingerprint(args, kwargs)):
                return decode(self._answers[recorded_key])
        shown = name[len(EXPECTED):] if name.startswith(EXPECTED) else name
        raise ReplayMiss(f"the handout holds no recorded answer of the reference's {shown}() for "
                         f"this input (call {position + 1} of check {self._check}); the grader "
                         "that scores your handin will judge it")


def replayed_examples(check: str, recorded: list[list[list]]) -> ReplayingExamples:
    """The example source of a check in the handout: each for_all runs on its recorded
    examples, decoded, and only those (no hypothesis: the reference's answers to anything
    else are not in the handout)."""

    def examples(name: str, index: int, signature: str) -> list[list]:
        if index >= len(recorded):
            raise ReplayMiss(f"check {check} draws more examples than were recorded")
        return [[decode(arg) for arg in example] for example in recorded[index]]

    return ReplayingExamples(examples, fallback=False)


def sources(name: str, record: dict) -> Callable[[], dict[str, Any]]:
    """What a check runs with in the handout, made fresh for each run: the recorded
    reference, its recorded answers to ctx.expected, and the recorded examples."""

    def make() -> dict[str, Any]:
        recorded = RecordedReference(name, record)
        return {"reference": recorded, "answers": recorded.expected,
                "examples": replayed_examples(name, record["examples"])}

    return make


def load_recording(path: Path) -> dict:
    """Read recorded.json; ValueError if it is not a recording this module can replay."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: recording format {data.get('format')!r}, expected {FORMAT}")
    return data


def install(registry: Registry, path: Path) -> None:
    """Make every check of `registry` replay its recording from `path` (recorded.json)."""
    checks = load_recording(path)["checks"]
    for name, registered in list(registry.checks.items()):
        if name not in checks:
            raise ValueError(f"{path}: no recording for check {name!r}")
        registry.checks[name] = RegisteredCheck(name, registered.calls, registered.function,
                                                sources=sources(name, checks[name]))
