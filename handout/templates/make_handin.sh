#!/usr/bin/env bash
@@HANDIN_USAGE@@
# The same as: python3 make_handin.py (which also runs on Windows).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${GRADECHECK_PYTHON:-python3}" "$HERE/make_handin.py" "$@"
