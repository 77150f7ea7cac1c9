"""Rewards: scalarize a named objective vector into one number to maximize.

A reward turns the objective values of one evaluated candidate (a mapping
``name -> value`` in each objective's own direction) into a float that a
policy-gradient search (:class:`moopt.search.reinforce.ReinforceSearch`)
maximizes.  Every reward has the same call signature::

    reward(values: Mapping[str, float]) -> float

plus :meth:`Reward.batch` (a batch of children judged together),
:meth:`Reward.config` (JSON, rebuilt by :func:`reward_from_config`) and
:meth:`Reward.state_dict` for the rewards that keep state.

Rewards (``kind`` in brackets, the name used by :func:`parse_reward`):

* :class:`MixedReward` [``mixed``] -- MONAS: ``alpha * accuracy - (1 - alpha) * energy_n``.
* :class:`PowerConstraintReward` [``power``] -- MONAS: ``accuracy if power <= budget else 0``.
* :class:`AccuracyConstraintReward` [``accuracy``] -- MONAS:
  ``1 - energy_n if accuracy >= threshold else 0``.
* :class:`WeightedSum` [``weighted_sum``] -- ``-sum_i w_i n_i``.
* :class:`Chebyshev` [``chebyshev``] -- ``-(max_i w_i (n_i - z_i) + rho * sum_i w_i (n_i - z_i))``.
* :class:`SoftConstraint` [``mnas``] -- MnasNet: ``accuracy * (latency / target) ** w``,
  ``w = alpha`` when ``latency <= target`` else ``beta``.
* :class:`HypervolumeImprovement` [``hvi``] -- the hypervolume the candidate adds to
  the Pareto archive of everything rewarded so far (needs no weights).

Normalization (``energy_n``, ``n_i`` above).  Each objective is first turned
into a *minimized* value ``v = f`` (``min``) or ``v = -f`` (``max``), then mapped
linearly with ``n = (v - lo) / (hi - lo)`` where

* ``bounds={"energy_mj": (low, high)}`` fixes ``lo``/``hi`` (given in the
  objective's own units and direction; ``n`` is *not* clipped, so values outside
  the bounds give ``n < 0`` or ``n > 1``), or
* without bounds, ``lo``/``hi`` are the running minimum/maximum of the values
  rewarded so far, *including* the batch being rewarded (so ``n`` is in
  ``[0, 1]``); ``n = 0`` while ``hi == lo``.  The running bounds are part of
  :meth:`Reward.state_dict` and therefore of a search's checkpoint.

Failed evaluations.  :meth:`Reward.failure_reward` gives the reward of a
failed (or pruned, or constraint-violating) child: ``failure="min"`` (the
default) is the minimum reward given so far, or the reward's documented floor
(:attr:`Reward.floor`: 0 for the constraint rewards, MnasNet and HVI,
``-(1 - alpha)`` for the mixed reward, ``-sum(w)`` for the weighted sum and
``-(1 + rho) * sum(w)`` for Chebyshev) before any success; a float gives that
fixed value.

Example:
    >>> from moopt.rewards import MixedReward, parse_reward
    >>> r = MixedReward(0.5, accuracy="acc", energy="energy_mj", bounds={"energy_mj": (0, 10)})
    >>> r({"acc": 0.9, "energy_mj": 5.0})
    0.2
    >>> parse_reward("power:budget=2.5,accuracy=acc,power=power_w")({"acc": 0.8, "power_w": 3})
    0.0
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping, Optional, Sequence, Union

import numpy as np

from ..archive import ParetoArchive
from ..indicators import hv_improvement

__all__ = [
    "Reward",
    "MixedReward",
    "PowerConstraintReward",
    "AccuracyConstraintReward",
    "WeightedSum",
    "Chebyshev",
    "SoftConstraint",
    "HypervolumeImprovement",
    "reward_from_config",
    "parse_reward",
    "available_rewards",
]

Failure = Union[float, str]


def _finite(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}.")
    return v


def _check_direction(name: str, direction: Any) -> str:
    if direction not in ("min", "max"):
        raise ValueError(f"direction of objective {name!r} is {direction!r}; use 'min' or 'max'.")
    return direction


def _problem_directions(problem) -> dict[str, str]:
    """Known names -> direction of a Problem (constraints count as ``min``)."""
    out = {o.name: o.direction for o in problem.objectives}
    out.update({c.name: "min" for c in getattr(problem, "constraints", ())})
    return out


class _Normalizer:
    """Linear normalization of minimized values, fixed bounds or running min/max."""

    def __init__(self, names: Sequence[str], bounds: Optional[Mapping[str, Sequence[float]]]):
        self.names = list(names)
        bounds = dict(bounds or {})
        unknown = [n for n in bounds if n not in self.names]
        if unknown:
            raise ValueError(
                f"bounds given for {unknown}, which this reward does not use; it uses {self.names}."
            )
        self.fixed: dict[str, tuple[float, float]] = {}
        for n, b in bounds.items():
            try:
                lo, hi = (float(x) for x in b)
            except (TypeError, ValueError):
                raise ValueError(f"bounds[{n!r}] must be a pair (low, high), got {b!r}.") from None
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
                raise ValueError(f"bounds[{n!r}] must be finite with low < high, got ({lo}, {hi}).")
            self.fixed[n] = (lo, hi)
        k = len(self.names)
        self.lo = np.full(k, np.inf)
        self.hi = np.full(k, -np.inf)

    def fixed_minimized(self, signs: np.ndarray):
        """Fixed (lo, hi) of the minimized values, NaN where running."""
        lo = np.full(len(self.names), np.nan)
        hi = np.full(len(self.names), np.nan)
        for j, n in enumerate(self.names):
            if n in self.fixed:
                a, b = self.fixed[n][0] * signs[j], self.fixed[n][1] * signs[j]
                lo[j], hi[j] = min(a, b), max(a, b)
        return lo, hi

    def observe(self, V: np.ndarray) -> None:
        if V.size:
            self.lo = np.minimum(self.lo, V.min(axis=0))
            self.hi = np.maximum(self.hi, V.max(axis=0))

    def bounds(self, signs: np.ndarray):
        flo, fhi = self.fixed_minimized(signs)
        lo = np.where(np.isnan(flo), self.lo, flo)
        hi = np.where(np.isnan(fhi), self.hi, fhi)
        return lo, hi

    def __call__(self, V: np.ndarray, signs: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds(signs)
        span = hi - lo
        ok = np.isfinite(span) & (span > 0)
        safe_span = np.where(ok, span, 1.0)
        safe_lo = np.where(np.isfinite(lo), lo, 0.0)
        return np.where(ok, (V - safe_lo) / safe_span, 0.0)

    def state_dict(self) -> dict:
        return {"lo": self.lo.copy(), "hi": self.hi.copy()}

    def load_state_dict(self, state: Mapping) -> None:
        self.lo = np.array(state["lo"], dtype=float).reshape(len(self.names))
        self.hi = np.array(state["hi"], dtype=float).reshape(len(self.names))


class Reward:
    """Base class: a scalar to maximize from named objective values.

    Subclasses set :attr:`kind`, :attr:`names` (the objective names used, in
    order), optionally :attr:`required` (name -> direction the formula
    assumes) and implement :meth:`_compute` on the raw values ``(n, k)``.

    Args:
        failure: Reward of a failed child: ``"min"`` (minimum reward given so
            far, or :attr:`floor` before any) or a float.
        directions: Objective name -> ``"min"``/``"max"`` for rewards that need
            it (weighted sum, Chebyshev, HVI) when not bound to a problem.
    """

    kind: ClassVar[str] = "reward"
    required: ClassVar[dict] = {}
    #: True when :meth:`satisfied` reports a constraint (power, accuracy, MnasNet target).
    has_constraint: ClassVar[bool] = False
    #: False when the reward of a fixed candidate shrinks as the search goes on
    #: (hypervolume improvement); ReinforceSearch then defaults to a fast
    #: baseline and normalized advantages.
    stationary: ClassVar[bool] = True

    def __init__(self, names: Sequence[str], *, failure: Failure = "min",
                 directions: Optional[Mapping[str, str]] = None,
                 bounds: Optional[Mapping[str, Sequence[float]]] = None):
        self.names = [self._check_name(n) for n in names]
        dup = {n for n in self.names if self.names.count(n) > 1}
        if dup:
            raise ValueError(f"{self.kind} reward: an objective is used twice: {sorted(dup)}.")
        if isinstance(failure, str):
            if failure != "min":
                raise ValueError(f"failure must be 'min' or a number, got {failure!r}.")
            self.failure = "min"
        else:
            self.failure = _finite("failure", failure)
        self.directions: dict[str, str] = {}
        for n, d in (directions or {}).items():
            self.directions[n] = _check_direction(n, d)
        self._norm = _Normalizer(self.names, bounds)
        self.min_seen = math.inf
        self.n_seen = 0

    @staticmethod
    def _check_name(n) -> str:
        if not isinstance(n, str) or not n:
            raise ValueError(f"objective names must be non-empty strings, got {n!r}.")
        return n

    # -- directions ------------------------------------------------------------
    @property
    def floor(self) -> float:
        """Documented lower reference of the reward (failure reward before any success)."""
        return 0.0

    def bind(self, problem) -> "Reward":
        """Check the names against ``problem`` and take its directions; returns ``self``.

        Raises:
            ValueError: a name the problem does not have (the message lists the
                known ones), or a direction the formula cannot use.
        """
        known = _problem_directions(problem)
        self._check_known(known)
        for n in self.names:
            self.directions[n] = known[n]
        self._check_required()
        return self

    def _check_known(self, known: Mapping[str, str]) -> None:
        unknown = [n for n in self.names if n not in known]
        if unknown:
            raise ValueError(
                f"{self.kind} reward uses unknown objective {unknown[0]!r}; the known objectives "
                f"are {sorted(known)}. Name them with the reward's options, e.g. "
                f"{self._example_option()}."
            )

    def _example_option(self) -> str:
        return "accuracy='acc'"

    def _check_required(self) -> None:
        for role, n in self._roles().items():
            want = self.required.get(role)
            have = self.directions.get(n)
            if want is not None and have is not None and have != want:
                raise ValueError(
                    f"{self.kind} reward: objective {n!r} (used as {role}) is '{have}'imized but the "
                    f"formula needs a '{want}' objective; use weighted_sum, chebyshev or hvi, which "
                    "handle any direction."
                )

    def _roles(self) -> dict[str, str]:
        return {}

    def _signs(self) -> np.ndarray:
        out = np.empty(len(self.names))
        for j, n in enumerate(self.names):
            d = self.directions.get(n)
            if d is None:
                role = {v: k for k, v in self._roles().items()}.get(n)
                d = self.required.get(role) if role else None
            if d is None:
                raise ValueError(
                    f"{self.kind} reward does not know the direction of {n!r}; call "
                    f"reward.bind(problem) or pass directions={{'{n}': 'min'}}."
                )
            out[j] = 1.0 if d == "min" else -1.0
        return out

    # -- evaluation ------------------------------------------------------------
    def _extract(self, values: Mapping[str, float]) -> np.ndarray:
        row = np.empty(len(self.names))
        for j, n in enumerate(self.names):
            if n not in values:
                raise ValueError(
                    f"{self.kind} reward needs {n!r}, but the values hold {sorted(values)}; "
                    "name the objectives with the reward's options."
                )
            v = float(values[n])
            if not math.isfinite(v):
                raise ValueError(f"{self.kind} reward: {n}={v} is not finite.")
            row[j] = v
        return row

    def __call__(self, values: Mapping[str, float]) -> float:
        """Reward of one successful child (updates running state)."""
        return float(self.batch([values])[0])

    def batch(self, values: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Rewards of a batch of successful children, shape ``(n,)``.

        The running normalization first sees the whole batch, then every child
        is rewarded against the same state, so the order inside a batch does
        not matter.
        """
        F = np.array([self._extract(v) for v in values], dtype=float).reshape(-1, len(self.names))
        signs = self._signs()
        self._norm.observe(F * signs)
        r = np.asarray(self._compute(F, signs), dtype=float).reshape(-1)
        if r.size:
            self.min_seen = min(self.min_seen, float(r.min()))
            self.n_seen += int(r.size)
        self._after_batch(F, signs)
        return r

    def _compute(self, F: np.ndarray, signs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _after_batch(self, F: np.ndarray, signs: np.ndarray) -> None:
        pass

    def normalized(self, F: np.ndarray, signs: np.ndarray) -> np.ndarray:
        """Normalized minimized values ``(n, k)`` under the current bounds."""
        return self._norm(F * signs, signs)

    def failure_reward(self) -> float:
        """Reward of a failed, pruned or infeasible child (see module docs)."""
        if self.failure != "min":
            return float(self.failure)
        return float(self.min_seen) if math.isfinite(self.min_seen) else float(self.floor)

    def satisfied(self, values: Mapping[str, float]) -> Optional[bool]:
        """Whether ``values`` meet the reward's constraint (``None``: no constraint)."""
        return None

    # -- serialization ---------------------------------------------------------
    def _params(self) -> dict:
        raise NotImplementedError

    def config(self) -> dict:
        """JSON options; :func:`reward_from_config` rebuilds the reward."""
        cfg = {"type": self.kind, **self._params(), "failure": self.failure}
        if self._norm.fixed:
            cfg["bounds"] = {n: list(b) for n, b in self._norm.fixed.items()}
        if self.directions:
            cfg["directions"] = dict(self.directions)
        return cfg

    def state_dict(self) -> dict:
        """Running state (normalization bounds, minimum seen, archive) as JSON + arrays."""
        return {"norm": self._norm.state_dict(), "min_seen": self.min_seen, "n_seen": self.n_seen}

    def load_state_dict(self, state: Mapping) -> None:
        self._norm.load_state_dict(state["norm"])
        self.min_seen = float(state["min_seen"])
        self.n_seen = int(state["n_seen"])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------------------- MONAS
class MixedReward(Reward):
    """MONAS mixed reward ``R = alpha * accuracy - (1 - alpha) * energy_n``.

    ``energy_n`` is the normalized energy (see module docs: fixed ``bounds`` or
    running min/max).  ``alpha = 1`` is plain accuracy-driven NAS; smaller
    ``alpha`` favours low energy.  Floor: ``-(1 - alpha)``.

    Args:
        alpha: Weight of accuracy, in ``[0, 1]``.
        accuracy: Name of the (maximized) accuracy objective.
        energy: Name of the (minimized) energy-like objective.
        bounds: Optional fixed bounds ``{energy: (low, high)}``.
        failure: Reward of failed children.

    Example:
        >>> r = MixedReward(0.5, accuracy="acc", energy="e", bounds={"e": (0, 4)})
        >>> r({"acc": 0.75, "e": 1.0})
        0.25
    """

    kind = "mixed"
    required = {"accuracy": "max", "energy": "min"}

    def __init__(self, alpha: float, *, accuracy: str = "accuracy", energy: str = "energy",
                 bounds=None, failure: Failure = "min", directions=None):
        alpha = _finite("alpha", alpha)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1] (1 = accuracy only), got {alpha}.")
        self.alpha = alpha
        self.accuracy, self.energy = accuracy, energy
        super().__init__([accuracy, energy], failure=failure, directions=directions, bounds=bounds)

    def _roles(self):
        return {"accuracy": self.accuracy, "energy": self.energy}

    def _example_option(self):
        return "accuracy='acc', energy='energy_mj'"

    @property
    def floor(self) -> float:
        return -(1.0 - self.alpha)

    def _compute(self, F, signs):
        N = self.normalized(F, signs)
        return self.alpha * F[:, 0] - (1.0 - self.alpha) * N[:, 1]

    def _params(self):
        return {"alpha": self.alpha, "accuracy": self.accuracy, "energy": self.energy}


