"""Hypervolume and distance indicators against brute force and moocore."""

import warnings

import moocore
import numpy as np
import pytest
from _kernel_oracles import (
    bf_hv,
    bf_nd_mask,
    directions_for,
    forbid_moocore,
    own_kernels_only,
    own_small_kernels,
    points,
    real_points,
    sphere,
)
from hypothesis import given
from hypothesis import strategies as st

import moopt
from moopt import _kernels


def _ref(F, margin=1.0):
    return F.max(axis=0) + margin


# --------------------------------------------------------------- hypervolume
def test_hypervolume_examples():
    F = [[5, 5], [4, 6], [2, 7], [7, 4]]
    assert moopt.hypervolume(F, ref=[10, 10]) == 38.0
    assert moopt.hypervolume(np.array(F) * -1, ref=[-10, -10], directions="max") == 38.0
    assert moopt.hypervolume([[1.0, 1.0]], ref=[3.0, 2.0]) == 2.0
    assert moopt.hypervolume([[1.0, 1.0, 1.0]], ref=[2.0, 3.0, 4.0]) == 6.0
    assert moopt.hypervolume([[2.0], [1.0]], ref=[4.0]) == 3.0
    assert moopt.hypervolume(np.zeros((0, 2)), ref=[1, 1]) == 0.0
    assert moopt.hypervolume([], ref=[1, 1]) == 0.0


@given(points(max_n=8, max_m=5), st.data())
def test_hypervolume_matches_inclusion_exclusion(F, data):
    ref = _ref(F, data.draw(st.sampled_from([0.5, 1.0, 2.0])))
    assert moopt.hypervolume(F, ref) == pytest.approx(bf_hv(F, ref), rel=1e-12, abs=1e-12)


@given(real_points(max_n=8, min_m=2, max_m=6))
def test_hypervolume_continuous_inclusion_exclusion(F):
    ref = np.full(F.shape[1], 1.05)
    assert moopt.hypervolume(F, ref) == pytest.approx(bf_hv(F, ref), rel=1e-9, abs=1e-12)


def _hv_sets(m, n, rng):
    """A front (all non-dominated), a cube (mostly dominated) and a grid (ties, duplicates)."""
    return {"front": sphere(n, m, rng), "cube": rng.random((n, m)),
            "grid": rng.integers(0, 6, size=(n, m)) / 5.0}


@given(points(max_n=12, min_m=2, max_m=4), st.data())
def test_own_hv_kernels_match_brute_force(F, data):
    """The numpy sweeps (m = 2) and the pruning in front of moocore (m >= 3), on small sets too."""
    ref = _ref(F, data.draw(st.sampled_from([0.5, 1.0, 2.0])))
    with own_small_kernels():
        assert moopt.hypervolume(F, ref) == pytest.approx(bf_hv(F, ref), rel=1e-12, abs=1e-12)
        if F.shape[1] == 2:  # dominated points are ignored (moocore's ignore_dominated=True)
            nd = np.flatnonzero(bf_nd_mask(F))
            G = F[nd]
            expected = np.zeros(len(F))
            for t, i in enumerate(nd):
                expected[i] = bf_hv(G, ref) - bf_hv(np.delete(G, t, axis=0), ref)
            np.testing.assert_allclose(moopt.hv_contributions(F, ref), expected, atol=1e-9)


@pytest.mark.parametrize("m,n", [(2, 5000), (2, 200), (2, 40)])
def test_hypervolume_own_kernels_vs_moocore(m, n, monkeypatch):
    """m = 2: moopt's own sweeps (with the small-set shortcut to moocore switched off), moocore the oracle.

    For m >= 3 moopt's own code is the pruning in front of moocore (tested below).
    """
    rng = np.random.default_rng(m * n)
    ref = np.full(m, 1.1)
    sets = _hv_sets(m, n, rng)
    expected = {k: moocore.hypervolume(X, ref=ref) for k, X in sets.items()}
    # points outside the reference point are dropped before any kernel runs
    outside = np.vstack([sets["cube"], rng.random((50, m)) + 1.0])
    own_kernels_only(monkeypatch)  # any call into moocore now fails the test
    for k, X in sets.items():
        assert moopt.hypervolume(X, ref) == pytest.approx(expected[k], rel=1e-10), k
    assert moopt.hypervolume(outside, ref, outside="ignore") == pytest.approx(expected["cube"], rel=1e-10)


