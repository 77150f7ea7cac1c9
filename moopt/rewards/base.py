"""The :class:`Reward` base class: names, directions, normalization, failures, state.

A reward subclass sets :attr:`Reward.kind`, hands the objective names it uses
to ``Reward.__init__`` and writes two methods:

* ``_compute(F, signs)``: the formula on the raw values ``F`` of a batch,
  ``(n, k)`` in the order of :attr:`Reward.names` (``signs``: +1 for
  minimized, -1 for maximized objectives; :meth:`Reward.normalized` gives the
  normalized minimized values);
* ``_params()``: its own options, for :meth:`Reward.config` and ``repr``.

Formulas that read their objectives by role (accuracy, energy, ...) declare
:attr:`Reward.required` ``{role: direction}`` and keep each role's objective
name in the attribute of that name (``self.accuracy = "acc"``); the base class
then checks those directions in :meth:`Reward.bind`.

A formula that uses some of its objectives raw (not normalized) overrides
:attr:`Reward.normalizes`; ``bounds`` may then name only the normalized ones
(a bound on a raw objective would be ignored, so it is refused).

Stationarity.  :attr:`Reward.stationary` describes the *formula*.  A reward
that normalizes an objective with the running min/max (no fixed bound for it,
:attr:`Reward.running_normalized`) is not stationary either: the same child's
reward changes as new extremes widen the running bounds.  Fixed ``bounds`` for
every normalized objective make it stationary.
"""

from __future__ import annotations

import math
from typing import ClassVar, Mapping, Optional, Sequence, TypeVar, Union

import numpy as np

from ._checks import direction, finite
from .normalize import Normalizer

Failure = Union[float, str]  # "min" or a fixed reward for failed children
Bounds = Optional[Mapping[str, Sequence[float]]]  # fixed normalization bounds by name
_RewardT = TypeVar("_RewardT", bound="Reward")  # bind() returns self, typed as the subclass


def _problem_directions(problem) -> dict[str, str]:
    """Known names -> direction of a Problem (constraints count as ``min``)."""
    out = {o.name: o.direction for o in problem.objectives}
    out.update({c.name: "min" for c in getattr(problem, "constraints", ())})
    return out


