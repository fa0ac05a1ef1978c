"""Load and validate assignments/NAME/assignment.yaml into an `Assignment`.

Every problem is reported as a `SpecError` naming the file, the key and what
is wrong, before any student code runs.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError
from .sandbox import levels
from .sandbox.limits import Limits

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "assignments"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class CheckSpec:
    """One check: earns a share of its question's points, deducts a fraction, or (a
    `floor`) lifts the question to at least that fraction when it passes."""

    name: str
    question: str
    earns: float = 0.0
    deducts: float = 0.0
    visibility: str = "visible"
    call_seconds: float | None = None
    hint: str = ""
    # seconds of student code this check may use on its own, outside the submission's
    # shared total_seconds (a training run); None: it draws on the shared budget
    budget_seconds: float | None = None
    # a credit floor in [0, 1]: passing lifts the question's score to floor * points
    # (0: the check only tells the student what it found); None: not a floor check
    floor: float | None = None


@dataclass(frozen=True)
class Question:
    """A graded question: its points, the student functions it covers, its checks."""

    name: str
    points: float
    functions: tuple[str, ...]
    checks: tuple[CheckSpec, ...]
    optional: bool = False
    title: str = ""
    manual: bool = False  # graded by hand (a written question): never by the grader
    rubric: str = ""


@dataclass(frozen=True)
class Driver:
    """A course-written function of harness.py, run in the worker: its parameters and
    the student names it exercises."""

    name: str
    params: tuple[str, ...]
    uses: tuple[str, ...]


@dataclass(frozen=True)
class DataFixture:
    """A data file staged read-only into the sandbox, named in calls (never sent).

    `env` names a variable staff may set to a real dataset's file instead."""

    name: str
    file: Path
    env: str | None = None

    def path(self) -> Path:
        """The file to stage: the environment's choice when set, else the embedded default."""
        chosen = os.environ.get(self.env, "").strip() if self.env else ""
        if chosen:
            path = Path(chosen).expanduser()
            if not path.is_file() or path.suffix != ".npz":
                raise SpecError(self.env or "", "(environment)",
                                f"points at {chosen!r}, which is not an .npz file")
            return path
        return self.file


@dataclass(frozen=True)
class Assignment:
    """Everything the engine needs to grade one assignment."""

    name: str
    title: str
    folder: Path
    library: str
    student_file: str  # the one .py file of a single-file handin; "" for a package handin
    module: str
    reference: Path
    checks_module: Path
    total_points: float
    functions: dict[str, tuple[str, ...]]
    questions: tuple[Question, ...]
    limits: Limits
    max_examples: int = 25
    notebook_mode: str = "definitions"
    isolation: str = levels.DEFAULT_MINIMUM  # the weakest sandbox student code may run in
    judged_dtype: str = "float32"  # results are judged at this dtype's tolerance, whatever they are
    # each platform's job limit in seconds: the grader plans inside it
    platform_limits: dict[str, float] = field(default_factory=lambda: dict(PLATFORM_LIMITS))
    extra: dict[str, Any] = field(default_factory=dict)
    # what the student hands in: one .py file, or folders ending in "/" and files
    student_files: tuple[str, ...] = ()
    # for a package handin: student function name -> the module that defines it
    homes: dict[str, str] = field(default_factory=dict)
    # parts of the handout's local grade (./grade.sh 1, ./grade.sh m): name -> questions
    parts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    harness: Path | None = None  # course code imported in the worker after the student's
    # the module the checks' ctx.reference is (float64 formulas, say); None: the reference
    judge_reference: Path | None = None
    drivers: dict[str, Driver] = field(default_factory=dict)
    data: dict[str, DataFixture] = field(default_factory=dict)

    @property
    def automatic_points(self) -> float:
        """The points the grader awards: all but those of questions graded by hand."""
        return round(sum(q.points for q in self.questions if not q.manual), 4)

    @property
    def package(self) -> bool:
        """Whether the student hands in a package (several files) rather than one file."""
        return not self.student_file

    def source_files(self) -> list[Path]:
        """Every file the grading depends on: spec, checks, reference, harness, data."""
        files = [self.folder / "assignment.yaml", self.checks_module]
        files += sorted(p for p in self.reference.rglob("*.py")) if self.reference.is_dir() else [self.reference]
        if self.judge_reference is not None:
            files.append(self.judge_reference)
        if self.harness is not None:
            files.append(self.harness)
        files += [fixture.path() for fixture in self.data.values()]
        # the handout's local grader keeps its spec as public/assignment.json, not here
        return [path for path in files if path.is_file()]

    def data_files(self) -> dict[str, Path]:
        """Each data fixture's file to stage into the sandbox (staff's real dataset when set)."""
        return {name: fixture.path() for name, fixture in self.data.items()}

    def params(self, name: str) -> tuple[str, ...]:
        """The parameter names of a student function or driver (KeyError if neither)."""
        if name in self.functions:
            return self.functions[name]
        return self.drivers[name].params

    def question(self, name: str) -> Question:
        """The question called `name` (KeyError if there is none)."""
        for question in self.questions:
            if question.name == name:
                return question
        raise KeyError(name)


