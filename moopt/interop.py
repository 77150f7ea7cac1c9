"""Other libraries' problems as moopt problems.

:func:`from_pymoo` wraps any pymoo problem (vectorized, constraints included);
it is also ``moopt.from_pymoo``.  pymoo is not imported here: the wrapped
problem only calls its ``evaluate``.  pymoo's and DEAP's *algorithms* are
searches and live in :mod:`moopt.search.plugins`.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .problem import Problem
from .space import Real


def from_pymoo(pymoo_problem: Any, *, eq_tol: float = 1e-4, name: Optional[str] = None) -> Problem:
    """Wrap a pymoo problem as a :class:`moopt.Problem` (vectorized).

    Variables become ``Real("x0".."x{n-1}", xl, xu)``, objectives ``f1..fm``
    (minimized, as in pymoo), inequality constraints ``g1..`` (pymoo's ``G <= 0``
    convention is moopt's) and equality constraints ``h1..`` as
    ``|h| - eq_tol <= 0``.

    Args:
        pymoo_problem: A ``pymoo.core.problem.Problem`` with finite bounds.
        eq_tol: Tolerance of equality constraints.
        name: Problem name (default: the pymoo class name, lower case).

    Returns:
        A :class:`moopt.Problem` whose ``evaluate_batch`` calls pymoo.

    Example:
        >>> from pymoo.problems import get_problem
        >>> p = from_pymoo(get_problem("bnh"))
        >>> p.objective_names, p.constraint_names
        (['f1', 'f2'], ['g1', 'g2'])
    """
    xl = np.broadcast_to(np.asarray(pymoo_problem.xl, dtype=float), (pymoo_problem.n_var,))
    xu = np.broadcast_to(np.asarray(pymoo_problem.xu, dtype=float), (pymoo_problem.n_var,))
    if not (np.all(np.isfinite(xl)) and np.all(np.isfinite(xu))):
        raise ValueError("from_pymoo: the pymoo problem needs finite bounds xl and xu for every variable.")
    n_ieq = int(getattr(pymoo_problem, "n_ieq_constr", 0))
    n_eq = int(getattr(pymoo_problem, "n_eq_constr", 0))
    variables = [Real(f"x{i}", float(lo), float(hi)) for i, (lo, hi) in enumerate(zip(xl, xu))]
    constraints = [f"g{i + 1}" for i in range(n_ieq)] + [f"h{i + 1}" for i in range(n_eq)]

    def evaluate_batch(X):
        F, G, H = pymoo_problem.evaluate(np.asarray(X, dtype=float), return_values_of=["F", "G", "H"])
        parts = []
        if n_ieq:
            parts.append(np.asarray(G, dtype=float).reshape(len(X), n_ieq))
        if n_eq:
            parts.append(np.abs(np.asarray(H, dtype=float).reshape(len(X), n_eq)) - eq_tol)
        return np.asarray(F, dtype=float).reshape(len(X), -1), (np.hstack(parts) if parts else None)

    return Problem(variables, [f"f{j + 1}" for j in range(pymoo_problem.n_obj)], constraints=constraints,
                   evaluate_batch=evaluate_batch, name=name or type(pymoo_problem).__name__.lower())
