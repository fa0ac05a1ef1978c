"""The course's local autograder runner (students run it before submitting)."""

import json
import sys

sys.path.append("autograder")
sys.path.append("./")

from helpers import run_tests  # noqa: E402
from autograd_tests import test_add, test_sub  # noqa: E402

tests = [
    {"name": "Question 1.1 - Addition", "autolab": "add", "handler": test_add, "value": 5},
    {"name": "Question 1.2 - Subtraction", "autolab": "sub", "handler": test_sub, "value": 5},
]

if __name__ == "__main__":
    scores = run_tests(tests)
    print(json.dumps({"scores": scores}))
