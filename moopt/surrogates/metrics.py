"""How well a surrogate ranks and predicts: Kendall tau, Spearman rho, MAE.

Progressive search selects by rank, so rank correlations on the newly
evaluated candidates (predicted before refitting) are the quality that counts.
Correlations are ``nan`` when undefined (fewer than 2 points or a constant input).
Both are computed in numpy (tau-b over all pairs up to ``_PAIRWISE_MAX`` points,
scipy beyond), equal to scipy's ``kendalltau``/``spearmanr`` to rounding: importing
``scipy.stats`` costs about 0.8 s, a third of a whole progressive run's first step.
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


_PAIRWISE_MAX = 2000  # n x n sign matrices: 4 MB of int8 each at this size


def _rank(a: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties averaged (scipy's ``rankdata(method="average")``)."""
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    return (upper - (counts - 1) / 2.0)[inverse.reshape(-1)]


def kendall_tau(y_true, y_pred) -> float:
    """Kendall's tau-b between true and predicted values (``nan`` when undefined).

    Example:
        >>> round(kendall_tau([1, 2, 3], [10, 30, 20]), 3)
        0.333
    """
    a, b = _pair(y_true, y_pred)
    if not _defined(a, b):
        return math.nan
    if a.size > _PAIRWISE_MAX:
        from scipy.stats import kendalltau

        return float(kendalltau(a, b).statistic)
    sa = np.sign(a[:, None] - a[None, :]).astype(np.int8)
    sb = np.sign(b[:, None] - b[None, :]).astype(np.int8)
    # tau-b = (concordant - discordant) / sqrt(pairs untied in a * pairs untied in b); each pair counted twice
    s = float(np.sum(sa * sb, dtype=np.int64))
    na = float(np.count_nonzero(sa))
    nb = float(np.count_nonzero(sb))
    return float(min(1.0, max(-1.0, s / math.sqrt(na * nb))))


def spearman(y_true, y_pred) -> float:
    """Spearman's rank correlation (``nan`` when undefined).

    Example:
        >>> spearman([1, 2, 3], [1, 3, 2])
        0.5
    """
    a, b = _pair(y_true, y_pred)
    if not _defined(a, b):
        return math.nan
    ra, rb = _rank(a), _rank(b)
    ra -= ra.mean()
    rb -= rb.mean()
    return float(min(1.0, max(-1.0, np.dot(ra, rb) / math.sqrt(np.dot(ra, ra) * np.dot(rb, rb)))))


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
