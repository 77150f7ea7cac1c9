"""JSON encoding of search states and configurations, with numpy arrays.

Run stores hold data, never code: states are encoded as JSON in which numpy
arrays become ``{"__ndarray__": <base64>, "dtype": ..., "shape": ...}``.
Tuples become lists; everything else must be a JSON type.  No pickle.

Public because adapters and users need the same encoding: :func:`canonical`
is the key under which a run store recognizes a repeated candidate (and the
NAS adapters derive each candidate's training seed from it).

Example:
    >>> from moopt.serial import canonical, dumps, loads
    >>> canonical({"b": (1, 2), "a": "x"}) == canonical({"a": "x", "b": [1, 2]})
    True
    >>> import numpy as np
    >>> loads(dumps({"w": np.arange(3)}))["w"].tolist()
    [0, 1, 2]
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np


def _default(obj: Any):
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        return {
            "__ndarray__": base64.b64encode(arr.tobytes()).decode("ascii"),
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
        }
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(
        f"cannot store an object of type {type(obj).__name__} in a run; "
        "state_dict() must return JSON types and numpy arrays only"
    )


def _hook(d: dict):
    if "__ndarray__" in d:
        buf = base64.b64decode(d["__ndarray__"])
        return np.frombuffer(buf, dtype=np.dtype(d["dtype"])).reshape(d["shape"]).copy()
    return d


def dumps(obj: Any) -> str:
    """Encode ``obj`` (JSON types and numpy arrays) as a JSON string."""
    return json.dumps(obj, default=_default, allow_nan=True, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Decode a string produced by :func:`dumps`."""
    return json.loads(text, object_hook=_hook)


def canonical(params: dict) -> str:
    """Canonical encoding of a candidate's parameters (sorted keys, lists for tuples).

    Two candidates with the same canonical encoding are the same candidate; the
    run store answers the second from the first's evaluation.
    """
    return json.dumps(params, default=_default, sort_keys=True, separators=(",", ":"))
