"""Private numeric kernels on validated *minimization* arrays.

Everything here assumes a finite float64 ``(n, m)`` array in which every
column is minimized (see :mod:`moopt._validation`) and never mutates it.  The
public, direction-aware functions live in :mod:`moopt.pareto` and
:mod:`moopt.indicators`; they choose the fastest kernel per case.  Which kernel
wins where is measured by ``benchmarks/bench_kernels.py`` (see
``docs/bench/kernels.md``):

* 2 objectives: O(n log n) numpy sort-sweeps for filtering, hypervolume and
  contributions (no per-call C-wrapper overhead, faster than moocore).
* filtering with m >= 3: a "prune by best point" numpy loop that removes the
  points dominated by the remaining point of smallest coordinate sum; it falls
  back to moocore when a pivot stops removing many points (large fronts).
* ranking and hypervolume with m >= 3: moocore; hypervolume with m >= 6 on
  large sets: the WFG algorithm of ``hvwfg`` when it is installed.
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------
# optional kernels, imported on first use
# --------------------------------------------------------------------------

_HVWFG = None  # None: not tried yet, False: unavailable, else the module


def _hvwfg():
    global _HVWFG
    if _HVWFG is None:
        try:
            import hvwfg  # type: ignore

            _HVWFG = hvwfg
        except Exception:  # pragma: no cover - depends on the environment
            _HVWFG = False
    return _HVWFG


def _moocore():
    import moocore

    return moocore


# --------------------------------------------------------------------------
# non-dominated filtering
# --------------------------------------------------------------------------


def nd_mask_1d(x: np.ndarray, keep_duplicates: bool) -> np.ndarray:
    """Mask of the minima of a 1-D array (all ties or only the first)."""
    mask = x == x.min()
    if not keep_duplicates:
        first = int(np.argmax(mask))
        mask[:] = False
        mask[first] = True
    return mask


def nd_mask_2d(F: np.ndarray, keep_duplicates: bool) -> np.ndarray:
    """Non-dominated mask for 2 objectives by an O(n log n) sort-sweep.

    With a stable sort on the first objective, a point is dominated iff a point
    with a smaller first objective has a second objective ``<=`` its own, or a
    point with the same first objective has a strictly smaller second one.
    """
    n = F.shape[0]
    a = F[:, 0]
    order = np.argsort(a, kind="stable")
    a_s = a[order]
    b_s = F[order, 1]
    mask = np.zeros(n, dtype=bool)
    if n == 1:
        mask[0] = True
        return mask
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(a_s[1:], a_s[:-1], out=new[1:])
    if new.all():  # no ties on the first objective (the common, continuous case)
        prev_min = np.empty(n)
        prev_min[0] = np.inf
        np.minimum.accumulate(b_s[:-1], out=prev_min[1:])
        mask[order] = b_s < prev_min
        return mask
    starts = np.flatnonzero(new)
    gid = np.cumsum(new) - 1
    gmin = np.minimum.reduceat(b_s, starts)
    before = np.empty(len(starts))
    before[0] = np.inf
    np.minimum.accumulate(gmin[:-1], out=before[1:])
    nd = (b_s < before[gid]) & (b_s == gmin[gid])
    if not keep_duplicates:
        # the non-dominated points of a group are all equal: keep the first
        idx = np.flatnonzero(nd)
        g = gid[idx]
        keep = np.ones(len(idx), dtype=bool)
        keep[1:] = g[1:] != g[:-1]
        nd[:] = False
        nd[idx[keep]] = True
    mask[order] = nd
    return mask


def _pairwise_nd(P: np.ndarray) -> np.ndarray:
    """O(k^2) non-dominated mask (duplicates kept) for small ``k``."""
    le = (P[:, None, :] <= P[None, :, :]).all(axis=2)  # le[i, j]: P_i <= P_j
    lt = (P[:, None, :] < P[None, :, :]).any(axis=2)
    dom = le & lt  # dom[i, j]: P_i dominates P_j
    return ~dom.any(axis=0)


def nd_mask_nd(F: np.ndarray, keep_duplicates: bool) -> np.ndarray:
    """Non-dominated mask for any number of objectives.

    Prunes with the point of smallest coordinate sum (never dominated except
    by rounding ties, which a final exact check resolves) while that removes
    many points; then hands what is left to moocore (or the 2-D sweep).
    """
    n, m = F.shape
    if m == 1:
        return nd_mask_1d(F[:, 0], keep_duplicates)
    X = F
    S = F.sum(axis=1)
    idx = np.arange(n)
    piv: list[int] = []  # original indices of pivots (front candidates)
    dups: list[np.ndarray] = []  # their duplicates (original indices)
    while len(idx):
        k = int(np.argmin(S))
        p = X[k]
        keep = (X < p).any(axis=1)
        pivot = int(idx[k])
        piv.append(pivot)
        if keep_duplicates:
            removed = np.flatnonzero(~keep)
            dup_idx = idx[removed[(X[removed] == p).all(axis=1)]]
            dups.append(dup_idx[dup_idx != pivot])
        n_before = len(idx)
        X = X[keep]
        S = S[keep]
        idx = idx[keep]
        if len(idx) > 64 and n_before - len(idx) < max(8, n_before // 32):
            break  # pruning no longer pays: large front, use the full kernel
    P = np.asarray(piv, dtype=np.intp)
    mask = np.zeros(n, dtype=bool)
    if len(idx):
        # pivots are re-checked with the rest: exact even under rounding ties
        cand = np.concatenate([P, idx])
        C = F[cand]
        if m == 2:
            sub = nd_mask_2d(C, keep_duplicates)
        else:
            sub = _moocore().is_nondominated(C, keep_weakly=keep_duplicates)
        mask[cand[sub]] = True
    elif len(P) > 1:
        sub = _pairwise_nd(F[P]) if len(P) <= 256 else _moocore().is_nondominated(
            F[P], keep_weakly=True
        )
        mask[P[sub]] = True
    else:
        mask[P] = True
    if keep_duplicates:  # duplicates of surviving pivots share their fate
        for j, d in enumerate(dups):
            if len(d) and mask[P[j]]:
                mask[d] = True
    return mask


def nd_mask(F: np.ndarray, keep_duplicates: bool = True) -> np.ndarray:
    """Dispatch: fastest non-dominated mask for the shape of ``F``."""
    n, m = F.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    if m == 1:
        return nd_mask_1d(F[:, 0], keep_duplicates)
    if m == 2:
        return nd_mask_2d(F, keep_duplicates)
    return nd_mask_nd(F, keep_duplicates)


# --------------------------------------------------------------------------
# non-dominated sorting
# --------------------------------------------------------------------------


def nd_ranks(F: np.ndarray, stop_after: int | None = None) -> np.ndarray:
    """Pareto ranks (0 = first front); duplicates share a rank.

    With ``stop_after=k`` fronts are peeled until at least ``k`` points are
    ranked; the others get rank ``n`` (the caller documents this).
    """
    n, m = F.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if m == 1:
        _, inv = np.unique(F[:, 0], return_inverse=True)
        ranks = inv.reshape(-1).astype(np.int64)
    elif stop_after is not None and m >= 3 and stop_after < n // 2:
        ranks = np.full(n, n, dtype=np.int64)
        idx = np.arange(n)
        X = F
        r = 0
        ranked = 0
        while ranked < stop_after and len(idx):
            front = nd_mask(X, True)
            ranks[idx[front]] = r
            ranked += int(front.sum())
            idx = idx[~front]
            X = X[~front]
            r += 1
        return ranks
    else:
        ranks = np.asarray(_moocore().pareto_rank(F), dtype=np.int64)
    if stop_after is not None and stop_after < n:
        counts = np.bincount(ranks)
        last = int(np.searchsorted(np.cumsum(counts), stop_after))  # first front reaching k
        ranks = np.where(ranks > last, n, ranks)
    return ranks


# --------------------------------------------------------------------------
# hypervolume
# --------------------------------------------------------------------------


def hv_2d(F: np.ndarray, ref: np.ndarray) -> float:
    """Exact 2-D hypervolume of points that strictly dominate ``ref``."""
    order = np.argsort(F[:, 0])
    x = F[order, 0]
    y = np.minimum.accumulate(F[order, 1])
    widths = np.empty_like(x)
    widths[:-1] = x[1:] - x[:-1]
    widths[-1] = ref[0] - x[-1]
    return float(np.dot(widths, ref[1] - y))


_WFG_MIN_POINTS = 200  # m >= 6: WFG beats moocore from about this many points


def hv_exact(F: np.ndarray, ref: np.ndarray) -> float:
    """Exact hypervolume of ``F`` (all rows strictly dominate ``ref``)."""
    n, m = F.shape
    if n == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - F[:, 0].min())
    if m == 2:
        return hv_2d(F, ref)
    if m >= 6 and n >= _WFG_MIN_POINTS:
        wfg = _hvwfg()
        if wfg:
            P = F[nd_mask(F, False)]
            if len(P) >= _WFG_MIN_POINTS:
                return float(wfg.wfg(np.ascontiguousarray(P), np.ascontiguousarray(ref)))
            return float(_moocore().hypervolume(P, ref=ref))
    return float(_moocore().hypervolume(F, ref=ref))


def hvc_2d(F: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Exclusive 2-D contributions; dominated and duplicated points get 0."""
    n = F.shape[0]
    out = np.zeros(n)
    mask = nd_mask_2d(F, True)
    idx = np.flatnonzero(mask)
    P = F[idx]
    order = np.argsort(P[:, 0], kind="stable")
    idx = idx[order]
    x = P[order, 0]
    y = P[order, 1]
    k = len(x)
    right = np.empty(k)
    right[:-1] = x[1:]
    right[-1] = ref[0]
    up = np.empty(k)
    up[0] = ref[1]
    up[1:] = y[:-1]
    c = (right - x) * (up - y)  # duplicates get 0: a zero width or height
    out[idx] = c
    return out


def hv_contributions(F: np.ndarray, ref: np.ndarray) -> np.ndarray:
    n, m = F.shape
    if n == 0:
        return np.zeros(0)
    if m == 1:
        out = np.zeros(n)
        mask = nd_mask_1d(F[:, 0], True)
        if mask.sum() == 1:  # dominated points are ignored (as in m >= 2)
            out[mask] = ref[0] - F[mask, 0]
        return out
    if m == 2:
        return hvc_2d(F, ref)
    return np.asarray(_moocore().hv_contributions(F, ref=ref), dtype=float)
