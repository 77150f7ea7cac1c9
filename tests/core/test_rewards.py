"""Rewards: formulas against hand computation, validation, state, specs, HVI against moocore, package layout."""

import math

import moocore
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import moopt
from moopt import serial
from moopt.rewards import (
    AccuracyConstraintReward,
    Chebyshev,
    HypervolumeImprovement,
    MixedReward,
    PowerConstraintReward,
    SoftConstraint,
    WeightedSum,
    available_rewards,
    parse_reward,
    reward_from_config,
)


def _problem(objectives):
    return moopt.Problem([moopt.Integer("k", 0, 3)], objectives, lambda p: {})


ACC_ENERGY = _problem([moopt.Objective("acc", "max"), moopt.Objective("energy_mj", "min")])


# ---------------------------------------------------------------- MONAS rewards
def test_mixed_fixed_bounds_matches_formula():
    r = MixedReward(0.25, accuracy="acc", energy="energy_mj", bounds={"energy_mj": (2.0, 6.0)})
    # energy_n = (5 - 2) / 4 = 0.75 -> 0.25 * 0.9 - 0.75 * 0.75
    assert r({"acc": 0.9, "energy_mj": 5.0}) == pytest.approx(0.25 * 0.9 - 0.75 * 0.75)
    # outside the bounds: not clipped
    assert r({"acc": 0.5, "energy_mj": 10.0}) == pytest.approx(0.125 - 0.75 * 2.0)


def test_mixed_alpha_one_is_plain_accuracy():
    r = MixedReward(1.0, accuracy="acc", energy="energy_mj")
    vals = [{"acc": a, "energy_mj": e} for a, e in [(0.3, 9.0), (0.8, 1.0), (0.6, 4.0)]]
    np.testing.assert_allclose(r.batch(vals), [0.3, 0.8, 0.6])


def test_mixed_running_normalization_sees_the_whole_batch_and_persists():
    r = MixedReward(0.5, accuracy="acc", energy="energy_mj")
    out = r.batch([{"acc": 0.5, "energy_mj": 2.0}, {"acc": 0.5, "energy_mj": 6.0},
                   {"acc": 0.5, "energy_mj": 3.0}])
    # running bounds [2, 6]: energy_n = 0, 1, 0.25
    np.testing.assert_allclose(out, [0.25, 0.25 - 0.5, 0.25 - 0.125])
    # state round trip through the run-store codec keeps the bounds
    r2 = MixedReward(0.5, accuracy="acc", energy="energy_mj")
    r2.load_state_dict(serial.loads(serial.dumps(r.state_dict())))
    v = {"acc": 0.7, "energy_mj": 4.0}
    assert r2(v) == pytest.approx(r(v)) == pytest.approx(0.35 - 0.5 * 0.5)
    # a new extreme widens the bounds
    assert r({"acc": 0.0, "energy_mj": 10.0}) == pytest.approx(-0.5)
    assert r({"acc": 0.0, "energy_mj": 6.0}) == pytest.approx(-0.5 * 0.5)


def test_power_constraint():
    r = PowerConstraintReward(2.0, accuracy="acc", power="power_w")
    assert r({"acc": 0.9, "power_w": 2.0}) == 0.9  # budget inclusive
    assert r({"acc": 0.9, "power_w": 2.0001}) == 0.0
    assert r.satisfied({"acc": 0.1, "power_w": 1.0}) is True
    assert r.satisfied({"acc": 0.1, "power_w": 3.0}) is False


def test_accuracy_constraint():
    r = AccuracyConstraintReward(0.8, accuracy="acc", energy="energy_mj", bounds={"energy_mj": (0, 4)})
    assert r({"acc": 0.8, "energy_mj": 1.0}) == pytest.approx(0.75)
    assert r({"acc": 0.79, "energy_mj": 1.0}) == 0.0
    assert r.satisfied({"acc": 0.95, "energy_mj": 9}) is True


@pytest.mark.parametrize("alpha", [-0.1, 1.5, math.nan])
def test_alpha_outside_unit_interval_is_rejected(alpha):
    with pytest.raises(ValueError, match="alpha"):
        MixedReward(alpha)