@pytest.mark.parametrize("m", [4, 5, 6, 7])
def test_hypervolume_pruning_vs_moocore(m, monkeypatch):
    """m >= 4: moopt prunes, moocore computes what is left; the pruning must keep every front point.

    moopt has no exact kernel of its own for m >= 4 (hvwfg is disabled here), so
    the code under test is the pruning: the set it hands on must be smaller
    than the input (or the test would compare moocore with itself) and hold the
    whole front, which moocore computes on the full set as the oracle.
    """
    rng = np.random.default_rng(m)
    F = np.vstack([sphere(150 if m <= 5 else 80, m, rng), rng.random((300, m)) + 0.05])
    ref = np.full(m, 1.1)
    expected = moocore.hypervolume(F, ref=ref)
    front = {tuple(p) for p in F[moocore.is_nondominated(F, keep_weakly=True)]}
    handed_on = own_kernels_only(monkeypatch, allow_hv=True)
    assert moopt.hypervolume(F, ref) == pytest.approx(expected, rel=1e-10)
    [P] = handed_on
    assert len(P) < len(F), "nothing was pruned: the test would compare moocore with itself"
    assert front <= {tuple(p) for p in P}, "the pruning dropped a front point"


def test_hypervolume_wfg_path_matches_moocore():
    if not _kernels._hvwfg():
        pytest.skip("hvwfg not installed")
    rng = np.random.default_rng(7)
    F = np.abs(rng.normal(size=(260, 6)))
    F /= np.linalg.norm(F, axis=1, keepdims=True)
    ref = np.full(6, 1.2)
    assert len(F) >= _kernels._WFG_MIN_POINTS
    assert _kernels.hv_exact(F, ref) == pytest.approx(moocore.hypervolume(F, ref=ref), rel=1e-10)


@given(points(max_n=12, max_m=4), st.data())
def test_hypervolume_max_direction_equals_negated_min(F, data):
    dirs = data.draw(directions_for(F.shape[1]))
    signs = np.where(np.array(dirs) == "max", -1.0, 1.0)
    ref = _ref(F)
    assert moopt.hypervolume(F * signs, ref * signs, directions=dirs) == pytest.approx(
        moopt.hypervolume(F, ref)
    )


@given(points(min_n=2, max_n=15, max_m=4))
def test_hypervolume_monotone_when_adding_points(F):
    ref = _ref(F)
    prev = 0.0
    for k in range(1, len(F) + 1):
        hv = moopt.hypervolume(F[:k], ref)
        assert hv >= prev - 1e-12
        prev = hv


def test_reference_point_outside_policy():
    F = np.array([[1.0, 1.0], [0.5, 3.0], [2.0, 0.5]])
    ref = [2.5, 2.5]  # the second point is outside in objective 1
    with pytest.warns(UserWarning, match="1 of 3 points"):
        hv = moopt.hypervolume(F, ref)
    assert hv == pytest.approx(bf_hv(F[[0, 2]], ref))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert moopt.hypervolume(F, ref, outside="ignore") == hv
    with pytest.raises(ValueError, match="do not strictly dominate"):
        moopt.hypervolume(F, ref, outside="raise")
    with pytest.raises(ValueError, match="outside must be one of"):
        moopt.hypervolume(F, ref, outside="drop")
    with pytest.warns(UserWarning):
        assert moopt.hypervolume([[3.0, 3.0]], ref) == 0.0
    # a point on the boundary bounds no volume either
    assert moopt.hypervolume([[2.5, 1.0]], ref, outside="ignore") == 0.0


# ------------------------------------------------------------- contributions
def _bf_contrib(F, ref):
    """HV(F) - HV(F minus p) over the non-dominated points only (dominated -> 0)."""
    F = np.asarray(F, dtype=float)
    nd = bf_nd_mask(F)
    out = np.zeros(len(F))
    idx = np.flatnonzero(nd)
    base = bf_hv(F[idx], ref)
    for i in idx:
        rest = F[[j for j in idx if j != i]]
        out[i] = base - bf_hv(rest, ref)
    return out


@given(points(max_n=8, min_m=1, max_m=4))
def test_contributions_match_brute_force(F):
    ref = _ref(F)
    np.testing.assert_allclose(moopt.hv_contributions(F, ref), _bf_contrib(F, ref), atol=1e-9)


@given(points(max_n=14, max_m=4))
def test_contributions_sum_at_most_hv(F):
    ref = _ref(F)
    c = moopt.hv_contributions(F, ref)
    assert np.all(c >= -1e-12)
    assert c.sum() <= moopt.hypervolume(F, ref) + 1e-9


def _contribution_set(m, rng, n=400):
    F = sphere(n, m, rng)
    return np.vstack([F, rng.random((100, m)) + 0.5, F[:5]])  # dominated points and duplicates


