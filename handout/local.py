"""The student's side: grade with the public checks, and make the handin.

Shipped in the handout as gradecheck_local/local.py; grade.py and
make_handin.py (any system; grade.sh and make_handin.sh are thin wrappers)
run its `main` from the handout's local_grader/ folder. Where the Linux
sandbox cannot run (macOS, Windows), the student's code runs in a plain child
process (grader/sandbox/plain.py) and the grade says so. The public checks, the spec without
hidden checks and the recorded reference answers live in local_grader/public/.

Which file is the student's work: the one named on the command line, else
the student file (e.g. softmax_lab.py) if it differs from the starter, else the notebook if its code
differs from the handed-out notebook, else the (untouched) starter.

A package handin (facts' student_files, e.g. mytorch/ and hw1/) has no notebook:
grade.sh grades the entries where they sit, beside local_grader/ in the handout
folder (a copy of exactly what make_handin.sh packs: every file of the folders
but __pycache__/, hidden files and links), or the folder or handin .tar named
on the command line; make_handin.sh packs them into handin.tar, and refuses
when one is missing.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PUBLIC = HERE.parent / "public"
# a package handin: the empty package that stands in for the reference's (handout.build.stand_in)
STAND_IN = HERE.parent / "stand_in"
STUB_MARK = ': your code here")'
HANDIN = "handin.tar"


def code_digest(text: str, *, notebook: bool) -> str:
    """A digest of a .py file's text, or of a notebook's code cells (outputs ignored)."""
    if notebook:
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            cells = []
        parts = []
        for cell in cells:
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                source = cell.get("source", "")
                parts.append("".join(source) if isinstance(source, list) else str(source))
        text = "\n\x00\n".join(parts)
    normal = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    return hashlib.sha256(normal.encode()).hexdigest()


def _edited(path: Path, pristine: str) -> bool:
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    return code_digest(text, notebook=path.suffix == ".ipynb") != pristine


def load_public(folder: Path = PUBLIC):
    """The public Assignment (visible checks only) and the handout facts beside it.

    The course's harness.py and data fixtures, when the assignment has them, sit
    beside the public checks (public/harness.py, public/data/NAME.npz).
    """
    from grader.sandbox.limits import Limits
    from grader.spec import Assignment, CheckSpec, DataFixture, Driver, Question

    data = json.loads((folder / "assignment.json").read_text(encoding="utf-8"))
    questions = tuple(
        Question(q["name"], q["points"], tuple(q["functions"]),
                 tuple(CheckSpec(**c) for c in q["checks"]), q["optional"], q["title"],
                 manual=q.get("manual", False), rubric=q.get("rubric", ""))
        for q in data["questions"])
    limits = {k: v for k, v in data["limits"].items() if k in Limits.__dataclass_fields__}
    drivers = {name: Driver(name, tuple(d["params"]), tuple(d["uses"]))
               for name, d in data.get("drivers", {}).items()}
    fixtures = {name: DataFixture(name, folder / "data" / f"{name}.npz") for name in data.get("data", [])}
    package = bool(data.get("student_files"))
    assignment = Assignment(
        name=data["name"], title=data["title"], folder=folder, library=data["library"],
        student_file=data["student_file"], module=data["module"],
        student_files=tuple(data.get("student_files", ())), homes=dict(data.get("homes", {})),
        # runner.grade imports a reference (a package's: its stand-in); each public check
        # swaps in the recording
        reference=STAND_IN if package else HERE / "replay.py", checks_module=folder / "checks.py",
        total_points=data["total_points"],
        functions={f: tuple(p) for f, p in data["functions"].items()}, questions=questions,
        limits=Limits(**limits), max_examples=data["max_examples"],
        notebook_mode=data["notebook_mode"], judged_dtype=data.get("dtype", "float32"),
        extra=data.get("extra", {}),
        harness=folder / "harness.py" if data.get("harness") else None,
        drivers=drivers, data=fixtures)
    return assignment, data["handout"]


def choose(folder: Path, given: str | None, cwd: Path, facts: dict, *,
           script_name: str = "grade.sh") -> tuple[Path, list[str]]:
    """The student's file to grade or hand in, and notes on why it was chosen."""
    if given:
        path = Path(given)
        path = path if path.is_absolute() else cwd / path
        return path, []
    script, notebook = folder / facts["student_file"], folder / facts["notebook"]
    script_edited = _edited(script, facts["starter_digest"])
    notebook_edited = _edited(notebook, facts["notebook_digest"])
    if notebook_edited and not script_edited:
        return notebook, [f"using {notebook.name}: it is the file you edited"]
    notes = []
    if notebook_edited:
        notes.append(f"both {script.name} and {notebook.name} were edited; using {script.name} "
                     f"(name the notebook to use it instead: ./{script_name} {notebook.name})")
    return script, notes


