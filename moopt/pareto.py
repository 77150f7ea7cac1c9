"""Pareto dominance, non-dominated sorting, front filtering and crowding distance.

Every function takes the objective values ``F`` as an ``(n_points,
n_objectives)`` array and a keyword-only ``directions`` (``None`` = all
``"min"``, one string for all objectives, or one ``"min"``/``"max"`` per
objective).  Inputs are validated (finite, 2-D, matching direction count) and
never mutated.  Constraints follow the ``g(x) <= 0`` convention: a point is
feasible when all its constraint values are ``<= 0`` and its *total
violation* is ``sum(max(g, 0))``.
"""

from __future__ import annotations

import numpy as np

from moopt import _kernels
from moopt._validation import Directions, as_points, directions_signs, to_min

__all__ = [
    "dominates",
    "constrained_dominates",
    "nondominated_sort",
    "is_nondominated",
    "pareto_front",
    "crowding_distance",
    "total_violation",
]


def _pair(a, b, directions: Directions):
    A = as_points(a, name="a")
    B = as_points(b, name="b")
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"a has {A.shape[1]} objectives but b has {B.shape[1]}; compare points of the same length."
        )
    signs = directions_signs(directions, A.shape[1])
    return A * signs, B * signs


def dominates(a, b, *, directions: Directions = None):
    """Whether ``a`` Pareto-dominates ``b``.

    ``a`` dominates ``b`` when it is no worse in every objective and strictly
    better in at least one.  Equal points do not dominate each other.

    Args:
        a: One point ``(m,)`` or points ``(n, m)``.
        b: One point ``(m,)`` or points ``(n, m)``; broadcast against ``a``.
        directions: ``"min"``/``"max"`` per objective (default all ``"min"``).

    Returns:
        A ``bool`` when both are single points, else a boolean array ``(n,)``.

    Example:
        >>> dominates([1, 2], [2, 2])
        True
        >>> dominates([1, 2], [2, 2], directions=["max", "min"])
        False
    """
    A, B = _pair(a, b, directions)
    out = (A <= B).all(axis=1) & (A < B).any(axis=1)
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return bool(out[0])
    return out


def total_violation(G, *, n: int | None = None, name: str = "constraints") -> np.ndarray:
    """Total constraint violation ``sum(max(g, 0))`` per point.

    Args:
        G: Constraint values, ``(n,)`` (one constraint) or ``(n, k)``;
            ``g <= 0`` is feasible.
        n: Expected number of points (for the error message), optional.
        name: Argument name used in error messages.

    Returns:
        ``(n,)`` float array, 0 for feasible points.

    Example:
        >>> total_violation([[-1.0, 0.5], [0.0, -2.0]]).tolist()
        [0.5, 0.0]
    """
    try:
        g = np.array(G, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n_points, n_constraints): {exc}") from None
    if g.ndim == 1:
        g = g.reshape(-1, 1)
    if g.ndim != 2:
        raise ValueError(f"{name} must have shape (n_points,) or (n_points, n_constraints), got {g.shape}.")
    if n is not None and g.shape[0] != n:
        raise ValueError(
            f"{name} has {g.shape[0]} rows but F has {n} points; pass one row of constraint values per point."
        )
    if np.isnan(g).any():
        raise ValueError(f"{name} contains NaN; constraint values must be numbers (g <= 0 is feasible).")
    return np.maximum(g, 0.0).sum(axis=1)


def constrained_dominates(a, b, g_a=None, g_b=None, *, directions: Directions = None) -> bool:
    """Constraint-domination (Deb et al., NSGA-II) of point ``a`` over ``b``.

    A feasible point dominates an infeasible one; of two infeasible points the
    one with the smaller total violation dominates; two feasible points
    compare by Pareto dominance.  ``None`` constraints mean feasible.

    Args:
        a: Point ``(m,)``.
        b: Point ``(m,)``.
        g_a: Constraint values of ``a``, ``(k,)`` or a scalar (``g <= 0`` is feasible).
        g_b: Constraint values of ``b``.
        directions: ``"min"``/``"max"`` per objective.

    Returns:
        ``True`` when ``a`` constraint-dominates ``b``.

    Example:
        >>> constrained_dominates([5, 5], [1, 1], g_a=[-1.0], g_b=[0.2])
        True
    """
    if np.ndim(a) != 1 or np.ndim(b) != 1:
        raise ValueError("constrained_dominates compares two single points a, b of shape (m,).")
    va = 0.0 if g_a is None else float(total_violation(np.reshape(g_a, (1, -1)), name="g_a")[0])
    vb = 0.0 if g_b is None else float(total_violation(np.reshape(g_b, (1, -1)), name="g_b")[0])
    if va == 0.0 and vb == 0.0:
        return bool(dominates(a, b, directions=directions))
    _pair(a, b, directions)  # validate the points even when constraints decide
    if va == 0.0:
        return True
    if vb == 0.0:
        return False
    return va < vb


def _check_stop(stop_after, n):
    if stop_after is None:
        return None
    if isinstance(stop_after, bool) or not isinstance(stop_after, (int, np.integer)) or stop_after < 1:
        raise ValueError(f"stop_after must be a positive integer or None, got {stop_after!r}.")
    return int(stop_after)


