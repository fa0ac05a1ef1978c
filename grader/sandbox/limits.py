"""Resource limits for a student's worker process.

assignment.yaml's ``limits:`` mapping sets any of these fields; every field
has a safe default. Wall-time limits are enforced by the judge; the others
become rlimits of the worker, set by the launcher before it runs any
student code.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 2**20


@dataclass(frozen=True)
class Limits:
    """What one submission's worker may use."""

    call_seconds: float = 10.0       # wall time of one call to a student function
    import_seconds: float = 60.0     # wall time to import the student's module
    total_seconds: float = 300.0     # wall time of all imports and calls of one submission
    memory_mb: int = 2048            # memory of the whole submission, on top of the array library's
    scratch_mb: int = 256            # the student's folder (a tmpfs where namespaces allow)
    cpu_share: float = 1.0           # cores the whole submission may keep busy
    output_kb: int = 64              # student output kept (head and tail each)
    result_mb: float = 16            # arrays one call may return (the judge decodes them)
    max_processes: int = 64          # processes and threads of the whole submission
    max_restarts: int = 20           # worker restarts after crashes or timeouts
    file_mb: int = 64                # largest file the submission may write
    open_files: int = 256            # file descriptors per process

    def rlimits(self) -> dict[str, tuple[int, int]]:
        """The rlimits the launcher applies to the worker, by resource name.

        RLIMIT_CPU is a backstop for processes that escape every other
        clean-up: none may burn more CPU than the whole submission's budget.
        The address space is limited by the worker itself once the array
        library is loaded (its footprint plus memory_mb), and the judge
        watches the whole submission's memory, processes and CPU.
        """
        cpu = int(self.total_seconds + self.import_seconds) + 30
        return {
            "RLIMIT_CORE": (0, 0),
            "RLIMIT_FSIZE": (int(self.file_mb) * MiB, int(self.file_mb) * MiB),
            "RLIMIT_NOFILE": (int(self.open_files), int(self.open_files)),
            "RLIMIT_CPU": (cpu, cpu + 5),
            "RLIMIT_NPROC": (int(self.max_processes), int(self.max_processes)),
        }


def apply(rlimits: dict[str, tuple[int, int]], *, skip: tuple[str, ...] = ()) -> None:
    """Set each named rlimit, never above the current hard limit (the launcher calls this)."""
    import resource  # POSIX only: the judge imports this module on any system

    for name, (soft, hard) in rlimits.items():
        if name in skip:
            continue
        which = getattr(resource, name)
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass
