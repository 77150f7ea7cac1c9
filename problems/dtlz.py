"""The DTLZ scalable test problems (Deb, Thiele, Laumanns and Zitzler, 2002): DTLZ1-7.

Any number of objectives ``m >= 2``.  ``n_var = m + k - 1`` with the usual
``k`` (5 for DTLZ1, 10 for DTLZ2-6, 20 for DTLZ7) unless ``n_var`` or ``k`` is
given.  Objective formulas follow pymoo (``pymoo.problems.many.dtlz``), which
the tests cross-check against.

Fronts, reference points (``1.1 * nadir`` for fronts whose ideal point is the
origin) and maximum hypervolumes:

==========  =======================  ====================================================
problem     true front               max hypervolume
==========  =======================  ====================================================
DTLZ1       simplex ``sum f = 0.5``  analytic ``r^m - 0.5^m / m!``
DTLZ2-4     unit sphere octant       analytic ``r^m - V_m / 2^m`` (``V_m`` unit-ball volume)
DTLZ5-6     a curve (m <= 3; nominal  analytic for m = 2, 3 (quadrature); sampled for m >= 4
            for m >= 4, see below)
DTLZ7       2^(m-1) disjoint pieces  analytic (separable; quadrature of the running max of phi)
==========  =======================  ====================================================

Example:
    >>> from moopt.problems.dtlz import DTLZ2
    >>> p = DTLZ2(n_obj=3)
    >>> p.n_var, p.ref_point.tolist()
    (12, [1.1, 1.1, 1.1])
"""

from __future__ import annotations

import functools
import math

import numpy as np

from moopt.errors import ConfigError

from .base import (
    MAX_N_OBJ,
    MAX_N_VAR,
    BenchmarkProblem,
    check_int,
    check_number,
    das_dennis,
    hv2d_curve,
    record_intervals,
)


class _DTLZ(BenchmarkProblem):
    default_k = 10

    def __init__(self, n_obj: int = 3, n_var: int | None = None, k: int | None = None, *, name: str):
        n_obj = check_int(name, "m", n_obj, low=2, high=MAX_N_OBJ, what="number of objectives, n_obj",
                          example=f"{name}:m=3")
        if k is not None:
            k = check_int(name, "k", k, low=1, high=MAX_N_VAR - n_obj + 1, what="distance variables, n_var - m + 1",
                          example=f"{name}:m={n_obj},k={self.default_k}")
        if n_var is not None:
            n_var = check_int(name, "n_var", n_var, low=n_obj, high=MAX_N_VAR,
                              what=f"number of variables, at least m = {n_obj}",
                              example=f"{name}:m={n_obj},n_var={n_obj + self.default_k - 1}")
        if n_var is not None and k is not None and n_var != n_obj + k - 1:
            raise ConfigError(f"{name}: n_var={n_var} and k={k} disagree (n_var = m + k - 1 = {n_obj + k - 1}); "
                              f"give one of them, e.g. '{name}:m={n_obj},k={k}'.")
        if n_var is None:
            n_var = n_obj + (self.default_k if k is None else k) - 1
        self.k = n_var - n_obj + 1
        spec = f"{name}:m={n_obj}" if n_var == n_obj + self.default_k - 1 else f"{name}:m={n_obj},n_var={n_var}"
        super().__init__(n_var, n_obj, 0.0, 1.0, n_constr=self._n_constr, name=spec)
        if n_obj >= 4:
            self.hv_sample_size = 6000

    _n_constr = 0

    # -- pieces shared by the family ----------------------------------------
    def _g_rastrigin(self, XM):
        return 100.0 * (self.k + np.sum((XM - 0.5) ** 2 - np.cos(20.0 * np.pi * (XM - 0.5)), axis=1))

    @staticmethod
    def _g_sphere(XM):
        return np.sum((XM - 0.5) ** 2, axis=1)

    def _sphere(self, theta, g):
        """Objectives on the sphere of radius ``1 + g``; ``theta`` in ``[0, pi/2]``, shape ``(n, m-1)``."""
        m = self.n_obj
        c, s = np.cos(theta), np.sin(theta)
        F = np.empty((theta.shape[0], m))
        for i in range(m):
            f = (1.0 + g) * np.prod(c[:, : m - 1 - i], axis=1)
            if i > 0:
                f = f * s[:, m - 1 - i]
            F[:, i] = f
        return F

    def _sphere_front(self, n):
        W = das_dennis(self.n_obj, n)
        return W / np.linalg.norm(W, axis=1, keepdims=True)

    def _sphere_hv(self, ref):
        m = self.n_obj
        r = float(ref[0])
        ball = math.pi ** (m / 2) / math.gamma(m / 2 + 1)
        return r**m - ball / 2**m

    def _extremes(self):
        P = self._front(max(2 * self.n_obj, 200))
        return P.min(axis=0), P.max(axis=0)


