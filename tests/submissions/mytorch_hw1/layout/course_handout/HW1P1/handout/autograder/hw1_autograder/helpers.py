"""Helpers of the course's local autograder."""

import traceback


def run_tests(tests):
    scores = {}
    for test in tests:
        try:
            passed = test["handler"]()
        except Exception:
            traceback.print_exc()
            passed = False
        scores[test["autolab"]] = test["value"] if passed else 0
    return scores
