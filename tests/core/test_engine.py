"""moopt.optimize and RunResult: budget, determinism, directions, dedupe, failures, HV, plots."""

import csv
import io
import time

import moocore
import numpy as np
import pytest
from engine_support import HillClimb, history, zdt1, zdt1_problem

import moopt
from moopt.errors import ConfigError, RunStoreError
from moopt.progress import Progress
from moopt.search.base import Candidate, Search


def brute_nondominated(F_min):
    n = len(F_min)
    keep = np.ones(n, bool)
    for i in range(n):
        for j in range(n):
            if i != j and np.all(F_min[j] <= F_min[i]) and np.any(F_min[j] < F_min[i]):
                keep[i] = False
                break
    return keep


def test_optimize_random_basic(tmp_path):
    p = zdt1_problem()
    res = moopt.optimize(p, "random", budget=60, seed=0, store=str(tmp_path / "r.db"))
    assert res.n_results == 60 and res.F.shape == (60, 2)
    assert res.counts == {"ok": 60, "failed": 0, "pruned": 0, "cached": 0, "pending": 0}
    # values are exactly what the problem returns for the stored parameters
    for r in res.records:
        assert r.objectives == zdt1(r.params)
    # the front is the brute-force nondominated set of F
    mask = brute_nondominated(res.F)
    assert sorted(map(tuple, res.F[mask])) == sorted(map(tuple, res.front_F))
    assert len(res.front) == mask.sum() and set(res.front.columns) >= {"id", "x0", "f1", "f2"}
    # the stored run reads back the same
    again = moopt.RunResult.load(str(tmp_path / "r.db"))
    assert history(again) == history(res)
    # candidates are those of a bare RandomSearch with the same seed
    ids = [r.params for r in res.records]
    s = moopt.RandomSearch(p, seed=0)
    assert ids == [c.params for c in s.ask(60)]


def test_same_seed_same_history_other_seed_differs():
    p = zdt1_problem()
    a = moopt.optimize(p, HillClimb(p, seed=5), budget=40)
    b = moopt.optimize(p, HillClimb(p, seed=5), budget=40)
    c = moopt.optimize(p, HillClimb(p, seed=6), budget=40)
    assert history(a) == history(b)
    assert history(a) != history(c)


def test_directions_max_objective_told_in_user_direction():
    told = []

    class Recorder(moopt.RandomSearch):
        def tell(self, results):
            told.extend((dict(r.candidate.params), dict(r.values)) for r in results)

    def evaluate(q):
        return {"cost": q["x"], "acc": 1.0 - (q["x"] - 0.3) ** 2}

    p = moopt.Problem([moopt.Real("x", 0, 1)], [moopt.Objective("cost", "min"), moopt.Objective("acc", "max")],
                      evaluate)
    res = moopt.optimize(p, Recorder(p, seed=1), budget=50)
    assert len(told) == 50
    for params, values in told:
        assert values == evaluate(params)  # the user's direction, not negated
    F = res.F
    mask = brute_nondominated(F * np.array([1.0, -1.0]))
    assert sorted(map(tuple, F[mask])) == sorted(map(tuple, res.front_F))
    # with 'acc' maximized, the front stops at the first sample past x = 0.3 (the accuracy peak):
    # further right costs more and loses accuracy
    cut = min(x for x in F[:, 0] if x >= 0.3)
    assert np.all(res.front_F[:, 0] <= cut) and cut in res.front_F[:, 0]


def test_dedupe_evaluates_each_candidate_once():
    calls = []

    def evaluate(q):
        calls.append((q["a"], q["b"]))
        return {"f1": float(q["a"]), "f2": float(len(q["b"]))}

    p = moopt.Problem([moopt.Integer("a", 0, 2), moopt.Categorical("b", ["x", "yy"])], ["f1", "f2"], evaluate)
    # count_duplicates: 40 results of a 6-candidate space (by default the run stalls; see test_budget.py)
    res = moopt.optimize(p, "random", budget=40, seed=0, count_duplicates=True)
    assert res.n_results == 40 and res.n_paid == 6 and res.status == "complete"
    assert len(calls) == len(set(calls)) == 6  # every distinct candidate exactly once
    by_seq = {r.seq: r for r in res.records}
    cached = [r for r in res.records if r.cached_from is not None]
    assert len(cached) == 34 == res.counts["cached"]
    for r in cached:
        orig = by_seq[r.cached_from]
        assert orig.cached_from is None and orig.key == r.key and orig.objectives == r.objectives
        assert orig.seq < r.seq
    assert res.F.shape == (6, 2)  # duplicates are counted once


