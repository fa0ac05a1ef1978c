"""Scoring: earning checks share points, deducting checks only take away."""

from __future__ import annotations

from grader.outcome import Status
from grader.results import CheckResult
from grader.scoring import score_question
from grader.spec import CheckSpec, Question


def question(*checks: CheckSpec, points: float = 10) -> Question:
    return Question("q", points, ("f",), checks)


def result(spec: CheckSpec, passed: bool) -> CheckResult:
    return CheckResult(spec.name, "q", Status.PASSED if passed else Status.FAILED, "" if passed else "no",
                       spec.visibility, spec.earns, spec.deducts)


EARN_A, EARN_B = CheckSpec("a", "q", earns=1), CheckSpec("b", "q", earns=2)
GUARD = CheckSpec("g", "q", deducts=0.5)


def score(outcomes, points=10):
    specs = [s for s, _ in outcomes]
    return score_question(question(*specs, points=points), [result(s, ok) for s, ok in outcomes])


def test_all_passed_is_full_marks():
    q = score([(EARN_A, True), (EARN_B, True), (GUARD, True)])
    assert q.score == q.max_score == 10


def test_shares_follow_weights_and_add_up_exactly():
    q = score([(EARN_A, True), (EARN_B, False), (GUARD, True)])
    assert q.score == 3.3333
    q = score([(EARN_A, True), (EARN_B, True)], points=10)
    assert sum(c.max_score for c in q.checks) == 10


def test_deduction_never_goes_below_zero_and_checks_sum_to_question():
    q = score([(EARN_A, False), (EARN_B, False), (GUARD, False)])
    assert q.score == 0
    q = score([(EARN_A, True), (EARN_B, False), (GUARD, False)])
    assert q.score == 0 and abs(sum(c.score for c in q.checks) - q.score) < 1e-9
    q = score([(EARN_A, True), (EARN_B, True), (GUARD, False)])
    assert q.score == 5 and q.checks[2].score == -5 and q.checks[2].max_score == 0


def test_trivial_answer_passing_only_properties_scores_zero():
    q = score([(EARN_A, False), (EARN_B, False), (GUARD, True)])
    assert q.score == 0
