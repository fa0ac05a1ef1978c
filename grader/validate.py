"""Prove an assignment's checks before any student submits: `grader validate`.

`validate(assignment)` lints the spec against its checks module and
reference, grades the reference (full marks, every check passing), the
starter (zero, no grader error), every mutant catalogued in
assignments/NAME/mutants.yaml (grader.mutants: each is applied to the
reference at run time, written to a temporary file and graded; it must lose
points on exactly the questions under its `loses`) and the reference and
first mutant twice (identical reports). A mutant that no longer applies to
the reference is a shortfall of that mutant. Everything comes back as plain
data; nothing is printed.

Raises SpecError (from loading) when the spec, the checks module or the
shape of mutants.yaml is broken.
"""

from __future__ import annotations

import ast
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import mutants as mutants_module
from .checks import RegisteredCheck, load_registry
from .errors import SpecError
from .mutants import Mutant, MutantError
from .outcome import Status
from .results import Report
from .runner import grade
from .spec import Assignment
from .starter import MarkerError, make_starter

EPS = 1e-6  # points; scores are rounded to 4 digits


@dataclass(frozen=True)
class Finding:
    """One line of the verdict: what was checked, whether it held, and why."""

    step: str
    name: str
    ok: bool
    detail: str


@dataclass
class MutantResult:
    """A catalogued mutant and how grading it went; `problem` is "" when caught."""

    name: str
    mistake: str
    declared: tuple[str, ...]
    lost: dict[str, float] = field(default_factory=dict)
    failed_checks: tuple[str, ...] = ()
    problem: str = ""
    source: str = ""  # the reference with the mutant's edits made ("" when they do not apply)

    @property
    def caught(self) -> bool:
        return not self.problem


@dataclass
class Validation:
    """Everything `validate` found about one assignment."""

    assignment: str
    checks: tuple[str, ...]
    lint: list[Finding]
    grading: list[Finding]
    mutants: list[MutantResult]

    @property
    def caught(self) -> int:
        return sum(m.caught for m in self.mutants)

    @property
    def ok(self) -> bool:
        return not self.shortfalls()

    def shortfalls(self) -> list[str]:
        """One sentence per thing that fell short (empty when validation passed)."""
        out = [f"{f.step}: {f.name}: {f.detail}" for f in self.lint + self.grading if not f.ok]
        out += [f"mutant {m.name}: {m.problem}" for m in self.mutants if m.problem]
        if not self.mutants:
            out.append(f"mutants: none catalogued in assignments/{self.assignment}/{mutants_module.FILENAME}")
        return out

    def catches(self) -> dict[str, list[str]]:
        """For each check of the spec, in order, the mutants it failed on."""
        table: dict[str, list[str]] = {name: [] for name in self.checks}
        for mutant in self.mutants:
            for name in mutant.failed_checks:
                table.setdefault(name, []).append(mutant.name)
        return table


# -- spec lint ------------------------------------------------------------------

def lint(assignment: Assignment) -> list[Finding]:
    """Cross-check spec, checks module and reference; raise SpecError if they do not load."""
    registry = load_registry(assignment)
    file = str(assignment.folder / "assignment.yaml")
    questions = assignment.questions
    checks = [c for q in questions for c in q.checks]
    findings = []

    def add(name: str, problems: list[str], detail: str) -> None:
        findings.append(Finding("lint", name, not problems, "; ".join(problems) or detail))

    summed = sum(q.points for q in questions)
    add("points add up", [] if abs(summed - assignment.total_points) < 1e-9 else
        [f"{file}: total_points: is {assignment.total_points:g} but the questions add up to {summed:g}"],
        f"{' + '.join(f'{q.points:g}' for q in questions)} = {assignment.total_points:g}")
    add("names unique", [f"{kind} name {n!r} is used twice" for kind, names in
                         (("question", [q.name for q in questions]), ("check", [c.name for c in checks]))
                         for n in sorted({n for n in names if names.count(n) > 1})],
        f"{len(questions)} questions, {len(checks)} checks")
    add("functions exercised", _unexercised(file, assignment, registry),
        f"each of {len(assignment.functions)} functions is called by a check of its question")
    add("reference signatures", _signature_problems(file, assignment),
        f"{assignment.reference.name} defines every function with the spec's parameters")
    add("every question has a visible check",
        [f"{file}: questions[{i}].checks: {q.name!r} has no visible check"
         for i, q in enumerate(questions) if not any(c.visibility == "visible" for c in q.checks)],
        f"all {len(questions)} questions")
    hidden = [c for c in checks if c.visibility != "visible"]
    add("hidden checks exist",
        [f"{file}: {c.name!r} is {c.visibility} but not registered in {assignment.checks_module.name}"
         for c in hidden if c.name not in registry],
        f"{len(hidden)} not visible to students: "
        + (", ".join(f"{c.name} ({c.visibility})" for c in hidden) or "none"))
    listed = {c.name for c in checks}
    add("every registered check is listed",
        [f"{assignment.checks_module}: check {name!r} is registered but no question of {file} lists it"
         for name in registry if name not in listed],
        f"{len(registry)} checks in {assignment.checks_module.name}, all in the spec")
    return findings