def test_failures_recorded_and_told():
    statuses = []

    class Recorder(moopt.RandomSearch):
        def tell(self, results):
            statuses.extend((r.status, r.error) for r in results)

    def evaluate(q):
        if q["x0"] < 0.2:
            raise RuntimeError("diverged")
        out = zdt1(q)
        if q["x0"] > 0.85:
            out["f2"] = float("nan")
        return out

    p = moopt.Problem([moopt.Real(f"x{i}", 0, 1) for i in range(3)], ["f1", "f2"], evaluate)
    res = moopt.optimize(p, Recorder(p, seed=2), budget=60)
    assert res.n_results == 60
    failed = [r for r in res.records if r.status == "failed"]
    expect = [r for r in res.records if r.params["x0"] < 0.2 or r.params["x0"] > 0.85]
    assert [r.seq for r in failed] == [r.seq for r in expect] and failed
    for r in failed:
        assert r.objectives is None
        assert ("RuntimeError: diverged" in r.error) if r.params["x0"] < 0.2 else ("non-finite" in r.error)
    assert sum(s == "failed" for s, _ in statuses) == len(failed) == res.counts["failed"]
    assert res.F.shape == (60 - len(failed), 2)
    assert all(row["id"] not in {r.candidate_id for r in failed} for row in res.front)


def test_time_limit_in_process():
    def evaluate(q):
        if q["x0"] > 0.7:
            time.sleep(5)
        return zdt1(q)

    p = moopt.Problem([moopt.Real(f"x{i}", 0, 1) for i in range(2)], ["f1", "f2"], evaluate)
    t0 = time.monotonic()
    res = moopt.optimize(p, "random", budget=8, seed=0, timeout=0.2)
    slow = [r for r in res.records if r.params["x0"] > 0.7]
    assert slow and all(r.status == "failed" and "time limit" in r.error for r in slow)
    assert all(r.status == "ok" for r in res.records if r.params["x0"] <= 0.7)
    assert time.monotonic() - t0 < 5  # interrupted, not waited for


def test_resume_extends_budget_identically(tmp_path):
    p = zdt1_problem()
    path = str(tmp_path / "r.db")
    first = moopt.optimize(p, HillClimb(p, seed=3), budget=25, store=path)
    assert not first.resumed
    second = moopt.optimize(p, HillClimb(p, seed=3), budget=50, store=path)
    assert second.resumed and second.n_results == 50
    full = moopt.optimize(p, HillClimb(p, seed=3), budget=50)
    assert history(second) == history(full)
    assert history(second)[:25] == history(first)
    # logs of every tell were persisted, with the number of results told so far
    logs = second.logs
    assert [lg["n_told"] for lg in logs] == list(range(1, 51))
    assert [lg["size"] for lg in logs] == [lg["size"] for lg in full.logs]


def test_store_with_other_configuration_is_refused(tmp_path):
    p = zdt1_problem()
    path = str(tmp_path / "r.db")
    moopt.optimize(p, "random", budget=5, seed=1, store=path)
    with pytest.raises(RunStoreError, match="seed"):
        moopt.optimize(p, "random", budget=5, seed=2, store=path)
    with pytest.raises(RunStoreError, match="algorithm"):
        moopt.optimize(p, HillClimb(p, seed=1), budget=5, store=path)
    q = zdt1_problem(n_var=3)
    with pytest.raises(RunStoreError, match="problem"):
        moopt.optimize(q, "random", budget=5, seed=1, store=path)
    assert moopt.RunResult.load(path).n_results == 5  # nothing mixed in


def test_argument_errors():
    p = zdt1_problem()
    with pytest.raises(ConfigError, match="unknown algorithm"):
        moopt.optimize(p, "nope", budget=3)
    with pytest.raises(ValueError, match="budget"):
        moopt.optimize(p, "random", budget=-1)
    with pytest.raises(TypeError, match="options"):
        moopt.optimize(p, HillClimb(p, seed=0), budget=3, sigma=0.5)
    with pytest.raises(TypeError, match="moopt.Problem"):
        moopt.optimize({"not": "a problem"}, "random", budget=3)
    with pytest.raises(ValueError, match="evaluator"):
        moopt.optimize(p, "random", budget=3, evaluator="threads:2")
    assert moopt.optimize(p, "random", budget=0).n_results == 0


class _Greedy(Search):
    def __init__(self, problem, *, seed=None, extra=1, reuse=False, bad=False):
        super().__init__(problem, seed=seed)
        self.extra, self.reuse, self.bad = extra, reuse, bad

    def ask(self, n=1):
        out = [self._new_candidate(self.problem.space.sample(self.rng)) for _ in range(n + self.extra)]
        if self.reuse:
            out = [Candidate(0, c.params) for c in out]
        if self.bad:
            out = [Candidate(c.id, {"x0": 7.0, "x1": 0.1}) for c in out]
        return out

    def tell(self, results):
        pass


