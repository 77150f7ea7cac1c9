"""Quality indicators: hypervolume (exact, contributions, improvement, Monte-Carlo),
IGD, IGD+, GD and the additive epsilon indicator.

All functions take ``directions=`` (keyword-only, default all ``"min"``) and
work on validated copies; inputs are never mutated.  The reference point
``ref`` is given in the user's directions (for a ``"max"`` objective it is a
*lower* bound).

**Points that do not strictly dominate the reference point** (for a minimized
objective: ``f_j >= ref_j`` for some ``j``) bound no volume, so they are
excluded from every hypervolume computation; this is exact, not an
approximation.  By default a :class:`UserWarning` says how many points were
excluded; ``outside="ignore"`` silences it and ``outside="raise"`` turns it
into a ``ValueError``.  The hypervolume of an empty set is ``0.0``.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from moopt import _kernels
from moopt._validation import Directions, as_points, as_ref, check_hv, to_min

__all__ = [
    "hypervolume",
    "hv_contributions",
    "hv_improvement",
    "hypervolume_mc",
    "HVEstimate",
    "igd",
    "igd_plus",
    "gd",
    "epsilon_additive",
]

_OUTSIDE = ("warn", "ignore", "raise")


def _check_outside(outside: str) -> None:
    if outside not in _OUTSIDE:
        raise ValueError(f"outside must be one of {_OUTSIDE}, got {outside!r}.")


def _report_outside(n_out: int, n: int, outside: str, *, name: str = "F") -> None:
    """Warn or raise about ``n_out`` of ``n`` points outside the reference point."""
    if n_out == 0 or outside == "ignore":
        return
    msg = (
        f"{n_out} of {n} points of {name} do not strictly dominate the reference "
        "point and add no volume; they were excluded. Pass a reference point that is worse "
        "than every point in every objective (e.g. moopt.infer_reference_point(F)) or "
        "outside='ignore' to silence this."
    )
    if outside == "raise":
        raise ValueError(msg)
    warnings.warn(msg, UserWarning, stacklevel=3)


def _inside_rows(Fm: np.ndarray, r: np.ndarray, outside: str):
    """Row indices strictly inside ``r`` (None: all rows), after reporting the others."""
    mask, n_out = _kernels.inside_mask(Fm, r)
    if mask is None:  # inside_mask returns None exactly when n_out == 0
        return None
    _report_outside(n_out, Fm.shape[0], outside)
    return np.flatnonzero(mask)


def _inside(Fm: np.ndarray, r: np.ndarray, outside: str) -> np.ndarray:
    rows = _inside_rows(Fm, r, outside)
    return Fm if rows is None else Fm[rows]


def hypervolume(F, ref, *, directions: Directions = None, outside: str = "warn") -> float:
    """Hypervolume indicator.

    Compute the exact hypervolume (Lebesgue measure) of the region dominated by
    ``F`` and bounded by the reference point ``ref``, for any number of
    objectives and per-objective directions.

    Args:
        F: Objective values, array of shape ``(n_points, n_objectives)``; each
            row is a point.  Dominated and duplicated points are allowed (they
            add nothing).
        ref: Reference point, shape ``(n_objectives,)``, in the same directions
            as ``F`` (for a ``"max"`` objective it is a lower bound).
        directions: ``"min"``/``"max"`` per objective (default all ``"min"``).
        outside: What to do with points that do not strictly dominate ``ref``:
            ``"warn"`` (default: exclude them and warn how many), ``"ignore"``
            (exclude silently) or ``"raise"`` (``ValueError``).

    Returns:
        A single float, the hypervolume; ``0.0`` for an empty set.

    Raises:
        ValueError: non-finite values, wrong shapes (a 1-D ``F``: pass
            ``np.asarray(F)[:, None]`` for points of one objective or ``[F]``
            for one point), a ``ref`` or ``directions`` of the wrong length, an
            unknown direction, or a hypervolume that overflows a float64
            (rescale the objectives).
        TypeError: values that are not real numbers (bool, complex, strings).

    Notes:
        Kernels (chosen by ``benchmarks/bench_kernels.py``): an O(n log n)
        sweep for 2 objectives; for 3 or more, the points dominated by a few
        "pivots" (points of smallest coordinate sum) are pruned first, then
        moocore (HV3D+, HV4D+, recursive dimension sweep) computes the rest,
        or the WFG algorithm (``hvwfg``, if installed) for 6 or more
        objectives and at least 200 remaining points.

    Examples:
        >>> F = [[5, 5], [4, 6], [2, 7], [7, 4]]
        >>> hypervolume(F, ref=[10, 10])
        38.0

        The same set with the first objective maximized (values negated):

        >>> hypervolume([[-5, 5], [-4, 6], [-2, 7], [-7, 4]], ref=[-10, 10],
        ...             directions=["max", "min"])
        38.0
    """
    _check_outside(outside)
    Fm, signs = to_min(F, directions, copy=False)
    r = as_ref(ref, signs)
    if Fm.shape[0] == 0:
        return 0.0
    hv, n_out = _kernels.hv_with_outside(Fm, r)
    _report_outside(n_out, Fm.shape[0], outside)
    return check_hv(hv)


def hv_contributions(F, ref, *, directions: Directions = None, outside: str = "warn") -> np.ndarray:
    """Exclusive hypervolume contribution of each point.

    The contribution of ``p`` is ``HV(F) - HV(F without p)``.  Dominated points
    and duplicated points have zero contribution, and dominated points do not
    reduce the contribution of others (moocore's ``ignore_dominated=True``).
    Points outside ``ref`` contribute 0 (see ``outside``).

    Args:
        F: Objective values ``(n, m)``.
        ref: Reference point ``(m,)`` in the directions of ``F``.
        directions: ``"min"``/``"max"`` per objective.
        outside: ``"warn"`` / ``"ignore"`` / ``"raise"`` (see :func:`hypervolume`).

    Returns:
        ``(n,)`` float array aligned with the rows of ``F``.

    Example:
        >>> hv_contributions([[5, 5], [4, 6], [2, 7], [7, 4]], ref=[10, 10]).tolist()
        [2.0, 1.0, 6.0, 3.0]
    """
    _check_outside(outside)
    Fm, signs = to_min(F, directions, copy=False)
    r = as_ref(ref, signs)
    if Fm.shape[0] == 0:
        return np.zeros(0)
    out, n_out = _kernels.hvc_with_outside(Fm, r)
    _report_outside(n_out, Fm.shape[0], outside)
    return check_hv(out, what="hypervolume contributions")


def hv_improvement(X, F, ref, *, directions: Directions = None) -> np.ndarray:
    """Hypervolume improvement of each candidate point over the set ``F``.

    ``hvi(x) = HV(F + {x}) - HV(F)`` for each row ``x`` of ``X`` separately
    (candidates are not added to each other).  It is computed as the volume of
    the box ``[x, ref]`` minus the hypervolume of ``F`` clipped to that box.
    Candidates that are dominated by ``F`` or do not strictly dominate ``ref``
    get 0.  Points of ``F`` outside ``ref`` are ignored silently.

    Args:
        X: Candidate points ``(k, m)`` (or one point ``(m,)``).
        F: Current set ``(n, m)``; may be empty.
        ref: Reference point ``(m,)`` in the directions of ``F``.
        directions: ``"min"``/``"max"`` per objective.

    Returns:
        ``(k,)`` float array of improvements (>= 0).

    Example:
        >>> hv_improvement([[1, 1], [3, 3]], [[2, 2]], ref=[4, 4]).tolist()
        [5.0, 0.0]
    """
    Xm, signs = to_min(X, directions, name="X", copy=False, allow_1d=True)
    if Xm.shape[0] == 0 and Xm.shape[1] == 0:
        return np.zeros(0)
    r = as_ref(ref, signs)
    Fm = as_points(F, name="F", allow_1d=False)
    if Fm.shape[0] and Fm.shape[1] != Xm.shape[1]:
        raise ValueError(f"X has {Xm.shape[1]} objectives but F has {Fm.shape[1]}.")
    Fm = Fm * signs if Fm.shape[0] else Fm.reshape(0, Xm.shape[1])
    Fm = Fm[(Fm < r).all(axis=1)]
    if Fm.shape[0]:
        Fm = Fm[_kernels.nd_mask(Fm, False)]
    out = np.zeros(Xm.shape[0])
    for i, x in enumerate(Xm):
        if not (x < r).all():
            continue
        box = check_hv(float(np.prod(r - x)), what="hypervolume improvement")
        if Fm.shape[0] == 0:
            out[i] = box
            continue
        if (Fm <= x).all(axis=1).any():
            continue  # dominated or equal: no improvement
        C = np.maximum(Fm, x)
        out[i] = max(0.0, box - _kernels.hv_exact(C, r))
    return out


class HVEstimate(NamedTuple):
    """Monte-Carlo hypervolume estimate: ``(value, std_error, n_samples)``.

    ``value`` is unbiased; ``std_error`` is the standard error of the binomial
    estimate, ``box * sqrt(p * (1 - p) / n_samples)``.  Unpacks as a tuple.
    """

    value: float
    std_error: float
    n_samples: int


def hypervolume_mc(
    F,
    ref,
    *,
    directions: Directions = None,
    n_samples: int = 100_000,
    seed=None,
    outside: str = "warn",
) -> HVEstimate:
    """Monte-Carlo estimate of the hypervolume, for many objectives.

    Samples ``n_samples`` points uniformly in the box between the ideal point
    of ``F`` and ``ref``, and multiplies the box volume by the fraction that
    ``F`` dominates.  The cost is ``O(n_samples * n_front * m)``, independent of
    the exponential growth of exact algorithms with ``m``.

    Args:
        F: Objective values ``(n, m)``.
        ref: Reference point ``(m,)`` in the directions of ``F``.
        directions: ``"min"``/``"max"`` per objective.
        n_samples: Number of uniform samples (the error shrinks as
            ``1/sqrt(n_samples)``).
        seed: ``int`` or ``numpy.random.Generator``; same seed, same estimate.
        outside: ``"warn"`` / ``"ignore"`` / ``"raise"`` (see :func:`hypervolume`).

    Returns:
        :class:`HVEstimate` ``(value, std_error, n_samples)``; ``(0.0, 0.0, n)``
        for an empty set.

    Example:
        >>> est = hypervolume_mc([[1, 1]], ref=[2, 2], seed=0)
        >>> est.value, est.std_error
        (1.0, 0.0)
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    n_samples = int(n_samples)
    _check_outside(outside)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    Fm, signs = to_min(F, directions, copy=False)
    r = as_ref(ref, signs)
    if Fm.shape[0] == 0:
        return HVEstimate(0.0, 0.0, n_samples)
    P = _inside(Fm, r, outside)
    if P.shape[0] == 0:
        return HVEstimate(0.0, 0.0, n_samples)
    P = P[_kernels.nd_mask(P, False)]
    lo = P.min(axis=0)
    box = check_hv(float(np.prod(r - lo)), what="hypervolume (its bounding box)")
    m = P.shape[1]
    hits = 0
    chunk = max(1, min(n_samples, 2_000_000 // max(1, P.shape[0] * m)))
    done = 0
    while done < n_samples:
        s = min(chunk, n_samples - done)
        U = lo + rng.random((s, m)) * (r - lo)
        dom = np.zeros(s, dtype=bool)
        for p in P:  # loop over points, vectorized over samples
            dom |= (U >= p).all(axis=1)
        hits += int(dom.sum())
        done += s
    p_hat = hits / n_samples
    return HVEstimate(box * p_hat, box * math.sqrt(p_hat * (1.0 - p_hat) / n_samples), n_samples)


def _sets(F, R, directions):
    Fm, signs = to_min(F, directions, allow_empty=False, copy=False)
    Rm = as_points(R, name="reference_set", allow_empty=False, n_obj=Fm.shape[1], allow_1d=False)
    if Rm.shape[1] != Fm.shape[1]:
        raise ValueError(f"reference_set has {Rm.shape[1]} objectives but F has {Fm.shape[1]}.")
    return Fm, Rm * signs


def _min_dists(A: np.ndarray, B: np.ndarray, plus: bool = False) -> np.ndarray:
    """For each row of ``A``, the distance to the nearest row of ``B`` (chunked).

    With ``plus`` the IGD+ distance ``|max(b - a, 0)|`` from a reference point
    ``a`` to a solution ``b`` is used.
    """
    out = np.empty(A.shape[0])
    step = max(1, 4_000_000 // max(1, B.shape[0] * B.shape[1]))
    for s in range(0, A.shape[0], step):
        D = B[None, :, :] - A[s : s + step, None, :]
        if plus:
            np.maximum(D, 0.0, out=D)
        out[s : s + step] = np.sqrt((D * D).sum(axis=2).min(axis=1))
    return out


def igd(F, reference_set, *, directions: Directions = None) -> float:
    """Inverted generational distance: mean distance from each reference point to ``F``.

    ``IGD(F, R) = (1/|R|) * sum_{r in R} min_{f in F} ||f - r||`` (Euclidean).
    Lower is better.  Objectives are compared as given (normalize first with
    :func:`moopt.normalize` if their scales differ).

    Args:
        F: Approximation set ``(n, m)`` (non-empty).
        reference_set: Reference front ``(k, m)`` (non-empty), same directions.
        directions: ``"min"``/``"max"`` per objective.

    Returns:
        Float.

    Example:
        >>> igd([[0, 1], [1, 0]], [[0, 0]])
        1.0
    """
    Fm, Rm = _sets(F, reference_set, directions)
    return float(_min_dists(Rm, Fm).mean())


def igd_plus(F, reference_set, *, directions: Directions = None) -> float:
    """IGD+ (Ishibuchi et al. 2015): IGD with the dominance-compliant distance.

    ``d+(r, f) = ||max(f - r, 0)||`` in minimization space, so only the
    objectives where ``f`` is worse than ``r`` count.  Weakly Pareto-compliant.

    Args:
        F: Approximation set ``(n, m)`` (non-empty).
        reference_set: Reference front ``(k, m)`` (non-empty), same directions.
        directions: ``"min"``/``"max"`` per objective.

    Returns:
        Float, lower is better.

    Example:
        >>> igd_plus([[1, 0]], [[0, 0], [2, 0]])
        0.5
    """
    Fm, Rm = _sets(F, reference_set, directions)
    return float(_min_dists(Rm, Fm, plus=True).mean())


def gd(F, reference_set, *, directions: Directions = None) -> float:
    """Generational distance: mean distance from each point of ``F`` to the reference set.

    ``GD(F, R) = (1/|F|) * sum_{f in F} min_{r in R} ||f - r||`` (Euclidean,
    the ``p = 1`` form used by pymoo).

    Args:
        F: Approximation set ``(n, m)`` (non-empty).
        reference_set: Reference front ``(k, m)`` (non-empty), same directions.
        directions: ``"min"``/``"max"`` per objective.

    Returns:
        Float, lower is better.

    Example:
        >>> gd([[0, 1], [3, 4]], [[0, 0]])
        3.0
    """
    Fm, Rm = _sets(F, reference_set, directions)
    return float(_min_dists(Fm, Rm).mean())


def epsilon_additive(F, reference_set, *, directions: Directions = None) -> float:
    """Additive epsilon indicator (Zitzler et al. 2003).

    The smallest ``eps`` such that every reference point is weakly dominated
    by some point of ``F`` shifted by ``eps`` towards better values:
    ``max_{r in R} min_{f in F} max_j (f_j - r_j)`` in minimization space.
    Lower is better; ``<= 0`` means ``F`` weakly dominates the reference set.

    Args:
        F: Approximation set ``(n, m)`` (non-empty).
        reference_set: Reference front ``(k, m)`` (non-empty), same directions.
        directions: ``"min"``/``"max"`` per objective.

    Returns:
        Float.

    Example:
        >>> epsilon_additive([[1, 2]], [[0, 3]])
        1.0
    """
    Fm, Rm = _sets(F, reference_set, directions)
    best = np.empty(Rm.shape[0])
    step = max(1, 4_000_000 // max(1, Fm.shape[0] * Fm.shape[1]))
    for s in range(0, Rm.shape[0], step):
        D = Fm[None, :, :] - Rm[s : s + step, None, :]
        best[s : s + step] = D.max(axis=2).min(axis=1)
    return float(best.max())
