"""Every kernel rejects bad input with a clear error naming the problem."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moopt

F = np.array([[1.0, 2.0], [2.0, 1.0]])
REF = [3.0, 3.0]

# name -> callable taking (F, **kwargs)
KERNELS = {
    "nondominated_sort": lambda X, **kw: moopt.nondominated_sort(X, **kw),
    "is_nondominated": lambda X, **kw: moopt.is_nondominated(X, **kw),
    "pareto_front": lambda X, **kw: moopt.pareto_front(X, **kw),
    "crowding_distance": lambda X, **kw: moopt.crowding_distance(X, **kw),
    "hypervolume": lambda X, **kw: moopt.hypervolume(X, REF, **kw),
    "hv_contributions": lambda X, **kw: moopt.hv_contributions(X, REF, **kw),
    "hv_improvement": lambda X, **kw: moopt.hv_improvement(X, F, REF, **kw),
    "hypervolume_mc": lambda X, **kw: moopt.hypervolume_mc(X, REF, n_samples=10, seed=0, **kw),
    "igd": lambda X, **kw: moopt.igd(X, F, **kw),
    "igd_plus": lambda X, **kw: moopt.igd_plus(X, F, **kw),
    "gd": lambda X, **kw: moopt.gd(X, F, **kw),
    "epsilon_additive": lambda X, **kw: moopt.epsilon_additive(X, F, **kw),
    "infer_reference_point": lambda X, **kw: moopt.infer_reference_point(X, **kw),
    "normalize": lambda X, **kw: moopt.normalize(X, **kw),
}


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_rejected(name, bad):
    X = F.copy()
    X[1, 0] = bad
    with pytest.raises(ValueError, match="non-finite value.*row 1, column 0"):
        KERNELS[name](X)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_wrong_shape_rejected(name):
    with pytest.raises(ValueError, match=r"shape \(n_points, n_objectives\)"):
        KERNELS[name](np.ones((2, 2, 2)))


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_direction_count_mismatch(name):
    with pytest.raises(ValueError, match="directions has 3 entries but the points have 2 objectives"):
        KERNELS[name](F, directions=["min", "max", "min"])


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("bad", ["minimize", "up", 1, None])
def test_unknown_direction(name, bad):
    with pytest.raises(ValueError, match=r"directions\[1\] is .*'min' or 'max'"):
        KERNELS[name](F, directions=["min", bad])


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_non_numeric_rejected(name):
    with pytest.raises(TypeError, match="numeric array"):
        KERNELS[name]([["a", "b"], ["c", "d"]])


def test_directions_case_and_single_string():
    assert moopt.hypervolume(-F, [-3, -3], directions="MAX") == moopt.hypervolume(F, REF)
    assert moopt.hypervolume(-F, [-3, -3], directions=("Max", "max")) == moopt.hypervolume(F, REF)


@pytest.mark.parametrize("fn", [moopt.hypervolume, moopt.hv_contributions])
def test_bad_reference_point(fn):
    with pytest.raises(ValueError, match="ref has 3 coordinates but the points have 2 objectives"):
        fn(F, [3, 3, 3])
    with pytest.raises(ValueError, match="ref must be finite"):
        fn(F, [3, np.nan])
    with pytest.raises(TypeError, match="ref must be a sequence of numbers"):
        fn(F, ["a", "b"])
    with pytest.raises(ValueError, match="do not strictly dominate"):
        fn(F, [1.5, 1.5], outside="raise")


def test_empty_input():
    assert moopt.hypervolume(np.zeros((0, 2)), REF) == 0.0
    assert moopt.hv_contributions(np.zeros((0, 2)), REF).shape == (0,)
    assert moopt.is_nondominated(np.zeros((0, 3))).shape == (0,)
    assert moopt.nondominated_sort([]).shape == (0,)
    assert moopt.crowding_distance(np.zeros((0, 2))).shape == (0,)
    assert moopt.pareto_front(np.zeros((0, 2))).shape == (0, 2)
    for fn in (moopt.igd, moopt.igd_plus, moopt.gd, moopt.epsilon_additive):
        with pytest.raises(ValueError, match="empty"):
            fn(np.zeros((0, 2)), F)
        with pytest.raises(ValueError, match="reference_set is empty"):
            fn(F, np.zeros((0, 2)))
    with pytest.raises(ValueError, match="reference_set has 3 objectives"):
        moopt.igd(F, np.ones((2, 3)))


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_one_dimensional_input_is_refused_naming_both_readings(name):
    # [3, 1, 2] may be three points of one objective or one point of three: the kernels do not guess
    X = [1.0, 2.0] if name != "hv_improvement" else F  # hv_improvement's candidates may be one point
    call = KERNELS[name] if name != "hv_improvement" else (lambda X: moopt.hv_improvement([1.0, 1.0], [1.0, 2.0], REF))
    with pytest.raises(ValueError, match=r"has shape \(2,\), but points must come as an array of shape \(n, m\)"
                                         r".*np\.asarray\(\w+\)\[:, None\].*pass \[\w+\]"):
        call(X)


def test_single_point_where_documented_and_empty_1d():
    assert moopt.nondominated_sort([[1.0, 2.0]]).tolist() == [0]
    assert moopt.hypervolume([[1.0, 2.0]], REF) == 2.0
    assert moopt.dominates([1.0, 2.0], [2.0, 2.0]) is True
    assert moopt.hv_improvement([1.0, 1.0], F, REF).tolist() == [1.0]
    assert moopt.nondominated_sort([]).shape == (0,)


def test_stop_after_and_constraints_errors():
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="stop_after"):
            moopt.nondominated_sort(F, stop_after=bad)
    with pytest.raises(ValueError, match="constraints has 3 rows but F has 2 points"):
        moopt.nondominated_sort(F, constraints=[0, 0, 0])
    with pytest.raises(ValueError, match="NaN"):
        moopt.is_nondominated(F, constraints=[0, np.nan])
    with pytest.raises(ValueError, match="a has 2 objectives but b has 3"):
        moopt.dominates([1, 2], [1, 2, 3])


def _reference_checks(X):
    """The checks before the 1-D / zero-objective / bool / complex refusals: the old as_points, inline."""
    arr = np.array(X, dtype=float)
    assert arr.ndim == 2 and arr.shape[1] >= 1 and np.isfinite(arr).all()
    return arr


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 4), st.data())
def test_any_finite_2d_float_input_is_accepted_unchanged(n, m, data):
    # the hardening refuses only what was ambiguous or wrong: a finite (n, m >= 1) array of reals is
    # accepted as before, as a float64 array, a list or an int array, with the same answer
    from moopt import _kernels

    values = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    X = np.array(data.draw(st.lists(st.lists(values, min_size=m, max_size=m), min_size=n, max_size=n)))
    arr = _reference_checks(X)
    ranks = _kernels.nd_ranks(arr, None)
    for form in (X, X.tolist(), np.asfortranarray(X), X.astype(np.float32).astype(float)):
        A = np.asarray(form, dtype=float)
        assert moopt.nondominated_sort(form).tolist() == _kernels.nd_ranks(A, None).tolist()
    assert moopt.nondominated_sort(X).tolist() == ranks.tolist()
    assert moopt.is_nondominated(X).tolist() == (ranks == 0).tolist()
    ref = arr.max(axis=0) + 1.0
    assert moopt.hypervolume(X, ref) == pytest.approx(_kernels.hv_exact(arr[ranks == 0], ref), rel=1e-12)
    ints = np.round(X).astype(np.int64)
    assert moopt.nondominated_sort(ints).tolist() == _kernels.nd_ranks(ints.astype(float), None).tolist()
