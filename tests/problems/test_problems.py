"""Objective/constraint values against pymoo, true fronts, reference points and max hypervolumes."""

import math

import moocore
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moopt.problems import get_problem
from moopt.problems.base import das_dennis, select_spread

pymoo_problems = pytest.importorskip("pymoo.problems")

SPECS = (
    ["zdt1", "zdt2", "zdt3", "zdt4", "zdt6", "bnh", "srn", "tnk", "osy"]
    + [f"dtlz{i}:m={m}" for i in range(1, 8) for m in (2, 3, 5)]
    + ["c1dtlz1:m=3", "c1dtlz1:m=4"]
)


def _pymoo(p):
    name = p.name.split(":")[0]
    if name.startswith(("dtlz", "c1dtlz")):
        return pymoo_problems.get_problem(name, n_var=p.n_var, n_obj=p.n_obj)
    return pymoo_problems.get_problem(name)


def _uniform(p, n, seed=0):
    return np.random.default_rng(seed).uniform(p.xl, p.xu, size=(n, p.n_var))


@pytest.mark.parametrize("spec", SPECS)
def test_values_match_pymoo(spec):
    p = get_problem(spec)
    q = _pymoo(p)
    assert (q.n_var, q.n_obj, q.n_ieq_constr) == (p.n_var, p.n_obj, p.n_constr)
    np.testing.assert_allclose(q.xl, p.xl)
    np.testing.assert_allclose(q.xu, p.xu)
    X = _uniform(p, 300)
    X[:5] = p.xl  # corners too
    X[5:10] = p.xu
    F, G = p.evaluate_batch(X)
    Fq, Gq = q.evaluate(X, return_values_of=["F", "G"])
    np.testing.assert_allclose(F, Fq, rtol=1e-12, atol=1e-12)
    if p.n_constr:
        np.testing.assert_allclose(G, Gq, rtol=1e-12, atol=1e-12)
        # same sign convention: both call the same rows feasible
        assert np.array_equal(np.all(G <= 0, axis=1), np.all(Gq <= 0, axis=1))
    else:
        assert G is None


@pytest.mark.parametrize("spec", ["zdt3", "dtlz7:m=3", "osy"])
def test_single_evaluate_matches_batch(spec):
    p = get_problem(spec)
    X = _uniform(p, 5, seed=3)
    F, G = p.evaluate_batch(X)
    for i, x in enumerate(X):
        out = p.evaluate(p.space.from_vector(x))
        assert [out[n] for n in p.objective_names] == pytest.approx(F[i].tolist(), abs=1e-12)
        if G is not None:
            assert [out[n] for n in p.constraint_names] == pytest.approx(G[i].tolist(), abs=1e-12)


def test_batch_rejects_wrong_width():
    with pytest.raises(ValueError, match=r"shape \(n, 30\)"):
        get_problem("zdt1").evaluate_batch(np.zeros((2, 3)))


@pytest.mark.parametrize("spec", SPECS)
def test_front_sample_is_nondominated_and_sized(spec):
    p = get_problem(spec)
    for n in (7, 150):
        P = p.pareto_front(n)
        assert P.shape == (n, p.n_obj)
        assert np.all(np.isfinite(P))
        assert moocore.is_nondominated(P).all()
        assert len(np.unique(P, axis=0)) == n
    with pytest.raises(ValueError):
        p.pareto_front(1)


def _on_front_X(p, n, rng):
    """Decision vectors on the Pareto set (problem-specific analytic construction)."""
    name = p.name.split(":")[0]
    X = rng.uniform(p.xl, p.xu, size=(n, p.n_var))
    if name in ("zdt1", "zdt2", "zdt3", "zdt6"):
        X[:, 1:] = 0.0
    elif name == "zdt4":
        X[:, 1:] = 0.0
    elif name in ("dtlz1", "dtlz2", "dtlz3", "dtlz4", "dtlz5", "c1dtlz1"):
        X[:, p.n_obj - 1:] = 0.5
    elif name == "dtlz6":
        X[:, p.n_obj - 1:] = 0.0
    elif name == "dtlz7":
        X[:, p.n_obj - 1:] = 0.0
    return X


@pytest.mark.parametrize("spec", ["zdt1", "zdt2", "zdt4", "dtlz1:m=3", "dtlz2:m=3", "dtlz3:m=4",
                                  "dtlz4:m=3", "dtlz5:m=3", "dtlz6:m=3", "c1dtlz1:m=3"])
