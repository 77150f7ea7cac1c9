"""MONAS rewards (Hsu et al., 2018): accuracy traded against energy or power.

* :class:`MixedReward` [``mixed``]: ``R = alpha * accuracy - (1 - alpha) * energy_n``.
* :class:`PowerConstraintReward` [``power``]: ``R = accuracy if power <= budget else 0``.
* :class:`AccuracyConstraintReward` [``accuracy``]:
  ``R = 1 - energy_n if accuracy >= threshold else 0``.

``energy_n`` is the normalized energy (:mod:`moopt.rewards.normalize`).  The
formulas need a maximized accuracy and a minimized energy or power;
:meth:`~moopt.rewards.Reward.bind` rejects other directions.

Accuracy scale.  As in the paper, ``accuracy`` is a fraction in ``[0, 1]``,
whatever unit the objective is reported in: the value is multiplied by
``accuracy_scale``.  By default :meth:`~moopt.rewards.Reward.bind` takes the
scale from the accuracy objective's unit (``"%"``, ``"percent"`` or ``"pct"``:
0.01; any other unit or none: 1); a reward never bound uses 1.  A scaled
accuracy outside ``[0, 1]`` raises a ``ValueError`` that says how to fix it.
The accuracy threshold of :class:`AccuracyConstraintReward` is a fraction too.

The accuracy (and the power) enter the formulas unnormalized, so ``bounds`` may
name only the energy of the mixed and accuracy-constraint rewards.  Without a
bound for it the energy is normalized by its running min/max: the reward of a
fixed child then drifts as new extremes are seen
(:attr:`~moopt.rewards.Reward.running_normalized`); a fixed ``bounds`` makes
the reward stationary.
"""

from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence, TypeVar

import numpy as np

from ._checks import finite, number
from .base import Bounds, Failure, Reward

#: Units (lower-cased, stripped) that mean "accuracy in percent": scale 0.01.
PERCENT_UNITS = frozenset({"%", "percent", "pct"})
_TOL = 1e-9  # slack on [0, 1] for rounding in the objective's value
_UNBOUND = object()  # the accuracy unit before bind()
_M = TypeVar("_M", bound="_MonasReward")


def unit_scale(unit: Optional[str]) -> float:
    """The factor that turns an accuracy in ``unit`` into a fraction: 0.01 for percent, else 1.

    Example:
        >>> unit_scale("%"), unit_scale("Percent"), unit_scale(None)
        (0.01, 0.01, 1.0)
    """
    return 0.01 if isinstance(unit, str) and unit.strip().lower() in PERCENT_UNITS else 1.0


