"""Prove an assignment's checks before any student submits: `grader validate`.

`validate(assignment)` lints the spec against its checks module and
reference, grades the reference (full marks, every check passing), the
starter (zero, no grader error), every mutant catalogued in
assignments/NAME/mutants.yaml (grader.mutants: each is applied to the
reference at run time, written to a temporary file (a temporary package, for a
package handin) and graded; it must lose points on exactly the questions under
its `loses`) and the reference and first mutant twice (identical reports). A mutant that no longer applies to
the reference is a shortfall of that mutant. Everything comes back as plain
data; nothing is printed.

Raises SpecError (from loading) when the spec, the checks module or the
shape of mutants.yaml is broken.
"""

from __future__ import annotations

import ast
import sys
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
from .spec import ROOT, Assignment
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
    source: str = ""  # the reference with the mutant's edits made ("" when they do not apply,
    #                   and for a package handin: see `sources`)
    # every file of the reference by path (grader.mutants.reference_sources), edits made
    sources: dict[str, str] = field(default_factory=dict)

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
    graded = [q for q in questions if not q.manual]  # a manual question has no checks at all
    add("every question has a visible check",
        [f"{file}: questions[{i}].checks: {q.name!r} has no visible check"
         for i, q in enumerate(questions) if not q.manual and not any(c.visibility == "visible" for c in q.checks)],
        f"all {len(graded)} questions" + (f" ({len(questions) - len(graded)} graded by hand)"
                                          if len(graded) < len(questions) else ""))
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
    problems = []
    for fname, params in assignment.functions.items():
        path = _defining_file(assignment, fname)
        defined = _definitions(path) if path is not None else {}
        shown = _shown(assignment, path)
        if fname not in defined:
            problems.append(f"{file}: functions.{fname}: {shown} defines no such function or class")
            continue
        names, required = defined[fname]
        # the spec names what callers pass: the reference may take more, with defaults
        if names[:len(params)] != params or len(params) < required:
            problems.append(f"{file}: functions.{fname}: the spec says ({', '.join(params)}) but the "
                            f"reference takes ({', '.join(names)})")
    return problems


