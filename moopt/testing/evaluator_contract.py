"""The contract every evaluator must pass, reusable for your own evaluators.

A *factory* builds the evaluator under test: ``factory() -> Evaluator`` (a new,
unstarted instance per call) or a spec string for
:func:`moopt.evaluators.make_evaluator` such as ``"processes:2"``.  The checks
drive the evaluator the way :func:`moopt.optimize` does (``start``, keep
``capacity`` evaluations in flight with ``submit``, ``wait``, ``close``) on a
small problem with every variable type, a constraint and free-form metrics,
and assert:

================  ================================================================
``interface``     ``spec`` is a non-empty string, ``capacity`` a positive integer
                  after ``start``, ``wait`` returns a non-empty list of
                  :class:`~moopt.evaluators.Outcome` with the submitted task id
``values``        with ``capacity`` tasks kept in flight, every submitted task comes
                  back exactly once with exactly the values ``problem.evaluate``
                  gives (objectives, constraints, metrics; parameters intact,
                  token sequences included)
``exceptions``    an exception in ``evaluate`` becomes a failed outcome whose error
                  names the exception type and message; the evaluator keeps working
``non_finite``    NaN/inf objective or constraint values become failed outcomes
                  whose error names the value
``timeout``       with ``start(problem, timeout=...)`` an evaluation running over the
                  limit becomes failed (error mentions the time); fast ones stay ok;
                  where the evaluator *stops* overlong evaluations, the failure
                  arrives well before the evaluation would have ended
``async``         tasks finishing in another order than submitted all come back,
                  none lost or duplicated; with ``capacity > 1`` evaluations really
                  run at the same time
``resubmit``      a task id submitted again after its outcome came back (the
                  engine's retry of a lost candidate) is evaluated again; large ids
                  are echoed unchanged
``wait_empty``    ``wait()`` with nothing outstanding raises ``RuntimeError``
                  (never blocks, never returns stale outcomes)
``close``         ``close()`` is idempotent, harmless before ``start``, returns
                  promptly with evaluations in flight, and a ``with`` block calls it
``reuse``         ``start`` after ``close`` works again (one evaluator object passed
                  to two :func:`moopt.optimize` calls), and tasks still outstanding
                  at ``close`` never come back in the next session
``engine``        through :func:`moopt.optimize`: ok, failed and repeated candidates
                  are stored with the values, constraints, metrics and errors above
``worker_death``  (evaluators that survive it) a worker killed mid-evaluation
                  (``os._exit``) gives a failed outcome with ``lost=True`` and the
                  evaluator keeps working; through :func:`moopt.optimize` the
                  candidate is retried once and then recorded failed (2 attempts)
================  ================================================================

What moopt's evaluators claim (used when ``stops_overlong`` /
``survives_worker_death`` are left ``None``; an evaluator of another class
claims neither unless told):

=========================  ===================================  ====================
evaluator                  stops an overlong evaluation         survives a worker dying
=========================  ===================================  ====================
``serial`` (in-process)    yes (``SIGALRM``, main thread only)  no (the worker is you)
``processes:N``            yes (alarm, then the worker killed)  yes (lost, retried)
``dask``, ``dask:N``,      no: failed when it returns           yes (lost, retried)
scheduler address
=========================  ===================================  ====================

Example (one call, raises AssertionError naming the failed check):
    >>> from moopt.testing import check_evaluator
    >>> check_evaluator("serial", checks=["values", "exceptions"])

With pytest, one test per check::

    from moopt.testing import evaluator_cases, run_evaluator_check

    @pytest.mark.parametrize("check", evaluator_cases(survives_worker_death=True))
    def test_my_evaluator_contract(check):
        run_evaluator_check(check, MyEvaluator, survives_worker_death=True)

or subclass :class:`EvaluatorContract`::

    class TestMyEvaluatorContract(EvaluatorContract):
        survives_worker_death = True
        def make_evaluator(self):
            return MyEvaluator(n_workers=2)
"""

from __future__ import annotations

import math
import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union

from .. import serial
from ..evaluators import DaskEvaluator, Evaluator, InProcessEvaluator, ProcessEvaluator, make_evaluator
from ..problem import Objective, Problem
from ..search.base import Search
from ..space import Categorical, Integer, Real, TokenSequence

EvaluatorFactory = Union[str, Callable[[], Evaluator]]

MODES = ("ok", "sleep", "raise", "nan", "inf", "nan_constraint", "die")
#: Seconds an overlong evaluation sleeps in the ``timeout`` check.
SLOW_S = 2.0
#: Time limit given to ``start`` in the ``timeout`` check.
LIMIT_S = 0.4


