"""Find and kill the processes a submission started, however they hid.

Three independent handles on them, because each one alone can be dodged:
- descendants of the launcher (a child subreaper: orphans stay its children),
- the private user id the worker runs as when the grader is root (no
  unprivileged process can change its uid back),
- the marker every sandbox process inherits: an environment variable
  across exec, a process name across a zygote-served worker's forks
  (unless it execs with a clean environment or renames itself, hence the
  other two).

Every killer stops its targets with SIGSTOP before SIGKILL so that none can
fork a replacement in between, and repeats until a scan finds nothing.
Used by both the judge and the launcher script, so standard library only.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable

ROUNDS = 20


def _processes() -> Iterable[int]:
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            yield int(entry)


STATUS_FIELDS = ("State", "PPid", "Uid")


def _status(pid: int) -> dict[str, str]:
    """The fields of /proc/PID/status the killers read (STATUS_FIELDS); {} when it is gone.
    Only those are picked out: a scan reads every process's status, at every close."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return {}
    fields = {}
    for key in STATUS_FIELDS:
        start = text.find(f"\n{key}:")
        if start >= 0:
            start += len(key) + 2
            end = text.find("\n", start)
            fields[key] = text[start:end if end >= 0 else len(text)].strip()
    return fields


def _alive(fields: dict[str, str]) -> bool:
    return bool(fields) and not fields.get("State", "").startswith(("Z", "X"))


def descendants(root: int) -> set[int]:
    """Every live process below `root` in the parent tree."""
    parents = {}
    for pid in _processes():
        fields = _status(pid)
        if _alive(fields):
            parents[pid] = int(fields.get("PPid", "0") or 0)
    return below(parents, root)


def below(parents: dict[int, int], root: int) -> set[int]:
    """The pids below `root`, given each pid's parent."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _kill_until_gone(find: Callable[[], set[int]]) -> int:
    """Stop then kill whatever `find` returns, until it returns nothing; return how many."""
    killed: set[int] = set()
    for attempt in range(ROUNDS):
        targets = find()
        if not targets:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in targets:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        killed |= targets
        time.sleep(0.005 * attempt)  # give the kernel a moment to tear them down
    return len(killed)


def kill_descendants(root: int) -> int:
    """SIGKILL every process below `root`; return how many were killed."""
    if root <= 1:  # never the whole machine (a PID namespace's init sees itself as 1)
        return 0
    return _kill_until_gone(lambda: descendants(root))


def kill_user(uid: int) -> int:
    """SIGKILL every live process whose real or effective uid is `uid` (never uid 0)."""
    if uid <= 0:
        return 0

    def find() -> set[int]:
        found = set()
        for pid in _processes():
            fields = _status(pid)
            uids = fields.get("Uid", "").split()
            if _alive(fields) and str(uid) in uids[:2]:
                found.add(pid)
        return found

    return _kill_until_gone(find)


def marker_name(token: str) -> str:
    """The process name (at most 15 characters) a zygote's fork takes for sandbox `token`."""
    return f"gc{token[:13]}" if token else ""


def kill_marked_processes(variable: str, token: str) -> int:
    """SIGKILL each process marked as the sandbox's; return how many.

    Marked: its environment holds variable=token (inherited across exec), or
    its name is `marker_name(token)` (inherited by forks of a zygote-served
    worker, whose environment block is the zygote's). A submission's
    processes keep one or the other even when they left the worker's
    session, so this catches daemons that would outlive grading.
    """
    marker = f"{variable}={token}".encode()
    name = marker_name(token)

    def marked(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as handle:
                if name and handle.read().strip() == name:
                    return True
            with open(f"/proc/{pid}/environ", "rb") as handle:
                return marker in handle.read().split(b"\0")
        except OSError:
            return False

    def find() -> set[int]:
        return {pid for pid in _processes() if marked(pid) and _alive(_status(pid))}

    return _kill_until_gone(find)