def stubs_left(path: Path) -> int:
    """How many functions still raise the starter's NotImplementedError."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").count(STUB_MARK)
    except OSError:
        return 0


# -- package handins --------------------------------------------------------------------

def _skipped(name: str) -> bool:
    return name == "__pycache__" or name.startswith(".") or name.endswith((".pyc", ".pyo"))


def collect(folder: Path, entries: list[str]) -> tuple[dict[str, Path], list[str], list[str]]:
    """What a package handin holds of `folder`: its files by path in the handin (each
    folder entry's files, recursively, without caches, hidden files or links), the
    entries missing, and the links left out."""
    files: dict[str, Path] = {}
    missing: list[str] = []
    links: list[str] = []
    for entry in entries:
        path = folder / entry.rstrip("/")
        if path.is_symlink() or not (path.is_dir() if entry.endswith("/") else path.is_file()):
            missing.append(entry)
            continue
        if not entry.endswith("/"):
            files[entry] = path
            continue
        for current, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not _skipped(d))
            for name in sorted(names):
                source = Path(current) / name
                relative = source.relative_to(folder).as_posix()
                if _skipped(name):
                    continue
                if source.is_symlink() or not source.is_file():
                    links.append(relative)
                    continue
                files[relative] = source
    return files, missing, links


def _missing(folder: Path, missing: list[str], entries: list[str], script: str) -> str:
    return (f"error: {folder} has no {', '.join(missing)}: ./{script} works on "
            f"{', '.join(entries)}, side by side in that folder")


def _package_target(args: argparse.Namespace, facts: dict, scratch: Path) -> Path | None:
    """What to grade: the folder or handin .tar named, else a copy of the entries in the
    handout folder (what make_handin.sh packs); None, having said why, when one is missing."""
    if args.file:
        path = Path(args.file)
        return path if path.is_absolute() else Path(args.cwd) / path
    folder, entries = Path(args.folder), facts["student_files"]
    files, missing, links = collect(folder, entries)
    if missing:
        print(_missing(folder, missing, entries, "grade.sh"), file=sys.stderr)
        return None
    for link in links:
        print(f"Note: {link} is a link; it is left out (make_handin.sh leaves it out too)")
    target = scratch / folder.name
    for relative, source in files.items():
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes(source.read_bytes())
    return target


def _tar(files: dict[str, Path]) -> bytes:
    """A ustar archive of `files` (by path in it) with their folders, fixed times and modes."""
    def info(name: str, size: int = 0, folder: bool = False) -> tarfile.TarInfo:
        item = tarfile.TarInfo(name)
        item.type = tarfile.DIRTYPE if folder else tarfile.REGTYPE
        item.size, item.mode, item.mtime = size, 0o755 if folder else 0o644, 315532800
        return item

    folders = sorted({str(p) for name in files for p in Path(name).parents if str(p) != "."})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in folders:
            tar.addfile(info(name, folder=True))
        for name in sorted(files):
            data = files[name].read_bytes()
            tar.addfile(info(name, len(data)), io.BytesIO(data))
    return buffer.getvalue()


def handin_package(args: argparse.Namespace, facts: dict) -> int:
    """Write handin.tar with the package handin's entries, from the handout folder or
    the folder named."""
    entries = facts["student_files"]
    out = Path(args.folder)
    source = out
    if args.file:
        source = Path(args.file) if Path(args.file).is_absolute() else Path(args.cwd) / args.file
        if not source.is_dir():
            print(f"error: {source} is not a folder holding {', '.join(entries)}", file=sys.stderr)
            return 2
    files, missing, links = collect(source, entries)
    if missing:
        print(_missing(source, missing, entries, "make_handin.sh") + "; no handin.tar written",
              file=sys.stderr)
        return 2
    for link in links:
        print(f"Note: {link} is a link; it is left out")
    (out / HANDIN).write_bytes(_tar(files))
    counts = [f"{e} ({sum(1 for n in files if n.startswith(e))} files)" if e.endswith("/") else e
              for e in entries]
    print(f"Wrote {out / HANDIN} holding {', '.join(counts)} (from {source}).")
    left = sum(stubs_left(path) for name, path in files.items() if name.endswith(".py"))
    if left:
        print(f"Warning: {left} function(s) still raise NotImplementedError.")
    for name, path in files.items():
        if name.endswith(".py"):
            _warn_syntax(Path(path).read_bytes(), name)
    print(f"Autolab: submit {HANDIN}. Gradescope: upload {HANDIN}.")
    return 0


# -- commands ----------------------------------------------------------------------------

def grade(args: argparse.Namespace) -> int:
    assignment, facts = load_public()
    parts = facts.get("parts", {})
    if args.file in parts and not (Path(args.cwd) / args.file).exists():
        # ./grade.sh PART: only that part's questions, on the usual files
        wanted = set(parts[args.file])
        assignment = dataclasses.replace(
            assignment, questions=tuple(q for q in assignment.questions if q.name in wanted))
        print(f"Part {args.file}: {', '.join(parts[args.file])}.")
        args.file = None
    if assignment.package:
        with tempfile.TemporaryDirectory(prefix="gradecheck-local-") as scratch:
            target = _package_target(args, facts, Path(scratch))
            if target is None:
                return 2
            if args.file:
                return _grade(assignment, target, target.name, plain=args.plain)
            # the copy is graded; the report names the folder it copied
            return _grade(assignment, target, ", ".join(facts["student_files"]),
                          where=str(Path(args.folder)), plain=args.plain)
    target, notes = choose(Path(args.folder), args.file, Path(args.cwd), facts)
    for note in notes:
        print(f"Note: {note}")
    return _grade(assignment, target, target.name, plain=args.plain)


def plain_reason(asked: bool = False) -> str | None:
    """Why this grade runs the student's code in a plain child process rather than the
    Linux sandbox (None: the sandbox). `asked` is the --plain option."""
    if asked:
        return "you asked for it (--plain)"
    if os.environ.get("GRADECHECK_PLAIN", "").strip().lower() in ("1", "yes", "on", "true"):
        return "GRADECHECK_PLAIN is set"
    if not sys.platform.startswith("linux"):
        import platform

        return f"{platform.system() or sys.platform} has no Linux sandbox"
    lacking = []
    for name in ("fcntl", "resource", "pwd"):
        try:
            __import__(name)
        except ImportError:
            lacking.append(name)
    if not hasattr(os, "memfd_create"):  # the arguments arena (the zygote's pidfds have a fallback)
        lacking.append("os.memfd_create")
    if lacking:
        return f"this Python lacks what the Linux sandbox needs: {', '.join(lacking)}"
    return None


def _grade(assignment, target: Path, shown: str, where: str | None = None, plain: bool = False) -> int:
    """Grade `target` with the public checks and print the table (naming `where` as the
    submission, when given); 2 if the grader cannot. Without the Linux sandbox (or with
    `plain`), the student's code runs in a plain child process, and a line says so."""
    from grader.errors import GraderError
    from grader.reporters import table
    from grader.runner import grade as run_grader

    why = plain_reason(plain)
    if why is not None:
        print(f"Note: your code runs in a plain child process, not in the grader's sandbox ({why}); "
              "the checks and their messages are the same.")
    try:
        # the public checks replay their own recording: no example bank
        # the public examples the recording holds, whatever secret the environment sets
        # a student grading their own code needs no protection from it: any isolation will do
        report = run_grader(assignment, target, visibility="public", use_bank=False, secret="",
                            minimum="none", plain=why is not None)
    except GraderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if where is not None:
        report.submission = where
    print(f"Public checks of {assignment.name} on {shown}. The grader that scores your "
          "handin also runs hidden checks, so your final score can differ (lower when one finds a mistake).\n")
    print(table.render(report), end="")
    return 0


def handin(args: argparse.Namespace) -> int:
    _, facts = load_public()
    if facts.get("student_files"):
        return handin_package(args, facts)
    folder = Path(args.folder)
    target, notes = choose(folder, args.file, Path(args.cwd), facts, script_name="make_handin.sh")
    for note in notes:
        print(f"Note: {note}")
    names = {".py": facts["student_file"], ".ipynb": facts["notebook"]}
    if not target.is_file() or target.suffix not in names:
        print(f"error: {target} is not a .py or .ipynb file to hand in", file=sys.stderr)
        return 2
    data = target.read_bytes()
    info = tarfile.TarInfo(names[target.suffix])
    info.size, info.mode, info.mtime = len(data), 0o644, 315532800
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(data))
    (folder / HANDIN).write_bytes(buffer.getvalue())
    print(f"Wrote {folder / HANDIN} holding {info.name} (from {target}).")
    left = stubs_left(target)
    if left:
        print(f"Warning: {left} function(s) still raise NotImplementedError.")
    if target.suffix == ".py":
        _warn_syntax(data, info.name)
    print(f"Autolab: submit {HANDIN}. Gradescope: upload {info.name} (or {HANDIN}).")
    return 0