class DTLZ1(_DTLZ):
    """DTLZ1: linear front ``sum f = 0.5`` behind 11^k - 1 local fronts."""

    default_k = 5

    def __init__(self, n_obj: int = 3, n_var: int | None = None, k: int | None = None):
        super().__init__(n_obj, n_var, k, name=self._family)

    _family = "dtlz1"

    def _objectives(self, X):
        m = self.n_obj
        X_, XM = X[:, : m - 1], X[:, m - 1:]
        g = self._g_rastrigin(XM)
        F = np.empty((X.shape[0], m))
        for i in range(m):
            f = 0.5 * (1.0 + g) * np.prod(X_[:, : m - 1 - i], axis=1)
            if i > 0:
                f = f * (1.0 - X_[:, m - 1 - i])
            F[:, i] = f
        return F

    def _batch(self, X):
        return self._objectives(X), None

    def _front(self, n):
        return 0.5 * das_dennis(self.n_obj, n)

    def _analytic_hypervolume(self, ref):
        m = self.n_obj
        return float(np.prod(ref)) - 0.5**m / math.factorial(m)


class DTLZ2(_DTLZ):
    """DTLZ2: spherical front ``sum f^2 = 1``."""

    def __init__(self, n_obj: int = 3, n_var: int | None = None, k: int | None = None):
        super().__init__(n_obj, n_var, k, name="dtlz2")

    def _batch(self, X):
        m = self.n_obj
        g = self._g_sphere(X[:, m - 1:])
        return self._sphere(X[:, : m - 1] * (np.pi / 2), g), None

    def _front(self, n):
        return self._sphere_front(n)

    def _analytic_hypervolume(self, ref):
        return self._sphere_hv(ref)


class DTLZ3(_DTLZ):
    """DTLZ3: DTLZ2's sphere behind 3^k - 1 local fronts (DTLZ1's g)."""

    def __init__(self, n_obj: int = 3, n_var: int | None = None, k: int | None = None):
        super().__init__(n_obj, n_var, k, name="dtlz3")

    def _batch(self, X):
        m = self.n_obj
        g = self._g_rastrigin(X[:, m - 1:])
        return self._sphere(X[:, : m - 1] * (np.pi / 2), g), None

    def _front(self, n):
        return self._sphere_front(n)

    def _analytic_hypervolume(self, ref):
        return self._sphere_hv(ref)


