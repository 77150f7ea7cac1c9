"""Statistics of a benchmark: medians and quartiles over seeds, Wilcoxon rank-sum against the best, Holm."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1).

    Example:
        >>> holm([0.01, 0.04, 0.03]).tolist()
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def compare_to_best(samples: Mapping[str, Sequence[float]], *, higher_is_better: bool,
                    alpha: float = 0.05) -> dict[str, dict]:
    """Wilcoxon rank-sum test of each algorithm against the best (by median), Holm-corrected.

    Args:
        samples: Algorithm -> final values over seeds.
        higher_is_better: True for hypervolume, False for IGD+.
        alpha: Significance level after correction.

    Returns:
        Algorithm -> ``{"mark", "p", "p_holm", "best"}``; marks ``★`` (best),
        ``▲`` (significantly better than the best -- possible when medians and
        rank sums disagree), ``▼`` (significantly worse), ``≈`` (no significant difference).
    """
    from scipy.stats import mannwhitneyu

    med = {a: float(np.median(v)) for a, v in samples.items() if len(v)}
    if not med:
        return {}
    best = (max if higher_is_better else min)(med, key=lambda a: (med[a], -list(med).index(a)))
    others = [a for a in med if a != best]
    raw = []
    for a in others:
        x, y = np.asarray(samples[a], float), np.asarray(samples[best], float)
        if np.array_equal(np.sort(x), np.sort(y)) or (np.ptp(np.concatenate([x, y])) == 0):
            raw.append(1.0)
            continue
        p = float(mannwhitneyu(x, y, alternative="two-sided").pvalue)
        raw.append(1.0 if math.isnan(p) else p)
    adj = holm(raw) if raw else np.zeros(0)
    out: dict[str, dict[str, Any]] = {best: {"mark": "★", "p": None, "p_holm": None, "best": best}}
    for a, p, q in zip(others, raw, adj):
        if q < alpha:
            better = (med[a] > med[best]) if higher_is_better else (med[a] < med[best])
            if med[a] == med[best]:  # equal medians: the rank sums decide the direction
                from scipy.stats import rankdata

                x = np.concatenate([samples[a], samples[best]])
                r = rankdata(x)[: len(samples[a])].mean() - rankdata(x)[len(samples[a]):].mean()
                better = (r > 0) if higher_is_better else (r < 0)
            mark = "▲" if better else "▼"
        else:
            mark = "≈"
        out[a] = {"mark": mark, "p": p, "p_holm": float(q), "best": best}
    return out


def _quartiles(v) -> tuple[float, float, float]:
    """Median, Q1, Q3; ``inf`` where the quantile falls between two ``inf`` (runs with no feasible point)."""
    with np.errstate(invalid="ignore"):  # inf - inf while interpolating between two infinite values
        q = np.percentile(np.asarray(v, dtype=float), [25, 50, 75])
    q[np.isnan(q)] = np.inf
    q1, med, q3 = q
    return float(med), float(q1), float(q3)


def summarize(records: Iterable[Mapping], *, alpha: float = 0.05) -> list[dict]:
    """One row per (problem, algorithm): medians, quartiles, test marks, run counts.

    Args:
        records: Run summaries from :func:`run_grid` (failed runs are counted, not used).
        alpha: Significance level of the Holm-corrected tests.

    Returns:
        Rows with keys ``problem, algorithm, runs, failed_runs, hv_ratio_median,
        hv_ratio_q1, hv_ratio_q3, hv_median, hv_mark, hv_p_holm, igd_plus_median,
        igd_plus_q1, igd_plus_q3, igd_plus_mark, igd_plus_p_holm, seconds_median``.
    """
    records = list(records)
    problems = list(dict.fromkeys(r["problem"] for r in records))
    rows = []
    for p in problems:
        recs = [r for r in records if r["problem"] == p]
        algs = list(dict.fromkeys(r["algorithm"] for r in recs))
        ok = {a: [r for r in recs if r["algorithm"] == a and "error" not in r] for a in algs}
        hv_cmp = compare_to_best({a: [r["hv_ratio"] for r in v] for a, v in ok.items() if v},
                                 higher_is_better=True, alpha=alpha)
        igd_cmp = compare_to_best({a: [r["igd_plus"] for r in v] for a, v in ok.items() if v},
                                  higher_is_better=False, alpha=alpha)
        for a in algs:
            v = ok[a]
            row = {"problem": p, "algorithm": a, "runs": len(v),
                   "failed_runs": sum(1 for r in recs if r["algorithm"] == a and "error" in r)}
            if v:
                row["hv_ratio_median"], row["hv_ratio_q1"], row["hv_ratio_q3"] = _quartiles([r["hv_ratio"] for r in v])
                row["hv_median"] = float(np.median([r["hv"] for r in v]))
                row["hv_mark"], row["hv_p_holm"] = hv_cmp[a]["mark"], hv_cmp[a]["p_holm"]
                (row["igd_plus_median"], row["igd_plus_q1"],
                 row["igd_plus_q3"]) = _quartiles([r["igd_plus"] for r in v])
                row["igd_plus_mark"], row["igd_plus_p_holm"] = igd_cmp[a]["mark"], igd_cmp[a]["p_holm"]
                row["seconds_median"] = float(np.median([r["seconds"] for r in v]))
            rows.append(row)
    return rows