class _MonasReward(Reward):
    """Accuracy on the ``[0, 1]`` scale for the MONAS formulas (``self.accuracy`` is the first name).

    Args:
        names: ``[accuracy, energy-or-power]``.
        accuracy_scale: Factor that turns the accuracy objective's value into a
            fraction (finite, ``> 0``); ``None``: from the unit at :meth:`bind`.
        failure: Reward of failed children.
        directions: Optional ``{name: "min"/"max"}``.
        bounds: Fixed bounds, only for :attr:`normalizes`.
    """

    accuracy: str

    def __init__(self, names: Sequence[str], *, accuracy_scale: Optional[float], failure: Failure,
                 directions: Optional[Mapping[str, str]], bounds: Bounds = None):
        self._scale_arg: Optional[float] = None if accuracy_scale is None else number(
            "accuracy_scale", accuracy_scale, low=0.0, low_open=True,
            hint="the factor that turns the accuracy objective's value into a fraction, 0.01 for percentages")
        self._unit_scale = 1.0
        self._accuracy_unit: object = _UNBOUND
        super().__init__(names, failure=failure, directions=directions, bounds=bounds)

    @property
    def accuracy_scale(self) -> float:
        """The scale in use: the explicit ``accuracy_scale``, else the bound unit's (1 before ``bind``)."""
        return self._unit_scale if self._scale_arg is None else self._scale_arg

    def bind(self: _M, problem) -> _M:
        """As :meth:`Reward.bind`, and take the accuracy scale from the accuracy objective's unit."""
        super().bind(problem)
        unit = next((getattr(o, "unit", None) for o in problem.objectives if o.name == self.accuracy), None)
        self._accuracy_unit = unit
        self._unit_scale = unit_scale(unit)
        return self

    def _unit_text(self) -> str:
        if self._accuracy_unit is _UNBOUND:
            return ("the reward is not bound to a problem, so its unit is unknown "
                    "(reward.bind(problem) takes the scale from the unit)")
        if self._accuracy_unit is None:
            return "its objective gives no unit (Objective(..., unit='%') would set the scale at bind)"
        return f"its unit is {self._accuracy_unit!r}"

    def _fraction(self, raw: np.ndarray) -> np.ndarray:
        """Accuracy values ``raw`` (objective's unit) as fractions in ``[0, 1]``.

        Raises:
            ValueError: a scaled value outside ``[0, 1]``; names the objective,
                the raw value, the scale and the fix.
        """
        scale = self.accuracy_scale
        acc = np.asarray(raw, dtype=float) * scale
        bad = (acc < -_TOL) | (acc > 1.0 + _TOL)
        if np.any(bad):
            j = int(np.argmax(bad))
            v, a = float(np.asarray(raw, dtype=float).reshape(-1)[j]), float(acc.reshape(-1)[j])
            raise ValueError(
                f"{self.kind} reward: accuracy objective {self.accuracy!r} = {v:g} is {a:g} with "
                f"accuracy_scale={scale:g}, outside [0, 1]: the MONAS formulas read accuracy as a fraction; "
                f"{self._unit_text()}; pass accuracy_scale=0.01 for percentages."
            )
        return np.clip(acc, 0.0, 1.0)

    def _validate(self, F: np.ndarray) -> None:
        self._fraction(F[:, 0])

    def _accuracy_of(self, values: Mapping[str, float]) -> float:
        """The scaled accuracy of one child's ``values``."""
        v = float(values[self.accuracy])
        if not math.isfinite(v):
            raise ValueError(f"{self.kind} reward: {self.accuracy}={v} is not finite.")
        return float(self._fraction(np.array([v]))[0])

    def _scale_params(self) -> dict:
        """``{"accuracy_scale": s}`` when given explicitly (a scale from the unit is re-derived at bind)."""
        return {} if self._scale_arg is None else {"accuracy_scale": self._scale_arg}

    def _unnormalized_note(self, names: Sequence[str]) -> str:
        notes = []
        if self.accuracy in names:
            notes.append("the accuracy unnormalized, on the [0, 1] scale (see accuracy_scale)")
        rest = [n for n in names if n != self.accuracy]
        if rest:
            notes.append(f"{rest} in its own unit")
        return f"the {self.kind} formula uses " + " and ".join(notes)


