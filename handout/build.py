"""Build everything that leaves course staff's hands, under OUT/NAME/:

    handout/ and handout.tar      the student handout (starter, notebook, local grader)
    autolab/                      autograde.tar, autograde-Makefile, README.md (problems)
    gradescope/                   autograder.zip (setup.sh, run_autograder), README.md

The student handout holds the engine, the visible checks and answers recorded
from the reference (handout.record), never the reference or a hidden check:
`find_leaks` guards every file before anything is written. The platform
bundles hold the engine, the reference and all checks. Both carry the
assignment's harness.py (course code, which students may see) and its data
fixtures (each one's embedded file; on a platform, staff may point the
fixture's environment variable at a real dataset). Archives are
byte-for-byte reproducible (handout.archive).

A package handin (the spec's student_files) gets no notebook: its handout holds
the student's folders and files as the reference lays them out, each .py file's
solution regions stubbed (files without any ship as they are), beside the local
grader, which grades those folders in place; make_handin.sh packs them. The
bundles carry the reference's folder (reference/NAME/).

Instructions and installs follow the assignment's library: a numpy
assignment's README, grade.sh, setup.sh and requirements never mention or
install torch; a torch assignment's install torch's CPU build.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from importlib import metadata
from pathlib import Path

from grader import spec as spec_module
from grader.checks import load_registry
from grader.mutants import path_of as catalogue_path, reference_sources
from grader.secret import FILE_NAME as SECRET_FILE
from grader.secret import course_secret, ensure_secret_file
from grader.spec import ROOT, Assignment

from . import archive, local, public
from .archive import Entry, Files
from .notebook import build_notebook, readme_notes
from .record import BuildError, record_visible_checks
from .starter import MarkerError, make_starter, solution_regions

TEMPLATES = Path(__file__).with_name("templates")
# A package handout's stand-in for the reference package (see stand_in).
STAND_IN = "local_grader/stand_in"
HANDOUT_PACKAGE = Path(__file__).parent
# Staff tools that the student's local grader never runs.
STAFF_ONLY = ("__main__.py", "cli.py", "commands/", "demo.py", "validate.py", "mutants.py",
              "starter.py")


def render(template: str, values: dict[str, str]) -> str:
    """A template from handout/templates with each @@KEY@@ replaced."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    if "@@" in text:
        left = text[text.index("@@"):][:40]
        raise BuildError(f"template {template} has a placeholder left: {left!r}")
    return text


def _torch_version() -> str:
    try:
        return metadata.version("torch").split("+")[0]
    except metadata.PackageNotFoundError:
        return "2.13.0"