# ------------------------------------------------------------------ problem
class _ContractEvaluate:
    """The contract problem's evaluate; picklable, so it runs in any worker.

    ``mode`` selects the behaviour: ``ok``; ``sleep`` (``x`` seconds, then ok);
    ``raise`` (ValueError); ``nan``/``inf``/``nan_constraint`` (a non-finite
    f1/f2/g1); ``die`` (``os._exit(3)`` in a worker process; in the calling
    process a RuntimeError instead, so the test runner is never killed).
    """

    def __init__(self, main_pid: int):
        self.main_pid = main_pid

    def __call__(self, p: Mapping) -> dict:
        mode, x = p["mode"], float(p["x"])
        if mode == "sleep":
            time.sleep(x)
        elif mode == "raise":
            raise ValueError(f"contract: evaluate refused x={x!r}")
        elif mode == "die":
            if os.getpid() == self.main_pid:
                raise RuntimeError("contract: 'die' asked for a worker process to exit, but this evaluator "
                                   "runs evaluations in the calling process")
            os._exit(3)
        return self.values(p)

    @staticmethod
    def values(p: Mapping) -> dict:
        """The values for ``p``, without the side effects (sleep, raise, exit)."""
        mode, x, k, seq = p["mode"], float(p["x"]), int(p["k"]), tuple(p["seq"])
        f1 = x * 0.1 + k / 3.0
        f2 = 1.0 / (1.0 + x) + 0.01 * sum(1 + "abc".index(t) for t in seq)
        g1 = x - 1.5 + 0.125 * len(seq)
        if mode == "nan":
            f1 = math.nan
        elif mode == "inf":
            f2 = math.inf
        elif mode == "nan_constraint":
            g1 = math.nan
        return {"f1": f1, "f2": f2, "g1": g1, "epochs": 2 * k, "note": f"{mode}:{''.join(seq)}",
                "shape": [k, len(seq)], "detail": {"x": x, "seq": list(seq)},
                "params": serial.canonical(dict(p))}


def evaluator_contract_problem() -> Problem:
    """The contract's problem: every variable type, objectives min/max, a constraint, metrics.

    Variables ``x`` (real, 0..3, also the sleep of ``mode="sleep"``), ``k``
    (integer), ``mode`` (categorical, see :data:`MODES`) and ``seq`` (token
    sequence of length 1..4).

    Example:
        >>> p = evaluator_contract_problem()
        >>> p.evaluate(contract_params(x=0.5))["f1"]
        0.7166666666666667
    """
    return Problem(
        [Real("x", 0.0, 3.0), Integer("k", 1, 6), Categorical("mode", MODES),
         TokenSequence("seq", ("a", "b", "c"), 1, 4)],
        [Objective("f1", "min"), Objective("f2", "max")],
        _ContractEvaluate(os.getpid()), constraints=["g1"], name="evaluator-contract")


def contract_params(mode: str = "ok", x: float = 0.25, k: int = 2, seq: Sequence[str] = ("a", "b")) -> dict:
    """Parameters of one candidate of :func:`evaluator_contract_problem`."""
    return {"x": float(x), "k": int(k), "mode": mode, "seq": tuple(seq)}


def expected_values(problem: Problem, params: Mapping) -> dict:
    """What an evaluator must report for ``params``: ``problem.evaluate`` run here.

    For :func:`evaluator_contract_problem` the values are computed without the
    evaluation's side effects (no sleep), checked as ``problem.evaluate`` does.
    """
    fn = getattr(problem, "_evaluate", None)
    if isinstance(fn, _ContractEvaluate):
        out = problem._check(fn.values(dict(params)))
    else:
        out = problem.evaluate(dict(params))
    names = set(problem.objective_names) | set(problem.constraint_names)
    return {k: (float(v) if k in names else v) for k, v in out.items()}


# ------------------------------------------------------------- capabilities
def evaluator_capabilities(evaluator: Evaluator) -> dict:
    """What moopt's evaluator classes claim (see the module docstring's table).

    Returns:
        ``{"stops_overlong": bool, "survives_worker_death": bool}``; both False
        for a class that derives from none of moopt's evaluators.
    """
    return {
        "stops_overlong": isinstance(evaluator, (InProcessEvaluator, ProcessEvaluator)),
        "survives_worker_death": isinstance(evaluator, (ProcessEvaluator, DaskEvaluator)),
    }


def _build(factory: EvaluatorFactory) -> Evaluator:
    ev = make_evaluator(factory) if isinstance(factory, str) else factory()
    assert isinstance(ev, Evaluator), (f"the evaluator factory returned {type(ev).__name__}, not a "
                                       "moopt.evaluators.Evaluator (moopt.optimize accepts only those)")
    return ev


