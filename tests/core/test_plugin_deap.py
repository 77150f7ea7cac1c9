"""DEAP's NSGA-II behind moopt's ask/tell."""

import random

import moocore
import numpy as np
import pytest

import moopt
from moopt.registry import make_search
from moopt.search.base import Evaluation
from moopt.testing import contract_cases, run_contract_check

deap_creator = pytest.importorskip("deap.creator")
from moopt.problems import get_problem  # noqa: E402
from moopt.search.plugins.deap import DeapNSGA2, deap_nsga2  # noqa: E402


def factory(problem, seed):
    return DeapNSGA2(problem, seed=seed, pop_size=8)


@pytest.mark.parametrize("check,problem", contract_cases(problems=["real", "categorical", "constrained"]))
def test_search_contract(check, problem):
    run_contract_check(check, factory, problem)


def drive(search, problem, budget, fail=lambda c: False):
    out, n = [], 0
    while n < budget:
        cands = search.ask(budget - n)
        if not cands:
            break
        X = np.array([problem.space.to_vector(c.params) for c in cands])
        F, G = problem.evaluate_batch(X)
        res = []
        for i, c in enumerate(cands):
            if fail(c):
                res.append(Evaluation.failure(c, "boom"))
                continue
            cons = dict(zip(problem.constraint_names, G[i])) if G is not None else None
            res.append(Evaluation.success(c, dict(zip(problem.objective_names, F[i])), constraints=cons))
            out.append(F[i])
        search.tell(res)
        n += len(cands)
    return np.array(out)


def test_registry_name():
    s = make_search("deap-nsga2", get_problem("zdt1"), seed=0, pop_size=12)
    assert isinstance(s, DeapNSGA2) and len(s.ask(100)) == 12


def test_no_creator_globals_leak():
    before = set(dir(deap_creator))
    p = get_problem("zdt1:n_var=5")
    drive(deap_nsga2(p, seed=0, pop_size=8), p, 40)
    moopt.optimize(p, "deap-nsga2", budget=20, seed=1, progress=False, pop_size=8)
    assert set(dir(deap_creator)) == before


def test_global_random_untouched_and_seed_determinism():
    p = get_problem("zdt2:n_var=6")
    random.seed(42)
    expected = random.random()
    random.seed(42)
    a = drive(deap_nsga2(p, seed=3, pop_size=12), p, 72)
    assert random.random() == expected  # the caller's stream did not move
    random.seed(7)
    b = drive(deap_nsga2(p, seed=3, pop_size=12), p, 72)
    np.testing.assert_array_equal(a, b)
    c = drive(deap_nsga2(p, seed=4, pop_size=12), p, 72)
    assert not np.array_equal(a, c)


def test_resume_mid_generation_is_exact():
    p = get_problem("zdt1:n_var=6")
    fail = lambda c: c.id % 7 == 3  # noqa: E731
    s = deap_nsga2(p, seed=5, pop_size=12)
    drive(s, p, 41, fail=fail)
    state = moopt.serial.loads(moopt.serial.dumps(s.state_dict()))
    s2 = deap_nsga2(p, seed=99, pop_size=12)
    s2.load_state_dict(state)
    np.testing.assert_array_equal(drive(s, p, 120, fail=fail), drive(s2, p, 120, fail=fail))


def test_constraints_push_towards_feasibility():
    p = get_problem("bnh")
    s = deap_nsga2(p, seed=0, pop_size=20)
    drive(s, p, 400)
    X = np.array([list(ind) for ind in s._pop])
    _, G = p.evaluate_batch(X)
    assert np.all(G <= 0)  # the final population is feasible


def test_bad_options():
    p = get_problem("zdt1")
    with pytest.raises(ValueError, match="multiple of 4"):
        deap_nsga2(p, seed=0, pop_size=10)
    with pytest.raises(ValueError, match="crossover_prob"):
        deap_nsga2(p, seed=0, pop_size=8, crossover_prob=1.5)
    with pytest.raises(TypeError):
        deap_nsga2(p, seed=0, pop_size=8, popsize=3)


def test_deap_nsga2_converges_on_zdt1():
    # DEAP's own test_nsga2 in spirit: fixed budget, hypervolume close to the maximum.
    # Measured on 8 seeds: 0.964..0.989 of max HV at 3000 evaluations; threshold 0.95.
    p = get_problem("zdt1:n_var=10")
    F = drive(deap_nsga2(p, seed=0, pop_size=40), p, 3000)
    hv = moocore.hypervolume(F[np.all(F < p.ref_point, axis=1)], ref=p.ref_point)
    assert hv >= 0.95 * p.max_hypervolume
