"""@@SCRIPT_DOC@@
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

    sys.exit(main(["@@COMMAND@@", "--folder", HERE, "--cwd", start, *sys.argv[1:]]))
