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

import difflib
import math
import numbers
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
            returns a dict with every objective (the cheap ones may be left
            out when ``evaluate_cheap`` is given) and every constraint, each a
            finite real number (``int``, ``float`` or a numpy real scalar; not a
            string, a bool, ``None`` or an array); extra keys are kept as
            metrics (numbers, strings or other JSON values).  An evaluation
            that breaks this (a list instead of a dict, a missing or misspelt
            objective, ``"0.5"``, ``True``, NaN) is recorded as failed with an
            error naming the objective, the value and the fix; the run goes on.
            To record a candidate as failed yourself, raise an exception
            (e.g. :class:`~moopt.errors.EvaluationError`).
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
            ValueError: the evaluation returned a missing, non-numeric or non-finite value.
            TypeError: the evaluation returned something other than a dict.
        """
        params = dict(params)
        if self._evaluate is None:
            assert self._evaluate_batch is not None  # __init__ requires one of the two
            x = self.space.to_vector(params)[None, :]
            F, G = self._evaluate_batch(x)
            F, G = self._batch_arrays(F, G, 1)
            out = {o.name: float(F[0, j]) for j, o in enumerate(self.objectives)}
            if self.constraints:
                assert G is not None  # _batch_arrays checks it
                out.update({c.name: float(G[0, j]) for j, c in enumerate(self.constraints)})
            return self._check(out)  # NaN/inf from a vectorized evaluation is an error too
        out = self._as_dict(self._evaluate(params), "evaluate")
        if self._evaluate_cheap is not None and any(o.name not in out for o in self.objectives if o.cheap):
            out.update(self.evaluate_cheap(params))
        return self._check(out)

    def _as_dict(self, out: Any, what: str) -> dict:
        """``out`` as a dict, or a TypeError saying what ``what`` must return."""
        if isinstance(out, Mapping):
            return dict(out)
        kind = type(out).__name__
        shape = getattr(out, "shape", None)
        got = (f"a {kind} of shape {tuple(shape)}" if shape is not None
               else f"a {kind} of {len(out)} values" if isinstance(out, (list, tuple)) else f"{out!r:.80} ({kind})")
        example = ", ".join(f"{n!r}: ..." for n in self.objective_names)
        raise TypeError(
            f"{what} must return a dict {{name: value}} with every objective {self.objective_names}"
            + (f" and constraint {self.constraint_names}" if self.constraints else "")
            + f", got {got}; return e.g. {{{example}}}"
            + (" (values in the objectives' order: dict(zip(names, values)))."
               if isinstance(out, (list, tuple)) or shape is not None else "."))

    def evaluate_cheap(self, params: Mapping) -> dict:
        """Values of the objectives marked ``cheap`` for one candidate."""
        if self._evaluate_cheap is None:
            raise ValueError(f"problem {self.name!r} has no evaluate_cheap function.")
        out = self._as_dict(self._evaluate_cheap(dict(params)), "evaluate_cheap")
        missing = [n for n in self.cheap_objectives if n not in out]
        if missing:
            raise ValueError(f"evaluate_cheap did not return the cheap objectives {missing}"
                             f"{_typo_hint(missing, out)}; it must return a dict with each of them.")
        return {k: (_real(k, v, "evaluate_cheap") if k in self.objective_names else v) for k, v in out.items()}

    def evaluate_batch(self, X) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """Vectorized evaluation on the vector encoding (falls back to a loop)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if self._evaluate_batch is not None:
            F, G = self._evaluate_batch(X)
            return self._batch_arrays(F, G, len(X))
        rows = [self.evaluate(self.space.from_vector(x)) for x in X]
        F = np.array([[r[n] for n in self.objective_names] for r in rows], dtype=float)
        G = (np.array([[r[n] for n in self.constraint_names] for r in rows], dtype=float)
             if self.constraints else None)
        return F, G

    def _batch_arrays(self, F: Any, G: Any, n: int) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """``(F, G)`` of ``evaluate_batch`` as float arrays of the right shapes, or a ValueError that
        says which one is wrong and what it must be (strings, bools and objects are not numbers)."""
        out: list[Optional[np.ndarray]] = []
        for name, A, names in (("F", F, self.objective_names), ("G", G, self.constraint_names)):
            if name == "G" and not names:
                out.append(None)
                continue
            what = "objective" if name == "F" else "constraint"
            if A is None:
                raise ValueError(f"evaluate_batch returned {name}=None, but the problem has the {what}s {names}; "
                                 f"return (F, G) with {name} of shape (n, {len(names)}).")
            arr = np.asarray(A)
            if arr.dtype.kind not in "iuf":
                raise ValueError(
                    f"evaluate_batch returned {name} of dtype {arr.dtype}; it must hold real numbers (int or "
                    f"float; not strings, bools or objects): {name}[i, j] is {what} j of {names} for row i of X.")
            if arr.shape != (n, len(names)):
                raise ValueError(f"evaluate_batch returned {name} of shape {arr.shape}; it must have shape "
                                 f"(n, {len(names)}) = ({n}, {len(names)}): one row per row of X, one column "
                                 f"per {what} of {names}.")
            out.append(arr.astype(float, copy=False))
        assert out[0] is not None
        return out[0], out[1]

    def _check(self, out: dict) -> dict:
        names = self.objective_names + self.constraint_names
        missing = [n for n in names if n not in out]
        if missing:
            raise ValueError(
                f"evaluate returned no value for {missing}{_typo_hint(missing, out)}; it must return a dict "
                f"with every objective {self.objective_names}"
                + (f" and constraint {self.constraint_names}" if self.constraints else "")
                + f" (it returned the keys {sorted(map(str, out))[:20]})."
            )
        res: dict[str, Any] = {}
        for k, v in out.items():
            if k in names:
                res[k] = _real(k, v, "evaluate")
                continue
            try:  # a metric: a number where it converts to one (as before), else kept as it is
                res[k] = float(v)
            except (TypeError, ValueError):
                res[k] = v  # free-form metric (text, JSON values)
        bad = [n for n in names if not math.isfinite(res[n])]
        if bad:
            n = bad[0]
            what = "objective" if n in self.objective_names else "constraint"
            raise ValueError(
                f"evaluate returned non-finite values for {bad}: {n}={res[n]!r}; {what} {n!r} must be a finite "
                "number. Return a finite value, or raise an exception (e.g. moopt.errors.EvaluationError) to "
                "record the candidate as failed on purpose."
            )
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


