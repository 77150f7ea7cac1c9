"""Variables, spaces, problems and the search base class."""

import math

import numpy as np
import pytest

import moopt
from moopt import serial
from moopt.search.base import minimized_values


def _space():
    return moopt.Space(
        [
            moopt.Real("lr", 1e-4, 1e-1, log=True),
            moopt.Integer("layers", 1, 5),
            moopt.Categorical("op", ["conv3", "dw3", "skip"]),
        ]
    )


def test_sample_within_bounds_and_deterministic():
    space = _space()
    a = [space.sample(np.random.default_rng(3)) for _ in range(2)]
    assert a[0] == a[1]
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = space.sample(rng)
        assert 1e-4 <= x["lr"] <= 1e-1
        assert x["layers"] in range(1, 6)
        assert x["op"] in ("conv3", "dw3", "skip")
        assert space.validate(x) == x


def test_log_real_is_log_uniform():
    v = moopt.Real("lr", 1e-4, 1e-0, log=True)
    rng = np.random.default_rng(1)
    s = np.array([v.sample(rng) for _ in range(4000)])
    # log-uniform: about a quarter of the mass in each decade
    frac = np.mean(s < 1e-3)
    assert 0.2 < frac < 0.3


def test_vector_roundtrip():
    space = _space()
    x = {"lr": 0.01, "layers": 3, "op": "dw3"}
    v = space.to_vector(x)
    assert v.tolist() == [0.01, 3.0, 1.0]
    assert space.from_vector(v) == x
    lo, hi = space.bounds()
    assert lo.tolist() == [1e-4, 1.0, 0.0] and hi.tolist() == [1e-1, 5.0, 2.0]
    # out-of-range vectors are clipped and rounded
    assert space.from_vector([5.0, 7.6, -3]) == {"lr": 0.1, "layers": 5, "op": "conv3"}


def test_categorical_distinguishes_bool_and_int():
    c = moopt.Categorical("flag", [1, True])
    assert c.index(True) == 1 and c.index(1) == 0
    assert c.index(np.int64(1)) == 0


def test_space_config_roundtrip():
    space = moopt.Space(list(_space()) + [moopt.TokenSequence("cell", ["a", "b"], 1, 4)])
    again = moopt.Space.from_config(serial.loads(serial.dumps(space.to_config())))
    assert again.to_config() == space.to_config()
    assert not again.is_vector


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: moopt.Real("x", 1, 0), "low < high"),
        (lambda: moopt.Real("x", 0, 1, log=True), "log=True"),
        (lambda: moopt.Integer("k", 0.5, 3), "integers"),
        (lambda: moopt.Categorical("c", []), "empty"),
        (lambda: moopt.Categorical("c", ["a", "a"]), "duplicates"),
        (lambda: moopt.TokenSequence("s", ["a"], 3, 2), "min_length"),
        (lambda: moopt.Space([moopt.Real("x", 0, 1), moopt.Real("x", 0, 2)]), "unique"),
        (lambda: moopt.Objective("f", "maximize"), "'min' or 'max'"),
    ],
)
def test_bad_definitions_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_validate_rejects_wrong_candidates():
    space = _space()
    with pytest.raises(ValueError, match="missing"):
        space.validate({"lr": 0.01})
    with pytest.raises(ValueError, match="outside"):
        space.validate({"lr": 2.0, "layers": 1, "op": "skip"})
    with pytest.raises(ValueError, match="not one of"):
        space.validate({"lr": 0.01, "layers": 1, "op": "conv5"})
    seq = moopt.TokenSequence("s", ["a", "b"], 1, 2)
    with pytest.raises(ValueError, match="unknown token"):
        seq.validate(("a", "z"))


def _problem(evaluate):
    return moopt.Problem(
        [moopt.Real("x", 0.0, 1.0)],
        [moopt.Objective("err"), moopt.Objective("acc", "max")],
        evaluate,
        constraints=["g"],
    )


def test_problem_evaluate_and_directions():
    p = _problem(lambda q: {"err": q["x"], "acc": 1 - q["x"], "g": q["x"] - 0.5, "note": "hi"})
    assert p.directions == ["min", "max"]
    assert p.signs.tolist() == [1.0, -1.0]
    out = p.evaluate({"x": 0.25})
    assert out == {"err": 0.25, "acc": 0.75, "g": -0.25, "note": "hi"}
    F, G = p.evaluate_batch([[0.25], [1.0]])
    assert F.tolist() == [[0.25, 0.75], [1.0, 0.0]] and G.tolist() == [[-0.25], [0.5]]


def test_problem_rejects_missing_and_nan_values():
    p = _problem(lambda q: {"err": q["x"], "g": 0.0})
    with pytest.raises(ValueError, match="no value for \\['acc'\\]"):
        p.evaluate({"x": 0.1})
    p = _problem(lambda q: {"err": math.nan, "acc": 1.0, "g": 0.0})
    with pytest.raises(ValueError, match="non-finite"):
        p.evaluate({"x": 0.1})