def resolve(assignment: str | Path) -> Path:
    """Map a folder name under assignments/ or a path to the assignment folder."""
    candidate = Path(assignment)
    if candidate.is_dir() and (candidate / "assignment.yaml").is_file():
        return candidate.resolve()
    named = ASSIGNMENTS / str(assignment)
    if named.is_dir():
        return named
    known = sorted(p.name for p in ASSIGNMENTS.iterdir() if (p / "assignment.yaml").is_file()) \
        if ASSIGNMENTS.is_dir() else []
    raise SpecError(str(assignment), "ASSIGNMENT",
                    f"no such assignment (known: {', '.join(known) or 'none'})")


class _Reader:
    """Typed access to a YAML mapping that reports errors with their key path."""

    def __init__(self, file: str, data: Any, path: str):
        self.file, self.path = file, path
        if not isinstance(data, dict):
            self.fail("", f"must be a mapping, got {type(data).__name__}")
        self.data = data

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, problem: str):
        raise SpecError(self.file, self.key(name) if name else self.path or "(top level)", problem)

    def get(self, name: str, kind: type | tuple, default: Any = ...) -> Any:
        if name not in self.data:
            if default is ...:
                self.fail(name, "is required")
            return default
        value = self.data[name]
        if kind in (float, (int, float)) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            wanted = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.fail(name, f"must be a {wanted}, got {value!r}")
        return value

    def unknown(self, allowed: set[str]) -> None:
        extra = sorted(set(self.data) - allowed)
        if extra:
            self.fail(extra[0], f"is not a known key (allowed: {', '.join(sorted(allowed))})")


def parse_yaml(text: str, file: str) -> Any:
    """The YAML document in `text`; SpecError (naming `file`) when it is not valid YAML.

    libyaml parses it when PyYAML has it (a tenth of the time of the pure-Python
    parser, and every grade starts here); a document it rejects is parsed again by
    the pure-Python parser, whose message also shows the offending line.
    """
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(file, "(syntax)", f"is not valid YAML: {exc}") from None


