"""Vectorized problems through the engine: a batch at a time gives the run one candidate at a time gives.

A problem whose ``evaluate`` goes through ``evaluate_batch`` (``Problem.batch_exact``), on the
in-process evaluator without a time limit, is evaluated a whole asked batch at once and every
answer of the batch is recorded in one transaction; searches whose proposals do not depend on how
asks are split (random search, the generational searches) are asked a batch at a time.  The
reference everywhere is the per-candidate path, which a subclass of ``InProcessEvaluator``
takes (the engine vectorizes only for the built-in one).
"""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from engine_support import Crash, history, kill_after_progress

import moopt
from moopt import serial
from moopt.engine import ASK_BATCH, batch_invariant
from moopt.evaluators import InProcessEvaluator
from moopt.search.base import Search
from moopt.search.random import RandomSearch
from moopt.store import RunStore

HERE = Path(__file__).resolve().parent


class PerCandidate(InProcessEvaluator):
    """The serial evaluator, but not the built-in class: the engine evaluates one candidate at a time."""


def vec_zdt1(n_var: int = 6, *, nan_above: float | None = None, raise_above: float | None = None,
             constrained: bool = False, calls: list | None = None, delay: float = 0.0) -> moopt.Problem:
    """ZDT1 given only as ``evaluate_batch``; NaN objectives where x0 > ``nan_above``; the batch call raises
    when a row has x0 > ``raise_above``; ``calls`` collects the number of rows of each batch call."""

    def batch(X):
        X = np.atleast_2d(X)
        if calls is not None:
            calls.append(len(X))
        if delay:
            time.sleep(delay)
        if raise_above is not None and np.any(X[:, 0] > raise_above):
            raise RuntimeError("batch refused")
        f1 = X[:, 0]
        g = 1.0 + 9.0 / (X.shape[1] - 1) * X[:, 1:].sum(axis=1)
        F = np.column_stack([f1, g * (1.0 - np.sqrt(f1 / g))])
        if nan_above is not None:
            F[X[:, 0] > nan_above, 1] = np.nan
        G = (X[:, :1] - 0.8) if constrained else None
        return F, G

    return moopt.Problem([moopt.Real(f"x{i}", 0.0, 1.0) for i in range(n_var)], ["f1", "f2"],
                         constraints=["g1"] if constrained else (), evaluate_batch=batch, name="vec-zdt1")


def full(result) -> list[tuple]:
    return [(r.seq, r.candidate_id, r.key, r.status, r.objectives, r.constraints, r.metrics, r.error,
             r.cached_from, r.attempts, r.params, r.info, r.told) for r in result.records]


def test_batch_invariant_searches():
    p = vec_zdt1()
    assert batch_invariant(RandomSearch(p, seed=0))
    pytest.importorskip("pymoo")
    from moopt.search.plugins.pymoo import PymooSearch

    assert batch_invariant(PymooSearch(p, seed=0, algorithm="nsga2", pop_size=10))

    class Learns(RandomSearch):
        def tell(self, results):
            self.rng.random()

    assert not batch_invariant(Learns(p, seed=0))


@pytest.mark.parametrize("algorithm, opts", [("random", {}), ("nsga2", {"pop_size": 12})])
@pytest.mark.parametrize("constrained", [False, True])
def test_batch_path_stores_what_the_per_candidate_path_stores(algorithm, opts, constrained):
    if algorithm == "nsga2":
        pytest.importorskip("pymoo")
    calls: list = []
    p = vec_zdt1(constrained=constrained, calls=calls)
    assert p.batch_exact
    fast = moopt.optimize(p, algorithm, budget=150, seed=3, **opts)
    assert max(calls) > 1  # evaluated in batches
    calls.clear()
    slow = moopt.optimize(p, algorithm, budget=150, seed=3, evaluator=PerCandidate(), **opts)
    assert max(calls) == 1  # one candidate at a time
    assert full(fast) == full(slow)  # everything but the times
    assert np.array_equal(fast.F, slow.F) and fast.hypervolume([1.1, 11.0]) == slow.hypervolume([1.1, 11.0])
    assert fast.status == slow.status == "complete"


def test_nan_row_fails_only_its_candidate_with_the_per_candidate_error():
    calls: list = []
    p = vec_zdt1(nan_above=0.7, calls=calls)
    res = moopt.optimize(p, "random", budget=60, seed=1)
    failed = [r for r in res.records if r.status == "failed"]
    ok = [r for r in res.records if r.status == "ok"]
    assert failed and ok and len(failed) + len(ok) == 60
    assert all(r.params["x0"] > 0.7 for r in failed) and all(r.params["x0"] <= 0.7 for r in ok)
    assert all("non-finite" in r.error and "f2" in r.error for r in failed)
    assert res.n_paid == 60 and res.status == "complete"  # a failed evaluation is paid, the run goes on
    slow = moopt.optimize(p, "random", budget=60, seed=1, evaluator=PerCandidate())
    assert [(r.candidate_id, r.status, r.error, r.objectives) for r in res.records] == \
        [(r.candidate_id, r.status, r.error, r.objectives) for r in slow.records]


