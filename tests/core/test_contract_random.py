"""The search contract: RandomSearch passes it; broken searches fail the check they break."""

import numpy as np
import pytest

import moopt
from moopt.search.base import Candidate
from moopt.testing import (
    CHECKS,
    PROBLEM_KINDS,
    SearchContract,
    check_search,
    contract_cases,
    contract_problem,
    flip_last_objective,
    run_contract_check,
)


def random_factory(problem, seed):
    return moopt.RandomSearch(problem, seed=seed)


@pytest.mark.parametrize("check,problem", contract_cases(problems=PROBLEM_KINDS))
def test_random_search_contract(check, problem):
    run_contract_check(check, random_factory, problem)


def test_check_search_by_registered_name():
    check_search("random", problems=["real"])


class TestRandomSearchContractClass(SearchContract):
    problems = ("sequence",)

    def make_search(self, problem, seed):
        return moopt.RandomSearch(problem, seed=seed)


def test_contract_problems_and_flip():
    for kind in PROBLEM_KINDS:
        p = contract_problem(kind)
        x = p.space.sample(np.random.default_rng(0))
        out = p.evaluate(x)
        assert set(p.objective_names) <= set(out)
    p = contract_problem("real")
    f = flip_last_objective(p)
    assert f.directions == ["min", "max"] and p.directions == ["min", "min"]
    x = p.space.sample(np.random.default_rng(1))
    assert f.evaluate(x)["f2"] == -p.evaluate(x)["f2"] and f.evaluate(x)["f1"] == p.evaluate(x)["f1"]
    with pytest.raises(ValueError, match="unknown contract problem"):
        contract_problem("graph")
    with pytest.raises(ValueError, match="unknown contract check"):
        run_contract_check("speed", random_factory)


# ---- broken searches: each must fail its check (the suite can fail) ----
class ForgetfulState(moopt.RandomSearch):
    """Checkpoint without the RNG state."""

    def state_dict(self):
        return {"next_id": self._next_id}

    def load_state_dict(self, state):
        self._next_id = state["next_id"]


class GlobalRandom(moopt.RandomSearch):
    """Draws from numpy's global state instead of its generator."""

    def ask(self, n=1):
        return [self._new_candidate({v.name: v.from_float(np.random.random()) for v in self.problem.space})
                for _ in range(n)]


class AskZeroGivesOne(moopt.RandomSearch):
    def ask(self, n=1):
        return super().ask(max(n, 1))


class TooMany(moopt.RandomSearch):
    def ask(self, n=1):
        return super().ask(n + 1)


class ReusesIds(moopt.RandomSearch):
    def ask(self, n=1):
        return [Candidate(0, c.params) for c in super().ask(n)]


class OutOfSpace(moopt.RandomSearch):
    def ask(self, n=1):
        return [Candidate(c.id, {**c.params, "x0": 2.0}) for c in super().ask(n)]


class HatesFailures(moopt.RandomSearch):
    def tell(self, results):
        for r in results:
            if not r.ok:
                raise RuntimeError("cannot handle failures")


class NegatesInPlace(moopt.RandomSearch):
    def tell(self, results):
        for r in results:
            if r.ok:
                for k in r.values:
                    r.values[k] = -r.values[k]


class NonJsonState(moopt.RandomSearch):
    def state_dict(self):
        return {**super().state_dict(), "model": object()}


class IgnoresBudget(moopt.RandomSearch):
    def ask(self, n=1):
        return super().ask(n + 2)


@pytest.mark.parametrize("cls, check, match", [
    (ForgetfulState, "resume", "resumed search proposed"),
    (GlobalRandom, "determinism", "same seed, different candidates"),
    (AskZeroGivesOne, "ask_zero", "ask\\(0\\) must return"),
    (TooMany, "candidates", "more than n"),
    (ReusesIds, "candidates", "already used"),
    (OutOfSpace, "candidates", "not valid in the space"),
    (HatesFailures, "failures", "cannot handle failures"),
    (NegatesInPlace, "directions", "modified the values"),
    (NonJsonState, "state_json", "not JSON"),
    (IgnoresBudget, "budget", "at most n"),
])
def test_broken_searches_fail_their_check(cls, check, match):
    factory = lambda problem, seed: cls(problem, seed=seed)  # noqa: E731
    with pytest.raises((AssertionError, RuntimeError, moopt.ConfigError), match=match):
        run_contract_check(check, factory, "real")
    with pytest.raises((AssertionError, RuntimeError, moopt.ConfigError)):
        check_search(factory, problems=["real"])
    assert check in CHECKS
