"""Extract a handin archive without letting it write outside its folder."""

from __future__ import annotations

import tarfile
from pathlib import Path

from .errors import SubmissionError

MAX_FILES = 200
MAX_BYTES = 50 * 2**20


def safe_extract(archive: Path, target: Path) -> None:
    """Extract regular files and folders of `archive` into `target`.

    Refuses (SubmissionError, nothing written) absolute paths, `..`
    components, links, device files, more than MAX_FILES members or more
    than MAX_BYTES in total.
    """
    try:
        tar = tarfile.open(archive)
    except (tarfile.TarError, OSError) as exc:
        raise SubmissionError(f"{archive.name} is not a readable tar archive ({exc})") from None
    with tar:
        members = tar.getmembers()
        if len(members) > MAX_FILES:
            raise SubmissionError(f"{archive.name} holds {len(members)} entries; at most {MAX_FILES} are allowed")
        total = 0
        for member in members:
            name = member.name
            parts = Path(name).parts
            if name.startswith("/") or ".." in parts:
                raise SubmissionError(f"{archive.name}: entry {name!r} points outside the handin folder; refused")
            if member.issym() or member.islnk():
                raise SubmissionError(f"{archive.name}: entry {name!r} is a link (to {member.linkname!r}); refused")
            if not (member.isfile() or member.isdir()):
                raise SubmissionError(f"{archive.name}: entry {name!r} is not a regular file; refused")
            total += member.size
            if total > MAX_BYTES:
                raise SubmissionError(f"{archive.name} unpacks to more than {MAX_BYTES // 2**20} MiB; refused")
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        for member in members:
            destination = (target / member.name).resolve()
            if root != destination and root not in destination.parents:
                raise SubmissionError(f"{archive.name}: entry {member.name!r} escapes the handin folder")
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            with source, open(destination, "wb") as out:
                out.write(source.read())