class PowerConstraintReward(Reward):
    """MONAS power constraint ``R = accuracy if power <= budget else 0``.

    Args:
        budget: Power budget (``> 0``), in the power objective's unit.
        accuracy: Name of the (maximized) accuracy objective.
        power: Name of the (minimized) power objective.

    Example:
        >>> r = PowerConstraintReward(2.0, accuracy="acc", power="power_w")
        >>> r({"acc": 0.9, "power_w": 1.5}), r({"acc": 0.9, "power_w": 2.5})
        (0.9, 0.0)
    """

    kind = "power"
    required = {"accuracy": "max", "power": "min"}
    has_constraint = True

    def __init__(self, budget: float, *, accuracy: str = "accuracy", power: str = "power",
                 failure: Failure = "min", directions=None):
        budget = _finite("budget", budget)
        if budget <= 0:
            raise ValueError(f"budget must be > 0 (a power budget in the objective's unit), got {budget}.")
        self.budget = budget
        self.accuracy, self.power = accuracy, power
        super().__init__([accuracy, power], failure=failure, directions=directions)

    def _roles(self):
        return {"accuracy": self.accuracy, "power": self.power}

    def _example_option(self):
        return "accuracy='acc', power='power_w'"

    def _compute(self, F, signs):
        return np.where(F[:, 1] <= self.budget, F[:, 0], 0.0)

    def satisfied(self, values):
        return bool(float(values[self.power]) <= self.budget)

    def _params(self):
        return {"budget": self.budget, "accuracy": self.accuracy, "power": self.power}


