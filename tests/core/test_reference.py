"""Reference-point inference and normalization."""

import numpy as np
import pytest
from _kernel_oracles import bf_nd_mask, directions_for, points
from hypothesis import given
from hypothesis import strategies as st

import moopt
from moopt.reference import ideal_nadir


def test_infer_reference_point_examples():
    assert moopt.infer_reference_point([[0, 2], [2, 0]]).tolist() == [2.2, 2.2]
    # the dominated point (3, 3) does not move the nadir
    assert moopt.infer_reference_point([[0, 2], [2, 0], [3, 3]]).tolist() == [2.2, 2.2]
    ref = moopt.infer_reference_point([[0, 0], [2, 2]], directions=["min", "max"])
    np.testing.assert_allclose(ref, [2.2, -0.2])
    np.testing.assert_allclose(moopt.infer_reference_point([[0, 2], [2, 0]], scale=0.5), [3.0, 3.0])


def test_infer_reference_point_degenerate_ranges():
    # one point: margin is scale * |value|, or scale * 1 at zero
    np.testing.assert_allclose(moopt.infer_reference_point([[4.0, -2.0, 0.0]]), [4.4, -1.8, 0.1])
    np.testing.assert_allclose(
        moopt.infer_reference_point([[4.0, -2.0]], directions="max"), [3.6, -2.2]
    )
    # all front points equal in one objective
    np.testing.assert_allclose(moopt.infer_reference_point([[1.0, 5.0], [1.0, 5.0]]), [1.1, 5.5])
    assert moopt.infer_reference_point([[1.0, 5.0]], scale=0.0).tolist() == [1.0, 5.0]


@given(points(max_n=20, min_m=1, max_m=4), st.data())
def test_inferred_reference_bounds_the_front(F, data):
    dirs = data.draw(directions_for(F.shape[1]))
    signs = np.where(np.array(dirs) == "max", -1.0, 1.0)
    ref = moopt.infer_reference_point(F * signs, directions=dirs)
    front = F[bf_nd_mask(F)]
    assert np.all(front * signs * signs < ref * signs)  # strictly better than ref in every objective
    hv = moopt.hypervolume(F * signs, ref, directions=dirs, outside="ignore")
    assert hv > 0


def test_infer_reference_point_errors():
    with pytest.raises(ValueError, match="empty"):
        moopt.infer_reference_point(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="scale"):
        moopt.infer_reference_point([[1, 2]], scale=-0.1)
    with pytest.raises(TypeError, match="scale"):
        moopt.infer_reference_point([[1, 2]], scale="big")
    with pytest.raises(ValueError, match="non-finite"):
        moopt.infer_reference_point([[1, np.nan]])


def test_ideal_nadir():
    ideal, nadir = ideal_nadir([[0, 2], [1, 1], [3, 3]])
    assert ideal.tolist() == [0.0, 1.0] and nadir.tolist() == [1.0, 2.0]
    ideal, nadir = ideal_nadir([[0, 2], [1, 1]], directions="max")
    assert ideal.tolist() == [1.0, 2.0] and nadir.tolist() == [0.0, 1.0]


def test_normalize():
    F = np.array([[0.0, 10.0], [2.0, 30.0], [1.0, 20.0]])
    out = moopt.normalize(F, directions=["min", "max"])
    np.testing.assert_allclose(out, [[0, 1], [1, 0], [0.5, 0.5]])
    out = moopt.normalize(F, ideal=[0, 40], nadir=[4, 0], directions=["min", "max"])
    np.testing.assert_allclose(out, [[0, 0.75], [0.5, 0.25], [0.25, 0.5]])
    # front is (1, 3) alone: zero span, values only shifted; the dominated point lies beyond the nadir
    np.testing.assert_allclose(moopt.normalize([[1.0, 3.0], [1.0, 5.0]]), [[0, 0], [0, 2]])
    with pytest.raises(ValueError, match="ideal is worse than nadir"):
        moopt.normalize(F, ideal=[3, 0], nadir=[0, 40])
    with pytest.raises(ValueError, match="coordinates"):
        moopt.normalize(F, ideal=[0, 0, 0], nadir=[1, 1])
    assert moopt.normalize(np.zeros((0, 2))).shape == (0, 2)
    G = F.copy()
    moopt.normalize(F, directions=["min", "max"])
    np.testing.assert_array_equal(F, G)


@given(points(min_n=2, max_n=20, min_m=2, max_m=4))
def test_normalize_keeps_dominance_and_hv_ratio(F):
    N = moopt.normalize(F)
    np.testing.assert_array_equal(moopt.nondominated_sort(N), moopt.nondominated_sort(F))
    front = N[moopt.is_nondominated(N)]
    assert np.all(front >= -1e-12) and np.all(front <= 1 + 1e-12)