def load(assignment: str | Path) -> Assignment:
    """Read and validate an assignment; raise SpecError naming file and key."""
    folder = resolve(assignment)
    path = folder / "assignment.yaml"
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(file, "(file)", "does not exist") from None
    data = parse_yaml(text, file)
    top = _Reader(file, data, "")
    top.unknown({"name", "title", "library", "student_file", "student_files", "module", "reference", "checks",
                 "total_points", "functions", "questions", "limits", "hypothesis", "notebook",
                 "isolation", "dtype", "platforms", "extra", "harness", "drivers", "data", "parts",
                 "judge_reference"})
    name = top.get("name", str)
    if name != folder.name:
        top.fail("name", f"is {name!r} but the folder is {folder.name!r}")
    library = top.get("library", str)
    if library not in ("torch", "numpy"):
        top.fail("library", f"must be torch or numpy, got {library!r}")
    student_files = _student_files(top)
    student_file = student_files[0] if len(student_files) == 1 and "/" not in student_files[0] else ""
    if student_file:
        module = top.get("module", str, student_file[:-3])
    else:
        module = top.get("module", str)  # the package imported first
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$", module) \
                or module.split(".")[0] not in {f.rstrip("/").split("/")[0].removesuffix(".py") for f in student_files}:
            top.fail("module", f"must be a package among student_files, got {module!r}")
    named = top.get("reference", str)
    if not student_file:  # a package handin: reference/NAME/ mirrors the student's layout
        # (a self-contained assignment, a test's, names a folder of its own ending in /)
        reference = (folder / named).resolve() if named.endswith("/") else ROOT / "reference" / named
        missing = [f for f in student_files if not (reference / f).exists()]
        if not reference.is_dir() or missing:
            top.fail("reference", f"reference/{named}/ must mirror the student's layout "
                                  f"(missing: {', '.join(missing) or named + '/'})")
    else:  # a module of reference/, or (a self-contained assignment, a test's) a file of its folder
        reference = _module_file(top, "reference", folder)
    judge_reference = _judge_reference(top, folder, reference)
    checks_module = folder / f"{top.get('checks', str, 'checks')}.py"
    if not checks_module.is_file():
        top.fail("checks", f"{checks_module.name} is not in {folder.name}/")

    functions = _functions(file, top)
    harness, drivers = _harness(file, top, folder, functions)
    data = _data(file, top, folder)
    questions = _questions(file, top, functions)
    parts = _parts(file, top, questions)
    total = top.get("total_points", (int, float))
    summed = sum(q.points for q in questions)
    if abs(summed - total) > 1e-9:
        top.fail("total_points", f"is {total:g} but the questions' points add up to {summed:g}")
    limits = _limits(file, top)
    hyp = _Reader(file, top.get("hypothesis", dict, {}), "hypothesis")
    hyp.unknown({"max_examples"})
    max_examples = hyp.get("max_examples", int, 25)
    if max_examples < 1:
        hyp.fail("max_examples", "must be at least 1")
    notebook = _Reader(file, top.get("notebook", dict, {}), "notebook")
    notebook.unknown({"run"})
    mode = notebook.get("run", str, "definitions")
    if mode not in ("definitions", "all"):
        notebook.fail("run", f"must be definitions or all, got {mode!r}")
    platform_limits = _platforms(file, top)
    judged = top.get("dtype", str, "float32")
    if judged not in ("float16", "bfloat16", "float32", "float64"):
        top.fail("dtype", f"must be float16, bfloat16, float32 or float64, got {judged!r}")
    isolation = top.get("isolation", str, levels.DEFAULT_MINIMUM)
    if isolation not in levels.LEVELS:
        top.fail("isolation", f"must be one of {', '.join(reversed(levels.LEVELS))}, got {isolation!r}")
    return Assignment(
        name=name, title=top.get("title", str, name), folder=folder, library=library,
        student_file=student_file, student_files=student_files, module=module, reference=reference,
        homes=_homes(file, top, module) if not student_file else {}, parts=parts,
        checks_module=checks_module, total_points=total, functions=functions,
        questions=questions, limits=limits, max_examples=max_examples, notebook_mode=mode,
        isolation=isolation, judged_dtype=judged, platform_limits=platform_limits,
        extra=top.get("extra", dict, {}), harness=harness, drivers=drivers, data=data,
        judge_reference=judge_reference,
    )


def _module_file(top: "_Reader", key: str, folder: Path) -> Path:
    """The Python file `key` names: NAME is reference/NAME.py; a name ending in .py is a
    file of the assignment's own folder."""
    named = top.get(key, str)
    if named.endswith(".py"):
        path = (folder / named).resolve()
        if not path.is_file() or folder.resolve() not in path.parents:
            top.fail(key, f"{named} is not a file of {folder.name}/")
        return path
    path = ROOT / "reference" / f"{named}.py"
    if not NAME.match(named) or not path.is_file():
        top.fail(key, f"{path.name} is not in reference/")
    return path