class AccuracyConstraintReward(Reward):
    """MONAS accuracy constraint ``R = 1 - energy_n if accuracy >= threshold else 0``.

    Args:
        threshold: Accuracy threshold.
        accuracy: Name of the (maximized) accuracy objective.
        energy: Name of the (minimized) energy objective, normalized as in the
            module docs (fixed ``bounds`` or running min/max).

    Example:
        >>> r = AccuracyConstraintReward(0.9, accuracy="acc", energy="e", bounds={"e": (0, 10)})
        >>> r({"acc": 0.95, "e": 2.0}), r({"acc": 0.5, "e": 2.0})
        (0.8, 0.0)
    """

    kind = "accuracy"
    required = {"accuracy": "max", "energy": "min"}
    has_constraint = True

    def __init__(self, threshold: float, *, accuracy: str = "accuracy", energy: str = "energy",
                 bounds=None, failure: Failure = "min", directions=None):
        self.threshold = _finite("threshold", threshold)
        self.accuracy, self.energy = accuracy, energy
        super().__init__([accuracy, energy], failure=failure, directions=directions, bounds=bounds)

    def _roles(self):
        return {"accuracy": self.accuracy, "energy": self.energy}

    def _example_option(self):
        return "accuracy='acc', energy='energy_mj'"

    def _compute(self, F, signs):
        N = self.normalized(F, signs)
        return np.where(F[:, 0] >= self.threshold, 1.0 - N[:, 1], 0.0)

    def satisfied(self, values):
        return bool(float(values[self.accuracy]) >= self.threshold)

    def _params(self):
        return {"threshold": self.threshold, "accuracy": self.accuracy, "energy": self.energy}


