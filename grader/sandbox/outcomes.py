"""What a call into student code can end as, described for the student.

Plain data and message builders shared by the sandbox client: the outcome
of one call, what the worker's exit status means, and whether a student
function can be called with the arguments a check passes.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any

from ..text import clean_name

SETUP_FAILED = 125  # the launcher's status when it could not start the worker
BUDGET_USED = "the time budget for the whole submission is used up"
OWN_BUDGET_USED = "this check's own time budget is used up"
JOB_TIME_USED = "not run: time limit of the grading job (the platform's limit for one grading)"
SIGNAL_HINTS = {
    signal.SIGKILL: " (possibly for using too much memory)",
    signal.SIGXCPU: " (it used more CPU time than the whole submission may)",
    signal.SIGXFSZ: " (it wrote a file larger than the limit)",
}
# What the judge keeps of the worker's list of functions. A module that does
# `from torch import *` exposes about 850 callables before the student's own,
# so the count stays generous; the names are what must stay short.
MAX_FUNCTIONS = 1000
MAX_NAME = 100  # a longer name cannot be one the spec names: the function is ignored
MAX_PARAMS = 64  # parameter names kept per function (their counts are kept exactly)
MAX_PARAM_NAME = 40
SHOWN_PARAMS = 8  # parameter names a message shows


@dataclass
class CallOutcome:
    """What one call into student code produced. `kind` is ok, exception,
    signature, timeout, crash, missing, import, protocol or too_large."""

    kind: str
    value: Any = None
    mutated: list[int] = field(default_factory=list)
    message: str = ""
    where: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def describe_exit(code: int | None) -> str:
    """How the process running student code ended, from the launcher's exit status
    (which is the worker's status, or 128 + the signal that killed it)."""
    if code is not None and (code > 128 or code < 0):
        number = code - 128 if code > 128 else -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        detail = f"was killed by signal {name}{SIGNAL_HINTS.get(number, '')}"
    elif code == SETUP_FAILED:
        detail = "could not be started (see the output for why)"
    elif code is None:
        detail = "stopped answering"
    else:
        detail = f"exited with status {code}"
    return f"the process running your code {detail}"


def read_functions(raw: Any) -> dict[str, dict]:
    """Validate the worker's list of functions and their positional parameters.

    Keeps at most MAX_FUNCTIONS functions whose names are identifiers of at
    most MAX_NAME characters (any other cannot be called by a check); of each,
    the first MAX_PARAMS parameter names, cleaned and cut to MAX_PARAM_NAME
    characters, and the true number of required and positional parameters.
    """
    functions: dict[str, dict] = {}
    if not isinstance(raw, dict):
        return functions
    for name, info in raw.items():
        if len(functions) >= MAX_FUNCTIONS:
            break
        if not (isinstance(name, str) and len(name) <= MAX_NAME and name.isidentifier()) \
                or not isinstance(info, dict):
            continue
        names = [info.get("params"), info.get("positional", info.get("params"))]
        if not all(isinstance(n, list) and all(isinstance(p, str) for p in n) for n in names):
            continue
        functions[str.__str__(name)] = {
            "params": [clean_name(p, MAX_PARAM_NAME) for p in names[0][:MAX_PARAMS]],
            "positional": [clean_name(p, MAX_PARAM_NAME) for p in names[1][:MAX_PARAMS]],
            "required_count": len(names[0]),
            "positional_count": len(names[1]),
            "variadic": info.get("variadic") is True,
        }
    return functions


def signature_mismatch(function: str, info: dict, count: int) -> str:
    """A message if `function` cannot be called with `count` positional arguments, else ""."""
    required = info.get("required_count", len(info["params"]))
    positional = info.get("positional_count", len(info["positional"]))
    if count >= required and (info["variadic"] or count <= positional):
        return ""
    shown = list(info["positional"][:SHOWN_PARAMS])
    if positional > len(shown):
        shown.append(f"... {positional - len(shown)} more")
    return (f"your {clean_name(function)}({', '.join(shown)}) cannot be called with {count} "
            f"argument{'s' if count != 1 else ''}; keep the signature given in the handout")
