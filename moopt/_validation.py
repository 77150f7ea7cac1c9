"""Input validation shared by every kernel: shapes, finiteness and directions.

All kernels work internally on *minimization* arrays.  ``to_min`` converts a
user's array with per-objective directions into a fresh float64 array where
every column is minimized (``max`` columns negated), so no kernel ever mutates
its input and nobody negates by hand.
"""

from __future__ import annotations

import math
from typing import Sequence, Union

import numpy as np

Directions = Union[None, str, Sequence[str]]

_VALID = ("min", "max")
_ONES: dict = {}  # read-only all-"min" sign vectors by objective count


def directions_signs(directions: Directions, n_obj: int, *, name: str = "directions") -> np.ndarray:
    """Return the sign vector (+1 for ``min``, -1 for ``max``) of length ``n_obj``.

    Args:
        directions: ``None`` (all ``"min"``), one string applied to every
            objective, or a sequence of ``"min"``/``"max"`` of length ``n_obj``.
        n_obj: Number of objectives.
        name: Argument name used in error messages.

    Raises:
        ValueError: Unknown direction string or wrong count.
    """
    if directions is None or (isinstance(directions, str) and directions.lower() == "min"):
        ones = _ONES.get(n_obj)
        if ones is None:
            ones = _ONES[n_obj] = np.ones(n_obj)
            ones.flags.writeable = False
        return ones
    if isinstance(directions, str):
        directions = [directions] * n_obj
    dirs = list(directions)
    if len(dirs) != n_obj:
        raise ValueError(
            f"{name} has {len(dirs)} entries but the points have {n_obj} objectives; "
            f"pass one of 'min'/'max' per objective (e.g. {['min'] * n_obj!r})."
        )
    signs = np.empty(n_obj)
    for j, d in enumerate(dirs):
        d_norm = d.lower() if isinstance(d, str) else d
        if d_norm == "min":
            signs[j] = 1.0
        elif d_norm == "max":
            signs[j] = -1.0
        else:
            raise ValueError(
                f"{name}[{j}] is {d!r}; each direction must be 'min' or 'max'."
            )
    return signs


def _numeric(F, name: str, shape_hint: str):
    """``F`` as an array of a real numeric dtype; bool, complex and strings are refused."""
    try:
        arr = np.asarray(F)
    except (TypeError, ValueError) as exc:  # e.g. rows of different lengths
        if "inhomogeneous" in str(exc):
            raise TypeError(
                f"{name} must be a numeric array of shape {shape_hint}, but its rows have different lengths; "
                "give every point the same number of objectives."
            ) from None
        raise TypeError(f"{name} must be a numeric array of shape {shape_hint}: {exc}") from None
    kind = arr.dtype.kind
    if kind in "fiu":
        return arr
    if kind == "b":
        raise TypeError(
            f"{name} is a bool array; objective values must be real numbers. If the booleans are "
            f"meant as 0/1 values, convert them first: np.asarray({name}, dtype=float)."
        )
    if kind == "c":
        raise TypeError(
            f"{name} is a complex array; objective values must be real numbers (pass the real part, "
            f"np.real({name}), or the magnitude, np.abs({name}), as the objective you mean)."
        )
    if kind in "USa":
        raise TypeError(
            f"{name} must be a numeric array of shape {shape_hint}, got strings (e.g. "
            f"{str(arr.reshape(-1)[0]) if arr.size else ''!r}); parse them into numbers first "
            f"(e.g. np.asarray({name}, dtype=float))."
        )
    try:  # objects (Decimal, Fraction, ...): numbers if float() takes them
        return arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape {shape_hint}: {exc}") from None


def as_points(
    F,
    *,
    name: str = "F",
    allow_empty: bool = True,
    n_obj: int | None = None,
    copy: bool = True,
    allow_1d: bool = True,
) -> np.ndarray:
    """Validate ``F`` as a finite ``(n_points, n_objectives)`` float array (a new copy).

    With ``copy=False`` a float64 array is returned as is (for callers that
    never write to it, e.g. the Pareto and indicator kernels).

    A 1-D array is read as a single point when ``allow_1d`` (the default, for
    callers that document it); the kernels pass ``allow_1d=False`` and refuse
    it, because ``[3., 1., 2.]`` may as well mean three points of one objective.
    An empty 1-D array (``[]``) is always an empty set.

    Raises:
        TypeError: not numbers, or bool / complex / string values.
        ValueError: wrong dimensionality, zero objectives, NaN/inf, or an
            objective count that differs from ``n_obj``.
    """
    arr = _numeric(F, name, "(n_points, n_objectives)")
    arr = np.array(arr, dtype=float) if copy else np.ascontiguousarray(arr, dtype=float)
    if arr.ndim == 1:
        if not arr.size:
            arr = arr.reshape(0, n_obj or 0)
        elif allow_1d:
            arr = arr.reshape(1, -1)
        else:
            raise ValueError(
                f"{name} has shape {arr.shape}, but points must come as an array of shape (n, m) "
                f"(n points, one row each, m objectives). For {arr.shape[0]} points of one objective "
                f"pass np.asarray({name})[:, None]; for one point of {arr.shape[0]} objectives pass [{name}]."
            )
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n_points, n_objectives), got an array with shape {arr.shape}."
        )
    if arr.shape[1] == 0 and arr.shape[0] > 0:
        raise ValueError(
            f"{name} has shape {arr.shape}: {arr.shape[0]} points with no objective values; each row "
            "must hold at least one objective (shape (n, m) with m >= 1)."
        )
    if n_obj is not None and arr.shape[1] != n_obj and arr.shape[0] > 0:
        raise ValueError(
            f"{name} has {arr.shape[1]} objectives (columns) but {n_obj} were expected."
        )
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty; pass at least one point.")
    # one cheap reduction first: a finite sum means every value is finite (NaN and
    # inf propagate); only a non-finite sum (or an overflow) needs the exact check
    if arr.size and not math.isfinite(np.add.reduce(arr, axis=None)) and not (
        math.isfinite(np.maximum.reduce(arr, axis=None)) and math.isfinite(np.minimum.reduce(arr, axis=None))
    ):
        bad = np.argwhere(~np.isfinite(arr))
        i, j = bad[0]
        raise ValueError(
            f"{name} contains {len(bad)} non-finite value(s) (first at row {i}, column {j}: "
            f"{arr[i, j]}); remove or repair failed evaluations before computing indicators "
            "(e.g. F[np.isfinite(F).all(axis=1)])."
        )
    return arr