class DTLZ4(_DTLZ):
    """DTLZ4: DTLZ2 with biased density (``theta = x^alpha pi/2``, alpha = 100)."""

    def __init__(self, n_obj: int = 3, n_var: int | None = None, k: int | None = None, alpha: float = 100.0):
        self.alpha = check_number("dtlz4", "alpha", alpha, low=0.0, low_open=True,
                                  what="the density bias of theta = x^alpha pi/2; 100 is usual",
                                  example="dtlz4:m=3,alpha=100")
        super().__init__(n_obj, n_var, k, name="dtlz4")
        if self.alpha != 100.0:  # the name is itself a spec: keep a non-default alpha in it
            self.name = f"{self.name},alpha={self.alpha:g}"

    def _batch(self, X):
        m = self.n_obj
        g = self._g_sphere(X[:, m - 1:])
        return self._sphere(X[:, : m - 1] ** self.alpha * (np.pi / 2), g), None

    def _front(self, n):
        return self._sphere_front(n)

    def _analytic_hypervolume(self, ref):
        return self._sphere_hv(ref)


class _Degenerate(_DTLZ):
    """DTLZ5/6: the front is the curve theta_1 in [0, pi/2], theta_2.. = pi/4.

    For ``m >= 4`` that curve is the *nominal* front only: points with
    ``g > 0`` exist that no curve point dominates (Huband et al., 2006; the
    tests show it), so :attr:`front_exact` is False there and IGD+/HV figures
    against :meth:`pareto_front` are relative to the curve.
    """

    @property
    def front_exact(self) -> bool:
        return self.n_obj <= 3

    def _theta(self, X, g):
        m = self.n_obj
        X_ = X[:, : m - 1]
        theta = (np.pi / (4.0 * (1.0 + g[:, None]))) * (1.0 + 2.0 * g[:, None] * X_)
        theta[:, 0] = X_[:, 0] * (np.pi / 2)
        return theta

    def _curve(self, t):
        theta = np.full((len(t), self.n_obj - 1), np.pi / 4)
        theta[:, 0] = t
        return self._sphere(theta, np.zeros(len(t)))

    def _front(self, n):
        return self._curve(np.linspace(0.0, np.pi / 2, n))

    def _analytic_hypervolume(self, ref):
        if self.n_obj == 2:  # quarter circle f2 = sqrt(1 - f1^2)
            return hv2d_curve([(0.0, 1.0, lambda t: math.sqrt(max(0.0, 1.0 - t * t)))], ref)
        if self.n_obj == 3:
            # front: f1 = f2 = cos(t)/sqrt(2), f3 = sin(t).  y is dominated iff the 2-D curve
            # (cos t/sqrt 2, sin t) dominates (min(y1, y2), y3); min(y1, y2) = u has measure
            # density 2 (r1 - u) on [0, r1]^2, and the dominated y3 length is r3 - sqrt(1 - 2u^2).
            from scipy.integrate import quad

            r1, r3 = float(ref[0]), float(ref[2])
            h = lambda u: math.sqrt(max(0.0, 1.0 - 2.0 * u * u))  # noqa: E731
            knot = 1.0 / math.sqrt(2.0)
            f = lambda u: 2.0 * (r1 - u) * (r3 - h(u))  # noqa: E731
            a, _ = quad(f, 0.0, knot, epsabs=1e-13, epsrel=1e-12, limit=200)
            b, _ = quad(f, knot, r1, epsabs=1e-13, epsrel=1e-12, limit=200)
            return a + b
        return None


class DTLZ5(_Degenerate):
    """DTLZ5: degenerate (curve) front on the unit sphere."""

    def __init__(self, n_obj: int = 3, n_var: int | None = None, k: int | None = None):
        super().__init__(n_obj, n_var, k, name="dtlz5")

    def _batch(self, X):
        g = self._g_sphere(X[:, self.n_obj - 1:])
        return self._sphere(self._theta(X, g), g), None


class DTLZ6(_Degenerate):
    """DTLZ6: DTLZ5's curve with the harder ``g = sum x^0.1``."""

    def __init__(self, n_obj: int = 3, n_var: int | None = None, k: int | None = None):
        super().__init__(n_obj, n_var, k, name="dtlz6")

    def _batch(self, X):
        g = np.sum(X[:, self.n_obj - 1:] ** 0.1, axis=1)
        return self._sphere(self._theta(X, g), g), None


