"""The :class:`Reward` base class: names, directions, normalization, failures, state."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping, Optional, Sequence, Union

import numpy as np

from .normalize import _Normalizer

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
