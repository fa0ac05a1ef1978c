#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu 22.04 image, to prepare the
# autograder of @@NAME@@ (made by `python -m grader handout @@NAME@@`). The
# system Python 3.10 stays; the grader's packages are added to it.
set -euxo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-pip ca-certificates
@@INSTALL_LIBRARY@@
python3 -m pip install --no-cache-dir -r "$HERE/requirements.txt"
# Fail here, where staff see it, rather than on the first submission.
@@IMPORT_CHECK@@
# Record what hypothesis draws for each check once, in the image, so that no
# submission pays for it (run_autograder reads the same cache folder), and how it
# shrinks the failures of the catalogued mistakes, which submissions often repeat.
(cd "$HERE" && GRADECHECK_CACHE="$HERE/.gradecheck-cache" python3 -m grader examples @@NAME@@ --mutants)
# Compile the grader's Python here, once: every submission's container starts from
# this image, and would otherwise compile it again before grading.
python3 -m compileall -q "$HERE"
# Student code runs under a private uid. Where the container does not let the
# grader hide files with private mounts, plain permissions must keep the
# reference solution and the hidden checks unreadable to that uid.
chmod -R go-rwx "$HERE"
