"""Reusable test suites: the search contract every search algorithm must pass.

See :mod:`moopt.testing.search_contract`.
"""

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
]
