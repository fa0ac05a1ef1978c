"""Check your work with the public checks and print a table of scores.

Works on Linux, macOS and Windows (on some systems the command is python3):
@@GRADE_USAGE_PY@@
Run it with the Python that has @@LIBRARY@@ installed (see README.md).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GRADER = os.path.join(HERE, "local_grader")

if __name__ == "__main__":
    start = os.getcwd()
    # The grader's own folder comes first and is where it runs, so that no file of
    # yours can shadow a module the grader imports.
    sys.path[0] = GRADER
    os.chdir(GRADER)
    from gradecheck_local.local import main

    sys.exit(main(["grade", "--folder", HERE, "--cwd", start, *sys.argv[1:]]))