@pytest.mark.parametrize("budget", [0.0, -1.0])
def test_non_positive_budget_is_rejected(budget):
    with pytest.raises(ValueError, match="budget must be > 0"):
        PowerConstraintReward(budget)


def test_unknown_objective_names_it_and_lists_the_known_ones():
    r = MixedReward(0.5, accuracy="accuracy", energy="energy_mj")
    with pytest.raises(ValueError, match=r"unknown objective 'accuracy'.*\['acc', 'energy_mj'\]"):
        r.bind(ACC_ENERGY)
    with pytest.raises(ValueError, match="needs 'accuracy'.*values hold"):
        r({"acc": 1.0, "energy_mj": 1.0})


def test_direction_mismatch_is_rejected():
    p = _problem([moopt.Objective("error", "min"), moopt.Objective("energy_mj", "min")])
    with pytest.raises(ValueError, match="'error'.*needs a 'max' objective"):
        MixedReward(0.5, accuracy="error", energy="energy_mj").bind(p)


def test_failure_reward_min_seen_and_fixed():
    r = MixedReward(0.5, accuracy="acc", energy="energy_mj", bounds={"energy_mj": (0, 1)})
    assert r.failure_reward() == -0.5  # floor before any success
    r.batch([{"acc": 0.8, "energy_mj": 0.2}, {"acc": 0.4, "energy_mj": 0.6}])
    assert r.failure_reward() == pytest.approx(0.2 - 0.3)
    assert PowerConstraintReward(1.0, failure=-1.0).failure_reward() == -1.0
    with pytest.raises(ValueError, match="failure"):
        PowerConstraintReward(1.0, failure="zero")


# ---------------------------------------------------------------- MONAS: accuracy on the [0, 1] scale
PCT = _problem([moopt.Objective("accuracy_pct", "max", "%"), moopt.Objective("energy_mj", "min", "mJ")])
FRAC = _problem([moopt.Objective("accuracy_pct", "max", "fraction"), moopt.Objective("energy_mj", "min", "mJ")])


def _monas_rewards(**kw):
    return [MixedReward(0.25, accuracy="accuracy_pct", energy="energy_mj", bounds={"energy_mj": (0, 10)}, **kw),
            PowerConstraintReward(6.0, accuracy="accuracy_pct", power="energy_mj", **kw),
            AccuracyConstraintReward(0.85, accuracy="accuracy_pct", energy="energy_mj",
                                     bounds={"energy_mj": (0, 10)}, **kw)]


def test_monas_rewards_read_a_percent_accuracy_as_a_fraction_once_bound():
    mixed, power, acc = (r.bind(PCT) for r in _monas_rewards())
    assert mixed.accuracy_scale == power.accuracy_scale == acc.accuracy_scale == 0.01
    v = {"accuracy_pct": 90, "energy_mj": 5}
    assert mixed(v) == 0.25 * 0.9 - 0.75 * 0.5
    assert power(v) == 0.9 and power({"accuracy_pct": 90, "energy_mj": 7}) == 0.0
    assert acc(v) == 1 - 0.5 and acc({"accuracy_pct": 80, "energy_mj": 5}) == 0.0
    assert acc.satisfied({"accuracy_pct": 85, "energy_mj": 9}) is True
    assert acc.satisfied({"accuracy_pct": 84.9, "energy_mj": 0}) is False
    # the same formulas on an objective reported as a fraction give the same rewards
    frac = [r.bind(FRAC) for r in _monas_rewards()]
    assert [r.accuracy_scale for r in frac] == [1.0, 1.0, 1.0]
    assert [r({"accuracy_pct": 0.9, "energy_mj": 5}) for r in frac] == [0.25 * 0.9 - 0.75 * 0.5, 0.9, 0.5]


@pytest.mark.parametrize("unit,scale", [("%", 0.01), (" Percent ", 0.01), ("pct", 0.01), (None, 1.0), ("", 1.0),
                                        ("fraction", 1.0)])
