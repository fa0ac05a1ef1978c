"""What every benchmark shares: interleaved timing, medians with their spread, CPU summed
over every process a run started, and goals that fail the bench when missed.

CPU figures are the machine's busy time during a run (/proc/stat): every process
counts, sandboxed workers included, so run the benches on a quiet machine.

A bench builds `Figure`s (a measured value, the goal it must meet, whether it
met it) and ends with `finish(figures)`, which prints them as one table and
exits 1 if any goal was missed or any report was wrong. `make bench` runs every
bench and fails if one did.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
TEARDOWN_FREE_TORCH = "import torch, os; os._exit(0)"  # what a grade could not do without


@dataclass
class Timing:
    """Wall and CPU seconds of repeated runs of one command."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    def spread(self) -> str:
        """The runs' range, as a share of the median."""
        if len(self.wall) < 2:
            return ""
        low, high = min(self.wall), max(self.wall)
        return f"{low:.2f}-{high:.2f} s (±{(high - low) / 2 / self.median:.0%})"


@dataclass
class Figure:
    """One line of the table: what was measured, against which goal."""

    name: str
    value: str
    goal: str = ""
    met: bool | None = None  # None: a figure without a goal

    def row(self) -> str:
        verdict = {True: "ok", False: "MISSED", None: ""}[self.met]
        return f"{self.name:<58} {self.value:<34} {self.goal:<22} {verdict}"


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (every process, in every
    namespace: sandboxed workers are reaped inside their own PID namespace, where no
    rusage of ours sees them). On a quiet machine, a run's delta is the run's CPU."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # minus idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def run_once(command: list[str], *, env: dict | None = None, cwd: Path = ROOT,
             check: Callable[[subprocess.CompletedProcess], None] | None = None) -> tuple[float, float]:
    """Run `command` to its end: (wall seconds, CPU seconds the machine spent meanwhile, which
    on a quiet machine is the CPU of every process of the run). `check` judges its output."""
    cpu_before = machine_cpu_seconds()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    cpu = machine_cpu_seconds() - cpu_before
    if check is not None:
        check(done)
    elif done.returncode != 0:
        raise BenchError(f"{' '.join(command[:6])} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, cpu


def interleaved(commands: dict[str, Callable[[], tuple[float, float]]], repeats: int) -> dict[str, Timing]:
    """Run each command `repeats` times, taking turns (A B C A B C ...), so that a noisy
    moment of the machine falls on all of them alike."""
    timings = {name: Timing() for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            wall, cpu = command()
            timings[name].wall.append(wall)
            timings[name].cpu.append(cpu)
    return timings


class BenchError(Exception):
    """A run the bench needed failed, or a report it checked was wrong."""


def finish(title: str, figures: list[Figure], problems: list[str] = ()) -> None:
    """Print the table; exit 1 when a goal was missed or a problem was found."""
    print(f"== {title}")
    for figure in figures:
        print("  " + figure.row())
    for problem in problems[:12]:
        print(f"  WRONG: {problem[:400]}")
    if len(problems) > 12:
        print(f"  ... and {len(problems) - 12} more")
    missed = [f.name for f in figures if f.met is False]
    if missed or problems:
        print(f"  {title}: {len(missed)} goal(s) missed, {len(problems)} wrong result(s)")
        sys.exit(1)


def ratio_figure(name: str, value: float, limit: float, *, at_least: bool = False) -> Figure:
    """A ratio against its goal (at most `limit`, or with at_least at least)."""
    met = value >= limit if at_least else value <= limit
    return Figure(name, f"{value:.2f}x", f"{'>=' if at_least else '<='} {limit:g}x", met)


STUDENT_SECONDS = """
import json, sys
from pathlib import Path
from grader import spec
from grader.runner import grade
print(json.dumps(grade(spec.load(sys.argv[1]), Path(sys.argv[2])).student_seconds))
"""


def student_seconds(assignment: str, submissions: list[Path], env: dict[str, str]) -> dict[str, float]:
    """Seconds each submission's grade spends inside the student's own calls (the worker's
    word), each from a grade in a fresh process, as the command line's; the median when
    a submission is listed more than once: what no grader could save, subtracted from a
    grade's time to see the grader's own cost."""
    seconds: dict[str, list[float]] = {}
    for path in submissions:
        done = subprocess.run([sys.executable, "-c", STUDENT_SECONDS, assignment, str(path)],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BenchError(f"measuring the student's own time failed: {done.stderr[-2000:]}")
        seconds.setdefault(str(path), []).append(float(done.stdout))
    return {path: statistics.median(values) for path, values in seconds.items()}


def environment(**extra: str) -> dict[str, str]:
    """This process's environment with the grader's cache and secret set for a bench."""
    env = {**os.environ, **extra}
    env.setdefault("GRADECHECK_SECRET", "the benches' course secret")
    return env