class MixedReward(_MonasReward):
    """MONAS mixed reward ``R = alpha * accuracy - (1 - alpha) * energy_n``.

    ``accuracy`` is a fraction in ``[0, 1]`` (the objective's value times
    ``accuracy_scale``, see :mod:`moopt.rewards.monas`).  ``energy_n`` is the
    normalized energy (fixed ``bounds`` or running min/max,
    :mod:`moopt.rewards.normalize`).  ``alpha = 1`` is plain accuracy-driven
    NAS; smaller ``alpha`` favours low energy.  Floor: ``-(1 - alpha)``.

    Without ``bounds`` the energy term drifts as new extremes widen the
    running min/max, so the same child's reward changes during a search
    (:attr:`running_normalized`); ``bounds={energy: (low, high)}`` makes the
    reward stationary.

    Args:
        alpha: Weight of accuracy, in ``[0, 1]``.
        accuracy: Name of the (maximized) accuracy objective.
        energy: Name of the (minimized) energy-like objective.
        bounds: Optional fixed bounds ``{energy: (low, high)}``; the accuracy
            takes none (it is used unnormalized).
        accuracy_scale: Factor that turns the accuracy objective's value into
            a fraction (``0.01`` for percent); default: from its unit at
            ``bind`` (1 when never bound).
        failure: Reward of failed children.
        directions: Optional ``{name: "min"/"max"}`` (normally taken by ``bind``).

    Raises:
        ValueError: a bad option, bounds for the accuracy, or (when called) a
            scaled accuracy outside ``[0, 1]``.

    Example:
        >>> r = MixedReward(0.5, accuracy="acc", energy="e", bounds={"e": (0, 4)})
        >>> r({"acc": 0.75, "e": 1.0})
        0.25
    """

    kind = "mixed"
    required = {"accuracy": "max", "energy": "min"}
    naming_example = "accuracy='acc', energy='energy_mj'"

    def __init__(self, alpha: float, *, accuracy: str = "accuracy", energy: str = "energy",
                 bounds: Bounds = None, accuracy_scale: Optional[float] = None, failure: Failure = "min",
                 directions: Optional[Mapping[str, str]] = None):
        self.alpha = number("alpha", alpha, low=0.0, high=1.0, hint="1 = accuracy only")
        self.accuracy, self.energy = accuracy, energy
        super().__init__([accuracy, energy], accuracy_scale=accuracy_scale, failure=failure,
                         directions=directions, bounds=bounds)

    @property
    def floor(self) -> float:
        return -(1.0 - self.alpha)

    @property
    def normalizes(self) -> list[str]:
        return [self.energy]

    def _compute(self, F, signs):
        N = self.normalized(F, signs)
        return self.alpha * self._fraction(F[:, 0]) - (1.0 - self.alpha) * N[:, 1]

    def _params(self):
        return {"alpha": self.alpha, "accuracy": self.accuracy, "energy": self.energy, **self._scale_params()}


class PowerConstraintReward(_MonasReward):
    """MONAS power constraint ``R = accuracy if power <= budget else 0``.

    ``accuracy`` is a fraction in ``[0, 1]`` (the objective's value times
    ``accuracy_scale``, see :mod:`moopt.rewards.monas`), so the reward is in
    ``[0, 1]``.  The budget is inclusive and the power is not normalized:
    the reward normalizes nothing, takes no ``bounds`` and is stationary.
    Floor: 0.

    Args:
        budget: Power budget (``> 0``), in the power objective's unit.
        accuracy: Name of the (maximized) accuracy objective.
        power: Name of the (minimized) power objective.
        accuracy_scale: Factor that turns the accuracy objective's value into
            a fraction (``0.01`` for percent); default: from its unit at
            ``bind`` (1 when never bound).
        bounds: Accepted only empty: any bound would be ignored, so one is refused.
        failure: Reward of failed children.
        directions: Optional ``{name: "min"/"max"}`` (normally taken by ``bind``).

    Raises:
        ValueError: a bad option, any bounds, or (when called) a scaled
            accuracy outside ``[0, 1]``.

    Example:
        >>> r = PowerConstraintReward(2.0, accuracy="acc", power="power_w")
        >>> r({"acc": 0.9, "power_w": 1.5}), r({"acc": 0.9, "power_w": 2.5})
        (0.9, 0.0)
    """

    kind = "power"
    required = {"accuracy": "max", "power": "min"}
    naming_example = "accuracy='acc', power='power_w'"
    has_constraint = True

    def __init__(self, budget: float, *, accuracy: str = "accuracy", power: str = "power",
                 accuracy_scale: Optional[float] = None, bounds: Bounds = None, failure: Failure = "min",
                 directions: Optional[Mapping[str, str]] = None):
        self.budget = number("budget", budget, low=0.0, low_open=True,
                             hint="a power budget in the objective's unit")
        self.accuracy, self.power = accuracy, power
        super().__init__([accuracy, power], accuracy_scale=accuracy_scale, failure=failure,
                         directions=directions, bounds=bounds)

    @property
    def normalizes(self) -> list[str]:
        return []

    def _compute(self, F, signs):
        return np.where(F[:, 1] <= self.budget, self._fraction(F[:, 0]), 0.0)

    def satisfied(self, values):
        return bool(float(values[self.power]) <= self.budget)

    def _params(self):
        return {"budget": self.budget, "accuracy": self.accuracy, "power": self.power, **self._scale_params()}


