"""Objectives, constraints and the problem definition.

Example:
    >>> import moopt
    >>> problem = moopt.Problem(
    ...     variables=[moopt.Real("x", 0.0, 1.0)],
    ...     objectives=[moopt.Objective("f1"), moopt.Objective("acc", "max")],
    ...     evaluate=lambda p: {"f1": p["x"], "acc": 1 - p["x"] ** 2},
    ... )
    >>> problem.directions
    ['min', 'max']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional

import numpy as np

from .space import Space


@dataclass(frozen=True)
class Objective:
    """A named value to minimize or maximize.

    Args:
        name: Name, with its unit where it has one (``"latency_ms"``).
        direction: ``"min"`` or ``"max"``.
        unit: Optional unit string for reports (``"ms"``).
        cheap: True when the value can be computed for any candidate without
            the expensive evaluation (params, FLOPs, a latency model); the
            problem's ``evaluate_cheap`` then returns it.
    """

    name: str
    direction: str = "min"
    unit: Optional[str] = None
    cheap: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"an objective name must be a non-empty string, got {self.name!r}.")
        if self.direction not in ("min", "max"):
            raise ValueError(
                f"objective {self.name!r}: direction is {self.direction!r}; use 'min' or 'max'."
            )

    @property
    def sign(self) -> float:
        """+1 for ``min``, -1 for ``max`` (multiply to get a minimized value)."""
        return 1.0 if self.direction == "min" else -1.0

    def to_config(self) -> dict:
        return {"name": self.name, "direction": self.direction, "unit": self.unit, "cheap": self.cheap}


@dataclass(frozen=True)
class Constraint:
    """A named constraint value ``g``; the candidate is feasible when ``g <= 0``."""

    name: str

    def to_config(self) -> dict:
        return {"name": self.name}


def _as_objective(o) -> Objective:
    if isinstance(o, Objective):
        return o
    if isinstance(o, str):
        return Objective(o)
    if isinstance(o, Mapping):
        return Objective(**o)
    raise TypeError(f"expected an Objective, a name or a dict, got {o!r}.")


class Problem:
    """Variables, objectives (and constraints ``g <= 0``) and an evaluation function.

    Args:
        variables: The decision variables (or a :class:`~moopt.Space`).
        objectives: The objectives, each with its direction.
        evaluate: ``evaluate(params) -> {name: value}`` for one candidate;
            returns every objective (the cheap ones may be left out when
            ``evaluate_cheap`` is given) and every constraint; extra keys are
            kept as metrics.
        constraints: Constraint names (or :class:`Constraint`), feasible when ``<= 0``.
        evaluate_cheap: Optional ``evaluate_cheap(params) -> {name: value}``
            for the objectives marked ``cheap``.
        evaluate_batch: Optional vectorized ``evaluate_batch(X) -> (F, G)`` on
            the vector encoding, ``X`` of shape ``(n, n_vars)``, ``F`` of shape
            ``(n, n_obj)`` in the objectives' own directions, ``G`` of shape
            ``(n, n_constr)`` or ``None``.
        name: A short name for reports.
        progressive_space: Optional :class:`~moopt.search.progressive.ProgressiveSpace`
            that grows the problem's token-sequence variable one token at a
            time, or grows sequences that its ``to_params`` maps onto the
            problem's variables (the capability a progressive search needs
            beyond the variables; without it a progressive search grows every
            sequence of the variable's tokens).
        settings: JSON values that change what ``evaluate`` returns but are not
            variables: a training configuration, the dataset, the seed that
            governs evaluation, a device table.  They are part of
            :meth:`to_config`, so a run store refuses to resume a run whose
            problem settings changed, exactly as for a changed objective.

    Example:
        >>> from moopt.space import Real
        >>> p = Problem([Real("lr", 1e-4, 1e-1, log=True)], ["error"],
        ...             lambda q: {"error": q["lr"]}, settings={"epochs": 3, "seed": 0})
        >>> p.to_config()["settings"]
        {'epochs': 3, 'seed': 0}
    """

    def __init__(
        self,
        variables,
        objectives: Iterable,
        evaluate: Optional[Callable[[dict], Mapping[str, Any]]] = None,
        *,
        constraints: Iterable = (),
        evaluate_cheap: Optional[Callable[[dict], Mapping[str, Any]]] = None,
        evaluate_batch: Optional[Callable] = None,
        name: str = "problem",
        progressive_space: Any = None,
        settings: Optional[Mapping[str, Any]] = None,
    ):
        self.space = variables if isinstance(variables, Space) else Space(variables)
        self.objectives = tuple(_as_objective(o) for o in objectives)
        if not self.objectives:
            raise ValueError("a problem needs at least one objective.")
        self.constraints = tuple(c if isinstance(c, Constraint) else Constraint(str(c)) for c in constraints)
        names = [o.name for o in self.objectives] + [c.name for c in self.constraints]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"objective and constraint names must be unique; duplicated: {sorted(dup)}.")
        if evaluate is None and evaluate_batch is None:
            raise ValueError("a problem needs evaluate (one candidate) or evaluate_batch (vectorized).")
        if any(o.cheap for o in self.objectives) and evaluate_cheap is None and evaluate is None:
            raise ValueError("objectives marked cheap need evaluate_cheap.")
        self._evaluate = evaluate
        self._evaluate_cheap = evaluate_cheap
        self._evaluate_batch = evaluate_batch
        self.name = name
        self.progressive_space = _check_progressive_space(progressive_space, self.space)
        self.settings = _check_settings(settings)

    # -- descriptors -------------------------------------------------------
    @property
    def variables(self):
        return self.space.variables

    @property
    def objective_names(self) -> list[str]:
        return [o.name for o in self.objectives]

    @property
    def constraint_names(self) -> list[str]:
        return [c.name for c in self.constraints]

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    @property
    def n_obj(self) -> int:
        return len(self.objectives)

    @property
    def signs(self) -> np.ndarray:
        return np.array([o.sign for o in self.objectives])

    @property
    def cheap_objectives(self) -> list[str]:
        return [o.name for o in self.objectives if o.cheap]

    @property
    def has_batch(self) -> bool:
        return self._evaluate_batch is not None

    @property
    def batch_exact(self) -> bool:
        """True when :meth:`evaluate` itself goes through ``evaluate_batch`` (no per-candidate function).

        Then evaluating several candidates in one ``evaluate_batch`` call gives exactly the
        values :meth:`evaluate` gives each (no metrics are lost, no error differs), so the
        engine may evaluate a whole asked batch at once.
        """
        return self._evaluate is None and self._evaluate_batch is not None

    # -- evaluation --------------------------------------------------------
    def evaluate(self, params: Mapping) -> dict:
        """Evaluate one candidate; returns ``{name: float}`` with every objective and constraint.

        Raises:
            ValueError: the evaluation returned a missing or non-numeric value.
        """
        params = dict(params)
        if self._evaluate is None:
            assert self._evaluate_batch is not None  # __init__ requires one of the two
            x = self.space.to_vector(params)[None, :]
            F, G = self._evaluate_batch(x)
            out = {o.name: float(F[0, j]) for j, o in enumerate(self.objectives)}
            if self.constraints:
                out.update({c.name: float(G[0, j]) for j, c in enumerate(self.constraints)})
            return self._check(out)  # NaN/inf from a vectorized evaluation is an error too
        out = dict(self._evaluate(params))
        if self._evaluate_cheap is not None and any(o.name not in out for o in self.objectives if o.cheap):
            out.update(self.evaluate_cheap(params))
        return self._check(out)

    def evaluate_cheap(self, params: Mapping) -> dict:
        """Values of the objectives marked ``cheap`` for one candidate."""
        if self._evaluate_cheap is None:
            raise ValueError(f"problem {self.name!r} has no evaluate_cheap function.")
        out = dict(self._evaluate_cheap(dict(params)))
        missing = [n for n in self.cheap_objectives if n not in out]
        if missing:
            raise ValueError(f"evaluate_cheap did not return the cheap objectives {missing}.")
        return {k: float(v) for k, v in out.items()}

    def evaluate_batch(self, X) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """Vectorized evaluation on the vector encoding (falls back to a loop)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if self._evaluate_batch is not None:
            F, G = self._evaluate_batch(X)
            return np.asarray(F, dtype=float), (None if G is None else np.asarray(G, dtype=float))
        rows = [self.evaluate(self.space.from_vector(x)) for x in X]
        F = np.array([[r[n] for n in self.objective_names] for r in rows], dtype=float)
        G = (np.array([[r[n] for n in self.constraint_names] for r in rows], dtype=float)
             if self.constraints else None)
        return F, G

    def _check(self, out: dict) -> dict:
        missing = [n for n in self.objective_names + self.constraint_names if n not in out]
        if missing:
            raise ValueError(
                f"evaluate returned no value for {missing}; it must return a dict with every "
                f"objective {self.objective_names} and constraint {self.constraint_names}."
            )
        res = {}
        for k, v in out.items():
            try:
                res[k] = float(v)
            except (TypeError, ValueError):
                if k in self.objective_names or k in self.constraint_names:
                    raise ValueError(f"evaluate returned {k}={v!r}, which is not a number.") from None
                res[k] = v  # free-form metric
        bad = [n for n in self.objective_names + self.constraint_names if not math.isfinite(res[n])]
        if bad:
            raise ValueError(f"evaluate returned non-finite values for {bad}: {[res[n] for n in bad]}.")
        return res

    def to_config(self) -> dict:
        """JSON description stored with each run: space, objectives, constraints and settings.

        Everything here must match when a run resumes; ``settings`` (training
        configuration, dataset, evaluation seed, ...) appears only when given.
        """
        config: dict[str, Any] = {
            "name": self.name,
            "variables": self.space.to_config(),
            "objectives": [o.to_config() for o in self.objectives],
            "constraints": [c.to_config() for c in self.constraints],
        }
        if self.settings:
            config["settings"] = dict(self.settings)
        return config


def _check_progressive_space(space: Any, variables: Space):
    if space is None:
        return None
    from .search.progressive.space import ProgressiveSpace

    if not isinstance(space, ProgressiveSpace):
        raise TypeError(f"progressive_space must be a moopt.ProgressiveSpace, got {type(space).__name__}.")
    if space.variable is not None and space.variable not in variables.names:
        raise ValueError(
            f"the progressive space grows the variable {space.variable!r}, but the problem's variables are "
            f"{variables.names}; set the space's `variable` to one of them."
        )
    return space


def _check_settings(settings: Optional[Mapping[str, Any]]) -> dict:
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise TypeError(f"settings must be a dict of JSON values, got {type(settings).__name__}.")
    from . import serial

    try:
        return serial.loads(serial.dumps(dict(settings)))
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"settings must hold JSON values only (numbers, strings, lists, dicts): {exc}; convert "
            "objects such as a training config to a dict (e.g. dataclasses.asdict)."
        ) from None
