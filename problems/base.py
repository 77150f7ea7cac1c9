"""Shared machinery of the benchmark problems: the problem class and front helpers.

A :class:`BenchmarkProblem` is a :class:`moopt.Problem` with real variables
``x0..x{n-1}``, minimized objectives ``f1..fm``, constraints ``g1..`` (feasible
when ``<= 0``), a vectorized ``evaluate_batch(X) -> (F, G)``, and the metadata a
benchmark needs: a sample of the true Pareto front of a requested size, a
canonical reference point and the maximum hypervolume for that reference.

Reference points follow one rule for every problem: ``ref = nadir + 0.1 *
(nadir - ideal)`` of the true Pareto front (``1.1 * nadir`` when the ideal point
is the origin, e.g. ``(1.1, 1.1)`` for ZDT1).

Example:
    >>> from moopt.problems import get_problem
    >>> p = get_problem("zdt1")
    >>> round(p.max_hypervolume, 6), p.max_hypervolume_source
    (0.876667, 'analytic')
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Optional, Sequence

import numpy as np

from moopt.errors import ConfigError
from moopt.indicators import hypervolume
from moopt.pareto import is_nondominated
from moopt.problem import Constraint, Objective, Problem
from moopt.space import Real

# ---------------------------------------------------------------------------
# parameter validation (problem specs come from users: "dtlz4:m=3,alpha=100")
# ---------------------------------------------------------------------------

#: the largest sizes a problem spec may ask for (beyond them a problem only exhausts memory)
MAX_N_VAR = 10_000
MAX_N_OBJ = 100


def check_int(problem: str, name: str, value: Any, *, low: int, high: int, example: str,
              what: str = "") -> int:
    """``value`` as an int in ``[low, high]``, or a :class:`~moopt.errors.ConfigError` naming it.

    Integral floats (``3.0``) are accepted; booleans, strings and ``2.5`` are not.  The message
    names the problem, the parameter, the value, the allowed range and an example spec.

    Example:
        >>> check_int("dtlz2", "m", 3, low=2, high=100, example="dtlz2:m=3")
        3
    """
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok and isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = float(value)
        ok = math.isfinite(v) and v == int(v)
    if ok and low <= int(value) <= high:
        return int(value)
    about = f" ({what})" if what else ""
    raise ConfigError(f"{problem}: {name}{about} must be an integer from {low} to {high}, got {value!r}; "
                      f"e.g. '{example}'.")


def check_number(problem: str, name: str, value: Any, *, low: float, low_open: bool = False,
                 high: float = math.inf, example: str, what: str = "") -> float:
    """``value`` as a finite float ``>= low`` (``> low`` with ``low_open``) and ``<= high``.

    Raises:
        ConfigError: not a number, not finite, or out of range (the message names parameter,
            value, range and an example spec).
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and v <= high
    if ok:
        return float(value)
    rng = f"{'>' if low_open else '>='} {low:g}" + (f" and <= {high:g}" if math.isfinite(high) else "")
    about = f" ({what})" if what else ""
    raise ConfigError(f"{problem}: {name}{about} must be a finite number {rng}, got {value!r}; "
                      f"e.g. '{example}'.")


