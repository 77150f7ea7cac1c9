"""Dominance, sorting, filtering and crowding distance against brute-force oracles."""

import numpy as np
import pytest
from _kernel_oracles import (
    bf_crowding,
    bf_dominates,
    bf_nd_mask,
    bf_nd_mask_first,
    bf_ranks,
    directions_for,
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


# ----------------------------------------------------------------- dominates
def test_dominates_examples():
    assert moopt.dominates([1, 2], [2, 2]) is True
    assert moopt.dominates([2, 2], [2, 2]) is False
    assert moopt.dominates([1, 3], [2, 2]) is False
    assert moopt.dominates([3, 2], [2, 2], directions=["max", "min"]) is True
    assert moopt.dominates([3, 1], [2, 2], directions="max") is False
    out = moopt.dominates([1, 1], [[2, 2], [0, 0], [1, 1]])
    assert out.tolist() == [True, False, False]


@given(points(min_n=2, max_n=2), st.data())
def test_dominates_matches_brute_force_with_directions(F, data):
    dirs = data.draw(directions_for(F.shape[1]))
    signs = np.where(np.array(dirs) == "max", -1.0, 1.0)
    assert moopt.dominates(F[0], F[1], directions=dirs) == bf_dominates(F[0] * signs, F[1] * signs)


def test_constrained_dominates():
    cd = moopt.constrained_dominates
    assert cd([5, 5], [1, 1], g_a=[-1.0], g_b=[0.2]) is True  # feasible beats infeasible
    assert cd([1, 1], [5, 5], g_a=[0.2], g_b=[-1.0]) is False
    assert cd([5, 5], [1, 1], g_a=[0.1, 0.0], g_b=[0.3]) is True  # smaller violation
    assert cd([5, 5], [1, 1], g_a=[0.3], g_b=[0.1]) is False
    assert cd([5, 5], [1, 1], g_a=[0.2], g_b=[0.2]) is False  # equal violation: no domination
    assert cd([1, 1], [5, 5], g_a=[-1], g_b=[-2]) is True  # both feasible: Pareto
    assert cd([1, 1], [5, 5]) is True
    assert cd([1, 5], [5, 1]) is False
    assert cd([5, 5], [1, 1], directions="max") is True
    assert moopt.pareto.total_violation([[-1.0, 0.5], [2.0, 3.0]]).tolist() == [0.5, 5.0]


# -------------------------------------------------------------------- sorting
@given(points(max_n=30))
def test_nondominated_sort_matches_brute_force(F):
    assert moopt.nondominated_sort(F).tolist() == bf_ranks(F).tolist()


@given(real_points(max_n=60, max_m=4))
def test_nondominated_sort_continuous(F):
    assert moopt.nondominated_sort(F).tolist() == bf_ranks(F).tolist()


@given(points(max_n=30), st.data())
def test_sort_max_direction_equals_negated_min(F, data):
    dirs = data.draw(directions_for(F.shape[1]))
    signs = np.where(np.array(dirs) == "max", -1.0, 1.0)
    np.testing.assert_array_equal(
        moopt.nondominated_sort(F * signs, directions=dirs), moopt.nondominated_sort(F)
    )


@given(points(max_n=30), st.randoms(use_true_random=False))
def test_sort_invariant_to_row_permutation(F, rnd):
    perm = list(range(len(F)))
    rnd.shuffle(perm)
    perm = np.array(perm)
    np.testing.assert_array_equal(moopt.nondominated_sort(F[perm]), moopt.nondominated_sort(F)[perm])


@given(points(min_n=1, max_n=40, min_m=2, max_m=4), st.integers(1, 40))
def test_sort_stop_after(F, k):
    full = bf_ranks(F)
    got = moopt.nondominated_sort(F, stop_after=k)
    n = len(F)
    counts = np.bincount(full)
    last = int(np.searchsorted(np.cumsum(counts), min(k, n)))
    expected = np.where(full > last, n, full)
    np.testing.assert_array_equal(got, expected)
    assert int((got < n).sum()) >= min(k, n)


def test_sort_stop_after_peeling_path_large_m():
    F = np.random.default_rng(3).random((300, 4))
    full = moopt.nondominated_sort(F)
    got = moopt.nondominated_sort(F, stop_after=40)  # m >= 3 and k < n/2: peeling kernel
    ranked = got < len(F)
    np.testing.assert_array_equal(got[ranked], full[ranked])
    assert ranked.sum() >= 40
    assert got[ranked].max() == full[ranked].max()
    assert np.all(full[~ranked] > got[ranked].max())


def test_sort_with_constraints():
    F = np.array([[1.0, 1.0], [2.0, 2.0], [0.0, 0.0], [0.5, 0.5], [3.0, 0.0]])
    G = np.array([[-1.0], [-1.0], [0.5], [0.2], [0.2]])
    ranks = moopt.nondominated_sort(F, constraints=G)
    # feasible: 0 (rank 0), 1 (rank 1); infeasible by violation: 3 and 4 (0.2), then 2 (0.5)
    assert ranks.tolist() == [0, 1, 3, 2, 2]
    assert moopt.nondominated_sort(F, constraints=G, stop_after=2).tolist() == [0, 1, 5, 5, 5]
    assert moopt.nondominated_sort(F, constraints=G, stop_after=3).tolist() == [0, 1, 5, 2, 2]
    assert moopt.is_nondominated(F, constraints=G).tolist() == [True, False, False, False, False]
    all_bad = moopt.is_nondominated(F, constraints=G + 2.0)  # nobody feasible: least violation
    assert all_bad.tolist() == [True, True, False, False, False]
    assert moopt.nondominated_sort(F, constraints=G + 2.0).tolist() == [0, 0, 2, 1, 1]
    dup = moopt.is_nondominated(np.ones((3, 2)), constraints=[1.0, 1.0, 2.0], keep_duplicates=False)
    assert dup.tolist() == [True, False, False]


def test_sort_edge_cases():
    assert moopt.nondominated_sort(np.zeros((0, 3))).shape == (0,)
    assert moopt.nondominated_sort([[1.0, 2.0]]).tolist() == [0]
    assert moopt.nondominated_sort([[3.0], [1.0], [3.0], [2.0]]).tolist() == [2, 0, 2, 1]
    assert moopt.nondominated_sort([[1, 1], [1, 1]]).dtype == np.int64


# ------------------------------------------------------------------ filtering
@given(points(max_n=40))
def test_is_nondominated_matches_brute_force(F):
    np.testing.assert_array_equal(moopt.is_nondominated(F), bf_nd_mask(F))
    np.testing.assert_array_equal(moopt.is_nondominated(F, keep_duplicates=False), bf_nd_mask_first(F))


@given(points(max_n=40), st.data())
def test_is_nondominated_directions(F, data):
    dirs = data.draw(directions_for(F.shape[1]))
    signs = np.where(np.array(dirs) == "max", -1.0, 1.0)
    np.testing.assert_array_equal(moopt.is_nondominated(F * signs, directions=dirs), bf_nd_mask(F))


@pytest.mark.parametrize("m", [2, 3, 4, 6])
@pytest.mark.parametrize("kind", ["cube", "sphere", "dups"])
def test_filter_kernels_vs_moocore_large(m, kind, monkeypatch):
    """moopt's own filtering (pruning, 2-D sweeps) on large sets, moocore the oracle.

    For m >= 3 moopt hands what its pruning leaves undecided to moocore's filter;
    here that tail is brute force (:func:`own_kernels_only`), so moocore is never
    compared with itself.
    """
    import moocore

    rng = np.random.default_rng(m)
    if kind == "cube":
        F = rng.random((3000, m))
    elif kind == "sphere":  # every point non-dominated: exercises the fallback
        F = sphere(3000, m, rng)
    else:
        F = rng.integers(0, 8, size=(3000, m)).astype(float)
    weak, strict = moocore.is_nondominated(F, keep_weakly=True), moocore.is_nondominated(F, keep_weakly=False)
    own_kernels_only(monkeypatch)
    np.testing.assert_array_equal(moopt.is_nondominated(F), weak)
    np.testing.assert_array_equal(moopt.is_nondominated(F, keep_duplicates=False), strict)
    # the generic pruning kernel agrees with the 2-D sweep too
    np.testing.assert_array_equal(_kernels.nd_mask_nd(F, True), weak)


def _staircase_with_ties(kind, k=600, seed=0):
    """A large 2-D front (so the pruning stalls and the sweeps decide) with ties on it.

    ``"y"``: every front point has a dominated twin with the same second
    objective (all first objectives distinct); ``"x"``: the same first
    objective; ``"both"``: both twins and exact duplicates of front points.
    """
    i = np.arange(k, dtype=float)
    front = np.column_stack([i, k - i])
    parts = [front]
    if kind in ("y", "both"):
        parts.append(front + [0.5, 0.0])
    if kind in ("x", "both"):
        parts.append(front + [0.0, 0.5])
    if kind == "both":
        parts.append(front[::7])
    F = np.vstack(parts)
    return F[np.random.default_rng(seed).permutation(len(F))]


@pytest.mark.parametrize("kind", ["y", "x", "both"])
def test_2d_sweeps_with_ties_on_a_large_front(kind, monkeypatch):
    """Ties on a front too large to prune reach the 2-D sweeps (small random sets never do)."""
    import moocore

    F = _staircase_with_ties(kind)
    ref = F.max(axis=0) + 1.0
    weak, strict = moocore.is_nondominated(F, keep_weakly=True), moocore.is_nondominated(F, keep_weakly=False)
    hv, hvc = moocore.hypervolume(F, ref=ref), moocore.hv_contributions(F, ref=ref)
    own_kernels_only(monkeypatch)
    np.testing.assert_array_equal(moopt.is_nondominated(F), weak)
    np.testing.assert_array_equal(moopt.is_nondominated(F, keep_duplicates=False), strict)
    assert moopt.hypervolume(F, ref) == pytest.approx(hv, rel=1e-12)
    np.testing.assert_allclose(moopt.hv_contributions(F, ref), hvc, rtol=1e-12, atol=0)


def test_pruning_kernel_rounding_ties():
    # b dominates a but both sums round to the same float: the exact re-check must catch it
    a = np.array([1e16, 1.0, 0.0])
    b = np.array([1e16, 0.0, 0.0])
    F = np.vstack([a, b, [0.0, 2e16, 5.0]])
    assert F[0].sum() == F[1].sum()
    assert _kernels.nd_mask_nd(F, True).tolist() == [False, True, True]


@given(points(max_n=30))
def test_pareto_front_rows_and_index(F):
    front, idx = moopt.pareto_front(F, return_index=True)
    np.testing.assert_array_equal(front, F[idx])
    np.testing.assert_array_equal(idx, np.flatnonzero(bf_nd_mask_first(F)))
    assert len(np.unique(front, axis=0)) == len(front)
    all_copies = moopt.pareto_front(F, keep_duplicates=True)
    assert len(all_copies) == bf_nd_mask(F).sum()


# -------------------------------------------------------------------- crowding
@given(real_points(max_n=20, max_m=4))
def test_crowding_distance_matches_brute_force(F):
    np.testing.assert_allclose(moopt.crowding_distance(F), bf_crowding(F))


def test_crowding_distance_examples():
    assert moopt.crowding_distance([[0, 3], [1, 1], [3, 0]]).tolist() == [np.inf, 2.0, np.inf]
    assert moopt.crowding_distance([[1, 2]]).tolist() == [np.inf]
    d = moopt.crowding_distance([[0, 5], [1, 5], [2, 5], [4, 5]])  # second objective constant
    assert d[1] == pytest.approx(0.5) and d[2] == pytest.approx(0.75)
    assert np.isinf(d[0]) and np.isinf(d[3])
    F = np.random.default_rng(0).random((10, 3))
    np.testing.assert_allclose(
        moopt.crowding_distance(F), moopt.crowding_distance(-F, directions="max")
    )


# ---------------------------------------------------------------- no mutation
def test_inputs_never_mutated():
    F = np.random.default_rng(1).random((50, 3))
    F_list = F.tolist()
    copy = F.copy()
    dirs = ["max", "min", "max"]
    moopt.nondominated_sort(F, directions=dirs)
    moopt.nondominated_sort(F, directions=dirs, stop_after=5)
    moopt.is_nondominated(F, directions=dirs)
    moopt.pareto_front(F, directions=dirs)
    moopt.crowding_distance(F, directions=dirs)
    moopt.dominates(F[0], F[1:], directions=dirs)
    np.testing.assert_array_equal(F, copy)
    assert F_list == copy.tolist()


# ------------------------------------------------- moopt's own kernels, small sets
@given(points(max_n=40), st.booleans())
def test_own_filter_kernels_match_brute_force(F, keep):
    """The pruning + sweep / pairwise kernels themselves (small sets normally go to moocore's C)."""
    expected = bf_nd_mask(F) if keep else bf_nd_mask_first(F)
    np.testing.assert_array_equal(_kernels.np_nd_mask_nd(F, keep), expected)
    if F.shape[1] == 2:
        np.testing.assert_array_equal(_kernels.np_nd_mask_2d(F, keep), expected)
    with own_small_kernels():
        np.testing.assert_array_equal(moopt.is_nondominated(F, keep_duplicates=keep), expected)
        assert moopt.nondominated_sort(F).tolist() == bf_ranks(F).tolist()


@given(points(min_n=1, max_n=60, min_m=2), st.booleans(), st.integers(0, 3))
def test_pruning_keeps_the_front(F, keep, n_piv):
    """Pivots are front points, every front point is a pivot, a survivor or (keep) a pivot's copy."""
    piv, rest, dups = _kernels._prune(F, None, keep, min_left=0, max_pivots=n_piv or 1 << 30)
    front = set(np.flatnonzero(bf_nd_mask(F)).tolist())
    assert set(piv.tolist()) <= front
    kept = set(piv.tolist()) | set(rest.tolist())
    if keep:
        for d in dups:
            kept |= set(d.tolist())
        assert front <= kept
    else:  # a copy of a pivot may be dropped: every front point equals a kept one
        kept_rows = {tuple(F[i]) for i in kept}
        assert {tuple(F[i]) for i in front} <= kept_rows
    assert rest.tolist() == sorted(rest.tolist())


@pytest.mark.parametrize("m", [2, 3, 4])
def test_own_kernels_large_match_moocore(m, monkeypatch):
    """moopt's numpy kernels on large sets with ties (moocore's hypervolume only behind the pruning, m >= 3)."""
    import moocore

    rng = np.random.default_rng(10 + m)
    F = np.vstack([rng.random((2000, m)), rng.integers(0, 5, (500, m)) / 5.0])
    ref = np.full(m, 1.5)
    nd, hv, hvc = (moocore.is_nondominated(F, keep_weakly=True), moocore.hypervolume(F, ref=ref),
                   moocore.hv_contributions(F, ref=ref))
    handed_on = own_kernels_only(monkeypatch, allow_hv=True)
    np.testing.assert_array_equal(moopt.is_nondominated(F), nd)
    assert moopt.hypervolume(F, ref) == pytest.approx(hv, rel=1e-10)
    if m == 2:  # the numpy sweeps
        assert not handed_on
        np.testing.assert_allclose(moopt.hv_contributions(F, ref), hvc, rtol=1e-9, atol=1e-13)
    else:  # the pruning, then moocore; contributions by the limit sets (moocore's own for m <= 3)
        assert 0 < len(handed_on[0]) < len(F)
        np.testing.assert_allclose(_kernels._hvc_limit_sets(F, np.arange(len(F)), ref), hvc, rtol=1e-9, atol=1e-13)
