"""Evaluators: spec parsing, failures, time limits, worker death (processes and Dask)."""

import math
import time

import pytest
from engine_support import die_always, die_once, zdt1, zdt1_problem

import moopt
from moopt.evaluators import (
    DaskEvaluator,
    InProcessEvaluator,
    ProcessEvaluator,
    evaluate_params,
    make_evaluator,
)


def _problem(evaluate, n_var=2):
    return moopt.Problem([moopt.Real(f"x{i}", 0, 1) for i in range(n_var)], ["f1", "f2"], evaluate)


def test_specs():
    assert isinstance(make_evaluator(None), InProcessEvaluator)
    assert isinstance(make_evaluator("serial"), InProcessEvaluator)
    ev = make_evaluator("processes:3")
    assert isinstance(ev, ProcessEvaluator) and ev.capacity == 3
    d = make_evaluator("dask:4")
    assert isinstance(d, DaskEvaluator) and d.n_workers == 4 and d.address is None
    t = make_evaluator("tcp://10.0.0.1:8786")
    assert isinstance(t, DaskEvaluator) and t.address == "tcp://10.0.0.1:8786"
    for bad in ("processes:0", "processes:x", "dask:-1", "gpu", "threads:2"):
        with pytest.raises(ValueError, match="evaluator"):
            make_evaluator(bad)
    with pytest.raises(TypeError):
        make_evaluator(3)


def test_evaluate_params_outcomes():
    def evaluate(q):
        if q["x0"] < 0.1:
            raise KeyError("missing thing")
        if q["x0"] > 0.9:
            return {"f1": math.inf, "f2": 0.0}
        return {**zdt1(q), "train_s": 1.5, "note": object()}

    p = _problem(evaluate)
    ok = evaluate_params(p, {"x0": 0.5, "x1": 0.5}, task_id=7)
    assert ok.status == "ok" and ok.task_id == 7 and ok.values["f1"] == 0.5 and ok.values["train_s"] == 1.5
    assert isinstance(ok.values["note"], str)  # free-form metrics become JSON-safe
    bad = evaluate_params(p, {"x0": 0.05, "x1": 0.5})
    assert bad.status == "failed" and bad.error.startswith("KeyError") and "missing thing" in bad.error
    nan = evaluate_params(p, {"x0": 0.95, "x1": 0.5})
    assert nan.status == "failed" and "non-finite" in nan.error
    assert bad.started <= bad.finished


def test_processes_results_match_serial():
    p = zdt1_problem()
    serial = moopt.optimize(p, "random", budget=24, seed=5)
    par = moopt.optimize(p, "random", budget=24, seed=5, evaluator="processes:2")
    # random search proposes the same candidates; only the completion order may differ
    assert sorted((r.candidate_id, r.key, tuple(r.objectives.values())) for r in par.records) == \
        sorted((r.candidate_id, r.key, tuple(r.objectives.values())) for r in serial.records)
    assert {r.worker for r in par.records} == {"proc-0", "proc-1"}
    assert par.config["extra"]["evaluator"] == "processes:2"


def test_processes_worker_death_retried_once_then_ok(tmp_path):
    p = _problem(die_once(str(tmp_path)))
    res = moopt.optimize(p, "random", budget=12, seed=0, evaluator="processes:2")
    assert res.n_results == 12 and res.counts["failed"] == 0
    died = [r for r in res.records if r.params["x0"] > 0.5]
    assert died and all(r.attempts == 2 and r.status == "ok" for r in died)
    assert all(r.attempts == 1 for r in res.records if r.params["x0"] <= 0.5)
    assert len(list(tmp_path.iterdir())) == len(died)


def test_processes_worker_always_dies_recorded_failed():
    p = _problem(die_always)
    res = moopt.optimize(p, "random", budget=10, seed=1, evaluator="processes:2")
    assert res.n_results == 10
    died = [r for r in res.records if r.params["x0"] > 0.5]
    assert died and all(r.status == "failed" and "died" in r.error and r.attempts == 2 for r in died)
    assert all(r.status == "ok" for r in res.records if r.params["x0"] <= 0.5)


def test_processes_time_limit_kills_the_worker():
    def evaluate(q):
        if q["x0"] > 0.6:
            time.sleep(30)
        return zdt1(q)

    p = _problem(evaluate)
    t0 = time.monotonic()
    res = moopt.optimize(p, "random", budget=8, seed=0, evaluator="processes:2", timeout=0.3)
    slow = [r for r in res.records if r.params["x0"] > 0.6]
    assert slow and all(r.status == "failed" and "time limit" in r.error for r in slow)
    assert time.monotonic() - t0 < 20


def test_processes_evaluator_direct_use():
    p = zdt1_problem(2)
    with ProcessEvaluator(2) as ev:
        ev.start(p)
        for i in range(5):
            ev.submit(i, {"x0": i / 10, "x1": 0.5})
        got = {}
        while len(got) < 5:
            for o in ev.wait():
                got[o.task_id] = o
    assert sorted(got) == list(range(5))
    assert all(got[i].values["f1"] == i / 10 for i in range(5))


# --------------------------------------------------------------------- Dask
def test_dask_runs_and_matches_serial(dask_client):
    p = zdt1_problem()
    res = moopt.optimize(p, "random", budget=10, seed=2, evaluator=DaskEvaluator(client=dask_client))
    serial = moopt.optimize(p, "random", budget=10, seed=2)
    assert sorted((r.key, r.objectives["f2"]) for r in res.records) == \
        sorted((r.key, r.objectives["f2"]) for r in serial.records)
    assert all(r.worker.startswith("tcp://") for r in res.records)


def test_dask_failures_and_worker_death(dask_client, tmp_path):
    def evaluate(q):
        if q["x0"] < 0.15:
            raise ValueError("bad region")
        return die_once(str(tmp_path))(q)

    p = _problem(evaluate)
    res = moopt.optimize(p, "random", budget=6, seed=3, evaluator=DaskEvaluator(client=dask_client))
    assert res.n_results == 6
    for r in res.records:
        if r.params["x0"] < 0.15:
            assert r.status == "failed" and "bad region" in r.error
        elif r.params["x0"] > 0.5:
            assert r.status == "ok" and r.attempts == 2  # the worker died once, the retry succeeded
        else:
            assert r.status == "ok" and r.attempts == 1
    assert any(r.params["x0"] > 0.5 for r in res.records)


def test_vectorized_problem_nan_is_a_failure():
    import numpy as np

    def batch(X):
        F = np.column_stack([X[:, 0], 1 - X[:, 0]])
        F[X[:, 0] > 0.5, 1] = np.nan
        return F, None

    p = moopt.Problem([moopt.Real("x0", 0, 1)], ["f1", "f2"], evaluate_batch=batch)
    res = moopt.optimize(p, "random", budget=12, seed=0)
    for r in res.records:
        assert (r.status == "failed") == (r.params["x0"] > 0.5)
        if r.status == "failed":
            assert "non-finite" in r.error
