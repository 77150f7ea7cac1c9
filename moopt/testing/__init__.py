"""Reusable test suites: the contracts every search, evaluator and run store must pass.

See :mod:`moopt.testing.search_contract`, :mod:`moopt.testing.evaluator_contract`
and :mod:`moopt.testing.store_contract`.
"""

from .evaluator_contract import (
    EVALUATOR_CHECKS,
    EvaluatorContract,
    check_evaluator,
    evaluator_cases,
    evaluator_contract_problem,
    run_evaluator_check,
)
from .search_contract import (
    CHECKS,
    DEFAULT_PROBLEMS,
    PROBLEM_KINDS,
    SearchContract,
    check_search,
    contract_cases,
    contract_problem,
    flip_last_objective,
    run_contract_check,
)
from .store_contract import (
    STORE_CHECKS,
    StoreContract,
    StoreFactory,
    check_store,
    run_store_check,
    run_store_factory,
    store_cases,
)

__all__ = [
    "CHECKS",
    "DEFAULT_PROBLEMS",
    "PROBLEM_KINDS",
    "SearchContract",
    "check_search",
    "contract_cases",
    "contract_problem",
    "flip_last_objective",
    "run_contract_check",
    # evaluators
    "EVALUATOR_CHECKS",
    "EvaluatorContract",
    "check_evaluator",
    "evaluator_cases",
    "evaluator_contract_problem",
    "run_evaluator_check",
    # run stores
    "STORE_CHECKS",
    "StoreContract",
    "StoreFactory",
    "check_store",
    "run_store_check",
    "run_store_factory",
    "store_cases",
]
