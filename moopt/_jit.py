"""Numba-compiled kernels (imported lazily by :mod:`moopt._kernels`).

This module imports numba, so it is only imported on the first kernel call
that needs it, never at ``import moopt``.  Functions are compiled once and
cached on disk (``cache=True``).  All inputs are validated float64
*minimization* arrays; nothing here mutates its inputs.
"""

from __future__ import annotations

from typing import TypedDict

import numba as nb
import numpy as np


class _JitOptions(TypedDict):
    cache: bool
    nogil: bool


# a TypedDict (not ``dict(...)``) so that ``**_JIT`` type-checks against njit's keyword parameters
_JIT: _JitOptions = {"cache": True, "nogil": True}


@nb.njit(**_JIT)
def _weakly_dominates(F, p, q, m):
    """Whether row p is <= row q in every objective."""
    for j in range(m):
        if F[q, j] < F[p, j]:
            return False
    return True


@nb.njit(**_JIT)
def prune(F, rows, keep_dups, stall_min):
    """Remove points dominated by "pivots" (the remaining point of smallest sum).

    Args:
        F: (n, m) minimization array.
        rows: candidate row indices (ascending), the working set.
        keep_dups: record which removed rows equal a pivot.
        stall_min: stop once a pivot removes few points (a large front) while
            more than ``stall_min`` rows remain; -1 never stops early.

    Returns:
        (pivots, remaining, dupof): pivot rows in order, rows still undecided
        (empty when the loop finished), and for every row the pivot it
        duplicates (-1 if none).
    """
    n, m = F.shape
    # a pivot costs O(alive * m); stop pruning once pivots remove few points
    # (a large front): a sweep (m = 2) or moocore is then cheaper
    k = rows.shape[0]
    idx = rows.copy()
    S = np.empty(n)
    best = 0
    bs = np.inf
    for t in range(k):  # sums and the first pivot in one pass
        i = idx[t]
        s = 0.0
        for j in range(m):
            s += F[i, j]
        S[i] = s
        if s < bs:
            bs = s
            best = t
    piv = np.empty(k, np.int64)
    npiv = 0
    dupof = np.full(n if keep_dups else 0, -1, np.int64)
    alive = k
    first = True
    while alive > 0:
        if not first:
            best = 0
            bs = S[idx[0]]
            for t in range(1, alive):
                v = S[idx[t]]
                if v < bs:
                    bs = v
                    best = t
        first = False
        p = idx[best]
        w = 0
        for t in range(alive):
            q = idx[t]
            if q == p:
                continue
            if _weakly_dominates(F, p, q, m):
                if keep_dups and S[q] == S[p]:  # equal points have equal sums
                    eq = True
                    for j in range(m):
                        if F[q, j] != F[p, j]:
                            eq = False
                            break
                    if eq:
                        dupof[q] = p
                continue
            idx[w] = q
            w += 1
        piv[npiv] = p
        npiv += 1
        removed = alive - w
        before = alive
        alive = w
        if stall_min >= 0 and alive > stall_min and removed < max(1 + 7 * (stall_min >= 64), before // 32):
            break
    return piv[:npiv], idx[:alive].copy(), dupof


@nb.njit(**_JIT)
def pairwise_nd(F, rows):
    """O(k^2) non-dominated mask (duplicates kept) over ``rows``."""
    k = rows.shape[0]
    m = F.shape[1]
    out = np.ones(k, np.bool_)
    for a in range(k):
        p = rows[a]
        for b in range(k):
            if a == b:
                continue
            q = rows[b]
            le = True
            lt = False
            for j in range(m):
                if F[q, j] > F[p, j]:
                    le = False
                    break
                if F[q, j] < F[p, j]:
                    lt = True
            if le and lt:
                out[a] = False
                break
    return out


SMALL_SORT = 256  # numba's argsort is slower than numpy's: larger sorts go back to numpy


@nb.njit(**_JIT)
def fix_ties(F, out):
    """In place: order runs of equal first objective by (second objective, row)."""
    k = out.shape[0]
    t = 0
    while t < k:
        u = t + 1
        while u < k and F[out[u], 0] == F[out[t], 0]:
            u += 1
        if u - t > 1:
            for a in range(t + 1, u):
                v = out[a]
                b = a - 1
                while b >= t and (F[out[b], 1] > F[v, 1] or (F[out[b], 1] == F[v, 1] and out[b] > v)):
                    out[b + 1] = out[b]
                    b -= 1
                out[b + 1] = v
        t = u
    return out


@nb.njit(**_JIT)
def lexorder2(F, rows):
    """Order of ``rows`` by (first objective, second objective, row index)."""
    k = rows.shape[0]
    x = np.empty(k)
    for t in range(k):
        x[t] = F[rows[t], 0]
    return fix_ties(F, rows[np.argsort(x)])


@nb.njit(**_JIT)
def nd2d_ordered(F, order, keep_dups):
    """2-D non-dominated flags of rows in lexicographic ``order`` (aligned with it)."""
    k = order.shape[0]
    out = np.zeros(k, np.bool_)
    ymin = np.inf
    lx = np.nan
    ly = np.nan
    for t in range(k):
        i = order[t]
        x = F[i, 0]
        y = F[i, 1]
        if y < ymin:
            out[t] = True
            ymin = y
            lx = x
            ly = y
        elif keep_dups and x == lx and y == ly:
            out[t] = True
    return out


@nb.njit(**_JIT)
def nd2d(F, rows, keep_dups):
    """2-D non-dominated mask over ``rows`` (aligned with ``rows``) by a lexicographic sweep."""
    k = rows.shape[0]
    out = np.zeros(k, np.bool_)
    if k == 0:
        return out
    order = lexorder2(F, rows)
    flags = nd2d_ordered(F, order, keep_dups)
    pos = np.empty(F.shape[0], np.int64)
    for t in range(k):
        pos[rows[t]] = t
    for t in range(k):
        if flags[t]:
            out[pos[order[t]]] = True
    return out


@nb.njit(**_JIT)
def inside(F, r):
    """Mask of rows strictly dominating ``r`` and the number of rows outside."""
    n, m = F.shape
    mask = np.empty(n, np.bool_)
    n_out = 0
    for i in range(n):
        ok = True
        for j in range(m):
            if not F[i, j] < r[j]:
                ok = False
                break
        mask[i] = ok
        if not ok:
            n_out += 1
    return mask, n_out


@nb.njit(**_JIT)
def prune_best2(F, rows):
    """Rows of a 2-D set not weakly dominated by its point of smallest sum (which stays)."""
    k = rows.shape[0]
    if k == 0:
        return rows
    best = rows[0]
    bs = F[best, 0] + F[best, 1]
    for t in range(1, k):
        i = rows[t]
        s = F[i, 0] + F[i, 1]
        if s < bs:
            bs = s
            best = i
    px = F[best, 0]
    py = F[best, 1]
    out = np.empty(k, np.int64)
    c = 0
    for t in range(k):
        i = rows[t]
        if i == best or F[i, 0] < px or F[i, 1] < py:
            out[c] = i
            c += 1
    return out[:c]


@nb.njit(**_JIT)
def hv2d_sweep(F, order, r0, r1):
    """2-D hypervolume of rows given in increasing first objective."""
    c = order.shape[0]
    hv = 0.0
    ymin = r1
    for t in range(c):
        i = order[t]
        if F[i, 1] < ymin:
            ymin = F[i, 1]
        nx = F[order[t + 1], 0] if t + 1 < c else r0
        hv += (nx - F[i, 0]) * (r1 - ymin)
    return hv


@nb.njit(**_JIT)
def hv2d(F, rows, r0, r1):
    """Exact 2-D hypervolume of ``rows`` (inside the reference point); (hv, rows to sort).

    When more than ``SMALL_SORT`` rows survive the pruning they are returned
    unsorted for the caller to sort with numpy and finish with ``hv2d_sweep``.
    """
    keep = prune_best2(F, rows)
    c = keep.shape[0]
    if c > SMALL_SORT:
        return 0.0, keep
    x = np.empty(c)
    for t in range(c):
        x[t] = F[keep[t], 0]
    return hv2d_sweep(F, keep[np.argsort(x)], r0, r1), keep[:0]


@nb.njit(**_JIT)
def hvc2d_ordered(F, order, r0, r1):
    """Exclusive 2-D contributions of rows in lexicographic ``order``; dominated/duplicates 0."""
    n = F.shape[0]
    out = np.zeros(n)
    k = order.shape[0]
    front = np.empty(k, np.int64)
    c = 0
    ymin = np.inf
    for t in range(k):
        i = order[t]
        y = F[i, 1]
        if y < ymin:
            front[c] = i
            c += 1
            ymin = y
        elif c > 0 and F[i, 0] == F[front[c - 1], 0] and y == F[front[c - 1], 1]:
            front[c] = i  # duplicate of the last front point: both get 0
            c += 1
    for t in range(c):
        i = front[t]
        right = F[front[t + 1], 0] if t + 1 < c else r0
        up = F[front[t - 1], 1] if t > 0 else r1
        out[i] = (right - F[i, 0]) * (up - F[i, 1])
    return out


@nb.njit(**_JIT)
def hvc2d(F, rows, r0, r1):
    """Exclusive 2-D contributions of ``rows`` (inside points)."""
    return hvc2d_ordered(F, lexorder2(F, rows), r0, r1)


@nb.njit(**_JIT)
def clip_above(F, rows, x):
    """``max(F[rows], x)`` row-wise (the limit set of WFG)."""
    k = rows.shape[0]
    m = F.shape[1]
    out = np.empty((k, m))
    for t in range(k):
        i = rows[t]
        for j in range(m):
            v = F[i, j]
            out[t, j] = v if v > x[j] else x[j]
    return out


@nb.njit(**_JIT)
def inside2(F, r0, r1):
    n = F.shape[0]
    rows = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        if F[i, 0] < r0 and F[i, 1] < r1:
            rows[k] = i
            k += 1
    return rows[:k], n - k


@nb.njit(**_JIT)
def hv2d_all(F, r0, r1):
    """Fused 2-D hypervolume of the rows inside (r0, r1): (hv, rows to sort, n_outside)."""
    rows, n_out = inside2(F, r0, r1)
    hv, left = hv2d(F, rows, r0, r1)
    return hv, left, n_out


@nb.njit(**_JIT)
def hvc2d_all(F, r0, r1):
    """Fused 2-D contributions of the rows inside (r0, r1): (contributions, rows to sort, n_outside).

    Large sets come back as rows to sort (numpy) and finish with ``hvc2d_ordered``.
    """
    rows, n_out = inside2(F, r0, r1)
    if rows.shape[0] > SMALL_SORT:
        return np.zeros(0), rows, n_out
    return hvc2d(F, rows, r0, r1), rows[:0], n_out


@nb.njit(**_JIT)
def inside_rows(F, r):
    """Rows strictly inside ``r``: (rows, n_outside)."""
    n, m = F.shape
    rows = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        ok = True
        for j in range(m):
            if not F[i, j] < r[j]:
                ok = False
                break
        if ok:
            rows[k] = i
            k += 1
    return rows[:k], n - k


@nb.njit(**_JIT)
def inside_survivors(F, r):
    """Rows inside ``r`` that no pivot dominates (a superset of the front), n_outside."""
    rows, n_out = inside_rows(F, r)
    piv, rem, _ = prune(F, rows, False, 0)  # a superset of the front is enough
    out = np.empty(piv.shape[0] + rem.shape[0], np.int64)
    out[: piv.shape[0]] = piv
    out[piv.shape[0] :] = rem
    return out, n_out


@nb.njit(**_JIT)
def take_rows(F, rows):
    """``F[rows]`` as a new C-contiguous array."""
    k = rows.shape[0]
    m = F.shape[1]
    out = np.empty((k, m))
    for t in range(k):
        for j in range(m):
            out[t, j] = F[rows[t], j]
    return out


@nb.njit(**_JIT)
def nd_mask_all(F, keep_dups):
    """Non-dominated mask of all rows; for m >= 3 large fronts, the undecided rows.

    Returns:
        (mask, cand, dupof): if ``cand`` is non-empty the caller must compute
        the mask of ``F[cand]`` (moocore), set it, then apply ``dupof``;
        otherwise ``mask`` is final (duplicates included).
    """
    n, m = F.shape
    rows = np.arange(n)
    piv, rem, dupof = prune(F, rows, keep_dups, 64 if m == 2 else 32)
    mask = np.zeros(n, np.bool_)
    if rem.shape[0] > 0:
        cand = np.empty(piv.shape[0] + rem.shape[0], np.int64)
        cand[: piv.shape[0]] = piv
        cand[piv.shape[0] :] = rem
        if m != 2 or cand.shape[0] > SMALL_SORT:
            return mask, cand, dupof
        sub = nd2d(F, cand, keep_dups)
        for t in range(cand.shape[0]):
            if sub[t]:
                mask[cand[t]] = True
    else:
        sub = pairwise_nd(F, piv)
        for t in range(piv.shape[0]):
            if sub[t]:
                mask[piv[t]] = True
    if keep_dups:
        for q in range(n):
            if dupof[q] >= 0:
                mask[q] = mask[dupof[q]]
    return mask, rows[:0], dupof


@nb.njit(**_JIT)
def hv3d(P, r0, r1, r2):
    """Exact 3-D hypervolume by a sweep over the third objective.

    Keeps the 2-D front of the points seen so far in two sorted arrays and
    updates its area per insertion: O(n log n) comparisons plus O(n^2)
    element moves in the worst case, which beats a balanced tree for the
    small sets it is used for.  ``P`` rows must be strictly inside the
    reference point.
    """
    k = P.shape[0]
    if k == 0:
        return 0.0
    order = np.argsort(P[:, 2])
    xs = np.empty(k)
    ys = np.empty(k)
    c = 0
    area = 0.0
    vol = 0.0
    zprev = P[order[0], 2]
    for t in range(k):
        i = order[t]
        x = P[i, 0]
        y = P[i, 1]
        z = P[i, 2]
        vol += area * (z - zprev)
        zprev = z
        lo = 0
        hi = c
        while lo < hi:
            mid = (lo + hi) // 2
            if xs[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        pos = lo
        if pos > 0 and ys[pos - 1] <= y:
            continue
        if pos < c and xs[pos] == x and ys[pos] <= y:
            continue
        e = pos
        while e < c and ys[e] >= y:
            e += 1
        px = x
        py = ys[pos - 1] if pos > 0 else r1
        old = 0.0
        for q in range(pos, e):
            old += (xs[q] - px) * (r1 - py)
            px = xs[q]
            py = ys[q]
        xr = xs[e] if e < c else r0
        old += (xr - px) * (r1 - py)
        old += (r0 - xr) * (r1 - y)
        area += (r0 - x) * (r1 - y) - old
        removed = e - pos
        if removed == 0:
            for q in range(c, pos, -1):
                xs[q] = xs[q - 1]
                ys[q] = ys[q - 1]
        elif removed > 1:
            shift = removed - 1
            for q in range(pos + 1, c - shift):
                xs[q] = xs[q + shift]
                ys[q] = ys[q + shift]
        xs[pos] = x
        ys[pos] = y
        c += 1 - removed
    vol += area * (r2 - zprev)
    return vol


@nb.njit(**_JIT)
def pruned_inside(F, r):
    """``F`` rows inside ``r`` minus those a pivot dominates, as a new array; n_outside."""
    rows, n_out = inside_survivors(F, r)
    return take_rows(F, rows), n_out


HV3D_MAX = 2000  # the 3-D sweep beats moocore up to about this many points


@nb.njit(**_JIT)
def hv3d_all(F, r):
    """Fused 3-D hypervolume: (hv, pruned points if too many for the sweep, n_outside)."""
    P, n_out = pruned_inside(F, r)
    if P.shape[0] > HV3D_MAX:
        return 0.0, P, n_out
    return hv3d(P, r[0], r[1], r[2]), P[:0], n_out
