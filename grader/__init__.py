"""gradecheck: an autograder for numerical ML assignments (see README.md)."""

# the release, as pyproject.toml states it (the bundles ship the package uninstalled)
__version__ = "0.1.0"