# ---------------------------------------------------------------------------- generic
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


# ---------------------------------------------------------------------------- HVI
class HypervolumeImprovement(Reward):
    """Hypervolume improvement of the candidate over the Pareto archive (no weights).

    The reward keeps a :class:`moopt.ParetoArchive` of the minimized values of
    every child rewarded so far and measures with :func:`moopt.hv_improvement`.  A child's reward is the hypervolume it adds to that
    archive, measured in normalized coordinates (module docs) with the
    reference point ``ref`` (own units, normalized the same way) or, without
    ``ref``, ``1 + margin`` in every normalized coordinate (slightly beyond the
    worst value seen, or the worst bound).  Dominated children get 0.  All
    children of a batch are measured against the archive as it was before the
    batch; then the batch joins the archive.  Floor: 0.

    Args:
        objectives: Names of the objectives (default: all of the problem's,
            taken by :meth:`bind`).
        ref: Optional reference point ``{name: value}`` in own units.
        margin: Reference offset in normalized units when ``ref`` is not given.
        bounds: Optional fixed normalization bounds per objective.

    Example:
        >>> r = HypervolumeImprovement(["f1", "f2"], directions={"f1": "min", "f2": "min"},
        ...                            bounds={"f1": (0, 1), "f2": (0, 1)}, margin=0.0)
        >>> r({"f1": 0.5, "f2": 0.5}), r({"f1": 0.5, "f2": 0.5})
        (0.25, 0.0)
    """

    kind = "hvi"
    stationary = False

    def __init__(self, objectives=None, *, ref=None, margin: float = 0.1, bounds=None,
                 failure: Failure = "min", directions=None):
        self.margin = _finite("margin", margin)
        if self.margin < 0:
            raise ValueError(f"margin must be >= 0, got {self.margin}.")
        if isinstance(objectives, str):
            objectives = [objectives]
        self._given = objectives is not None
        self._bounds_arg, self._ref_arg = bounds, ref
        super().__init__(list(objectives or []), failure=failure, directions=directions,
                         bounds=bounds if objectives else None)
        self._setup(self.names)

    def _setup(self, names):
        self.names = list(names)
        self._norm = _Normalizer(self.names, self._bounds_arg if self.names else None)
        self.ref = None
        ref = self._ref_arg
        if ref is not None and self.names:
            unknown = [n for n in ref if n not in self.names]
            missing = [n for n in self.names if n not in ref]
            if unknown or missing:
                raise ValueError(
                    f"ref must give a value for each objective {self.names}; "
                    f"unknown {unknown}, missing {missing}."
                )
            self.ref = {n: _finite(f"ref[{n!r}]", ref[n]) for n in self.names}
        self._archive = ParetoArchive(n_obj=len(self.names)) if self.names else None

    def bind(self, problem) -> "HypervolumeImprovement":
        if not self.names:
            self._setup(problem.objective_names)
        return super().bind(problem)

    def _example_option(self):
        return "objectives=['acc', 'energy_mj']"

    def _normalized_ref(self, signs) -> np.ndarray:
        if self.ref is None:
            return np.full(len(self.names), 1.0 + self.margin)
        return self.normalized(np.array([[self.ref[n] for n in self.names]]), signs)[0]

    def _compute(self, F, signs):
        if not len(F):
            return np.zeros(0)
        N = self.normalized(F, signs)
        r = self._normalized_ref(signs)
        P = self._archive.points  # minimized
        A = self._norm(P, signs) if len(P) else np.zeros((0, len(self.names)))
        return hv_improvement(N, A, ref=r)

    def batch(self, values):
        if not self.names:
            raise ValueError("hvi reward has no objectives yet; pass objectives=[...] or call bind(problem).")
        return super().batch(values)

    def _after_batch(self, F, signs):
        self._archive.update(F * signs)

    @property
    def archive(self) -> np.ndarray:
        """Values (own units) of the Pareto archive, shape ``(n_front, k)``."""
        return self._archive.points.reshape(-1, len(self.names)) * self._signs()

    def _params(self):
        return {"objectives": list(self.names) if self._given else None,
                "ref": self._ref_arg if self.ref is None else self.ref, "margin": self.margin}

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["archive"] = self._archive.to_dict()
        state["objectives"] = list(self.names)
        return state

    def load_state_dict(self, state: Mapping) -> None:
        if list(state["objectives"]) != self.names:
            if self.names:
                raise ValueError(
                    f"hvi reward state is for objectives {state['objectives']}, this reward uses {self.names}."
                )
            self._setup(state["objectives"])
        super().load_state_dict(state)
        self._archive = ParetoArchive.from_dict(state["archive"])


