"""The ZDT bi-objective test problems (Zitzler, Deb and Thiele, 2000): ZDT1-4 and ZDT6.

Definitions and default sizes follow pymoo (``pymoo.problems.multi.zdt``); the
tests cross-check every objective value against pymoo.  Canonical reference
points are ``nadir + 0.1 * (nadir - ideal)`` of the true front (``(1.1, 1.1)``
for ZDT1, 2 and 4) and the maximum hypervolumes are analytic (adaptive
quadrature of the front curve, exact to ~1e-12).

Example:
    >>> from moopt.problems.zdt import ZDT1
    >>> p = ZDT1()
    >>> F, G = p.evaluate_batch([[0.25] + [0.0] * 29])
    >>> F.tolist(), G
    ([[0.25, 0.5]], None)
"""

from __future__ import annotations

import functools

import numpy as np

from .base import MAX_N_VAR, BenchmarkProblem, check_int, hv2d_curve, record_intervals


def _split_counts(lengths, n: int) -> list[int]:
    """Split ``n`` points over pieces proportionally to ``lengths`` (>= 2 each when possible)."""
    lengths = np.asarray(lengths, dtype=float)
    raw = lengths / lengths.sum() * n
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts))[: n - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


class _ZDT(BenchmarkProblem):
    default_n_var = 30

    def __init__(self, n_var: int | None = None, *, name: str):
        n_var = self.default_n_var if n_var is None else check_int(
            name, "n_var", n_var, low=2, high=MAX_N_VAR, what="number of variables",
            example=f"{name}:n_var={self.default_n_var}")
        xl, xu = self._bounds(n_var)
        super().__init__(n_var, 2, xl, xu, name=name)

    def _bounds(self, n_var):
        return 0.0, 1.0

    # f2 = h(f1) on the Pareto front, for f1 in [a, b]
    _pieces_ab: tuple = ((0.0, 1.0),)

    @staticmethod
    def _h(f1):  # pragma: no cover - overridden
        raise NotImplementedError

    def _pieces(self):
        return self._pieces_ab

    def _front(self, n: int) -> np.ndarray:
        pieces = self._pieces()
        counts = _split_counts([b - a for a, b in pieces], n)
        # a later piece's start ties in f2 with the previous piece's end (weakly dominated): skip it
        f1 = np.concatenate([np.linspace(a, b, c) if i == 0 else np.linspace(a, b, c + 1)[1:]
                             for i, ((a, b), c) in enumerate(zip(pieces, counts)) if c > 0])
        return np.column_stack([f1, self._h(f1)])

    def _extremes(self):
        pieces = self._pieces()
        P = self._front(4000)
        lo, hi = P.min(axis=0), P.max(axis=0)
        lo[0], hi[0] = pieces[0][0], pieces[-1][1]
        return lo, hi

    def _analytic_hypervolume(self, ref):
        h = lambda t: float(self._h(np.array([t]))[0])  # noqa: E731
        return hv2d_curve([(a, b, h) for a, b in self._pieces()], ref)


class ZDT1(_ZDT):
    """ZDT1: convex front ``f2 = 1 - sqrt(f1)``; 30 variables in ``[0, 1]``."""

    def __init__(self, n_var: int | None = None):
        super().__init__(n_var, name="zdt1")

    def _batch(self, X):
        f1 = X[:, 0]
        g = 1.0 + 9.0 / (self.n_var - 1) * X[:, 1:].sum(axis=1)
        f2 = g * (1.0 - np.sqrt(f1 / g))
        return np.column_stack([f1, f2]), None

    @staticmethod
    def _h(f1):
        return 1.0 - np.sqrt(f1)


class ZDT2(_ZDT):
    """ZDT2: concave front ``f2 = 1 - f1**2``; 30 variables in ``[0, 1]``."""

    def __init__(self, n_var: int | None = None):
        super().__init__(n_var, name="zdt2")

    def _batch(self, X):
        f1 = X[:, 0]
        g = 1.0 + 9.0 / (self.n_var - 1) * X[:, 1:].sum(axis=1)
        f2 = g * (1.0 - (f1 / g) ** 2)
        return np.column_stack([f1, f2]), None

    @staticmethod
    def _h(f1):
        return 1.0 - f1**2


@functools.lru_cache(maxsize=None)
def _zdt3_pieces() -> tuple:
    # non-dominated pieces of f2 = 1 - sqrt(f1) - f1 sin(10 pi f1), f1 in [0, 1]
    return tuple(record_intervals(ZDT3._h, 0.0, 1.0))


class ZDT3(_ZDT):
    """ZDT3: disconnected front (five pieces of ``1 - sqrt(f1) - f1 sin(10 pi f1)``)."""

    def __init__(self, n_var: int | None = None):
        super().__init__(n_var, name="zdt3")

    def _batch(self, X):
        f1 = X[:, 0]
        g = 1.0 + 9.0 / (self.n_var - 1) * X[:, 1:].sum(axis=1)
        r = f1 / g
        f2 = g * (1.0 - np.sqrt(r) - r * np.sin(10.0 * np.pi * f1))
        return np.column_stack([f1, f2]), None

    @staticmethod
    def _h(f1):
        return 1.0 - np.sqrt(f1) - f1 * np.sin(10.0 * np.pi * f1)

    def _pieces(self):
        return _zdt3_pieces()


class ZDT4(_ZDT):
    """ZDT4: ZDT1's front behind 21^9 local fronts; x0 in ``[0, 1]``, the rest in ``[-5, 5]``."""

    default_n_var = 10

    def __init__(self, n_var: int | None = None):
        super().__init__(n_var, name="zdt4")

    def _bounds(self, n_var):
        xl = np.full(n_var, -5.0)
        xu = np.full(n_var, 5.0)
        xl[0], xu[0] = 0.0, 1.0
        return xl, xu

    def _batch(self, X):
        f1 = X[:, 0]
        Y = X[:, 1:]
        g = 1.0 + 10.0 * (self.n_var - 1) + np.sum(Y**2 - 10.0 * np.cos(4.0 * np.pi * Y), axis=1)
        f2 = g * (1.0 - np.sqrt(f1 / g))
        return np.column_stack([f1, f2]), None

    @staticmethod
    def _h(f1):
        return 1.0 - np.sqrt(f1)


_ZDT6_F1_MIN = None


def _zdt6_f1_min() -> float:
    """Smallest f1 = 1 - exp(-4 x) sin^6(6 pi x) on [0, 1] (about 0.2807753191)."""
    global _ZDT6_F1_MIN
    if _ZDT6_F1_MIN is None:
        from scipy.optimize import minimize_scalar

        f = lambda x: 1.0 - np.exp(-4.0 * x) * np.sin(6.0 * np.pi * x) ** 6  # noqa: E731
        x = np.linspace(0, 1, 100001)
        i = int(np.argmin(f(x)))
        r = minimize_scalar(f, bounds=(x[max(i - 1, 0)], x[min(i + 1, len(x) - 1)]),
                            method="bounded", options={"xatol": 1e-14})
        _ZDT6_F1_MIN = float(r.fun)
    return _ZDT6_F1_MIN


class ZDT6(_ZDT):
    """ZDT6: non-uniform concave front ``f2 = 1 - f1**2``, f1 in ``[0.28078, 1]``; 10 variables."""

    default_n_var = 10

    def __init__(self, n_var: int | None = None):
        super().__init__(n_var, name="zdt6")

    def _batch(self, X):
        x0 = X[:, 0]
        f1 = 1.0 - np.exp(-4.0 * x0) * np.sin(6.0 * np.pi * x0) ** 6
        g = 1.0 + 9.0 * (X[:, 1:].sum(axis=1) / (self.n_var - 1.0)) ** 0.25
        f2 = g * (1.0 - (f1 / g) ** 2)
        return np.column_stack([f1, f2]), None

    @staticmethod
    def _h(f1):
        return 1.0 - f1**2

    def _pieces(self):
        return ((_zdt6_f1_min(), 1.0),)
