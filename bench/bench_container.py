"""The platform's per-container job: one Gradescope grade of softmax_lab from a cold start,
inside 768 MB and half a CPU, as Gradescope and Autolab's Tango give a job.

The bench builds the Gradescope bundle, prepares it as the image's setup.sh does
(the example bank and the catalogue's shrink traces recorded, the grader compiled;
not timed: it runs once per image; buggy.py's two mistakes are in the catalogue, as
a class's usual mistakes are), then runs the bundle's
run_autograder in a control group limited to 768 MB (no swap) and half a CPU:
each run is a fresh interpreter, as in a fresh container (the page cache stays
warm: dropping it would disturb the whole machine). Floor and the two
submissions take turns, REPEATS times each.

Fails (exit 1) when a results.json is wrong (the correct sample must get every
automatic point, the buggy one lose exactly loss_backward and softmax_backward)
or when a job needed more than the container's memory (an out-of-memory kill).
Without a writable control-group file system (not root, or no cgroupfs) it
says so and measures nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (ROOT, TEARDOWN_FREE_TORCH, BenchError, Figure, Timing, environment,  # noqa: E402
                    finish)

MEMORY_BYTES = 768 * 2**20
CPU_SHARE = 0.5
REPEATS = 3
SAMPLES = ROOT / "assignments" / "softmax_lab" / "samples"
BUGGY_LOSES = {"loss_backward", "softmax_backward"}


class Container:
    """A control group with a memory limit and a CPU quota (cgroup v2, or v1's cpu and
    memory hierarchies); `enter` is a preexec_fn that moves the child into it."""

    def __init__(self, name: str):
        self.folders: list[Path] = []
        self.v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
        period = 100_000
        if self.v2:
            own = _own_group("")
            folder = Path("/sys/fs/cgroup") / own.lstrip("/") / name
            folder.mkdir()
            self.folders = [folder]
            _write(folder / "cpu.max", f"{int(CPU_SHARE * period)} {period}")
            _write(folder / "memory.max", str(MEMORY_BYTES))
            if (folder / "memory.swap.max").exists():
                _write(folder / "memory.swap.max", "0")
            self.memory = folder
        else:
            cpu = Path("/sys/fs/cgroup/cpu") / _own_group("cpu").lstrip("/") / name
            memory = Path("/sys/fs/cgroup/memory") / _own_group("memory").lstrip("/") / name
            cpu.mkdir()
            self.folders.append(cpu)
            memory.mkdir()
            self.folders.append(memory)
            _write(cpu / "cpu.cfs_period_us", str(period))
            _write(cpu / "cpu.cfs_quota_us", str(int(CPU_SHARE * period)))
            _write(memory / "memory.limit_in_bytes", str(MEMORY_BYTES))
            if (memory / "memory.memsw.limit_in_bytes").exists():
                _write(memory / "memory.memsw.limit_in_bytes", str(MEMORY_BYTES))
            self.memory = memory

    def enter(self) -> None:
        for folder in self.folders:
            _write(folder / "cgroup.procs", str(os.getpid()))

    def reset_peak(self) -> None:
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        try:
            _write(self.memory / name, "0")
        except OSError:
            pass  # older v2 kernels keep the peak for the group's life

    def peak_mb(self) -> float:
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        try:
            return int((self.memory / name).read_text()) / 2**20
        except (OSError, ValueError):
            return float("nan")

    def oom_kills(self) -> int:
        if self.v2:
            events = (self.memory / "memory.events").read_text().split()
        else:
            events = (self.memory / "memory.oom_control").read_text().split()
        pairs = dict(zip(events[::2], events[1::2]))
        return int(pairs.get("oom_kill", 0))

    def remove(self) -> None:
        for folder in reversed(self.folders):
            for _ in range(50):  # the last processes may still be leaving
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def _own_group(controller: str) -> str:
    """This process's group in the hierarchy of `controller` ("" for cgroup v2)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if (controller == "" and names == "") or controller in names.split(","):
            return path
    raise OSError(f"no {controller or 'v2'} control group")


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def bundle(folder: Path) -> Path:
    """The Gradescope bundle of softmax_lab unpacked as Gradescope does (folder/source,
    folder/submission, folder/results), prepared as its setup.sh prepares the image: the
    bank and the catalogue's shrink traces recorded, the grader compiled."""
    from handout import build_all
    from handout.archive import unzip

    built = build_all("softmax_lab", folder / "built")
    source = folder / "root" / "source"
    unzip(built["autograder_zip"], source)
    for name in ("submission", "results"):
        (folder / "root" / name).mkdir()
    subprocess.run([sys.executable, "-m", "grader", "examples", "softmax_lab", "--mutants"], cwd=source,
                   check=True, capture_output=True,
                   env=environment(GRADECHECK_CACHE=str(source / ".gradecheck-cache")))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(source)], check=True, capture_output=True)
    return folder / "root"


