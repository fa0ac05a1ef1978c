#!/usr/bin/env bash
# Check your work with the public checks and print a table of scores.
@@GRADE_USAGE@@
# Set GRADECHECK_PYTHON to choose the Python that has @@LIBRARY@@ (default: python3).
# The same as: python3 grade.py (which also runs on Windows).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${GRADECHECK_PYTHON:-python3}" "$HERE/grade.py" "$@"
