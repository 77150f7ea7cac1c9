"""The budget counts what a user pays: duplicates and candidates outside the space are free; stalls end runs.

Default ``count_duplicates=False``: the budget counts evaluations actually run (ok or failed);
answers from the run store (duplicates), candidates refused unrun (invalid parameters) and
candidates outside the search space (``OutsideSpaceError``, recorded ``pruned``) cost nothing.
A search that proposes only such candidates for ``stall_limit`` answers in a row stops the run
with status ``stalled``.  ``count_duplicates=True`` counts every result, as before.
"""

import json
import sqlite3
import time

import numpy as np
import pytest
from engine_support import Crash, CrashingStore, history

import moopt
from moopt.cli import main
from moopt.engine import stall_limit
from moopt.errors import ConfigError, OutsideSpaceError
from moopt.search.base import Search

pytest.importorskip("pymoo")


def grid_problem(calls=None, *, n_var=4, n_choices=4):
    """A small categorical problem (``n_choices ** n_var`` candidates); ``calls`` collects every evaluation."""

    def evaluate(q):
        x = [q[f"v{i}"] for i in range(n_var)]
        if calls is not None:
            calls.append(tuple(x))
        return {"f1": float(sum(x)), "f2": float(sum((n_choices - 1 - a) ** 2 for a in x)) + 0.01 * x[0]}

    return moopt.Problem([moopt.Categorical(f"v{i}", list(range(n_choices))) for i in range(n_var)],
                         ["f1", "f2"], evaluate, name=f"grid{n_var}x{n_choices}")


