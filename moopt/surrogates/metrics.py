"""How well a surrogate ranks and predicts: Kendall tau, Spearman rho, MAE.

Progressive search selects by rank, so rank correlations on the newly
evaluated candidates (predicted before refitting) are the quality that counts.
Correlations are ``nan`` when undefined (fewer than 2 points or a constant input).
scipy is imported inside the functions.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y_true, dtype=float).reshape(-1)
    b = np.asarray(y_pred, dtype=float).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"y_true has {a.size} values and y_pred has {b.size}; pass one prediction per value.")
    return a, b


def _defined(a: np.ndarray, b: np.ndarray) -> bool:
    return a.size >= 2 and np.ptp(a) > 0 and np.ptp(b) > 0


def kendall_tau(y_true, y_pred) -> float:
    """Kendall's tau-b between true and predicted values (``nan`` when undefined).

    Example:
        >>> round(kendall_tau([1, 2, 3], [10, 30, 20]), 3)
        0.333
    """
    a, b = _pair(y_true, y_pred)
    if not _defined(a, b):
        return math.nan
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)


def spearman(y_true, y_pred) -> float:
    """Spearman's rank correlation (``nan`` when undefined).

    Example:
        >>> spearman([1, 2, 3], [1, 3, 2])
        0.5
    """
    a, b = _pair(y_true, y_pred)
    if not _defined(a, b):
        return math.nan
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def mae(y_true, y_pred) -> float:
    """Mean absolute error (``nan`` for empty input).

    Example:
        >>> mae([1, 2], [2, 4])
        1.5
    """
    a, b = _pair(y_true, y_pred)
    return float(np.mean(np.abs(a - b))) if a.size else math.nan


def rank_quality(y_true, y_pred) -> dict:
    """``{"kendall_tau", "spearman", "mae", "n"}`` with ``None`` where undefined (JSON-safe).

    Example:
        >>> rank_quality([1, 2, 3], [1, 2, 4])["kendall_tau"]
        1.0
    """
    a, b = _pair(y_true, y_pred)
    scores = {"kendall_tau": kendall_tau(a, b), "spearman": spearman(a, b), "mae": mae(a, b)}
    out: dict[str, Optional[float]] = {k: (None if math.isnan(v) else v) for k, v in scores.items()}
    out["n"] = int(a.size)
    return out
