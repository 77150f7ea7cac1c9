"""Pareto kernels used by the progressive search, on minimization arrays.

Thin private wrappers: they call moopt's own kernels (``moopt.pareto``,
``moopt.indicators``) and fall back to moocore when those are not installed.
"""

from __future__ import annotations

import numpy as np


def nondominated_ranks(F: np.ndarray) -> np.ndarray:
    """Front index of every row of the minimization array ``F`` (0 = non-dominated)."""
    F = np.asarray(F, dtype=float)
    if F.shape[0] == 0:
        return np.zeros(0, dtype=int)
    try:
        from ..pareto import nondominated_sort
    except ImportError:  # pragma: no cover - before moopt.pareto exists
        import moocore

        return np.asarray(moocore.pareto_rank(F), dtype=int)
    return np.asarray(nondominated_sort(F), dtype=int)


def crowding(F: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of every row of ``F`` (boundary points ``inf``)."""
    F = np.asarray(F, dtype=float)
    try:
        from ..pareto import crowding_distance
    except ImportError:  # pragma: no cover - before moopt.pareto exists
        return _crowding_numpy(F)
    return np.asarray(crowding_distance(F), dtype=float)


def _crowding_numpy(F: np.ndarray) -> np.ndarray:
    n, m = F.shape
    d = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(F[:, j], kind="stable")
        col = F[order, j]
        span = col[-1] - col[0]
        d[order[0]] = d[order[-1]] = np.inf
        if span > 0:
            d[order[1:-1]] += (col[2:] - col[:-2]) / span
    return d


def contributions(F: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Exclusive hypervolume contribution of every row of ``F`` w.r.t. ``ref``."""
    F = np.asarray(F, dtype=float)
    try:
        from ..indicators import hv_contributions
    except ImportError:  # pragma: no cover - before moopt.indicators exists
        import moocore

        return np.asarray(moocore.hv_contributions(F, ref=ref), dtype=float)
    return np.asarray(hv_contributions(F, ref), dtype=float)


def hv(F: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of the minimization array ``F`` w.r.t. ``ref`` (points beyond ``ref`` ignored)."""
    F = np.asarray(F, dtype=float)
    ref = np.asarray(ref, dtype=float)
    F = F[np.all(F < ref, axis=1)] if F.size else F
    if F.shape[0] == 0:
        return 0.0
    try:
        from ..indicators import hypervolume
    except ImportError:  # pragma: no cover - before moopt.indicators exists
        import moocore

        return float(moocore.hypervolume(F, ref=ref))
    return float(hypervolume(F, ref))