def test_the_accuracy_unit_decides_the_scale(unit, scale):
    p = _problem([moopt.Objective("a", "max", unit), moopt.Objective("e", "min")])
    r = MixedReward(0.5, accuracy="a", energy="e")
    assert r.accuracy_scale == 1.0  # never bound
    assert r.bind(p).accuracy_scale == scale


def test_an_unbound_reward_fed_percentages_says_how_to_fix_it_and_keeps_its_state():
    for r in _monas_rewards():
        with pytest.raises(ValueError, match=r"accuracy objective 'accuracy_pct' = 90 is 90 with accuracy_scale=1, "
                                             r"outside \[0, 1\].*not bound to a problem.*"
                                             r"pass accuracy_scale=0\.01 for percentages"):
            r.batch([{"accuracy_pct": 0.5, "energy_mj": 1.0}, {"accuracy_pct": 90, "energy_mj": 5}])
        assert r.n_seen == 0 and not np.isfinite(r.state_dict()["norm"]["lo"]).any()  # the batch was refused
    bound = MixedReward(0.5, accuracy="accuracy_pct", energy="energy_mj", accuracy_scale=1.0).bind(PCT)
    with pytest.raises(ValueError, match="its unit is '%'; pass accuracy_scale=0.01 for percentages"):
        bound({"accuracy_pct": 90, "energy_mj": 5})
    no_unit = MixedReward(0.5, accuracy="acc", energy="energy_mj").bind(ACC_ENERGY)
    with pytest.raises(ValueError, match="gives no unit"):
        no_unit({"acc": 90, "energy_mj": 5})
    with pytest.raises(ValueError, match="= -1 is -0.01"):
        MixedReward(0.5, accuracy="accuracy_pct", energy="energy_mj").bind(PCT)({"accuracy_pct": -1, "energy_mj": 5})
    with pytest.raises(ValueError, match="= 150 is 1.5"):
        AccuracyConstraintReward(0.5, accuracy="accuracy_pct", energy="energy_mj").bind(PCT).satisfied(
            {"accuracy_pct": 150, "energy_mj": 5})


def test_an_explicit_accuracy_scale_overrides_the_unit():
    unbound = [r({"accuracy_pct": 90, "energy_mj": 5}) for r in _monas_rewards(accuracy_scale=0.01)]
    assert unbound == [0.25 * 0.9 - 0.75 * 0.5, 0.9, 0.5]
    # a "%" objective whose values are in fact fractions
    assert [r.bind(PCT).accuracy_scale for r in _monas_rewards(accuracy_scale=1)] == [1.0, 1.0, 1.0]
    r = PowerConstraintReward(6.0, accuracy="accuracy_pct", power="energy_mj", accuracy_scale=1).bind(PCT)
    assert r({"accuracy_pct": 0.9, "energy_mj": 5}) == 0.9
    # per mille
    assert PowerConstraintReward(6.0, accuracy="a", power="p", accuracy_scale=0.001)({"a": 900, "p": 1}) == 0.9


@pytest.mark.parametrize("scale,error,message", [
    (0, ValueError, "accuracy_scale must be > 0"), (-0.01, ValueError, "accuracy_scale must be > 0"),
    (math.nan, ValueError, "accuracy_scale must be finite"), (math.inf, ValueError, "accuracy_scale must be finite"),
    ("percent", TypeError, "accuracy_scale must be a number"),
])
def test_a_bad_accuracy_scale_is_rejected(scale, error, message):
    for make in (MixedReward, PowerConstraintReward, AccuracyConstraintReward):
        with pytest.raises(error, match=message):
            make(0.5, accuracy_scale=scale)


@pytest.mark.parametrize("threshold,message", [
    (90, "threshold=90 is not a fraction; the accuracy threshold is on the [0, 1] scale whatever the "
         "objective's unit: use 0.9."),
    (-0.1, "threshold=-0.1 is not a fraction; the accuracy threshold is on the [0, 1] scale whatever the "
           "objective's unit: use a value in [0, 1]."),
    (150, "threshold=150 is not a fraction; the accuracy threshold is on the [0, 1] scale whatever the "
          "objective's unit: use a value in [0, 1]."),
])
def test_the_accuracy_threshold_is_a_fraction(threshold, message):
    with pytest.raises(ValueError) as info:
        AccuracyConstraintReward(threshold, accuracy="accuracy_pct", energy="energy_mj")
    assert str(info.value) == message
    with pytest.raises(ValueError, match="is not a fraction"):
        parse_reward(f"accuracy:threshold={threshold},accuracy=accuracy_pct,energy=energy_mj")
    assert AccuracyConstraintReward(0).threshold == 0 and AccuracyConstraintReward(1).threshold == 1


