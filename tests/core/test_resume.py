"""Exact resume: a run interrupted at any protocol step (or SIGKILLed) ends identical to an uninterrupted one."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from engine_support import (
    Crash,
    CrashingStore,
    HillClimb,
    history,
    kill_after_progress,
    stored_evaluations,
    zdt1_problem,
)

import moopt

HERE = Path(__file__).resolve().parent
BUDGET = 40


def _reference(problem, budget=BUDGET):
    return moopt.optimize(problem, HillClimb(problem, seed=11), budget=budget)


@pytest.mark.parametrize("method", ["record_ask", "record_evaluation", "record_tell"])
@pytest.mark.parametrize("when", ["before", "after"])
def test_crash_at_each_protocol_step(tmp_path, method, when):
    calls = tmp_path / "calls.txt"
    problem = zdt1_problem(calls_path=str(calls))
    ref = _reference(zdt1_problem())
    path = str(tmp_path / "run.db")
    n_crashes, done = 0, 0
    # the k-th call of `method` in each session (record_tell runs once, when a session ends)
    for k in ((0, 0, 0) if method == "record_tell" else (3, 5, 7)):
        store = CrashingStore(path, method=method, k=k, when=when)
        with pytest.raises(Crash):
            try:
                moopt.optimize(problem, HillClimb(problem, seed=11), budget=done + 8, store=store)
            finally:
                store.close()
        n_crashes += 1
        before = moopt.RunResult.load(path)
        res = moopt.optimize(problem, HillClimb(problem, seed=11), budget=before.n_results + 4, store=path)
        # nothing finished before the crash was lost or changed
        assert history(res)[: before.n_results] == history(before)
        assert res.n_results == before.n_results + 4
        done = res.n_results
    res = moopt.optimize(problem, HillClimb(problem, seed=11), budget=BUDGET, store=path)
    assert res.n_results == BUDGET
    assert history(res) == history(ref)
    assert [lg["size"] for lg in res.logs] == [lg["size"] for lg in ref.logs]
    keys = calls.read_text().splitlines()
    # every candidate evaluated once, except the one in flight at each crash
    assert len(keys) <= BUDGET + n_crashes
    assert set(keys) == {r.key for r in res.records}


SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    import moopt
    from engine_support import HillClimb, zdt1_problem
    p = zdt1_problem(delay=float(sys.argv[4]), calls_path=sys.argv[3])
    moopt.optimize(p, HillClimb(p, seed=11), budget=int(sys.argv[5]), store=sys.argv[2])
    """
)