# ---------------------------------------------------------------------------- specs
_KINDS: dict[str, type] = {
    cls.kind: cls
    for cls in (MixedReward, PowerConstraintReward, AccuracyConstraintReward, WeightedSum,
                Chebyshev, SoftConstraint, HypervolumeImprovement)
}
_POSITIONAL = {"mixed": "alpha", "power": "budget", "accuracy": "threshold", "mnas": "target"}


def available_rewards() -> list[str]:
    """The reward kinds understood by :func:`reward_from_config` and :func:`parse_reward`."""
    return sorted(_KINDS)


def reward_from_config(cfg: Union[Mapping, str, Reward]) -> Reward:
    """Build a reward from its :meth:`Reward.config` dict (or a spec string, or a reward).

    Raises:
        ValueError: unknown ``type`` (lists the known ones) or bad options.
    """
    if isinstance(cfg, Reward):
        return cfg
    if isinstance(cfg, str):
        return parse_reward(cfg)
    if not isinstance(cfg, Mapping):
        raise TypeError(f"a reward config must be a dict, a spec string or a Reward, got {cfg!r}.")
    cfg = dict(cfg)
    kind = cfg.pop("type", None)
    cls = _KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown reward type {kind!r}; choose one of {available_rewards()}.")
    if cfg.get("bounds"):
        cfg["bounds"] = {n: tuple(b) for n, b in cfg["bounds"].items()}
    pos = _POSITIONAL.get(kind)
    try:
        if pos is not None:
            if pos not in cfg:
                raise ValueError(f"{kind} reward needs {pos}=..., e.g. '{kind}:{pos}=0.5'.")
            return cls(cfg.pop(pos), **cfg)
        return cls(**cfg)
    except TypeError as exc:
        raise ValueError(f"bad options for the {kind} reward: {exc}") from None