def _library_values(assignment: Assignment) -> dict[str, str]:
    """What the templates say and install for the assignment's library."""
    if assignment.library == "torch":
        torch = _torch_version()
        return {
            "LIBRARY": "torch",
            "PACKAGES": "torch, numpy, hypothesis, nbformat and pyyaml",
            "PIP": "torch numpy hypothesis nbformat pyyaml",
            "IMAGE": f"torch=={torch} (CPU build), numpy, hypothesis, nbformat and pyyaml",
            "SETUP_INSTALLS": f"it installs torch=={torch} for CPU and the grader's other needs",
            "INSTALL_LIBRARY": (
                "# torch's CPU build: the default index would bring gigabytes of CUDA libraries.\n"
                "python3 -m pip install --no-cache-dir \\\n"
                '    --index-url "${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}" '
                f'"torch=={torch}"'),
            "IMPORT_CHECK": ('python3 -c "import torch, numpy, hypothesis, nbformat, yaml; '
                             "print('torch', torch.__version__)\""),
            "REQUIREMENTS_NOTE": "setup.sh installs\n# torch first, from the CPU index.",
            "STUDENT_REQUIREMENTS": (
                "# What the local grader needs:  python3 -m pip install -r requirements.txt\n"
                "# On Linux, torch's CPU build from PyTorch's CPU index: the default build brings\n"
                "# gigabytes of CUDA libraries, and its import needs more memory than the grader\n"
                "# gives your code. macOS and Windows builds are CPU-only already.\n"
                "--extra-index-url https://download.pytorch.org/whl/cpu\n"
                f'torch=={torch}+cpu; sys_platform == "linux"\n'
                f'torch=={torch}; sys_platform != "linux"\n'
                "numpy\nhypothesis\nnbformat\npyyaml\n"),
            "INSTALL_NOTE": (
                "On Linux this takes torch's CPU build from PyTorch's CPU index (the default build\n"
                "brings gigabytes of CUDA libraries, and its import needs more memory than the\n"
                "grader gives your code); on macOS and Windows, the usual build, CPU-only there.\n"
                "If your machine reaches only PyPI, install the usual build instead:\n"
                f"`python3 -m pip install torch=={torch} numpy hypothesis nbformat pyyaml`."),
        }
    return {
        "LIBRARY": "numpy",
        "PACKAGES": "numpy, hypothesis, nbformat and pyyaml (no torch)",
        "PIP": "numpy hypothesis nbformat pyyaml",
        "IMAGE": "numpy, hypothesis, nbformat and pyyaml (a numpy assignment: no torch)",
        "SETUP_INSTALLS": "it installs numpy and the grader's other needs, and no torch",
        "INSTALL_LIBRARY": "# A numpy assignment: no torch (and none of its CUDA libraries).",
        "IMPORT_CHECK": ('python3 -c "import numpy, hypothesis, nbformat, yaml; '
                         "print('numpy', numpy.__version__)\""),
        "REQUIREMENTS_NOTE": "this is a\n# numpy assignment: no torch.",
        "STUDENT_REQUIREMENTS": ("# What the local grader needs:  python3 -m pip install -r requirements.txt\n"
                                 "# (a numpy assignment: no torch)\nnumpy\nhypothesis\nnbformat\npyyaml\n"),
        "INSTALL_NOTE": "The same line works on Linux, macOS and Windows (`python` there).",
    }


def _names(entries: tuple[str, ...] | list[str]) -> str:
    """`a/`, `b/` and `c.py`, as a README says them."""
    shown = [f"`{e}`" for e in entries]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _handin_values(assignment: Assignment) -> dict[str, str]:
    """What the templates say of the files a student works in and hands in."""
    values = _handin_values_of_files(assignment)
    for name, members in assignment.parts.items():  # ./grade.sh PART
        values["GRADE_USAGE"] += f"\n#   ./grade.sh {name:<7} grades {', '.join(members)} alone"
    return values


def _script_values(values: dict[str, str], command: str) -> dict[str, str]:
    """grade.py's or make_handin.py's values: its command, and a docstring that says what
    the shell script's comments say, with the Python command in place of the script's."""
    script, usage = ("grade", "GRADE_USAGE") if command == "grade" else ("make_handin", "HANDIN_USAGE")
    lines = "\n".join(line[1:].replace(f"./{script}.sh", f"python {script}.py")
                      for line in values[usage].splitlines())
    if command == "grade":
        doc = ("Check your work with the public checks and print a table of scores.\n\n"
               f"Works on Linux, macOS and Windows (on some systems the command is python3):\n{lines}\n"
               f"Run it with the Python that has {values['LIBRARY']} installed (see README.md).")
    else:
        doc = f"Write handin.tar, the file you submit (Linux, macOS and Windows).\n\n{lines}"
    return {**values, "COMMAND": command, "SCRIPT_DOC": doc}