class BenchmarkProblem(Problem):
    """A vectorized test problem with its true Pareto front.

    Subclasses implement :meth:`_batch` (``X`` of shape ``(n, n_var)``
    -> ``(F, G)``), :meth:`_front` (a front sample of about ``n`` points) and may
    override :meth:`_analytic_hypervolume`.

    Args:
        n_var: Number of real variables.
        n_obj: Number of objectives.
        xl: Lower bounds, scalar or shape ``(n_var,)``.
        xu: Upper bounds, scalar or shape ``(n_var,)``.
        n_constr: Number of inequality constraints ``g <= 0``.
        name: Registry-style name (``"dtlz2:m=5"``).
    """

    #: how many points the numerical hypervolume fallback samples on the front
    hv_sample_size: int = 20000

    def __init__(self, n_var: int, n_obj: int, xl, xu, *, n_constr: int = 0, name: str):
        family = name.split(":")[0]
        n_var = check_int(family, "n_var", n_var, low=1, high=MAX_N_VAR, example=f"{family}:n_var=10")
        n_obj = check_int(family, "n_obj", n_obj, low=2, high=MAX_N_OBJ, example=f"{family}:m=3")
        self.n_var = n_var
        self.xl = np.broadcast_to(np.asarray(xl, dtype=float), (self.n_var,)).copy()
        self.xu = np.broadcast_to(np.asarray(xu, dtype=float), (self.n_var,)).copy()
        variables = [Real(f"x{i}", float(lo), float(hi)) for i, (lo, hi) in enumerate(zip(self.xl, self.xu))]
        objectives = [Objective(f"f{j + 1}") for j in range(int(n_obj))]
        constraints = [Constraint(f"g{k + 1}") for k in range(int(n_constr))]
        super().__init__(variables, objectives, constraints=constraints,
                         evaluate_batch=self._checked_batch, name=name)
        self._ref: Optional[np.ndarray] = None
        self._max_hv: Optional[float] = None
        self._max_hv_source: Optional[str] = None

    # -- evaluation --------------------------------------------------------
    def _checked_batch(self, X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.ndim != 2 or X.shape[1] != self.n_var:
            raise ValueError(f"{self.name}: X must have shape (n, {self.n_var}), got {X.shape}.")
        F, G = self._batch(X)
        return F, G

    def _batch(self, X: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def front_exact(self) -> bool:
        """False where :meth:`pareto_front` is a nominal front, not the exact one."""
        return True

    @property
    def n_constr(self) -> int:
        return len(self.constraints)

    # -- true front --------------------------------------------------------
    def _front(self, n: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def pareto_front(self, n: int = 100) -> np.ndarray:
        """A sample of ``n`` points of the true Pareto front (minimized objectives).

        Args:
            n: Number of points (``>= 2``).

        Returns:
            Array of shape ``(n, n_obj)``; every row is mutually non-dominated.

        Example:
            >>> from moopt.problems import get_problem
            >>> get_problem("zdt1").pareto_front(5).shape
            (5, 2)
        """
        if int(n) != n or n < 2:
            raise ValueError(f"pareto_front: n must be an integer >= 2, got {n!r}.")
        P = np.asarray(self._front(int(n)), dtype=float)
        if P.shape[0] != n:
            P = select_spread(P, int(n))
        return P

    def _extremes(self) -> tuple[np.ndarray, np.ndarray]:
        P = self._front(2000)
        return P.min(axis=0), P.max(axis=0)

    @property
    def ideal_point(self) -> np.ndarray:
        """Ideal point of the true front, shape ``(n_obj,)``."""
        return self._extremes()[0]

    @property
    def nadir_point(self) -> np.ndarray:
        """Nadir point of the true front, shape ``(n_obj,)``."""
        return self._extremes()[1]

    @property
    def ref_point(self) -> np.ndarray:
        """Canonical reference point ``nadir + 0.1 * (nadir - ideal)``, shape ``(n_obj,)``."""
        if self._ref is None:
            ideal, nadir = self._extremes()
            self._ref = np.round(nadir + 0.1 * (nadir - ideal), 12)
        return self._ref.copy()

    def _analytic_hypervolume(self, ref: np.ndarray) -> Optional[float]:
        return None

    def _hv_points(self, n: int) -> np.ndarray:
        """The dense front sample behind a sampled maximum hypervolume (about ``n`` points)."""
        return self._front(n)

    @property
    def max_hypervolume(self) -> float:
        """Hypervolume of the true front for :attr:`ref_point`.

        Analytic (closed form or adaptive quadrature) where the front allows it,
        otherwise computed from a dense front sample of :attr:`hv_sample_size`
        points (see :attr:`max_hypervolume_source`).
        """
        if self._max_hv is None:
            ref = self.ref_point
            hv = self._analytic_hypervolume(ref)
            if hv is not None:
                self._max_hv, self._max_hv_source = float(hv), "analytic"
            else:
                n = self.hv_sample_size
                self._max_hv = hypervolume(self._hv_points(n), ref)
                self._max_hv_source = f"sampled:{n}"
        return self._max_hv

    @property
    def max_hypervolume_source(self) -> str:
        """``"analytic"`` or ``"sampled:<n>"`` (how :attr:`max_hypervolume` was obtained)."""
        _ = self.max_hypervolume  # computing it records how
        assert self._max_hv_source is not None
        return self._max_hv_source

    def describe(self) -> dict:
        """JSON metadata for reports: name, sizes, reference point, maximum hypervolume."""
        return {
            "name": self.name,
            "n_var": self.n_var,
            "n_obj": self.n_obj,
            "n_constr": self.n_constr,
            "ref_point": self.ref_point.tolist(),
            "max_hypervolume": self.max_hypervolume,
            "max_hypervolume_source": self.max_hypervolume_source,
            "front_exact": bool(self.front_exact),
        }


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def nondominated(P: np.ndarray) -> np.ndarray:
    """Rows of ``P`` (minimized) not dominated by any other row (duplicates kept once)."""
    P = np.unique(np.asarray(P, dtype=float), axis=0)
    return P[is_nondominated(P)]


def select_spread(P: np.ndarray, n: int) -> np.ndarray:
    """Choose ``n`` well-spread rows of ``P`` deterministically (greedy farthest point).

    Starts from the extreme rows (best in each objective) and repeatedly adds the
    row farthest from those chosen, in objectives normalized to ``[0, 1]``.

    Args:
        P: Candidate points, shape ``(N, m)`` with ``N >= n``.
        n: How many to keep.

    Returns:
        Array of shape ``(n, m)``, rows in ``P``'s order.
    """
    P = np.asarray(P, dtype=float)
    N = P.shape[0]
    if N < n:
        raise ValueError(f"select_spread: only {N} points to choose {n} from.")
    if N == n:
        return P
    span = np.ptp(P, axis=0)
    Q = (P - P.min(axis=0)) / np.where(span > 0, span, 1.0)
    chosen = []
    for j in range(P.shape[1]):
        i = int(np.argmin(Q[:, j]))
        if i not in chosen:
            chosen.append(i)
    chosen = chosen[:n]
    d = np.full(N, np.inf)
    for i in chosen:
        d = np.minimum(d, np.sum((Q - Q[i]) ** 2, axis=1))
    while len(chosen) < n:
        i = int(np.argmax(d))
        chosen.append(i)
        d = np.minimum(d, np.sum((Q - Q[i]) ** 2, axis=1))
    return P[np.sort(chosen)]


def das_dennis(n_obj: int, n: int) -> np.ndarray:
    """Points of the unit simplex (rows sum to 1): ``n`` of them, evenly spread.

    Builds the smallest Das-Dennis lattice with at least ``n`` points and keeps
    ``n`` of them with :func:`select_spread`.

    Returns:
        Array of shape ``(n, n_obj)``.
    """
    p = 1
    while math.comb(p + n_obj - 1, n_obj - 1) < n:
        p += 1
    pts = _lattice(n_obj, p)
    return select_spread(pts, n) if len(pts) > n else pts


def _lattice(m: int, p: int) -> np.ndarray:
    """All compositions of ``p`` into ``m`` non-negative parts, divided by ``p``."""
    if m == 1:
        return np.array([[1.0]])
    out = []

    def rec(prefix, left, k):
        if k == 1:
            out.append(prefix + [left])
            return
        for v in range(left, -1, -1):
            rec(prefix + [v], left - v, k - 1)

    rec([], p, m)
    return np.array(out, dtype=float) / p


def hv2d_curve(pieces: Sequence[tuple[float, float, Callable[[float], float]]], ref) -> float:
    """Exact 2-D hypervolume of a front made of decreasing curve pieces (adaptive quadrature).

    Args:
        pieces: ``(a, b, h)`` with ``f2 = h(f1)`` decreasing on ``[a, b]``; the
            pieces sorted by ``a`` and mutually non-dominated (a later piece lies
            below the end of the earlier ones).
        ref: Reference point ``(r1, r2)`` weakly dominated by every front point.

    Returns:
        The area dominated by the front inside the box bounded by ``ref``.
    """
    from scipy.integrate import quad

    r1, r2 = float(ref[0]), float(ref[1])
    total = 0.0
    for i, (a, b, h) in enumerate(pieces):
        val, _ = quad(lambda t, h=h: r2 - h(t), a, b, limit=200, epsabs=1e-13, epsrel=1e-12)
        total += val
        nxt = pieces[i + 1][0] if i + 1 < len(pieces) else r1
        total += (nxt - b) * (r2 - h(b))  # gap (or tail) below the piece's end
    return total


def record_intervals(phi: Callable[[np.ndarray], np.ndarray], lo: float, hi: float,
                     n_grid: int = 200001) -> list[tuple[float, float]]:
    """Intervals of ``t`` in ``[lo, hi]`` where ``phi(t) < phi(s)`` for every ``s < t``.

    These are the non-dominated ``t`` of the bi-objective trade-off
    ``(t, phi(t))`` (both minimized), e.g. the disconnected pieces of ZDT3 and
    DTLZ7.  Found on a dense grid, endpoints refined with root finding.
    """
    from scipy.optimize import brentq, minimize_scalar

    t = np.linspace(lo, hi, n_grid)
    v = phi(t)
    run = np.minimum.accumulate(v)
    rec = v <= run  # a new running minimum
    rec[0] = True
    edges = np.flatnonzero(np.diff(rec.astype(int)))
    starts = [0] + [e + 1 for e in edges if not rec[e]]
    ends = [e for e in edges if rec[e]] + ([n_grid - 1] if rec[-1] else [])
    step = t[1] - t[0]
    out = []
    prev_min = None
    for s, e in zip(starts, ends):
        a = t[s]
        if prev_min is not None:  # phi crosses below the previous piece's end value
            a = brentq(lambda x, m=prev_min: float(phi(np.array([x]))[0]) - m, t[s - 1], t[s], xtol=1e-14)
        if e == n_grid - 1:
            b = t[e]
        else:  # a local minimum of phi ends the piece
            r = minimize_scalar(lambda x: float(phi(np.array([x]))[0]),
                                bounds=(t[e] - step, t[e] + step), method="bounded",
                                options={"xatol": 1e-13})
            b = float(r.x)
        prev_min = float(phi(np.array([b]))[0])
        out.append((float(a), float(b)))
    return out


def curve_select(P: np.ndarray, n: int) -> np.ndarray:
    """Choose ``n`` rows of a dense 2-D front sample, evenly spaced by arc length.

    Args:
        P: Dense mutually non-dominated points, shape ``(N, 2)`` with ``N >= n``.
        n: How many to keep.

    Returns:
        Array of shape ``(n, 2)`` sorted by the first objective; jumps between
        disconnected pieces add no length, so no points are wasted on gaps.
    """
    P = np.asarray(P, dtype=float)
    P = P[np.argsort(P[:, 0], kind="stable")]
    if len(P) < n:
        raise ValueError(f"curve_select: only {len(P)} points to choose {n} from.")
    span = np.ptp(P, axis=0)
    Q = P / np.where(span > 0, span, 1.0)
    step = np.hypot(*np.diff(Q, axis=0).T)
    typical = np.median(step) if len(step) else 0.0
    step[step > 50 * max(typical, 1e-12)] = 0.0  # a gap between pieces
    s = np.concatenate([[0.0], np.cumsum(step)])
    idx = np.unique(np.clip(np.searchsorted(s, np.linspace(0.0, s[-1], n)), 0, len(P) - 1))
    if len(idx) < n:  # top up with the points farthest (in index) from those chosen
        rest = np.setdiff1d(np.arange(len(P)), idx)
        extra = rest[np.argsort(-np.min(np.abs(rest[:, None] - idx[None, :]), axis=1), kind="stable")]
        idx = np.sort(np.concatenate([idx, extra[: n - len(idx)]]))
    return P[idx]