def _unexercised(file: str, assignment: Assignment, registry: dict[str, RegisteredCheck]) -> list[str]:
    problems = []
    owned = {f for q in assignment.questions for f in q.functions}
    for fname in assignment.functions:
        if fname not in owned:
            problems.append(f"{file}: functions.{fname}: belongs to no question, so no check exercises it")
    for qi, question in enumerate(assignment.questions):
        # a check exercises the functions it calls, and those that the drivers it calls use
        called = {u for c in question.checks if c.name in registry for f in registry[c.name].calls
                  for u in (assignment.drivers[f].uses if f in assignment.drivers else (f,))}
        for fname in question.functions:
            if fname not in called:
                problems.append(f"{file}: questions[{qi}].functions: {fname} is called by none of "
                                f"{question.name!r}'s checks")
    return problems


def _signature_problems(file: str, assignment: Assignment) -> list[str]:
    tree = ast.parse(assignment.reference.read_text(encoding="utf-8"))
    defined: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined[node.name] = tuple(a.arg for a in node.args.posonlyargs + node.args.args)
        elif isinstance(node, ast.ClassDef):  # a class is called with its __init__'s parameters
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
            defined[node.name] = tuple(a.arg for a in init.args.posonlyargs + init.args.args)[1:] \
                if init is not None else ()
    shown = _shown(assignment)
    problems = []
    for fname, params in assignment.functions.items():
        if fname not in defined:
            problems.append(f"{file}: functions.{fname}: {shown} defines no such function or class")
        elif defined[fname] != params:
            problems.append(f"{file}: functions.{fname}: the spec says ({', '.join(params)}) but the "
                            f"reference takes ({', '.join(defined[fname])})")
    return problems


def _shown(assignment: Assignment) -> str:
    """The reference as a person finds it: reference/NAME.py, or its place in the assignment folder."""
    path = assignment.reference
    if assignment.folder in path.parents or assignment.folder.resolve() in path.parents:
        return f"{assignment.folder.name}/{path.name}"
    return f"reference/{path.name}"


# -- mutants --------------------------------------------------------------------

def read_mutant(mutant: Mutant, assignment: Assignment, reference: str | None = None) -> MutantResult:
    """Apply a catalogued mutant to the reference; `problem` says why it cannot be graded, if so.

    `reference` is the reference's source (read from the assignment when None).
    """
    result = MutantResult(mutant.name, mutant.description, mutant.loses)
    if reference is None:
        reference = assignment.reference.read_text(encoding="utf-8")
    try:
        result.source = mutants_module.mutate(assignment, mutant, reference)
    except MutantError as exc:
        result.problem = f"does not apply: {exc}"
        return result
    try:
        tree = ast.parse(result.source)
    except SyntaxError as exc:
        result.problem = f"does not parse once edited: {exc}"
        return result
    if _code_of(tree) == _code_of(ast.parse(reference)):
        result.problem = "its edit leaves the reference's code unchanged: make the mistake it describes"
    return result


def _code_of(tree: ast.Module) -> str:
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the module docstring
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def judge_mutant(mutant: MutantResult, report: Report) -> MutantResult:
    """Fill in what grading the mutant cost and whether that matches its declaration."""
    mutant.lost = {q.name: round(q.max_score - q.score, 4) for q in report.questions
                   if q.score < q.max_score - EPS}
    mutant.failed_checks = tuple(c.name for q in report.questions for c in q.checks if not c.passed)
    errors = [c.name for q in report.questions for c in q.checks if c.status == Status.ERROR]
    survived = [q for q in mutant.declared if q not in mutant.lost]
    leaked = [q for q in mutant.lost if q not in mutant.declared]
    problems = []
    if errors:
        problems.append(f"grader error in check(s) {', '.join(errors)}")
    if survived:
        problems.append(f"survives: keeps full points on {', '.join(survived)}")
    if leaked:
        problems.append(f"leaks: loses points on {', '.join(leaked)}, which it does not declare")
    mutant.problem = "; ".join(problems)
    return mutant


