"""Pareto kernels used by the progressive search, on minimization arrays.

Thin private adapters over moopt's own kernels (:mod:`moopt.pareto`,
:mod:`moopt.indicators`), imported on use.
"""

from __future__ import annotations

import numpy as np


def nondominated_ranks(F: np.ndarray) -> np.ndarray:
    """Front index of every row of the minimization array ``F`` (0 = non-dominated)."""
    from ...pareto import nondominated_sort

    F = np.asarray(F, dtype=float)
    if F.shape[0] == 0:
        return np.zeros(0, dtype=int)
    return np.asarray(nondominated_sort(F), dtype=int)


def crowding(F: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of every row of ``F`` (boundary points ``inf``)."""
    from ...pareto import crowding_distance

    return np.asarray(crowding_distance(np.asarray(F, dtype=float)), dtype=float)


def contributions(F: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Exclusive hypervolume contribution of every row of ``F`` w.r.t. ``ref``."""
    from ...indicators import hv_contributions

    return np.asarray(hv_contributions(np.asarray(F, dtype=float), ref), dtype=float)


def hv(F: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of the minimization array ``F`` w.r.t. ``ref`` (points beyond ``ref`` add nothing)."""
    from ...indicators import hypervolume

    F = np.asarray(F, dtype=float)
    if F.shape[0] == 0:
        return 0.0
    return float(hypervolume(F, np.asarray(ref, dtype=float), outside="ignore"))