def _claims(factory: EvaluatorFactory, stops_overlong: Optional[bool],
            survives_worker_death: Optional[bool]) -> tuple[bool, bool]:
    if stops_overlong is not None and survives_worker_death is not None:
        return bool(stops_overlong), bool(survives_worker_death)
    ev = _build(factory)
    try:
        caps = evaluator_capabilities(ev)
    finally:
        ev.close()
    return (caps["stops_overlong"] if stops_overlong is None else bool(stops_overlong),
            caps["survives_worker_death"] if survives_worker_death is None else bool(survives_worker_death))


@contextmanager
def _started(factory: EvaluatorFactory, problem: Problem, timeout: Optional[float] = None) -> Iterator[Evaluator]:
    ev = _build(factory)
    try:
        ev.start(problem, timeout=timeout)
        yield ev
    finally:
        ev.close()


# ----------------------------------------------------------------- helpers
def _check_outcome(o: Any, name: str) -> None:
    for attr in ("task_id", "status", "values", "error", "lost", "started", "finished", "worker"):
        assert hasattr(o, attr), (f"{name}.wait() returned {o!r}, which has no {attr!r}; "
                                  "return moopt.evaluators.Outcome objects")
    assert o.status in ("ok", "failed"), f"{name}: task {o.task_id} has status {o.status!r}, not 'ok' or 'failed'"
    assert isinstance(o.lost, bool), f"{name}: task {o.task_id}: lost={o.lost!r} is not a bool"
    if o.status == "ok":
        assert isinstance(o.values, dict), f"{name}: ok task {o.task_id} has values {o.values!r}, not a dict"
        assert not o.lost, f"{name}: task {o.task_id} is ok but marked lost"
    else:
        assert isinstance(o.error, str) and o.error.strip(), \
            f"{name}: failed task {o.task_id} has no error text ({o.error!r}); say what went wrong"
    if o.started is not None and o.finished is not None:
        assert o.started <= o.finished, \
            f"{name}: task {o.task_id} finished ({o.finished}) before it started ({o.started})"
    assert o.worker is None or isinstance(o.worker, str), \
        f"{name}: task {o.task_id}: worker {o.worker!r} is not a string"


def _wait(ev: Evaluator, outstanding: Iterable[int]) -> list:
    name = type(ev).__name__
    try:
        outs = ev.wait()
    except Exception as exc:
        raise AssertionError(
            f"{name}.wait() raised {type(exc).__name__}: {exc} with tasks {sorted(outstanding)} outstanding; "
            "every submitted task must come back as an Outcome (a failing evaluation as status 'failed')"
        ) from exc
    assert isinstance(outs, list), f"{name}.wait() returned {type(outs).__name__}, not a list of Outcome"
    assert outs, f"{name}.wait() returned no outcome; it must block until at least one task finishes"
    for o in outs:
        _check_outcome(o, name)
    return outs


def _collect(ev: Evaluator, ids: Iterable[int], *, limit_s: float = 120.0,
             arrivals: Optional[dict] = None) -> dict[int, Any]:
    """Wait until every id in ``ids`` came back once; asserts none is lost, duplicated or unknown."""
    name = type(ev).__name__
    pending, got = set(ids), {}
    deadline = time.monotonic() + limit_s
    while pending:
        assert time.monotonic() < deadline, f"{name}: tasks {sorted(pending)} did not come back within {limit_s:g} s"
        for o in _wait(ev, pending):
            assert o.task_id not in got, f"{name}: task {o.task_id} came back twice"
            assert o.task_id in pending, f"{name}: wait() returned task {o.task_id!r}, which was never submitted"
            pending.discard(o.task_id)
            got[o.task_id] = o
            if arrivals is not None:
                arrivals[o.task_id] = time.monotonic()
    return got


def _run_tasks(ev: Evaluator, tasks: Mapping[int, Mapping], *, in_flight: Optional[int] = None) -> dict[int, Any]:
    """Submit like the engine: at most ``capacity`` in flight, more after each wait."""
    queue = list(tasks.items())
    limit = ev.capacity if in_flight is None else in_flight
    flying: set = set()
    got: dict[int, Any] = {}
    name = type(ev).__name__
    while queue or flying:
        while queue and len(flying) < limit:
            tid, params = queue.pop(0)
            ev.submit(tid, dict(params))
            flying.add(tid)
        for o in _wait(ev, flying):
            assert o.task_id not in got, f"{name}: task {o.task_id} came back twice"
            assert o.task_id in flying, f"{name}: wait() returned task {o.task_id!r}, which is not outstanding"
            flying.discard(o.task_id)
            got[o.task_id] = o
    return got


