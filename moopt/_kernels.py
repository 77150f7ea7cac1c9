"""Private numeric kernels on validated *minimization* arrays.

Everything here assumes a finite float64 ``(n, m)`` array in which every
column is minimized (see :mod:`moopt._validation`) and never mutates it.  The
public, direction-aware functions live in :mod:`moopt.pareto` and
:mod:`moopt.indicators`; they choose the fastest kernel per case.  Which kernel
wins where is measured by ``benchmarks/bench_kernels.py`` (see
``docs/bench/kernels.md``).

Nothing here is compiled at run time: the kernels are numpy code and moocore's
compiled C functions, so the first call costs what every later call costs (no
JIT compilation, no numba import; ``benchmarks/bench_first_call.py``).

* small sets (up to a few hundred points): moocore's C functions directly,
  called through its cffi handle (no second round of input checks).
* filtering: a "prune by best point" loop that removes the points weakly
  dominated by the remaining point of smallest coordinate sum (cheap on
  random sets, where it removes almost everything); when a pivot stops
  removing many points (large fronts) what is left goes to an O(n log n)
  lexicographic sweep (2 objectives) or to moocore (m >= 3).
* hypervolume and contributions with 2 objectives: O(n log n) sweeps.
* hypervolume with m >= 3: the same pruning, then moocore on the survivors;
  with m >= 6 and many survivors the WFG algorithm of ``hvwfg`` if installed.
* contributions with m >= 4: pygmo if installed, else per point the box
  volume minus the hypervolume of the pruned "limit set" (WFG's
  exclusive-volume identity) for large fronts, moocore for small ones.
* ranking: moocore (O(n log n) for 2 objectives).

moocore's C library is loaded on first use without importing the ``moocore``
package (whose ``__init__`` costs tens of milliseconds); the public
``moocore`` functions are only a fallback for moocore versions without it.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys

import numpy as np

# --------------------------------------------------------------------------
# optional kernels, imported on first use
# --------------------------------------------------------------------------


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


def _load_libmoocore():
    """moocore's cffi extension ``moocore._libmoocore``, without running ``moocore/__init__``.

    The package's ``__init__`` imports its dataset helpers (urllib, email, ...),
    tens of milliseconds that a first kernel call should not pay.  The
    extension is registered under its own name, so a later ``import moocore``
    reuses it instead of loading it twice.
    """
    name = "moocore._libmoocore"
    mod = sys.modules.get(name)
    if mod is not None:
        return mod
    spec = importlib.util.find_spec("moocore")  # locates the package, does not import it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("moocore is not installed")
    for loc in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(loc, "_libmoocore" + suffix)
            if os.path.exists(path):
                ext = importlib.util.spec_from_file_location(name, path)
                if ext is None or ext.loader is None:  # pragma: no cover
                    continue
                mod = importlib.util.module_from_spec(ext)
                ext.loader.exec_module(mod)
                sys.modules[name] = mod
                return mod
    raise ImportError("moocore._libmoocore not found")  # pragma: no cover - other moocore layouts


class _Ffi:
    """moocore's ``ffi`` with the buffer types looked up once (``from_buffer(ctype, array)``)."""

    def __init__(self, ffi):
        self.ffi = ffi
        self.from_buffer = ffi.from_buffer
        self.double = ffi.typeof("double []")
        self.uint8 = ffi.typeof("uint8_t []")
        self.int = ffi.typeof("int []")


def _moocore_cffi():
    global _MOOCORE_LIB
    if _MOOCORE_LIB is None:
        try:
            try:
                mod = _load_libmoocore()
                ffi, lib = mod.ffi, mod.lib
            except Exception:  # pragma: no cover - other moocore layouts
                from moocore._moocore import ffi, lib
            lib.pareto_rank  # noqa: B018 - probe the symbols
            lib.is_nondominated  # noqa: B018
            lib.hv_contributions  # noqa: B018
            try:  # fpli_hv's signature was checked against moocore 0.3
                hv_ok = int(lib.MOOCORE_HV_DIMENSION_MAX) if hasattr(lib, "fpli_hv") else 0
            except Exception:  # pragma: no cover
                hv_ok = 0
            _MOOCORE_LIB = (_Ffi(ffi), lib, hv_ok)
        except Exception:  # pragma: no cover - other moocore versions
            _MOOCORE_LIB = False
    return _MOOCORE_LIB