def _handin_values_of_files(assignment: Assignment) -> dict[str, str]:
    if assignment.package:
        entries = _names(assignment.student_files)
        plain = ", ".join(assignment.student_files)
        without = " \\\n        ".join(f'&& [ ! -e "$submission/{e.rstrip("/")}" ]'
                                         for e in assignment.student_files)
        return {
            "ENTRIES": entries,
            "GRADE_USAGE": (f"#   ./grade.sh         grades your {plain} (beside this script)\n"
                            "#   ./grade.sh PATH    grades the folder or handin.tar at PATH instead"),
            "HANDIN_USAGE": (f"# Write handin.tar with what you hand in: {plain} (beside this script;\n"
                             "# ./make_handin.sh FOLDER packs them from FOLDER instead)."),
            "HANDIN_HOLDS": f"{entries}, the student's folders and files",
            "GRADESCOPE_UPLOAD": (
                "Students upload the `handin.tar` that `./make_handin.sh` writes (holding\n"
                f"{entries}), or those folders and files themselves, found\n"
                "side by side however deep they are nested."),
            "WITHOUT_FILES": without,
        }
    student, notebook = assignment.student_file, assignment.student_file[:-3] + ".ipynb"
    return {
        "STUDENT_FILE": student, "NOTEBOOK": notebook,
        "GRADE_USAGE": (f"#   ./grade.sh         grades the file you edited ({student} or {notebook})\n"
                        "#   ./grade.sh FILE    grades FILE"),
        "HANDIN_USAGE": (f"# Write handin.tar with the file you hand in ({student}, or {notebook} if\n"
                         f"# that is what you edited; name a file to choose: ./make_handin.sh {notebook})."),
        "HANDIN_HOLDS": f"`{student}` or `{notebook}`",
        "GRADESCOPE_UPLOAD": (
            f"Students upload `{student}` (or `{notebook}`, or the `handin.tar`\n"
            "that `./make_handin.sh` writes); if a submission holds both files, the `.py`\n"
            "is graded."),
        "WITHOUT_FILES": (f'&& [ ! -e "$submission/{student}" ] \\\n'
                          f'        && [ ! -e "$submission/{notebook}" ]'),
    }


def _values(assignment: Assignment) -> dict[str, str]:
    rows, bullets = [], []
    for q in assignment.questions:
        notes = (["optional"] if q.optional else []) + (["graded by hand"] if q.manual else [])
        rows.append(f"| `{q.name}` | {q.points:g} | {', '.join(notes)} |")
        bullets.append(f"- `{q.name}`: {q.title or q.name}, {q.points:g} points"
                       + (f" ({', '.join(notes)})" if notes else ""))
    # the notebook plan's own paragraph for the README (its data, say), if any; none
    # for a package handin, which has no notebook
    notes = "" if assignment.package else readme_notes(assignment)
    manual = [q for q in assignment.questions if q.manual]
    listed = ", ".join(f"`{q.name}` ({q.points:g})" for q in manual)
    return {
        "NAME": assignment.name, "TITLE": assignment.title,
        "TORCH": _torch_version(), "TOTAL": f"{assignment.total_points:g}",
        "PROBLEMS": "\n".join(rows),
        "QUESTIONS": "\n".join(bullets) + ("\n\nAn optional question counts toward the total like the others: "
                                            "the course calls it optional because the lab does."
                                            if any(q.optional for q in assignment.questions) else ""),
        "NOTEBOOK_NOTES": f"\n{notes.strip()}\n" if notes.strip() else "",
        # questions graded by hand: no score of the grader's; the staff enter them
        "AUTOLAB_MANUAL": (f"\n\nGraded by hand: {listed}. The grader's scores line leaves these "
                           "problems out; enter their scores in Autolab yourselves.") if manual else "",
        "GRADESCOPE_MANUAL": (f"\n\nGraded by hand: {listed}. results.json has no test for them: add "
                              "each to the Gradescope assignment as a manually graded question.")
        if manual else "",
        # each platform's job limit, and a hard stop a few seconds before it
        "AUTOLAB_LIMIT": f"{assignment.platform_limits['autolab']:g}",
        "AUTOLAB_KILL": f"{max(assignment.platform_limits['autolab'] - 3, 5):g}",
        "GRADESCOPE_LIMIT": f"{assignment.platform_limits['gradescope']:g}",
        "GRADESCOPE_KILL": f"{max(assignment.platform_limits['gradescope'] - 5, 5):g}",
        **_library_values(assignment),
        **_handin_values(assignment),
    }


def student_source(assignment: Assignment, reference: str, *, part: str = "") -> str:
    """The starter, its module docstring addressed to students instead of staff.

    The reference's docstring paragraphs that speak of the reference or its
    solution markers are dropped; the others (conventions) are kept. `part` names
    the file of a package handin the starter is (its path in the handin).
    """
    starter = make_starter(reference)
    tree = ast.parse(starter)
    kept = []
    docstring = ast.get_docstring(tree, clean=True)
    if docstring:
        kept = [p for p in docstring.split("\n\n") if not re.search(r"(?i)solution|reference", p)]
    whose = f"your implementation, {part}" if part else "your implementation"
    intro = (f"{assignment.title}: {whose}.\n\n"
             "Replace each `raise NotImplementedError(...)` with your code, keeping the names and\n"
             "arguments; ./grade.sh checks your work (see README.md).")
    text = '"""' + "\n\n".join([intro, *kept]) + '\n"""\n'
    if docstring:
        first = tree.body[0]
        lines = starter.splitlines(keepends=True)
        return text + "".join(lines[first.end_lineno:])
    return text + "\n" + starter


