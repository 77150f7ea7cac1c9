"""Synthetic categorical benchmark: a NAS-like multi-objective knapsack.

A candidate makes ``n_layers`` categorical decisions, one per "layer", each
among ``n_choices`` options labelled ``"op0" .. "op{K-1}"``.  Option ``k`` of
layer ``i`` has a size ``s[i, k]`` in ``[0, 1]`` (drawn once from the instance
seed; the labels are in random order, so choices are not ordinal), a gain
``a[i] * s[i, k]``, an energy ``e[i] * s[i, k]`` and a power
``p[i] * (0.6 * s[i, k] + 0.4 * u[i, k])`` (``u`` independent noise, so power
and energy are correlated but not the same).  For a candidate ``x``:

* ``accuracy = 0.1 + 0.85 * (1 - exp(-gain(x) / g0))`` -- maximized, saturating
  like accuracy does with model size (``g0`` is the mean gain of uniform picks);
* ``energy_mj = sum_i e[i] * s[i, x_i]`` -- minimized;
* ``power_w = sum_i p[i] * (0.6 s[i, x_i] + 0.4 u[i, x_i])`` -- minimized.

The problem has two objectives, ``accuracy`` and the chosen ``cost``
(``"energy_mj"`` or ``"power_w"``); the other cost is returned as a metric.
The evaluation is vectorized (``evaluate_batch``) for fast benchmarks.

Example:
    >>> import numpy as np
    >>> from moopt.problems.categorical import knapsack
    >>> p = knapsack(n_layers=6, n_choices=4, seed=0)
    >>> x = p.space.sample(np.random.default_rng(0))
    >>> sorted(p.evaluate(x))
    ['accuracy', 'energy_mj', 'power_w']
"""

from __future__ import annotations

import numpy as np

import moopt
from moopt.errors import ConfigError

from .base import check_int

__all__ = ["knapsack", "knapsack_tables"]

_COSTS = ("energy_mj", "power_w")
#: the largest instance a spec may ask for (the tables hold n_layers x n_choices values each)
MAX_LAYERS = 1000
MAX_CHOICES = 1000


def knapsack_tables(n_layers: int = 10, n_choices: int = 4, *, seed: int = 0) -> dict:
    """The instance's tables (``size``, ``gain``, ``energy``, ``power``, each ``(n_layers, n_choices)``).

    The same ``seed`` always gives the same instance.
    """
    L = check_int("knapsack", "n_layers", n_layers, low=1, high=MAX_LAYERS, what="number of decisions",
                  example="knapsack:n_layers=10,n_choices=4")
    K = check_int("knapsack", "n_choices", n_choices, low=2, high=MAX_CHOICES, what="options per decision",
                  example="knapsack:n_layers=10,n_choices=4")
    seed = check_int("knapsack", "seed", seed, low=0, high=2**63 - 1, what="instance seed",
                     example="knapsack:seed=1")
    rng = np.random.default_rng([7541, seed])
    size = rng.random((L, K))
    gain_w = rng.uniform(0.5, 1.5, L)
    energy_w = rng.uniform(0.5, 1.5, L)
    power_w = rng.uniform(0.5, 1.5, L)
    noise = rng.random((L, K))
    return {
        "size": size,
        "gain": gain_w[:, None] * size,
        "energy": energy_w[:, None] * size,
        "power": power_w[:, None] * (0.6 * size + 0.4 * noise),
    }


def knapsack(n_layers: int = 10, n_choices: int = 4, *, cost: str = "energy_mj", seed: int = 0) -> moopt.Problem:
    """A categorical two-objective knapsack: maximize ``accuracy``, minimize ``cost``.

    Args:
        n_layers: Number of decisions.
        n_choices: Options per decision (>= 2).
        cost: The second objective, ``"energy_mj"`` or ``"power_w"``.
        seed: Instance seed (which tables), not the search's seed.

    Returns:
        A :class:`moopt.Problem` with ``n_layers`` Categorical variables
        ``layer0 ..`` and objectives ``accuracy`` (max) and ``cost`` (min).
    """
    if cost not in _COSTS:
        raise ConfigError(f"knapsack: cost must be one of {list(_COSTS)}, got {cost!r}; "
                          "e.g. 'knapsack:cost=power_w'.")
    t = knapsack_tables(n_layers, n_choices, seed=seed)
    L, K = t["size"].shape
    g0 = float(t["gain"].mean(axis=1).sum())
    rows = np.arange(L)
    labels = [f"op{k}" for k in range(K)]
    variables = [moopt.Categorical(f"layer{i}", labels) for i in range(L)]

    def all_values(idx: np.ndarray) -> dict:
        idx = np.atleast_2d(idx).astype(int)
        gain = t["gain"][rows, idx].sum(axis=1)
        return {
            "accuracy": 0.1 + 0.85 * (1.0 - np.exp(-gain / g0)),
            "energy_mj": t["energy"][rows, idx].sum(axis=1),
            "power_w": t["power"][rows, idx].sum(axis=1),
        }

    def evaluate(params):
        idx = np.array([[int(params[f"layer{i}"][2:]) for i in range(L)]])
        return {k: float(v[0]) for k, v in all_values(idx).items()}

    def evaluate_batch(X):
        X = np.asarray(X, dtype=float)
        v = all_values(np.rint(X).astype(int))
        return np.column_stack([v["accuracy"], v[cost]]), None

    return moopt.Problem(
        variables,
        [moopt.Objective("accuracy", "max"), moopt.Objective(cost, "min", unit=cost.split("_")[1])],
        evaluate,
        evaluate_batch=evaluate_batch,
        name=f"knapsack:n_layers={L},n_choices={K},cost={cost},seed={int(seed)}",
    )