def _warn_syntax(source: bytes, name: str) -> None:
    """Say so when a file about to be handed in is not valid Python: the grader could
    not import it, and every check of it would fail."""
    try:
        compile(source, name, "exec")
    except SyntaxError as exc:
        print(f"Warning: {name} is not valid Python (line {exc.lineno}: {exc.msg}): the grader "
              "cannot import it, so every check of it would fail. Fix it and run make_handin.sh again.")
    except ValueError:  # null bytes
        print(f"Warning: {name} holds null bytes: the grader cannot import it.")


# what the local grader imports: module -> the package that provides it
NEEDED = {"numpy": "numpy", "hypothesis": "hypothesis", "nbformat": "nbformat", "yaml": "pyyaml"}


def missing_packages(library: str) -> list[str]:
    """The packages this Python lacks among those the local grader needs (and the
    assignment's library), without importing them."""
    import importlib.util

    needed = dict(NEEDED, **({library: library} if library else {}))
    return [package for module, package in needed.items() if importlib.util.find_spec(module) is None]


def _library() -> str:
    try:
        return json.loads((PUBLIC / "assignment.json").read_text(encoding="utf-8")).get("library", "")
    except (OSError, ValueError):
        return ""


def main(argv: list[str] | None = None) -> int:
    missing = missing_packages(_library())
    if missing:
        print(f"The local grader needs Python packages this Python ({sys.executable}) does not have: "
              f"{', '.join(missing)}.\nInstall them from the handout folder with:\n\n"
              f"    {Path(sys.executable).name} -m pip install -r requirements.txt\n\n"
              "(or run the scripts with the Python that has them: /path/to/python grade.py, "
              "or GRADECHECK_PYTHON=/path/to/python ./grade.sh)", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="grade.sh / make_handin.sh")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("grade", "check your work with the public checks"),
                           ("handin", f"write {HANDIN} with the file to hand in")):
        command = sub.add_parser(name, help=helptext)
        command.add_argument("file", nargs="?",
                             help="the .py or .ipynb file (default: the one you edited); for a "
                                  "package handin, a folder holding it (or, to grade, a handin .tar); "
                                  "to grade, also the name of a part of the assignment (see README.md)")
        command.add_argument("--folder", required=True, help="the handout folder")
        command.add_argument("--cwd", default=".", help="where relative FILE paths start")
        if name == "grade":
            command.add_argument("--plain", action="store_true",
                                 help="run your code in a plain child process, without the Linux "
                                      "sandbox (the default where there is none: macOS, Windows)")
    args = parser.parse_args(argv)
    return grade(args) if args.command == "grade" else handin(args)