def _json(data: object, *, compact: bool = False) -> bytes:
    if compact:
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    return json.dumps(data, sort_keys=True, indent=1).encode() + b"\n"


def _handed_in(path: str, entries: tuple[str, ...]) -> bool:
    """Whether `path` (inside the handin) lies in one of the student_files entries."""
    return any(path.startswith(e) if e.endswith("/") else path == e for e in entries)


def package_starters(assignment: Assignment) -> tuple[dict[str, str], list[str]]:
    """A package handin's starter: each .py file of the reference inside the student's
    entries (by path in the handin), its solution regions stubbed (a file without any
    shipped as it is); and the lines no file of the handout may hold (of every file of
    the reference, public.telling_lines)."""
    sources = reference_sources(assignment)
    starters: dict[str, str] = {}
    for path, text in sources.items():
        try:
            if _handed_in(path, assignment.student_files):
                starters[path] = student_source(assignment, text, part=path) \
                    if solution_regions(text) else text
        except (MarkerError, SyntaxError) as exc:
            raise BuildError(f"reference/{assignment.reference.name}/{path}: {exc}") from None
    return starters, public.telling_lines(list(sources.values()))


def stand_in(module: str) -> Files:
    """Where a package handout's local grader imports "the reference" from: an empty
    package named as the spec's module (every public check replays its recording)."""
    text = ('"""Stands in for the reference, which the handout does not hold: the public '
            'checks\nreplay the answers recorded from it (public/recorded.json)."""\n').encode()
    parts = module.split(".")
    return {f"{STAND_IN}/{'/'.join(parts[:i])}/__init__.py": Entry(text)
            for i in range(1, len(parts) + 1)}


def student_files(assignment: Assignment) -> Files:
    """Every file of the student handout, by path inside the handout folder.

    A single-file handin gets its starter and its notebook; a package handin gets
    the starter of every file of its folders (no notebook) and a stand-in for the
    reference's package in the local grader."""
    values = _values(assignment)
    checks = load_registry(assignment)
    if assignment.package:
        starters, lines = package_starters(assignment)
        files: Files = {path: Entry(text.encode()) for path, text in sorted(starters.items())}
        files.update(stand_in(assignment.module))
        facts: dict = {"student_files": list(assignment.student_files)}
        readme = render("README-package.md", {
            **values, "ENTRY_ROWS": _entry_rows(assignment, starters)})
    else:
        reference = assignment.reference.read_text(encoding="utf-8")
        lines = public.telling_lines([reference])
        starter = student_source(assignment, reference)
        notebook = build_notebook(assignment, starter)
        facts = {
            "student_file": assignment.student_file, "notebook": values["NOTEBOOK"],
            "starter_digest": local.code_digest(starter, notebook=False),
            "notebook_digest": local.code_digest(notebook, notebook=True),
        }
        files = {assignment.student_file: Entry(starter.encode()),
                 values["NOTEBOOK"]: Entry(notebook.encode())}
        readme = render("README.md", values)
    package = "local_grader/" + public.LOCAL_PACKAGE
    if assignment.parts:  # ./grade.sh PART grades those questions alone
        facts["parts"] = {name: list(members) for name, members in assignment.parts.items()}
    spec_json = _json({**public.public_spec(assignment, checks), "handout": facts})
    checks_source = public.public_checks_source(assignment, checks).encode()
    recorded = _json(record_visible_checks(assignment), compact=True)
    files.update({
        "README.md": Entry(readme.encode()),
        "requirements.txt": Entry(values["STUDENT_REQUIREMENTS"].encode()),
        "grade.sh": Entry(render("grade.sh", values).encode(), executable=True),
        "make_handin.sh": Entry(render("make_handin.sh", values).encode(), executable=True),
        "grade.py": Entry(render("local_script.py", _script_values(values, "grade")).encode()),
        "make_handin.py": Entry(render("local_script.py", _script_values(values, "handin")).encode()),
        f"{package}/__init__.py": Entry(b'"""The local grader: public checks only."""\n'),
        f"{package}/__main__.py": Entry(b"from .local import main\n\nraise SystemExit(main())\n"),
        f"{package}/local.py": Entry((HANDOUT_PACKAGE / "local.py").read_bytes()),
        f"{package}/replay.py": Entry((HANDOUT_PACKAGE / "replay.py").read_bytes()),
        "local_grader/public/assignment.json": Entry(spec_json),
        "local_grader/public/checks.py": Entry(checks_source),
        "local_grader/public/recorded.json": Entry(recorded),
    })
    if assignment.harness is not None:  # course code the drivers run in the sandbox
        files["local_grader/public/harness.py"] = Entry(assignment.harness.read_bytes())
    for name, fixture in sorted(assignment.data.items()):  # the embedded file, as recorded
        files[f"local_grader/public/data/{name}.npz"] = Entry(fixture.file.read_bytes())
    files.update(archive.read_tree(ROOT / "grader", under="local_grader/grader", skip=STAFF_ONLY))
    leaks = public.find_leaks({k: v.data for k, v in files.items()}, lines,
                              public.hidden_names(assignment))
    secret = course_secret(assignment.folder)
    if secret:  # the server's examples must stay unpredictable
        leaks += [f"{path}: the course secret" for path, entry in files.items()
                  if secret.encode() in entry.data or path.endswith(SECRET_FILE)]
    if leaks:
        raise BuildError("the student handout would leak:\n  " + "\n  ".join(leaks))
    return files


