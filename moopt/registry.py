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
    "nsga2": "moopt.search.plugins.pymoo:nsga2",
    "nsga3": "moopt.search.plugins.pymoo:nsga3",
    "moead": "moopt.search.plugins.pymoo:moead",
    "smsemoa": "moopt.search.plugins.pymoo:smsemoa",
    "deap-nsga2": "moopt.search.plugins.deap:deap_nsga2",
    # Pareto local search over discrete decisions (issue: PLS for categorical spaces)
    "pls": "moopt.search.local:ParetoLocalSearch",
}


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
    """Names of the registered algorithms whose modules are installed."""
    return sorted(n for n, t in _ALGORITHMS.items() if callable(t) or _importable(t))


def get_algorithm(name: str) -> Callable[..., Any]:
    """Return the factory registered under ``name``.

    Raises:
        ConfigError: unknown name (the message lists the known ones).
    """
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