def test_batch_call_that_raises_falls_back_to_each_candidate():
    p = vec_zdt1(raise_above=0.9)
    res = moopt.optimize(p, "random", budget=40, seed=2)
    slow = moopt.optimize(p, "random", budget=40, seed=2, evaluator=PerCandidate())
    assert full(res) == full(slow)
    failed = [r for r in res.records if r.status == "failed"]
    assert failed and all("batch refused" in r.error for r in failed)
    assert all(r.params["x0"] > 0.9 for r in failed)


def test_repeats_within_and_across_batches_are_answered_from_the_store():
    """A small integer space: random search repeats itself; each distinct candidate is evaluated once."""
    calls: list = []

    def batch(X):
        calls.extend(map(tuple, np.atleast_2d(X).tolist()))
        return np.column_stack([X[:, 0], (2 - X[:, 1]) ** 2 + X[:, 0] * 0.1]), None

    p = moopt.Problem([moopt.Integer("a", 0, 2), moopt.Integer("b", 0, 2)], ["f1", "f2"], evaluate_batch=batch)
    res = moopt.optimize(p, "random", budget=9, seed=0)
    assert res.n_paid == 9 == len(calls) == len(set(calls))
    assert res.counts["cached"] > 0
    calls.clear()
    slow = moopt.optimize(p, "random", budget=9, seed=0, evaluator=PerCandidate())
    assert history(res) == history(slow)
    # a space smaller than the budget stalls where one-at-a-time asking stalls
    st1 = moopt.optimize(p, "random", budget=50, seed=0)
    st2 = moopt.optimize(p, "random", budget=50, seed=0, evaluator=PerCandidate())
    assert st1.status == st2.status == "stalled" and history(st1) == history(st2)


def test_invalid_candidates_are_refused_in_order():
    class SometimesBad(Search):
        name = "sometimes-bad"

        def ask(self, n=1):
            out = []
            for _ in range(n):
                x = self.problem.space.sample(self.rng)
                if self._next_id % 5 == 2:
                    x["x0"] = 7.0  # outside [0, 1]
                out.append(self._new_candidate(x))
            return out

        def tell(self, results):
            pass

    SometimesBad.batch_invariant = True  # asked a batch at a time, like random search
    p = vec_zdt1()
    res = moopt.optimize(p, SometimesBad(p, seed=0), budget=20)
    slow = moopt.optimize(p, SometimesBad(p, seed=0), budget=20, evaluator=PerCandidate())
    assert history(res) == history(slow)
    bad = [r for r in res.records if r.status == "failed"]
    assert bad and all("invalid candidate" in r.error for r in bad) and res.n_paid == 20


class CrashingAnswers(RunStore):
    """Dies at the k-th call of record_answers or record_ask, before or after it commits."""

    def __init__(self, path, *, method, k, when):
        super().__init__(path, lock=True)
        self._crash, self._n = (method, k, when), 0

    def _wrap(name):  # noqa: N805
        def method(self, *args, **kwargs):
            m, k, when = self._crash
            if name == m and when == "before" and self._n == k:
                raise Crash(name)
            out = getattr(RunStore, name)(self, *args, **kwargs)
            if name == m:
                if when == "after" and self._n == k:
                    raise Crash(name)
                self._n += 1
            return out

        return method

    record_answers = _wrap("record_answers")
    record_new_values = _wrap("record_new_values")
    record_ask = _wrap("record_ask")


@pytest.mark.parametrize("algorithm, method, when", [
    ("nsga2", "record_new_values", "before"), ("nsga2", "record_new_values", "after"), ("nsga2", "record_ask", "after"),
    ("random", "record_answers", "before"), ("random", "record_answers", "after"), ("random", "record_ask", "after")])
def test_crash_mid_batch_then_resume_is_exact(tmp_path, algorithm, method, when):
    # nsga2 answers through the vector lane (record_new_values), random search through Candidate objects
    pytest.importorskip("pymoo")
    opts = {"pop_size": 10} if algorithm == "nsga2" else {}
    budget = 90 if algorithm == "nsga2" else 2500  # random search asks 1,024 at a time
    ref = moopt.optimize(vec_zdt1(), algorithm, budget=budget, seed=4, **opts)
    path = str(tmp_path / "run.db")
    for k in ((1, 3) if algorithm == "nsga2" else (1,)):
        store = CrashingAnswers(path, method=method, k=k, when=when)
        with pytest.raises(Crash):
            try:
                moopt.optimize(vec_zdt1(), algorithm, budget=budget, seed=4, **opts, store=store)
            finally:
                store.close()
        before = moopt.RunResult.load(path)
        assert before.n_results < budget
    res = moopt.optimize(vec_zdt1(), algorithm, budget=budget, seed=4, **opts, store=path)
    assert history(res) == history(ref)
    assert [r.params for r in res.records] == [r.params for r in ref.records]


SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import moopt
    from test_engine_batch import vec_zdt1
    p = vec_zdt1(delay=float(sys.argv[3]))
    moopt.optimize(p, "nsga2", budget=int(sys.argv[4]), seed=5, pop_size=8, store=sys.argv[2])
    """
)


def test_sigkill_mid_run_then_resume_is_exact(tmp_path):
    pytest.importorskip("pymoo")
    budget = 120
    script = tmp_path / "run_it.py"
    script.write_text(SCRIPT)
    path = tmp_path / "run.db"
    argv = [sys.executable, str(script), str(HERE), str(path), "0.05", str(budget)]
    kills = 0
    rng = np.random.default_rng(0)
    for _ in range(3):
        kills += kill_after_progress(argv, path, rng, poll=0.005, jitter=0.08)
    assert kills >= 1
    snapshot = moopt.RunResult.load(str(path))
    proc = subprocess.run(argv, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    final = moopt.RunResult.load(str(path))
    assert history(final)[: snapshot.n_results] == history(snapshot)
    ref = moopt.optimize(vec_zdt1(), "nsga2", budget=budget, seed=5, pop_size=8)
    assert history(final) == history(ref)


def test_finished_run_is_not_replayed(tmp_path, monkeypatch):
    path = str(tmp_path / "run.db")
    first = moopt.optimize(vec_zdt1(), "random", budget=30, seed=0, store=path)

    def boom(self, state):
        raise AssertionError("a finished run rebuilt its search state")

    monkeypatch.setattr(RandomSearch, "load_state_dict", boom)
    again = moopt.optimize(vec_zdt1(), "random", budget=30, seed=0, store=path)
    assert full(again) == full(first) and again.status == "complete" and again.message == first.message
    monkeypatch.undo()
    more = moopt.optimize(vec_zdt1(), "random", budget=40, seed=0, store=path)  # extending still resumes
    assert more.n_paid == 40
    assert history(more) == history(moopt.optimize(vec_zdt1(), "random", budget=40, seed=0))


def test_time_limit_keeps_the_per_candidate_path():
    calls: list = []
    res = moopt.optimize(vec_zdt1(calls=calls), "random", budget=10, seed=0, timeout=5.0)
    assert res.n_paid == 10 and max(calls) == 1


def test_large_random_run_asks_in_batches():
    calls: list = []
    res = moopt.optimize(vec_zdt1(calls=calls), "random", budget=ASK_BATCH + 10, seed=0)
    assert res.n_paid == ASK_BATCH + 10 and calls == [ASK_BATCH, 10]


# -- the vector lane: searches that ask and tell whole arrays (Search.ask_vectors / tell_vectors) ------

class Scripted(Search):
    """Proposes the rows of ``script`` in order, as Candidates (``ask``) or arrays (``ask_vectors``);
    remembers what it was told, so both paths can be compared."""

    name = "scripted"
    batch_invariant = True

    def __init__(self, problem, *, seed=None, script=None, vectors=True):
        super().__init__(problem, seed=seed)
        self.script, self.vectors, self.seen = np.asarray(script, dtype=float), vectors, []

    def _take(self, n):
        lo = self._next_id
        hi = min(len(self.script), lo + n)
        self._next_id = hi
        return np.arange(lo, hi), self.script[lo:hi]

    def ask(self, n=1):
        ids, X = self._take(n)
        names = self.problem.space.names
        return [moopt.Candidate(int(i), dict(zip(names, row)), {"row": int(i)}) for i, row in zip(ids, X.tolist())]

    def ask_vectors(self, n):
        if not self.vectors:
            return None
        from moopt.search.base import VectorBatch

        ids, X = self._take(n)
        return VectorBatch(ids, X, [{"row": int(i)} for i in ids])

    def tell(self, results):
        self.seen.extend((r.candidate.id, r.status, r.values and tuple(r.values.values())) for r in results)

    def tell_vectors(self, ids, F, G=None):
        self.seen.extend((int(i), "ok", tuple(f)) for i, f in zip(ids, F.tolist()))

    def state_dict(self):
        return {**super().state_dict(), "seen": len(self.seen)}


def _script(n, rng):
    X = rng.random((n, 3))
    X[7] = X[3]  # a repeat of an earlier batch's candidate
    X[12] = X[11]  # a repeat inside a batch
    X[20, 1] = np.nan  # invalid
    X[25, 0] = 1.5  # outside the bounds
    return X


@pytest.mark.parametrize("trouble", ["none", "nan", "raises"])
def test_vector_lane_stores_what_the_candidate_paths_store(trouble, monkeypatch):
    from moopt import engine

    kw = {"nan": {"nan_above": 0.8}, "raises": {"raise_above": 0.9}, "none": {}}[trouble]
    script = _script(40, np.random.default_rng(1))
    if trouble == "none":
        script = np.random.default_rng(1).random((40, 3))
    taken = []
    real = engine._Engine._answer_vectors
    monkeypatch.setattr(engine._Engine, "_answer_vectors", lambda self, b: (taken.append(len(b)), real(self, b))[1])
    runs = {}
    for label, vectors, ev in (("lane", True, None), ("objects", False, None), ("slow", True, PerCandidate())):
        p = vec_zdt1(3, **kw)
        s = Scripted(p, seed=0, script=script, vectors=vectors)
        res = moopt.optimize(p, s, budget=60, batch_size=None, evaluator=ev) if ev else \
            moopt.optimize(p, s, budget=60)
        runs[label] = (full(res), s.seen, res.status)
    assert taken  # the lane was used
    assert runs["lane"] == runs["objects"] == runs["slow"]


def test_vector_lane_falls_back_for_repeats_and_invalid_candidates(monkeypatch):
    from moopt import engine

    calls = {"vectors": 0, "objects": 0}
    real_v, real_o = engine._Engine._answer_vectors, engine._Engine._answer_batch

    def count(kind, real):
        def wrapped(self, *a, **k):
            calls[kind] += 1
            return real(self, *a, **k)
        return wrapped

    monkeypatch.setattr(engine._Engine, "_answer_vectors", count("vectors", real_v))
    monkeypatch.setattr(engine._Engine, "_answer_batch", count("objects", real_o))
    p = vec_zdt1(3)
    s = Scripted(p, seed=0, script=_script(40, np.random.default_rng(1)), vectors=True)
    res = moopt.optimize(p, s, budget=40, batch_size=None)
    assert calls["objects"] >= 1 and calls["vectors"] >= calls["objects"]
    assert res.counts["cached"] == 2 and sum("invalid candidate" in (r.error or "") for r in res.records) == 2


@pytest.mark.parametrize("factory", ["nsga2", "pymoo-nsga2", "deap-nsga2"])
def test_generational_ask_vectors_is_ask(factory):
    pytest.importorskip("pymoo")
    pytest.importorskip("deap")
    from moopt.registry import make_search
    from moopt.search.base import Evaluation

    p = vec_zdt1(4, constrained=True)
    a, b = (make_search(factory, p, seed=2, pop_size=8) for _ in range(2))
    for n in (3, 5, 8, 2, 6, 100, 8):
        cands = a.ask(n)
        batch = b.ask_vectors(n)
        assert [(c.id, c.params, c.info) for c in cands] == [(c.id, c.params, c.info) for c in batch.candidates(
            p.space.names)]
        if not cands:
            continue
        F, G = p.evaluate_batch(batch.X)
        F[0] = np.nan if n == 5 else F[0]  # a non-finite row is failed by both
        a.tell([Evaluation.success(c, dict(zip(p.objective_names, f)), constraints=dict(zip(p.constraint_names, g)))
                for c, f, g in zip(cands, F.tolist(), G.tolist())])
        b.tell_vectors(batch.ids, F, G)
        assert serial.dumps(a.state_dict()) == serial.dumps(b.state_dict())
    with pytest.raises(ValueError, match="tell each asked candidate once"):
        b.tell_vectors(batch.ids, F, G)


def test_bad_ask_vectors_answers_are_clear_errors():
    from moopt.errors import ConfigError
    from moopt.search.base import VectorBatch

    p = vec_zdt1(3)

    class TooMany(Scripted):
        def ask_vectors(self, n):
            return VectorBatch(np.arange(n + 1), np.zeros((n + 1, 3)), [{}] * (n + 1))

    class WrongShape(Scripted):
        def ask_vectors(self, n):
            return VectorBatch(np.arange(2), np.zeros((2, 5)), [{}, {}])

    with pytest.raises(ConfigError, match=r"ask_vectors\(5\) returned 6 candidates; a search must return at most n"):
        moopt.optimize(p, TooMany(p, seed=0, script=np.zeros((5, 3))), budget=5)
    with pytest.raises(TypeError, match="wrong shape"):
        moopt.optimize(p, WrongShape(p, seed=0, script=np.zeros((5, 3))), budget=5)

    class BadInfo(Scripted):
        def ask_vectors(self, n):
            return VectorBatch(np.arange(2), np.full((2, 3), 0.5), [{"tag": object()}, {}])

    with pytest.raises(TypeError, match="candidate 0 holds values that cannot be stored"):
        moopt.optimize(p, BadInfo(p, seed=0, script=np.zeros((5, 3))), budget=5)
