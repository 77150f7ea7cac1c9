"""Brute-force oracles and hypothesis strategies shared by the kernel tests.

The oracles are deliberately naive (O(n^2) loops, inclusion-exclusion) so they
are obviously correct and independent of moopt's kernels.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def bf_dominates(a, b) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))


def bf_nd_mask(F) -> np.ndarray:
    n = len(F)
    return np.array([not any(bf_dominates(F[j], F[i]) for j in range(n) if j != i) for i in range(n)], dtype=bool)


def bf_nd_mask_first(F) -> np.ndarray:
    mask = bf_nd_mask(F)
    for i in range(len(F)):
        if mask[i] and any(np.array_equal(F[i], F[j]) for j in range(i)):
            mask[i] = False
    return mask


def bf_ranks(F) -> np.ndarray:
    n = len(F)
    ranks = np.full(n, -1)
    left = list(range(n))
    r = 0
    while left:
        front = [i for i in left if not any(bf_dominates(F[j], F[i]) for j in left)]
        for i in front:
            ranks[i] = r
        left = [i for i in left if i not in front]
        r += 1
    return ranks


def bf_hv(F, ref) -> float:
    """Inclusion-exclusion over subsets of points strictly inside ``ref`` (small n)."""
    F = np.asarray(F, dtype=float)
    ref = np.asarray(ref, dtype=float)
    F = F[(F < ref).all(axis=1)] if len(F) else F
    total = 0.0
    for k in range(1, len(F) + 1):
        for S in itertools.combinations(range(len(F)), k):
            corner = F[list(S)].max(axis=0)
            total += (-1) ** (k + 1) * float(np.prod(np.clip(ref - corner, 0, None)))
    return total


def bf_crowding(F) -> np.ndarray:
    F = np.asarray(F, dtype=float)
    n, m = F.shape
    if n <= 2:
        return np.full(n, np.inf)
    d = np.zeros(n)
    for j in range(m):
        order = np.argsort(F[:, j], kind="stable")
        lo, hi = F[order[0], j], F[order[-1], j]
        if hi == lo:
            continue
        d[order[0]] = d[order[-1]] = np.inf
        for k in range(1, n - 1):
            d[order[k]] += (F[order[k + 1], j] - F[order[k - 1], j]) / (hi - lo)
    return d


def points(min_n=1, max_n=25, min_m=1, max_m=5, lo=0, hi=6):
    """Small integer-valued point sets (many ties and duplicates), as floats."""

    @st.composite
    def _s(draw):
        n = draw(st.integers(min_n, max_n))
        m = draw(st.integers(min_m, max_m))
        a = draw(hnp.arrays(np.int64, (n, m), elements=st.integers(lo, hi)))
        return a.astype(float)

    return _s()


def real_points(min_n=1, max_n=25, min_m=2, max_m=5):
    """Continuous point sets in [0, 1)."""

    @st.composite
    def _s(draw):
        n = draw(st.integers(min_n, max_n))
        m = draw(st.integers(min_m, max_m))
        seed = draw(st.integers(0, 2**32 - 1))
        return np.random.default_rng(seed).random((n, m))

    return _s()


def directions_for(m):
    return st.lists(st.sampled_from(["min", "max"]), min_size=m, max_size=m)
