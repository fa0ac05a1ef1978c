"""Turn check outcomes into question scores.

Earning checks share the question's points in proportion to their weights;
only a right answer passes them. Deducting checks (properties, stability,
contract) can only take points away: each failure removes its fraction of
the question's points, never below zero; one the grading job had no time to
run takes nothing. A passing floor check lifts the question to its stated
fraction of the points (partial credit a course grants for, say, a chain rule
that is right although its parts are not). Per-check scores are set so that a
question's score is exactly the sum of its checks' scores.
"""

from __future__ import annotations

from .outcome import Status
from .results import CheckResult, QuestionResult
from .spec import Question

DIGITS = 4


def score_question(question: Question, results: list[CheckResult]) -> QuestionResult:
    """Score one question from its checks' results (already run, in spec order)."""
    earning = [r for r in results if r.earns > 0]
    total_weight = sum(r.earns for r in earning)
    max_score = question.points if earning else 0.0
    earned = 0.0
    allotted = 0.0
    for index, result in enumerate(earning):
        share = round(question.points * result.earns / total_weight, DIGITS)
        if index == len(earning) - 1:  # the remainder, so shares add up exactly
            share = round(question.points - allotted, DIGITS)
        allotted += share
        result.max_score = share
        result.score = share if result.passed else 0.0
        earned += result.score
    for result in results:
        if result.deducts > 0:
            result.max_score = 0.0
            penalty = 0.0
            if not result.passed and result.status != Status.NOT_RUN:
                penalty = min(round(question.points * result.deducts, DIGITS), earned)
            result.score = -penalty if penalty else 0.0
            earned -= penalty
    for result in results:
        if result.floor is not None:
            result.max_score = 0.0
            lift = round(question.points * result.floor - max(earned, 0.0), DIGITS)
            result.score = lift if result.passed and lift > 0 else 0.0
            earned += result.score
    score = round(sum(r.score for r in results), DIGITS)
    return QuestionResult(question.name, question.title, max(score, 0.0), round(max_score, DIGITS),
                          question.optional, results)