def _assert_values(name: str, tid: int, o: Any, problem: Problem, params: Mapping) -> None:
    assert o.status == "ok", f"{name}: task {tid} ({params['mode']}) failed: {o.error}"
    want = expected_values(problem, params)
    if o.values != want:
        missing = sorted(set(want) - set(o.values))
        wrong = sorted(k for k in want if k in o.values and o.values[k] != want[k])
        extra = sorted(set(o.values) - set(want))
        raise AssertionError(
            f"{name}: task {tid} came back with other values than evaluate gives for its parameters: "
            f"missing {missing}, different {[(k, o.values[k], want[k]) for k in wrong][:3]}, unexpected {extra} "
            "(objectives, constraints and metrics must come back exactly, for the task's own parameters)")


def _assert_failed(name: str, tid: int, o: Any, *fragments: str) -> None:
    assert o.status == "failed", f"{name}: task {tid} should have failed but is {o.status!r} with {o.values}"
    text = (o.error or "").lower()
    for frag in fragments:
        assert frag.lower() in text, f"{name}: task {tid}'s error {o.error!r} does not mention {frag!r}"


# ------------------------------------------------------------------- checks
def check_interface(factory: EvaluatorFactory, **_) -> None:
    """``spec``, ``capacity``, one submit/wait round trip, close before start."""
    problem = evaluator_contract_problem()
    ev = _build(factory)
    name = type(ev).__name__
    assert isinstance(ev.spec, str) and ev.spec.strip(), f"{name}.spec must be a non-empty string, got {ev.spec!r}"
    serial.dumps({"evaluator": ev.spec})
    ev.close()  # before start: harmless
    with _started(factory, problem) as ev:
        cap = ev.capacity
        assert isinstance(cap, int) and not isinstance(cap, bool) and cap >= 1, \
            f"{name}.capacity must be a positive int after start(), got {cap!r}"
        params = contract_params()
        ev.submit(3, params)
        got = _collect(ev, [3])
        _assert_values(name, 3, got[3], problem, params)


def check_values(factory: EvaluatorFactory, **_) -> None:
    """Every task comes back once, with exactly evaluate's values, with capacity tasks in flight."""
    problem = evaluator_contract_problem()
    with _started(factory, problem) as ev:
        name = type(ev).__name__
        n = 2 * ev.capacity + 3
        seqs = [("a",), ("b", "c"), ("c", "c", "a"), ("a", "b", "c", "b")]
        tasks = {10 + 7 * i: contract_params("ok", x=0.1 + 0.37 * (i % 8), k=1 + i % 6, seq=seqs[i % 4])
                 for i in range(n)}
        got = _run_tasks(ev, tasks)
        assert sorted(got) == sorted(tasks), f"{name}: got tasks {sorted(got)}, submitted {sorted(tasks)}"
        for tid, params in tasks.items():
            _assert_values(name, tid, got[tid], problem, params)


def check_exceptions(factory: EvaluatorFactory, **_) -> None:
    """An exception becomes a failed outcome with its type and message; the evaluator goes on."""
    problem = evaluator_contract_problem()
    with _started(factory, problem) as ev:
        name = type(ev).__name__
        tasks = {i: contract_params("raise" if i % 2 else "ok", x=0.2 * i) for i in range(6)}
        got = _run_tasks(ev, tasks)
        for tid, params in tasks.items():
            if params["mode"] == "raise":
                _assert_failed(name, tid, got[tid], "ValueError", f"contract: evaluate refused x={params['x']!r}")
                assert not got[tid].lost, f"{name}: task {tid} raised in evaluate but is marked lost"
            else:
                _assert_values(name, tid, got[tid], problem, params)
        after = {100: contract_params("ok", x=1.0), 101: contract_params("ok", x=2.0, seq=("c",))}
        got = _run_tasks(ev, after)
        for tid, params in after.items():
            _assert_values(name, tid, got[tid], problem, params)


def check_non_finite(factory: EvaluatorFactory, **_) -> None:
    """NaN/inf objective or constraint values become failed outcomes naming the value."""
    problem = evaluator_contract_problem()
    with _started(factory, problem) as ev:
        name = type(ev).__name__
        tasks = {0: contract_params("nan"), 1: contract_params("inf"), 2: contract_params("nan_constraint"),
                 3: contract_params("ok")}
        got = _run_tasks(ev, tasks)
        _assert_failed(name, 0, got[0], "f1")
        _assert_failed(name, 1, got[1], "f2")
        _assert_failed(name, 2, got[2], "g1")
        _assert_values(name, 3, got[3], problem, tasks[3])


