"""MONAS rewards (Hsu et al., 2018): accuracy traded against energy or power.

* :class:`MixedReward` [``mixed``]: ``R = alpha * accuracy - (1 - alpha) * energy_n``.
* :class:`PowerConstraintReward` [``power``]: ``R = accuracy if power <= budget else 0``.
* :class:`AccuracyConstraintReward` [``accuracy``]:
  ``R = 1 - energy_n if accuracy >= threshold else 0``.

``energy_n`` is the normalized energy (:mod:`moopt.rewards.normalize`).  The
formulas need a maximized accuracy and a minimized energy or power;
:meth:`~moopt.rewards.Reward.bind` rejects other directions.
"""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from ._checks import finite, number
from .base import Bounds, Failure, Reward


class MixedReward(Reward):
    """MONAS mixed reward ``R = alpha * accuracy - (1 - alpha) * energy_n``.

    ``energy_n`` is the normalized energy (fixed ``bounds`` or running
    min/max, :mod:`moopt.rewards.normalize`).  ``alpha = 1`` is plain
    accuracy-driven NAS; smaller ``alpha`` favours low energy.  Floor:
    ``-(1 - alpha)``.

    Args:
        alpha: Weight of accuracy, in ``[0, 1]``.
        accuracy: Name of the (maximized) accuracy objective.
        energy: Name of the (minimized) energy-like objective.
        bounds: Optional fixed bounds ``{energy: (low, high)}``.
        failure: Reward of failed children.
        directions: Optional ``{name: "min"/"max"}`` (normally taken by ``bind``).

    Example:
        >>> r = MixedReward(0.5, accuracy="acc", energy="e", bounds={"e": (0, 4)})
        >>> r({"acc": 0.75, "e": 1.0})
        0.25
    """

    kind = "mixed"
    required = {"accuracy": "max", "energy": "min"}
    naming_example = "accuracy='acc', energy='energy_mj'"

    def __init__(self, alpha: float, *, accuracy: str = "accuracy", energy: str = "energy",
                 bounds: Bounds = None, failure: Failure = "min",
                 directions: Optional[Mapping[str, str]] = None):
        self.alpha = number("alpha", alpha, low=0.0, high=1.0, hint="1 = accuracy only")
        self.accuracy, self.energy = accuracy, energy
        super().__init__([accuracy, energy], failure=failure, directions=directions, bounds=bounds)

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

    The budget is inclusive and the power is not normalized.  Floor: 0.

    Args:
        budget: Power budget (``> 0``), in the power objective's unit.
        accuracy: Name of the (maximized) accuracy objective.
        power: Name of the (minimized) power objective.
        failure: Reward of failed children.
        directions: Optional ``{name: "min"/"max"}`` (normally taken by ``bind``).

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
                 failure: Failure = "min", directions: Optional[Mapping[str, str]] = None):
        self.budget = number("budget", budget, low=0.0, low_open=True,
                             hint="a power budget in the objective's unit")
        self.accuracy, self.power = accuracy, power
        super().__init__([accuracy, power], failure=failure, directions=directions)

    def _compute(self, F, signs):
        return np.where(F[:, 1] <= self.budget, F[:, 0], 0.0)

    def satisfied(self, values):
        return bool(float(values[self.power]) <= self.budget)

    def _params(self):
        return {"budget": self.budget, "accuracy": self.accuracy, "power": self.power}


class AccuracyConstraintReward(Reward):
    """MONAS accuracy constraint ``R = 1 - energy_n if accuracy >= threshold else 0``.

    ``energy_n`` is the normalized energy (fixed ``bounds`` or running
    min/max, :mod:`moopt.rewards.normalize`).  Floor: 0.

    Args:
        threshold: Accuracy threshold (inclusive).
        accuracy: Name of the (maximized) accuracy objective.
        energy: Name of the (minimized) energy objective.
        bounds: Optional fixed bounds ``{energy: (low, high)}``.
        failure: Reward of failed children.
        directions: Optional ``{name: "min"/"max"}`` (normally taken by ``bind``).

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
                 bounds: Bounds = None, failure: Failure = "min",
                 directions: Optional[Mapping[str, str]] = None):
        self.threshold = finite("threshold", threshold)
        self.accuracy, self.energy = accuracy, energy
        super().__init__([accuracy, energy], failure=failure, directions=directions, bounds=bounds)

    def _compute(self, F, signs):
        N = self.normalized(F, signs)
        return np.where(F[:, 0] >= self.threshold, 1.0 - N[:, 1], 0.0)

    def satisfied(self, values):
        return bool(float(values[self.accuracy]) >= self.threshold)

    def _params(self):
        return {"threshold": self.threshold, "accuracy": self.accuracy, "energy": self.energy}