def _defining_file(assignment: Assignment, function: str) -> Path | None:
    """The reference file that must define `function`: the reference itself, or for a
    package handin the file of the function's module (a.b: a/b.py or a/b/__init__.py)."""
    if not assignment.package:
        return assignment.reference
    module = assignment.homes.get(function, assignment.module).replace(".", "/")
    for candidate in (assignment.reference / f"{module}.py", assignment.reference / module / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _definitions(path: Path) -> dict[str, tuple[tuple[str, ...], int]]:
    """Top-level functions and classes of a file: the positional parameters they are called
    with (a class: its __init__'s, self left out) and how many of them have no default."""
    def positional(arguments: ast.arguments, skip: int) -> tuple[tuple[str, ...], int]:
        names = tuple(a.arg for a in arguments.posonlyargs + arguments.args)[skip:]
        return names, max(0, len(names) - len(arguments.defaults))

    defined: dict[str, tuple[tuple[str, ...], int]] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined[node.name] = positional(node.args, 0)
        elif isinstance(node, ast.ClassDef):
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
            defined[node.name] = positional(init.args, 1) if init is not None else ((), 0)
    return defined


def _shown(assignment: Assignment, path: Path | None = None) -> str:
    """A reference file as a person finds it: reference/NAME.py, its place in the assignment
    folder, or its path in a reference package."""
    path = path if path is not None else assignment.reference
    for root, prefix in ((assignment.folder.resolve(), f"{assignment.folder.name}/"),
                         ((ROOT / "reference").resolve(), "reference/")):
        try:
            return prefix + path.resolve().relative_to(root).as_posix()
        except ValueError:
            continue
    if assignment.package and path == assignment.reference:
        return f"reference/{path.name}/"
    return f"the reference's {path.name}" if path.is_file() else \
        f"reference/{assignment.reference.name}/ (no file for {path.name})"


# -- mutants --------------------------------------------------------------------

def read_mutant(mutant: Mutant, assignment: Assignment,
                reference: str | dict[str, str] | None = None) -> MutantResult:
    """Apply a catalogued mutant to the reference; `problem` says why it cannot be graded, if so.

    `reference` is the reference's source (read from the assignment when None): its
    text, or every file's text by path (grader.mutants.reference_sources).
    """
    result = MutantResult(mutant.name, mutant.description, mutant.loses)
    if reference is None:
        sources = mutants_module.reference_sources(assignment)
    elif isinstance(reference, str):
        sources = {assignment.reference.name: reference}
    else:
        sources = dict(reference)
    try:
        result.sources = mutants_module.mutate_sources(assignment, mutant, sources)
    except MutantError as exc:
        result.problem = f"does not apply: {exc}"
        return result
    if not assignment.package:
        result.source = next(iter(result.sources.values()))
    changed = [name for name, text in result.sources.items() if text != sources[name]]
    trees = {}
    for name in changed:
        try:
            trees[name] = ast.parse(result.sources[name])
        except SyntaxError as exc:
            where = f" ({name})" if assignment.package else ""
            result.problem = f"does not parse once edited{where}: {exc}"
            return result
    if all(_code_of(trees[name]) == _code_of(ast.parse(sources[name])) for name in changed):
        result.problem = "its edit leaves the reference's code unchanged: make the mistake it describes"
    return result


def mutant_handins(assignment: Assignment, folder: Path, sources: dict[str, str] | None = None
                   ) -> tuple[list[MutantResult], dict[str, Path]]:
    """Every catalogued mutant, applied (`problem` says why one cannot be graded), and each
    one that applies written under `folder` as a handin of its own, by name."""
    sources = mutants_module.reference_sources(assignment) if sources is None else sources
    mutants = [read_mutant(m, assignment, sources) for m in mutants_module.load(assignment)]
    paths = {m.name: mutants_module.write_handin(assignment, m.sources, folder / m.name)
             for m in mutants if not m.problem}
    return mutants, paths


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
        # what the undeclared loss was, to tell a weak check from a slow or loaded machine
        why = next((c for q in report.questions if q.name in leaked for c in q.checks if not c.passed), None)
        said = why.message.strip().splitlines()[0][:300] if why is not None and why.message.strip() else ""
        problems.append(f"leaks: loses points on {', '.join(leaked)}, which it does not declare"
                        + (f" ({why.name}: {said})" if why is not None else ""))
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


def _progress_bar(total: int):
    """A progress bar with an estimated finish on stderr when it is a terminal (tqdm, as
    grade-all's); nothing in a log."""
    from tqdm import tqdm

    return tqdm(total=total, unit="grade", desc="validate", file=sys.stderr, dynamic_ncols=True,
                disable=not sys.stderr.isatty())


def validate(assignment: Assignment, *, jobs: int = 2) -> Validation:
    """Lint, then grade reference, starter and mutants `jobs` at a time (see module docstring)."""
    findings = lint(assignment)
    sources = mutants_module.reference_sources(assignment)
    with tempfile.TemporaryDirectory(prefix="gradecheck-validate-") as scratch:
        mutants, paths = mutant_handins(assignment, Path(scratch) / "mutants", sources)
        runnable = [m for m in mutants if not m.problem]
        stubs = {}
        for name, text in sources.items():  # every file of a package: those without markers stay
            try:
                stubs[name] = make_starter(text)
            except MarkerError as exc:
                place = assignment.reference / name if assignment.package else assignment.reference
                raise SpecError(str(place), "# BEGIN SOLUTION / # END SOLUTION", str(exc)) from None
        starter = mutants_module.write_handin(assignment, stubs, Path(scratch) / "starter")
        bar = _progress_bar(total=len(runnable) + 3 + bool(runnable))
        with bar, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            def submit(path: Path) -> Future:
                future = pool.submit(grade, assignment, path, visibility="all")
                future.add_done_callback(lambda _done: bar.update(1))
                return future

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

