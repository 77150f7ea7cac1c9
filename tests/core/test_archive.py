"""ParetoArchive: equals batch filtering after any insertion order; state round-trips."""

import json

import numpy as np
import pytest
from _kernel_oracles import bf_nd_mask_first, directions_for, points
from hypothesis import given
from hypothesis import strategies as st

import moopt
from moopt import serial


def _as_set(P):
    return sorted(map(tuple, np.asarray(P).tolist()))


@given(points(max_n=40, min_m=1, max_m=4), st.data())
def test_archive_equals_batch_front(F, data):
    dirs = data.draw(directions_for(F.shape[1]))
    signs = np.where(np.array(dirs) == "max", -1.0, 1.0)
    archive = moopt.ParetoArchive(dirs)
    added = [archive.add(F[i] * signs, {"i": i}) for i in range(len(F))]
    expected = F[bf_nd_mask_first(F)] * signs
    assert _as_set(archive.points) == _as_set(expected)
    assert len(archive) == len(expected)
    # payloads stay aligned with their points; the first copy of a duplicate is kept
    for p, pl in zip(archive.points, archive.payloads):
        np.testing.assert_array_equal(p, F[pl["i"]] * signs)
        assert not any(np.array_equal(F[j], F[pl["i"]]) for j in range(pl["i"]))
    # add() returned True exactly when nothing archived earlier dominated or equalled the point
    for i, a in enumerate(added):
        prev = F[:i]
        covered = bool(len(prev)) and bool(((prev <= F[i]).all(axis=1)).any())
        # an earlier point that was itself removed is dominated by an archived one: same verdict
        assert a == (not covered)


@given(points(max_n=30, min_m=2, max_m=2))
def test_archive_2d_sorted_and_mutually_nondominated(F):
    archive = moopt.ParetoArchive()
    for row in F:
        archive.add(row)
    P = archive.points
    assert np.all(np.diff(P[:, 0]) > 0) and np.all(np.diff(P[:, 1]) < 0)
    assert moopt.is_nondominated(P).all()


def test_archive_examples_and_hypervolume():
    archive = moopt.ParetoArchive(["min", "max"])
    assert archive.add([0.10, 0.90], {"arch": "a"}) is True
    assert archive.add([0.20, 0.80], {"arch": "b"}) is False
    assert archive.add([0.10, 0.90], {"arch": "dup"}) is False
    assert archive.add([0.05, 0.50], {"arch": "c"}) is True
    assert archive.add([0.05, 0.95], {"arch": "d"}) is True  # dominates both
    assert len(archive) == 1 and archive.payloads == [{"arch": "d"}]
    assert archive.hypervolume([1.0, 0.0]) == pytest.approx(0.95 * 0.95)
    assert moopt.ParetoArchive().hypervolume([1, 1]) == 0.0
    assert len(moopt.ParetoArchive()) == 0 and moopt.ParetoArchive().points.shape == (0, 0)


@pytest.mark.parametrize("m", [2, 3, 5])
def test_archive_large_matches_filter(m):
    rng = np.random.default_rng(m)
    F = rng.random((3000, m))
    archive = moopt.ParetoArchive(n_obj=m)
    mask = archive.update(F, payloads=list(range(len(F))))
    assert mask.dtype == bool and mask[0]
    front_idx = np.flatnonzero(moopt.is_nondominated(F, keep_duplicates=False))
    assert sorted(archive.payloads) == front_idx.tolist()
    assert archive.hypervolume(np.full(m, 1.1)) == pytest.approx(moopt.hypervolume(F, np.full(m, 1.1)))


@pytest.mark.parametrize("m", [2, 3])
def test_archive_state_round_trip(m):
    rng = np.random.default_rng(0)
    dirs = ["max"] + ["min"] * (m - 1)
    archive = moopt.ParetoArchive(dirs)
    for i, row in enumerate(rng.random((200, m))):
        archive.add(row, {"id": i, "arch": [1, 2, i % 3]})
    state = archive.to_dict()
    text = serial.dumps(state)
    json.loads(text)  # valid JSON
    back = moopt.ParetoArchive.from_dict(serial.loads(text))
    np.testing.assert_array_equal(back.points, archive.points)
    assert back.payloads == archive.payloads and back.directions == dirs
    # the restored archive keeps working
    assert back.add(np.array([1.5] + [-1.0] * (m - 1)), {"id": -1}) is True
    assert len(back) == 1
    empty = moopt.ParetoArchive.from_dict(moopt.ParetoArchive("max").to_dict())
    assert len(empty) == 0 and empty.add([1, 2]) and empty.directions == ["max", "max"]


def test_archive_state_errors():
    with pytest.raises(ValueError, match="not a ParetoArchive state"):
        moopt.ParetoArchive.from_dict({"points": []})
    state = moopt.ParetoArchive(n_obj=2).to_dict()
    state["version"] = 99
    with pytest.raises(ValueError, match="version"):
        moopt.ParetoArchive.from_dict(state)
    a = moopt.ParetoArchive()
    a.add([1, 2], "x")
    state = a.to_dict()
    state["points"] = np.array([[1.0, 2.0], [2.0, 3.0]])
    state["payloads"] = ["x", "y"]
    with pytest.raises(ValueError, match="not mutually non-dominated"):
        moopt.ParetoArchive.from_dict(state)
    state["payloads"] = ["x"]
    with pytest.raises(ValueError, match="payloads"):
        moopt.ParetoArchive.from_dict(state)


def test_archive_input_errors():
    a = moopt.ParetoArchive(["min", "min"])
    with pytest.raises(ValueError, match="point has 3 objectives but the archive has 2"):
        a.add([1, 2, 3])
    with pytest.raises(ValueError, match="finite"):
        a.add([1, np.nan])
    with pytest.raises(TypeError):
        a.add(["a", "b"])
    with pytest.raises(ValueError, match="n_obj"):
        moopt.ParetoArchive(["min"], n_obj=3)
    with pytest.raises(ValueError, match="'min' or 'max'"):
        moopt.ParetoArchive(["min", "up"])
    with pytest.raises(ValueError, match="payloads"):
        a.update([[1, 2]], payloads=[1, 2])
    row = np.array([1.0, 2.0])
    a.add(row)
    assert row.tolist() == [1.0, 2.0]
