"""Constrained test problems: BNH, SRN, TNK, OSY and C1-DTLZ1.

Constraint values use pymoo's formulation *and scaling* (``g <= 0`` feasible;
BNH and OSY constraints divided by their constants, TNK's ``g2`` doubled), so
values match ``pymoo.problems.get_problem`` one to one (the tests check it).

==========  ===========================================  =====================
problem     true front                                   max hypervolume
==========  ===========================================  =====================
BNH         two analytic curve pieces (Deb 2001)         analytic (quadrature)
SRN         line ``f2 = -f1 - 0.25``, x = (-2.5, x2)     analytic
TNK         wavy boundary of g1 inside g2 (filtered)     sampled (10^6 points)
OSY         five analytic segments (Deb 2001, filtered)  sampled (10^6 points)
C1-DTLZ1    DTLZ1's simplex (the constraint cuts far)    analytic
==========  ===========================================  =====================

Example:
    >>> from moopt.problems.constrained import BNH
    >>> F, G = BNH().evaluate_batch([[1.0, 1.0]])
    >>> F.tolist()
    [[8.0, 32.0]]
"""

from __future__ import annotations

import math

import numpy as np

from .base import BenchmarkProblem, curve_select, hv2d_curve, nondominated
from .dtlz import DTLZ1


