"""What the grader reads back from disk is trusted only if the grader wrote it.

Example banks (grader.examples) and grade-all's reports (grader.batch) are
read back by later grader processes, so whoever can rewrite them can change
grades. Each is authenticated with HMAC-SHA256 under a key that only the
grader's own user can read: 32 random bytes in the file `key` of the cache
folder (GRADECHECK_CACHE, see grader.examples.cache_folder), created once,
atomically, with mode 0600.

A folder is used only if it belongs to this process's effective uid and is
not writable by group or others; its key only if it is a regular file (never
a symbolic link) of ours that group and others can neither read nor write.
Otherwise the folder is refused for the life of the process: nothing is read
from it or written to it, and `refusal(folder)` says why (the library prints
nothing; commands decide what to tell whom). A refused folder costs speed
(banks recorded in memory, reports graded again), never a grade.

The MAC covers a purpose ("example bank", "batch report"), the name the data
is kept under (a file name, a student) and the data, so that signed data
cannot be passed off as something else or moved to another name.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

KEY_FILE = "key"
KEY_BYTES = 32
_KEYS: dict[str, bytes] = {}
_REFUSED: dict[str, str] = {}

BANK = "gradecheck example bank"
REPORT = "gradecheck batch report"


class Refused(Exception):
    """A folder, key or file that must not be trusted; str() says why."""


# -- keys ---------------------------------------------------------------------

def _name(folder: Path) -> str:
    return os.path.abspath(folder)


def refusal(folder: Path) -> str | None:
    """Why `folder` was refused in this process, or None if it was not."""
    return _REFUSED.get(_name(folder))


def _refuse(folder: Path, reason: str) -> None:
    _REFUSED.setdefault(_name(folder), reason)


def open_folder(folder: Path, *, create: bool) -> int:
    """A file descriptor on `folder` (created with mode 0700 when `create`), once it is
    known to belong to us and not to be writable by group or others.

    Raises Refused (the folder is recorded as refused), FileNotFoundError when it
    does not exist and `create` is false, or another OSError."""
    if refusal(folder):
        raise Refused(refusal(folder))
    if create:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid():
            raise Refused(f"{folder} belongs to uid {info.st_uid}, not to this grader's uid {os.geteuid()}")
        if info.st_mode & 0o022:
            raise Refused(f"{folder} can be written by group or others "
                          f"(mode {stat.S_IMODE(info.st_mode):04o}; make it 0700)")
    except Refused as exc:
        os.close(fd)
        _refuse(folder, str(exc))
        raise
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_key(folder_fd: int, folder: Path) -> bytes:
    """The key in `folder` (FileNotFoundError if there is none); Refused if it is not
    a regular file of ours, private to us, of the right length."""
    where = Path(folder) / KEY_FILE
    try:
        fd = os.open(KEY_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(f"{where} is a symbolic link") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{where} is not a regular file")
        if info.st_uid != os.geteuid():
            raise Refused(f"{where} belongs to uid {info.st_uid}, not to this grader's uid {os.geteuid()}")
        if info.st_mode & 0o077:
            raise Refused(f"{where} can be read or written by group or others "
                          f"(mode {stat.S_IMODE(info.st_mode):04o}); delete it and a new one is made")
        key = os.read(fd, KEY_BYTES + 1)
        if len(key) != KEY_BYTES:
            raise Refused(f"{where} holds {len(key)} bytes, not {KEY_BYTES}")
        return key
    finally:
        os.close(fd)


def _create_key(folder_fd: int) -> None:
    """Make the key: written in full to a private temporary file, then linked to its
    name, which fails if another process made one first (then theirs is used)."""
    temporary = f".{KEY_FILE}.{secrets.token_hex(8)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                 dir_fd=folder_fd)
    try:
        try:
            os.write(fd, secrets.token_bytes(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, KEY_FILE, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
        except FileExistsError:
            pass  # another grader process made it first
        except OSError:  # a filesystem without hard links: create the key in place instead
            try:
                fd = os.open(KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                             0o600, dir_fd=folder_fd)
            except FileExistsError:
                return
            try:
                os.write(fd, secrets.token_bytes(KEY_BYTES))
                os.fsync(fd)
            finally:
                os.close(fd)
    finally:
        try:
            os.unlink(temporary, dir_fd=folder_fd)
        except OSError:
            pass


def key_at(folder_fd: int, folder: Path, *, create: bool) -> bytes | None:
    """The key of `folder` (open as `folder_fd`), made if absent and `create`; None when
    there is none or it is refused (the folder is then recorded as refused)."""
    name = _name(folder)
    if name in _KEYS:
        return _KEYS[name]
    if name in _REFUSED:
        return None
    try:
        try:
            key = _read_key(folder_fd, folder)
        except FileNotFoundError:
            if not create:
                return None
            _create_key(folder_fd)
            key = _read_key(folder_fd, folder)
    except Refused as exc:
        _refuse(folder, str(exc))
        return None
    except OSError:
        return None  # unreadable or unwritable: nothing signed is read or written, nothing recorded
    _KEYS[name] = key
    return key


def key_in(folder: Path, *, create: bool) -> bytes | None:
    """The key of `folder`, made (with the folder) if absent and `create`; None when
    the folder or its key is refused, absent or unusable."""
    try:
        fd = open_folder(folder, create=create)
    except (Refused, OSError):
        return None
    try:
        return key_at(fd, folder, create=create)
    finally:
        os.close(fd)


# -- MACs ---------------------------------------------------------------------

def mac(key: bytes, purpose: str, name: str, data: bytes) -> str:
    """HMAC-SHA256 of `data` kept under `name` for `purpose`, as hex."""
    message = b"\0".join([purpose.encode(), name.encode("utf-8", "surrogateescape"), data])
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verifies(key: bytes, purpose: str, name: str, data: bytes, claimed: object) -> bool:
    """Whether `claimed` is the MAC of `data` under `name` for `purpose` (constant time)."""
    return isinstance(claimed, str) and hmac.compare_digest(mac(key, purpose, name, data), claimed)


# -- files ---------------------------------------------------------------------

def read_at(folder_fd: int, name: str, limit: int, *, private: bool) -> bytes:
    """The bytes of regular file `name` in the folder (never through a symbolic link),
    at most `limit` of them. With `private`, the file must belong to us and not be
    writable by group or others. Raises Refused or OSError."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{name} is not a regular file")
        if private and info.st_uid != os.geteuid():
            raise Refused(f"{name} belongs to uid {info.st_uid}")
        if private and info.st_mode & 0o022:
            raise Refused(f"{name} can be written by group or others")
        if info.st_size > limit:
            raise Refused(f"{name} is larger than {limit} bytes")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise Refused(f"{name} is larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_at(folder_fd: int, name: str, data: bytes) -> None:
    """Replace file `name` in the folder by `data` atomically: a new private file
    (mode 0600, made here, never through a link), then a rename over the name."""
    temporary = f".tmp-{secrets.token_hex(8)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                 dir_fd=folder_fd)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=folder_fd)
        except OSError:
            pass
        raise


# -- signed files: {"hmac-sha256": "<hex>", "signed": <the data, byte for byte>} -------

_HEAD = b'{"hmac-sha256":"'
_MIDDLE = b'","signed":'
_TAIL = b"}\n"
_HEX = 64


def read_signed(folder: Path, name: str, purpose: str, limit: int) -> bytes | None:
    """The data of file `name` in `folder`, written by `write_signed` with this
    folder's key; None when the folder is refused, the file is absent, not a private
    regular file of ours, too large, or its MAC does not verify."""
    try:
        folder_fd = open_folder(folder, create=False)
    except (Refused, OSError):
        return None
    try:
        key = key_at(folder_fd, folder, create=False)
        if key is None:
            return None
        raw = read_at(folder_fd, name, limit, private=True)
    except (Refused, OSError):
        return None
    finally:
        os.close(folder_fd)
    start = len(_HEAD) + _HEX + len(_MIDDLE)
    if not (raw.startswith(_HEAD) and raw[len(_HEAD) + _HEX:start] == _MIDDLE and raw.endswith(_TAIL)):
        return None
    claimed = raw[len(_HEAD):len(_HEAD) + _HEX].decode("ascii", "replace")
    data = raw[start:-len(_TAIL)]
    return data if verifies(key, purpose, name, data, claimed) else None


def write_signed(folder: Path, name: str, purpose: str, data: bytes) -> bool:
    """Write `data` (JSON text, so that the file is JSON too) to `name` in `folder`,
    atomically, with its MAC under the folder's key (made if absent). False when the
    folder or its key is refused or unusable, or the write fails."""
    try:
        folder_fd = open_folder(folder, create=True)
    except (Refused, OSError):
        return False
    try:
        key = key_at(folder_fd, folder, create=True)
        if key is None:
            return False
        write_at(folder_fd, name, _HEAD + mac(key, purpose, name, data).encode() + _MIDDLE + data + _TAIL)
        return True
    except OSError:
        return False
    finally:
        os.close(folder_fd)
