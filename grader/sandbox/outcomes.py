"""What a call into student code can end as, described for the student.

Plain data and message builders shared by the sandbox client: the outcome
of one call, what the worker's exit status means, and whether a student
function can be called with the arguments a check passes.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any

SETUP_FAILED = 125  # the launcher's status when it could not start the worker
BUDGET_USED = "the time budget for the whole submission is used up"
SIGNAL_HINTS = {
    signal.SIGKILL: " (possibly for using too much memory)",
    signal.SIGXCPU: " (it used more CPU time than the whole submission may)",
    signal.SIGXFSZ: " (it wrote a file larger than the limit)",
}


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
    """Validate the worker's list of functions and their positional parameters."""
    functions: dict[str, dict] = {}
    if not isinstance(raw, dict):
        return functions
    for name, info in list(raw.items())[:1000]:
        if not isinstance(info, dict):
            continue
        names = [info.get("params"), info.get("positional", info.get("params"))]
        if not all(isinstance(n, list) and all(isinstance(p, str) for p in n) for n in names):
            continue
        functions[name] = {"params": names[0], "positional": names[1],
                           "variadic": info.get("variadic") is True}
    return functions


def signature_mismatch(function: str, info: dict, count: int) -> str:
    """A message if `function` cannot be called with `count` positional arguments, else ""."""
    required, positional = info["params"], info["positional"]
    if count >= len(required) and (info["variadic"] or count <= len(positional)):
        return ""
    return (f"your {function}({', '.join(positional)}) cannot be called with {count} "
            f"argument{'s' if count != 1 else ''}; keep the signature given in the handout")
