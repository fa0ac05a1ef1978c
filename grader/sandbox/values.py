"""Values crossing the sandbox boundary, as the judge sees them.

Arrays come back as `ReturnedArray` (a numpy array remembering whether the
student returned a torch tensor or a numpy array), anything that is not an
array, tuple, list or plain number as `Opaque` (its type and a short repr).
Every piece of text from the worker is cleaned (grader.text) on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..text import clean, clean_name
from . import protocol

MAX_DEPTH = 8
MAX_TYPE = 100  # characters of an opaque value's type name
MAX_REPR = 300  # characters of an opaque value's repr, or of a returned string


@dataclass(frozen=True)
class Opaque:
    """A returned value that is not an array, tuple or plain number."""

    type: str
    repr: str


class ReturnedArray(np.ndarray):
    """A numpy array decoded from the worker, remembering which library made it
    (`lib` is "torch" or "numpy")."""

    lib: str = "numpy"

    def __array_finalize__(self, obj: Any) -> None:
        self.lib = getattr(obj, "lib", "numpy")


def decode_value(obj: Any, depth: int = 0) -> Any:
    """Turn a wire value from the worker into numpy arrays, tuples and scalars.

    Raises protocol.ProtocolError for anything the worker cannot have meant.
    """
    if depth > MAX_DEPTH:
        raise protocol.ProtocolError("value nested too deeply")
    if isinstance(obj, dict):
        tag = obj.get("t")
        if tag == "array":
            array = protocol.decode_array(obj).view(ReturnedArray)
            array.lib = "torch" if obj.get("lib") == "torch" else "numpy"
            return array
        if tag in ("tuple", "list"):
            items = obj.get("items")
            if not isinstance(items, list):
                raise protocol.ProtocolError("sequence without items")
            decoded = [decode_value(item, depth + 1) for item in items]
            return tuple(decoded) if tag == "tuple" else decoded
        if tag == "opaque":
            return Opaque(clean_name(obj.get("type", "?"), MAX_TYPE) or "?", clean(obj.get("repr", ""), MAX_REPR))
        raise protocol.ProtocolError(f"unknown tag {clean_name(tag, 50)!r}")
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    if isinstance(obj, str):
        return clean(obj, MAX_REPR)
    raise protocol.ProtocolError(f"unexpected value of type {type(obj).__name__}")


def encode_argument(value: Any, library: str) -> Any:
    """Describe a judge-side argument (numpy array, int, float, tuple) for the wire."""
    if isinstance(value, np.ndarray):
        return protocol.encode_array(value, library)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"t": "tuple", "items": [encode_argument(v, library) for v in value]}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    raise TypeError(f"cannot send {type(value).__name__} to the worker")
