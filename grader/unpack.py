"""Extract a handin archive without letting it write outside its folder.

Every entry is checked before anything is written: an absolute path, a `..`
component, a link leading outside the archive, a device or pipe, too many
entries or too many bytes refuse the whole archive with a SubmissionError
that says which entry and why. Links that stay inside the archive are
extracted as copies of the file they name; nothing is ever extracted as a
link, so no later entry can be written through one.

Before `tarfile` sees the archive, `prescan` reads its (decompressed) stream
header by header in bounded chunks, exactly as tarfile will, and refuses
what tarfile would swallow whole: a GNU long name or link, or a pax header,
larger than MAX_EXTENDED_HEADER; a member name over MAX_NAME_BYTES; more
than MAX_ARCHIVE_BYTES of decompressed data (a decompression bomb). tarfile
then opens the archive with the compression the scan found, so both read
the same bytes the same way.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import posixpath
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from .errors import SubmissionError
from .text import clean_name

MAX_FILES = 200
MAX_BYTES = 50 * 2**20
MAX_ARCHIVE_BYTES = 100 * 2**20  # of the archive file, and of its decompressed stream
MAX_EXTENDED_HEADER = 64 * 2**10  # the payload of one GNU 'L'/'K' or pax 'x'/'g' header
MAX_EXTENDED_TOTAL = 2**20  # the payloads of all of them together
MAX_NAME_BYTES = 4096  # a member's name or link target
BLOCK = tarfile.BLOCKSIZE
CHUNK = 2**20
LONG_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
PAX_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)
# How tarfile recognises each compression (by the file's first bytes), and its mode for it.
COMPRESSIONS: tuple[tuple[bytes, str, Callable[[BinaryIO], BinaryIO]], ...] = (
    (b"\x1f\x8b", "gz", lambda handle: gzip.GzipFile(fileobj=handle, mode="rb")),
    (b"BZh", "bz2", lambda handle: bz2.BZ2File(handle, "rb")),
    (b"\xfd7zXZ\x00", "xz", lambda handle: lzma.LZMAFile(handle, "rb")),
)
DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)
PAX_RECORD = re.compile(rb"(\d+) ([^=]+)=")  # tarfile's own pattern


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


class _Stream:
    """The archive's decompressed bytes, read in bounded chunks and counted."""

    def __init__(self, raw: BinaryIO, archive: str):
        self.raw = raw
        self.archive = archive
        self.consumed = 0

    def read(self, size: int) -> bytes:
        """Up to `size` bytes (fewer at the end or where the data is damaged)."""
        if self.consumed + size > MAX_ARCHIVE_BYTES:
            raise SubmissionError(f"{self.archive} decompresses to more than {MAX_ARCHIVE_BYTES // 2**20} MiB "
                                  "(a decompression bomb?); refused")
        parts = []
        try:
            while size > 0:
                part = self.raw.read(min(size, CHUNK))
                if not part:
                    break
                parts.append(part)
                size -= len(part)
        except DECOMPRESSION_ERRORS:
            pass  # tarfile meets the same damage at the same place and reports it
        data = b"".join(parts)
        self.consumed += len(data)
        return data

    def skip(self, size: int) -> bool:
        """Pass over `size` bytes without keeping them; False if the stream ended first."""
        while size > 0:
            got = len(self.read(min(size, CHUNK)))
            if not got:
                return False
            size -= got
        return True


def _block(size: int) -> int:
    """`size` rounded up to whole blocks (tarfile's TarInfo._block)."""
    blocks, remainder = divmod(size, BLOCK)
    return (blocks + (1 if remainder else 0)) * BLOCK


def _nts(data: bytes) -> bytes:
    """A NUL-terminated field's bytes."""
    end = data.find(b"\0")
    return data if end < 0 else data[:end]


def _pax_records(payload: bytes) -> dict[bytes, bytes] | None:
    """The records of a pax header parsed as tarfile parses them; None where tarfile
    would give up (it then stops reading the archive there)."""
    records: dict[bytes, bytes] = {}
    position = 0
    while True:
        match = PAX_RECORD.match(payload, position)
        if not match:
            return records
        length = int(match.group(1))
        if length == 0:
            return None
        records[match.group(2)] = payload[match.end(2) + 1: match.start(1) + length - 1]
        position += length


def _choose_format(archive: Path) -> str | None:
    """tarfile's mode for `archive` ("gz", "bz2", "xz" or "" for none), or None if it
    holds no tar header: the compression its first bytes announce, if the
    decompressed stream starts with a tar header, else none if the raw file does."""
    with open(archive, "rb") as handle:
        magic = handle.read(8)
    candidates = [(mode, opener) for prefix, mode, opener in COMPRESSIONS if magic.startswith(prefix)]
    for mode, opener in [*candidates, ("", None)]:
        try:
            with open(archive, "rb") as handle:
                source = opener(handle) if opener else handle
                head = _Stream(source, archive.name).read(BLOCK)
            tarfile.TarInfo.frombuf(head, "utf-8", "surrogateescape")
            return mode
        except (tarfile.HeaderError, *DECOMPRESSION_ERRORS):
            continue
    return None


def looks_like_tar(path: Path) -> bool:
    """Whether `path` is a tar archive (plain or gzip/bz2/xz), judged from its first
    header only: unlike tarfile.is_tarfile, never reads a long name or pax header."""
    try:
        return _choose_format(Path(path)) is not None
    except (OSError, SubmissionError):
        return False


