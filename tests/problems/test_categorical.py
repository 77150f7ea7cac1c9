"""The categorical knapsack benchmark: instance determinism, scalar vs batch evaluation, brute force."""

import itertools

import numpy as np
import pytest

from moopt.problems.categorical import knapsack, knapsack_tables


def test_instance_is_fixed_by_its_seed():
    a, b, c = (knapsack_tables(5, 3, seed=s) for s in (1, 1, 2))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.allclose(a["size"], c["size"])


@pytest.mark.parametrize("cost", ["energy_mj", "power_w"])
def test_scalar_and_batch_evaluation_agree_with_the_tables(cost):
    p = knapsack(n_layers=4, n_choices=3, cost=cost, seed=5)
    t = knapsack_tables(4, 3, seed=5)
    g0 = t["gain"].mean(axis=1).sum()
    assert p.objective_names == ["accuracy", cost] and p.directions == ["max", "min"]
    X = np.array(list(itertools.product(range(3), repeat=4)), dtype=float)
    F, G = p.evaluate_batch(X)
    assert G is None and F.shape == (81, 2)
    for x, f in zip(X[::7], F[::7]):
        params = p.space.from_vector(x)
        v = p.evaluate(params)
        idx = x.astype(int)
        gain = sum(t["gain"][i, k] for i, k in enumerate(idx))
        assert v["accuracy"] == pytest.approx(0.1 + 0.85 * (1 - np.exp(-gain / g0)))
        assert v["energy_mj"] == pytest.approx(sum(t["energy"][i, k] for i, k in enumerate(idx)))
        assert v["power_w"] == pytest.approx(sum(t["power"][i, k] for i, k in enumerate(idx)))
        np.testing.assert_allclose(f, [v["accuracy"], v[cost]])
    assert 0.1 <= F[:, 0].min() and F[:, 0].max() <= 0.95


def test_power_and_energy_are_correlated_but_different():
    p = knapsack(cost="power_w")
    rng = np.random.default_rng(0)
    vals = [p.evaluate(p.space.sample(rng)) for _ in range(500)]
    e = np.array([v["energy_mj"] for v in vals])
    w = np.array([v["power_w"] for v in vals])
    r = np.corrcoef(e, w)[0, 1]
    assert 0.3 < r < 0.95


def test_bad_arguments():
    with pytest.raises(ValueError, match="cost must be one of"):
        knapsack(cost="latency_ms")
    with pytest.raises(ValueError, match="n_choices"):
        knapsack(n_choices=1)
    with pytest.raises(ValueError, match="n_layers"):
        knapsack(n_layers=0)