_PYGMO_HVC_MIN = 150  # m >= 4: pygmo's contributions beat moocore's from about this front size
_LIMIT_SETS_MIN = 500  # m >= 4 without pygmo: limit-set contributions from this front size
_SMALL_HV = 128  # m >= 3: below this many points moocore gets the set unpruned
_SMALL_ND = 128  # below this many points moocore's filter is used directly
_SMALL_2D = 160  # m = 2: moocore's C hypervolume / contributions up to this many points
_ND_STOP_AT = 256  # filtering, m >= 3: no more pivots once this few rows remain (moocore is cheaper)
_MAX_PIVOTS = 1 << 30  # m >= 3: pruning pivots at most (the stall rule usually stops earlier)
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
        X = C if C.flags.c_contiguous else np.ascontiguousarray(C)
        nomax = _NO_MAX.get(m)
        if nomax is None:
            nomax = _NO_MAX[m] = np.zeros(m, dtype=np.uint8)
        out = np.empty(n, dtype=bool)
        lib.is_nondominated(
            ffi.from_buffer(ffi.uint8, out), ffi.from_buffer(ffi.double, X), n, m, bool(keep_weakly),
            ffi.from_buffer(ffi.uint8, nomax),
        )
        return out
    return _moocore().is_nondominated(C, keep_weakly=keep_weakly)


