"""The evaluator contract: moopt's three evaluators pass it; broken evaluators fail the check they break."""

import pytest

from moopt.evaluators import DaskEvaluator, InProcessEvaluator, Outcome, ProcessEvaluator, evaluate_params
from moopt.testing import (
    EVALUATOR_CHECKS,
    EvaluatorContract,
    check_evaluator,
    evaluator_cases,
    evaluator_contract_problem,
    run_evaluator_check,
)
from moopt.testing.evaluator_contract import contract_params, evaluator_capabilities, expected_values


# ------------------------------------------------------------ the real ones
class TestInProcessEvaluatorContract(EvaluatorContract):
    def make_evaluator(self):
        return InProcessEvaluator()


@pytest.mark.parametrize("check", evaluator_cases(survives_worker_death=True))
def test_processes_evaluator_contract(check):
    run_evaluator_check(check, "processes:2")


@pytest.mark.parametrize("check", evaluator_cases(survives_worker_death=True))
def test_dask_evaluator_contract(check, dask_client):
    run_evaluator_check(check, lambda: DaskEvaluator(client=dask_client))


def test_dask_local_cluster_spec_through_the_engine():
    pytest.importorskip("distributed")
    run_evaluator_check("engine", "dask:2")  # DaskEvaluator's own LocalCluster, as `evaluator="dask:2"`


def test_claims_and_applicability():
    assert evaluator_capabilities(InProcessEvaluator()) == {"stops_overlong": True, "survives_worker_death": False}
    assert evaluator_capabilities(ProcessEvaluator(2)) == {"stops_overlong": True, "survives_worker_death": True}
    assert evaluator_capabilities(DaskEvaluator()) == {"stops_overlong": False, "survives_worker_death": True}
    assert "worker_death" not in evaluator_cases() and "worker_death" in evaluator_cases(survives_worker_death=True)
    with pytest.raises(ValueError, match="survives_worker_death=True"):
        run_evaluator_check("worker_death", "serial")  # would kill the test runner: refused
    with pytest.raises(ValueError, match="unknown evaluator contract check"):
        run_evaluator_check("speed", "serial")
    with pytest.raises(ValueError, match="unknown evaluator contract checks"):
        evaluator_cases(checks=["values", "speed"])
    check_evaluator("serial", checks=["values", "non_finite"])


def test_contract_problem_values():
    p = evaluator_contract_problem()
    v = expected_values(p, contract_params("ok", x=0.5, k=2, seq=("a", "c")))
    assert v["f1"] == 0.5 * 0.1 + 2 / 3 and v["g1"] == 0.5 - 1.5 + 0.25
    assert v["shape"] == [2, 2] and v["note"] == "ok:ac" and v["epochs"] == 4.0
    out = evaluate_params(p, contract_params("die"))  # in this process: an error, never an exit
    assert out.status == "failed" and "calling process" in out.error


# ------------------------------------------------- broken evaluators (proof)
class RaisesThrough(InProcessEvaluator):
    """Lets an exception in evaluate escape wait()."""

    def wait(self):
        task_id, params = self._queue.pop(0)
        return [Outcome(task_id, "ok", self.problem.evaluate(params))]


class DropsFailures(InProcessEvaluator):
    """Never reports a failed evaluation."""

    def wait(self):
        out = super().wait()
        return [o for o in out if o.status == "ok"]


class SwapsResults(InProcessEvaluator):
    """Runs everything queued at once and hands the values to the wrong task ids."""

    def __init__(self):
        super().__init__()
        self.capacity = 3

    def wait(self):
        if not self._queue:
            raise RuntimeError("wait() called with nothing submitted")
        batch, self._queue = self._queue, []
        outs = [evaluate_params(self.problem, p, timeout=self.timeout, task_id=t) for t, p in batch]
        ids = [o.task_id for o in outs]
        for o, t in zip(outs, ids[1:] + ids[:1]):
            o.task_id = t
        return outs


class AcceptsNaN(InProcessEvaluator):
    """Reports whatever evaluate returned, NaN included."""

    def wait(self):
        task_id, params = self._queue.pop(0)
        try:
            values = {k: float(v) if isinstance(v, (int, float)) else v
                      for k, v in self.problem._evaluate(params).items()}
        except Exception as exc:
            return [Outcome(task_id, "failed", error=f"{type(exc).__name__}: {exc}")]
        return [Outcome(task_id, "ok", values)]


class IgnoresTimeout(InProcessEvaluator):
    def start(self, problem, *, timeout=None):
        super().start(problem, timeout=None)


