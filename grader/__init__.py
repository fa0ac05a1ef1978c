"""gradecheck: an autograder for numerical ML assignments (see README.md)."""

import os as _os

# the release, as pyproject.toml states it (the bundles ship the package uninstalled)
__version__ = "0.1.0"

# The judge's own array work is small (reference answers, numerical gradients), and it
# alternates with the student's worker: the thread pools OpenBLAS and OpenMP start by
# default spin between calls on the cores the worker needs, and cost the judge twice the
# CPU of its checks. Read when numpy and torch load, so set before either is imported
# (grader is imported first by every command); a value already set is kept.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")