def _threshold(value: float) -> float:
    """The accuracy threshold as a fraction in ``[0, 1]``.

    Raises:
        TypeError: not a number.
        ValueError: NaN, infinite or outside ``[0, 1]`` (a percentage given by
            mistake gets the fraction to use instead).
    """
    v = finite("threshold", value)
    if not 0.0 <= v <= 1.0:
        fix = f"use {v / 100:g}" if 1.0 < v <= 100.0 else "use a value in [0, 1]"
        raise ValueError(
            f"threshold={v:g} is not a fraction; the accuracy threshold is on the [0, 1] scale "
            f"whatever the objective's unit: {fix}."
        )
    return v


class AccuracyConstraintReward(_MonasReward):
    """MONAS accuracy constraint ``R = 1 - energy_n if accuracy >= threshold else 0``.

    ``accuracy`` is a fraction in ``[0, 1]`` (the objective's value times
    ``accuracy_scale``, see :mod:`moopt.rewards.monas`) and so is
    ``threshold``, whatever the objective's unit (90 % -> ``threshold=0.9``).
    ``energy_n`` is the normalized energy (fixed ``bounds`` or running
    min/max, :mod:`moopt.rewards.normalize`).  Floor: 0.

    Without ``bounds`` the energy term drifts as new extremes widen the
    running min/max, so the same child's reward changes during a search
    (:attr:`running_normalized`); ``bounds={energy: (low, high)}`` makes the
    reward stationary.

    Args:
        threshold: Accuracy threshold (inclusive), a fraction in ``[0, 1]``.
        accuracy: Name of the (maximized) accuracy objective.
        energy: Name of the (minimized) energy objective.
        bounds: Optional fixed bounds ``{energy: (low, high)}``; the accuracy
            takes none (it is used unnormalized).
        accuracy_scale: Factor that turns the accuracy objective's value into
            a fraction (``0.01`` for percent); default: from its unit at
            ``bind`` (1 when never bound).
        failure: Reward of failed children.
        directions: Optional ``{name: "min"/"max"}`` (normally taken by ``bind``).

    Raises:
        ValueError: a threshold outside ``[0, 1]``, another bad option,
            bounds for the accuracy, or (when called) a scaled accuracy
            outside ``[0, 1]``.

    Example:
        >>> r = AccuracyConstraintReward(0.9, accuracy="acc", energy="e", bounds={"e": (0, 10)})
        >>> r({"acc": 0.95, "e": 2.0}), r({"acc": 0.5, "e": 2.0})
        (0.8, 0.0)
    """

    kind = "accuracy"
    required = {"accuracy": "max", "energy": "min"}
    naming_example = "accuracy='acc', energy='energy_mj'"
    has_constraint = True

    def __init__(self, threshold: float, *, accuracy: str = "accuracy", energy: str = "energy",
                 bounds: Bounds = None, accuracy_scale: Optional[float] = None, failure: Failure = "min",
                 directions: Optional[Mapping[str, str]] = None):
        self.threshold = _threshold(threshold)
        self.accuracy, self.energy = accuracy, energy
        super().__init__([accuracy, energy], accuracy_scale=accuracy_scale, failure=failure,
                         directions=directions, bounds=bounds)

    @property
    def normalizes(self) -> list[str]:
        return [self.energy]

    def _compute(self, F, signs):
        N = self.normalized(F, signs)
        return np.where(self._fraction(F[:, 0]) >= self.threshold, 1.0 - N[:, 1], 0.0)

    def satisfied(self, values):
        return bool(self._accuracy_of(values) >= self.threshold)

    def _params(self):
        return {"threshold": self.threshold, "accuracy": self.accuracy, "energy": self.energy,
                **self._scale_params()}