def check_timeout(factory: EvaluatorFactory, *, stops_overlong: Optional[bool] = None,
                  limit: float = LIMIT_S, slow: float = SLOW_S, **_) -> None:
    """Overlong evaluations fail (early where the evaluator stops them); fast ones stay ok."""
    stops, _dies = _claims(factory, stops_overlong, False)
    problem = evaluator_contract_problem()
    with _started(factory, problem, timeout=limit) as ev:
        name = type(ev).__name__
        tasks = {0: contract_params("sleep", x=slow), 1: contract_params("ok"), 2: contract_params("sleep", x=0.0)}
        submitted = time.monotonic()
        for tid, params in tasks.items():
            ev.submit(tid, dict(params))
        arrivals: dict = {}
        got = _collect(ev, tasks, arrivals=arrivals)
        _assert_failed(name, 0, got[0], "time")
        for tid in (1, 2):
            _assert_values(name, tid, got[tid], problem, tasks[tid])
        if stops:
            took = arrivals[0] - submitted
            assert took < slow - 0.5, (f"{name}: an evaluation over its {limit:g} s limit came back after "
                                       f"{took:.2f} s, only when it ended ({slow:g} s); it claims to stop "
                                       "overlong evaluations (pass stops_overlong=False if it cannot)")
        got = _run_tasks(ev, {5: contract_params("ok", x=1.5)})
        _assert_values(name, 5, got[5], problem, contract_params("ok", x=1.5))


def _overlap(outs: Sequence[Any]) -> bool:
    spans = sorted((o.started, o.finished) for o in outs if o.started is not None and o.finished is not None)
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:]))


def check_async(factory: EvaluatorFactory, **_) -> None:
    """Tasks finishing out of submission order all come back once; capacity > 1 runs them together."""
    problem = evaluator_contract_problem()
    with _started(factory, problem) as ev:
        name = type(ev).__name__
        n = max(3, ev.capacity)
        sleeps = [round(0.6 * (n - 1 - i) / (n - 1), 3) for i in range(n)]  # first submitted, last done
        tasks = {40 - i: contract_params("sleep", x=s, k=1 + i % 6) for i, s in enumerate(sleeps)}
        t0 = time.monotonic()
        for tid, params in tasks.items():
            ev.submit(tid, dict(params))
        got = _collect(ev, tasks)
        elapsed = time.monotonic() - t0
        for tid, params in tasks.items():
            _assert_values(name, tid, got[tid], problem, params)
        if ev.capacity > 1:
            outs = list(got.values())
            if all(o.started is not None and o.finished is not None for o in outs):
                assert _overlap(outs), (f"{name}: capacity is {ev.capacity} but no two of {n} evaluations ran "
                                        "at the same time (their started/finished spans never overlap)")
            else:
                assert elapsed < sum(sleeps) - 0.2, (f"{name}: capacity is {ev.capacity} but {n} evaluations "
                                                     f"took {elapsed:.2f} s, as long as one after the other")


def check_resubmit(factory: EvaluatorFactory, **_) -> None:
    """A task id submitted again after its outcome (the engine's retry) is evaluated again."""
    problem = evaluator_contract_problem()
    with _started(factory, problem) as ev:
        name = type(ev).__name__
        p = contract_params("ok", x=0.75, k=3, seq=("b", "b"))
        for _attempt in range(3):
            got = _run_tasks(ev, {7: p})
            _assert_values(name, 7, got[7], problem, p)
        big = 2 ** 40 + 3
        q = contract_params("ok", x=2.5, k=6, seq=("c", "a", "b"))
        got = _run_tasks(ev, {big: q, 7: p})
        _assert_values(name, big, got[big], problem, q)
        _assert_values(name, 7, got[7], problem, p)


def _wait_in_thread(ev: Evaluator, limit_s: float) -> tuple[str, Any]:
    box: dict = {}

    def target():
        try:
            box["returned"] = ev.wait()
        except BaseException as exc:  # noqa: BLE001 - reported to the check
            box["raised"] = exc

    t = threading.Thread(target=target, daemon=True, name="moopt-contract-wait")
    t.start()
    t.join(limit_s)
    if t.is_alive():
        return "blocked", None
    return ("raised", box["raised"]) if "raised" in box else ("returned", box["returned"])


def check_wait_empty(factory: EvaluatorFactory, *, wait_limit: float = 15.0, **_) -> None:
    """``wait()`` with nothing outstanding raises RuntimeError, before and after some work."""
    problem = evaluator_contract_problem()
    with _started(factory, problem) as ev:
        name = type(ev).__name__
        for stage in ("before any submit", "after every task came back"):
            if stage.startswith("after"):
                _run_tasks(ev, {0: contract_params(), 1: contract_params("raise")})
            how, what = _wait_in_thread(ev, wait_limit)
            assert how != "blocked", f"{name}.wait() with nothing submitted blocked ({stage}); raise RuntimeError"
            assert how == "raised", (f"{name}.wait() with nothing outstanding returned {what!r} ({stage}); "
                                     "stale or duplicated outcomes? raise RuntimeError instead")
            assert isinstance(what, RuntimeError), (f"{name}.wait() with nothing submitted raised "
                                                    f"{type(what).__name__}: {what} ({stage}); raise RuntimeError")


