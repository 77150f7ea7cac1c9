"""Brute-force oracles and hypothesis strategies shared by the kernel tests.

The oracles are deliberately naive (O(n^2) loops, inclusion-exclusion) so they
are obviously correct and independent of moopt's kernels.  For large sets
moocore is the oracle; :func:`own_kernels_only` then keeps moopt from
dispatching to moocore, so a test never compares moocore with itself.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager

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


def bf_nd_mask_vec(F, keep_duplicates: bool = True, chunk: int = 256) -> np.ndarray:
    """O(n^2 m) non-dominated mask in plain numpy, for large sets (same result as :func:`bf_nd_mask`).

    With ``keep_duplicates=False`` only the first copy (lowest row) of a
    non-dominated point is marked.  Works in chunks of rows to bound memory.
    """
    F = np.asarray(F, dtype=float)
    n = len(F)
    mask = np.ones(n, dtype=bool)
    for s in range(0, n, chunk):
        P = F[s : s + chunk]  # the rows judged in this chunk
        le = (F[None, :, :] <= P[:, None, :]).all(axis=2)  # le[i, j]: F_j <= P_i
        lt = (F[None, :, :] < P[:, None, :]).any(axis=2)
        mask[s : s + chunk] = ~(le & lt).any(axis=1)
        if not keep_duplicates:
            eq = (F[None, :, :] == P[:, None, :]).all(axis=2)
            earlier = np.arange(n)[None, :] < np.arange(s, s + len(P))[:, None]
            mask[s : s + chunk] &= ~(eq & earlier).any(axis=1)
    return mask


class _MoocoreReached(AssertionError):
    pass


def forbid_moocore(what: str):
    """A stand-in for a moocore entry point of ``moopt._kernels`` that fails the test when called."""

    def call(*args, **kwargs):
        raise _MoocoreReached(
            f"moopt dispatched to moocore ({what}) in a test that uses moocore as the oracle: it would "
            "compare moocore with itself; force moopt's own kernel for this case"
        )

    return call


class _OracleOnlyMoocore:
    """Stands in for the ``moocore`` module inside ``moopt._kernels``: filtering by brute force, nothing else."""

    @staticmethod
    def is_nondominated(C, keep_weakly=False):
        return bf_nd_mask_vec(C, keep_weakly)

    hypervolume = staticmethod(forbid_moocore("hypervolume"))
    hv_contributions = staticmethod(forbid_moocore("hv_contributions"))
    pareto_rank = staticmethod(forbid_moocore("pareto_rank"))


def own_kernels_only(monkeypatch, *, allow_hv: bool = False) -> list:
    """Make ``moopt._kernels`` unable to reach moocore, so moocore can serve as the oracle.

    * moocore's non-dominated filter, which moopt uses to finish what its own
      pruning leaves undecided (m >= 3), is replaced by :func:`bf_nd_mask_vec`
      (brute force, independent of both);
    * moocore's hypervolume, contributions and ranking raise, unless
      ``allow_hv``: then the hypervolume stays moocore's (moopt has no own
      exact kernel for m >= 4, only the pruning in front of it) and every point
      set handed to it is recorded in the returned list, so a test can check
      that moopt's own pruning ran and what it kept;
    * hvwfg and pygmo are disabled (their paths are not moopt's own code);
    * the small-set shortcuts to moocore's C functions are switched off, so
      moopt's own sweeps run even on small sets.

    Returns:
        The list of point sets passed to moocore's hypervolume (``allow_hv``).
    """
    from moopt import _kernels

    calls: list = []
    real_hv = _kernels._moocore_hv

    def spy_hv(P, ref):
        calls.append(np.array(P, copy=True))
        return real_hv(P, ref)

    monkeypatch.setattr(_kernels, "_moocore_nd", lambda C, keep_weakly: bf_nd_mask_vec(C, keep_weakly))
    monkeypatch.setattr(_kernels, "_moocore", lambda: _OracleOnlyMoocore)
    monkeypatch.setattr(_kernels, "_moocore_hv", spy_hv if allow_hv else forbid_moocore("hypervolume"))
    monkeypatch.setattr(_kernels, "_moocore_hvc", forbid_moocore("hv_contributions"))
    monkeypatch.setattr(_kernels, "_moocore_rank", forbid_moocore("pareto_rank"))
    monkeypatch.setitem(_kernels._OPTIONAL, "hvwfg", False)
    monkeypatch.setitem(_kernels._OPTIONAL, "pygmo", False)
    monkeypatch.setattr(_kernels, "_SMALL_2D", 0)
    return calls


def sphere(n: int, m: int, rng) -> np.ndarray:
    """``n`` points on the positive unit sphere: every one is non-dominated."""
    F = np.abs(rng.normal(size=(n, m)))
    return F / np.linalg.norm(F, axis=1, keepdims=True)


@contextmanager
def own_small_kernels():
    """Inside the block, small sets take moopt's own kernels instead of moocore's C shortcuts.

    A context manager rather than a fixture, so that hypothesis tests can use it.
    """
    from moopt import _kernels

    saved = _kernels._SMALL_2D, _kernels._SMALL_ND, _kernels._SMALL_HV
    _kernels._SMALL_2D = _kernels._SMALL_ND = _kernels._SMALL_HV = 0
    try:
        yield
    finally:
        _kernels._SMALL_2D, _kernels._SMALL_ND, _kernels._SMALL_HV = saved
