"""Scalarizations: weighted sum, (augmented) Chebyshev, MnasNet soft constraint."""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from .base import Failure, Reward, _finite


def _weights(names: Sequence[str], weights: Optional[Mapping[str, float]]) -> np.ndarray:
    if weights is None:
        return np.full(len(names), 1.0 / len(names))
    unknown = [n for n in weights if n not in names]
    if unknown:
        raise ValueError(f"weights given for {unknown}, which are not among the objectives {list(names)}.")
    w = np.array([_finite(f"weights[{n!r}]", weights.get(n, 0.0)) for n in names])
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError(f"weights must be >= 0 and not all zero, got {dict(zip(names, w.tolist()))}.")
    return w


class _Weighted(Reward):
    """Shared code of the weighted-sum and Chebyshev rewards."""

    def __init__(self, objectives, *, weights=None, bounds=None, failure="min", directions=None):
        if objectives is None:
            objectives = list(weights) if weights else None
        if objectives is None:
            raise ValueError(f"{self.kind} reward: pass objectives=[...] or weights={{name: w}}.")
        if isinstance(objectives, str):
            objectives = [objectives]
        super().__init__(list(objectives), failure=failure, directions=directions, bounds=bounds)
        self.weights = _weights(self.names, weights)

    def _example_option(self):
        return "weights={'acc': 0.5, 'energy_mj': 0.5}"


class WeightedSum(_Weighted):
    """Weighted sum of normalized minimized objectives, ``R = -sum_i w_i n_i``.

    Direction-aware: maximized objectives are negated before normalization.
    Weights default to ``1/k``.  Floor: ``-sum(w)``.

    Example:
        >>> r = WeightedSum(weights={"acc": 1.0, "e": 1.0}, directions={"acc": "max", "e": "min"},
        ...                 bounds={"acc": (0, 1), "e": (0, 10)})
        >>> r({"acc": 0.5, "e": 5.0})
        -1.0
    """

    kind = "weighted_sum"

    def __init__(self, objectives=None, *, weights=None, bounds=None, failure="min", directions=None):
        super().__init__(objectives, weights=weights, bounds=bounds, failure=failure, directions=directions)

    @property
    def floor(self) -> float:
        return -float(self.weights.sum())

    def _compute(self, F, signs):
        return -(self.normalized(F, signs) @ self.weights)

    def _params(self):
        return {"objectives": list(self.names), "weights": dict(zip(self.names, self.weights.tolist()))}


class Chebyshev(_Weighted):
    """(Augmented) Chebyshev scalarization with a reference point.

    ``R = -(max_i w_i (n_i - z_i) + rho * sum_i w_i (n_i - z_i))`` on the
    normalized minimized values ``n``; ``z`` is the reference (ideal) point
    given in the objectives' own units and normalized the same way, or 0 (the
    best values seen, or the best bounds) when not given.  ``rho > 0`` gives
    the augmented form, which breaks ties towards Pareto-optimal points.
    Floor: ``-(1 + rho) * sum(w)``.

    Example:
        >>> r = Chebyshev(weights={"acc": 0.5, "e": 0.5}, directions={"acc": "max", "e": "min"},
        ...               bounds={"acc": (0, 1), "e": (0, 10)}, ref={"acc": 1.0, "e": 0.0})
        >>> r({"acc": 0.8, "e": 6.0})
        -0.3
    """

    kind = "chebyshev"

    def __init__(self, objectives=None, *, weights=None, ref=None, rho: float = 0.0,
                 bounds=None, failure="min", directions=None):
        super().__init__(objectives, weights=weights, bounds=bounds, failure=failure, directions=directions)
        self.rho = _finite("rho", rho)
        if self.rho < 0:
            raise ValueError(f"rho must be >= 0 (0 = plain Chebyshev), got {self.rho}.")
        self.ref = None
        if ref is not None:
            unknown = [n for n in ref if n not in self.names]
            missing = [n for n in self.names if n not in ref]
            if unknown or missing:
                raise ValueError(
                    f"ref must give a value for each objective {self.names}; unknown {unknown}, missing {missing}."
                )
            self.ref = {n: _finite(f"ref[{n!r}]", ref[n]) for n in self.names}

    @property
    def floor(self) -> float:
        return -(1.0 + self.rho) * float(self.weights.sum())

    def _compute(self, F, signs):
        N = self.normalized(F, signs)
        if self.ref is None:
            z = np.zeros(len(self.names))
        else:
            z = self.normalized(np.array([[self.ref[n] for n in self.names]]), signs)[0]
        D = (N - z) * self.weights
        return -(D.max(axis=1) + self.rho * D.sum(axis=1))

    def _params(self):
        return {"objectives": list(self.names), "weights": dict(zip(self.names, self.weights.tolist())),
                "ref": self.ref, "rho": self.rho}


class SoftConstraint(Reward):
    """MnasNet's soft latency constraint ``R = accuracy * (latency / target) ** w``.

    ``w = alpha`` when ``latency <= target`` and ``w = beta`` otherwise
    (MnasNet: ``alpha = beta = -0.07`` soft; ``alpha = 0, beta = -1`` hard).

    Example:
        >>> r = SoftConstraint(10.0, accuracy="acc", latency="latency_ms", alpha=0.0, beta=-1.0)
        >>> r({"acc": 0.8, "latency_ms": 5.0}), r({"acc": 0.8, "latency_ms": 20.0})
        (0.8, 0.4)
    """

    kind = "mnas"
    required = {"accuracy": "max", "latency": "min"}
    has_constraint = True

    def __init__(self, target: float, *, accuracy: str = "accuracy", latency: str = "latency_ms",
                 alpha: float = -0.07, beta: float = -0.07, failure: Failure = "min", directions=None):
        self.target = _finite("target", target)
        if self.target <= 0:
            raise ValueError(f"target must be > 0 (a latency target in the objective's unit), got {self.target}.")
        self.alpha = _finite("alpha", alpha)
        self.beta = _finite("beta", beta)
        self.accuracy, self.latency = accuracy, latency
        super().__init__([accuracy, latency], failure=failure, directions=directions)

    def _roles(self):
        return {"accuracy": self.accuracy, "latency": self.latency}

    def _example_option(self):
        return "accuracy='acc', latency='latency_ms'"

    def _compute(self, F, signs):
        lat = F[:, 1]
        if np.any(lat <= 0):
            raise ValueError(f"mnas reward: {self.latency} must be > 0, got {lat[lat <= 0][0]}.")
        w = np.where(lat <= self.target, self.alpha, self.beta)
        return F[:, 0] * (lat / self.target) ** w

    def satisfied(self, values):
        return bool(float(values[self.latency]) <= self.target)

    def _params(self):
        return {"target": self.target, "accuracy": self.accuracy, "latency": self.latency,
                "alpha": self.alpha, "beta": self.beta}
