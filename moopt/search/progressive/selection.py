"""Selection of the K candidates a progressive search evaluates next.

Two criteria, matching the two DPP-Net rows of the paper:

* :func:`select_pareto` (DPP-Net): non-dominated sorting over predicted
  expensive objectives and exact cheap ones; the last front that does not fit
  is cut by crowding distance (NSGA-II) or by hypervolume contribution
  (SMS-EMOA style greedy removal of the least contributor).
* :func:`select_top_k` (PNAS): the K best predicted values of one objective.

Both are pure functions of numpy arrays with per-objective directions and
deterministic tie-breaking (lower index first).
"""

from __future__ import annotations

import numpy as np

from ... import _kernels
from ..._validation import Directions, to_min

TIE_BREAKS = ("crowding", "hv")


def select_pareto(F, k: int, *, directions: Directions = None, tie_break: str = "crowding") -> np.ndarray:
    """Indices of ``k`` rows of ``F`` chosen by non-dominated rank, then ``tie_break``.

    Whole fronts are taken in rank order while they fit; the first front that
    does not fit is cut to the remaining count by ``tie_break``:
    ``"crowding"`` keeps the largest crowding distances (computed within that
    front), ``"hv"`` removes the point with the smallest exclusive hypervolume
    contribution one at a time (objectives normalized to ``[0, 1]`` over all
    rows of ``F``, reference point ``1.1`` in each).

    Args:
        F: Objective values, shape ``(n, m)``, in the objectives' own directions.
        k: How many to select (all ``n`` when ``k >= n``).
        directions: ``"min"``/``"max"`` per objective (default all ``"min"``).
        tie_break: ``"crowding"`` or ``"hv"``.

    Returns:
        Integer indices into ``F``, shape ``(min(k, n),)``, best fronts first.

    Example:
        >>> F = [[1, 5], [2, 2], [5, 1], [3, 3]]
        >>> select_pareto(F, 3).tolist()
        [0, 1, 2]
        >>> select_pareto([[0.9, 10], [0.8, 5]], 1, directions=["max", "min"]).tolist()
        [0]
    """
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break is {tie_break!r}; use one of {list(TIE_BREAKS)}.")
    k = _check_k(k)
    Fm, _ = to_min(F, directions)  # the one validation: the kernels below take Fm as it is
    n = Fm.shape[0]
    if n == 0 or k == 0:
        return np.zeros(0, dtype=int)
    ranks = _kernels.nd_ranks(Fm)
    chosen: list[int] = []
    for r in np.unique(ranks):
        front = np.flatnonzero(ranks == r)
        room = k - len(chosen)
        if len(front) <= room:
            chosen.extend(front.tolist())
            if len(front) == room:
                break
            continue
        if tie_break == "crowding":
            cd = _kernels.crowding(Fm[front])
            order = np.lexsort((front, -cd))  # largest distance first, then lower index
            chosen.extend(front[np.sort(order[:room])].tolist())
        else:
            chosen.extend(_hv_cut(Fm, front, room).tolist())
        break
    return np.asarray(chosen, dtype=int)


def _hv_cut(Fm: np.ndarray, front: np.ndarray, room: int) -> np.ndarray:
    lo, hi = Fm.min(axis=0), Fm.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    Z = (Fm[front] - lo) / span
    ref = np.full(Fm.shape[1], 1.1)
    keep = list(range(len(front)))
    while len(keep) > room:
        c, _ = _kernels.hvc_with_outside(Z[keep], ref)  # Z in [0, 1] < ref: all inside
        worst = min(range(len(keep)), key=lambda i: (c[i], -keep[i]))  # smallest, later index first
        keep.pop(worst)
    return front[np.asarray(keep, dtype=int)]


def select_top_k(values, k: int, *, direction: str = "max") -> np.ndarray:
    """Indices of the ``k`` best entries of ``values`` (PNAS criterion), best first.

    Args:
        values: Predicted values, shape ``(n,)``.
        k: How many to select.
        direction: ``"max"`` (accuracy) or ``"min"`` (error).

    Returns:
        Integer indices, shape ``(min(k, n),)``; ties keep the lower index first.

    Example:
        >>> select_top_k([0.2, 0.9, 0.5], 2).tolist()
        [1, 2]
    """
    k = _check_k(k)
    v = np.asarray(values, dtype=float).reshape(-1)
    if direction not in ("min", "max"):
        raise ValueError(f"direction is {direction!r}; use 'min' or 'max'.")
    if np.any(np.isnan(v)):
        raise ValueError("values contain NaN; predictions must be finite to rank them.")
    key = v if direction == "min" else -v
    return np.argsort(key, kind="stable")[:k].astype(int)


def _check_k(k) -> int:
    if isinstance(k, bool) or int(k) != k or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}.")
    return int(k)