def check_close(factory: EvaluatorFactory, *, close_limit: float = 10.0, **_) -> None:
    """close() is idempotent, harmless unstarted, prompt with work in flight; ``with`` calls it."""
    problem = evaluator_contract_problem()
    ev = _build(factory)
    name = type(ev).__name__
    ev.close()
    ev.close()
    ev = _build(factory)
    ev.start(problem)
    try:
        _run_tasks(ev, {0: contract_params()})
    finally:
        ev.close()
    ev.close()
    ev = _build(factory)
    ev.start(problem)
    try:
        for i in range(ev.capacity + 1):
            ev.submit(i, contract_params("sleep", x=1.0))
    finally:
        t0 = time.monotonic()
        ev.close()
        took = time.monotonic() - t0
    assert took < close_limit, (f"{name}.close() with evaluations in flight took {took:.1f} s; it must stop "
                                "them (or abandon them) promptly, as after Ctrl-C")
    ev.close()
    calls = []
    ev = _build(factory)
    real_close = ev.close

    def spy():
        calls.append(1)
        real_close()

    ev.close = spy  # type: ignore[method-assign]
    with ev as entered:
        assert entered is ev, f"{name}.__enter__ must return the evaluator itself"
        ev.start(problem)
        _run_tasks(ev, {0: contract_params()})
    assert calls, f"leaving a with block did not call {name}.close()"


def check_reuse(factory: EvaluatorFactory, *, wait_limit: float = 15.0, **_) -> None:
    """start() after close() works again, without tasks left over from before the close."""
    problem = evaluator_contract_problem()
    ev = _build(factory)
    name = type(ev).__name__
    try:
        for round_ in range(2):
            ev.start(problem)
            tasks = {0: contract_params(x=0.5 + round_), 1: contract_params("raise", x=0.5)}
            got = _run_tasks(ev, tasks)
            _assert_values(name, 0, got[0], problem, tasks[0])
            _assert_failed(name, 1, got[1], "ValueError")
            if round_ == 0:  # closed with work outstanding, as when a run is interrupted
                for i in range(ev.capacity + 1):
                    ev.submit(50 + i, contract_params("sleep", x=0.2))
            ev.close()
        ev.start(problem)
        how, what = _wait_in_thread(ev, wait_limit)
        assert how == "raised" and isinstance(what, RuntimeError), (
            f"{name}: after close() and start(), wait() with nothing submitted {how} "
            f"{what!r:.200}; tasks submitted before close() must be dropped, not run in the next session")
        got = _run_tasks(ev, {7: contract_params(x=2.0)})
        _assert_values(name, 7, got[7], problem, contract_params(x=2.0))
    finally:
        ev.close()


class _ListSearch(Search):
    """Proposes a fixed list of parameter sets, in order (the contract's engine runs)."""

    name = "contract-list"

    def __init__(self, problem: Problem, params_list: Sequence[Mapping], *, seed: Optional[int] = None):
        super().__init__(problem, seed=seed)
        self.params_list = [dict(p) for p in params_list]

    def config(self) -> dict:
        return {"params": [serial.loads(serial.canonical(p)) for p in self.params_list]}

    def ask(self, n: int = 1) -> list:
        out: list = []
        while len(out) < n and self._next_id < len(self.params_list):
            out.append(self._new_candidate(self.params_list[self._next_id]))
        return out

    def tell(self, results) -> None:
        pass


def _engine_records(problem: Problem, params_list: Sequence[Mapping], evaluator: Evaluator,
                    **kw) -> dict[int, Any]:
    from ..engine import optimize

    try:
        res = optimize(problem, _ListSearch(problem, params_list, seed=0), budget=len(params_list),
                       evaluator=evaluator, progress=False, **kw)
    except Exception as exc:
        raise AssertionError(f"moopt.optimize with {type(evaluator).__name__} raised {type(exc).__name__}: "
                             f"{exc} (an outcome the engine cannot use?)") from exc
    assert res.n_results == len(params_list), f"{res.n_results} results for {len(params_list)} candidates"
    return {r.candidate_id: r for r in res.records}