def test_bounds_a_monas_formula_would_ignore_are_refused():
    msg = (r"mixed reward: bounds given for \['accuracy_pct'\], but the mixed formula uses the accuracy "
           r"unnormalized, on the \[0, 1\] scale \(see accuracy_scale\), so the bound would be ignored; "
           r"give bounds only for \['energy_mj'\]\.")
    with pytest.raises(ValueError, match=msg):
        MixedReward(0.5, accuracy="accuracy_pct", energy="energy_mj",
                    bounds={"accuracy_pct": (0, 100), "energy_mj": (0, 10)})
    with pytest.raises(ValueError, match="accuracy reward: bounds given for.*accuracy unnormalized"):
        AccuracyConstraintReward(0.5, accuracy="accuracy_pct", energy="energy_mj", bounds={"accuracy_pct": (0, 1)})
    with pytest.raises(ValueError, match=r"power reward: bounds given for \['power_w'\].*in its own unit, so the "
                                         r"bound would be ignored; drop bounds: this reward normalizes nothing"):
        PowerConstraintReward(2.0, power="power_w", bounds={"power_w": (0, 5)})
    with pytest.raises(ValueError, match="accuracy unnormalized.*normalizes nothing"):
        parse_reward("power:budget=2,accuracy=acc,power=power_w,bounds.acc=0:1")
    with pytest.raises(ValueError, match="accuracy unnormalized"):
        reward_from_config({"type": "mixed", "alpha": 0.5, "accuracy": "acc", "energy": "e",
                            "bounds": {"acc": [0, 1]}})
    assert PowerConstraintReward(1.0).normalizes == SoftConstraint(1.0).normalizes == []
    # the rewards that normalize every objective take bounds for each of them
    both = {"acc": (0, 1), "energy_mj": (0, 10)}
    for r in (WeightedSum(weights={"acc": 1, "energy_mj": 1}, bounds=both),
              Chebyshev(weights={"acc": 1, "energy_mj": 1}, bounds=both),
              HypervolumeImprovement(["acc", "energy_mj"], bounds=both)):
        assert r.normalizes == ["acc", "energy_mj"] and not r.running_normalized


def test_running_normalization_is_visible_and_fixed_bounds_remove_it():
    drifting = MixedReward(0.5, accuracy="acc", energy="energy_mj").bind(ACC_ENERGY)
    fixed = MixedReward(0.5, accuracy="acc", energy="energy_mj", bounds={"energy_mj": (0, 10)}).bind(ACC_ENERGY)
    assert drifting.running_normalized and not fixed.running_normalized
    assert MixedReward.stationary  # the formula's attribute is unchanged
    assert drifting.normalizes == fixed.normalizes == ["energy_mj"]
    assert not PowerConstraintReward(1.0).running_normalized
    assert AccuracyConstraintReward(0.5).running_normalized
    assert WeightedSum(weights={"a": 1, "b": 1}, bounds={"a": (0, 1)}).running_normalized
    child = {"acc": 0.5, "energy_mj": 4.0}
    first = [drifting.batch([child, {"acc": 0.5, "energy_mj": 8.0}])[0], fixed(child)]
    drifting({"acc": 0.5, "energy_mj": 0.0})  # a new extreme widens the running bounds
    assert drifting(child) != first[0] and fixed(child) == first[1]


