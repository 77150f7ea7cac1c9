"""The search contract: RandomSearch passes it; broken searches fail the check they break."""

import numpy as np
import pytest

import moopt
from moopt.search.base import Candidate, Search, minimized_values
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
from moopt.testing.search_contract import agreeing_problem, bait_problem, in_bait_region


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


def test_flip_mirrors_cheap_batch_values_and_the_reference_point():
    from moopt.problems.progressive import SyntheticNAS

    p = SyntheticNAS(max_length=2)
    f = flip_last_objective(p)
    assert f.directions == ["min", "min", "max"] and p.directions == ["min"] * 3
    assert isinstance(f, SyntheticNAS) and f.progressive_space is p.progressive_space
    x = {"sequence": p.progressive_space.initial()[0]}
    assert f.evaluate_cheap(x)["latency_ms"] == -p.evaluate_cheap(x)["latency_ms"]
    assert f.evaluate_cheap(x)["params"] == p.evaluate_cheap(x)["params"]
    assert f.ref_point.tolist() == [*p.ref_point[:2].tolist(), -p.ref_point[2]]
    real = contract_problem("real")
    X = np.random.default_rng(2).random((5, 4))
    F0, _ = real.evaluate_batch(X)
    F1, _ = flip_last_objective(real).evaluate_batch(X)
    assert np.array_equal(F1[:, 0], F0[:, 0]) and np.array_equal(F1[:, 1], -F0[:, 1])
    assert getattr(flip_last_objective(real), "ref_point", None) is None  # none to mirror


@pytest.mark.parametrize("kind", ["real", "categorical", "growable"])
def test_bait_problem_keeps_the_order_and_puts_zero_ahead_of_every_value(kind):
    p = contract_problem(kind)
    b = bait_problem(p)
    rng = np.random.default_rng(3)
    xs = [p.space.sample(rng) for _ in range(30)]
    V = np.array([[p.evaluate(x)[n] for n in p.objective_names] for x in xs]) * p.signs
    B = np.array([[b.evaluate(x)[n] for n in b.objective_names] for x in xs]) * b.signs
    assert b.directions == p.directions
    assert (B > 0).all() and (B < 4.0).all()  # minimized: 0 is better, "worst" (4.0) is worse
    for j in range(p.n_obj):  # same order of candidates in every objective
        assert np.array_equal(np.argsort(V[:, j], kind="stable"), np.argsort(B[:, j], kind="stable"))


@pytest.mark.parametrize("kind", ["real", "categorical"])
def test_agreeing_problem_minimizes_one_score_in_every_objective(kind):
    p = contract_problem(kind)
    down, up = agreeing_problem(p, 1), agreeing_problem(p, -1)
    assert down.directions[-1] == "max" and down.directions[:-1] == p.directions[:-1]
    x = p.space.sample(np.random.default_rng(4))
    s = p.evaluate(x)[p.objective_names[-1]] * p.signs[-1]
    assert np.allclose(np.array([down.evaluate(x)[n] for n in p.objective_names]) * down.signs, s)
    assert np.allclose(np.array([up.evaluate(x)[n] for n in p.objective_names]) * up.signs, -s)
    with pytest.raises(ValueError, match="sense must be 1"):
        agreeing_problem(p, 0)


def test_bait_region_is_a_quarter_around_the_anchor():
    p = contract_problem("real")
    anchor = {"x0": 0.9, "x1": 0.5, "x2": 0.5, "x3": 0.5}
    inside = [in_bait_region(p.space, {**anchor, "x0": v}, anchor) for v in (0.74, 0.76, 0.9, 1.0)]
    assert inside == [False, True, True, True]
    g = contract_problem("growable")
    assert in_bait_region(g.space, {"seq": ("b", "a")}, {"seq": ("b",)})
    assert not in_bait_region(g.space, {"seq": ("a", "b")}, {"seq": ("b",)})


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