class Cycle(Search):
    """Proposes the candidates of ``grid`` (``n_var`` x ``n_choices``) numbered 0..``n``-1, round and round."""

    name = "cycle-test"

    def __init__(self, problem, *, seed=None, n=8):
        super().__init__(problem, seed=seed)
        self.n = n

    def config(self) -> dict:
        return {"n": self.n}

    def ask(self, n=1):
        out = []
        for _ in range(n):
            k, params = self._next_id % self.n, {}
            for i, var in enumerate(self.problem.space):
                params[var.name] = var.choices[(k // len(var.choices) ** i) % len(var.choices)]
            out.append(self._new_candidate(params))
        return out

    def tell(self, results):
        pass


def _crash_then_resume(tmp_path, make_problem, make_search, *, budget, method, ks, when, **kw):
    """Crash at each k of ``ks`` (a fresh session each), resume after each; return the final result."""
    path = str(tmp_path / "run.db")
    for k in ks:
        store = CrashingStore(path, method=method, k=k, when=when)
        p = make_problem()
        with pytest.raises(Crash):
            try:
                moopt.optimize(p, make_search(p), budget=budget, store=store, **kw)
            finally:
                store.close()
    p = make_problem()
    return moopt.optimize(p, make_search(p), budget=budget, store=path, **kw)


# ------------------------------------------------------------------------------------ what the budget counts
def test_nsga2_gets_exactly_its_budget_of_paid_evaluations():
    calls = []
    res = moopt.optimize(grid_problem(calls), "nsga2", budget=60, seed=0, pop_size=10)
    assert res.status == "complete" and res.config["extra"]["count_duplicates"] is False
    assert res.n_paid == 60 == len(calls) == len(set(calls))  # 60 distinct candidates, each evaluated once
    n_cached = res.counts["cached"]
    assert n_cached > 60 and res.n_results == 60 + n_cached  # NSGA-II with 10 of 256 repeats itself a lot
    assert len({r.key for r in res.records}) == 60
    # the old count: every result consumes the budget, duplicates included
    old_calls = []
    old = moopt.optimize(grid_problem(old_calls), "nsga2", budget=60, seed=0, pop_size=10, count_duplicates=True)
    assert old.status == "complete" and old.config["extra"]["count_duplicates"] is True
    assert old.n_results == 60 and 0 < old.counts["cached"] < 60 and old.n_paid == len(old_calls) < 60
    # same proposals in the same order: the old run is a prefix of the new one
    assert history(res)[:60] == history(old)
    assert "budget: 60/60 paid evaluations" in res.summary() and "budget: 60/60 results" in old.summary()


def test_processes_evaluator_spends_the_budget_on_paid_evaluations_only():
    calls = []
    res = moopt.optimize(grid_problem(calls), "nsga2", budget=30, seed=1, pop_size=10, evaluator="processes:2")
    assert res.status == "complete" and res.n_paid == 30 and res.counts["cached"] > 0
    assert len({r.key for r in res.records}) == 30 and res.counts["pending"] == 0


def test_count_duplicates_is_stored_and_checked_on_resume(tmp_path):
    p = grid_problem()
    path = str(tmp_path / "r.db")
    first = moopt.optimize(p, "nsga2", budget=30, seed=0, pop_size=10, store=path)
    assert first.n_paid == 30 and first.counts["cached"] > 0
    with pytest.raises(ConfigError, match=r"count_duplicates=False.*resuming it with count_duplicates=True"):
        moopt.optimize(p, "nsga2", budget=40, seed=0, pop_size=10, store=path, count_duplicates=True)
    assert history(moopt.RunResult.load(path)) == history(first)  # nothing changed
    # leaving it out (None) resumes with the stored value
    second = moopt.optimize(p, "nsga2", budget=40, seed=0, pop_size=10, store=path)
    assert second.resumed and second.n_paid == 40 and second.config["extra"]["count_duplicates"] is False
    assert history(second) == history(moopt.optimize(p, "nsga2", budget=40, seed=0, pop_size=10))

    old = str(tmp_path / "old.db")
    moopt.optimize(p, "nsga2", budget=30, seed=0, pop_size=10, store=old, count_duplicates=True)
    with pytest.raises(ConfigError, match="count_duplicates=True"):
        moopt.optimize(p, "nsga2", budget=40, seed=0, pop_size=10, store=old, count_duplicates=False)
    # a store written before the setting existed counted every result: it resumes that way
    from moopt.store import row_checksum

    con = sqlite3.connect(old)
    con.execute("UPDATE config SET extra = json_remove(extra, '$.count_duplicates') WHERE id = 1")
    row = con.execute("SELECT id, identity, extra, created FROM config").fetchone()
    con.execute("UPDATE config SET crc = ? WHERE id = 1", (row_checksum("config", tuple(row)),))  # an intact row
    con.commit()
    con.close()
    assert "count_duplicates" not in moopt.RunResult.load(old).config["extra"]
    res = moopt.optimize(p, "nsga2", budget=40, seed=0, pop_size=10, store=old)
    assert res.n_results == 40 and res.config["extra"]["count_duplicates"] is True
    with pytest.raises(TypeError, match="count_duplicates"):
        moopt.optimize(p, "random", budget=3, count_duplicates="yes")


@pytest.mark.parametrize("method,when,ks", [("record_ask", "after", (5, 40, 90)),
                                            ("record_evaluation", "before", (3, 9, 20)),
                                            ("record_tell", "before", (0,))])
def test_resume_mid_run_with_duplicates_is_exact(tmp_path, method, when, ks):
    calls = []
    ref = moopt.optimize(grid_problem(), "nsga2", budget=60, seed=2, pop_size=10)
    assert ref.counts["cached"] > 20
    res = _crash_then_resume(tmp_path, lambda: grid_problem(calls), lambda p: "nsga2", budget=60, method=method,
                             ks=ks, when=when, seed=2, pop_size=10)
    assert history(res) == history(ref) and res.n_paid == 60
    assert len(set(calls)) == 60 and len(calls) <= 60 + len(ks)  # at most the one in flight is redone per crash


def test_repeats_within_one_batch_are_evaluated_once():
    calls = []
    p = grid_problem(calls, n_var=3, n_choices=2)

    class Repeats(Cycle):
        def ask(self, n=1):  # once: A, A, B, A; then finished
            if self._next_id:
                return []
            a, b = ({"v0": 0, "v1": 0, "v2": 0}, {"v0": 1, "v1": 0, "v2": 0})
            return [self._new_candidate(q) for q in (a, a, b, a)]

    res = moopt.optimize(p, Repeats(p, seed=0), budget=4, batch_size=4)
    assert calls == [(0, 0, 0), (1, 0, 0)] and res.n_paid == 2 and res.counts["cached"] == 2
    assert res.status == "finished" and "no more candidates after 2/4 paid evaluations" in res.message
    by_seq = {r.seq: r for r in res.records}
    for r in res.records:
        if r.cached_from is not None:
            assert by_seq[r.cached_from].key == r.key and by_seq[r.cached_from].cached_from is None


# ----------------------------------------------------------------------------------------------------- stall
def test_stall_limit():
    assert stall_limit(1, 50) == 100 and stall_limit(32, 50) == 320 and stall_limit(4, 5000) == 5000


def test_small_space_stalls_promptly_deterministic_search(tmp_path):
    p = grid_problem(n_var=3, n_choices=2)  # 8 candidates
    t0 = time.monotonic()
    res = moopt.optimize(p, Cycle(p, seed=0), budget=50, store=str(tmp_path / "r.db"))
    assert time.monotonic() - t0 < 10
    assert res.status == "stalled" and res.n_paid == 8 and res.n_results == 8 + 100
    assert res.counts["cached"] == 100 and res.counts["pending"] == 0
    msg = res.message
    assert msg.startswith("stalled after 8/50 paid evaluations") and "100 duplicates answered from the store" in msg
    assert "Every one of the 8 candidates of the search space is known" in msg
    assert "warning: stalled after 8/50" in res.summary() and "; stalled" in res.summary()
    # the stored status and message read back
    loaded = moopt.RunResult.load(str(tmp_path / "r.db"))
    assert loaded.status == "stalled" and loaded.message == msg
    # with count_duplicates the duplicates consume the budget: no stall
    old = moopt.optimize(p, Cycle(p, seed=0), budget=50, count_duplicates=True)
    assert old.status == "complete" and old.n_results == 50 and old.n_paid == 8


def test_search_stuck_in_part_of_a_larger_space_gets_advice(tmp_path):
    p = grid_problem(n_var=3, n_choices=4)  # 64 candidates, the search cycles over 8
    res = moopt.optimize(p, Cycle(p, seed=0), budget=200, store=str(tmp_path / "r.db"))
    assert res.status == "stalled" and res.n_paid == 8 and res.n_results == 8 + 200  # limit: the budget
    assert "8 distinct candidates of the 64 the search space holds were evaluated (8 ok)" in res.message
    assert "count_duplicates=True" in res.message and "explores more" in res.message
    assert moopt.RunResult.load(str(tmp_path / "r.db")).status == "stalled"
    # running it again (same budget) stalls at once: nothing new is asked
    again = moopt.optimize(p, Cycle(p, seed=0), budget=200, store=str(tmp_path / "r.db"))
    assert again.status == "stalled" and history(again) == history(res)


@pytest.mark.parametrize("evaluator", ["serial", "processes:2"])
def test_small_space_stalls_promptly_random_search(evaluator):
    calls = []
    p = grid_problem(calls, n_var=3, n_choices=2)
    t0 = time.monotonic()
    res = moopt.optimize(p, "random", budget=50, seed=0, evaluator=evaluator)
    assert time.monotonic() - t0 < 20
    assert res.status == "stalled" and res.n_paid == 8 and res.counts["pending"] == 0
    last_paid = max(i for i, r in enumerate(res.records) if r.cached_from is None)
    streak = res.n_results - 1 - last_paid  # stopped after 100 free answers in a row (the last ask may add one)
    assert streak == 100 if evaluator == "serial" else 100 <= streak < 102
    assert len({r.key for r in res.records}) == 8
    if evaluator == "serial":
        assert len(calls) == 8


def test_stalled_run_resumes_exactly(tmp_path):
    make = lambda: grid_problem(n_var=3, n_choices=2)  # noqa: E731
    p = make()
    ref = moopt.optimize(p, Cycle(p, seed=0), budget=50)
    for method, when, ks in (("record_ask", "after", (20, 60)), ("record_tell", "before", (0,))):
        (tmp_path / method).mkdir()
        res = _crash_then_resume(tmp_path / method, make, lambda q: Cycle(q, seed=0), budget=50, method=method,
                                 ks=ks, when=when)
        assert res.status == "stalled" and history(res) == history(ref)


def test_cli_stall_warning_and_count_duplicates(tmp_path, capsys):
    pytest.importorskip("moopt.problems")
    db = str(tmp_path / "k.db")
    spec = "knapsack:n_layers=3,n_choices=2"  # 8 candidates
    code = main(["run", "--problem", spec, "--algorithm", "random", "--budget", "50", "--out", db, "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "budget: 8/50 paid evaluations" in out and "; stalled" in out and "warning:" not in out
    assert err.strip().splitlines()[-1].startswith("warning: stalled after 8/50 paid evaluations")
    code = main(["show", db])
    out, err = capsys.readouterr()
    assert code == 0 and "warning: stalled after 8/50" in out
    code = main(["show", db, "--format", "json"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "stalled" and shown["n_paid"] == 8 and shown["n_results"] >= 108
    assert shown["message"].startswith("stalled after 8/50")
    # resuming with the other setting is refused, in one line
    run = ["run", "--problem", spec, "--algorithm", "random", "--no-progress"]  # random: it re-proposes
    code = main([*run, "--budget", "60", "--out", db, "--count-duplicates"])
    out, err = capsys.readouterr()
    assert code == 2 and "count_duplicates=False" in err and "Traceback" not in err
    code = main([*run, "--budget", "60", "--out", db])
    out, err = capsys.readouterr()
    assert code == 0 and "Resuming the run in" in err and "8/60 paid evaluations done" in err
    db2 = str(tmp_path / "k2.db")
    code = main([*run, "--budget", "50", "--out", db2, "--count-duplicates"])
    out, err = capsys.readouterr()
    assert code == 0 and "budget: 50/50 results" in out and "; complete" in out and "warning" not in err


def test_progress_line_counts_paid_evaluations(capsys):
    p = grid_problem(n_var=3, n_choices=2)
    moopt.optimize(p, Cycle(p, seed=0), budget=50, progress=True)
    err = capsys.readouterr().err
    assert "8/50" in err and "cached 100" in err and "50/50" not in err


# --------------------------------------------------------------------------------------- outside the space
class NotMeasured(OutsideSpaceError):
    """A problem's own subclass (as problems.nb201 has)."""


def outside_problem(calls=None):
    """a in 0..9: 2 and 5 are outside the space (free), 7 fails (paid)."""

    def evaluate(q):
        if calls is not None:
            calls.append(q["a"])
        if q["a"] in (2, 5):
            raise NotMeasured(f"a={q['a']} was not measured")
        if q["a"] == 7:
            raise RuntimeError("diverged")
        return {"f1": float(q["a"]), "f2": float((q["a"] - 4) ** 2)}

    return moopt.Problem([moopt.Integer("a", 0, 9)], ["f1", "f2"], evaluate, name="outside")


@pytest.mark.parametrize("evaluator", ["serial", "processes:2"])
def test_outside_space_is_recorded_pruned_free_and_told(evaluator):
    told = []

    class Recorder(moopt.RandomSearch):
        def tell(self, results):
            told.extend((r.candidate.params["a"], r.status) for r in results)

    p = outside_problem()
    res = moopt.optimize(p, Recorder(p, seed=3), budget=8, evaluator=evaluator)
    assert res.status == "complete" and res.n_paid == 8  # failed 7 is evaluated again when proposed again
    pruned = [r for r in res.records if r.status == "pruned"]
    assert pruned and {r.params["a"] for r in pruned} == {2, 5}
    assert all(r.error.startswith("NotMeasured: a=") and r.objectives is None for r in pruned)
    # each outside candidate is evaluated once; a repeat is answered from the store (cached, attempts 0)
    first = [r for r in pruned if r.cached_from is None]
    assert sorted(r.params["a"] for r in first) == [2, 5] and all(r.attempts >= 1 for r in first)
    by_seq = {r.seq: r for r in res.records}
    assert all(by_seq[r.cached_from] in first and r.attempts == 0 for r in pruned if r.cached_from is not None)
    assert res.counts["pruned"] == len(pruned) and res.counts["failed"] >= 1
    assert {a for a, s in told if s == "pruned"} == {2, 5} and {a for a, s in told if s == "failed"} == {7}
    assert 2 not in res.front["a"] and 5 not in res.front["a"]
    assert len(res.F) == sum(r.status == "ok" and r.cached_from is None for r in res.records) == 6
    assert "pruned" in res.history["status"]


def test_outside_space_counts_with_count_duplicates_and_search_stuck_outside_stalls():
    p = outside_problem()
    old = moopt.optimize(p, "random", budget=30, seed=3, count_duplicates=True)
    assert old.n_results == 30 and old.counts["pruned"] > 0

    class Outside(moopt.RandomSearch):
        def ask(self, n=1):
            return [self._new_candidate({"a": 2 if self._next_id % 2 else 5}) for _ in range(n)]

    res = moopt.optimize(p, Outside(p, seed=0), budget=5)
    assert res.status == "stalled" and res.n_paid == 0 and res.counts["pruned"] == 102
    assert res.counts["cached"] == 100  # 2 found outside, then 100 repeats answered from the store
    assert "100 repeats of candidates outside the search space" in res.message


def test_search_proposing_only_new_outside_candidates_stalls():
    def evaluate(q):
        if q["x"] > 0.5:
            raise NotMeasured(f"x={q['x']} is outside")
        return {"f1": q["x"], "f2": 1 - q["x"]}

    p = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"], evaluate, name="half")

    class Right(moopt.RandomSearch):  # every proposal new, every one outside
        def ask(self, n=1):
            return [self._new_candidate({"x": 0.5 + 0.5 * float(self.rng.uniform(0.01, 1))}) for _ in range(n)]

    t0 = time.monotonic()
    res = moopt.optimize(p, Right(p, seed=0), budget=20)
    assert time.monotonic() - t0 < 20
    assert res.status == "stalled" and res.n_paid == 0 and res.n_results == 10 * stall_limit(1, 20) == 1000
    assert "1000 new candidates outside the search space" in res.message


def test_resume_with_outside_candidates_is_exact(tmp_path):
    ref = moopt.optimize(outside_problem(), "random", budget=8, seed=3)
    assert ref.counts["pruned"] > 2  # repeats of outside candidates answered from the store
    for method, when, ks in (("record_ask", "after", (3, 10)), ("record_evaluation", "before", (2, 4))):
        (tmp_path / method).mkdir()
        res = _crash_then_resume(tmp_path / method, outside_problem, lambda p: "random", budget=8, method=method,
                                 ks=ks, when=when, seed=3)
        assert history(res) == history(ref) and res.status == "complete"


def test_nb201_cells_missing_from_a_device_table_are_free(tmp_path):
    pytest.importorskip("moopt.problems")
    from moopt.problems import get_problem, nb201

    assert issubclass(nb201.OutsideSpaceError, OutsideSpaceError)
    rng = np.random.default_rng(0)
    table = tmp_path / "dev.csv"
    idx = np.arange(0, 15625, 2)  # half the cells measured
    table.write_text("arch_idx,latency_ms\n" + "".join(f"{i},{v:.4f}\n" for i, v in
                                                      zip(idx, rng.uniform(1, 10, len(idx)))))
    problem = get_problem(f"nb201:device_table={table}")
    res = moopt.optimize(problem, "random", budget=12, seed=0)
    assert res.status == "complete" and res.n_paid == 12
    pruned = [r for r in res.records if r.status == "pruned"]
    assert pruned and all(r.error.startswith("OutsideSpaceError:") and "device table" in r.error for r in pruned)
    assert all(not problem.contains(r.params) for r in pruned)
    assert res.n_results == 12 + len(pruned) + res.counts["cached"]
