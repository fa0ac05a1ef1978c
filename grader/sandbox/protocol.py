"""Wire format between the judge and the sandboxed worker.

Messages are JSON objects framed by a 4-byte big-endian length. Arrays travel
as ``{"t": "array", "lib", "dtype", "shape", "data"}`` with the raw
little-endian bytes in base64; tuples and lists are tagged too. Nothing here
can execute code on decode: only JSON, numbers and bytes cross the boundary.

This module is imported by the worker as a plain script neighbour, so it must
depend on the standard library and numpy only.
"""

from __future__ import annotations

import base64
import json
import os
import struct
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


def encode_array(array: np.ndarray, lib: str) -> dict[str, Any]:
    """Describe a numpy array as a JSON-safe dict (little-endian raw bytes)."""
    array = np.ascontiguousarray(array)
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
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ProtocolError(f"array shape={shape!r} is not a list of sizes")
    if not isinstance(data, str):
        raise ProtocolError("array data is not a base64 string")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    dt = np.dtype(dtype).newbyteorder("<")
    count = int(np.prod(shape)) if shape else 1
    if len(raw) != count * dt.itemsize:
        raise ProtocolError(f"array data has {len(raw)} bytes, shape {shape} needs {count * dt.itemsize}")
    return np.frombuffer(raw, dtype=dt).astype(np.dtype(dtype)).reshape(shape)


def send(fd: int, message: dict[str, Any]) -> None:
    """Write one framed JSON message to a file descriptor."""
    payload = json.dumps(message, allow_nan=True).encode("utf-8")
    buffer = HEADER.pack(len(payload)) + payload
    view = memoryview(buffer)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, size: int) -> bytes:
    """Read `size` bytes from `fd`; raise EOFError if the writer went away first."""
    chunks = []
    remaining = size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def receive(fd: int) -> dict[str, Any]:
    """Read one framed JSON object; raise ProtocolError on anything malformed."""
    (size,) = HEADER.unpack(read_exactly(fd, HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {size} bytes exceeds the {MAX_MESSAGE_BYTES} limit")
    try:
        message = json.loads(read_exactly(fd, size).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"message is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("message is not a JSON object")
    return message