def main() -> None:
    figures: list[Figure] = []
    problems: list[str] = []
    try:
        container = Container(f"gradecheck-bench-{os.getpid()}")
    except OSError as exc:
        finish("bench_container: one Gradescope job in 768 MB and half a CPU",
               [Figure("not measured: no control group could be made", f"({exc.strerror or exc})")])
        return
    try:
        with tempfile.TemporaryDirectory() as scratch:
            root = bundle(Path(scratch))
            env = environment(GRADECHECK_AUTOGRADER_ROOT=str(root), GRADECHECK_PYTHON=sys.executable)
            automatic = json.loads(subprocess.run(
                [sys.executable, "-c", "import json, sys; from grader import spec; "
                 "a = spec.load('softmax_lab'); print(json.dumps({q.name: q.points for q in a.questions "
                 "if not q.manual}))"], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
            timings = {name: Timing() for name in ("floor", "correct.py", "buggy.py")}
            peaks: dict[str, float] = {}
            for _ in range(REPEATS):
                for name in timings:
                    if name == "floor":
                        command = [sys.executable, "-c", TEARDOWN_FREE_TORCH]
                    else:
                        for old in (root / "submission").iterdir():
                            old.unlink()
                        shutil.copy(SAMPLES / name, root / "submission" / "softmax_lab.py")
                        command = [str(root / "source" / "run_autograder")]
                    container.reset_peak()
                    kills = container.oom_kills()
                    started = time.perf_counter()
                    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                                          preexec_fn=container.enter)
                    timings[name].wall.append(time.perf_counter() - started)
                    peaks[name] = max(peaks.get(name, 0.0), container.peak_mb())
                    if container.oom_kills() > kills:
                        problems.append(f"{name}: a process was killed for memory inside 768 MB")
                    if name != "floor":
                        judge(name, done, root, automatic, problems)
    finally:
        container.remove()
    floor = timings["floor"]
    figures.append(Figure("in 768 MB and half a CPU: teardown-free torch floor", f"{floor.median:.2f} s, "
                          f"peak {peaks['floor']:.0f} MB"))
    for name in ("correct.py", "buggy.py"):
        timing = timings[name]
        figures.append(Figure(f"  run_autograder on {name} (median of {REPEATS})",
                              f"{timing.median:.2f} s ({timing.median / floor.median:.2f}x floor)"))
        figures.append(Figure("    its peak memory (judge, worker, every process)", f"{peaks[name]:.0f} MB",
                              f"<= {MEMORY_BYTES // 2**20} MB", peaks[name] <= MEMORY_BYTES / 2**20))
    finish("bench_container: one Gradescope job in 768 MB and half a CPU", figures, problems)


def judge(name: str, done: subprocess.CompletedProcess, root: Path, automatic: dict[str, float],
          problems: list[str]) -> None:
    """Check one job's results.json: the right score, from the right questions."""
    try:
        results = json.loads((root / "results" / "results.json").read_text())
    except (OSError, ValueError) as exc:
        problems.append(f"{name}: no readable results.json ({exc}); {done.stderr[-500:]}")
        return
    lost = BUGGY_LOSES if name == "buggy.py" else set()
    expected = sum(points for question, points in automatic.items() if question not in lost)
    if abs(float(results.get("score", -1)) - expected) > 1e-6:
        problems.append(f"{name}: score {results.get('score')}, expected {expected:g}; "
                        f"{results.get('output', '')[:300]}")


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        print(f"bench_container failed: {exc}")
        sys.exit(1)
