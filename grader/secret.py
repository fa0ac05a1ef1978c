"""The course secret: what makes the server's examples unpredictable from the handout.

The handout's local grader replays a small public set of examples, recorded
without any secret. The server salts every hypothesis seed, probe direction
and sampled coordinate with the course secret, so a submission cannot map
the public examples to their recorded answers. Grading stays deterministic
for a given secret.

Where the secret comes from, first found wins:
1. the environment variable GRADECHECK_SECRET;
2. the file named by GRADECHECK_SECRET_FILE;
3. `secret.txt` in the assignment's folder (the Autolab and Gradescope
   bundles carry it there; `python -m grader handout` creates it once).

Without one, examples are the public ones: fine for staff trying things
locally, refused for the platform formats (see `course_secret`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from .errors import GraderError

FILE_NAME = "secret.txt"
MAX_BYTES = 4096


def course_secret(folder: Path, *, required: bool = False) -> str:
    """The course secret for the assignment in `folder`, "" when there is none.

    Raises GraderError when `required` and no secret is set, or when a
    secret file is unreadable or empty.
    """
    value = os.environ.get("GRADECHECK_SECRET", "").strip()
    if value:
        return value
    named = os.environ.get("GRADECHECK_SECRET_FILE", "").strip()
    for path in ([Path(named)] if named else []) + [Path(folder) / FILE_NAME]:
        if path.is_file() or named:
            try:
                text = path.read_bytes()[:MAX_BYTES].decode("utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise GraderError(f"the course secret file {path} cannot be read: {exc}") from None
            if not text:
                raise GraderError(f"the course secret file {path} is empty")
            return text
    if required:
        raise GraderError(
            "no course secret: the server must draw examples the handout cannot predict. Set "
            "GRADECHECK_SECRET, or GRADECHECK_SECRET_FILE, or put secret.txt in the assignment's "
            "folder (the bundles made by `python -m grader handout` carry one)")
    return ""


def salt_of(secret: str) -> str:
    """A short digest of `secret` to mix into seeds and bank keys (the secret itself never
    appears in a report, a bank or a file name)."""
    if not secret:
        return ""
    return hashlib.sha256(b"gradecheck salt\0" + secret.encode("utf-8")).hexdigest()[:32]


def ensure_secret_file(folder: Path) -> tuple[str, bool]:
    """The course secret for building bundles: from the environment or `folder`/secret.txt,
    else a new random one written there (mode 0600). Returns (secret, created)."""
    existing = course_secret(folder)
    if existing:
        return existing, False
    value = secrets.token_hex(32)
    path = Path(folder) / FILE_NAME
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(value + "\n")
    return value, True
