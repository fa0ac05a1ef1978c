"""Make any text safe to put in a message or a report.

Whatever crosses from the worker (exception names and messages, parameter
names, reprs, printed output) and whatever a submission can name (archive
entries, notebook cells) goes through `clean` before it reaches a message:
the result is a plain `str` that encodes as UTF-8, holds no control
characters but newline and tab, and is at most `limit` characters long.
"""

from __future__ import annotations

import re

MARKER = "… [truncated, {total:,} characters in all]"
# Escape sequences a terminal would obey: CSI (colours, cursor moves), OSC (titles,
# links) and the two-character ones. Removed whole, so nothing of them is left.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
# C0 and C1 controls but tab and newline, DEL, line and paragraph separators,
# and the bidirectional overrides that can make a report read differently
# from what it says.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SEPARATORS = re.compile("\r\n?|[\u2028\u2029\x85]")
SURROGATE = re.compile("[\ud800-\udfff]")
WHITESPACE = re.compile(r"\s+")


def _as_str(text: object) -> str:
    """A plain str for anything: a str subclass's own characters, bytes decoded
    leniently, str() of an object, or a placeholder when str() itself fails."""
    if isinstance(text, str):
        return str.__str__(text)  # never a subclass's __str__, always an exact str
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text).decode("utf-8", "replace")
    try:
        converted = str(text)
        if not isinstance(converted, str):  # pragma: no cover - str() refuses those itself
            raise TypeError("__str__ returned a non-string")
        return str.__str__(converted)
    except Exception:  # noqa: BLE001 - whatever a hostile __str__ raises
        try:
            name = str.__str__(type(text).__name__)
        except Exception:  # noqa: BLE001
            name = "object"
        return f"<unprintable {clean_name(name, 60)}>"


def _fix_surrogates(text: str) -> str:
    """Join surrogate pairs into the characters they stand for; every lone
    surrogate (including undecodable bytes kept by 'surrogateescape') becomes U+FFFD."""
    if not SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean(text: object, limit: int = 2000) -> str:
    """`text` as a plain, printable, bounded str.

    Converts anything to str without trusting it (a str subclass or an object
    whose ``__str__`` raises cannot break this), turns lone surrogates and
    undecodable bytes into U+FFFD, normalises line ends to newlines, removes
    terminal escape sequences and every control character but newline and
    tab, and cuts the result to at most `limit` characters, ending in a
    marker that says how long the text was. Never raises.
    """
    try:
        raw = _as_str(text)
    except Exception:  # noqa: BLE001 - MemoryError on a huge bytes object, say
        raw = "<unprintable>"
    limit = max(int(limit), 0)
    # Cleaning never lengthens the text, so look at no more than can survive it:
    # the cost stays bounded by `limit`, not by what the submission sent.
    window = 2 * limit + 64
    cut = len(raw) > window
    text = raw[:window] if cut else raw
    text = _fix_surrogates(text)
    text = SEPARATORS.sub("\n", text)
    text = ANSI.sub("", text)
    text = CONTROL.sub("", text)
    if not cut and len(text) <= limit:
        return text
    marker = MARKER.format(total=len(raw))
    if limit <= len(marker) + 1:
        return text[: max(limit - 1, 0)] + "…" if limit else ""
    return text[: limit - len(marker)] + marker


def clean_name(text: object, limit: int = 100) -> str:
    """`clean`, on a single line: for identifiers, type names and file names.

    Runs of whitespace (newlines and tabs included) become one space and the
    ends are stripped; at most `limit` characters.
    """
    text = WHITESPACE.sub(" ", clean(text, limit)).strip()
    return text
