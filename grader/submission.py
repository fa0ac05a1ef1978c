"""Turn a submission path (.py, .ipynb, handin .tar, or folder) into one .py file.

The judge never imports the result: it only hands the path to the sandbox,
which copies it (and, for a folder or an archive, the student's other files
beside it) into the worker's scratch folder.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SubmissionError
from .spec import Assignment
from .unpack import looks_like_tar, safe_extract

SKIPPED_FOLDERS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git", "node_modules"}
MAX_SCANNED = 5000
MAX_DEPTH = 6
SNIFFED_BYTES = 5 * 2**20  # how much of a file named like nothing is read to tell what it holds


@dataclass
class Prepared:
    """The student file to run, their folder (other files to copy beside it, or
    None), notes for the report, and a scratch folder to remove."""

    student_file: Path
    notes: list[str] = field(default_factory=list)
    scratch: Path | None = None
    folder: Path | None = None

    def cleanup(self) -> None:
        """Remove whatever `prepare` created."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def prepare(assignment: Assignment, path: Path) -> Prepared:
    """Find or build the student's .py file; raise SubmissionError saying what is wrong."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"submission {path} does not exist")
    scratch = Path(tempfile.mkdtemp(prefix="gradecheck-sub-"))
    try:
        return _prepare(assignment, path, scratch)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def _prepare(assignment: Assignment, path: Path, scratch: Path) -> Prepared:
    if assignment.package:
        return _package(assignment, path, scratch)
    if path.is_dir():
        return _from_folder(assignment, path, scratch)
    kind = _kind(path)
    if kind == "python":
        prepared = Prepared(path.resolve(), scratch=scratch)
    elif kind == "notebook":
        prepared = _from_notebook(assignment, path, scratch)
    elif kind == "tar":
        folder = scratch / "handin"
        notes = safe_extract(path, folder)
        prepared = _from_folder(assignment, folder, scratch, shown=path.name, inside_archive=True)
        prepared.notes[:0] = notes
    else:
        raise SubmissionError(f"{path.name}: a submission must be a .py file, a .ipynb notebook, "
                              "a handin .tar or a folder")
    expected = {"python": ".py", "notebook": ".ipynb", "tar": ".tar"}[kind]
    if not _named_as(path, kind):
        prepared.notes.insert(0, f"{path.name} is not named like a {expected} file but holds one; "
                                 f"it was graded as a {expected} file")
    return prepared


def _named_as(path: Path, kind: str) -> bool:
    name = path.name.lower()
    return {"python": name.endswith(".py"), "notebook": name.endswith(".ipynb"),
            "tar": name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))}[kind]


def _kind(path: Path) -> str:
    """python, notebook, tar or unknown: by name first, by content when the name is unknown
    or wrong (Autolab renames every handin to its handin name, e.g. handin.tar)."""
    for kind in ("python", "notebook"):
        if _named_as(path, kind):
            return kind
    try:
        if looks_like_tar(path):  # the first header only: tarfile.is_tarfile would read long names whole
            return "tar"
        with open(path, "rb") as handle:
            text = handle.read(SNIFFED_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return "unknown"
    try:
        data = json.loads(text)
        if isinstance(data, dict) and ("cells" in data or "worksheets" in data):
            return "notebook"
    except (ValueError, RecursionError, MemoryError):
        pass
    try:
        ast.parse(text)
        return "python"
    except (RecursionError, MemoryError):
        return "python"  # text Python cannot parse for its depth: the worker reports why to the student
    except (SyntaxError, ValueError):
        return "tar" if _named_as(path, "tar") else "unknown"


def _from_notebook(assignment: Assignment, notebook: Path, scratch: Path,
                   folder: Path | None = None) -> Prepared:
    from .notebook import notebook_to_source  # nbformat: for notebooks only, off a .py grade's start

    source, notes = notebook_to_source(notebook, run_all=assignment.notebook_mode == "all")
    target = scratch / "notebook" / assignment.student_file
    target.parent.mkdir()
    target.write_text(source, encoding="utf-8")
    return Prepared(target, notes=notes, scratch=scratch, folder=folder)


def _files(folder: Path) -> list[Path]:
    """Regular files under `folder`, shallowest first; no links followed, junk folders skipped."""
    found: list[tuple[int, str, Path]] = []
    for current, dirs, files in os.walk(folder):
        depth = len(Path(current).relative_to(folder).parts)
        dirs[:] = [] if depth >= MAX_DEPTH else sorted(
            d for d in dirs if d not in SKIPPED_FOLDERS and not d.startswith("."))
        for name in files:
            candidate = Path(current) / name
            if not candidate.is_symlink() and candidate.is_file():
                found.append((depth, str(candidate), candidate))
            if len(found) >= MAX_SCANNED:
                break
    return [path for _, _, path in sorted(found)]


def _from_folder(assignment: Assignment, folder: Path, scratch: Path, shown: str | None = None,
                 inside_archive: bool = False) -> Prepared:
    """The student's file (or notebook) in `folder`, however deep; else a handin .tar in it,
    unpacked (once: not an archive inside an archive)."""
    wanted = assignment.student_file
    notebook_name = wanted[:-3] + ".ipynb"
    files = _files(folder)
    for name in (wanted, notebook_name):
        matches = [f for f in files if f.name == name]
        if not matches:
            continue
        chosen = matches[0]
        if name == wanted:
            prepared = Prepared(chosen.resolve(), scratch=scratch, folder=chosen.parent.resolve())
        else:
            prepared = _from_notebook(assignment, chosen, scratch, folder=chosen.parent.resolve())
        if len(matches) > 1:
            others = ", ".join(str(m.relative_to(folder)) for m in matches[1:4])
            prepared.notes.append(f"several files are named {name}; graded "
                                  f"{chosen.relative_to(folder)}, not {others}")
        return prepared
    archives = [f for f in files if _named_as(f, "tar")]
    if archives and not inside_archive:
        # Gradescope keeps an uploaded handin.tar as it is; its run_autograder unpacks it
        unpacked = scratch / "handin-in-folder"
        notes = safe_extract(archives[0], unpacked)
        prepared = _from_folder(assignment, unpacked, scratch, shown=str(archives[0].relative_to(folder)),
                                inside_archive=True)
        prepared.notes[:0] = notes + [f"graded the {wanted} inside {archives[0].relative_to(folder)}"]
        return prepared
    raise SubmissionError(_missing_message(wanted, notebook_name, folder, files, shown or folder.name))


def _missing_message(wanted: str, notebook_name: str, folder: Path, files: list[Path], shown: str) -> str:
    present = [str(f.relative_to(folder)) for f in files]
    names = sorted({f.name for f in files if f.suffix.lower() in (".py", ".ipynb")})
    lowered = {n.lower(): n for n in names}
    close = [lowered[wanted.lower()]] if wanted.lower() in lowered else \
        difflib.get_close_matches(wanted, names, n=1, cutoff=0.6) or \
        difflib.get_close_matches(notebook_name, names, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}? Rename it to {wanted}." if close else \
        f" Name your file exactly {wanted} (or {notebook_name})."
    listing = ", ".join(present[:10]) + (f" and {len(present) - 10} more" if len(present) > 10 else "")
    return f"{shown} has no {wanted} (it holds: {listing or 'nothing'}).{hint}"


# -- package handins -------------------------------------------------------------------

def _package(assignment: Assignment, path: Path, scratch: Path) -> Prepared:
    """A package handin (a folder or a handin .tar): the folder holding every entry of
    the spec's student_files, found however deep the student nested it."""
    wanted = ", ".join(assignment.student_files)
    notes: list[str] = []
    if path.is_dir():
        folder = path
    elif _kind(path) == "tar":
        folder = scratch / "handin"
        notes = safe_extract(path, folder)
    else:
        raise SubmissionError(f"{path.name}: this assignment grades a folder or a handin .tar "
                              f"holding {wanted}, not a single file")
    candidates = [folder] + sorted({f.parent for f in _files(folder)}, key=lambda p: (len(p.parts), str(p)))
    for candidate in candidates:
        for root in (candidate, *candidate.parents):
            if folder not in (root, *root.parents):
                break
            if all(_holds(root, entry) for entry in assignment.student_files):
                prepared = Prepared(root.resolve(), notes=notes, scratch=scratch, folder=root.resolve())
                missing_init = [e for e in assignment.student_files
                                if e.endswith("/") and not (root / e / "__init__.py").is_file()]
                if missing_init:
                    prepared.notes.append(f"{', '.join(missing_init)} has no __init__.py (imported as a "
                                          "namespace package)")
                return prepared
    present = sorted({str(f.relative_to(folder).parts[0]) + ("/" if f.relative_to(folder).parts[1:] else "")
                      for f in _files(folder)})
    found = [e for e in assignment.student_files if any(_holds(c, e) for c in candidates)]
    hint = "" if not found else f" (found {', '.join(found)}, but not all in one folder)"
    raise SubmissionError(f"{path.name} does not hold {wanted} side by side{hint}; it holds: "
                          f"{', '.join(present[:10]) or 'nothing'}")


def _holds(root: Path, entry: str) -> bool:
    target = root / entry.rstrip("/")
    if target.is_symlink():
        return False
    return target.is_dir() if entry.endswith("/") else target.is_file()