def _scalar(text: str):
    t = text.strip()
    try:
        return float(t)
    except ValueError:
        return t


def parse_reward(spec: str) -> Reward:
    """Parse a CLI spec ``"kind:key=value,key=value"`` into a reward.

    Dotted keys fill dictionaries (``weights.acc=0.5``, ``ref.energy_mj=3``,
    ``directions.acc=max``) and ``bounds.NAME=LOW:HIGH`` gives fixed bounds.

    Example:
        >>> parse_reward("mixed:alpha=0.25,accuracy=acc,energy=energy_mj")
        MixedReward(alpha=0.25, accuracy='acc', energy='energy_mj')
        >>> parse_reward("chebyshev:weights.acc=1,weights.e=2,rho=0.05").rho
        0.05
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"a reward spec must be a string like 'mixed:alpha=0.5', got {spec!r}.")
    kind, _, rest = spec.strip().partition(":")
    kind = kind.strip()
    if kind not in _KINDS:
        raise ValueError(f"unknown reward {kind!r} in {spec!r}; choose one of {available_rewards()}.")
    cfg: dict[str, Any] = {"type": kind}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ValueError(f"reward spec {spec!r}: {item!r} is not key=value.")
        if "." in key:
            group, _, name = key.partition(".")
            if group == "bounds":
                lo, colon, hi = value.partition(":")
                if not colon:
                    raise ValueError(f"reward spec {spec!r}: bounds.{name} needs LOW:HIGH, got {value!r}.")
                cfg.setdefault("bounds", {})[name] = (float(lo), float(hi))
            elif group in ("weights", "ref", "directions"):
                cfg.setdefault(group, {})[name] = value.strip() if group == "directions" else _scalar(value)
            else:
                raise ValueError(f"reward spec {spec!r}: unknown group {group!r} (weights, ref, bounds, directions).")
        elif key == "objectives":
            cfg["objectives"] = [s for s in value.replace(";", " ").replace("+", " ").split() if s]
        else:
            cfg[key] = _scalar(value)
    return reward_from_config(cfg)
