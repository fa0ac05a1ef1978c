"""Digests that say whether a report is still current: the submission's bytes, and
everything its grade depends on (the assignment's spec, checks, reference, harness and
data, and the grader's release). grade-all regrades exactly the reports whose digests
no longer match."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from . import __version__
from .spec import Assignment


def _file(digest: "hashlib._Hash", path: Path) -> None:
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def submission_digest(path: Path) -> str:
    """A digest of a submission: a file's bytes, or a folder's files (names, link targets
    and bytes, in sorted order)."""
    digest = hashlib.sha256()
    path = Path(path)
    if not path.is_dir():
        digest.update(b"file\0")
        _file(digest, path)
        return digest.hexdigest()
    for root, folders, files in os.walk(path):
        folders.sort()
        for name in sorted(files) + [f for f in folders if os.path.islink(os.path.join(root, f))]:
            full = Path(root) / name
            relative = full.relative_to(path).as_posix()
            if full.is_symlink():
                digest.update(f"link\0{relative}\0{os.readlink(full)}\0".encode())
            elif full.is_file():
                digest.update(f"file\0{relative}\0{full.stat().st_size}\0".encode())
                _file(digest, full)
    return digest.hexdigest()


def assignment_digest(assignment: Assignment) -> str:
    """A digest of what a grade depends on besides the submission: the grader's release
    and the assignment's files (spec, checks, reference, harness, the data it stages)."""
    digest = hashlib.sha256(f"gradecheck {__version__}\0".encode())
    for path in assignment.source_files():
        digest.update(f"{path.name}\0{path.stat().st_size}\0".encode())
        _file(digest, path)
    return digest.hexdigest()