def _judge_reference(top: "_Reader", folder: Path, reference: Path) -> Path | None:
    """The file `judge_reference` names, found as `reference` is; None when the key is absent."""
    if "judge_reference" not in top.data:
        return None
    path = _module_file(top, "judge_reference", folder)
    if path == reference:
        top.fail("judge_reference", "names the reference itself: leave the key out instead")
    return path


STUDENT_ENTRY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*(/|\.py)$")


def _student_files(top: _Reader) -> tuple[str, ...]:
    """student_file (one .py name) or student_files (package folders ending in "/", .py files)."""
    if ("student_file" in top.data) == ("student_files" in top.data):
        top.fail("student_file", "give exactly one of student_file (one .py file) or student_files (a package)")
    if "student_file" in top.data:
        name = top.get("student_file", str)
        if "/" in name or not name.endswith(".py") or not NAME.match(name[:-3]):
            top.fail("student_file", f"must be a plain .py file name, got {name!r}")
        return (name,)
    entries = top.get("student_files", list)
    if not entries or not all(isinstance(e, str) and STUDENT_ENTRY.match(e) for e in entries):
        top.fail("student_files", f"must list folders (ending in /) and .py files of the handin, got {entries!r}")
    if not any(e.endswith("/") for e in entries):
        top.fail("student_files", "must name at least one package folder (ending in /); "
                                  "a one-file handin uses student_file")
    return tuple(entries)


def _parts(file: str, top: _Reader, questions: tuple[Question, ...]) -> dict[str, tuple[str, ...]]:
    """Named parts of the assignment a student may grade alone (`./grade.sh m`)."""
    raw = top.get("parts", dict, {})
    known = [q.name for q in questions]
    parts = {}
    for name, members in raw.items():
        name = str(name)
        if not re.match(r"^[A-Za-z0-9_]+$", name) or "/" in name or name.endswith((".py", ".tar", ".ipynb")):
            top.fail(f"parts.{name}", "must be a short plain name (letters, digits, underscores)")
        if not isinstance(members, list) or not members or any(m not in known for m in members):
            top.fail(f"parts.{name}", f"must list questions of the spec (known: {', '.join(known)}), got {members!r}")
        parts[name] = tuple(members)
    return parts