def nondominated_sort(
    F,
    *,
    directions: Directions = None,
    constraints=None,
    stop_after: int | None = None,
) -> np.ndarray:
    """Non-dominated sorting: the Pareto rank of every point.

    Rank 0 is the first front (points no other point dominates), rank 1 the
    front of what is left, and so on.  Equal points share a rank.  With
    ``constraints``, constraint-domination is used: feasible points are ranked
    first by Pareto dominance, then infeasible points by increasing total
    violation (points with equal violation share a rank).

    Args:
        F: Objective values ``(n, m)``.
        directions: ``"min"``/``"max"`` per objective (default all ``"min"``).
        constraints: Optional constraint values ``(n,)`` or ``(n, k)``,
            ``g <= 0`` feasible.
        stop_after: Stop once at least this many points are ranked (e.g. the
            population size in NSGA-II survival).  Points left unranked get
            rank ``n`` (``len(F)``), larger than any real rank, so
            ``np.argsort(ranks)`` puts them last.

    Returns:
        ``(n,)`` int64 ranks, 0 = first front.

    Example:
        >>> nondominated_sort([[1, 2], [2, 1], [2, 2], [3, 3]]).tolist()
        [0, 0, 1, 2]
    """
    Fm, _ = to_min(F, directions, copy=False)
    n = Fm.shape[0]
    k = _check_stop(stop_after, n)
    if constraints is None:
        return _kernels.nd_ranks(Fm, k)
    v = total_violation(constraints, n=n)
    feas = v <= 0
    ranks = np.empty(n, dtype=np.int64)
    n_feas = int(feas.sum())
    top = 0
    if n_feas:
        rf = _kernels.nd_ranks(Fm[feas], k)
        rf[rf == n_feas] = n  # unranked sentinel is len(F), not len(F[feasible])
        ranks[feas] = rf
        top = int(rf[rf < n].max()) + 1
        if k is not None and k <= int((rf < n).sum()):
            ranks[~feas] = n
            return ranks
    if n_feas < n:
        _, inv = np.unique(v[~feas], return_inverse=True)
        ri = top + inv.reshape(-1).astype(np.int64)
        if k is not None:
            need = k - int((ranks[feas] < n).sum()) if n_feas else k
            counts = np.bincount(inv.reshape(-1))
            last = int(np.searchsorted(np.cumsum(counts), need))
            ri = np.where(ri > top + last, n, ri)
        ranks[~feas] = ri
    return ranks


def is_nondominated(
    F,
    *,
    directions: Directions = None,
    keep_duplicates: bool = True,
    constraints=None,
) -> np.ndarray:
    """Boolean mask of the non-dominated points (the first front).

    Args:
        F: Objective values ``(n, m)``.
        directions: ``"min"``/``"max"`` per objective (default all ``"min"``).
        keep_duplicates: Equal points do not dominate each other, so by default
            (``True``) every copy of a non-dominated point is marked, which
            matches ``nondominated_sort(F) == 0``.  With ``False`` only the
            first copy (lowest row index) is marked.
        constraints: Optional constraint values ``(n,)`` or ``(n, k)``,
            ``g <= 0`` feasible; then the mask marks the non-dominated feasible
            points, or, if none is feasible, every point with the least total
            violation (the rank-0 points of :func:`nondominated_sort`).

    Returns:
        ``(n,)`` boolean mask.

    Example:
        >>> is_nondominated([[1, 2], [2, 1], [2, 2], [1, 2]]).tolist()
        [True, True, False, True]
        >>> is_nondominated([[1, 2], [2, 1], [2, 2], [1, 2]], keep_duplicates=False).tolist()
        [True, True, False, False]
    """
    Fm, _ = to_min(F, directions, copy=False)
    if constraints is None:
        return _kernels.nd_mask(Fm, bool(keep_duplicates))
    n = Fm.shape[0]
    v = total_violation(constraints, n=n)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    feas = np.flatnonzero(v <= 0)
    if len(feas):
        mask[feas[_kernels.nd_mask(Fm[feas], bool(keep_duplicates))]] = True
        return mask
    best = np.flatnonzero(v == v.min())  # equal violation: nobody dominates
    if not keep_duplicates:
        _, first = np.unique(Fm[best], axis=0, return_index=True)
        best = best[first]
    mask[best] = True
    return mask


def pareto_front(
    F,
    *,
    directions: Directions = None,
    keep_duplicates: bool = False,
    return_index: bool = False,
):
    """The non-dominated points of ``F`` (a new array, rows in input order).

    Args:
        F: Objective values ``(n, m)``.
        directions: ``"min"``/``"max"`` per objective (default all ``"min"``).
        keep_duplicates: Default ``False``: a front is a set, so each point
            appears once (its first copy).  ``True`` keeps every copy.
        return_index: Also return the row indices of the front in ``F``.

    Returns:
        ``(k, m)`` array of front points, or ``(front, index)``.

    Example:
        >>> pareto_front([[1, 2], [2, 1], [2, 2], [1, 2]]).tolist()
        [[1.0, 2.0], [2.0, 1.0]]
    """
    arr = as_points(F, allow_1d=False)
    mask = is_nondominated(arr, directions=directions, keep_duplicates=keep_duplicates)
    idx = np.flatnonzero(mask)
    front = arr[idx]
    return (front, idx) if return_index else front


def crowding_distance(F, *, directions: Directions = None) -> np.ndarray:
    """NSGA-II crowding distance of each point within the set ``F``.

    For each objective the points are sorted; the extreme points get
    ``inf`` and the others the gap between their neighbours divided by the
    objective's range; the distance is the sum over objectives.  An objective
    with zero range adds nothing.  Sets of 1 or 2 points are all ``inf``.
    Directions do not change the result (the measure is symmetric); the
    argument is validated for consistency with the other kernels.

    Args:
        F: Objective values ``(n, m)``, usually one front.
        directions: ``"min"``/``"max"`` per objective.

    Returns:
        ``(n,)`` float array (larger = less crowded).

    Example:
        >>> crowding_distance([[0, 3], [1, 1], [3, 0]]).tolist()
        [inf, 2.0, inf]
    """
    Fm, _ = to_min(F, directions, copy=False)
    return _kernels.crowding(Fm)
