"""moopt's own searches end to end on NAS problems that train on digits.

* ``reinforce`` (MONAS: LSTM policy + REINFORCE) on the MONAS macro space, through
  ``moopt.optimize`` and a run store: evaluations, params against the analytic count,
  the policy's updates, and resume from the store.
* ``progressive`` (DPP-Net) on the DPP cell space with a random-forest surrogate: the
  surrogate is fitted and logs rank metrics that agree with the stored predictions, and
  every step keeps the Pareto set over (predicted error, exact params).

Everything is tiny (1 epoch on 64 images, 2-layer nets), so each test takes a few seconds.
"""

import math

import numpy as np
import pytest

import moopt
from moopt.adapters.nas.problem import nas_problem
from moopt.store import RunStore

TRAIN = {"epochs": 1, "max_train": 64, "max_val": 32}
MONAS_OPTS = {"n_layers": 2, "filters": (4, 8), "kernels": (1, 3)}
DPP_OPTS = {"stem_channels": 8, "stages": (1, 1), "growth": (4, 8), "max_length": 4}
REINFORCE = {"children_per_update": 4, "hidden": 8}


def _monas(digits, objectives=("error_pct", "params")):
    return nas_problem("monas", dataset=digits, objectives=list(objectives), space_options=MONAS_OPTS,
                       train_config=TRAIN, seed=0)


def _monas_params(params, cin=1, classes=10) -> int:
    """Analytic parameter count of a MONAS net: bias-free convs, BN (2 per channel), linear head."""
    total, c, i = 0, cin, 0
    while f"layer{i}_filters" in params:
        f, k = params[f"layer{i}_filters"], params[f"layer{i}_kernel"]
        total += c * f * k * k + 2 * f
        c, i = f, i + 1
    return total + c * classes + classes


def test_reinforce_on_monas_trains_updates_the_policy_and_resumes(digits, tmp_path):
    from moopt.search.reinforce import ReinforceSearch

    p = _monas(digits)
    n_val = min(TRAIN["max_val"], len(digits.val))
    db = tmp_path / "monas.db"
    # count_duplicates: 8 results (2 policy updates of 4 children), a repeated child included
    res = moopt.optimize(p, "reinforce", budget=8, seed=0, store=str(db), count_duplicates=True, **REINFORCE)

    assert res.n_results == 8 and res.counts["ok"] == 8 and res.counts["failed"] == 0
    by_seq = {r.seq: r for r in res.records}
    for r in res.records:  # a repeated child is answered from the store with the first result
        if r.cached_from is not None:
            assert r.objectives == by_seq[r.cached_from].objectives and r.key == by_seq[r.cached_from].key
    for r in res.records:
        err = r.objectives["error_pct"]
        assert 0.0 <= err <= 100.0
        # error is a share of the n_val validation images: a whole number of mistakes
        assert err * n_val / 100 == pytest.approx(round(err * n_val / 100), abs=1e-9)
        net = p.build(r.params)
        assert r.objectives["params"] == sum(t.numel() for t in net.parameters()) == _monas_params(r.params)
    # accuracy of the same candidate (same per-candidate training seed) is 100 - error
    first = res.records[0]
    acc = _monas(digits, ("accuracy_pct",)).evaluate(first.params)["accuracy_pct"]
    assert acc == pytest.approx(100.0 - first.objectives["error_pct"])

    with RunStore(str(db), readonly=True) as store:
        updates = store.logs("policy_update")
        state, n_told = store.checkpoint()
    assert [u["update"] for u in updates] == [0, 1] and n_told == 8
    for u in updates:
        assert u["n_ok"] == 4 and u["n_failed"] == 0 and math.isfinite(u["loss"]) and u["grad_norm"] >= 0
        # entropy of 4 binary decisions (nats) lies in (0, 4 ln 2]
        assert 0.0 < u["entropy"] <= 4 * math.log(2) + 1e-6
    assert state["n_updates"] == 2
    fresh = ReinforceSearch(p, seed=0, **REINFORCE).policy.weights()
    assert set(fresh) == set(state["policy"])
    assert any(not np.allclose(fresh[k], state["policy"][k]) for k in fresh), "the policy never moved"

    # stopping after the first batch and resuming from the store gives the same history
    db2 = tmp_path / "resumed.db"
    half = moopt.optimize(p, "reinforce", budget=4, seed=0, store=str(db2), count_duplicates=True, **REINFORCE)
    assert half.n_results == 4
    full = moopt.optimize(p, "reinforce", budget=8, seed=0, store=str(db2), **REINFORCE)  # stored setting
    assert full.resumed
    assert [(r.key, r.objectives) for r in full.records] == [(r.key, r.objectives) for r in res.records]