class _Sampled2D(BenchmarkProblem):
    """A 2-objective problem whose front comes from a dense, filtered sample."""

    hv_sample_size = 1_000_000
    _dense_cache: dict = {}

    def _dense_front(self, N: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _dense(self, N: int) -> np.ndarray:
        key = (type(self).__name__, N)
        if key not in _Sampled2D._dense_cache:
            P = nondominated(self._dense_front(N))
            _Sampled2D._dense_cache[key] = P[np.argsort(P[:, 0])]
        return _Sampled2D._dense_cache[key]

    def _front(self, n):
        N = 200_000 if n <= 20_000 else max(self.hv_sample_size, 4 * n)
        return curve_select(self._dense(N), n)

    def _hv_points(self, n):
        return self._dense(n)

    def _extremes(self):
        P = self._dense(200_000)
        return P.min(axis=0), P.max(axis=0)


class BNH(BenchmarkProblem):
    """Binh and Korn: 2 variables, 2 objectives, 2 constraints."""

    def __init__(self):
        super().__init__(2, 2, [0.0, 0.0], [5.0, 3.0], n_constr=2, name="bnh")

    def _batch(self, X):
        x1, x2 = X[:, 0], X[:, 1]
        F = np.column_stack([4 * x1**2 + 4 * x2**2, (x1 - 5) ** 2 + (x2 - 5) ** 2])
        G = np.column_stack([((x1 - 5) ** 2 + x2**2 - 25) / 25.0,
                             -((x1 - 8) ** 2 + (x2 + 3) ** 2 - 7.7) / 7.7])
        return F, G

    # Pareto set: x1 = x2 in [0, 3], then x2 = 3, x1 in [3, 5]
    @staticmethod
    def _h1(f1):
        return 2.0 * (np.sqrt(f1 / 8.0) - 5.0) ** 2

    @staticmethod
    def _h2(f1):
        return (np.sqrt((f1 - 36.0) / 4.0) - 5.0) ** 2 + 4.0

    def _front(self, n):
        n1 = max(2, int(round(n * 72.0 / 136.0)))
        a = np.linspace(0.0, 72.0, n1)
        b = np.linspace(72.0, 136.0, n - n1 + 1)[1:]
        return np.concatenate([np.column_stack([a, self._h1(a)]), np.column_stack([b, self._h2(b)])])

    def _extremes(self):
        return np.array([0.0, 4.0]), np.array([136.0, 50.0])

    def _analytic_hypervolume(self, ref):
        return hv2d_curve([(0.0, 72.0, lambda t: float(self._h1(t))),
                           (72.0, 136.0, lambda t: float(self._h2(t)))], ref)


_SRN_X2_MAX = math.sqrt(225.0 - 2.5**2)  # g1 boundary at x1 = -2.5


class SRN(BenchmarkProblem):
    """Srinivas and Deb: 2 variables in ``[-20, 20]``, 2 objectives, 2 constraints."""

    def __init__(self):
        super().__init__(2, 2, -20.0, 20.0, n_constr=2, name="srn")

    def _batch(self, X):
        x1, x2 = X[:, 0], X[:, 1]
        F = np.column_stack([2 + (x1 - 2) ** 2 + (x2 - 1) ** 2, 9 * x1 - (x2 - 1) ** 2])
        G = np.column_stack([x1**2 + x2**2 - 225.0, x1 - 3 * x2 + 10.0])
        return F, G

    # Pareto set: x1 = -2.5, x2 in [2.5, sqrt(218.75)]  ->  f2 = -f1 - 0.25
    _f1_lo = 22.25 + 1.5**2
    _f1_hi = 22.25 + (_SRN_X2_MAX - 1.0) ** 2

    def _front(self, n):
        f1 = np.linspace(self._f1_lo, self._f1_hi, n)
        return np.column_stack([f1, -f1 - 0.25])

    def _extremes(self):
        return (np.array([self._f1_lo, -self._f1_hi - 0.25]),
                np.array([self._f1_hi, -self._f1_lo - 0.25]))

    def _analytic_hypervolume(self, ref):
        return hv2d_curve([(self._f1_lo, self._f1_hi, lambda t: -t - 0.25)], ref)


class TNK(_Sampled2D):
    """Tanaka: 2 variables in ``(0, pi]``, ``f = x``, a wavy constraint ``g1`` and a disc ``g2``."""

    def __init__(self):
        super().__init__(2, 2, [0.0, 1e-30], [math.pi, math.pi], n_constr=2, name="tnk")

    def _batch(self, X):
        x1, x2 = X[:, 0], X[:, 1]
        with np.errstate(divide="ignore"):
            ang = np.arctan(x1 / x2)
        g1 = -(x1**2 + x2**2 - 1.0 - 0.1 * np.cos(16.0 * ang))
        g2 = 2.0 * ((x1 - 0.5) ** 2 + (x2 - 0.5) ** 2) - 1.0
        return X.copy(), np.column_stack([g1, g2])

    def _dense_front(self, N):
        # boundary of g1: x = r (sin a, cos a), r^2 = 1 + 0.1 cos(16 a); keep it inside g2
        a = np.linspace(0.0, math.pi / 2, N)
        r = np.sqrt(1.0 + 0.1 * np.cos(16.0 * a))
        P = np.column_stack([r * np.sin(a), r * np.cos(a)])
        P = P[2.0 * ((P[:, 0] - 0.5) ** 2 + (P[:, 1] - 0.5) ** 2) - 1.0 <= 0.0]
        return P


class OSY(_Sampled2D):
    """Osyczka and Kundu: 6 variables, 2 objectives, 6 constraints."""

    def __init__(self):
        super().__init__(6, 2, [0.0, 0.0, 1.0, 0.0, 1.0, 0.0], [10.0, 10.0, 5.0, 6.0, 5.0, 10.0],
                         n_constr=6, name="osy")

    def _batch(self, X):
        x1, x2, x3, x4, x5, x6 = X.T
        f1 = -(25 * (x1 - 2) ** 2 + (x2 - 2) ** 2 + (x3 - 1) ** 2 + (x4 - 4) ** 2 + (x5 - 1) ** 2)
        f2 = np.sum(X**2, axis=1)
        G = -np.column_stack([
            (x1 + x2 - 2.0) / 2.0,
            (6.0 - x1 - x2) / 6.0,
            (2.0 - x2 + x1) / 2.0,
            (2.0 - x1 + 3.0 * x2) / 2.0,
            (4.0 - (x3 - 3.0) ** 2 - x4) / 4.0,
            ((x5 - 3.0) ** 2 + x6 - 4.0) / 4.0,
        ])
        return np.column_stack([f1, f2]), G

    def pareto_set_segments(self, N: int) -> np.ndarray:
        """Dense samples of Deb's five Pareto-optimal segments (plus margins), shape ``(5N, 6)``."""
        t = np.linspace(0.0, 1.0, N)
        z, o = np.zeros(N), np.ones(N)
        segs = [
            np.column_stack([5 * o, o, 1 + 4 * t, z, 5 * o, z]),              # AB
            np.column_stack([5 * o, o, 1 + 4 * t, z, o, z]),                  # BC
            np.column_stack([4 + t, (2 + t) / 3, o, z, o, z]),                # CD: x2 = (x1 - 2) / 3
            np.column_stack([z, 2 * o, 1 + 3 * t, z, o, z]),                  # DE
            np.column_stack([t, 2 - t, o, z, o, z]),                          # EF: x2 = 2 - x1
        ]
        return np.vstack(segs)

    def _dense_front(self, N):
        X = self.pareto_set_segments(N // 5 + 1)
        F, G = self._batch(X)
        return F[np.all(G <= 1e-12, axis=1)]


class C1DTLZ1(DTLZ1):
    """C1-DTLZ1 (Jain and Deb, 2014): DTLZ1 with ``1 - f_m/0.6 - sum_{i<m} f_i/0.5 >= 0``.

    The constraint leaves DTLZ1's front feasible and cuts the region beyond it,
    so front, reference point and maximum hypervolume are DTLZ1's.  Default
    ``n_var = m + 4`` (``k = 5``, as DTLZ1; pymoo's default is 12).
    """

    _family = "c1dtlz1"
    _n_constr = 1

    def _batch(self, X):
        F = self._objectives(X)
        G = -(1.0 - F[:, -1] / 0.6 - np.sum(F[:, :-1] / 0.5, axis=1))
        return F, G[:, None]
