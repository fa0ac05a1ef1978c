"""The platforms' exports as grade-all input.

- Gradescope's "Export Submissions": a folder (or its .zip) holding
  submission_metadata.yml and one folder per submission (submission_12345/).
  The metadata maps each folder to its submitters (`:name`, `:email`, `:sid`;
  several for a group) and its time (`:created_at`).
- Autolab's download of an assessment's handins: one file per version, named
  EMAIL_VERSION_FILE (alice@school.edu_3_handin.tar). The latest version of each
  student is graded; with `all_versions`, every version (as EMAIL_vN).

Each entry carries the platform's identity of the people it is for, which the
gradebook writes (one row per member of a group).
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

GRADESCOPE_METADATA = "submission_metadata.yml"
AUTOLAB_NAME = re.compile(r"^(?P<email>[^_\s/]+@[^_\s/]+)_(?P<version>\d+)_(?P<file>.+)$")
ZIP_MEMBERS, ZIP_BYTES = 20_000, 4 * 2**30  # what an export .zip may unpack to


class ExportError(ValueError):
    """An export that cannot be read; the message says why."""


@dataclass(frozen=True)
class Member:
    """One person a submission is for, as the platform names them."""

    name: str = ""
    email: str = ""
    sid: str = ""

    def key(self) -> str:
        """What identifies them in a gradebook: the email, else the SID, else the name."""
        return self.email or self.sid or self.name


@dataclass(frozen=True)
class Exported:
    """One submission of an export: where it is and whom it is for."""

    key: str
    path: Path
    platform: str
    members: tuple[Member, ...] = ()
    version: int | None = None
    submitted: str = ""
    extra: dict = field(default_factory=dict)

    def identity(self) -> dict:
        """The identity a report records (JSON data)."""
        out: dict = {"platform": self.platform,
                     "members": [{"name": m.name, "email": m.email, "sid": m.sid} for m in self.members]}
        if self.version is not None:
            out["version"] = self.version
        if self.submitted:
            out["submitted"] = self.submitted
        return out


def unzip_export(archive: Path, into: Path) -> Path:
    """Unpack an export's .zip into `into` (replaced), refusing paths that leave it, links
    and archives too large to be an export; return the folder."""
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as opened:
            members = opened.infolist()
            if len(members) > ZIP_MEMBERS or sum(m.file_size for m in members) > ZIP_BYTES:
                raise ExportError(f"{archive.name} unpacks to more than an export holds")
            root = into.resolve()
            for member in members:
                target = (into / member.filename).resolve()
                if root not in target.parents and target != root:
                    raise ExportError(f"{archive.name} holds a path outside the export: {member.filename!r}")
                if stat.S_ISLNK(member.external_attr >> 16):
                    continue  # links are left out
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with opened.open(member) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
    except zipfile.BadZipFile as exc:
        raise ExportError(f"{archive.name} is not a readable .zip ({exc})") from None
    return into


def _metadata_folder(folder: Path) -> Path | None:
    if (folder / GRADESCOPE_METADATA).is_file():
        return folder
    inner = [p for p in folder.iterdir() if p.is_dir() and (p / GRADESCOPE_METADATA).is_file()]
    return inner[0] if len(inner) == 1 else None


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def gradescope_export(folder: Path) -> list[Exported] | None:
    """The submissions of a Gradescope export, or None if `folder` is not one."""
    base = _metadata_folder(folder)
    if base is None:
        return None
    try:
        metadata = yaml.safe_load((base / GRADESCOPE_METADATA).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ExportError(f"{GRADESCOPE_METADATA} cannot be read: {exc}") from None
    if not isinstance(metadata, dict):
        raise ExportError(f"{GRADESCOPE_METADATA} is not a mapping of submission folders")
    found = []
    for name, record in sorted(metadata.items(), key=lambda item: str(item[0])):
        path = base / str(name)
        if not isinstance(record, dict) or not path.exists():
            continue  # a submission the export lists but does not hold
        submitters = record.get(":submitters") or record.get("submitters") or []
        members = tuple(Member(_text(s.get(":name", s.get("name"))), _text(s.get(":email", s.get("email"))),
                               _text(s.get(":sid", s.get("sid"))))
                        for s in submitters if isinstance(s, dict))
        key = members[0].key() if members and members[0].key() else str(name)
        found.append(Exported(key, path, "gradescope", members,
                              submitted=_text(record.get(":created_at", record.get("created_at")))))
    return found


def autolab_download(folder: Path, all_versions: bool = False) -> list[Exported] | None:
    """The handins of an Autolab download (the latest per student, or all), or None if
    the folder's entries are not named EMAIL_VERSION_FILE."""
    entries = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".")]
    matched = [(p, AUTOLAB_NAME.match(p.name)) for p in entries]
    if not entries or not all(m for _, m in matched):
        return None
    versions: dict[str, list[tuple[int, Path]]] = {}
    for path, match in matched:
        versions.setdefault(match["email"], []).append((int(match["version"]), path))
    found = []
    for email, handins in sorted(versions.items()):
        handins.sort()
        chosen = handins if all_versions else handins[-1:]
        for version, path in chosen:
            key = f"{email}_v{version}" if all_versions else email
            found.append(Exported(key, path, "autolab", (Member(email=email),), version=version))
    return found


def read_export(folder: Path, all_versions: bool = False) -> list[Exported] | None:
    """The submissions of a platform export in `folder`, or None for a plain folder of
    one entry per student."""
    return gradescope_export(folder) or autolab_download(folder, all_versions)