def _assert_record_ok(name: str, rec: Any, problem: Problem, params: Mapping) -> None:
    assert rec.status == "ok", f"{name}: candidate {rec.candidate_id} was stored {rec.status!r}: {rec.error}"
    want = expected_values(problem, params)
    objectives = {n: want[n] for n in problem.objective_names}
    constraints = {n: want[n] for n in problem.constraint_names}
    metrics = {k: v for k, v in want.items() if k not in objectives and k not in constraints}
    cid = rec.candidate_id
    assert rec.objectives == objectives, \
        f"{name}: candidate {cid} stored objectives {rec.objectives}, want {objectives}"
    assert rec.constraints == constraints, \
        f"{name}: candidate {cid} stored constraints {rec.constraints}, want {constraints}"
    assert rec.metrics == metrics, f"{name}: candidate {cid} stored metrics {rec.metrics}, want {metrics}"


def check_engine(factory: EvaluatorFactory, **_) -> None:
    """Through moopt.optimize: ok, failed and repeated candidates are stored as evaluated."""
    problem = evaluator_contract_problem()
    plist = [contract_params("ok", x=0.3), contract_params("raise", x=1.0), contract_params("nan"),
             contract_params("ok", x=1.2, k=4, seq=("c", "b", "a")), contract_params("ok", x=0.3),
             contract_params("sleep", x=0.05, seq=("a",))]
    ev = _build(factory)
    name = type(ev).__name__
    recs = _engine_records(problem, plist, ev)
    for cid, params in enumerate(plist):
        rec = recs[cid]
        if params["mode"] == "raise":
            assert rec.status == "failed" and "contract: evaluate refused" in (rec.error or ""), \
                f"{name}: candidate {cid} should be stored failed with evaluate's error, got {rec.status} {rec.error!r}"
        elif params["mode"] == "nan":
            assert rec.status == "failed" and "f1" in (rec.error or ""), \
                f"{name}: candidate {cid} (NaN f1) should be stored failed naming f1, got {rec.status} {rec.error!r}"
        else:
            _assert_record_ok(name, rec, problem, params)
    assert recs[4].cached_from is not None, f"{name}: the repeated candidate 4 was not answered from the store"


def check_worker_death(factory: EvaluatorFactory, *, survives_worker_death: Optional[bool] = None, **_) -> None:
    """A worker dying mid-evaluation: lost outcome, evaluator goes on; the engine retries once, then failed."""
    _stops, survives = _claims(factory, False, survives_worker_death)
    if not survives:
        raise ValueError("the worker_death check applies only to evaluators that survive a worker dying; pass "
                         "survives_worker_death=True if yours does (an in-process evaluator would die with it).")
    problem = evaluator_contract_problem()
    with _started(factory, problem) as ev:
        name = type(ev).__name__
        tasks = {0: contract_params("ok"), 1: contract_params("die"), 2: contract_params("ok", x=1.0),
                 3: contract_params("ok", x=2.0, seq=("c",))}
        got = _run_tasks(ev, tasks)
        assert got[1].status == "failed" and got[1].lost, (
            f"{name}: task 1's worker died, but its outcome is {got[1].status!r} with lost={got[1].lost} "
            f"({got[1].error}); report status 'failed' with lost=True so the engine can retry it")
        for tid in (0, 2, 3):
            _assert_values(name, tid, got[tid], problem, tasks[tid])
        after = {4: contract_params("ok", x=2.5), 5: contract_params("ok", x=0.5, k=5)}
        got = _run_tasks(ev, after)
        for tid, params in after.items():
            _assert_values(name, tid, got[tid], problem, params)
    plist = [contract_params("ok"), contract_params("die"), contract_params("ok", x=1.0)]
    recs = _engine_records(problem, plist, _build(factory), retries=1)
    died = recs[1]
    assert died.status == "failed" and died.attempts == 2, (
        f"{name}: through moopt.optimize a candidate whose worker always dies should be retried once and "
        f"stored failed after 2 attempts; got {died.status!r} after {died.attempts} ({died.error})")
    for cid in (0, 2):
        _assert_record_ok(name, recs[cid], problem, plist[cid])
        assert recs[cid].attempts == 1, f"{name}: candidate {cid} took {recs[cid].attempts} attempts, not 1"


CHECKS: dict[str, Callable[..., None]] = {
    "interface": check_interface,
    "values": check_values,
    "exceptions": check_exceptions,
    "non_finite": check_non_finite,
    "timeout": check_timeout,
    "async": check_async,
    "resubmit": check_resubmit,
    "wait_empty": check_wait_empty,
    "close": check_close,
    "reuse": check_reuse,
    "engine": check_engine,
    "worker_death": check_worker_death,
}
EVALUATOR_CHECKS = CHECKS


