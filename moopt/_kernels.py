"""Private numeric kernels on validated *minimization* arrays.

Everything here assumes a finite float64 ``(n, m)`` array in which every
column is minimized (see :mod:`moopt._validation`) and never mutates it.  The
public, direction-aware functions live in :mod:`moopt.pareto` and
:mod:`moopt.indicators`; they choose the fastest kernel per case.  Which kernel
wins where is measured by ``benchmarks/bench_kernels.py`` (see
``docs/bench/kernels.md``):

* filtering: a "prune by best point" loop that removes the points dominated
  by the remaining point of smallest coordinate sum (cheap on random sets);
  when a pivot stops removing many points (large fronts) what is left goes to
  an O(n log n) lexicographic sweep (2 objectives) or to moocore (m >= 3).
* hypervolume and contributions with 2 objectives: O(n log n) sweeps.
* hypervolume with m >= 3: the same pruning, then moocore on the survivors;
  with m >= 6 and many survivors the WFG algorithm of ``hvwfg`` if installed.
* contributions with m >= 4: per point, the box volume minus the hypervolume
  of the pruned "limit set" (WFG's exclusive-volume identity).
* ranking: moocore (O(n log n) for 2 objectives).

The loops are compiled with numba (:mod:`moopt._jit`, imported on first use
and cached on disk).  Without numba (or with ``MOOPT_NO_NUMBA=1``) the same
algorithms run as numpy code, slower on small inputs but identical in result.
"""

from __future__ import annotations

import importlib
import os

import numpy as np

# --------------------------------------------------------------------------
# optional kernels, imported on first use
# --------------------------------------------------------------------------

_JITMOD = None  # None: not tried yet, False: unavailable, else moopt._jit


def _jit():
    global _JITMOD
    if _JITMOD is None:
        if os.environ.get("MOOPT_NO_NUMBA", "") not in ("", "0"):
            _JITMOD = False
        else:
            try:
                from moopt import _jit as j

                _JITMOD = j
            except Exception:  # pragma: no cover - numba missing or broken
                _JITMOD = False
    return _JITMOD

_OPTIONAL: dict = {}  # module name -> module, or False when it cannot be imported


def _optional(name: str):
    """Import an optional kernel library once; ``False`` when it is unavailable."""
    if name not in _OPTIONAL:
        try:
            _OPTIONAL[name] = importlib.import_module(name)
        except Exception:  # pragma: no cover - depends on the environment
            _OPTIONAL[name] = False
    return _OPTIONAL[name]


def _hvwfg():
    return _optional("hvwfg")


def _pygmo():
    return _optional("pygmo")


def _moocore():
    import moocore

    return moocore


_MOOCORE_LIB = None


def _moocore_cffi():
    global _MOOCORE_LIB
    if _MOOCORE_LIB is None:
        try:
            from moocore._moocore import ffi, lib

            lib.pareto_rank  # noqa: B018 - probe the symbols
            lib.is_nondominated  # noqa: B018
            lib.hv_contributions  # noqa: B018
            try:  # fpli_hv's signature was checked against moocore 0.3
                from moocore._moocore import HV_DIMENSION_MAX

                hv_ok = int(HV_DIMENSION_MAX) if hasattr(lib, "fpli_hv") else 0
            except Exception:  # pragma: no cover
                hv_ok = 0
            _MOOCORE_LIB = (ffi, lib, hv_ok)
        except Exception:  # pragma: no cover - other moocore versions
            _MOOCORE_LIB = False
    return _MOOCORE_LIB


_PYGMO_HVC_MIN = 150  # m >= 4: pygmo's contributions beat moocore's from about this front size
_LIMIT_SETS_MIN = 500  # m >= 4 without pygmo: limit-set contributions from this front size
_SMALL_HV = 128  # m >= 4: below this many points moocore gets the set unpruned
_SMALL_ND = 128  # m >= 3: below this many points moocore's filter is used directly
_NO_MAX: dict = {}  # m -> uint8 zeros: "minimize every objective" for moocore's C API


