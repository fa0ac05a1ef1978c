"""Turn a submission path (.py, .ipynb, handin .tar, or folder) into one .py file.

The judge never imports the result: it only hands the path to the sandbox.
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SubmissionError
from .notebook import notebook_to_source
from .spec import Assignment
from .unpack import safe_extract


@dataclass
class Prepared:
    """The student file to run, notes for the report, and a scratch folder to remove."""

    student_file: Path
    notes: list[str] = field(default_factory=list)
    scratch: Path | None = None

    def cleanup(self) -> None:
        """Remove whatever `prepare` created."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def prepare(assignment: Assignment, path: Path) -> Prepared:
    """Find or build the student's .py file; raise SubmissionError saying what is wrong."""
    if not path.exists():
        raise SubmissionError(f"submission {path} does not exist")
    scratch = Path(tempfile.mkdtemp(prefix="gradecheck-sub-"))
    try:
        return _prepare(assignment, path, scratch)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def _prepare(assignment: Assignment, path: Path, scratch: Path) -> Prepared:
    if path.is_dir():
        return _from_folder(assignment, path, scratch)
    suffix = path.suffix.lower()
    if suffix == ".py":
        return Prepared(path.resolve(), scratch=scratch)
    if suffix == ".ipynb":
        return _from_notebook(assignment, path, scratch / assignment.student_file, scratch)
    if suffix == ".tar" or path.name.endswith((".tar.gz", ".tgz")):
        folder = scratch / "handin"
        safe_extract(path, folder)
        prepared = _from_folder(assignment, folder, scratch)
        return prepared
    raise SubmissionError(f"{path.name}: a submission must be a .py file, a .ipynb notebook, "
                          "a handin .tar or a folder")


def _from_notebook(assignment: Assignment, notebook: Path, target: Path, scratch: Path) -> Prepared:
    source, notes = notebook_to_source(notebook, run_all=assignment.notebook_mode == "all")
    target.write_text(source, encoding="utf-8")
    return Prepared(target, notes=notes, scratch=scratch)


def _from_folder(assignment: Assignment, folder: Path, scratch: Path) -> Prepared:
    wanted = assignment.student_file
    notebook_name = wanted[:-3] + ".ipynb"
    for candidate in (folder / wanted, *sorted(folder.rglob(wanted))):
        if candidate.is_file() and not candidate.is_symlink():
            return Prepared(candidate.resolve(), scratch=scratch)
    for candidate in (folder / notebook_name, *sorted(folder.rglob(notebook_name))):
        if candidate.is_file() and not candidate.is_symlink():
            return _from_notebook(assignment, candidate, scratch / wanted, scratch)
    present = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    names = [Path(p).name for p in present]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}? Rename it to {wanted}." if close else ""
    listing = ", ".join(present[:10]) or "nothing"
    raise SubmissionError(f"the submission has no {wanted} (it holds: {listing}).{hint}")