class Reward:
    """Base class: a scalar to maximize from named objective values.

    Args:
        names: The objective names the formula uses, in order.
        failure: Reward of a failed child: ``"min"`` (minimum reward given so
            far, or :attr:`floor` before any) or a float.
        directions: Objective name -> ``"min"``/``"max"`` for rewards that need
            it (weighted sum, Chebyshev, HVI) when not bound to a problem.
        bounds: Fixed normalization bounds ``{name: (low, high)}`` in the
            objective's own units (see :mod:`moopt.rewards.normalize`), only
            for names in :attr:`normalizes`; running min/max for the
            normalized names not given.

    Raises:
        ValueError: an empty or repeated name, a bad ``failure``, direction or
            bound, or a bound for a name the formula does not normalize (it
            would be ignored).
    """

    kind: ClassVar[str] = "reward"
    #: Role -> direction the formula assumes (``{"accuracy": "max", "energy": "min"}``);
    #: the instance holds each role's objective name in the attribute of that name.
    required: ClassVar[dict] = {}
    #: How to name the objectives, quoted when a name is unknown to the problem.
    naming_example: ClassVar[str] = "accuracy='acc'"
    #: True when :meth:`satisfied` reports a constraint (power, accuracy, MnasNet target).
    has_constraint: ClassVar[bool] = False
    #: False when the reward of a fixed candidate shrinks as the search goes on
    #: (hypervolume improvement); ReinforceSearch then defaults to a fast
    #: baseline and normalized advantages.  This describes the formula only: a
    #: reward that normalizes an objective with the running min/max (no fixed
    #: bound for it, see :attr:`running_normalized`) drifts too, as new extremes
    #: widen the running bounds -- the same child's normalized value, and so
    #: its reward, changes.  Pass ``bounds`` for every name in
    #: :attr:`normalizes` to make such a reward stationary.  ReinforceSearch's
    #: defaults follow this attribute alone.
    stationary: ClassVar[bool] = True

    def __init__(self, names: Sequence[str], *, failure: Failure = "min",
                 directions: Optional[Mapping[str, str]] = None, bounds: Bounds = None):
        self.names = list(names)
        for n in self.names:
            if not isinstance(n, str) or not n:
                raise ValueError(f"objective names must be non-empty strings, got {n!r}.")
        dup = {n for n in self.names if self.names.count(n) > 1}
        if dup:
            raise ValueError(f"{self.kind} reward: an objective is used twice: {sorted(dup)}.")
        self.failure: Failure
        if isinstance(failure, str):
            if failure != "min":
                raise ValueError(f"failure must be 'min' or a number, got {failure!r}.")
            self.failure = "min"
        else:
            self.failure = finite("failure", failure)
        self.directions: dict[str, str] = {n: direction(n, d) for n, d in (directions or {}).items()}
        self._norm = Normalizer(self.names, bounds)
        self._check_bounds()
        self.min_seen = math.inf
        self.n_seen = 0

    # -- normalization -----------------------------------------------------------
    @property
    def normalizes(self) -> list[str]:
        """The names the formula normalizes (through :meth:`normalized`): all of them by default.

        ``bounds`` may name only these; a subclass whose formula uses some
        objectives raw overrides this (MONAS: only the energy).
        """
        return list(self.names)

    @property
    def running_normalized(self) -> bool:
        """True when some name in :attr:`normalizes` has no fixed bound.

        Such a reward is not stationary whatever :attr:`stationary` says: the
        running min/max widens as new extremes are seen, so the reward of a
        fixed child drifts during a search.  Pass ``bounds`` for every
        normalized name to avoid it.
        """
        return any(n not in self._norm.fixed for n in self.normalizes)

    def _unnormalized_note(self, names: Sequence[str]) -> str:
        """Why the formula ignores a bound on ``names`` (for the error message)."""
        return f"the {self.kind} formula uses {'it' if len(names) == 1 else 'them'} unnormalized"

    def _check_bounds(self) -> None:
        """Refuse fixed bounds for names the formula does not normalize (they would be ignored)."""
        keep = set(self.normalizes)
        ignored = [n for n in self._norm.fixed if n not in keep]
        if ignored:
            fix = (f"give bounds only for {self.normalizes}" if self.normalizes
                   else "drop bounds: this reward normalizes nothing")
            raise ValueError(
                f"{self.kind} reward: bounds given for {ignored}, but {self._unnormalized_note(ignored)}, "
                f"so the bound would be ignored; {fix}."
            )

    @property
    def floor(self) -> float:
        """Documented lower reference of the reward (failure reward before any success)."""
        return 0.0

    # -- directions ------------------------------------------------------------
    def bind(self: _RewardT, problem) -> _RewardT:
        """Check the names against ``problem`` and take its directions; returns ``self``.

        Raises:
            ValueError: a name the problem does not have (the message lists the
                known ones), or a direction the formula cannot use.
        """
        known = _problem_directions(problem)
        unknown = [n for n in self.names if n not in known]
        if unknown:
            raise ValueError(
                f"{self.kind} reward uses unknown objective {unknown[0]!r}; the known objectives "
                f"are {sorted(known)}. Name them with the reward's options, e.g. {self.naming_example}."
            )
        self.directions.update({n: known[n] for n in self.names})
        for role, want in self.required.items():
            n = getattr(self, role)
            if self.directions[n] != want:
                raise ValueError(
                    f"{self.kind} reward: objective {n!r} (used as {role}) is '{self.directions[n]}'imized "
                    f"but the formula needs a '{want}' objective; use weighted_sum, chebyshev or hvi, "
                    "which handle any direction."
                )
        return self

    def _signs(self) -> np.ndarray:
        """+1 (minimized) or -1 (maximized) per name; a role's direction when not given."""
        role_direction = {getattr(self, role): d for role, d in self.required.items()}
        out = np.empty(len(self.names))
        for j, n in enumerate(self.names):
            d = self.directions.get(n) or role_direction.get(n)
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
        self._validate(F)  # before any state changes: a refused batch leaves the reward as it was
        self._norm.observe(F * signs)
        r = np.asarray(self._compute(F, signs), dtype=float).reshape(-1)
        if r.size:
            self.min_seen = min(self.min_seen, float(r.min()))
            self.n_seen += int(r.size)
        return r

    def _validate(self, F: np.ndarray) -> None:
        """Check the raw values ``F`` ``(n, k)`` of a batch before any state changes (default: none).

        Raises:
            ValueError: a value the formula cannot use.
        """

    def _compute(self, F: np.ndarray, signs: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement _compute(F, signs), its formula.")

    def normalized(self, F: np.ndarray, signs: np.ndarray) -> np.ndarray:
        """Normalized minimized values ``(n, k)`` under the current bounds."""
        return self._norm(F * signs, signs)

    def failure_reward(self) -> float:
        """Reward of a failed, pruned or infeasible child (see :mod:`moopt.rewards`)."""
        if self.failure != "min":
            return float(self.failure)
        return float(self.min_seen) if math.isfinite(self.min_seen) else float(self.floor)

    def satisfied(self, values: Mapping[str, float]) -> Optional[bool]:
        """Whether ``values`` meet the reward's constraint (``None``: no constraint)."""
        return None

    # -- serialization ---------------------------------------------------------
    def _params(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must implement _params(), its options.")

    def config(self) -> dict:
        """JSON options; :func:`moopt.rewards.reward_from_config` rebuilds the reward."""
        cfg = {"type": self.kind, **self._params(), "failure": self.failure}
        if self._norm.fixed:
            cfg["bounds"] = {n: list(b) for n, b in self._norm.fixed.items()}
        if self.directions:
            cfg["directions"] = dict(self.directions)
        return cfg

    def state_dict(self) -> dict:
        """Running state ``{"norm": {"lo", "hi"}, "min_seen", "n_seen"}`` as JSON + arrays."""
        return {"norm": self._norm.state_dict(), "min_seen": self.min_seen, "n_seen": self.n_seen}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore the running state of :meth:`state_dict`."""
        self._norm.load_state_dict(state["norm"])
        self.min_seen = float(state["min_seen"])
        self.n_seen = int(state["n_seen"])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"
