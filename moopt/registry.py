"""Name -> search algorithm registry used by :func:`moopt.optimize` and the CLI.

Entries are ``"module:callable"`` strings imported on first use, so naming an
algorithm costs nothing until it runs.  Each callable is a factory
``factory(problem, *, seed, **options) -> Search``.

Example:
    >>> from moopt.registry import available_algorithms
    >>> "random" in available_algorithms()
    True
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
from typing import Any, Callable

from .errors import ConfigError

_ALGORITHMS: dict[str, str | Callable] = {
    "random": "moopt.search.random:RandomSearch",
    # MONAS-style policy-gradient controller (issue: MONAS in the core)
    "reinforce": "moopt.search.reinforce:ReinforceSearch",
    # DPP-Net-style surrogate-assisted progressive search (issue: DPP-Net in the core)
    "progressive": "moopt.search.progressive.search:ProgressiveSearch",
    # pymoo / DEAP algorithms behind the ask/tell interface (issue: interoperability)
    # NSGA-II on arrays: pymoo's algorithm and random stream without its object layer (issue 13)
    "nsga2": "moopt.search.nsga2:nsga2",
    "pymoo-nsga2": "moopt.search.plugins.pymoo:nsga2",
    "nsga3": "moopt.search.plugins.pymoo:nsga3",
    "moead": "moopt.search.plugins.pymoo:moead",
    "smsemoa": "moopt.search.plugins.pymoo:smsemoa",
    "deap-nsga2": "moopt.search.plugins.deap:deap_nsga2",
    # Pareto local search over discrete decisions (issue: PLS for categorical spaces)
    "pls": "moopt.search.local:ParetoLocalSearch",
}


#: The name that lets moopt pick the search (:func:`choose_algorithm`); the default of
#: :func:`moopt.optimize` and ``moopt run``.
AUTO = "auto"


def choose_algorithm(problem, budget=None) -> tuple[str, str]:
    """The search ``algorithm="auto"`` runs on ``problem``, and why: ``(name, reason)``.

    The rule (evidence in docs/search.md, "algorithm=auto"):

    * every variable discrete (``Categorical``, ``Integer``, fixed-length ``TokenSequence``):
      ``pls`` -- the best geometric-mean regret ratio of moopt's searches and the peers at 100,
      300 and 1,000 evaluations on the NAS-Bench-201 benchmark (``benchmarks/bench_nb201.py``;
      per objective set it trails Optuna's TPE slightly at 100 on pixel3 and panacea);
    * any ``Real``: ``moead`` when every variable is real, there are no constraints (pymoo's
      MOEA/D refuses them) and the budget is at least 1,000 or not given (best on ZDT1/ZDT2/DTLZ2
      at 5,000 in docs/benchmarking.md); otherwise ``nsga2``;
    * otherwise a growable space (a ``progressive_space``, or a single variable-length
      ``TokenSequence``): ``progressive``; anything else: ``random``.

    Args:
        problem: The :class:`~moopt.Problem`.
        budget: The run's budget (evaluations), or ``None``.
    """
    from .space import Categorical, Integer, Real, TokenSequence

    vs = list(problem.variables)
    if any(isinstance(v, Real) for v in vs):
        if (all(isinstance(v, Real) for v in vs) and not getattr(problem, "constraints", ())
                and (budget is None or budget >= 1000)):
            return "moead", "real-valued, unconstrained, budget >= 1000: MOEA/D"
        why = ("constrained" if getattr(problem, "constraints", ()) else
               "mixed variables" if not all(isinstance(v, Real) for v in vs) else "budget < 1000")
        return "nsga2", f"real-valued ({why}): NSGA-II"
    if vs and all(isinstance(v, (Categorical, Integer)) or (isinstance(v, TokenSequence) and v.fixed_length)
                  for v in vs):
        return "pls", "all variables discrete: Pareto local search"
    if getattr(problem, "progressive_space", None) is not None or (
            len(vs) == 1 and isinstance(vs[0], TokenSequence)):
        return "progressive", "growable token sequence: progressive search"
    return "random", "no rule for these variables: random search"


def register_algorithm(name: str, target: str | Callable, *, overwrite: bool = False) -> None:
    """Register a search factory under ``name`` (``"module:callable"`` or a callable)."""
    if name in _ALGORITHMS and not overwrite:
        raise ConfigError(f"algorithm {name!r} is already registered; pass overwrite=True to replace it.")
    _ALGORITHMS[name] = target


def _importable(target: str) -> bool:
    module = target.split(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def available_algorithms() -> list[str]:
    """Names of the registered algorithms whose modules are installed (``"auto"`` is not one)."""
    return sorted(n for n, t in _ALGORITHMS.items() if callable(t) or _importable(t))


def get_algorithm(name: str) -> Callable[..., Any]:
    """Return the factory registered under ``name``.

    ``"auto"`` is resolved per problem by :func:`choose_algorithm` (see :func:`make_search`);
    here it returns a factory that does so.

    Raises:
        ConfigError: unknown name (the message lists the known ones).
    """
    if name == AUTO:
        return lambda problem, *, seed=None, **options: make_search(
            choose_algorithm(problem)[0], problem, seed=seed, **options)
    target = _ALGORITHMS.get(name)
    if target is None or (isinstance(target, str) and not _importable(target)):
        known = available_algorithms()
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown algorithm {name!r}; choose one of {known}.{hint}")
    if callable(target):
        return target
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def make_search(name: str, problem, *, seed=None, **options):
    """Build the search ``name`` for ``problem`` with ``seed`` and options."""
    return get_algorithm(name)(problem, seed=seed, **options)