def _moocore_nd(C: np.ndarray, keep_weakly: bool) -> np.ndarray:
    """moocore's non-dominated mask on a validated float64 array (2 <= m <= 32).

    Calls the C function through moocore's cffi handle when available (no
    second round of input checks), else the public ``is_nondominated``.
    """
    cf = _moocore_cffi()
    n, m = C.shape
    if cf and 2 <= m <= 32:
        ffi, lib, _ = cf
        X = np.ascontiguousarray(C)
        nomax = _NO_MAX.get(m)
        if nomax is None:
            nomax = _NO_MAX[m] = np.zeros(m, dtype=np.uint8)
        out = np.empty(n, dtype=bool)
        lib.is_nondominated(
            ffi.from_buffer("uint8_t []", out.view(np.uint8)),
            ffi.from_buffer("double []", X),
            ffi.cast("size_t", n),
            ffi.cast("uint_fast8_t", m),
            ffi.cast("bool", bool(keep_weakly)),
            ffi.from_buffer("uint8_t []", nomax),
        )
        return out
    return _moocore().is_nondominated(C, keep_weakly=keep_weakly)


def _moocore_hvc(P: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """moocore's contributions (ignore_dominated) on a validated float64 array."""
    cf = _moocore_cffi()
    n, m = P.shape
    if cf and 2 <= m <= 32:
        ffi, lib, _ = cf
        X = np.ascontiguousarray(P)
        r = np.ascontiguousarray(ref, dtype=float)
        out = np.empty(n)
        lib.hv_contributions(
            ffi.from_buffer("double []", out),
            ffi.from_buffer("double []", X),
            ffi.cast("size_t", n),
            ffi.cast("uint_fast8_t", m),
            ffi.from_buffer("double []", r),
            ffi.cast("bool", True),
        )
        return out
    return np.asarray(_moocore().hv_contributions(P, ref=ref), dtype=float)


def _moocore_rank(F: np.ndarray) -> np.ndarray:
    """moocore's Pareto ranking (int64) on a validated float64 array, 2 <= m <= 32.

    Calls moocore's C function through its cffi handle when available (no
    second round of input checks), else the public ``pareto_rank``.
    """
    cf = _moocore_cffi()
    n, m = F.shape
    if cf and 2 <= m <= 32:
        ffi, lib, _ = cf
        X = np.ascontiguousarray(F)
        ranks = np.empty(n, dtype=np.intc)
        lib.pareto_rank(
            ffi.from_buffer("int []", ranks),
            ffi.from_buffer("double []", X),
            ffi.cast("size_t", n),
            ffi.cast("uint_fast8_t", m),
        )
        return ranks.astype(np.int64)
    return np.asarray(_moocore().pareto_rank(F), dtype=np.int64)


def _moocore_hv(P: np.ndarray, ref: np.ndarray) -> float:
    """moocore's hypervolume on an already validated C-contiguous float64 array.

    Calls moocore's internal ``_hypervolume`` (no second round of input
    checks) when this moocore version has it, else the public function.
    """
    cf = _moocore_cffi()
    n, m = P.shape
    if cf and 2 <= m <= cf[2]:  # cf[2]: moocore's HV_DIMENSION_MAX (0: unavailable)
        ffi, lib, _ = cf
        hv = lib.fpli_hv(
            ffi.from_buffer("double []", np.ascontiguousarray(P)),
            ffi.cast("size_t", n),
            ffi.cast("uint_fast8_t", m),
            ffi.from_buffer("double []", np.ascontiguousarray(ref, dtype=float)),
        )
        if hv < 0:
            raise MemoryError("moocore: memory allocation failed")
        return float(hv)
    return float(_moocore().hypervolume(P, ref=ref))


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


def np_nd_mask_2d(F: np.ndarray, keep_duplicates: bool) -> np.ndarray:
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
    return ~dom.any(axis=0)  # type: ignore[return-value]  # numpy stubs: any(axis=...) may be a scalar; not for 2-D


def np_nd_mask_nd(F: np.ndarray, keep_duplicates: bool) -> np.ndarray:
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
            sub = np_nd_mask_2d(C, keep_duplicates)
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


def jit_nd_mask(F: np.ndarray, keep_duplicates: bool) -> np.ndarray:
    """Compiled pruning, then a 2-D sweep or moocore on what is left."""
    j = _jit()
    mask, cand, dupof = j.nd_mask_all(F, keep_duplicates)
    n = len(F)
    if len(cand):  # a large front: a numpy-sorted sweep (m = 2) or moocore decides the rest
        if F.shape[1] == 2:
            order = j.fix_ties(F, cand[np.argsort(F[cand, 0])])
            mask[order[j.nd2d_ordered(F, order, keep_duplicates)]] = True
        elif len(cand) == n:  # nothing pruned: no reordering, no duplicates recorded
            return _moocore_nd(F, keep_duplicates)
        else:
            mask[cand[_moocore_nd(F[cand], keep_duplicates)]] = True
        if keep_duplicates:
            d = np.flatnonzero(dupof >= 0)
            if len(d):
                mask[d] = mask[dupof[d]]
    return mask


def nd_mask_2d(F: np.ndarray, keep_duplicates: bool) -> np.ndarray:
    if _jit():
        return jit_nd_mask(F, keep_duplicates)
    return np_nd_mask_2d(F, keep_duplicates)


def nd_mask_nd(F: np.ndarray, keep_duplicates: bool) -> np.ndarray:
    if F.shape[1] == 1:
        return nd_mask_1d(F[:, 0], keep_duplicates)
    if _jit():
        return jit_nd_mask(F, keep_duplicates)
    return np_nd_mask_nd(F, keep_duplicates)


def nd_mask(F: np.ndarray, keep_duplicates: bool = True) -> np.ndarray:
    """Dispatch: fastest non-dominated mask for the shape of ``F``."""
    n, m = F.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    if m == 1:
        return nd_mask_1d(F[:, 0], keep_duplicates)
    if m >= 3 and n <= _SMALL_ND and 2 <= m <= 32:
        return _moocore_nd(F, keep_duplicates)  # small sets: pruning does not pay
    if _jit():
        return jit_nd_mask(F, keep_duplicates)
    if m == 2:
        return np_nd_mask_2d(F, keep_duplicates)
    return np_nd_mask_nd(F, keep_duplicates)


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
        ranks = _moocore_rank(F)
    if stop_after is not None and stop_after < n:
        counts = np.bincount(ranks)
        last = int(np.searchsorted(np.cumsum(counts), stop_after))  # first front reaching k
        ranks = np.where(ranks > last, n, ranks)
    return ranks


# --------------------------------------------------------------------------
# hypervolume
# --------------------------------------------------------------------------


def inside_mask(F: np.ndarray, r: np.ndarray) -> tuple[np.ndarray | None, int]:
    """(mask of rows strictly dominating ``r`` or None if all do, number outside)."""
    j = _jit()
    if j:
        mask, n_out = j.inside(F, r)
    else:
        mask = (F < r).all(axis=1)
        n_out = F.shape[0] - int(np.count_nonzero(mask))
    return (None if n_out == 0 else mask), int(n_out)


def np_hv_2d(F: np.ndarray, ref: np.ndarray) -> float:
    """Exact 2-D hypervolume of points that strictly dominate ``ref``."""
    order = np.argsort(F[:, 0])
    x = F[order, 0]
    y = np.minimum.accumulate(F[order, 1])
    widths = np.empty_like(x)
    widths[:-1] = x[1:] - x[:-1]
    widths[-1] = ref[0] - x[-1]
    return float(np.dot(widths, ref[1] - y))


_WFG_MIN_POINTS = 200  # m >= 6: WFG beats moocore from about this many points
_HV3D_MAX_POINTS = 2000  # m = 3: the compiled sweep beats moocore up to this many (= _jit.HV3D_MAX)


def _survivors(F: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Rows not dominated by a pivot (a superset of the front; cheap pruning)."""
    j = _jit()
    if j:
        piv, rem, _ = j.prune(F, rows, False, 0)
        return np.concatenate((piv, rem)) if len(rem) else piv
    return rows[np_nd_mask_nd(F[rows], False)] if len(rows) > 1 else rows


def hv_rows(F: np.ndarray, rows: np.ndarray | None, ref: np.ndarray) -> float:
    """Exact hypervolume of ``F[rows]`` (rows strictly inside ``ref``; None = all)."""
    n, m = F.shape
    if rows is None:
        rows = np.arange(n)
    if len(rows) == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - F[rows, 0].min())
    j = _jit()
    if m == 2:
        if j:
            hv, left = j.hv2d(F, rows, float(ref[0]), float(ref[1]))
            if len(left):
                hv = j.hv2d_sweep(F, left[np.argsort(F[left, 0])], float(ref[0]), float(ref[1]))
            return float(hv)
        return np_hv_2d(F[rows], ref)
    return _hv_pruned(F[_survivors(F, rows)], ref)


def _hv_pruned(P: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume (m >= 3) of points inside ``ref`` after pruning."""
    if len(P) == 0:
        return 0.0
    if P.shape[1] == 3 and len(P) <= _HV3D_MAX_POINTS:
        j = _jit()
        if j:
            return float(j.hv3d(P, float(ref[0]), float(ref[1]), float(ref[2])))
    if P.shape[1] >= 6 and len(P) >= _WFG_MIN_POINTS:
        wfg = _hvwfg()
        if wfg:
            return float(wfg.wfg(P, np.ascontiguousarray(ref, dtype=float)))
    return _moocore_hv(P, ref)


def hv_with_outside(F: np.ndarray, ref: np.ndarray) -> tuple[float, int]:
    """Hypervolume of the rows of ``F`` inside ``ref`` and the number outside."""
    n, m = F.shape
    j = _jit()
    if j and m == 2:
        hv, left, n_out = j.hv2d_all(F, float(ref[0]), float(ref[1]))
        if len(left):
            hv = j.hv2d_sweep(F, left[np.argsort(F[left, 0])], float(ref[0]), float(ref[1]))
        return float(hv), int(n_out)
    if j:
        if m == 1:
            rows, n_out = j.inside_rows(F, ref)
            return hv_rows(F, rows, ref), int(n_out)
        if m == 3:
            hv, P, n_out = j.hv3d_all(F, ref)
            return (float(hv) if len(P) == 0 else _hv_pruned(P, ref)), int(n_out)
        if n <= _SMALL_HV:  # small sets: pruning costs more than it saves
            rows, n_out = j.inside_rows(F, ref)
            return _hv_pruned(F if n_out == 0 else F[rows], ref), int(n_out)
        P, n_out = j.pruned_inside(F, ref)
        return _hv_pruned(P, ref), int(n_out)
    mask, n_out = inside_mask(F, ref)
    return hv_rows(F, None if mask is None else np.flatnonzero(mask), ref), n_out


def hvc_with_outside(F: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, int]:
    """Contributions of the rows of ``F`` inside ``ref`` (others 0) and the number outside."""
    n, m = F.shape
    j = _jit()
    if j and m == 2:
        out, left, n_out = j.hvc2d_all(F, float(ref[0]), float(ref[1]))
        if len(left):
            order = j.fix_ties(F, left[np.argsort(F[left, 0])])
            out = j.hvc2d_ordered(F, order, float(ref[0]), float(ref[1]))
        return out, int(n_out)
    if j:
        rows, n_out = j.inside_rows(F, ref)
        return hv_contributions_rows(F, None if n_out == 0 else rows, ref), int(n_out)
    mask, n_out = inside_mask(F, ref)
    return hv_contributions_rows(F, None if mask is None else np.flatnonzero(mask), ref), n_out


def hv_exact(F: np.ndarray, ref: np.ndarray) -> float:
    """Exact hypervolume of ``F`` (all rows strictly dominate ``ref``)."""
    return hv_rows(F, None, ref)


def np_hvc_2d(F: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Exclusive 2-D contributions; dominated and duplicated points get 0."""
    n = F.shape[0]
    out = np.zeros(n)
    mask = np_nd_mask_2d(F, True)
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
    out[idx] = (right - x) * (up - y)  # duplicates get 0: a zero width or height
    return out


def _hvc_limit_sets(F: np.ndarray, rows: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Contributions via ``box(p) - HV(max(others, p))`` for each front point."""
    n = F.shape[0]
    out = np.zeros(n)
    front = rows[nd_mask(F[rows], True)]
    P = F[front]
    j = _jit()
    k = len(front)
    allr = np.arange(k)
    for t in range(k):
        p = P[t]
        others = np.concatenate((allr[:t], allr[t + 1 :]))
        if j:
            C = j.clip_above(P, others, p)
        else:
            C = np.maximum(P[others], p)
        if len(C) and (C == p).all(axis=1).any():
            continue  # a duplicate: removing one copy changes nothing
        box = float(np.prod(ref - p))
        out[front[t]] = box - hv_rows(C, None, ref) if len(C) else box
    return out


def hv_contributions_rows(F: np.ndarray, rows: np.ndarray | None, ref: np.ndarray) -> np.ndarray:
    """Exclusive contributions of ``F[rows]`` (inside points); others get 0."""
    n, m = F.shape
    if rows is None:
        rows = np.arange(n)
    out = np.zeros(n)
    if len(rows) == 0:
        return out
    if m == 1:
        x = F[rows, 0]
        mask = nd_mask_1d(x, True)
        if mask.sum() == 1:  # dominated points are ignored (as in m >= 2)
            out[rows[mask]] = ref[0] - x[mask]
        return out
    j = _jit()
    if m == 2:
        if j:
            order = j.fix_ties(F, rows[np.argsort(F[rows, 0])])
            return j.hvc2d_ordered(F, order, float(ref[0]), float(ref[1]))
        out[rows] = np_hvc_2d(F[rows], ref)
        return out
    if m == 3:
        if len(rows) == n:
            return _moocore_hvc(F, ref)
        out[rows] = _moocore_hvc(F[rows], ref)
        return out
    pg = _pygmo()
    front = rows[nd_mask(F[rows], False)]
    if pg and len(front) >= _PYGMO_HVC_MIN:  # m >= 4: pygmo's exclusive-volume algorithm, unique front
        if len(front) == 1:
            out[front] = np.prod(ref - F[front[0]])
        else:
            P = np.ascontiguousarray(F[front])
            out[front] = pg.hypervolume(P).contributions(np.ascontiguousarray(ref, dtype=float))
        dup = rows[nd_mask(F[rows], True)]
        if len(dup) != len(front):  # duplicated front points: removing one copy changes nothing
            _, inv, counts = np.unique(F[dup], axis=0, return_inverse=True, return_counts=True)
            out[dup[counts[inv.reshape(-1)] > 1]] = 0.0
        return out
    if len(front) >= _LIMIT_SETS_MIN:  # moocore recomputes n + 1 hypervolumes: slower here
        return _hvc_limit_sets(F, rows, ref)
    if len(rows) == n:
        return _moocore_hvc(F, ref)
    out[rows] = _moocore_hvc(F[rows], ref)
    return out


def hv_contributions(F: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return hv_contributions_rows(F, None, ref)


def crowding(Fm: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of the rows of a validated minimization array (see ``crowding_distance``)."""
    n, m = Fm.shape
    if n <= 2:
        return np.full(n, np.inf)
    order = np.argsort(Fm, axis=0, kind="stable")
    S = np.take_along_axis(Fm, order, axis=0)
    rng = S[-1] - S[0]
    gaps = np.zeros((n, m))
    gaps[1:-1] = S[2:] - S[:-2]
    scale = np.where(rng > 0, rng, 1.0)
    gaps = gaps / scale
    gaps[0] = np.inf
    gaps[-1] = np.inf
    gaps[:, rng == 0] = 0.0
    dist = np.zeros((n, m))
    np.put_along_axis(dist, order, gaps, axis=0)
    return dist.sum(axis=1)
