"""Hypervolume improvement of a candidate over the Pareto archive of all rewarded so far."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..archive import ParetoArchive
from ..indicators import hv_improvement
from .base import Failure, Reward, _finite
from .normalize import _Normalizer


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
