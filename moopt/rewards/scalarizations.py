"""Scalarizations: weighted sum, (augmented) Chebyshev, MnasNet soft constraint.

* :class:`WeightedSum` [``weighted_sum``]: ``R = -sum_i w_i n_i``.
* :class:`Chebyshev` [``chebyshev``]:
  ``R = -(max_i w_i (n_i - z_i) + rho * sum_i w_i (n_i - z_i))``.
* :class:`SoftConstraint` [``mnas``] (MnasNet):
  ``R = accuracy * (latency / target) ** w``, ``w = alpha`` if ``latency <= target`` else ``beta``.

``n_i`` are the normalized minimized objective values
(:mod:`moopt.rewards.normalize`), so the weighted sum and Chebyshev handle any
direction; MnasNet needs a maximized accuracy and a minimized latency.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence, Union

import numpy as np

from ._checks import finite, number, reference_point
from .base import Bounds, Failure, Reward

Objectives = Union[None, str, Sequence[str]]


def _weights(names: Sequence[str], weights: Optional[Mapping[str, float]]) -> np.ndarray:
    if weights is None:
        return np.full(len(names), 1.0 / len(names))
    unknown = [n for n in weights if n not in names]
    if unknown:
        raise ValueError(f"weights given for {unknown}, which are not among the objectives {list(names)}.")
    w = np.array([finite(f"weights[{n!r}]", weights.get(n, 0.0)) for n in names])
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError(f"weights must be >= 0 and not all zero, got {dict(zip(names, w.tolist()))}.")
    return w


class _Weighted(Reward):
    """Objectives and weights of the weighted-sum and Chebyshev rewards."""

    naming_example = "weights={'acc': 0.5, 'energy_mj': 0.5}"

    def __init__(self, objectives: Objectives, *, weights: Optional[Mapping[str, float]],
                 bounds: Bounds, failure: Failure, directions: Optional[Mapping[str, str]]):
        if objectives is None:
            objectives = list(weights) if weights else None
        if objectives is None:
            raise ValueError(f"{self.kind} reward: pass objectives=[...] or weights={{name: w}}.")
        if isinstance(objectives, str):
            objectives = [objectives]
        super().__init__(list(objectives), failure=failure, directions=directions, bounds=bounds)
        self.weights = _weights(self.names, weights)

    def _weight_params(self) -> dict:
        return {"objectives": list(self.names), "weights": dict(zip(self.names, self.weights.tolist()))}


class WeightedSum(_Weighted):
    """Weighted sum of normalized minimized objectives, ``R = -sum_i w_i n_i``.

    Direction-aware: maximized objectives are negated before normalization.
    Floor: ``-sum(w)``.

    Args:
        objectives: Objective names (default: the names in ``weights``).
        weights: ``{name: w >= 0}``, not all zero; names left out weigh 0.
            Default: ``1/k`` each.
        bounds: Optional fixed normalization bounds per objective.
        failure: Reward of failed children.
        directions: ``{name: "min"/"max"}`` when not bound to a problem.

    Example:
        >>> r = WeightedSum(weights={"acc": 1.0, "e": 1.0}, directions={"acc": "max", "e": "min"},
        ...                 bounds={"acc": (0, 1), "e": (0, 10)})
        >>> r({"acc": 0.5, "e": 5.0})
        -1.0
    """

    kind = "weighted_sum"

    def __init__(self, objectives: Objectives = None, *, weights: Optional[Mapping[str, float]] = None,
                 bounds: Bounds = None, failure: Failure = "min",
                 directions: Optional[Mapping[str, str]] = None):
        super().__init__(objectives, weights=weights, bounds=bounds, failure=failure, directions=directions)

    @property
    def floor(self) -> float:
        return -float(self.weights.sum())

    def _compute(self, F, signs):
        return -(self.normalized(F, signs) @ self.weights)

    def _params(self):
        return self._weight_params()


class Chebyshev(_Weighted):
    """(Augmented) Chebyshev ``R = -(max_i w_i (n_i - z_i) + rho * sum_i w_i (n_i - z_i))``.

    ``n`` are the normalized minimized values; ``z`` is the reference (ideal)
    point given in the objectives' own units and normalized the same way, or 0
    (the best values seen, or the best bounds) when not given.  ``rho > 0``
    gives the augmented form, which breaks ties towards Pareto-optimal points.
    Floor: ``-(1 + rho) * sum(w)``.

    Args:
        objectives: Objective names (default: the names in ``weights``).
        weights: ``{name: w >= 0}``, not all zero; default ``1/k`` each.
        ref: Optional ideal point ``{name: value}`` in own units, one value
            per objective.
        rho: Augmentation weight, ``>= 0`` (0 = plain Chebyshev).
        bounds: Optional fixed normalization bounds per objective.
        failure: Reward of failed children.
        directions: ``{name: "min"/"max"}`` when not bound to a problem.

    Example:
        >>> r = Chebyshev(weights={"acc": 0.5, "e": 0.5}, directions={"acc": "max", "e": "min"},
        ...               bounds={"acc": (0, 1), "e": (0, 10)}, ref={"acc": 1.0, "e": 0.0})
        >>> r({"acc": 0.8, "e": 6.0})
        -0.3
    """

    kind = "chebyshev"

    def __init__(self, objectives: Objectives = None, *, weights: Optional[Mapping[str, float]] = None,
                 ref: Optional[Mapping[str, float]] = None, rho: float = 0.0, bounds: Bounds = None,
                 failure: Failure = "min", directions: Optional[Mapping[str, str]] = None):
        super().__init__(objectives, weights=weights, bounds=bounds, failure=failure, directions=directions)
        self.rho = number("rho", rho, low=0.0, hint="0 = plain Chebyshev")
        self.ref = None if ref is None else reference_point(ref, self.names)

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
        return {**self._weight_params(), "ref": self.ref, "rho": self.rho}


class SoftConstraint(Reward):
    """MnasNet's soft latency constraint ``R = accuracy * (latency / target) ** w``.

    ``w = alpha`` when ``latency <= target`` and ``w = beta`` otherwise
    (MnasNet: ``alpha = beta = -0.07`` soft; ``alpha = 0, beta = -1`` hard).
    Latency is used raw (not normalized) and must be ``> 0``.  Floor: 0.

    Args:
        target: Latency target (``> 0``), in the latency objective's unit.
        accuracy: Name of the (maximized) accuracy objective.
        latency: Name of the (minimized) latency objective.
        alpha: Exponent at or under the target.
        beta: Exponent over the target.
        failure: Reward of failed children.
        directions: Optional ``{name: "min"/"max"}`` (normally taken by ``bind``).

    Example:
        >>> r = SoftConstraint(10.0, accuracy="acc", latency="latency_ms", alpha=0.0, beta=-1.0)
        >>> r({"acc": 0.8, "latency_ms": 5.0}), r({"acc": 0.8, "latency_ms": 20.0})
        (0.8, 0.4)
    """

    kind = "mnas"
    required = {"accuracy": "max", "latency": "min"}
    naming_example = "accuracy='acc', latency='latency_ms'"
    has_constraint = True

    def __init__(self, target: float, *, accuracy: str = "accuracy", latency: str = "latency_ms",
                 alpha: float = -0.07, beta: float = -0.07, failure: Failure = "min",
                 directions: Optional[Mapping[str, str]] = None):
        self.target = number("target", target, low=0.0, low_open=True,
                             hint="a latency target in the objective's unit")
        self.alpha = finite("alpha", alpha)
        self.beta = finite("beta", beta)
        self.accuracy, self.latency = accuracy, latency
        super().__init__([accuracy, latency], failure=failure, directions=directions)

    @property
    def normalizes(self) -> list[str]:
        return []  # accuracy and latency are used raw

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