@pytest.mark.parametrize("explicit", [False, True])
def test_monas_config_round_trip_keeps_the_accuracy_scale(explicit):
    kw = {"accuracy_scale": 0.01} if explicit else {}
    vals = [{"accuracy_pct": a, "energy_mj": e} for a, e in [(90, 5), (40, 2), (75.5, 8), (100, 0)]]
    for r in _monas_rewards(**kw):
        r.bind(PCT)
        cfg = serial.loads(serial.dumps(r.config()))
        assert ("accuracy_scale" in cfg) is explicit  # a scale from the unit is re-derived at bind
        clone = reward_from_config(cfg).bind(PCT)
        np.testing.assert_array_equal(clone.batch(vals), r.batch(vals))
        assert clone.config() == r.config()
    spec = parse_reward("mixed:alpha=0.25,accuracy=accuracy_pct,energy=energy_mj,accuracy_scale=0.01,"
                        "bounds.energy_mj=0:10")
    assert spec.accuracy_scale == 0.01 and spec({"accuracy_pct": 90, "energy_mj": 5}) == 0.25 * 0.9 - 0.75 * 0.5
    assert repr(spec) == "MixedReward(alpha=0.25, accuracy='accuracy_pct', energy='energy_mj', accuracy_scale=0.01)"


@given(st.floats(0, 1), st.floats(0, 10), st.floats(0.01, 0.99))
def test_percent_and_fraction_objectives_give_the_same_rewards(a, e, threshold):
    assume(abs(a - threshold) > 1e-9)  # 100 * a * 0.01 may round across the threshold
    for pct, frac in zip(_monas_rewards(), _monas_rewards()):
        if isinstance(pct, AccuracyConstraintReward):
            pct, frac = (AccuracyConstraintReward(threshold, accuracy="accuracy_pct", energy="energy_mj",
                                                  bounds={"energy_mj": (0, 10)}) for _ in range(2))
        pct.bind(PCT), frac.bind(FRAC)
        assert pct({"accuracy_pct": 100 * a, "energy_mj": e}) == pytest.approx(
            frac({"accuracy_pct": a, "energy_mj": e}), abs=1e-12)


# ---------------------------------------------------------------- generic rewards
def test_weighted_sum_is_direction_aware():
    r = WeightedSum(weights={"acc": 1.0, "energy_mj": 3.0}, bounds={"acc": (0, 1), "energy_mj": (0, 10)})
    r.bind(ACC_ENERGY)
    # minimized acc -0.8 normalized over [-1, 0] -> 0.2; energy 5 -> 0.5
    assert r({"acc": 0.8, "energy_mj": 5.0}) == pytest.approx(-(0.2 + 1.5))
    with pytest.raises(ValueError, match="weights must be >= 0"):
        WeightedSum(weights={"a": -1.0, "b": 1.0})
    unbound = WeightedSum(["a"])
    with pytest.raises(ValueError, match="direction of 'a'"):
        unbound({"a": 1.0})


def test_chebyshev_augmented_hand_computed():
    r = Chebyshev(weights={"acc": 0.5, "energy_mj": 0.5}, ref={"acc": 1.0, "energy_mj": 0.0}, rho=0.1,
                  bounds={"acc": (0, 1), "energy_mj": (0, 10)}).bind(ACC_ENERGY)
    # n = (0.4, 0.3), z = (0, 0): D = (0.2, 0.15)
    assert r({"acc": 0.6, "energy_mj": 3.0}) == pytest.approx(-(0.2 + 0.1 * 0.35))
    with pytest.raises(ValueError, match="rho"):
        Chebyshev(["a"], rho=-1)
    with pytest.raises(ValueError, match="missing"):
        Chebyshev(weights={"acc": 1, "energy_mj": 1}, ref={"acc": 1.0})


def test_mnas_soft_constraint():
    r = SoftConstraint(10.0, accuracy="acc", latency="lat_ms", alpha=-0.07, beta=-0.5)
    assert r({"acc": 0.8, "lat_ms": 5.0}) == pytest.approx(0.8 * 0.5 ** -0.07)
    assert r({"acc": 0.8, "lat_ms": 20.0}) == pytest.approx(0.8 * 2.0 ** -0.5)
    assert r({"acc": 0.8, "lat_ms": 10.0}) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="target must be > 0"):
        SoftConstraint(0.0)
    with pytest.raises(ValueError, match="must be > 0"):
        r({"acc": 0.8, "lat_ms": 0.0})


