"""Extract a handin archive without letting it write outside its folder.

Every entry is checked before anything is written: an absolute path, a `..`
component, a link leading outside the archive, a device or pipe, too many
entries or too many bytes refuse the whole archive with a SubmissionError
that says which entry and why. Links that stay inside the archive are
extracted as copies of the file they name; nothing is ever extracted as a
link, so no later entry can be written through one.
"""

from __future__ import annotations

import posixpath
import tarfile
from pathlib import Path

from .errors import SubmissionError

MAX_FILES = 200
MAX_BYTES = 50 * 2**20
MAX_ARCHIVE_BYTES = 100 * 2**20


def _clean_name(archive: str, name: str) -> str:
    """The entry's path relative to the handin folder; SubmissionError if it leaves it."""
    if name.startswith("/"):
        raise SubmissionError(f"{archive}: entry {name!r} is an absolute path; the archive is refused "
                              "(make the handin with relative paths, e.g. tar cf handin.tar softmax_lab.py)")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise SubmissionError(f"{archive}: entry {name!r} climbs out of the handin folder with '..'; "
                              "the archive is refused")
    if any("\0" in p for p in parts):
        raise SubmissionError(f"{archive}: entry {name!r} has a NUL byte in its name; the archive is refused")
    return "/".join(parts)


def _link_target(archive: str, member: tarfile.TarInfo, name: str) -> str:
    """Where a link entry points, relative to the handin folder; refuse one leading outside."""
    target = member.linkname
    if member.issym():
        if target.startswith("/"):
            raise SubmissionError(f"{archive}: entry {name!r} is a link to {target!r}, outside the handin "
                                  "folder; the archive is refused")
        target = posixpath.join(posixpath.dirname(name), target)
    normal = posixpath.normpath(target)
    if target.startswith("/") or normal == ".." or normal.startswith("../"):
        raise SubmissionError(f"{archive}: entry {name!r} is a link to {member.linkname!r}, outside the "
                              "handin folder; the archive is refused")
    return normal


def safe_extract(archive: Path, target: Path) -> list[str]:
    """Extract regular files and folders of `archive` into `target`; return notes.

    Raises SubmissionError (and writes nothing) for an unreadable archive or
    any entry that could write outside `target`, and for more than MAX_FILES
    entries or MAX_BYTES of content.
    """
    name = archive.name
    if archive.stat().st_size > MAX_ARCHIVE_BYTES:
        raise SubmissionError(f"{name} is larger than {MAX_ARCHIVE_BYTES // 2**20} MiB; refused")
    try:
        tar = tarfile.open(archive)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SubmissionError(f"{name} is not a readable tar archive ({exc})") from None
    with tar:
        plan: list[tuple[str, tarfile.TarInfo]] = []
        links: dict[str, str] = {}
        total = 0
        try:
            for member in tar:  # lazily, so a huge archive stops at the caps
                if len(plan) >= MAX_FILES:
                    raise SubmissionError(f"{name} holds more than {MAX_FILES} entries; refused")
                clean = _clean_name(name, member.name)
                if member.issym() or member.islnk():
                    links[clean] = _link_target(name, member, clean)
                elif not (member.isfile() or member.isdir()):
                    raise SubmissionError(f"{name}: entry {member.name!r} is not a regular file or "
                                          "folder (a device, pipe or socket); the archive is refused")
                total += member.size
                if total > MAX_BYTES:
                    raise SubmissionError(f"{name} unpacks to more than {MAX_BYTES // 2**20} MiB; refused")
                plan.append((clean, member))
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise SubmissionError(f"{name} is damaged ({exc})") from None
        try:
            return _write(tar, plan, links, target)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise SubmissionError(f"{name} could not be unpacked ({type(exc).__name__}: {exc})") from None


def _write(tar: tarfile.TarFile, plan: list[tuple[str, tarfile.TarInfo]], links: dict[str, str],
           target: Path) -> list[str]:
    notes = []
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    contents: dict[str, bytes] = {}
    for clean, member in plan:
        if not clean:
            continue
        destination = root / clean
        if member.isdir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        if clean in links:
            continue
        data = tar.extractfile(member).read() if member.size else b""
        contents[clean] = data
        _write_file(root, destination, data)
    for clean, pointed in links.items():
        if pointed in contents:
            _write_file(root, root / clean, contents[pointed])
        else:
            notes.append(f"the link {clean} in the handin names no file of the archive; it was left out")
    return notes


def _write_file(root: Path, destination: Path, data: bytes) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    resolved = destination.parent.resolve()
    if resolved != root and root not in resolved.parents:  # cannot happen: no links are extracted
        raise SubmissionError(f"entry {destination.name!r} escapes the handin folder")
    if destination.is_symlink() or destination.is_dir():
        raise SubmissionError(f"entry {destination.relative_to(root)} appears twice in the handin")
    destination.write_bytes(data)
