"""Example banks: what hypothesis draws for each check, recorded once and replayed.

Hypothesis is derandomized here (grader.checks), so the examples it feeds a
check depend only on the check and on how the body fared on the examples
before: a body that passes every example gets the same sequence every time.
A bank holds, for every `ctx.for_all` of every check, the sequence drawn when
the check runs against the reference (which passes everything). Grading a
submission then replays that sequence without running hypothesis's engine;
only when an example fails does the check run hypothesis live, which meets
the same failing example at the same place and shrinks it exactly as before.
The bank also holds the calls each example made, so that a replay can send
them to the worker ahead, in one request (grader.checks.Context).
So replaying changes the cost of grading, never a grade or a message
(tests/test_examples.py grades with and without banks and compares).
How hypothesis then shrank each failure is kept beside the bank as a shrink
trace, which a later submission failing the same way follows instead of
shrinking again (grader.shrinks; `ExampleBank.shrinks`).

A bank is keyed by everything its examples depend on (the checks, the spec,
the reference, the engine's own sources, the Python, hypothesis and numpy
versions). It is kept in memory for the process and in a cache folder
(GRADECHECK_CACHE, else $XDG_CACHE_HOME/gradecheck, else ~/.cache/gradecheck)
as JSON data, never code. GRADECHECK_EXAMPLES=live turns banks off.

A bank on disk is trusted only if this grader's user wrote it: each file
carries an HMAC-SHA256 under the cache folder's private key (grader.signing).
A bank whose MAC does not verify, that is not a private file of ours, or
that does not parse, is ignored: recorded again and replaced, atomically. A
cache folder that is not ours, is writable by others, or whose key is not
private, is neither read nor written (banks are then recorded in memory).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from . import signing
from .checks import (Context, RecordingExamples, RegisteredCheck, ReplayingExamples, Unrecordable, copy_example,
                     import_judge_reference)
from .codec import Unencodable, decode, encode
from .shrinks import ShrinkTraces, plan_from_json, plan_to_json
from .reference_calls import ReferenceCalls
from .sandbox import protocol
from .spec import Assignment

FORMAT = 4
LARGEST = 256 * 2**20  # bytes of a bank file read back (they hold some 100 KB)
ENGINE_SOURCES = [Path(__file__), Path(__file__).with_name("checks.py"), Path(__file__).with_name("shrinks.py")]
_MEMORY: dict[str, "ExampleBank"] = {}


Recorded = list[tuple[str, list[tuple]]]  # per for_all of a check: (signature, examples)
# per for_all of a check: per example, the calls its body made against the reference,
# (function, args) or None where a replay must stop sending ahead; None: nothing planned
Planned = list[list[list] | None]


class ExampleBank(ReplayingExamples):
    """Recorded examples per check: for each of its for_all calls, the strategies'
    signature and the argument tuples in the order hypothesis drew them, and the calls
    each example made. A check mapped to None is always run live. As an example source
    it replays them, and hypothesis takes over at the first example a submission
    fails; a check sends the recorded calls ahead in one request (grader.checks)."""

    def __init__(self, key: str, checks: dict[str, Recorded | None],
                 calls: dict[str, Planned | None] | None = None):
        super().__init__(self.examples, fallback=True)
        # how hypothesis shrank failures met in earlier grades (grader.shrinks); None: live
        self.shrinks: ShrinkTraces | None = None
        self.key = key
        self.checks = checks
        self.calls = calls or {}

    def planned(self, check: str, index: int, signature: str) -> list[list] | None:
        """The calls each recorded example of the `index`-th for_all of `check` made,
        when that for_all is replayed; else None."""
        examples = self.examples(check, index, signature)
        plans = self.calls.get(check)
        if examples is None or plans is None or index >= len(plans):
            return None
        plan = plans[index]
        return plan if plan is not None and len(plan) == len(examples) else None

    def examples(self, check: str, index: int, signature: str) -> list[tuple] | None:
        """The recorded examples of the `index`-th for_all of `check`, if it drew from
        the strategies `signature` describes; else None (run live)."""
        recorded = self.checks.get(check)
        if recorded is None or index >= len(recorded) or recorded[index][0] != signature:
            return None
        return recorded[index][1]


# -- where banks come from --------------------------------------------------------

def enabled() -> bool:
    """Whether banks are used at all (GRADECHECK_EXAMPLES=live turns them off)."""
    return os.environ.get("GRADECHECK_EXAMPLES", "").strip().lower() != "live"


def cache_folder() -> Path:
    """The folder banks are kept in between processes."""
    chosen = os.environ.get("GRADECHECK_CACHE")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gradecheck"


def bank_key(assignment: Assignment, salt: str = "") -> str:
    """A digest of everything the recorded examples depend on."""
    import hypothesis

    digest = hashlib.sha256()
    parts = [f"format {FORMAT}", f"python {sys.version_info[:2]}", f"hypothesis {hypothesis.__version__}",
             f"numpy {np.__version__}", f"max_examples {assignment.max_examples}"]
    parts.append(f"salt {salt}")  # the course secret's salt: a digest, never the secret
    for part in parts:
        digest.update(part.encode() + b"\0")
    for path in [*assignment.source_files(), *ENGINE_SOURCES]:
        digest.update(Path(path).read_bytes() + b"\0")
    return digest.hexdigest()


def bank_path(assignment: Assignment, key: str) -> Path:
    """Where the bank of `assignment` with `key` is kept between processes."""
    return cache_folder() / f"{assignment.name}-{key[:24]}.json"


def bank_for(assignment: Assignment, registry: dict[str, RegisteredCheck],
             reference: ModuleType, salt: str = "", *,
             judge_reference: ModuleType | None = None) -> ExampleBank | None:
    """The assignment's bank: from memory, else the cache folder, else recorded now
    (and saved to the cache folder when it is writable). None when banks are off.
    `judge_reference` is what the checks call for expected values (default: `reference`)."""
    if not enabled():
        return None
    try:
        key = bank_key(assignment, salt)
    except OSError:
        return None
    if key in _MEMORY:
        return _MEMORY[key]
    path = bank_path(assignment, key)
    bank = read_bank(path, key)
    if bank is None:  # absent, stale, or not written by this grader: recorded afresh, replaced
        bank = record_bank(assignment, registry, reference, key, salt=salt, judge_reference=judge_reference)
        write_bank(path, bank)  # an unwritable or refused cache only costs a recording per process
    bank.shrinks = ShrinkTraces(assignment.name, key, path.parent)
    _MEMORY[key] = bank
    return bank


# -- recording ----------------------------------------------------------------------

def record_bank(assignment: Assignment, registry: dict[str, RegisteredCheck],
                reference: ModuleType, key: str | None = None, *, salt: str = "",
                judge_reference: ModuleType | None = None) -> ExampleBank:
    """Run every check against the reference, in this process, logging what hypothesis draws.
    The reference answers the checks' calls; `judge_reference` (default: the reference) is
    their ctx.reference.

    A check that does not pass on the reference, or draws something that
    cannot be stored, is recorded as None: it will run live, as without a bank.
    """
    calls = ReferenceCalls.of(assignment, reference)
    judge = judge_reference if judge_reference is not None else checks_reference(assignment, reference)
    checks: dict[str, Recorded | None] = {}
    planned: dict[str, Planned | None] = {}
    for question in assignment.questions:
        for check in question.checks:
            log: Recorded = []
            ctx = Context(sandbox=calls, reference=judge,  # type: ignore[arg-type]
                          solution=reference, assignment=assignment, check=check,
                          registered=registry[check.name], broken={}, examples=RecordingExamples(log),
                          salt=salt)
            try:
                registry[check.name].function(ctx)
            except Exception:  # noqa: BLE001 - CheckFailed, Unrecordable or a check's own bug
                checks[check.name] = planned[check.name] = None
            else:
                checks[check.name] = log
                planned[check.name] = [plan if _storable(plan) else None for plan in ctx.planned_calls]
    return ExampleBank(key or bank_key(assignment, salt), checks, planned)


def checks_reference(assignment: Assignment, reference: ModuleType) -> ModuleType:
    """What the checks call ctx.reference: the spec's judge_reference, imported here, or
    `reference` when it names none."""
    return reference if assignment.judge_reference is None else import_judge_reference(assignment)


def _storable(plan: list[list]) -> bool:
    try:
        plan_to_json(plan)
    except (Unencodable, ValueError, TypeError):
        return False
    return True


# -- on disk: JSON data, validated on the way in --------------------------------

def bank_to_json(bank: ExampleBank) -> dict:
    """The bank as JSON-safe data."""
    checks = {name: None if calls is None else [
        {"strategies": signature, "examples": [[encode(v) for v in example] for example in examples],
         "calls": plan_to_json(_nth(bank.calls.get(name), index))}
        for index, (signature, examples) in enumerate(calls)] for name, calls in bank.checks.items()}
    return {"format": FORMAT, "key": bank.key, "checks": checks}


def _nth(plans: Planned | None, index: int) -> list[list] | None:
    return plans[index] if plans is not None and index < len(plans) else None


def bank_from_json(data: Any, key: str) -> ExampleBank:
    """Rebuild a bank from `bank_to_json` data; ValueError if it is not one for `key`."""
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        raise ValueError("not a bank for this key")
    checks: dict[str, Recorded | None] = {}
    planned: dict[str, Planned | None] = {}
    for name, calls in dict(data["checks"]).items():
        checks[str(name)] = None if calls is None else [
            (str(call["strategies"]),
             [tuple(copy_example(decode(v)) for v in example) for example in call["examples"]])
            for call in calls]
        planned[str(name)] = None if calls is None else [plan_from_json(call.get("calls")) for call in calls]
    return ExampleBank(key, checks, planned)


def write_bank(path: Path, bank: ExampleBank) -> bool:
    """Save `bank` at `path`, atomically, signed with the key of its folder
    (grader.signing); False when it cannot be (an unwritable or refused folder, an
    example that cannot be stored)."""
    try:
        data = json.dumps(bank_to_json(bank), separators=(",", ":")).encode("utf-8")
    except (Unrecordable, Unencodable, ValueError, TypeError):
        return False
    return signing.write_signed(path.parent, path.name, signing.BANK, data)


def read_bank(path: Path, key: str) -> ExampleBank | None:
    """The bank saved at `path` for `key` by `write_bank`, or None when absent, stale,
    unreadable, or not written by this grader (see grader.signing)."""
    data = signing.read_signed(path.parent, path.name, signing.BANK, LARGEST)
    if data is None:
        return None
    try:
        return bank_from_json(json.loads(data.decode("utf-8")), key)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, protocol.ProtocolError,
            Unrecordable):
        return None
