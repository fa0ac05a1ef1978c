"""The environment every worker (and the zygote) starts from.

Standard library only: the grade command warms the zygote up with it before the
judge has imported numpy (grader.sandbox.spawner.warm_up).
"""

from __future__ import annotations

import os

# The machine's OpenBLAS settings: some machines need them for numpy to start at all.
PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def base_environment() -> dict[str, str]:
    """What every worker's environment starts from (also the zygote's): no judge secrets,
    single-threaded numerical libraries, a fixed hash seed."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    for name in PASSED_THROUGH:
        if name in os.environ:
            env[name] = os.environ[name]
    return env