def test_pareto_set_points_lie_on_the_front_sample(spec):
    # Points built on the Pareto set must be (almost) on the sampled front: no front
    # point dominates them and they are close to the dense sample.
    p = get_problem(spec)
    rng = np.random.default_rng(1)
    F, G = p.evaluate_batch(_on_front_X(p, 200, rng))
    if G is not None:
        assert np.all(G <= 1e-12)
    P = p.pareto_front(5000)
    d = np.min(np.linalg.norm(F[:, None, :] - P[None, :, :], axis=2), axis=1)
    span = np.ptp(P, axis=0).max()
    assert d.max() < (0.05 if p.n_obj <= 3 else 0.12) * span
    eps = 1e-9
    dominated = np.any(np.all(P[None] <= F[:, None] - eps, axis=2), axis=1)
    assert not dominated.any()


@pytest.mark.parametrize("spec", ["zdt1", "zdt2", "zdt3", "zdt6", "bnh", "srn", "tnk", "osy",
                                  "dtlz1:m=3", "dtlz2:m=3", "dtlz5:m=3", "dtlz7:m=2", "dtlz7:m=3",
                                  "c1dtlz1:m=3"])
def test_no_feasible_point_beats_the_front(spec):
    # Random and front-biased feasible decision vectors never dominate a true-front point
    # (beyond a tiny tolerance) -- the front sample is optimal, not merely non-dominated.
    p = get_problem(spec)
    rng = np.random.default_rng(2)
    X = np.vstack([_uniform(p, 20000, seed=2), _on_front_X(p, 5000, rng)])
    F, G = p.evaluate_batch(X)
    if G is not None:
        F = F[np.all(G <= 0, axis=1)]
    assert len(F) > 100
    F = F[moocore.is_nondominated(F)]
    P = p.pareto_front(400)
    tol = 1e-7 * np.maximum(1.0, np.abs(P).max())
    beats = np.all(F[:, None, :] <= P[None, :, :] - tol, axis=2)
    assert not beats.any()


def test_dtlz5_curve_is_not_the_whole_front_beyond_three_objectives():
    # documented caveat: m >= 4 has points off the curve that no curve point dominates
    p3, p4 = get_problem("dtlz5:m=3"), get_problem("dtlz5:m=4")
    assert p3.front_exact and not p4.front_exact
    rng = np.random.default_rng(0)
    for p, expect_escape in ((p3, False), (p4, True)):
        X = rng.random((50000, p.n_var))
        X[:, p.n_obj - 1:] = (0.5 + rng.normal(0, 0.05, (50000, p.k))).clip(0, 1)
        F, _ = p.evaluate_batch(X)
        P = p.pareto_front(5000)
        nd = moocore.is_nondominated(np.vstack([P, F]))[len(P):]
        assert bool(nd.any()) is expect_escape


def test_front_shapes_analytic():
    P = get_problem("zdt1").pareto_front(50)
    np.testing.assert_allclose(P[:, 1], 1 - np.sqrt(P[:, 0]), atol=1e-14)
    P = get_problem("dtlz1:m=4").pareto_front(100)
    np.testing.assert_allclose(P.sum(axis=1), 0.5, atol=1e-12)
    P = get_problem("dtlz2:m=5").pareto_front(100)
    np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1.0, atol=1e-12)
    P = get_problem("dtlz7:m=3").pareto_front(300)
    phi = P[:, :2] * (1 + np.sin(3 * np.pi * P[:, :2]))
    np.testing.assert_allclose(P[:, 2], 6 - phi.sum(axis=1), atol=1e-12)
    P = get_problem("srn").pareto_front(20)
    np.testing.assert_allclose(P[:, 1], -P[:, 0] - 0.25, atol=1e-12)


def test_disconnected_pieces_match_pymoo_constants():
    from moopt.problems.dtlz import _dtlz7_intervals
    from moopt.problems.zdt import _zdt3_pieces

    pymoo_zdt3 = [[0, 0.0830015349], [0.182228780, 0.2577623634], [0.4093136748, 0.4538821041],
                  [0.6183967944, 0.6525117038], [0.8233317983, 0.8518328654]]
    # pymoo rounds the 2nd start (ours: h(a) = h(prev end) to 1e-14)
    np.testing.assert_allclose(np.array(_zdt3_pieces()), pymoo_zdt3, atol=1e-7)
    np.testing.assert_allclose(np.array(_dtlz7_intervals()),
                               [[0, 0.2514118360], [0.6316265307, 0.8594008566]], atol=2e-9)


@pytest.mark.parametrize("name", ["zdt1", "zdt2", "zdt3", "zdt6", "bnh", "srn"])
def test_front_matches_pymoo_front(name):
    # every point of pymoo's analytic front is on ours (within sampling resolution)
    p = get_problem(name)
    Pq = pymoo_problems.get_problem(name).pareto_front(200)
    P = p.pareto_front(20000)
    scale = np.ptp(P, axis=0)
    d = np.min(np.linalg.norm((Pq[:, None, :] - P[None]) / scale, axis=2), axis=1)
    assert d.max() < 2e-3