def _homes(file: str, top: _Reader, package: str) -> dict[str, str]:
    """For a package handin: the module defining each student function (the package by default)."""
    homes = {}
    for fname, params in top.get("functions", dict).items():
        home = params.get("module", package) if isinstance(params, dict) else package
        if not isinstance(home, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$", home):
            top.fail(f"functions.{fname}.module", f"must be a dotted module name, got {home!r}")
        homes[fname] = home
    return homes


def _functions(file: str, top: _Reader) -> dict[str, tuple[str, ...]]:
    raw = top.get("functions", dict)
    functions = {}
    for fname, params in raw.items():
        if not isinstance(fname, str) or not NAME.match(fname):
            top.fail(f"functions.{fname}", "is not a valid Python function name")
        if isinstance(params, dict):  # {params: [...], module: a.b} in a package handin
            entry = _Reader(file, params, top.key(f"functions.{fname}"))
            entry.unknown({"params", "module"})
            params = entry.get("params", list)
        if not isinstance(params, list) or not all(isinstance(p, str) and NAME.match(p) for p in params):
            top.fail(f"functions.{fname}", f"must list parameter names, got {params!r}")
        functions[fname] = tuple(params)
    if not functions:
        top.fail("functions", "must name at least one function")
    return functions


def _harness(file: str, top: _Reader, folder: Path,
             functions: dict) -> tuple[Path | None, dict[str, Driver]]:
    """The harness file and the drivers the spec declares, each found in the file."""
    raw = top.get("drivers", dict, {})
    name = top.get("harness", str, "harness" if raw else "")
    if not name:
        return None, {}
    if not NAME.match(name):
        top.fail("harness", f"must name a .py file of {folder.name}/ without its suffix, got {name!r}")
    path = folder / f"{name}.py"
    if not path.is_file():
        top.fail("harness", f"{path.name} is not in {folder.name}/")
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except SyntaxError as exc:
        raise SpecError(str(path), f"line {exc.lineno}", f"is not valid Python: {exc.msg}") from None
    defined = {node.name: [a.arg for a in node.args.args] for node in tree.body
               if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}
    drivers = {}
    for dname, item in raw.items():
        entry = _Reader(file, item, f"drivers.{dname}")
        entry.unknown({"params", "uses"})
        if not isinstance(dname, str) or not NAME.match(dname):
            top.fail(f"drivers.{dname}", "is not a valid Python function name")
        if dname in functions:
            entry.fail("", f"{dname!r} is also a student function: a driver needs a name of its own")
        params = entry.get("params", list, [])
        uses = entry.get("uses", list)
        if not all(isinstance(p, str) and NAME.match(p) for p in params):
            entry.fail("params", f"must list parameter names, got {params!r}")
        if not uses or not all(isinstance(u, str) and u in functions for u in uses):
            entry.fail("uses", f"must list student functions declared under functions, got {uses!r}")
        arguments = defined.get(dname)
        if arguments is None:
            entry.fail("", f"{path.name} defines no public function {dname}()")
        if not arguments or arguments[0] != "kit":
            entry.fail("", f"{dname}() in {path.name} must take `kit` as its first parameter")
        if arguments[1:] != list(params):
            entry.fail("params", f"are {params} but {dname}() in {path.name} takes {arguments[1:]}")
        drivers[dname] = Driver(dname, tuple(params), tuple(uses))
    return path, drivers


def _data(file: str, top: _Reader, folder: Path) -> dict[str, DataFixture]:
    """The data fixtures: name -> an .npz file of the assignment folder (or {file, env})."""
    raw = top.get("data", dict, {})
    fixtures = {}
    for dname, item in raw.items():
        key = f"data.{dname}"
        if not isinstance(dname, str) or not NAME.match(dname):
            top.fail(key, "is not a plain identifier")
        if isinstance(item, str):
            item = {"file": item}
        entry = _Reader(file, item, key)
        entry.unknown({"file", "env"})
        relative = entry.get("file", str)
        path = (folder / relative).resolve()
        if path.suffix != ".npz" or not path.is_file() or folder.resolve() not in path.parents:
            entry.fail("file", f"must be an .npz file inside {folder.name}/, got {relative!r}")
        env = entry.get("env", str, None)
        if env is not None and not re.match(r"^[A-Z][A-Z0-9_]*$", env):
            entry.fail("env", f"must be an environment variable name, got {env!r}")
        fixtures[dname] = DataFixture(dname, path, env)
    return fixtures


def _questions(file: str, top: _Reader, functions: dict) -> tuple[Question, ...]:
    raw = top.get("questions", list)
    if not raw:
        top.fail("questions", "must list at least one question")
    questions, seen_questions, seen_checks = [], set(), set()
    for index, item in enumerate(raw):
        q = _Reader(file, item, f"questions[{index}]")
        q.unknown({"name", "title", "points", "functions", "checks", "optional", "manual", "rubric"})
        qname = q.get("name", str)
        if not NAME.match(qname):
            q.fail("name", f"{qname!r} is not a plain identifier (Autolab problem names allow no colons)")
        if qname in seen_questions:
            q.fail("name", f"{qname!r} is used by two questions")
        seen_questions.add(qname)
        points = q.get("points", (int, float))
        if points <= 0:
            q.fail("points", f"must be above zero, got {points:g}")
        manual = q.get("manual", bool, False)
        if manual:  # a written question: staff grade it by hand, from its rubric
            for key in ("checks", "functions"):
                if q.data.get(key):
                    q.fail(key, "a manual question is graded by hand: it has no checks or functions")
            rubric = q.get("rubric", str, "").strip()
            if not rubric:
                q.fail("rubric", "a manual question needs a rubric: what the graders look for")
            questions.append(Question(qname, points, (), (), q.get("optional", bool, False),
                                      q.get("title", str, ""), manual=True, rubric=rubric))
            continue
        if "rubric" in q.data:
            q.fail("rubric", "only a manual question (manual: true) has a rubric")
        qfunctions = q.get("functions", list)
        for fname in qfunctions:
            if fname not in functions:
                q.fail("functions", f"{fname!r} is not declared under functions")
        checks = []
        for cindex, citem in enumerate(q.get("checks", list)):
            c = _Reader(file, citem, f"{q.path}.checks[{cindex}]")
            c.unknown({"name", "earns", "deducts", "floor", "visibility", "call_seconds", "hint", "budget_seconds"})
            cname = c.get("name", str)
            if cname in seen_checks:
                c.fail("name", f"{cname!r} is used by two checks")
            seen_checks.add(cname)
            earns = c.get("earns", (int, float), 0.0)
            deducts = c.get("deducts", (int, float), 0.0)
            floor = c.get("floor", (int, float), None)
            kinds = (earns > 0) + (deducts > 0) + (floor is not None)
            if kinds != 1 or earns < 0 or deducts < 0:
                c.fail("earns", "exactly one of earns (a weight > 0), deducts (a fraction in (0, 1]) or floor "
                                "(a fraction in [0, 1]) is needed")
            if deducts > 1:
                c.fail("deducts", f"is a fraction of the question's points, at most 1, got {deducts:g}")
            if floor is not None and not 0 <= floor <= 1:
                c.fail("floor", f"is a fraction of the question's points in [0, 1], got {floor:g}")
            visibility = c.get("visibility", str, "visible")
            if visibility not in VISIBILITIES:
                c.fail("visibility", f"must be one of {', '.join(VISIBILITIES)}, got {visibility!r}")
            seconds = c.get("call_seconds", (int, float), None)
            budget = c.get("budget_seconds", (int, float), None)
            for key, value in (("call_seconds", seconds), ("budget_seconds", budget)):
                if value is not None and value <= 0:
                    c.fail(key, f"must be above zero, got {value:g}")
            checks.append(CheckSpec(cname, qname, earns, deducts, visibility, seconds,
                                    c.get("hint", str, ""), budget, None if floor is None else float(floor)))
        if not any(c.earns > 0 for c in checks):
            q.fail("checks", "needs at least one check that earns points (or manual: true and a rubric)")
        questions.append(Question(qname, points, tuple(qfunctions), tuple(checks),
                                  q.get("optional", bool, False), q.get("title", str, "")))
    return tuple(questions)


# platform -> (default job limit, lowest, highest) in seconds
PLATFORM_LIMITS = {"autolab": 180.0, "gradescope": 600.0}
PLATFORM_RANGES = {"autolab": (10.0, 900.0), "gradescope": (60.0, 3600.0)}


def _platforms(file: str, top: _Reader) -> dict[str, float]:
    raw = _Reader(file, top.get("platforms", dict, {}), "platforms")
    raw.unknown(set(PLATFORM_LIMITS))
    limits = dict(PLATFORM_LIMITS)
    for platform in raw.data:
        entry = _Reader(file, raw.get(platform, dict), f"platforms.{platform}")
        entry.unknown({"timeout"})
        value = float(entry.get("timeout", (int, float), PLATFORM_LIMITS[platform]))
        low, high = PLATFORM_RANGES[platform]
        if not low <= value <= high:
            entry.fail("timeout", f"must be between {low:g} and {high:g} seconds, got {value:g}")
        limits[platform] = value
    return limits


def _limits(file: str, top: _Reader) -> Limits:
    raw = _Reader(file, top.get("limits", dict, {}), "limits")
    allowed = {f.name: f for f in fields(Limits)}
    raw.unknown(set(allowed))
    values = {}
    for key in raw.data:
        value = raw.get(key, (int, float))
        if value <= 0:
            raw.fail(key, f"must be above zero, got {value:g}")
        values[key] = int(value) if allowed[key].type in ("int", int) else float(value)
    return Limits(**values)