def test_cheap_objectives():
    p = moopt.Problem(
        [moopt.Integer("k", 1, 4)],
        [moopt.Objective("error"), moopt.Objective("params", cheap=True)],
        lambda q: {"error": 1.0 / q["k"]},
        evaluate_cheap=lambda q: {"params": 10 * q["k"]},
    )
    assert p.cheap_objectives == ["params"]
    assert p.evaluate_cheap({"k": 2}) == {"params": 20.0}
    assert p.evaluate({"k": 2}) == {"error": 0.5, "params": 20.0}


def test_minimized_values_and_failed_handling():
    p = _problem(lambda q: {})
    c = [moopt.Candidate(i, {"x": 0.1 * i}) for i in range(3)]
    results = [
        moopt.Evaluation.success(c[0], {"err": 0.1, "acc": 0.9}),
        moopt.Evaluation.failure(c[1], "boom"),
        moopt.Evaluation.success(c[2], {"err": 0.3, "acc": 0.5}),
    ]
    F, kept = minimized_values(p, results)
    assert F.tolist() == [[0.1, -0.9], [0.3, -0.5]] and len(kept) == 2
    F, kept = minimized_values(p, results, failed="worst")
    assert np.isinf(F[1]).all() and len(kept) == 3
    assert not results[1].ok and results[1].error == "boom"


def test_random_search_state_roundtrip():
    p = _problem(lambda q: {})
    s = moopt.RandomSearch(p, seed=7)
    s.ask(3)
    state = serial.loads(serial.dumps(s.state_dict()))
    t = moopt.RandomSearch(p, seed=123)
    t.load_state_dict(state)
    a, b = s.ask(4), t.ask(4)
    assert [c.params for c in a] == [c.params for c in b]
    assert [c.id for c in b] == [3, 4, 5, 6]


def test_serial_codec_arrays_and_rejects_objects():
    obj = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": (1, 2), "c": np.int64(4)}
    back = serial.loads(serial.dumps(obj))
    assert back["a"].dtype == np.float32 and back["a"].shape == (2, 3)
    assert np.array_equal(back["a"], obj["a"]) and back["b"] == [1, 2] and back["c"] == 4
    with pytest.raises(TypeError, match="cannot store"):
        serial.dumps({"f": object()})
    assert serial.canonical({"b": 1, "a": (1, 2)}) == '{"a":[1,2],"b":1}'


def test_import_moopt_is_light():
    import subprocess
    import sys

    code = (
        "import sys, moopt; moopt.Problem; moopt.RandomSearch; "
        "heavy = [m for m in ('torch', 'pymoo', 'matplotlib', 'dask', 'sklearn', 'scipy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# -- explicit problem metadata: settings and the progressive space ------------------
def test_settings_are_part_of_the_config_and_a_changed_setting_refuses_resume(tmp_path):
    def make(epochs):
        return moopt.Problem([moopt.Real("x", 0, 1)], ["f"], lambda p: {"f": p["x"] * epochs},
                             settings={"train": {"epochs": epochs}, "seed": 0})

    assert make(3).to_config()["settings"] == {"train": {"epochs": 3}, "seed": 0}
    assert "settings" not in moopt.Problem([moopt.Real("x", 0, 1)], ["f"], lambda p: {"f": 1}).to_config()
    db = str(tmp_path / "run.db")
    moopt.optimize(make(3), "random", budget=4, seed=0, store=db, progress=False)
    moopt.optimize(make(3), "random", budget=6, seed=0, store=db, progress=False)  # same settings resume
    with pytest.raises(moopt.RunStoreError, match=r"problem\.settings\.train\.epochs \(stored 3, now 4\)"):
        moopt.optimize(make(4), "random", budget=8, seed=0, store=db, progress=False)


def test_settings_must_be_json():
    with pytest.raises(TypeError, match="JSON values"):
        moopt.Problem([moopt.Real("x", 0, 1)], ["f"], lambda p: {"f": 1}, settings={"fn": print})
    with pytest.raises(TypeError, match="settings must be a dict"):
        moopt.Problem([moopt.Real("x", 0, 1)], ["f"], lambda p: {"f": 1}, settings=[1, 2])


def test_progressive_space_is_an_explicit_checked_keyword():
    from moopt.search.progressive import FreeSequenceSpace, space_for

    seq = moopt.TokenSequence("cell", ["a", "b"], 1, 3)
    space = FreeSequenceSpace(["a", "b"], max_length=3, variable="cell")
    p = moopt.Problem([seq], ["f"], lambda q: {"f": len(q["cell"])}, progressive_space=space)
    assert p.progressive_space is space and space_for(p) is space
    assert moopt.Problem([seq], ["f"], lambda q: {"f": 1}).progressive_space is None
    with pytest.raises(TypeError, match="ProgressiveSpace"):
        moopt.Problem([seq], ["f"], lambda q: {"f": 1}, progressive_space=object())
    other = FreeSequenceSpace(["a", "b"], max_length=3, variable="sequence")
    with pytest.raises(ValueError, match="'sequence'.*\\['cell'\\]"):
        moopt.Problem([seq], ["f"], lambda q: {"f": 1}, progressive_space=other)


def test_space_size_counts_finite_spaces_only():
    space = moopt.Space([moopt.Categorical("op", ["a", "b", "c"]), moopt.Integer("k", -2, 5)])
    assert space["k"].n_values == 8 and space.size == 24
    assert moopt.Space([moopt.Categorical("op", ["a"]), moopt.Real("x", 0, 1)]).size is None
