#!/usr/bin/env bash
@@HANDIN_USAGE@@
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${GRADECHECK_PYTHON:-python3}"
START="$PWD"
cd "$HERE/local_grader" || exit 2
exec "$PYTHON" -m gradecheck_local handin --folder "$HERE" --cwd "$START" "$@"
