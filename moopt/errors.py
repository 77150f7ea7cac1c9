"""Exception hierarchy of moopt.

Input problems raise the built-in ``ValueError``/``TypeError`` with a message
that names the argument, the bad value and the fix.  Problems with run stores,
configurations and registries raise a :class:`MooptError` subclass.  A problem's
``evaluate`` may raise :class:`EvaluationError` (a failed evaluation, charged to
the budget) or :class:`OutsideSpaceError` (a candidate the problem does not
contain: recorded ``"pruned"``, free).
"""

from __future__ import annotations


class MooptError(Exception):
    """Base class of moopt's own errors (run store, configuration, registry)."""


class ConfigError(MooptError, ValueError):
    """A configuration (algorithm, problem, preset, option) is invalid or unknown."""


class RunStoreError(MooptError):
    """A run store is corrupt, from an unknown schema, or does not match the run."""


class EvaluationError(MooptError):
    """An evaluation failed; recorded as a failed result, never lost."""


class OutsideSpaceError(EvaluationError):
    """The candidate is outside the problem's search space; the run does not charge it to the budget.

    Raise it (or a subclass) from a problem's ``evaluate`` for a valid combination of
    variable values that the problem does not contain, e.g. a NAS cell missing from a
    user's device table.  The run records the candidate with status ``"pruned"``, tells the
    search so (searches treat it like a failure and move away from it), and does not charge
    it to the budget: nothing was paid for.  A repeat of the candidate is answered from the
    run store without evaluating it again.  Any other exception is a failed evaluation,
    charged to the budget (and evaluated again when proposed again).

    The engine recognizes the error by its class name at the start of the evaluation's error
    text (the text is what crosses process and Dask boundaries), so a subclass must be
    defined in a module imported where :func:`moopt.optimize` runs, e.g. the problem's own.

    Example:
        >>> import moopt
        >>> def evaluate(q):
        ...     if q["a"] == 2:
        ...         raise OutsideSpaceError("a=2 was not measured")
        ...     return {"f1": q["a"], "f2": -q["a"]}
        >>> p = moopt.Problem([moopt.Integer("a", 0, 3)], ["f1", "f2"], evaluate)
        >>> res = moopt.optimize(p, "random", budget=3, seed=0)
        >>> res.n_paid, res.counts["pruned"] > 0
        (3, True)
    """


def outside_space_names() -> frozenset[str]:
    """Names of :class:`OutsideSpaceError` and of every subclass defined so far."""
    names, todo = set(), [OutsideSpaceError]
    while todo:
        cls = todo.pop()
        if cls.__name__ not in names:
            names.add(cls.__name__)
            todo.extend(cls.__subclasses__())
    return frozenset(names)


def is_outside_space(error: str | None) -> bool:
    """Whether an evaluation's error text (``"ClassName: message ..."``) is an :class:`OutsideSpaceError`.

    Example:
        >>> is_outside_space("OutsideSpaceError: cell 7 has no latency"), is_outside_space("ValueError: x")
        (True, False)
    """
    if not error:
        return False
    head, sep, _ = error.partition(": ")
    return bool(sep) and head.rsplit(".", 1)[-1] in outside_space_names()
