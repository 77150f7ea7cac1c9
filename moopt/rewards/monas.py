"""MONAS rewards: mixed accuracy/energy, power budget, accuracy threshold."""

from __future__ import annotations

import numpy as np

from .base import Failure, Reward, _finite


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
