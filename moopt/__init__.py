"""moopt: honest, fast multi-objective optimization, with device-aware NAS on top.

Only numpy is imported at ``import moopt``; everything else (pymoo, torch,
matplotlib, dask) is imported where it is used.  Public names are resolved
lazily from their modules.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    # errors
    "MooptError": "moopt.errors",
    "ConfigError": "moopt.errors",
    "RunStoreError": "moopt.errors",
    # space / problem
    "Real": "moopt.space",
    "Integer": "moopt.space",
    "Categorical": "moopt.space",
    "TokenSequence": "moopt.space",
    "Space": "moopt.space",
    "Objective": "moopt.problem",
    "Constraint": "moopt.problem",
    "Problem": "moopt.problem",
    # search interface
    "Candidate": "moopt.search.base",
    "Evaluation": "moopt.search.base",
    "Search": "moopt.search.base",
    "RandomSearch": "moopt.search.random",
    "ReinforceSearch": "moopt.search.reinforce",
    # rewards (MONAS and beyond)
    "Reward": "moopt.rewards",
    "MixedReward": "moopt.rewards",
    "PowerConstraintReward": "moopt.rewards",
    "AccuracyConstraintReward": "moopt.rewards",
    "WeightedSum": "moopt.rewards",
    "Chebyshev": "moopt.rewards",
    "SoftConstraint": "moopt.rewards",
    "HypervolumeImprovement": "moopt.rewards",
    "parse_reward": "moopt.rewards",
    "reward_from_config": "moopt.rewards",
    # run engine
    "optimize": "moopt.engine",
    "RunStore": "moopt.store",
    "RunResult": "moopt.result",
    "Table": "moopt.result",
    # Pareto kernels
    "dominates": "moopt.pareto",
    "constrained_dominates": "moopt.pareto",
    "nondominated_sort": "moopt.pareto",
    "is_nondominated": "moopt.pareto",
    "pareto_front": "moopt.pareto",
    "crowding_distance": "moopt.pareto",
    "ParetoArchive": "moopt.archive",
    # indicators
    "hypervolume": "moopt.indicators",
    "hv_contributions": "moopt.indicators",
    "hv_improvement": "moopt.indicators",
    "hypervolume_mc": "moopt.indicators",
    "igd": "moopt.indicators",
    "igd_plus": "moopt.indicators",
    "gd": "moopt.indicators",
    "epsilon_additive": "moopt.indicators",
    "infer_reference_point": "moopt.reference",
    "normalize": "moopt.reference",
    # pymoo / DEAP interoperability (imported only on access)
    "from_pymoo": "moopt.interop",
    "PymooSearch": "moopt.search.plugins.pymoo",
    "NSGA2Search": "moopt.search.nsga2",
    "DeapNSGA2": "moopt.search.plugins.deap",
    # progressive (DPP-Net) search and surrogates
    "ProgressiveSpace": "moopt.search.progressive.space",
    "FreeSequenceSpace": "moopt.search.progressive.space",
    "ProgressiveSearch": "moopt.search.progressive.search",
    "select_pareto": "moopt.search.progressive.selection",
    "select_top_k": "moopt.search.progressive.selection",
    "Surrogate": "moopt.surrogates.base",
    "make_surrogate": "moopt.surrogates",
    "kendall_tau": "moopt.surrogates.metrics",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        if name in ("search", "testing", "errors", "space", "problem", "serial"):
            return importlib.import_module(f"moopt.{name}")
        raise AttributeError(f"module 'moopt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
