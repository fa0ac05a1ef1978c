"""Resource limits for a student's worker process."""

from __future__ import annotations

import resource
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one submission's worker may use; every field has a safe default."""

    call_seconds: float = 10.0       # wall time of one call to a student function
    import_seconds: float = 60.0     # wall time to import the student's module
    total_seconds: float = 300.0     # wall time of all calls of one submission
    memory_mb: int = 2048            # address space of the worker
    output_kb: int = 64              # student output kept (head and tail each)
    max_processes: int = 64          # processes the worker's user may run (non-root only)
    max_restarts: int = 20           # worker restarts after crashes or timeouts

    def apply_in_child(self) -> None:
        """Set the rlimits; called in the forked child before exec."""
        memory = self.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        wanted = self.max_processes if hard == resource.RLIM_INFINITY else min(self.max_processes, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (wanted, wanted))
        except (ValueError, OSError):
            pass