class DropsMetrics(InProcessEvaluator):
    """Reports only the objectives (constraints and metrics lost)."""

    def wait(self):
        outs = super().wait()
        for o in outs:
            o.values = {k: v for k, v in o.values.items() if k in self.problem.objective_names}
        return outs


class DuplicatesOutcomes(InProcessEvaluator):
    def wait(self):
        outs = super().wait()
        return outs + outs


class EmptyWhenIdle(InProcessEvaluator):
    """wait() with nothing submitted returns [] (an engine would spin)."""

    def wait(self):
        return super().wait() if self._queue else []


class CloseOnce(InProcessEvaluator):
    def close(self):
        if getattr(self, "_closed", False):
            raise RuntimeError("already closed")
        self._closed = True


class NoCapacity(InProcessEvaluator):
    def start(self, problem, *, timeout=None):
        super().start(problem, timeout=timeout)
        self.capacity = 0


class ForgetsRepeatedIds(InProcessEvaluator):
    """Treats a task id it has seen as a duplicate (like a Dask key reused for a retry)."""

    def submit(self, task_id, params):
        seen = self.__dict__.setdefault("_seen", set())
        if task_id not in seen:
            seen.add(task_id)
            super().submit(task_id, params)


class NoRestart(InProcessEvaluator):
    def close(self):
        self._closed = True

    def start(self, problem, *, timeout=None):
        if getattr(self, "_closed", False):
            raise RuntimeError("this evaluator was closed")
        super().start(problem, timeout=timeout)


class KeepsQueueOnClose(InProcessEvaluator):
    """InProcessEvaluator before the fix: close() kept the tasks not yet evaluated."""

    def close(self):
        pass


class OneWorkerOnly(ProcessEvaluator):
    """Claims capacity 2 but sends every task to its first worker."""

    def _dispatch(self):
        w = self._workers[0]
        if self._queue and w.task is None:
            task_id, params = self._queue.pop(0)
            w.conn.send((task_id, params))
            w.task, w.started = task_id, __import__("time").time()


class HidesLostWorkers(ProcessEvaluator):
    """Reports a dead worker's task as an ordinary failure (the engine will not retry it)."""

    def wait(self):
        outs = super().wait()
        for o in outs:
            o.lost = False
        return outs


BROKEN = [
    ("RaisesThrough", RaisesThrough, "exceptions", r"wait\(\) raised ValueError"),
    ("DropsFailures", DropsFailures, "exceptions", "returned no outcome"),
    ("SwapsResults", SwapsResults, "values", "other values than evaluate gives"),
    ("AcceptsNaN", AcceptsNaN, "non_finite", "should have failed"),
    ("IgnoresTimeout", IgnoresTimeout, "timeout", "should have failed"),
    ("DropsMetrics", DropsMetrics, "values", r"missing \['detail', 'epochs', 'g1'"),
    ("DropsMetrics", DropsMetrics, "engine", "optimize with DropsMetrics raised KeyError: 'g1'"),
    ("DuplicatesOutcomes", DuplicatesOutcomes, "async", "came back twice"),
    ("EmptyWhenIdle", EmptyWhenIdle, "wait_empty", r"returned \[\]"),
    ("CloseOnce", CloseOnce, "close", "already closed"),
    ("NoCapacity", NoCapacity, "interface", "capacity must be a positive int"),
    ("ForgetsRepeatedIds", ForgetsRepeatedIds, "resubmit", r"wait\(\) raised RuntimeError"),
    ("NoRestart", NoRestart, "reuse", "was closed"),
    ("KeepsQueueOnClose", KeepsQueueOnClose, "reuse", "returned task 50, which is not outstanding"),
    ("OneWorkerOnly", lambda: OneWorkerOnly(2), "async", "no two of 3 evaluations ran at the same time"),
    ("HidesLostWorkers", lambda: HidesLostWorkers(2), "worker_death", "lost=False"),
]


@pytest.mark.parametrize("factory, check, match", [pytest.param(f, c, m, id=f"{n}-{c}") for n, f, c, m in BROKEN])
def test_broken_evaluators_fail_their_check(factory, check, match):
    with pytest.raises((AssertionError, RuntimeError), match=match):
        run_evaluator_check(check, factory, survives_worker_death=True)
    assert check in EVALUATOR_CHECKS


def test_check_evaluator_names_the_failed_check():
    with pytest.raises(AssertionError, match="evaluator contract check 'interface' failed: DropsMetrics: task 3"):
        check_evaluator(DropsMetrics)