def _dtlz7_phi(t):
    return t * (1.0 + np.sin(3.0 * np.pi * t))


@functools.lru_cache(maxsize=None)
def _dtlz7_intervals() -> tuple:
    # non-dominated t of the trade-off (t, -phi(t)): maximize phi while minimizing t
    return tuple(record_intervals(lambda t: -_dtlz7_phi(t), 0.0, 1.0))


class DTLZ7(_DTLZ):
    """DTLZ7: 2^(m-1) disconnected front pieces; ``f_m = 2m - sum_i f_i (1 + sin(3 pi f_i))``."""

    default_k = 20

    def __init__(self, n_obj: int = 3, n_var: int | None = None, k: int | None = None):
        super().__init__(n_obj, n_var, k, name="dtlz7")

    def _batch(self, X):
        m = self.n_obj
        F = np.empty((X.shape[0], m))
        F[:, : m - 1] = X[:, : m - 1]
        g = 1.0 + 9.0 / self.k * np.sum(X[:, m - 1:], axis=1)
        h = m - np.sum(F[:, : m - 1] / (1.0 + g[:, None]) * (1.0 + np.sin(3.0 * np.pi * F[:, : m - 1])), axis=1)
        F[:, m - 1] = (1.0 + g) * h
        return F, None

    def _grid(self, s: int) -> np.ndarray:
        """``s`` values of one coordinate spread over its non-dominated intervals (ends included)."""
        iv = _dtlz7_intervals()
        lengths = np.array([b - a for a, b in iv])
        counts = np.maximum(2, np.round(lengths / lengths.sum() * s).astype(int))
        # a later interval's start ties with the previous end (weakly dominated): leave it out
        return np.concatenate([np.linspace(a, b, c) if i == 0 else np.linspace(a, b, c + 1)[1:]
                               for i, ((a, b), c) in enumerate(zip(iv, counts))])

    def _front(self, n):
        m = self.n_obj
        s = max(4, int(math.ceil(n ** (1.0 / (m - 1)))))
        while True:
            t = self._grid(s)
            if len(t) ** (m - 1) >= n:
                break
            s += 1
        mesh = np.stack(np.meshgrid(*([t] * (m - 1)), indexing="ij"), axis=-1).reshape(-1, m - 1)
        fm = 2.0 * m - np.sum(_dtlz7_phi(mesh), axis=1)
        return np.column_stack([mesh, fm])

    def _extremes(self):
        iv = _dtlz7_intervals()
        m = self.n_obj
        phi_max = float(_dtlz7_phi(np.array([iv[-1][1]]))[0])
        ideal = np.zeros(m)
        nadir = np.full(m, iv[-1][1])
        ideal[-1] = 2.0 * m - (m - 1) * phi_max
        nadir[-1] = 2.0 * m
        return ideal, nadir

    def _analytic_hypervolume(self, ref):
        # The lowest f_m over front points weakly better than y in the first m-1 objectives is
        # 2m - sum_i Phi(y_i), Phi(t) = max_{s <= t} phi(s) (separable), and r_m > 2m, so
        # HV = r^(m-1) (r_m - 2m) + (m-1) r^(m-2) * integral_0^r Phi(t) dt   (r = r_1 = ... = r_{m-1}).
        from scipy.integrate import quad

        m = self.n_obj
        r, rm = float(ref[0]), float(ref[-1])
        (a1, b1), (a2, b2) = _dtlz7_intervals()
        phi = lambda t: t * (1.0 + math.sin(3.0 * math.pi * t))  # noqa: E731
        integral = (quad(phi, a1, b1, epsabs=1e-14, epsrel=1e-13)[0] + (a2 - b1) * phi(b1)
                    + quad(phi, a2, b2, epsabs=1e-14, epsrel=1e-13)[0] + (r - b2) * phi(b2))
        return r ** (m - 1) * (rm - 2.0 * m) + (m - 1) * r ** (m - 2) * integral