@dataclass
class _Pending:
    """The extended headers read since the last member, which apply to the next one."""

    types: list[bytes]
    size: int | None = None  # a pax "size" replacing the member's own
    name: int = 0  # the longest name or link given, in bytes


def prescan(archive: Path) -> str:
    """Read every header of `archive` before tarfile does; return tarfile's mode.

    Raises SubmissionError naming the problem for: no tar header at all; a GNU
    long name/link or pax header over MAX_EXTENDED_HEADER bytes (or over
    MAX_EXTENDED_TOTAL together, or repeated for one entry); a name or link
    over MAX_NAME_BYTES; a negative size; a sparse file; more than MAX_FILES
    entries or MAX_BYTES of content; more than MAX_ARCHIVE_BYTES of stream.
    Memory stays within one chunk and one extended header.
    """
    name = clean_name(archive.name)
    mode = _choose_format(archive)
    if mode is None:
        raise SubmissionError(f"{name} is not a readable tar archive")
    opener = {m: o for _, m, o in COMPRESSIONS}.get(mode)
    with open(archive, "rb") as handle:
        stream = _Stream(opener(handle) if opener else handle, name)
        _scan(stream, name)
    return mode


def _scan(stream: _Stream, name: str) -> None:
    entries = content = extended = 0
    global_size: bytes | None = None
    pending = _Pending([])
    while True:
        buf = stream.read(BLOCK)
        try:
            info = tarfile.TarInfo.frombuf(buf, "utf-8", "surrogateescape")
        except tarfile.HeaderError:
            return  # the end marker, or where tarfile stops (or fails) too
        if info.size < 0:
            raise SubmissionError(f"{name}: an entry declares a negative size; the archive is refused")
        if info.type in LONG_TYPES or info.type in PAX_TYPES:
            kind = "GNU long name" if info.type in LONG_TYPES else "pax extended"
            if info.size > MAX_EXTENDED_HEADER:
                raise SubmissionError(
                    f"{name} has a {kind} header of {info.size:,} bytes (at most {MAX_EXTENDED_HEADER:,} "
                    "are accepted): no real file name is that long; the archive is refused "
                    "(make the handin with e.g. tar cf handin.tar softmax_lab.py)")
            extended += info.size
            if extended > MAX_EXTENDED_TOTAL:
                raise SubmissionError(f"{name} has more than {MAX_EXTENDED_TOTAL:,} bytes of long names and "
                                      "extended headers; the archive is refused")
            kept_type = tarfile.XHDTYPE if info.type == tarfile.SOLARIS_XHDTYPE else info.type
            if kept_type in pending.types:
                raise SubmissionError(f"{name}: one entry has several {kind} headers; the archive is refused")
            pending.types.append(kept_type)
            payload = stream.read(_block(info.size))  # tarfile parses the padding too
            if len(payload) < _block(info.size):
                return  # truncated: tarfile fails here
            if info.type in LONG_TYPES:
                pending.name = max(pending.name, len(_nts(payload)))
                continue
            records = _pax_records(payload)
            if records is None:
                return  # tarfile stops reading here
            if any(key.startswith(b"GNU.sparse.") for key in records):
                raise SubmissionError(f"{name}: sparse files are not accepted in a handin; the archive is refused")
            pending.name = max([pending.name] + [len(records[k]) for k in (b"path", b"linkpath") if k in records])
            if info.type == tarfile.XGLTYPE:
                global_size = records.get(b"size", global_size)
            else:
                size = records.get(b"size", global_size)
                if size is not None:
                    pending.size = _pax_number(size)
            continue
        # A member: the extended headers before it are used up.
        if info.type == tarfile.GNUTYPE_SPARSE:
            raise SubmissionError(f"{name}: sparse files are not accepted in a handin; the archive is refused")
        if pending.name > MAX_NAME_BYTES:
            raise SubmissionError(f"{name} has an entry whose name or link is {pending.name:,} bytes long "
                                  f"(at most {MAX_NAME_BYTES:,}); the archive is refused")
        size = info.size if pending.size is None else pending.size
        if size < 0:
            raise SubmissionError(f"{name}: an entry declares a negative size; the archive is refused")
        pending = _Pending([])
        entries += 1
        if entries > MAX_FILES:
            raise SubmissionError(f"{name} holds more than {MAX_FILES} entries; refused")
        if info.isreg() or info.type not in tarfile.SUPPORTED_TYPES:
            content += size
            if content > MAX_BYTES:
                raise SubmissionError(f"{name} unpacks to more than {MAX_BYTES // 2**20} MiB; refused")
            if not stream.skip(_block(size)):
                return


def _pax_number(value: bytes) -> int:
    """A pax number field as tarfile reads it (0 when it is not a number)."""
    try:
        return int(value.decode("utf-8", "surrogateescape"))
    except ValueError:
        return 0


def safe_extract(archive: Path, target: Path) -> list[str]:
    """Extract regular files and folders of `archive` into `target`; return notes.

    Raises SubmissionError (and writes nothing) for an unreadable archive or
    any entry that could write outside `target`, and for more than MAX_FILES
    entries or MAX_BYTES of content.
    """
    name = clean_name(archive.name)
    if archive.stat().st_size > MAX_ARCHIVE_BYTES:
        raise SubmissionError(f"{name} is larger than {MAX_ARCHIVE_BYTES // 2**20} MiB; refused")
    try:
        mode = prescan(archive)
    except OSError as exc:
        raise SubmissionError(f"{name} could not be read ({exc.strerror or exc})") from None
    try:
        tar = tarfile.open(archive, f"r:{mode}")
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