# -- grading --------------------------------------------------------------------

def judge_reference(report: Report) -> Finding:
    """The reference must score full marks with every check passing."""
    failed = [c for q in report.questions for c in q.checks if not c.passed]
    detail = f"{report.score:g}/{report.max_score:g}, {_count(report)} checks passed"
    if failed:
        first = failed[0].message.strip().splitlines()[0] if failed[0].message.strip() else ""
        detail += f"; failed: {', '.join(f'{c.name} ({c.status.value})' for c in failed)}: {first}"
    return Finding("grading", "reference scores full marks", not failed and
                   abs(report.score - report.max_score) < EPS, detail)


def judge_starter(report: Report) -> Finding:
    """The starter must score zero and no check may end in a grader error."""
    errors = [c.name for q in report.questions for c in q.checks if c.status == Status.ERROR]
    detail = f"{report.score:g}/{report.max_score:g}"
    if errors:
        detail += f"; grader error in {', '.join(errors)}"
    if report.score > EPS:
        detail += "; earned on " + ", ".join(q.name for q in report.questions if q.score > EPS)
    return Finding("grading", "starter scores zero", report.score <= EPS and not errors,
                   detail + ("" if errors else ", no grader errors"))


def judge_determinism(pairs: dict[str, tuple[Report, Report]]) -> Finding:
    """Each pair of reports of the same file must be identical (timings left out)."""
    differ = [name for name, (a, b) in pairs.items() if a.to_dict() != b.to_dict()]
    graded = " and ".join(pairs)
    return Finding("grading", "deterministic", not differ,
                   f"{graded} graded twice: " + (f"{', '.join(differ)} differ" if differ else "identical reports"))


def _count(report: Report) -> str:
    checks = [c for q in report.questions for c in q.checks]
    return f"{sum(c.passed for c in checks)}/{len(checks)}"


def validate(assignment: Assignment, *, jobs: int = 2) -> Validation:
    """Lint, then grade reference, starter and mutants `jobs` at a time (see module docstring)."""
    findings = lint(assignment)
    reference_source = assignment.reference.read_text(encoding="utf-8")
    mutants = [read_mutant(m, assignment, reference_source) for m in mutants_module.load(assignment)]
    runnable = [m for m in mutants if not m.problem]
    with tempfile.TemporaryDirectory(prefix="gradecheck-validate-") as scratch:
        paths = {}
        (Path(scratch) / "mutants").mkdir()
        for mutant in runnable:  # each mutated reference is graded as a file of its own
            paths[mutant.name] = Path(scratch) / "mutants" / f"{mutant.name}.py"
            paths[mutant.name].write_text(mutant.source, encoding="utf-8")
        starter = Path(scratch) / assignment.student_file
        try:
            stub = make_starter(reference_source)
        except MarkerError as exc:
            raise SpecError(str(assignment.reference), "# BEGIN SOLUTION / # END SOLUTION", str(exc)) from None
        starter.write_text(stub, encoding="utf-8")
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            def submit(path: Path) -> Future:
                return pool.submit(grade, assignment, path, visibility="all")

            reference = [submit(assignment.reference), submit(assignment.reference)]
            starter_report = submit(starter)
            graded = [(m, submit(paths[m.name])) for m in runnable]
            again = submit(paths[runnable[0].name]) if runnable else None
            for mutant, future in graded:
                try:
                    judge_mutant(mutant, future.result())
                except Exception as exc:  # an engine bug: name it on the mutant and go on
                    mutant.problem = f"grading it raised {exc!r}"
            pairs = {"reference": (reference[0].result(), reference[1].result())}
            if again is not None and not graded[0][1].exception() and not again.exception():
                pairs[f"mutant {runnable[0].name}"] = (graded[0][1].result(), again.result())
            grading = [judge_reference(reference[0].result()), judge_starter(starter_report.result()),
                       judge_determinism(pairs)]
    return Validation(assignment.name, tuple(c.name for q in assignment.questions for c in q.checks),
                      findings, grading, mutants)

