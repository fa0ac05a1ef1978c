"""Reproducible archives: the same files give the same bytes, on every build.

Files are given as a mapping of archive path -> `Entry` (bytes and mode).
Entries are written in sorted order with their parent folders, a fixed
modification time, owner root (uid/gid 0, no names), and modes 0644, or 0755
for executables and folders. Nothing is compressed in tars; zips use deflate
at a fixed level, which zlib makes deterministic.
"""

from __future__ import annotations

import io
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# 1980-01-01 00:00:00 UTC: the earliest time a zip can store, used for tars too.
EPOCH = 315532800


@dataclass(frozen=True)
class Entry:
    """One file of an archive."""

    data: bytes
    executable: bool = False

    @property
    def mode(self) -> int:
        return 0o755 if self.executable else 0o644


Files = dict[str, Entry]


def _folders(paths: list[str]) -> list[str]:
    found = set()
    for path in paths:
        found.update(str(p) for p in PurePosixPath(path).parents if str(p) != ".")
    return sorted(found)


def tar_bytes(files: Files, *, root: str = "") -> bytes:
    """An uncompressed ustar archive of `files`, each under `root/` if given."""
    prefix = f"{root.rstrip('/')}/" if root else ""
    names = sorted(files)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for folder in _folders([prefix + n for n in names]):
            tar.addfile(_info(folder, tarfile.DIRTYPE, 0o755, 0))
        for name in names:
            entry = files[name]
            tar.addfile(_info(prefix + name, tarfile.REGTYPE, entry.mode, len(entry.data)),
                        io.BytesIO(entry.data))
    return buffer.getvalue()


def _info(name: str, kind: bytes, mode: int, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, EPOCH
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def zip_bytes(files: Files) -> bytes:
    """A zip of `files` with Unix modes, fixed times and deflate level 9."""
    buffer = io.BytesIO()
    stamp = time.gmtime(EPOCH)[:6]
    with zipfile.ZipFile(buffer, "w") as archive:
        for folder in _folders(sorted(files)):
            info = zipfile.ZipInfo(folder + "/", date_time=stamp)
            info.create_system = 3  # Unix, so that unzip restores the modes
            info.external_attr = (0o40755 << 16) | 0x10
            archive.writestr(info, b"")
        for name in sorted(files):
            entry = files[name]
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = (0o100000 | entry.mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entry.data, compresslevel=9)
    return buffer.getvalue()


def unzip(archive_path: Path, folder: Path) -> list[str]:
    """Extract a zip under `folder` as Gradescope and unzip do, Unix modes kept (zipfile
    alone drops them); return the names it held."""
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            archive.extract(info, folder)
            mode = info.external_attr >> 16 & 0o777
            if mode:
                (folder / info.filename).chmod(mode)
        return archive.namelist()


def write_tree(files: Files, folder: Path) -> None:
    """Write `files` under `folder` with their modes."""
    for name in sorted(files):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name].data)
        path.chmod(files[name].mode)


def read_tree(folder: Path, *, under: str, skip: tuple[str, ...] = ()) -> Files:
    """The files of a source folder, as `under/relative/path`, without caches.

    `skip` holds paths relative to `folder` (a trailing slash skips a subfolder).
    """
    files: Files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
            continue
        if any(relative == s or s.endswith("/") and relative.startswith(s) for s in skip):
            continue
        files[f"{under}/{relative}"] = Entry(path.read_bytes())
    return files