pts = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=2, max_size=2)


@given(st.lists(st.floats(0, 1), min_size=2, max_size=2), st.lists(st.floats(0, 1), min_size=2, max_size=2),
       st.floats(0.1, 1), st.floats(0.1, 1), st.floats(0, 0.5))
def test_scalarizations_prefer_dominating_points(a, b, w1, w2, rho):
    # a dominates-or-equals the componentwise worse point c (acc max, energy min)
    c = [min(a[0], b[0]), max(a[1], b[1])]
    va, vc = {"acc": a[0], "energy_mj": a[1]}, {"acc": c[0], "energy_mj": c[1]}
    bounds = {"acc": (0, 1), "energy_mj": (0, 1)}
    for r in (WeightedSum(weights={"acc": w1, "energy_mj": w2}, bounds=bounds),
              Chebyshev(weights={"acc": w1, "energy_mj": w2}, rho=rho, bounds=bounds)):
        r.bind(ACC_ENERGY)
        assert r(va) >= r(vc) - 1e-12


# ---------------------------------------------------------------- hypervolume improvement
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=12),
       st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_hvi_matches_moocore_oracle(archive, point):
    r = HypervolumeImprovement(["f1", "f2"], directions={"f1": "min", "f2": "min"},
                               bounds={"f1": (0, 1), "f2": (0, 1)}, margin=0.1)
    r.batch([{"f1": x, "f2": y} for x, y in archive])
    A = np.array(archive)
    ref = np.array([1.1, 1.1])
    before = moocore.hypervolume(A, ref=ref)
    after = moocore.hypervolume(np.vstack([A, point]), ref=ref)
    assert r({"f1": point[0], "f2": point[1]}) == pytest.approx(after - before, abs=1e-12)


def test_hvi_directions_batch_semantics_and_state():
    r = HypervolumeImprovement(bounds={"acc": (0, 1), "energy_mj": (0, 1)}, margin=0.0).bind(ACC_ENERGY)
    # acc 0.5 -> minimized -0.5 normalized over [-1, 0] -> 0.5; energy 0.5 -> 0.5: box 0.5 * 0.5
    out = r.batch([{"acc": 0.5, "energy_mj": 0.5}, {"acc": 0.5, "energy_mj": 0.5}])
    np.testing.assert_allclose(out, [0.25, 0.25])  # same archive for the whole batch
    assert r({"acc": 0.5, "energy_mj": 0.5}) == 0.0  # now in the archive
    assert r({"acc": 0.4, "energy_mj": 0.6}) == 0.0  # dominated
    assert r({"acc": 0.9, "energy_mj": 0.9}) == pytest.approx(0.4 * 0.1)
    np.testing.assert_allclose(sorted(map(tuple, r.archive)), [(0.5, 0.5), (0.9, 0.9)])
    r2 = reward_from_config(r.config()).bind(ACC_ENERGY)
    r2.load_state_dict(serial.loads(serial.dumps(r.state_dict())))
    probe = {"acc": 0.7, "energy_mj": 0.2}
    assert r2(probe) == pytest.approx(r(probe)) == pytest.approx(0.29)


# ---------------------------------------------------------------- config and specs
def _all_rewards():
    return [
        MixedReward(0.3, accuracy="acc", energy="energy_mj"),
        PowerConstraintReward(4.0, accuracy="acc", power="energy_mj"),
        AccuracyConstraintReward(0.5, accuracy="acc", energy="energy_mj", bounds={"energy_mj": (0, 9)}),
        WeightedSum(weights={"acc": 0.2, "energy_mj": 0.8}),
        Chebyshev(weights={"acc": 1, "energy_mj": 2}, rho=0.05, ref={"acc": 1.0, "energy_mj": 0.0}),
        SoftConstraint(3.0, accuracy="acc", latency="energy_mj", alpha=0.0, beta=-1.0),
        HypervolumeImprovement(),
    ]


