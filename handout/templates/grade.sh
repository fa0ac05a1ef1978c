#!/usr/bin/env bash
# Check your work with the public checks and print a table of scores.
@@GRADE_USAGE@@
# Set GRADECHECK_PYTHON to choose the Python that has @@LIBRARY@@ (default: python3).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${GRADECHECK_PYTHON:-python3}"
START="$PWD"
# Run from local_grader/ so that no file of yours can shadow a module the grader imports.
cd "$HERE/local_grader" || exit 2
exec "$PYTHON" -m gradecheck_local grade --folder "$HERE" --cwd "$START" "$@"
