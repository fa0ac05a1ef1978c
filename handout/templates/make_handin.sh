#!/usr/bin/env bash
# Write handin.tar with the file you hand in (@@STUDENT_FILE@@, or @@NOTEBOOK@@ if
# that is what you edited; name a file to choose: ./make_handin.sh @@NOTEBOOK@@).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${GRADECHECK_PYTHON:-python3}"
START="$PWD"
cd "$HERE/local_grader" || exit 2
exec "$PYTHON" -m gradecheck_local handin --folder "$HERE" --cwd "$START" "$@"
