"""The student's side: grade with the public checks, and make the handin.

Shipped in the handout as gradecheck_local/local.py; grade.sh and
make_handin.sh run ``python -m gradecheck_local grade|handin [FILE]`` from
the handout's local_grader/ folder. The public checks, the spec without
hidden checks and the recorded reference answers live in local_grader/public/.

Which file is the student's work: the one named on the command line, else
the student file (e.g. softmax_lab.py) if it differs from the starter, else the notebook if its code
differs from the handed-out notebook, else the (untouched) starter.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PUBLIC = HERE.parent / "public"
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
    assignment = Assignment(
        name=data["name"], title=data["title"], folder=folder, library=data["library"],
        student_file=data["student_file"], module=data["module"],
        # runner.grade imports a reference; each public check swaps in the recording
        reference=HERE / "replay.py", checks_module=folder / "checks.py",
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


def grade(args: argparse.Namespace) -> int:
    from grader.errors import GraderError
    from grader.reporters import table
    from grader.runner import grade as run_grader

    assignment, facts = load_public()
    target, notes = choose(Path(args.folder), args.file, Path(args.cwd), facts)
    for note in notes:
        print(f"Note: {note}")
    try:
        # the public checks replay their own recording: no example bank
        # the public examples the recording holds, whatever secret the environment sets
        # a student grading their own code needs no protection from it: any isolation will do
        report = run_grader(assignment, target, visibility="public", use_bank=False, secret="",
                            minimum="none")
    except GraderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Public checks of {assignment.name} on {target.name}. The grader that scores your "
          "handin also runs hidden checks, so your final score may be lower.\n")
    print(table.render(report), end="")
    return 0


def handin(args: argparse.Namespace) -> int:
    _, facts = load_public()
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
    print(f"Autolab: submit {HANDIN}. Gradescope: upload {info.name} (or {HANDIN}).")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="grade.sh / make_handin.sh")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("grade", "check your work with the public checks"),
                           ("handin", f"write {HANDIN} with the file to hand in")):
        command = sub.add_parser(name, help=helptext)
        command.add_argument("file", nargs="?",
                             help="the .py or .ipynb file (default: the one you edited)")
        command.add_argument("--folder", required=True, help="the handout folder")
        command.add_argument("--cwd", default=".", help="where relative FILE paths start")
    args = parser.parse_args(argv)
    return grade(args) if args.command == "grade" else handin(args)