@pytest.mark.parametrize("reward", _all_rewards(), ids=lambda r: r.kind)
def test_config_round_trip_gives_the_same_rewards(reward):
    reward.bind(ACC_ENERGY)
    cfg = serial.loads(serial.dumps(reward.config()))
    clone = reward_from_config(cfg).bind(ACC_ENERGY)
    rng = np.random.default_rng(0)
    vals = [{"acc": float(a), "energy_mj": float(e)} for a, e in zip(rng.random(7), 1 + 5 * rng.random(7))]
    np.testing.assert_allclose(clone.batch(vals), reward.batch(vals))
    assert type(clone) is type(reward) and reward.kind in available_rewards()


def test_parse_reward_specs():
    r = parse_reward("mixed:alpha=0.25,accuracy=acc,energy=energy_mj,bounds.energy_mj=0:10")
    assert isinstance(r, MixedReward) and r.alpha == 0.25 and r.energy == "energy_mj"
    assert r({"acc": 1.0, "energy_mj": 4.0}) == pytest.approx(0.25 - 0.75 * 0.4)
    c = parse_reward("chebyshev:weights.acc=1,weights.energy_mj=3,rho=0.01")
    np.testing.assert_allclose(c.weights, [1.0, 3.0])
    h = parse_reward("hvi:objectives=acc+energy_mj,ref.acc=0,ref.energy_mj=10")
    assert h.names == ["acc", "energy_mj"] and h.ref == {"acc": 0.0, "energy_mj": 10.0}
    with pytest.raises(ValueError, match="unknown reward 'mix'"):
        parse_reward("mix:alpha=1")
    with pytest.raises(ValueError, match="needs budget"):
        parse_reward("power:accuracy=acc")
    with pytest.raises(ValueError, match="not key=value"):
        parse_reward("mixed:alpha")
    with pytest.raises(ValueError, match="bad options for the mixed reward"):
        parse_reward("mixed:alpha=0.5,gamma=2")


# ---------------------------------------------------------------- package layout and saved formats
def test_public_names_are_the_same_objects_from_moopt_and_their_formula_modules():
    from moopt.rewards import hvi, monas, scalarizations, spec

    homes = {monas: ["MixedReward", "PowerConstraintReward", "AccuracyConstraintReward"],
             scalarizations: ["WeightedSum", "Chebyshev", "SoftConstraint"],
             hvi: ["HypervolumeImprovement"],
             spec: ["reward_from_config", "parse_reward", "available_rewards"]}
    for module, names in homes.items():
        for name in names:
            assert getattr(moopt.rewards, name) is getattr(module, name)
            assert getattr(module, name).__module__ == module.__name__
    exported = [n for n in moopt.rewards.__all__ if n != "available_rewards"]
    assert all(getattr(moopt, n) is getattr(moopt.rewards, n) for n in exported)
    assert sorted(available_rewards()) == ["accuracy", "chebyshev", "hvi", "mixed", "mnas", "power",
                                           "weighted_sum"]


def test_a_checkpoint_in_the_saved_state_format_resumes():
    # running bounds as saved by a search: acc (max) minimized in [-0.9, -0.5], energy in [2, 6]
    r = MixedReward(0.5, accuracy="acc", energy="energy_mj")
    r.load_state_dict({"norm": {"lo": [-0.9, 2.0], "hi": [-0.5, 6.0]}, "min_seen": -0.05, "n_seen": 2})
    assert r.failure_reward() == -0.05
    assert r({"acc": 0.7, "energy_mj": 4.0}) == pytest.approx(0.35 - 0.5 * 0.5)
    assert set(r.state_dict()) == {"norm", "min_seen", "n_seen"} and r.state_dict()["n_seen"] == 3

    h = reward_from_config({"type": "hvi", "objectives": None, "ref": None, "margin": 0.0, "failure": "min",
                            "bounds": {"acc": [0.0, 1.0], "energy_mj": [0.0, 1.0]}})
    h.load_state_dict({
        "norm": {"lo": [-0.5, 0.5], "hi": [-0.5, 0.5]}, "min_seen": 0.25, "n_seen": 1,
        "archive": {"format": "moopt.ParetoArchive", "version": 1, "directions": ["min", "min"],
                    "n_obj": 2, "points": [[-0.5, 0.5]], "payloads": [None]},
        "objectives": ["acc", "energy_mj"]})
    h.bind(ACC_ENERGY)
    # archive (0.5, 0.5), probe (0.3, 0.2) normalized, ref (1, 1): 0.7 * 0.8 - 0.25 covered already
    assert h({"acc": 0.7, "energy_mj": 0.2}) == pytest.approx(0.31)
    assert set(h.state_dict()) == {"norm", "min_seen", "n_seen", "archive", "objectives"}


