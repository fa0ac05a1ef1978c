"""Wire format between the judge and the sandboxed worker.

Messages are JSON objects framed by a 4-byte big-endian length. Arrays travel
as ``{"t": "array", "lib", "dtype", "shape", "data"}`` with the raw
little-endian bytes in base64; tuples and lists are tagged too. Nothing here
can execute code on decode: only JSON, numbers and bytes cross the boundary.

Every read and write can take a deadline (a `time.monotonic()` value): the
judge never blocks on a worker that stopped mid-message or stopped reading.

This module is imported by the worker as a plain script neighbour, so it must
depend on the standard library and numpy only.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import select
import struct
import time
from typing import Any

import numpy as np

MAX_MESSAGE_BYTES = 256 * 2**20
HEADER = struct.Struct(">I")

# dtypes that may cross the boundary; anything else is reported as opaque.
ALLOWED_DTYPES = {
    "bool", "uint8", "int8", "int16", "int32", "int64",
    "float16", "float32", "float64",
}


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


class ChannelTimeout(Exception):
    """The deadline passed before a whole message was read or written."""


def encode_array(array: np.ndarray, lib: str) -> dict[str, Any]:
    """Describe a numpy array as a JSON-safe dict (little-endian raw bytes)."""
    array = np.ascontiguousarray(array).reshape(np.shape(array))  # keeps 0-d arrays 0-d
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return {
        "t": "array",
        "lib": lib,
        "dtype": str(array.dtype),
        "shape": list(array.shape),
        "data": base64.b64encode(little.tobytes()).decode("ascii"),
    }


def decode_array(obj: dict[str, Any]) -> np.ndarray:
    """Rebuild a numpy array from `encode_array` output, validating every field."""
    dtype = obj.get("dtype")
    shape = obj.get("shape")
    data = obj.get("data")
    if dtype not in ALLOWED_DTYPES:
        raise ProtocolError(f"array dtype={dtype!r} is not allowed")
    if not isinstance(shape, list) or len(shape) > 32 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ProtocolError(f"array shape={shape!r} is not a list of sizes")
    if not isinstance(data, str):
        raise ProtocolError("array data is not a base64 string")
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ProtocolError(f"array data is not base64 ({exc})") from None
    dt = np.dtype(dtype).newbyteorder("<")
    count = 1
    for n in shape:
        count *= n
    if len(raw) != count * dt.itemsize:
        raise ProtocolError(f"array data has {len(raw)} bytes, shape {shape} needs {count * dt.itemsize}")
    return np.frombuffer(raw, dtype=dt).astype(np.dtype(dtype)).reshape(shape)


def _wait(fd: int, deadline: float | None, *, write: bool) -> None:
    if deadline is None:
        return
    left = deadline - time.monotonic()
    if left <= 0:
        raise ChannelTimeout("deadline passed")
    ready = select.select([], [fd], [], left)[1] if write else select.select([fd], [], [], left)[0]
    if not ready:
        raise ChannelTimeout("deadline passed")


def send(fd: int, message: dict[str, Any], deadline: float | None = None) -> None:
    """Write one framed JSON message; ChannelTimeout if `deadline` passes first.

    With a deadline, `fd` should be non-blocking so that a reader that takes
    only part of the message cannot stall the writer.
    """
    payload = json.dumps(message, allow_nan=True).encode("utf-8")
    view = memoryview(HEADER.pack(len(payload)) + payload)
    while view:
        _wait(fd, deadline, write=True)
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            continue
        view = view[written:]


def read_exactly(fd: int, size: int, deadline: float | None = None) -> bytes:
    """Read `size` bytes; EOFError if the writer went away, ChannelTimeout at the deadline."""
    chunks = []
    remaining = size
    while remaining:
        _wait(fd, deadline, write=False)
        try:
            chunk = os.read(fd, min(remaining, 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, deadline: float | None = None) -> dict[str, Any]:
    """Read one framed JSON object; ProtocolError on anything malformed."""
    (size,) = HEADER.unpack(read_exactly(fd, HEADER.size, deadline))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {size} bytes exceeds the {MAX_MESSAGE_BYTES} limit")
    try:
        message = json.loads(read_exactly(fd, size, deadline).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError(f"message is not JSON: {type(exc).__name__}") from None
    if not isinstance(message, dict):
        raise ProtocolError("message is not a JSON object")
    return message