def test_sigkill_mid_run_then_resume_is_exact(tmp_path):
    KBUDGET = 60
    script = tmp_path / "run_it.py"
    script.write_text(SCRIPT)
    path, calls = tmp_path / "run.db", tmp_path / "calls.txt"
    argv = [sys.executable, str(script), str(HERE), str(path), str(calls), "0.01", str(KBUDGET)]
    kills = 0
    for kill_at in (4, 17, 29):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while stored_evaluations(path) < kill_at and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.003)
        assert proc.poll() is None, proc.stderr.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        snapshot = moopt.RunResult.load(str(path))
        assert kill_at <= snapshot.n_results < KBUDGET
        proc = subprocess.run(argv[:-1] + [str(min(KBUDGET, kill_at + 8))], capture_output=True)
        assert proc.returncode == 0, proc.stderr.decode()
        after = moopt.RunResult.load(str(path))
        assert history(after)[: snapshot.n_results] == history(snapshot)  # nothing lost or changed
    rng = np.random.default_rng(0)
    for _ in range(3):  # kills at random moments (any protocol step), 2 ms evaluations
        kills += kill_after_progress(argv[:4] + [str(calls), "0.002", str(KBUDGET)], path, rng, poll=0.002,
                                     jitter=0.03)
        snapshot = moopt.RunResult.load(str(path))
        if snapshot.n_results >= KBUDGET - 3:
            break
    proc = subprocess.run(argv, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    final = moopt.RunResult.load(str(path))
    assert history(final)[: snapshot.n_results] == history(snapshot)
    ref = _reference(zdt1_problem(), KBUDGET)
    assert history(final) == history(ref)
    keys = calls.read_text().splitlines()
    assert kills >= 4
    assert len(keys) <= KBUDGET + kills  # at most the in-flight evaluation is redone per kill
    assert set(keys) == {r.key for r in final.records}
    ids = [r.candidate_id for r in final.records]
    assert len(ids) == len(set(ids)) == KBUDGET


def test_crash_with_duplicates_waiting_never_evaluates_twice(tmp_path):
    calls = []

    def evaluate(q):
        calls.append(q["a"])
        return {"f1": float(q["a"]), "f2": 1.0 - q["a"]}

    p = moopt.Problem([moopt.Integer("a", 0, 1)], ["f1", "f2"], evaluate)
    path = str(tmp_path / "run.db")
    store = CrashingStore(path, method="record_evaluation", k=0, when="before")
    with pytest.raises(Crash):
        try:
            # count_duplicates: 8 results of 2 distinct candidates (by default the run would stall)
            moopt.optimize(p, "random", budget=8, seed=0, store=store, batch_size=4, count_duplicates=True)
        finally:
            store.close()
    assert calls == [calls[0]]  # crashed before storing the first evaluation
    res = moopt.optimize(p, "random", budget=8, seed=0, store=path, batch_size=4)  # the stored setting
    assert res.n_results == 8
    assert sorted(calls[1:]) == [0, 1]  # after the resume: each distinct candidate exactly once
    assert res.counts["cached"] == 6
    full = moopt.optimize(p, "random", budget=8, seed=0, batch_size=4, count_duplicates=True)
    assert sorted(r.key for r in res.records) == sorted(r.key for r in full.records)


def test_front_records_are_the_front_rows_records():
    import moopt

    p = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"], lambda q: {"f1": q["x"], "f2": (1 - q["x"]) ** 2})
    res = moopt.optimize(p, "random", budget=12, seed=1)
    recs = res.front_records
    assert [r.candidate_id for r in recs] == [row["id"] for row in res.front]
    assert [[r.objectives["f1"], r.objectives["f2"]] for r in recs] == res.front_F.tolist()
    assert 0 < len(recs) <= 12 and all(r.status == "ok" and r.cached_from is None for r in recs)


# ------------------------------------------------------------------ resume with a budget inside the pending batch
class _Interrupt(BaseException):
    """Stands for Ctrl-C: not an Exception, so no evaluator turns it into a failed evaluation."""


def _vectorized_zdt1(interrupt_at=None):
    """A batch-exact ZDT1 (the engine asks 1,024 candidates at a time); its ``interrupt_at``-th
    evaluate_batch call raises :class:`_Interrupt` after the batch was asked and stored."""
    calls = [0]

    def evaluate_batch(X):
        calls[0] += 1
        if calls[0] == interrupt_at:
            raise _Interrupt
        g = 1.0 + 9.0 * X[:, 1:].mean(axis=1)
        f1 = X[:, 0]
        return np.stack([f1, g * (1.0 - np.sqrt(f1 / g))], axis=1), None

    return moopt.Problem([moopt.Real(f"x{i}", 0.0, 1.0) for i in range(4)], ["f1", "f2"],
                         evaluate_batch=evaluate_batch, name="zdt1-vec")


def test_resume_inside_an_interrupted_batch_pays_exactly_the_budget_and_keeps_the_rest_pending(tmp_path):
    path = str(tmp_path / "run.db")
    with pytest.raises(_Interrupt):
        moopt.optimize(_vectorized_zdt1(interrupt_at=2), "random", seed=0, budget=100_000, store=path)
    with moopt.RunStore(path) as st:
        n, n_pending = st.n_paid(), len(st.pending())
    assert n == 1024 and n_pending == 1024  # the second batch was asked, not evaluated
    res = moopt.optimize(_vectorized_zdt1(), "random", seed=0, budget=n + 20, store=path)
    assert res.n_paid == n + 20 and res.status == "complete"
    assert res.config["extra"]["budget"] == n + 20
    with moopt.RunStore(path) as st:
        assert len(st.pending()) == 1024 - 20  # left for a later resume
    res = moopt.optimize(_vectorized_zdt1(), "random", seed=0, budget=3000, store=path)
    ref = moopt.optimize(_vectorized_zdt1(), "random", seed=0, budget=3000)
    assert res.n_paid == 3000 and history(res) == history(ref)


def test_resume_inside_an_interrupted_batch_pays_exactly_the_budget_serial_evaluator(tmp_path):
    path = str(tmp_path / "run.db")
    calls = [0]

    def evaluate(params):
        calls[0] += 1
        if calls[0] == 12:  # the 4th of the second batch of 8
            raise _Interrupt
        return zdt1_problem()._evaluate(params)

    problem = moopt.Problem(zdt1_problem().space, ["f1", "f2"], evaluate, name="zdt1-local")
    with pytest.raises(_Interrupt):
        moopt.optimize(problem, HillClimb(problem, seed=11), budget=40, batch_size=8, store=path)
    with moopt.RunStore(path) as st:
        assert st.n_paid() == 11 and len(st.pending()) == 5
    plain = zdt1_problem()
    res = moopt.optimize(plain, HillClimb(plain, seed=11), budget=13, batch_size=8, store=path)
    assert res.n_paid == 13 and res.status == "complete"
    with moopt.RunStore(path) as st:
        assert len(st.pending()) == 3
    res = moopt.optimize(plain, HillClimb(plain, seed=11), budget=40, batch_size=8, store=path)
    ref = moopt.optimize(plain, HillClimb(plain, seed=11), budget=40, batch_size=8)
    assert res.n_paid == 40 and history(res) == history(ref)