def _entry_rows(assignment: Assignment, starters: dict[str, str]) -> str:
    """The README's rows for a package handin's entries: which files hold code to write."""
    rows = []
    for entry in assignment.student_files:
        todo = [p for p, text in sorted(starters.items())
                if _handed_in(p, (entry,)) and local.STUB_MARK in text]
        if entry.endswith("/"):
            where = ", ".join(f"`{p[len(entry):]}`" for p in todo)
            what = f"a package you complete (code to write in {where})" if todo else "a package (given)"
        else:
            what = "code you complete" if todo else "given code"
        rows.append(f"| `{entry}` | {what}; you hand it in |")
    return "\n".join(rows)


def _inside(path: Path, folder: Path) -> str | None:
    """`path` relative to `folder` (POSIX), or None when it lies elsewhere."""
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return None


def package_tree(folder: Path, *, under: str) -> Files:
    """The files of a package's folder, as `under/relative/path`: no caches, no hidden
    files or folders (names starting with a dot), no links."""
    files: Files = {}
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_symlink() or not path.is_file() or path.suffix in (".pyc", ".pyo") \
                or any(p == "__pycache__" or p.startswith(".") for p in parts):
            continue
        files[f"{under}/{'/'.join(parts)}"] = Entry(path.read_bytes())
    return files


def server_files(assignment: Assignment) -> Files:
    """The engine, the reference (and the checks' judge_reference), all checks, the harness,
    the data fixtures and the mutant catalogue, laid out as in this repository (assignments/NAME/...,
    reference/NAME.py or, for a package handin, reference/NAME/ with the student's layout)."""
    files = archive.read_tree(ROOT / "grader", under="grader")
    folder = f"assignments/{assignment.name}"
    placed = _inside(assignment.reference, assignment.folder)
    # a self-contained assignment keeps its reference in its folder; the others in reference/
    where = f"{folder}/{placed}" if placed is not None else f"reference/{assignment.reference.name}"
    if placed is None:
        init = ROOT / "reference" / "__init__.py"
        if init.is_file():
            files["reference/__init__.py"] = Entry(init.read_bytes())
    if assignment.package:  # the reference's folder, mirroring the student's layout
        files.update(package_tree(assignment.reference, under=where))
    else:
        files[where] = Entry(assignment.reference.read_bytes())
    if assignment.judge_reference is not None:  # the checks' formulas, beside the reference
        judge = assignment.judge_reference
        inside = _inside(judge, assignment.folder)
        files[f"{folder}/{inside}" if inside is not None else f"reference/{judge.name}"] = Entry(judge.read_bytes())
    files[f"{folder}/assignment.yaml"] = Entry((assignment.folder / "assignment.yaml").read_bytes())
    checks = assignment.checks_module
    files[f"{folder}/{checks.name}"] = Entry(checks.read_bytes())
    course = [assignment.harness] if assignment.harness is not None else []
    course += [fixture.file for _, fixture in sorted(assignment.data.items())]
    for path in course:  # where assignment.yaml names them (spec.load keeps them in the folder)
        relative = _inside(path, assignment.folder)
        if relative is None:
            raise BuildError(f"{path} is not inside {assignment.folder}: the bundles cannot carry it")
        files[f"{folder}/{relative}"] = Entry(path.read_bytes())
    catalogue = catalogue_path(assignment)
    if catalogue.is_file():  # the usual mistakes: setup.sh grades them once for their shrink traces
        files[f"{folder}/{catalogue.name}"] = Entry(catalogue.read_bytes())
    secret, _created = ensure_secret_file(assignment.folder)  # staff-only: the bundles, never the handout
    files[f"{folder}/{SECRET_FILE}"] = Entry((secret + "\n").encode())
    return files