def run_evaluator_check(check: str, factory: EvaluatorFactory, **options) -> None:
    """Run one named check (a key of :data:`EVALUATOR_CHECKS`); raises AssertionError on failure.

    Args:
        check: The check's name.
        factory: ``factory() -> Evaluator`` or a spec string.
        **options: ``stops_overlong``, ``survives_worker_death`` (``None``:
            what :func:`evaluator_capabilities` says), ``limit``/``slow`` (the
            timeout check's limit and sleep, seconds), ``close_limit``,
            ``wait_limit``.

    Example:
        >>> run_evaluator_check("non_finite", "serial")
    """
    if check not in CHECKS:
        raise ValueError(f"unknown evaluator contract check {check!r}; choose one of {list(CHECKS)}.")
    CHECKS[check](factory, **options)


def evaluator_cases(*, survives_worker_death: bool = False, checks: Optional[Iterable[str]] = None) -> list[str]:
    """Check names for ``pytest.mark.parametrize("check", ...)``.

    ``worker_death`` is included only when ``survives_worker_death`` is True.

    Example:
        >>> "worker_death" in evaluator_cases()
        False
    """
    names = list(checks) if checks is not None else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown evaluator contract checks {unknown}; choose from {list(CHECKS)}.")
    return [n for n in names if n != "worker_death" or survives_worker_death]


def check_evaluator(factory: EvaluatorFactory, *, checks: Optional[Iterable[str]] = None,
                    stops_overlong: Optional[bool] = None, survives_worker_death: Optional[bool] = None,
                    **options) -> None:
    """Run every applicable contract check on an evaluator.

    Args:
        factory: ``factory() -> Evaluator`` (a new instance per call) or a spec
            string for :func:`moopt.evaluators.make_evaluator`.
        checks: Subset of :data:`EVALUATOR_CHECKS` names (default: all that apply).
        stops_overlong: Whether the evaluator stops an evaluation over its
            time limit (``None``: from :func:`evaluator_capabilities`).
        survives_worker_death: Whether a worker may die without taking the
            evaluator down (``None``: from :func:`evaluator_capabilities`);
            ``worker_death`` runs only when True.
        **options: Passed to the checks (see :func:`run_evaluator_check`).

    Raises:
        AssertionError: naming the check that failed.

    Example:
        >>> check_evaluator("serial", checks=["interface", "close"])
    """
    stops, survives = _claims(factory, stops_overlong, survives_worker_death)
    for n in evaluator_cases(survives_worker_death=survives, checks=checks):
        try:
            run_evaluator_check(n, factory, stops_overlong=stops, survives_worker_death=survives, **options)
        except AssertionError as exc:
            raise AssertionError(f"evaluator contract check {n!r} failed: {exc}") from exc


class EvaluatorContract:
    """Base class for pytest: subclass as ``TestXxx(EvaluatorContract)`` and define :meth:`make_evaluator`.

    Attributes:
        stops_overlong: Whether the evaluator stops overlong evaluations
            (``None``: from :func:`evaluator_capabilities`).
        survives_worker_death: Whether it survives a worker dying (``None``:
            likewise); ``test_worker_death`` is skipped unless it does.
        options: Options for the checks (see :func:`run_evaluator_check`).

    Example:
        >>> class TestSerial(EvaluatorContract):
        ...     def make_evaluator(self):
        ...         return InProcessEvaluator()
    """

    stops_overlong: Optional[bool] = None
    survives_worker_death: Optional[bool] = None
    options: Mapping[str, Any] = {}

    def make_evaluator(self) -> Evaluator:  # pragma: no cover - abstract
        raise NotImplementedError("define make_evaluator() in your EvaluatorContract subclass")

    def _run(self, check: str) -> None:
        stops, survives = _claims(self.make_evaluator, self.stops_overlong, self.survives_worker_death)
        if check == "worker_death" and not survives:
            import pytest

            pytest.skip(f"{type(self).__name__}: the evaluator does not claim to survive a worker dying")
        run_evaluator_check(check, self.make_evaluator, stops_overlong=stops, survives_worker_death=survives,
                            **dict(self.options))

    def test_interface(self):
        self._run("interface")

    def test_values(self):
        self._run("values")

    def test_exceptions(self):
        self._run("exceptions")

    def test_non_finite(self):
        self._run("non_finite")

    def test_timeout(self):
        self._run("timeout")

    def test_async(self):
        self._run("async")

    def test_resubmit(self):
        self._run("resubmit")

    def test_wait_empty(self):
        self._run("wait_empty")

    def test_close(self):
        self._run("close")

    def test_reuse(self):
        self._run("reuse")

    def test_engine(self):
        self._run("engine")

    def test_worker_death(self):
        self._run("worker_death")