# ---- a small search that learns from values, and its broken variants ----
class GreedyMutation(Search):
    """Mutates a member of the front of its minimized results 3 times in 4, else samples uniformly.

    A well-formed value-using search: it reads told values only through
    ``minimized_values`` (directions applied, failed and pruned results left
    out), so it passes every contract check; each subclass below breaks one rule.
    """

    def __init__(self, problem, *, seed=None):
        super().__init__(problem, seed=seed)
        self._X: list[list[float]] = []  # vector encodings of the results it learns from
        self._F: list[list[float]] = []  # their minimized objective values

    def ask(self, n=1):
        space = self.problem.space
        lo, hi = space.bounds()
        out = []
        for _ in range(n):
            if self._F and self.rng.random() < 0.75:
                front = np.flatnonzero(moopt.is_nondominated(np.array(self._F)))
                x = np.array(self._X[int(self.rng.choice(front))])
                params = space.from_vector(np.clip(x + self.rng.normal(0.0, 0.05, size=x.shape) * (hi - lo), lo, hi))
            else:
                params = space.sample(self.rng)
            out.append(self._new_candidate(params))
        return out

    def learn_from(self, results):
        """``(results, minimized F)`` of the results to learn from."""
        F, kept = minimized_values(self.problem, results)
        return kept, F

    def tell(self, results):
        kept, F = self.learn_from(list(results))
        for r, f in zip(kept, F):
            self._X.append(self.problem.space.to_vector(r.candidate.params).tolist())
            self._F.append([float(v) for v in f])

    def state_dict(self):
        return {**super().state_dict(), "X": self._X, "F": self._F}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self._X = [list(map(float, x)) for x in state["X"]]
        self._F = [list(map(float, f)) for f in state["F"]]


class IgnoresDirections(GreedyMutation):
    """Reads told values as if every objective were minimized."""

    def learn_from(self, results):
        kept = [r for r in results if r.ok]
        return kept, np.array([[r.values[n] for n in self.problem.objective_names] for r in kept])


class InvertsDirections(GreedyMutation):
    """Multiplies by the negated signs: maximizes 'min' objectives and minimizes 'max' ones."""

    def learn_from(self, results):
        kept, F = super().learn_from(results)
        return kept, -F


class FailedAsZero(GreedyMutation):
    """Reads a failed or pruned result as a success whose values are all 0."""

    def learn_from(self, results):
        names = self.problem.objective_names
        return results, np.array([[(r.values[n] if r.ok else 0.0) for n in names] for r in results]
                                 ).reshape(-1, len(names)) * self.problem.signs


class FailedAsBest(GreedyMutation):
    """Ranks a failed or pruned result as the best seen so far (one below the ideal point)."""

    def learn_from(self, results):
        kept, F = super().learn_from(results)
        bad = [r for r in results if not r.ok]
        if not bad:
            return kept, F
        seen = np.array(self._F + F.tolist()).reshape(-1, self.problem.n_obj)
        best = (seen.min(axis=0) if len(seen) else np.zeros(self.problem.n_obj)) - 1.0
        return kept + bad, np.vstack([F, np.tile(best, (len(bad), 1))])


class StopsAfterFailures(GreedyMutation):
    """Declares itself finished after a tell in which every result failed."""

    def __init__(self, problem, *, seed=None):
        super().__init__(problem, seed=seed)
        self._stopped = False

    def ask(self, n=1):
        return [] if self._stopped else super().ask(n)

    def tell(self, results):
        results = list(results)
        self._stopped = self._stopped or (bool(results) and not any(r.ok for r in results))
        super().tell(results)

    def state_dict(self):
        return {**super().state_dict(), "stopped": self._stopped}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self._stopped = bool(state["stopped"])


@pytest.mark.parametrize("problem", ["real", "categorical", "constrained"])
def test_the_value_using_reference_search_passes_every_check(problem):
    check_search(lambda p, seed: GreedyMutation(p, seed=seed), problems=[problem])


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
    (IgnoresDirections, "directions", "reads told values without their direction"),
    (InvertsDirections, "directions", "does not move towards the optimum"),
    (FailedAsZero, "failures", "reads failed/pruned results as successes with value 0"),
    (FailedAsBest, "failures", "drawn to failures"),
    (StopsAfterFailures, "failures", "declared itself finished after one bad round"),
])
def test_broken_searches_fail_their_check(cls, check, match):
    factory = lambda problem, seed: cls(problem, seed=seed)  # noqa: E731
    with pytest.raises((AssertionError, RuntimeError, moopt.ConfigError), match=match):
        run_contract_check(check, factory, "real")
    with pytest.raises((AssertionError, RuntimeError, moopt.ConfigError)):
        check_search(factory, problems=["real"])
    assert check in CHECKS