def test_contributions_2d_own_kernels_vs_moocore(monkeypatch):
    rng = np.random.default_rng(2)
    F, ref = _contribution_set(2, rng), np.full(2, 2.0)
    small = F[::5]  # few enough rows for the compiled kernel's own sort
    expected, expected_small = moocore.hv_contributions(F, ref=ref), moocore.hv_contributions(small, ref=ref)
    own_kernels_only(monkeypatch)
    np.testing.assert_allclose(moopt.hv_contributions(F, ref), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(moopt.hv_contributions(small, ref), expected_small, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        moopt.hv_contributions(F * [-1.0, 1.0], ref * [-1.0, 1.0], directions=["max", "min"]),
        expected, rtol=1e-9, atol=1e-12,
    )


@pytest.mark.parametrize("m", [3, 4])
def test_contributions_limit_sets_vs_moocore(m, monkeypatch):
    """moopt's own contributions kernel (box minus the limit set's hypervolume) against moocore's.

    For m = 3 ``moopt.hv_contributions`` calls moocore, so the limit-set kernel
    is called directly.  For m >= 4 the dispatch is forced to it.  The
    hypervolumes inside are moocore's (behind moopt's pruning).
    """
    rng = np.random.default_rng(m)
    F, ref = _contribution_set(m, rng, n=200), np.full(m, 2.0)
    expected = moocore.hv_contributions(F, ref=ref)
    own_kernels_only(monkeypatch, allow_hv=True)
    got = _kernels._hvc_limit_sets(F, np.arange(len(F)), ref)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    if m >= 4:
        monkeypatch.setattr(_kernels, "_LIMIT_SETS_MIN", 0)
        np.testing.assert_allclose(moopt.hv_contributions(F, ref), expected, rtol=1e-9, atol=1e-12)


def test_contributions_outside_points_get_zero():
    F = np.array([[1.0, 2.0], [2.0, 1.0], [0.0, 5.0]])
    c = moopt.hv_contributions(F, [3.0, 3.0], outside="ignore")
    assert c.tolist() == [1.0, 1.0, 0.0]


# --------------------------------------------------------------- improvement
@given(points(max_n=8, max_m=4), points(min_n=1, max_n=4, max_m=4))
def test_hv_improvement_matches_definition(F, X):
    m = F.shape[1]
    X = np.resize(X, (len(X), m))
    ref = np.maximum(_ref(F), X.max(axis=0) + 1.0)
    got = moopt.hv_improvement(X, F, ref)
    base = bf_hv(F, ref)
    expected = [bf_hv(np.vstack([F, x]), ref) - base for x in X]
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_hv_improvement_examples():
    assert moopt.hv_improvement([[1, 1], [3, 3]], [[2, 2]], ref=[4, 4]).tolist() == [5.0, 0.0]
    assert moopt.hv_improvement([1, 1], np.zeros((0, 2)), ref=[2, 3]).tolist() == [2.0]
    assert moopt.hv_improvement([[5, 1]], [[2, 2]], ref=[4, 4]).tolist() == [0.0]  # outside ref
    # maximization: same geometry negated
    assert moopt.hv_improvement([[-1, -1]], [[-2, -2]], ref=[-4, -4], directions="max").tolist() == [5.0]


# --------------------------------------------------------------- Monte Carlo
def test_hypervolume_mc_accuracy_and_seed():
    rng = np.random.default_rng(0)
    F = np.abs(rng.normal(size=(30, 4)))
    F /= np.linalg.norm(F, axis=1, keepdims=True)
    ref = np.full(4, 1.1)
    exact = moopt.hypervolume(F, ref)
    est = moopt.hypervolume_mc(F, ref, n_samples=40_000, seed=1)
    value, se, n = est
    assert n == 40_000 and se > 0
    assert abs(value - exact) < 5 * se
    assert est == moopt.hypervolume_mc(F, ref, n_samples=40_000, seed=1)
    assert est != moopt.hypervolume_mc(F, ref, n_samples=40_000, seed=2)
    g = np.random.default_rng(5)
    assert moopt.hypervolume_mc(F, ref, n_samples=1000, seed=g).n_samples == 1000


def test_hypervolume_mc_edge_cases():
    assert moopt.hypervolume_mc(np.zeros((0, 3)), [1, 1, 1]) == (0.0, 0.0, 100_000)
    assert moopt.hypervolume_mc([[1, 1]], ref=[2, 2], seed=0)[:2] == (1.0, 0.0)
    with pytest.raises(ValueError, match="n_samples"):
        moopt.hypervolume_mc([[1, 1]], ref=[2, 2], n_samples=0)


# ----------------------------------------------------------------- distances
def _bf_dist(A, B, plus=False):
    out = []
    for a in A:
        ds = []
        for b in B:
            d = b - a
            if plus:
                d = np.maximum(d, 0)
            ds.append(np.sqrt((d**2).sum()))
        out.append(min(ds))
    return np.array(out)


@given(real_points(max_n=12, max_m=4), st.integers(0, 2**31))
def test_distance_indicators_brute_force_and_moocore(F, seed):
    R = np.random.default_rng(seed).random((7, F.shape[1]))
    assert moopt.igd(F, R) == pytest.approx(_bf_dist(R, F).mean())
    assert moopt.gd(F, R) == pytest.approx(_bf_dist(F, R).mean())
    assert moopt.igd_plus(F, R) == pytest.approx(_bf_dist(R, F, plus=True).mean())
    eps = max(min((f - r).max() for f in F) for r in R)
    assert moopt.epsilon_additive(F, R) == pytest.approx(eps)
    assert moopt.igd(F, R) == pytest.approx(moocore.igd(F, ref=R))
    assert moopt.igd_plus(F, R) == pytest.approx(moocore.igd_plus(F, ref=R))
    assert moopt.epsilon_additive(F, R) == pytest.approx(moocore.epsilon_additive(F, ref=R))


@given(real_points(max_n=10, max_m=4), st.data())
def test_distance_indicators_directions(F, data):
    dirs = data.draw(directions_for(F.shape[1]))
    signs = np.where(np.array(dirs) == "max", -1.0, 1.0)
    R = np.random.default_rng(0).random((5, F.shape[1]))
    for fn in (moopt.igd, moopt.igd_plus, moopt.gd, moopt.epsilon_additive):
        assert fn(F * signs, R * signs, directions=dirs) == pytest.approx(fn(F, R))


def test_distance_indicator_examples_and_chunking():
    assert moopt.igd([[0, 1], [1, 0]], [[0, 0]]) == 1.0
    assert moopt.igd_plus([[1, 0]], [[0, 0], [2, 0]]) == 0.5
    assert moopt.gd([[0, 1], [3, 4]], [[0, 0]]) == 3.0
    assert moopt.epsilon_additive([[1, 2]], [[0, 3]]) == 1.0
    rng = np.random.default_rng(2)
    F, R = rng.random((1500, 3)), rng.random((3000, 3))  # forces several chunks
    assert moopt.igd(F, R) == pytest.approx(moocore.igd(F, ref=R))
    assert moopt.epsilon_additive(F, R) == pytest.approx(moocore.epsilon_additive(F, ref=R))


def test_indicators_never_mutate_inputs():
    rng = np.random.default_rng(3)
    F = rng.random((20, 3))
    R = rng.random((10, 3))
    ref = np.full(3, 1.5)
    copies = F.copy(), R.copy(), ref.copy()
    dirs = ["max", "min", "min"]
    moopt.hypervolume(F, ref, directions=dirs, outside="ignore")
    moopt.hv_contributions(F, ref, directions=dirs, outside="ignore")
    moopt.hv_improvement(R, F, ref, directions=dirs)
    moopt.hypervolume_mc(F, ref, directions=dirs, n_samples=100, seed=0, outside="ignore")
    for fn in (moopt.igd, moopt.igd_plus, moopt.gd, moopt.epsilon_additive):
        fn(F, R, directions=dirs)
    for a, b in zip((F, R, ref), copies):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend", ["pygmo", "limit-sets"])
def test_contributions_m4_kernels_agree(monkeypatch, backend):
    """m >= 4: pygmo's algorithm, or (without pygmo) moopt's limit sets, agree with moocore."""
    rng = np.random.default_rng(4)
    F = sphere(520, 4, rng)
    F = np.vstack([F, F[:3], rng.random((20, 4)) + 0.6])  # duplicates and dominated points
    ref = np.full(4, 1.7)
    small = F[:60]
    expected, expected_small = moocore.hv_contributions(F, ref=ref), moocore.hv_contributions(small, ref=ref)
    if backend == "pygmo":
        if not _kernels._pygmo():
            pytest.skip("pygmo not installed")
        monkeypatch.setattr(_kernels, "_PYGMO_HVC_MIN", 1)  # the small set too
        monkeypatch.setattr(_kernels, "_moocore_hvc", forbid_moocore("hv_contributions"))
    else:
        own_kernels_only(monkeypatch, allow_hv=True)  # pygmo disabled: 523 rows -> limit sets
        monkeypatch.setattr(_kernels, "_LIMIT_SETS_MIN", 1)  # the small set too
    np.testing.assert_allclose(moopt.hv_contributions(F, ref), expected, rtol=1e-8, atol=1e-13)
    np.testing.assert_allclose(moopt.hv_contributions(small, ref), expected_small, rtol=1e-8, atol=1e-13)
