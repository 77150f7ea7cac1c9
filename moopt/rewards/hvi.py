"""Hypervolume improvement: the hypervolume a candidate adds to the Pareto archive.

* :class:`HypervolumeImprovement` [``hvi``]: ``R = HV(A + {n}) - HV(A)`` with
  ``A`` the archive of everything rewarded so far, in normalized minimized
  coordinates (:mod:`moopt.rewards.normalize`).  Needs no weights and handles
  any direction.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence, Union

import numpy as np

from ..archive import ParetoArchive
from ..indicators import hv_improvement
from ._checks import number, reference_point
from .base import Bounds, Failure, Reward
from .normalize import Normalizer

_UNBOUND = "hvi reward has no objectives yet; pass objectives=[...] or call bind(problem)."


class HypervolumeImprovement(Reward):
    """Hypervolume improvement ``R = HV(A + {n}) - HV(A)`` over the Pareto archive ``A``.

    The reward keeps a :class:`moopt.ParetoArchive` ``A`` of the minimized
    values of every child rewarded so far and measures with
    :func:`moopt.hv_improvement`.  A child's reward is the hypervolume its
    values ``n`` add to that archive, measured in normalized coordinates
    (:mod:`moopt.rewards.normalize`) with the reference point ``ref`` (own
    units, normalized the same way) or, without ``ref``, ``1 + margin`` in
    every normalized coordinate (slightly beyond the worst value seen, or the
    worst bound).  Dominated children get 0.  All children of a batch are
    measured against the archive as it was before the batch; then the batch
    joins the archive.  Floor: 0.  Not stationary: the reward of a fixed
    candidate shrinks as the archive fills.

    Args:
        objectives: Names of the objectives (default: all of the problem's,
            taken by :meth:`bind`).
        ref: Optional reference point ``{name: value}`` in own units.
        margin: Reference offset in normalized units when ``ref`` is not given.
        bounds: Optional fixed normalization bounds per objective.
        failure: Reward of failed children.
        directions: ``{name: "min"/"max"}`` when not bound to a problem.

    Example:
        >>> r = HypervolumeImprovement(["f1", "f2"], directions={"f1": "min", "f2": "min"},
        ...                            bounds={"f1": (0, 1), "f2": (0, 1)}, margin=0.0)
        >>> r({"f1": 0.5, "f2": 0.5}), r({"f1": 0.5, "f2": 0.5})
        (0.25, 0.0)
    """

    kind = "hvi"
    naming_example = "objectives=['acc', 'energy_mj']"
    stationary = False

    def __init__(self, objectives: Union[None, str, Sequence[str]] = None, *,
                 ref: Optional[Mapping[str, float]] = None, margin: float = 0.1, bounds: Bounds = None,
                 failure: Failure = "min", directions: Optional[Mapping[str, str]] = None):
        self.margin = number("margin", margin, low=0.0)
        if isinstance(objectives, str):
            objectives = [objectives]
        self._given = objectives is not None
        self._bounds_arg, self._ref_arg = bounds, ref
        super().__init__(list(objectives or []), failure=failure, directions=directions)
        self._setup(self.names)

    def _setup(self, names: Sequence[str]) -> None:
        """Take ``names`` (given, or the problem's at bind): bounds, reference point, archive."""
        self.names = list(names)
        self._norm = Normalizer(self.names, self._bounds_arg if self.names else None)
        self.ref = reference_point(self._ref_arg, self.names) if self._ref_arg is not None and self.names else None
        self._archive: Optional[ParetoArchive] = ParetoArchive(n_obj=len(self.names)) if self.names else None

    def bind(self, problem) -> "HypervolumeImprovement":
        if not self.names:
            self._setup(problem.objective_names)
        return super().bind(problem)

    def batch(self, values):
        if not self.names:
            raise ValueError(_UNBOUND)
        return super().batch(values)

    def _bound_archive(self) -> ParetoArchive:
        """The Pareto archive; a ValueError (not an AttributeError) while the reward has no objectives."""
        if self._archive is None:
            raise ValueError(_UNBOUND)
        return self._archive

    def _compute(self, F, signs):
        if len(F):
            if self.ref is None:
                ref = np.full(len(self.names), 1.0 + self.margin)
            else:
                ref = self.normalized(np.array([[self.ref[n] for n in self.names]]), signs)[0]
            P = self._bound_archive().points  # minimized
            A = self._norm(P, signs) if len(P) else np.zeros((0, len(self.names)))
            out = hv_improvement(self.normalized(F, signs), A, ref=ref)
        else:
            out = np.zeros(0)
        self._bound_archive().update(F * signs)  # after measuring: the batch joins the archive
        return out

    @property
    def archive(self) -> np.ndarray:
        """Values (own units) of the Pareto archive, shape ``(n_front, k)``."""
        return self._bound_archive().points.reshape(-1, len(self.names)) * self._signs()

    def _params(self):
        return {"objectives": list(self.names) if self._given else None,
                "ref": self._ref_arg if self.ref is None else self.ref, "margin": self.margin}

    def state_dict(self) -> dict:
        """Base state plus ``"archive"`` (:meth:`moopt.ParetoArchive.to_dict`) and ``"objectives"``."""
        state = super().state_dict()
        state["archive"] = self._bound_archive().to_dict()
        state["objectives"] = list(self.names)
        return state

    def load_state_dict(self, state: Mapping) -> None:
        """Restore :meth:`state_dict`; an unbound reward takes the state's objectives."""
        if list(state["objectives"]) != self.names:
            if self.names:
                raise ValueError(
                    f"hvi reward state is for objectives {state['objectives']}, this reward uses {self.names}."
                )
            self._setup(state["objectives"])
        super().load_state_dict(state)
        self._archive = ParetoArchive.from_dict(state["archive"])