def _dominates(a, b) -> bool:
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def test_progressive_on_dpp_fits_a_forest_and_keeps_the_predicted_pareto_set(digits, tmp_path, monkeypatch):
    from scipy.stats import kendalltau

    from moopt.search.progressive.search import ProgressiveSearch

    calls = []
    select = ProgressiveSearch._select

    def spy(self, entries):  # records what each step chose from, then selects as before
        chosen = select(self, entries)
        calls.append((list(entries), list(chosen), self.k))  # copies: the search consumes its queue
        return chosen

    monkeypatch.setattr(ProgressiveSearch, "_select", spy)
    p = nas_problem("dpp", dataset=digits, objectives=["error_pct", "params"], space_options=DPP_OPTS,
                    train_config=TRAIN, seed=0)
    db = tmp_path / "dpp.db"
    res = moopt.optimize(p, "progressive", budget=20, seed=0, store=str(db), k=3, n_initial=4,
                         surrogate="forest", surrogate_options={"n_estimators": 16})

    # lengths 2 (4 initial cells), 3 and 4 (k=3 each); then nothing is left to grow
    steps = [r.info["step"] for r in res.records]
    assert steps == [0] * 4 + [1] * 3 + [2] * 3 and res.counts["ok"] == 10
    assert [len(r.params["cell"]) for r in res.records] == [2] * 4 + [3] * 3 + [4] * 3

    with RunStore(str(db), readonly=True) as store:
        logs = store.logs("step")
    assert [g["step"] for g in logs] == [0, 1, 2]
    assert logs[0]["quality"] is None  # nothing was predicted before the first fit
    for s in (1, 2):
        recs = [r for r in res.records if r.info["step"] == s]
        pred = [r.info["predicted"]["error_pct"] for r in recs]
        true = [r.objectives["error_pct"] for r in recs]
        # a forest predicts averages of its training targets (every ok result of earlier steps)
        seen = [r.objectives["error_pct"] for r in res.records if r.info["step"] < s]
        assert all(min(seen) - 1e-9 <= v <= max(seen) + 1e-9 for v in pred)
        q = logs[s]["quality"]["error_pct"]
        assert q["n"] == 3 and logs[s]["n_data"] == len(seen) + 3
        assert q["mae"] == pytest.approx(np.mean(np.abs(np.subtract(true, pred))))
        tau = kendalltau(true, pred).statistic
        assert q["kendall_tau"] == (None if np.isnan(tau) else pytest.approx(tau))
    all_pred = [r.info["predicted"]["error_pct"] for r in res.records if r.info["step"] > 0]
    assert len(set(all_pred)) > 1, "constant predictions: the surrogate was not fitted to the data"

    # every step's selection: the kept cells are those asked next, and they contain the whole
    # predicted Pareto set over (predicted error_pct, exact params) when it fits in k
    predicted_calls = [c for c in calls if c[0] and "pred" in c[0][0]]
    assert len(predicted_calls) == 2
    for s, (entries, chosen, k) in enumerate(predicted_calls, start=1):
        asked = [tuple(r.params["cell"]) for r in res.records if r.info["step"] == s]
        assert [tuple(c["seq"]) for c in chosen] == asked and len(asked) == min(k, len(entries))
        F = [(e["pred"]["error_pct"], e["cheap"]["params"]) for e in entries]
        for e in entries:  # the cheap objective is the exact count, not a prediction
            assert e["cheap"]["params"] == p.evaluate_cheap({"cell": e["seq"]})["params"]
        front = {tuple(entries[i]["seq"]) for i in range(len(F))
                 if not any(_dominates(F[j], F[i]) for j in range(len(F)))}
        if len(front) <= k:
            assert front <= set(asked)
        else:
            assert set(asked) <= front
