"""The one codec for values kept on disk: example banks (grader.examples) and the
handout's recordings of the reference's answers (handout.record / handout.replay).

`encode` describes an array, tensor, number, string, None, tuple or list (and
what the sandbox hands the judge: an array remembering its library, an opaque
value) as JSON-safe data, exactly: dtypes, shapes, non-finite floats and the
library an array came from survive. `decode` rebuilds it and refuses anything
else. Live calls use the sandbox protocol (grader/sandbox/protocol.py, whose
array format this shares), which must also distrust what a worker sends.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .sandbox import protocol
from .sandbox.values import Opaque, ReturnedArray


class Unencodable(TypeError):
    """A value the codec cannot describe (a hypothesis Random, a data object...)."""


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def encode(value: Any) -> Any:
    """A JSON-safe, exact description of `value`; Unencodable if there is none."""
    if _is_tensor(value):
        return protocol.encode_array(value.detach().cpu().numpy(), "torch")
    if isinstance(value, ReturnedArray):
        return {**protocol.encode_array(np.asarray(value).view(np.ndarray), value.lib), "returned": True}
    if isinstance(value, Opaque):
        return {"t": "opaque", "type": value.type, "repr": value.repr}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise Unencodable(f"an array of dtype {value.dtype}")
        return protocol.encode_array(value, "numpy")
    if isinstance(value, np.generic):
        return {"t": "scalar", "dtype": value.dtype.str, "value": encode(value.item())}
    if isinstance(value, (tuple, list)):
        return {"t": type(value).__name__, "items": [encode(v) for v in value]}
    if isinstance(value, float) and not math.isfinite(value):
        return {"t": "float", "repr": repr(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise Unencodable(type(value).__name__)


def decode(obj: Any, *, tensors: bool = False) -> Any:
    """The value `encode` described. Arrays come back as numpy arrays (with
    `tensors`, arrays recorded from torch come back as torch tensors); arrays the
    sandbox had returned come back as ReturnedArray. ValueError for anything
    `encode` cannot have written."""
    if isinstance(obj, dict):
        tag = obj.get("t")
        if tag == "array":
            array = protocol.decode_array(obj).copy()
            if obj.get("returned"):
                returned = array.view(ReturnedArray)
                returned.lib = "torch" if obj.get("lib") == "torch" else "numpy"
                return returned
            if tensors and obj.get("lib") == "torch":
                import torch

                return torch.from_numpy(array)
            return array
        if tag in ("tuple", "list"):
            items = obj.get("items")
            if not isinstance(items, list):
                raise ValueError("a sequence without items")
            decoded = [decode(v, tensors=tensors) for v in items]
            return tuple(decoded) if tag == "tuple" else decoded
        if tag == "scalar":
            dtype = np.dtype(str(obj.get("dtype")))
            if dtype.kind not in "biufc":
                raise ValueError(f"a scalar of dtype {dtype}")
            return dtype.type(decode(obj.get("value")))
        if tag == "float":
            text = str(obj.get("repr"))
            if text not in ("nan", "inf", "-inf"):
                raise ValueError(f"not a non-finite float: {text!r}")
            return float(text)
        if tag == "opaque":
            return Opaque(str(obj.get("type")), str(obj.get("repr")))
        raise ValueError(f"unknown tag {tag!r}")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise ValueError(f"unexpected {type(obj).__name__}")
