"""The judge's watch over one running sandbox: limits for the whole submission.

rlimits are per process; a submission is many. A `Watcher` thread looks at
every process below the sandbox's launcher a few times a second and ends the
sandbox (every process of it) when, all processes together,

- their memory (proportional set size: shared pages split between sharers)
  exceeds the array library's own footprint plus `memory_mb`,
- they hold more than `max_processes` processes and threads,
- they keep more than `cpu_share` cores busy (over a one-second window),
- the student's folder holds more than `scratch_mb` (when it is not already
  a size-limited tmpfs).

Between calls it also ends processes the student's code left running: only
the worker may outlive a call. The reason of the last ending is kept for the
message of the call it cut short.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import reaper
from .limits import Limits
from .reaper import kill_descendants

MiB = 2**20
# POSIX only; the judge imports this module on any system (a plain sandbox has no watch)
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
INTERVAL = 0.2
CPU_WINDOW = 1.0
MAX_SCRATCH_FILES = 5000


def process_table() -> dict[int, tuple[int, float, int, int, float]]:
    """Every live process: pid -> (parent pid, CPU seconds, threads, resident bytes,
    start time in seconds since boot)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2:].split()
        if len(fields) < 22 or fields[0] in (b"Z", b"X"):
            continue
        # after the name: state ppid ... utime(11) stime(12) ... num_threads(17) ... rss(21)
        table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS,
                             int(fields[17]), int(fields[21]) * PAGE, int(fields[19]) / TICKS)
    return table


def since_boot() -> float:
    """Seconds since the machine booted (the clock of /proc's start times): the boot-time
    clock /proc/uptime reads, without a file read per call."""
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    if clock is not None:
        return time.clock_gettime(clock)
    with open("/proc/uptime", encoding="ascii") as handle:
        return float(handle.read().split()[0])


def below(table: dict[int, tuple[int, float, int, int, float]], root: int) -> set[int]:
    """The processes below `root` in `table`'s parent tree."""
    return reaper.below({pid: row[0] for pid, row in table.items()}, root)


def proportional_bytes(pid: int) -> int | None:
    """The process's proportional set size, None when the kernel will not say."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def folder_bytes(folder: Path) -> int:
    """Bytes held by the regular files under `folder` (bounded walk)."""
    total, seen, stack = 0, 0, [str(folder)]
    while stack and seen < MAX_SCRATCH_FILES:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    seen += 1
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
        except OSError:
            continue
    return total


class Watcher(threading.Thread):
    """Watches the processes below `launcher` until `stop`; ends them on a breach."""

    def __init__(self, launcher: int, limits: Limits, *, footprint: int, scratch: Path | None,
                 in_call: Callable[[], bool], spine: set[int]):
        super().__init__(daemon=True, name=f"gradecheck-watch-{launcher}")
        self.launcher = launcher
        self.limits = limits
        self.footprint = max(0, min(footprint, 8 * 1024 * MiB))
        self.scratch = scratch
        self.in_call = in_call
        self.reason: str | None = None
        self.strays = 0
        self._done = threading.Event()
        self._spine = set(spine)  # the launcher's own chain down to the worker
        self._cpu: list[tuple[float, float]] = []
        self._call_began = 0.0  # since_boot() when the current call started

    def call_began(self) -> None:
        """A call starts now: processes started before it may not outlive the previous one."""
        try:
            self._call_began = since_boot()
        except (OSError, ValueError, IndexError):
            self._call_began = 0.0

    def stop(self) -> None:
        """End the watch (returns at once; the thread finishes within one interval)."""
        self._done.set()

    def run(self) -> None:
        last_scratch = 0.0
        while not self._done.wait(INTERVAL):
            table = process_table()
            if self.launcher not in table:
                return
            tree = below(table, self.launcher)
            # Only the worker may outlive a call: anything else started before the
            # current call (or while none runs) is ended before it can cost that call.
            calling = self.in_call()
            leftovers = {pid for pid in tree - self._spine
                         if not calling or table[pid][4] < self._call_began - 0.05}
            if leftovers:
                self.strays += len(leftovers)
                for pid in leftovers:
                    kill_descendants(pid)
                    try:
                        os.kill(pid, 9)
                    except OSError:
                        pass
                tree -= leftovers
                for pid in leftovers:
                    tree -= below(table, pid)
            reason = self._breach(table, tree)
            now = time.monotonic()
            if reason is None and self.scratch is not None and now - last_scratch > 1.0:
                last_scratch = now
                used = folder_bytes(self.scratch)
                if used > self.limits.scratch_mb * MiB:
                    reason = (f"your code wrote {used / MiB:.0f} MB to its folder, more than the "
                              f"{self.limits.scratch_mb} MB allowed")
            if reason is not None:
                self.reason = reason
                kill_descendants(self.launcher)
                return

    def _breach(self, table: dict[int, tuple[int, float, int, int, float]], tree: set[int]) -> str | None:
        rows = [table[pid] for pid in tree]
        threads = sum(row[2] for row in rows)
        if threads > self.limits.max_processes:
            return (f"your code ran {len(rows)} processes with {threads} threads at once; "
                    f"the limit is {self.limits.max_processes} for the whole submission")
        resident = sum(row[3] for row in rows)
        allowed = self.footprint + self.limits.memory_mb * MiB
        if resident > allowed:
            shares = [proportional_bytes(pid) for pid in tree]
            used = sum(s if s is not None else row[3] for s, row in zip(shares, rows))
            if used > allowed:
                return (f"your code used {(used - self.footprint) / MiB:.0f} MB of memory across "
                        f"{len(rows)} processes, more than the {self.limits.memory_mb} MB allowed")
        now = time.monotonic()
        self._cpu.append((now, sum(row[1] for row in rows)))
        while len(self._cpu) > 2 and now - self._cpu[1][0] >= CPU_WINDOW:
            self._cpu.pop(0)
        (then, spent), latest = self._cpu[0], self._cpu[-1][1]
        if now - then >= CPU_WINDOW * 0.9:
            cores = (latest - spent) / (now - then)
            if cores > self.limits.cpu_share + 0.3:
                return (f"your code kept {cores:.1f} cores busy with {len(rows)} processes; "
                        f"a submission may use {self.limits.cpu_share:g}")
        return None
