"""Write handin.tar, the file you submit (Linux, macOS and Windows).

@@HANDIN_USAGE_PY@@
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GRADER = os.path.join(HERE, "local_grader")

if __name__ == "__main__":
    start = os.getcwd()
    sys.path[0] = GRADER  # no file of yours can shadow a module this imports
    os.chdir(GRADER)
    from gradecheck_local.local import main

    sys.exit(main(["handin", "--folder", HERE, "--cwd", start, *sys.argv[1:]]))
