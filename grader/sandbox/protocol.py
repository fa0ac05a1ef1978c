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
import functools
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


@functools.lru_cache(maxsize=128)
def dtype_name(dtype: np.dtype) -> str:
    """str(dtype), remembered: numpy builds the name afresh on every call, and a grade
    names the dtype of every argument it sends."""
    return str(dtype)


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
        "dtype": dtype_name(array.dtype),
        "shape": list(array.shape),
        "data": base64.b64encode(little.tobytes()).decode("ascii"),
    }


def decode_array(obj: dict[str, Any]) -> np.ndarray:
    """Rebuild a numpy array from `encode_array` output, validating every field.

    The base64 text must be exactly as long as the shape and dtype need: a
    longer one is refused before anything is decoded.
    """
    dtype = obj.get("dtype")
    shape = obj.get("shape")
    data = obj.get("data")
    if dtype not in ALLOWED_DTYPES:
        raise ProtocolError(f"array dtype={str(dtype)[:40]!r} is not allowed")
    if not isinstance(shape, list) or len(shape) > 32 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ProtocolError(f"array shape={str(shape)[:100]} is not a list of sizes")
    if not isinstance(data, str):
        raise ProtocolError("array data is not a base64 string")
    dt = np.dtype(dtype).newbyteorder("<")
    count = 1
    for n in shape:
        count *= n
    needed = count * dt.itemsize
    if len(data) != 4 * ((needed + 2) // 3):
        raise ProtocolError(f"array data has {len(data)} base64 characters, shape {shape} needs "
                            f"{4 * ((needed + 2) // 3)}")
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ProtocolError(f"array data is not base64 ({exc})") from None
    if len(raw) != needed:
        raise ProtocolError(f"array data has {len(raw)} bytes, shape {shape} needs {needed}")
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


def frame(message: dict[str, Any]) -> bytes:
    """One message as it travels: the 4-byte length, then the JSON."""
    payload = json.dumps(message, allow_nan=True).encode("utf-8")
    return HEADER.pack(len(payload)) + payload


def send(fd: int, message: dict[str, Any], deadline: float | None = None) -> None:
    """Write one framed JSON message; ChannelTimeout if `deadline` passes first.

    With a deadline, `fd` should be non-blocking so that a reader that takes
    only part of the message cannot stall the writer.
    """
    view = memoryview(frame(message))
    while view:
        _wait(fd, deadline, write=True)
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            continue
        view = view[written:]


def read_exactly(fd: int, size: int, deadline: float | None = None) -> bytes:
    """Read `size` bytes; EOFError if the writer went away, ChannelTimeout at the deadline."""
    return bytes(_read_into(fd, size, deadline))


def _read_into(fd: int, size: int, deadline: float | None) -> bytearray:
    """Read `size` bytes into one buffer allocated once (no list of chunks to join)."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    try:
        while filled < size:
            _wait(fd, deadline, write=False)
            try:
                got = _read_chunk(fd, view[filled:filled + (1 << 20)])
            except BlockingIOError:
                continue
            if not got:
                raise EOFError("channel closed")
            filled += got
    finally:
        view.release()
    return buffer


def _read_chunk(fd: int, into: memoryview) -> int:
    """Read at most len(into) bytes into `into`; the count read (0 at end of file)."""
    if hasattr(os, "readv"):
        return os.readv(fd, [into])
    data = os.read(fd, len(into))  # Windows has no readv
    into[:len(data)] = data
    return len(data)


def receive(fd: int, deadline: float | None = None, max_bytes: int = MAX_MESSAGE_BYTES) -> dict[str, Any]:
    """Read one framed JSON object; ProtocolError on anything malformed.

    A frame declaring more than `max_bytes` is refused as soon as its header
    is read: its body is neither read nor allocated (the channel is then out
    of step, so the caller must give up on the other side).
    """
    (size,) = HEADER.unpack(read_exactly(fd, HEADER.size, deadline))
    if size > max_bytes:
        raise ProtocolError(f"message of {size} bytes exceeds the limit of {max_bytes} bytes")
    body = _read_into(fd, size, deadline)
    try:
        text = body.decode("utf-8")
        del body  # only one copy of a large message at a time
        message = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError(f"message is not JSON: {type(exc).__name__}") from None
    if not isinstance(message, dict):
        raise ProtocolError("message is not a JSON object")
    return message


# The last bytes of the arguments arena carry a driver's latest progress note (kit.progress):
# a 2-byte little-endian length, then UTF-8 text. The judge reads it when a call runs out of time.
PROGRESS_BYTES = 4096


def write_progress(arena, text: str) -> None:
    """Put `text` (cut to fit) in the arena's progress slot."""
    data = text.encode("utf-8", "replace")[:PROGRESS_BYTES - 2]
    start = len(arena) - PROGRESS_BYTES
    arena[start:start + 2 + len(data)] = len(data).to_bytes(2, "little") + data


def read_progress(arena) -> str:
    """The text in the arena's progress slot ("" when empty or garbled)."""
    start = len(arena) - PROGRESS_BYTES
    length = int.from_bytes(arena[start:start + 2], "little")
    if not 0 < length <= PROGRESS_BYTES - 2:
        return ""
    return bytes(arena[start + 2:start + 2 + length]).decode("utf-8", "replace")