def autolab_files(assignment: Assignment) -> dict[str, Entry]:
    """autograde.tar, autograde-Makefile and the staff note, by file name."""
    values = _values(assignment)
    names = [q.name for q in assignment.questions if not q.manual]  # as the autolab reporter's
    zero = json.dumps({"scores": {n: 0 for n in names}, "scoreboard": [0] * (len(names) + 1)},
                      separators=(", ", ": "))
    return {
        "autograde.tar": Entry(archive.tar_bytes(server_files(assignment))),
        "autograde-Makefile": Entry(
            render("autograde-Makefile", {**values, "ZERO_SCORES": zero}).encode()),
        "README.md": Entry(render("autolab-README.md", values).encode()),
    }


def gradescope_files(assignment: Assignment) -> dict[str, Entry]:
    """autograder.zip and the staff note, by file name."""
    values = _values(assignment)
    tests = [json.dumps({"name": f"{q.name}: not graded", "number": str(i), "score": 0,
                         "max_score": q.points, "status": "failed",
                         "output": "Not graded: the autograder failed (the output says why).",
                         "visibility": "visible"})
             for i, q in enumerate(assignment.questions, start=1) if not q.manual]
    files = server_files(assignment)
    files["setup.sh"] = Entry(render("setup.sh", values).encode(), executable=True)
    files["run_autograder"] = Entry(render("run_autograder", {
        **values, "ZERO_TESTS": ",\n".join("    " + t for t in tests)}).encode(), executable=True)
    files["requirements.txt"] = Entry(render("gradescope-requirements.txt", values).encode())
    return {
        "autograder.zip": Entry(archive.zip_bytes(files)),
        "README.md": Entry(render("gradescope-README.md", values).encode()),
    }


def build_all(assignment: str | Path | Assignment, out_dir: str | Path) -> dict[str, Path]:
    """Build the student handout and both platform bundles under out_dir/NAME/.

    Returns the paths of what was built, by key: handout, handout_tar,
    autograde_tar, autograde_makefile, autolab_notes, autograder_zip,
    gradescope_notes. Raises SpecError for a broken assignment and BuildError
    when a visible check fails on the reference or the handout would leak.
    """
    if not isinstance(assignment, Assignment):
        assignment = spec_module.load(assignment)
    student = student_files(assignment)
    autolab = autolab_files(assignment)
    gradescope = gradescope_files(assignment)
    root = Path(out_dir) / assignment.name
    for stale in ("handout", "autolab", "gradescope"):
        shutil.rmtree(root / stale, ignore_errors=True)
    archive.write_tree(student, root / "handout")
    (root / "handout.tar").write_bytes(archive.tar_bytes(student, root=assignment.name))
    archive.write_tree(autolab, root / "autolab")
    archive.write_tree(gradescope, root / "gradescope")
    return {
        "handout": root / "handout", "handout_tar": root / "handout.tar",
        "autograde_tar": root / "autolab" / "autograde.tar",
        "autograde_makefile": root / "autolab" / "autograde-Makefile",
        "autolab_notes": root / "autolab" / "README.md",
        "autograder_zip": root / "gradescope" / "autograder.zip",
        "gradescope_notes": root / "gradescope" / "README.md",
    }