def to_min(
    F,
    directions: Directions = None,
    *,
    name: str = "F",
    allow_empty: bool = True,
    copy: bool = True,
    allow_1d: bool = False,
):
    """Validate ``F`` and return ``(F_min, signs)`` with every column minimized.

    ``F_min`` is a new array unless ``copy=False`` and no column is flipped, in
    which case it may be ``F`` itself (read-only use only).  A 1-D ``F`` is
    refused unless ``allow_1d`` (then it is one point), see :func:`as_points`.
    """
    if (not copy and directions is None and type(F) is np.ndarray and F.dtype == np.float64 and F.ndim == 2
            and F.shape[0] and F.shape[1] and F.flags.c_contiguous):
        # the kernels' common case (a float64 array, all "min"): only the finiteness check
        if not math.isfinite(np.add.reduce(F, axis=None)):
            as_points(F, name=name, copy=False)  # raises with the exact message (or it was an overflow)
        return F, directions_signs(None, F.shape[1])
    arr = as_points(F, name=name, allow_empty=allow_empty, copy=copy, allow_1d=allow_1d)
    if arr.shape[1] == 0 and directions is not None and not isinstance(directions, str):
        arr = arr.reshape(0, len(list(directions)))  # empty input: columns from directions
    signs = directions_signs(directions, arr.shape[1])
    if directions is not None and (signs < 0).any():
        if copy:
            arr *= signs
        else:
            arr = arr * signs
    return arr, signs


def as_ref(ref, signs: np.ndarray, *, name: str = "ref") -> np.ndarray:
    """Validate a reference point against the objective count and convert it to minimization.

    ``ref`` is one point, shape ``(m,)`` (a scalar is accepted for ``m == 1``);
    a 2-D ``ref`` is refused rather than flattened.
    """
    if type(ref) is list and len(ref) and all(type(x) is float for x in ref):
        r = np.array(ref)  # the common case (a list of floats): nothing else to check
    else:
        try:
            r0 = np.asarray(ref)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a sequence of numbers, got {ref!r}.") from None
        if r0.dtype.kind in "bc":
            what = "bool" if r0.dtype.kind == "b" else "complex"
            raise TypeError(f"{name} must be real numbers, got a {what} array {r0.tolist()}.")
        try:
            r = r0.astype(float)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a sequence of numbers, got {ref!r}.") from None
        if r.ndim == 0:
            r = r.reshape(1)
        elif r.ndim != 1:
            raise ValueError(
                f"{name} must be one point of shape (m,) (one coordinate per objective), got an array of "
                f"shape {r.shape}; pass a single reference point, e.g. {name}[0] or np.ravel({name}) if "
                "that is what it holds."
            )
    if signs.shape[0] == 0:  # no points, objective count unknown: only check finiteness
        signs = np.ones(r.shape[0])
    if r.shape[0] != signs.shape[0]:
        raise ValueError(
            f"{name} has {r.shape[0]} coordinates but the points have {signs.shape[0]} objectives."
        )
    if not all(map(math.isfinite, r.tolist())):
        raise ValueError(f"{name} must be finite, got {r.tolist()}.")
    if signs is not _ONES.get(signs.shape[0]):  # all "min" (the cached sign vector): nothing to flip
        r *= signs
    return r


def check_hv(value, *, what: str = "hypervolume"):
    """Raise when a hypervolume (a float or an array of them) overflowed to inf or NaN.

    The hypervolume is a product of ``m`` coordinate differences, so points and a
    reference point far apart (e.g. ``1e200`` in 3 objectives) exceed the largest
    float (about ``1.8e308``); returning ``inf`` would rank every such set equal.
    """
    if isinstance(value, float):
        if math.isfinite(value):
            return value
    elif math.isfinite(np.add.reduce(value, axis=None)) or bool(np.isfinite(value).all()):
        return value
    raise ValueError(
        f"the {what} overflowed a float64 (the volume exceeds about 1.8e308): the points and the reference "
        "point are too far apart for their product to be represented. Rescale the objectives first, "
        "e.g. moopt.normalize(F) with a reference point such as [1.1] * m, or divide each objective "
        "(and the reference point) by its range."
    )