@pytest.mark.parametrize("make,message", [
    (lambda: MixedReward(1.5), "alpha must be in [0, 1] (1 = accuracy only), got 1.5."),
    (lambda: PowerConstraintReward(-2), "budget must be > 0 (a power budget in the objective's unit), got -2.0."),
    (lambda: SoftConstraint(0), "target must be > 0 (a latency target in the objective's unit), got 0.0."),
    (lambda: Chebyshev(["a"], rho=-0.5), "rho must be >= 0 (0 = plain Chebyshev), got -0.5."),
    (lambda: HypervolumeImprovement(margin=-0.1), "margin must be >= 0, got -0.1."),
    (lambda: HypervolumeImprovement(["a", "b"], ref={"a": 1, "c": 2}),
     "ref must give a value for each objective ['a', 'b']; unknown ['c'], missing ['b']."),
    (lambda: MixedReward(0.5, directions={"energy": "low"}),
     "direction of objective 'energy' is 'low'; use 'min' or 'max'."),
])
def test_option_errors_name_the_option_the_rule_and_the_value(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value) == message


def test_option_must_be_a_number():
    with pytest.raises(TypeError, match="threshold must be a number, got 'high'"):
        AccuracyConstraintReward("high")
    with pytest.raises(ValueError, match=r"ref\['e'\] must be finite, got nan"):
        Chebyshev(weights={"e": 1.0}, ref={"e": math.nan})


def test_hvi_empty_batch_changes_nothing():
    r = HypervolumeImprovement(["f1", "f2"], directions={"f1": "min", "f2": "min"}, margin=0.0,
                               bounds={"f1": (0, 1), "f2": (0, 1)})
    r({"f1": 0.5, "f2": 0.5})
    before = serial.dumps(r.state_dict())
    assert r.batch([]).shape == (0,)
    assert serial.dumps(r.state_dict()) == before
    assert r({"f1": 0.25, "f2": 0.25}) == pytest.approx(0.75 * 0.75 - 0.25)


class _Speed(moopt.Reward):
    """A reward written against the documented subclass contract: ``R = 1 - latency_n``."""

    kind = "speed"
    required = {"latency": "min"}

    def __init__(self, *, latency="latency_ms", bounds=None):
        self.latency = latency
        super().__init__([latency], bounds=bounds)

    def _compute(self, F, signs):
        return 1.0 - self.normalized(F, signs)[:, 0]

    def _params(self):
        return {"latency": self.latency}


def test_a_user_reward_gets_roles_directions_and_failures_from_the_base_class():
    r = _Speed(bounds={"latency_ms": (0, 20)})
    # unbound: the role's direction ('min') is used
    np.testing.assert_allclose(r.batch([{"latency_ms": 5.0}, {"latency_ms": 15.0}]), [0.75, 0.25])
    assert r.failure_reward() == 0.25
    assert r.config() == {"type": "speed", "latency": "latency_ms", "failure": "min",
                          "bounds": {"latency_ms": [0.0, 20.0]}}
    fast = _problem([moopt.Objective("latency_ms", "max")])
    with pytest.raises(ValueError, match="'latency_ms' \\(used as latency\\) is 'max'imized"):
        _Speed().bind(fast)
    with pytest.raises(ValueError, match="unknown objective 'latency_ms'.*e.g. accuracy='acc'"):
        _Speed().bind(ACC_ENERGY)


def test_unbound_hvi_without_objectives_says_so_instead_of_an_attribute_error():
    r = HypervolumeImprovement()
    for use in (lambda: r.archive, r.state_dict, lambda: r.batch([{"f": 1.0}])):
        with pytest.raises(ValueError, match="no objectives yet"):
            use()