def test_contract_breaches_are_clear_errors():
    p = zdt1_problem(2)
    with pytest.raises(ConfigError, match="at most n"):
        moopt.optimize(p, _Greedy(p, seed=0), budget=3)
    with pytest.raises(ConfigError, match="already used"):
        moopt.optimize(p, _Greedy(p, seed=0, extra=0, reuse=True), budget=3)
    res = moopt.optimize(p, _Greedy(p, seed=0, extra=0, bad=True), budget=3, count_duplicates=True)
    assert [r.status for r in res.records] == ["failed"] * 3
    assert "invalid candidate" in res.records[0].error and "outside" in res.records[0].error
    # by default invalid candidates are refused unrun and cost nothing: the run stalls on them
    res = moopt.optimize(p, _Greedy(p, seed=0, extra=0, bad=True), budget=3)
    assert res.status == "stalled" and res.n_paid == 0 and res.n_results == 100
    assert {r.status for r in res.records} == {"failed"} and all(r.attempts == 0 for r in res.records)
    assert "100 with invalid parameters" in res.message


def test_search_finishing_early_stops_the_run():
    class Three(moopt.RandomSearch):
        def ask(self, n=1):
            return super().ask(min(n, 3 - self._next_id))

    p = zdt1_problem(2)
    res = moopt.optimize(p, Three(p, seed=0), budget=10)
    assert res.n_results == 3


def test_constraints_exclude_infeasible_from_front():
    def evaluate(q):
        out = zdt1(q)
        out["g"] = 0.5 - q["x0"]  # feasible when x0 >= 0.5
        return out

    p = moopt.Problem([moopt.Real(f"x{i}", 0, 1) for i in range(3)], ["f1", "f2"], evaluate, constraints=["g"])
    res = moopt.optimize(p, "random", budget=80, seed=4)
    assert len(res.front) > 0
    assert all(row["x0"] >= 0.5 and row["g"] <= 0 for row in res.front)
    feas = np.array([r.objectives["f1"] >= 0.5 for r in res.records])
    F = res.F[feas]
    mask = brute_nondominated(F)
    assert sorted(map(tuple, F[mask])) == sorted(map(tuple, res.front_F))


def test_hypervolume_history_matches_moocore_prefixes():
    p = zdt1_problem()
    res = moopt.optimize(p, HillClimb(p, seed=1), budget=70)
    ref = np.array([1.2, 8.0])
    hv = res.hypervolume_history(ref=ref)
    assert hv.shape == (70,)
    assert np.all(np.diff(hv) >= -1e-12)
    F = np.array([[r.objectives["f1"], r.objectives["f2"]] for r in res.records])
    for k in (1, 9, 33, 70):
        pts = F[:k][np.all(F[:k] < ref, axis=1)]
        expect = moocore.hypervolume(pts, ref=ref) if len(pts) else 0.0
        assert hv[k - 1] == pytest.approx(expect, rel=1e-12, abs=1e-15)
    assert res.hypervolume(ref) == pytest.approx(hv[-1])
    # inferred reference point: last value equals hypervolume() with the same inferred point
    assert res.hypervolume_history()[-1] == pytest.approx(res.hypervolume())


def test_table_csv_round_trip():
    p = zdt1_problem(2)
    res = moopt.optimize(p, "random", budget=30, seed=0)
    rows = list(csv.DictReader(io.StringIO(res.front.to_csv())))
    assert len(rows) == len(res.front)
    for row, orig in zip(rows, res.front):
        assert int(row["id"]) == orig["id"] and float(row["f2"]) == orig["f2"]
    hist = res.history
    assert len(hist) == 30 and hist["status"] == ["ok"] * 30
    assert "RunResult(30 evaluations" in repr(res) and "30 paid" in repr(res) and "complete" in repr(res)


def test_progress_line():
    buf = io.StringIO()
    bar = Progress(200, enabled=True, stream=buf, min_interval=0)
    bar.update(50, failed=2, hv=0.75)
    line = buf.getvalue()
    assert "50/200" in line and "failed 2" in line and "hv 0.75" in line and "ETA" in line
    assert "[######" in line and "cached" not in line and "pruned" not in line
    buf = io.StringIO()
    Progress(200, enabled=True, stream=buf, min_interval=0).update(50, cached=31, pruned=2)
    assert "50/200" in buf.getvalue() and "cached 31" in buf.getvalue() and "pruned 2" in buf.getvalue()
    quiet = io.StringIO()
    Progress(10, stream=quiet).update(5)  # StringIO is not a terminal: silent by default
    assert quiet.getvalue() == ""


def test_progress_during_optimize(capsys):
    p = zdt1_problem(2)
    moopt.optimize(p, "random", budget=15, seed=0, progress=True)
    err = capsys.readouterr().err
    assert "15/15" in err and "hv" in err


@pytest.mark.parametrize("m", [2, 3, 4])
def test_plots_are_png(tmp_path, m):
    def evaluate(q):
        x = np.array([q[f"x{i}"] for i in range(m)])
        return {f"f{j}": float(np.roll(x, j)[0] + 0.1 * x.sum()) for j in range(m)}

    p = moopt.Problem([moopt.Real(f"x{i}", 0, 1) for i in range(m)], [f"f{j}" for j in range(m)], evaluate)
    res = moopt.optimize(p, "random", budget=30, seed=0)
    paths = res.plot(tmp_path / "plots")
    assert [x.name for x in paths] == ["front.png", "hypervolume.png"]
    for x in paths:
        assert x.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and x.stat().st_size > 5000
