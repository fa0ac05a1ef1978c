"""Drivers for the softmax_vectorized assignment, run inside the sandboxed worker.

The engine imports this file after the student's module and calls each public
function whose first parameter is `kit` as ``driver(kit, *args)``. Only the
standard library and numpy may be used here: this file never sees the
grader, the reference or the checks, and it returns plain data (the verdict
is the judge's).

`loss_line_counts` measures how the work of softmax_loss_vectorized grows
with the batch: it counts the line events that the student's own file
produces (helper functions of that file included, numpy's internals not)
while the function runs on a small and on a large batch. A vectorised
implementation executes about the same lines for any batch size; a loop over
the examples executes at least one more line per example. Counting lines is
deterministic, unlike timing.
"""

import sys

import numpy as np


def _in_student_file(filename, student_file):
    # notebooks run cell by cell are compiled as "FILE:cellN"
    return filename == student_file or filename.startswith(student_file + ":cell")


def _count_lines(function, args, student_file):
    """Run function(*args) and return how many lines of the student's file it executed."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame, event, arg):
        if _in_student_file(frame.f_code.co_filename, student_file):
            return local
        return None  # numpy's own Python code: not traced line by line

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        function(*args)
        untouched = sys.gettrace() is calls
    finally:
        sys.settrace(previous)
    if not untouched:
        raise RuntimeError("softmax_loss_vectorized changed Python's trace function (sys.settrace), "
                           "so the lines it runs cannot be counted")
    return count


def loss_line_counts(kit, features, classes, sizes, seed):
    """Lines of the student's file run by softmax_loss_vectorized, one count per batch size.

    The data is made here from `seed`: W is small and random (features x
    classes), and each batch has random rows and labels.
    """
    function = kit.student.softmax_loss_vectorized
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((features, classes)) * 1e-3
    counts = []
    for size in sizes:
        X = rng.standard_normal((size, features))
        y = rng.integers(0, classes, size)
        counts.append(_count_lines(function, (W, X, y, 1e-3), kit.student_file))
    return tuple(counts)