def test_reference_points():
    assert get_problem("zdt1").ref_point.tolist() == [1.1, 1.1]
    assert get_problem("dtlz1:m=4").ref_point.tolist() == [0.55] * 4
    assert get_problem("dtlz2:m=3").ref_point.tolist() == [1.1] * 3
    z6 = get_problem("zdt6")
    lo = 0.2807753191
    np.testing.assert_allclose(z6.ref_point, [1 + 0.1 * (1 - lo), 1.1 * (1 - lo**2)], atol=1e-8)
    # every front point strictly dominates the reference point
    for spec in SPECS:
        p = get_problem(spec)
        assert np.all(p.pareto_front(50) < p.ref_point)


def test_max_hypervolume_closed_forms():
    assert get_problem("zdt1").max_hypervolume == pytest.approx(1.21 - 1 / 3, abs=1e-12)
    assert get_problem("zdt2").max_hypervolume == pytest.approx(1.21 - 2 / 3, abs=1e-12)
    assert get_problem("zdt4").max_hypervolume == pytest.approx(1.21 - 1 / 3, abs=1e-12)
    assert get_problem("dtlz2:m=3").max_hypervolume == pytest.approx(1.331 - math.pi / 6, abs=1e-12)
    assert get_problem("dtlz1:m=3").max_hypervolume == pytest.approx(0.55**3 - 0.125 / 6, abs=1e-12)
    # ZDT1 with ref (1, 1): the textbook 2/3
    from moopt.problems.base import hv2d_curve

    assert hv2d_curve([(0.0, 1.0, lambda t: 1 - math.sqrt(t))], [1.0, 1.0]) == pytest.approx(2 / 3, abs=1e-12)


@pytest.mark.parametrize("spec", SPECS)
def test_max_hypervolume_agrees_with_dense_sample(spec):
    # an independent estimate (moocore on a dense front sample) approaches from below
    p = get_problem(spec)
    n = 100000 if p.n_obj == 2 else 3000
    hv = moocore.hypervolume(p.pareto_front(n) if p.n_obj == 2 else p._front(n), ref=p.ref_point)
    true = p.max_hypervolume
    assert hv <= true * (1 + 1e-9) + 1e-12
    rel = 2e-4 if p.n_obj == 2 else (3e-2 if p.n_obj == 3 else 0.12)
    assert hv >= true * (1 - rel)
    assert p.max_hypervolume_source == "analytic" or p.max_hypervolume_source.startswith("sampled:")


def test_separable_and_curve_formulas_against_independent_computations():
    from moopt.problems.base import hv2d_curve
    from moopt.problems.dtlz import _dtlz7_intervals

    # DTLZ7, m = 2: the general separable formula equals 2-D quadrature of the front pieces
    p = get_problem("dtlz7:m=2")
    h = lambda t: 4.0 - t * (1 + math.sin(3 * math.pi * t))  # noqa: E731
    assert p.max_hypervolume == pytest.approx(hv2d_curve([(a, b, h) for a, b in _dtlz7_intervals()],
                                                         p.ref_point), abs=1e-10)
    # DTLZ7, m = 3 and DTLZ5, m = 3: a dense sample approaches the formula from below
    for spec, n, rel in (("dtlz7:m=3", 200000, 2e-3), ("dtlz5:m=3", 100000, 2e-5)):
        q = get_problem(spec)
        hv = moocore.hypervolume(q._front(n), ref=q.ref_point)
        assert q.max_hypervolume_source == "analytic"
        assert 0 <= q.max_hypervolume - hv <= rel * q.max_hypervolume


def test_describe_is_json():
    import json

    d = get_problem("dtlz5:m=4").describe()
    assert json.loads(json.dumps(d)) == d
    assert d["max_hypervolume_source"] == "sampled:6000" and d["front_exact"] is False


def test_das_dennis_and_select_spread():
    W = das_dennis(3, 91)  # exact lattice size for p = 12
    assert W.shape == (91, 3)
    np.testing.assert_allclose(W.sum(axis=1), 1.0)
    W = das_dennis(3, 100)
    assert W.shape == (100, 3) and len(np.unique(W, axis=0)) == 100
    # the extremes are always kept
    for j in range(3):
        assert np.any(np.isclose(W[:, j], 1.0))
    with pytest.raises(ValueError):
        select_spread(W, 101)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["zdt1", "zdt3", "dtlz2:m=3", "dtlz7:m=3"]), st.integers(2, 400))
def test_front_size_property(spec, n):
    P = get_problem(spec).pareto_front(n)
    assert P.shape[0] == n and moocore.is_nondominated(P).all()
