"""Isolation levels: what a sandbox reached, named, ordered, strongest first.

- namespaces  root: mount, PID, network and IPC namespaces, the grader's files
              hidden, a private uid for the student
- userns      an unprivileged user namespace with mount, PID, network and IPC
              namespaces, the grader's files hidden
- landlock    Landlock filesystem rules (plus signal, socket and TCP scoping
              where the kernel has them) and a seccomp filter, student code
              under the judge's uid, the judge not dumpable
- uid         only a private uid (root without namespaces or Landlock)
- none        nothing: student code runs as the judge's user, unconfined

Every level from `landlock` up also applies Landlock and seccomp when the
kernel has them. Standard library only: the launcher imports this as a
script neighbour.
"""

from __future__ import annotations

LEVELS = ("none", "uid", "landlock", "userns", "namespaces")  # weakest first
DEFAULT_MINIMUM = "landlock"


def level_of(features: list[str]) -> str:
    """The level a sandbox with these features reached (see the module docstring)."""
    have = set(features)
    confined = "landlock-fs" in have
    if {"mount", "pid"} <= have and "private-uid" in have and "user" not in have:
        return "namespaces"
    if {"user", "mount", "pid", "net"} <= have:
        return "userns"
    if confined:
        return "landlock"
    if "private-uid" in have:
        return "uid"
    return "none"


def rank(level: str) -> int:
    """Position of `level`, higher is stronger; ValueError for an unknown name."""
    return LEVELS.index(level)


def at_least(level: str, minimum: str) -> bool:
    """Whether `level` is as strong as `minimum`."""
    return rank(level) >= rank(minimum)