def _moocore_hvc(P: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """moocore's contributions (ignore_dominated) on a validated float64 array."""
    cf = _moocore_cffi()
    n, m = P.shape
    if cf and 2 <= m <= 32:
        ffi, lib, _ = cf
        X = P if P.flags.c_contiguous else np.ascontiguousarray(P)
        out = np.empty(n)
        lib.hv_contributions(
            ffi.from_buffer(ffi.double, out), ffi.from_buffer(ffi.double, X), n, m,
            ffi.from_buffer(ffi.double, ref), True,
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
        X = F if F.flags.c_contiguous else np.ascontiguousarray(F)
        ranks = np.empty(n, dtype=np.intc)
        lib.pareto_rank(ffi.from_buffer(ffi.int, ranks), ffi.from_buffer(ffi.double, X), n, m)
        return ranks.astype(np.int64)
    return np.asarray(_moocore().pareto_rank(F), dtype=np.int64)


def _moocore_hv(P: np.ndarray, ref: np.ndarray) -> float:
    """moocore's hypervolume (C ``fpli_hv``) on a validated float64 array.

    Points that do not strictly dominate ``ref`` add nothing (moocore skips
    them).  Falls back to the public function on moocore versions without
    the C entry point.
    """
    cf = _moocore_cffi()
    n, m = P.shape
    if cf and 2 <= m <= cf[2]:  # cf[2]: moocore's HV_DIMENSION_MAX (0: unavailable)
        ffi, lib, _ = cf
        hv = lib.fpli_hv(
            ffi.from_buffer(ffi.double, P if P.flags.c_contiguous else np.ascontiguousarray(P)), n, m,
            ffi.from_buffer(ffi.double, ref),
        )
        if hv < 0:
            raise MemoryError("moocore: memory allocation failed")
        return float(hv)
    return float(_moocore().hypervolume(P, ref=ref))


# --------------------------------------------------------------------------
# pruning by pivots
# --------------------------------------------------------------------------


# numpy reduces an (n, m) array along its short rows slowly (F.sum(axis=1) or
# F.max(axis=0) cost ~20x a column-wise loop at n = 10,000, m = 3): the helpers
# below work column by column.


def _row_sums(X: np.ndarray) -> np.ndarray:
    """Row sums, added column by column (monotone: q <= p componentwise gives sum(q) <= sum(p))."""
    m = X.shape[1]
    if m == 1:
        return X[:, 0].copy()
    S = X[:, 0] + X[:, 1]
    for j in range(2, m):
        S += X[:, j]
    return S


def _not_weakly_dominated(X: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``X`` that ``p`` does not weakly dominate (some coordinate < p's)."""
    keep = X[:, 0] < p[0]
    for j in range(1, X.shape[1]):
        keep |= X[:, j] < p[j]
    return keep


def _strictly_below(F: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``F`` strictly below ``r`` in every coordinate."""
    mask = F[:, 0] < r[0]
    for j in range(1, F.shape[1]):
        mask &= F[:, j] < r[j]
    return mask


def _prune(F: np.ndarray, rows: np.ndarray | None, keep_dups: bool, min_left: int = 64, max_pivots: int = 1 << 30,
           stop_at: int = 0):
    """Remove the rows weakly dominated by "pivots" (the remaining row of smallest sum).

    A pivot is never dominated (up to rounding ties in the sums, which the
    callers' exact re-check resolves).  Pruning stops once a pivot removes few
    rows while more than ``min_left`` remain (a large front: the sweep or
    moocore is then cheaper), after ``max_pivots`` pivots, or once at most
    ``stop_at`` rows remain (few enough for moocore's filter to beat more pivots).

    Returns:
        (pivots, rest, dups): pivot rows in order, rows still undecided
        (ascending), and with ``keep_dups`` for each pivot the rows equal to it
        (else an empty list).  When the first pivot already stalls, no pivot
        and every row (``rest`` is ``rows``): nothing was pruned.
    """
    idx = np.arange(F.shape[0]) if rows is None else rows
    X = F if rows is None else F[rows]
    S = _row_sums(X)
    piv: list[int] = []
    dups: list[np.ndarray] = []
    while True:
        n_before = len(idx)
        k = int(S.argmin())
        p = X[k]
        keep = _not_weakly_dominated(X, p)  # keep[k] is False: p weakly dominates itself
        n_keep = int(np.count_nonzero(keep))
        if not piv and n_keep > min_left and n_before - n_keep < max(8, n_before // 32):
            return np.zeros(0, dtype=np.intp), idx, dups  # a front: the first pivot removes (almost) nothing
        piv.append(int(idx[k]))
        if keep_dups:  # rows equal to p have p's sum: check those few exactly
            same = np.flatnonzero(S == S[k])
            if len(same) > 1:
                same = same[(X[same] == p).all(axis=1)]
            dups.append(idx[same[same != k]])
        if n_keep == 0:
            return np.asarray(piv, dtype=np.intp), idx[:0], dups
        sel = np.flatnonzero(keep)
        idx = idx[sel]
        if (len(piv) >= max_pivots or n_keep <= stop_at
                or (n_keep > min_left and n_before - n_keep < max(8, n_before // 32))):
            return np.asarray(piv, dtype=np.intp), idx, dups  # large front: pruning no longer pays
        X = X[sel]
        S = S[sel]


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

    A point is dominated iff a point with a smaller first objective has a
    second objective ``<=`` its own, or a point with the same first objective
    has a strictly smaller second one.  Without ties in the first objective
    (the common, continuous case) a quicksort suffices; ties go through a
    stable sort so that "first copy" means lowest row index.
    """
    n = F.shape[0]
    mask = np.zeros(n, dtype=bool)
    if n <= 1:
        mask[:] = True
        return mask
    a = F[:, 0]
    order = np.argsort(a)
    a_s = a[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(a_s[1:], a_s[:-1], out=new[1:])
    if new.all():  # no ties on the first objective
        b_s = F[order, 1]
        prev_min = np.empty(n)
        prev_min[0] = np.inf
        np.minimum.accumulate(b_s[:-1], out=prev_min[1:])
        mask[order] = b_s < prev_min
        return mask
    order = np.argsort(a, kind="stable")
    b_s = F[order, 1]
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
    many points; then hands what is left to the 2-D sweep or moocore.
    """
    n, m = F.shape
    if m == 1:
        return nd_mask_1d(F[:, 0], keep_duplicates)
    # m = 2: one pivot, then the O(n log n) sweep; m >= 3: pivots while they pay, then moocore
    P, idx, dups = _prune(F, None, keep_duplicates, max_pivots=1 if m == 2 else _MAX_PIVOTS, stop_at=_ND_STOP_AT)
    if len(P) + len(idx) == n:  # nothing pruned: the exact kernel on F itself
        return np_nd_mask_2d(F, keep_duplicates) if m == 2 else _moocore_nd(F, keep_duplicates)
    mask = np.zeros(n, dtype=bool)
    if len(idx):
        # pivots are re-checked with the rest: exact even under rounding ties;
        # sorted, so that "first copy" keeps meaning lowest row index
        cand = np.sort(np.concatenate([P, idx]))
        C = F[cand]
        sub = np_nd_mask_2d(C, keep_duplicates) if m == 2 else _moocore_nd(C, keep_duplicates)
        mask[cand[sub]] = True
    elif len(P) > 1:
        sub = _pairwise_nd(F[P]) if len(P) <= 256 else _moocore_nd(F[P], True)
        mask[P[sub]] = True
    else:
        mask[P] = True
    if keep_duplicates:  # duplicates of surviving pivots share their fate
        for j, d in enumerate(dups):
            if len(d) and mask[P[j]]:
                mask[d] = True
    return mask


def nd_mask_2d(F: np.ndarray, keep_duplicates: bool) -> np.ndarray:
    return np_nd_mask_nd(F, keep_duplicates)


def nd_mask_nd(F: np.ndarray, keep_duplicates: bool) -> np.ndarray:
    return np_nd_mask_nd(F, keep_duplicates)


def nd_mask(F: np.ndarray, keep_duplicates: bool = True) -> np.ndarray:
    """Dispatch: fastest non-dominated mask for the shape of ``F``."""
    n, m = F.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    if m == 1:
        return nd_mask_1d(F[:, 0], keep_duplicates)
    if n <= _SMALL_ND and m <= 32:
        return _moocore_nd(F, keep_duplicates)  # small sets: pruning does not pay
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
    n, m = F.shape
    if not n:
        return None, 0
    if m and np.maximum.reduce(F, axis=None) < min(r.tolist()):  # one contiguous pass: the common case
        return None, 0
    if n <= 256:
        if np.logical_and.reduce(np.less(F, r), axis=None):
            return None, 0
    else:
        rl = r.tolist()
        if all(float(np.maximum.reduce(F[:, j])) < rl[j] for j in range(m)):
            return None, 0
    mask = _strictly_below(F, r)
    n_out = F.shape[0] - int(np.count_nonzero(mask))
    return (None if n_out == 0 else mask), int(n_out)


def np_hv_2d(F: np.ndarray, ref: np.ndarray) -> float:
    """Exact 2-D hypervolume of points that strictly dominate ``ref`` (any order, ties allowed)."""
    order = np.argsort(F[:, 0])
    x = F[order, 0]
    y = np.minimum.accumulate(F[order, 1])
    widths = np.empty_like(x)
    widths[:-1] = x[1:] - x[:-1]
    widths[-1] = ref[0] - x[-1]
    return float(np.dot(widths, ref[1] - y))


_WFG_MIN_POINTS = 200  # m >= 6: WFG beats moocore from about this many points


def _survivors(F: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """Rows not weakly dominated by a pivot, plus the pivots (a superset of the front's points)."""
    piv, rem, _ = _prune(F, rows, False, 0)
    return np.concatenate((piv, rem)) if len(rem) else piv


def _hv2d_pruned(F: np.ndarray, ref: np.ndarray) -> float:
    """2-D hypervolume (points inside ``ref``): drop what the smallest-sum point dominates, then sweep."""
    x = F[:, 0]
    y = F[:, 1]
    k = int((x + y).argmin())
    keep = (x < x[k]) | (y < y[k])
    keep[k] = True
    if int(np.count_nonzero(keep)) < (3 * len(keep)) // 4:
        F = F[keep]
    return np_hv_2d(F, ref)


def hv_rows(F: np.ndarray, rows: np.ndarray | None, ref: np.ndarray) -> float:
    """Exact hypervolume of ``F[rows]`` (rows strictly inside ``ref``; None = all)."""
    n, m = F.shape
    if rows is not None:
        if len(rows) == 0:
            return 0.0
        if len(rows) < n:
            F = F[rows]
            n = F.shape[0]
    if n == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - F[:, 0].min())
    if m == 2:
        if n <= _SMALL_2D:
            return _moocore_hv(F, ref)
        return _hv2d_pruned(F, ref)
    if n <= _SMALL_HV:  # small sets: pruning costs more than it saves
        return _hv_pruned(F, ref)
    keep = _survivors(F, None)
    return _hv_pruned(F if len(keep) == n else F[keep], ref)  # a front: nothing pruned, no copy


def _hv_pruned(P: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume (m >= 3) of points inside ``ref`` after pruning."""
    if len(P) == 0:
        return 0.0
    if P.shape[1] >= 6 and len(P) >= _WFG_MIN_POINTS:
        wfg = _hvwfg()
        if wfg:
            return float(wfg.wfg(np.ascontiguousarray(P), np.ascontiguousarray(ref, dtype=float)))
    return _moocore_hv(P, ref)


def hv_with_outside(F: np.ndarray, ref: np.ndarray) -> tuple[float, int]:
    """Hypervolume of the rows of ``F`` inside ``ref`` and the number outside."""
    mask, n_out = inside_mask(F, ref)
    return hv_rows(F, None if mask is None else np.flatnonzero(mask), ref), n_out


def hvc_with_outside(F: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, int]:
    """Contributions of the rows of ``F`` inside ``ref`` (others 0) and the number outside."""
    mask, n_out = inside_mask(F, ref)
    return hv_contributions_rows(F, None if mask is None else np.flatnonzero(mask), ref), n_out


def hv_exact(F: np.ndarray, ref: np.ndarray) -> float:
    """Exact hypervolume of ``F`` (all rows strictly dominate ``ref``)."""
    return hv_rows(F, None, ref)


def np_hvc_2d(F: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Exclusive 2-D contributions; dominated and duplicated points get 0."""
    n = F.shape[0]
    out = np.zeros(n)
    x0 = F[:, 0]
    order = np.argsort(x0)
    xs = x0[order]
    if not (xs[1:] == xs[:-1]).any():  # no ties on the first objective: no duplicates either
        ys = F[order, 1]
        prev = np.empty(n)
        prev[0] = np.inf
        np.minimum.accumulate(ys[:-1], out=prev[1:])
        front = ys < prev
        idx = order[front]
        x = xs[front]
        y = ys[front]
    else:
        mask = np_nd_mask_2d(F, True)
        idx = np.flatnonzero(mask)
        P = F[idx]
        o = np.argsort(P[:, 0], kind="stable")
        idx = idx[o]
        x = P[o, 0]
        y = P[o, 1]
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
    k = len(front)
    allr = np.arange(k)
    for t in range(k):
        p = P[t]
        others = np.concatenate((allr[:t], allr[t + 1 :]))
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
    if m == 2:
        if len(rows) <= _SMALL_2D:
            if len(rows) == n:
                return _moocore_hvc(F, ref)
            out[rows] = _moocore_hvc(F[rows], ref)
            return out
        if len(rows) == n:
            return np_hvc_2d(F, ref)
        out[rows] = np_hvc_2d(F[rows], ref)
        return out
    if m == 3:
        if len(rows) == n:
            return _moocore_hvc(F, ref)
        out[rows] = _moocore_hvc(F[rows], ref)
        return out
    if len(rows) < min(_PYGMO_HVC_MIN, _LIMIT_SETS_MIN):  # the front is too small for the other kernels
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