def _real(name: str, v: Any, what: str) -> float:
    """An objective's or constraint's value as a float, or a ValueError naming it, the value and the fix.

    Accepted: ``int``, ``float``, numpy real scalars and 0-d arrays, and other scalars that
    convert with ``float()`` (a 0-d torch tensor).  Refused: strings, bools, ``None``,
    complex numbers, and arrays or tensors with a shape (``value.item()`` gives the number).
    """
    fix = f"return {name!r} as a real number (int or float)"
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{what} returned {name}={v!r}, a bool, not a number; {fix}.")
    if isinstance(v, (str, bytes)):
        raise ValueError(f"{what} returned {name}={v!r:.60}, a string, not a number; {fix}, "
                         "e.g. float(text) where the text holds one.")
    if v is None:
        raise ValueError(f"{what} returned {name}=None, not a number; {fix}, or raise an exception (e.g. "
                         "moopt.errors.EvaluationError) to record the candidate as failed.")
    if isinstance(v, numbers.Real):
        return float(v)
    shape = getattr(v, "shape", None)
    if shape is not None and tuple(shape) != ():
        raise ValueError(f"{what} returned {name} as a {type(v).__name__} of shape {tuple(shape)}, not a number; "
                         f"{fix}, e.g. value.item() for a single element.")
    dtype = getattr(v, "dtype", None)
    if isinstance(v, (complex, np.complexfloating)) or (isinstance(dtype, np.dtype) and dtype.kind not in "iuf"):
        raise ValueError(f"{what} returned {name}={v!r:.60} ({type(v).__name__}), not a real number; {fix}.")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{what} returned {name}={v!r:.60} ({type(v).__name__}), not a number; {fix}.") from None


def _typo_hint(missing: list[str], out: Mapping) -> str:
    """``" (it returned 'f_1': a misspelt 'f1'?)"`` for returned keys close to the missing names."""
    keys = [str(k) for k in out]
    hints = []
    for n in missing:
        close = difflib.get_close_matches(n, keys, n=1, cutoff=0.6) or [k for k in keys if k.lower() == n.lower()]
        if close:
            hints.append(f"{close[0]!r}: a misspelt {n!r}?")
    return f" (it returned {'; '.join(hints)})" if hints else ""


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
