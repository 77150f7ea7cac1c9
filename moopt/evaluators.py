"""Evaluators run a problem's evaluations: in-process, in local processes, or on Dask.

Every evaluator has one interface, used by :func:`moopt.optimize`:
``start(problem)``, ``submit(task_id, params)``, ``wait() -> [Outcome]``
(blocks until at least one submitted evaluation finishes), ``close()``, and
``capacity`` (how many evaluations run at once; the engine keeps that many in
flight, so every worker stays busy and results are told as they arrive).

A failing evaluation (exception, NaN objective, time limit) becomes an
:class:`Outcome` with status ``"failed"`` and the error text.  A worker that
dies mid-evaluation gives an outcome with ``lost=True``; the engine retries
that candidate (once by default) and then records it failed.

Specs accepted by :func:`make_evaluator`:

==========================  ===================================================
``None``, ``"serial"``       in this process, one at a time (exactly resumable)
``"processes:N"``            N local worker processes (``"processes"``: one per CPU)
``"dask"``, ``"dask:N"``     a Dask ``LocalCluster`` with N worker processes (2)
``"tcp://host:port"``        an existing Dask scheduler
==========================  ===================================================

Time limit (``timeout``): a positive number of seconds, at most :data:`MAX_TIMEOUT`
(1e9 s, about 31 years; the operating system's interval timers overflow not far
beyond); ``None`` or ``float("inf")`` means no limit (:func:`check_timeout`).

Dask and scripts: a local Dask cluster (``"dask"``, ``"dask:N"``) starts its workers
with the ``spawn`` method, and each worker imports the script that started it, so a
script must call :func:`moopt.optimize` under ``if __name__ == "__main__":``;
without the guard every worker would run the script (and start a cluster) again.
The evaluator checks this before starting the cluster and raises a
:class:`~moopt.errors.ConfigError` naming the line to move under the guard.  The
problem travels to the workers pickled (with ``cloudpickle``): one that cannot be
(its ``evaluate`` closes over a lock, an open file, a client) is refused before
anything is submitted, with a ``ConfigError`` naming the object; define
``evaluate`` as a module-level function and create such objects inside it, or use
``"processes:N"``, whose forked workers need no pickling.

Example:
    >>> import moopt
    >>> p = moopt.Problem([moopt.Real("x", 0, 1)], ["f"], lambda q: {"f": q["x"]})
    >>> with make_evaluator("serial") as ev:
    ...     ev.start(p)
    ...     ev.submit(0, {"x": 0.5})
    ...     [out] = ev.wait()
    >>> out.status, out.values["f"]
    ('ok', 0.5)
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Optional

from .errors import ConfigError
from .problem import _real

if TYPE_CHECKING:  # both imported lazily at run time
    from multiprocessing.context import BaseContext

    from distributed import LocalCluster


@dataclass
class Outcome:
    """What an evaluator reports for one task.

    Attributes:
        task_id: The id given to :meth:`Evaluator.submit` (the candidate id).
        status: ``"ok"`` or ``"failed"``.
        values: Everything the problem's ``evaluate`` returned (objectives,
            constraints, metrics) when ok.
        error: Error text of a failed evaluation.
        started, finished: Wall-clock times (``time.time()``).
        worker: Which worker ran it (``"main"``, ``"proc-1"``, a Dask address).
        lost: True when the worker died mid-evaluation (the engine may retry).
    """

    task_id: int
    status: str
    values: dict = field(default_factory=dict)
    error: Optional[str] = None
    started: Optional[float] = None
    finished: Optional[float] = None
    worker: Optional[str] = None
    lost: bool = False


#: Longest time limit per evaluation, in seconds (about 31 years): ``setitimer`` overflows the
#: platform's ``time_t`` not far above 9.2e9 s and ``threading.TIMEOUT_MAX`` is about 9.2e9 s.
MAX_TIMEOUT = 1e9


def check_timeout(timeout: Any, name: str = "timeout") -> Optional[float]:
    """A time limit in seconds as a float, or ``None`` for no limit.

    ``None`` and ``float("inf")`` mean no limit.  Anything else must be a positive
    number of seconds up to :data:`MAX_TIMEOUT`.

    Raises:
        TypeError: not a number.
        ValueError: zero, negative, NaN, or beyond :data:`MAX_TIMEOUT`.

    Example:
        >>> check_timeout(2), check_timeout(float("inf")), check_timeout(None)
        (2.0, None, None)
    """
    if timeout is None:
        return None
    import numbers

    import numpy as np

    if isinstance(timeout, (bool, np.bool_)) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds (or None for no limit), got {timeout!r} "
                        f"({type(timeout).__name__}); e.g. {name}=60.")
    t = float(timeout)
    if t == math.inf:
        return None
    if not t > 0:
        raise ValueError(f"{name} must be a positive number of seconds, or None (or inf) for no limit; "
                         f"got {timeout!r}.")
    if t > MAX_TIMEOUT:
        raise ValueError(f"{name}={t:g} s is beyond the longest time limit moopt can set ({MAX_TIMEOUT:g} s, "
                         "about 31 years; the system's timers overflow beyond it); for no limit pass None or inf "
                         "(CLI: leave --timeout out, or --timeout inf).")
    return t


class EvaluationTimeout(Exception):
    """Raised inside an in-process evaluation that exceeds its time limit."""


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    tb = traceback.extract_tb(exc.__traceback__)
    if tb:
        last = tb[-1]
        text += f" (at {os.path.basename(last.filename)}:{last.lineno} in {last.name})"
    return text


def _jsonable(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    try:
        import numpy as np

        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
    except ImportError:  # pragma: no cover
        pass
    return repr(v)


def evaluate_params(problem, params: dict, *, timeout: Optional[float] = None,
                    worker: str = "main", task_id: int = -1, use_alarm: bool = False) -> Outcome:
    """Evaluate one candidate, turning every failure into a failed :class:`Outcome`.

    Args:
        problem: The :class:`~moopt.Problem`.
        params: The candidate's parameters.
        timeout: Time limit in seconds; an evaluation that takes longer is failed.
        worker: Name recorded with the outcome.
        task_id: Id echoed in the outcome.
        use_alarm: Interrupt an overlong evaluation with ``SIGALRM`` (main thread
            of a POSIX process only); otherwise it is failed once it returns.
    """
    started = time.time()
    timeout = check_timeout(timeout)
    alarm = use_alarm and timeout is not None and hasattr(signal, "setitimer") \
        and threading.current_thread() is threading.main_thread()
    old = None
    try:
        if alarm:
            def _on_alarm(signum, frame):
                raise EvaluationTimeout(f"evaluation exceeded its time limit of {timeout:g} s")

            old = signal.signal(signal.SIGALRM, _on_alarm)
            assert timeout is not None  # part of `alarm`
            signal.setitimer(signal.ITIMER_REAL, float(timeout))
        try:
            values = problem.evaluate(params)
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
        finished = time.time()
        if timeout is not None and finished - started > timeout:
            return Outcome(task_id, "failed", error=f"evaluation exceeded its time limit of {timeout:g} s "
                           f"(took {finished - started:.3g} s)", started=started, finished=finished, worker=worker)
        names = list(problem.objective_names) + list(problem.constraint_names)
        if not isinstance(values, Mapping):  # a Problem subclass whose evaluate returns a list
            raise TypeError(f"evaluate must return a dict {{name: value}} with every objective and constraint "
                            f"{names}, got a {type(values).__name__}.")
        clean = {}
        for k, v in values.items():
            clean[str(k)] = _real(k, v, "evaluate") if k in names else _jsonable(v)
        missing = [n for n in names if n not in clean]
        if missing:
            raise ValueError(f"evaluate returned no value for {missing}; it must return a dict with every "
                             f"objective and constraint {names}.")
        bad = [n for n in names if not math.isfinite(clean[n])]
        if bad:
            return Outcome(task_id, "failed", error=f"evaluate returned non-finite values for {bad}",
                           started=started, finished=finished, worker=worker)
        return Outcome(task_id, "ok", clean, started=started, finished=finished, worker=worker)
    except Exception as exc:  # a failing evaluation is data, never a crash
        return Outcome(task_id, "failed", error=_error_text(exc), started=started, finished=time.time(),
                       worker=worker)


class Evaluator:
    """Base class: runs evaluations of one problem; see the module docstring."""

    #: How many evaluations run at once.
    capacity: int = 1
    #: Short description stored with the run.
    spec: str = "evaluator"

    def start(self, problem, *, timeout: Optional[float] = None) -> None:
        """Prepare to evaluate ``problem`` (start workers).

        Raises:
            TypeError, ValueError: a ``timeout`` that is not a positive number of seconds up to
                :data:`MAX_TIMEOUT` (``None`` or ``inf``: no limit).
        """
        self.problem = problem
        self.timeout = check_timeout(timeout)

    def submit(self, task_id: int, params: dict) -> None:
        raise NotImplementedError

    def wait(self) -> list[Outcome]:
        """Block until at least one submitted evaluation finishes; return the finished ones."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the workers (idempotent)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InProcessEvaluator(Evaluator):
    """Evaluates in the calling process, one candidate at a time (in :meth:`wait`).

    With this evaluator a run is exactly reproducible and exactly resumable.
    A time limit interrupts the evaluation with ``SIGALRM`` when running in the
    main thread.
    """

    spec = "serial"

    def __init__(self) -> None:
        self.capacity = 1
        self._queue: list[tuple[int, dict]] = []

    def submit(self, task_id: int, params: dict) -> None:
        self._queue.append((task_id, params))

    def wait(self) -> list[Outcome]:
        if not self._queue:
            raise RuntimeError("wait() called with nothing submitted")
        task_id, params = self._queue.pop(0)
        return [evaluate_params(self.problem, params, timeout=self.timeout, worker="main",
                                task_id=task_id, use_alarm=True)]

    def close(self) -> None:
        """Drop the tasks not yet evaluated, so a later ``start`` begins empty (idempotent)."""
        self._queue = []


# ---------------------------------------------------------------- processes
def _process_worker(conn, problem, timeout, name, parent_pid):  # runs in the child
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
        while True:
            while not conn.poll(1.0):
                if os.getppid() != parent_pid:  # parent died: do not linger
                    os._exit(0)
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                os._exit(0)
            if msg is None:
                break
            task_id, params = msg
            out = evaluate_params(problem, params, timeout=timeout, worker=name, task_id=task_id,
                                  use_alarm=True)
            conn.send(out)
    finally:
        conn.close()


class _Worker:
    __slots__ = ("proc", "conn", "name", "task", "started")

    def __init__(self, proc, conn, name) -> None:
        self.proc, self.conn, self.name = proc, conn, name
        self.task: Optional[int] = None
        self.started = 0.0


class ProcessEvaluator(Evaluator):
    """N local worker processes; each runs one evaluation at a time.

    Workers are forked where the platform allows (the problem needs no
    pickling); elsewhere the problem must be picklable.  A worker that dies
    (crash, ``os._exit``, out of memory) is replaced and its task reported as
    lost; a worker exceeding the time limit is killed and its task failed.

    Args:
        n_workers: Number of processes (default: the CPU count).
    """

    def __init__(self, n_workers: Optional[int] = None):
        n = (os.cpu_count() or 1) if n_workers is None else _positive_int(n_workers, "n_workers", "processes:4")
        self.capacity = n
        self.spec = f"processes:{n}"
        self._workers: list[_Worker] = []
        self._queue: list[tuple[int, dict]] = []
        self._count = 0
        self._ctx: Optional[BaseContext] = None

    def start(self, problem, *, timeout: Optional[float] = None) -> None:
        import multiprocessing as mp

        super().start(problem, timeout=timeout)
        methods = mp.get_all_start_methods()
        self._ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        self._workers = [self._spawn() for _ in range(self.capacity)]

    def _spawn(self) -> _Worker:
        ctx = self._ctx
        assert ctx is not None, "start() chooses the multiprocessing context"
        parent, child = ctx.Pipe(duplex=True)
        name = f"proc-{self._count}"
        self._count += 1
        # typeshed: get_context(str) gives a BaseContext, which lacks Process; fork and spawn contexts have it
        proc = ctx.Process(target=_process_worker, name=f"moopt-{name}",  # type: ignore[attr-defined]
                           args=(child, self.problem, self.timeout, name, os.getpid()), daemon=True)
        proc.start()
        child.close()
        return _Worker(proc, parent, name)

    def submit(self, task_id: int, params: dict) -> None:
        self._queue.append((task_id, params))
        self._dispatch()

    def _dispatch(self) -> None:
        for w in self._workers:
            if not self._queue:
                return
            if w.task is None:
                task_id, params = self._queue.pop(0)
                try:
                    w.conn.send((task_id, params))
                except (BrokenPipeError, OSError):
                    self._queue.insert(0, (task_id, params))
                    self._replace(w)
                    continue
                w.task, w.started = task_id, time.time()

    def _replace(self, w: _Worker) -> None:
        try:
            w.conn.close()
        except OSError:
            pass
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(5)
        i = self._workers.index(w)
        self._workers[i] = self._spawn()

    def wait(self) -> list[Outcome]:
        from multiprocessing.connection import wait as mp_wait

        busy = [w for w in self._workers if w.task is not None]
        if not busy and not self._queue:
            raise RuntimeError("wait() called with nothing submitted")
        while True:
            busy = [w for w in self._workers if w.task is not None]
            tmo = None
            if self.timeout is not None and busy:
                # grace of 1 s over the limit: the worker's own alarm normally fires first
                deadline = min(w.started for w in busy) + self.timeout + 1.0
                tmo = max(0.0, deadline - time.time())
            handles = {}
            for w in busy:
                handles[w.conn] = w
                handles[w.proc.sentinel] = w
            ready = mp_wait(list(handles), timeout=tmo)
            out: list[Outcome] = []
            done: set = set()
            for h in ready:
                w = handles[h]
                if id(w) in done:
                    continue
                res = None
                if h is w.conn or w.conn.poll():
                    try:
                        res = w.conn.recv()
                    except (EOFError, OSError):
                        res = None
                if res is not None:
                    out.append(res)
                    w.task = None
                else:  # the process died mid-evaluation
                    assert w.task is not None  # only busy workers are waited on
                    code = w.proc.exitcode if not w.proc.is_alive() else None
                    if code is None:
                        w.proc.join(1)
                        code = w.proc.exitcode
                    out.append(Outcome(w.task, "failed", error=f"worker {w.name} died during the evaluation "
                                       f"(exit code {code})", finished=time.time(), worker=w.name, lost=True))
                    self._replace(w)
                done.add(id(w))
            if self.timeout is not None:
                now = time.time()
                for w in list(self._workers):
                    if w.task is not None and id(w) not in done and now - w.started > self.timeout + 1.0:
                        out.append(Outcome(w.task, "failed", error=f"evaluation exceeded its time limit of "
                                           f"{self.timeout:g} s; worker {w.name} was stopped",
                                           started=w.started, finished=now, worker=w.name))
                        self._replace(w)
            self._dispatch()
            if out:
                return out

    def close(self) -> None:
        for w in self._workers:
            try:
                if w.task is None:
                    w.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        for w in self._workers:
            w.proc.join(0.5 if w.task is None else 0)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(2)
            try:
                w.conn.close()
            except OSError:
                pass
        self._workers = []
        self._queue = []


# --------------------------------------------------------------------- dask
def _dask_evaluate(problem, params, timeout, task_id):  # runs on a Dask worker
    try:
        from distributed import get_worker

        name = get_worker().address
    except (ImportError, ValueError):
        name = "dask"
    return evaluate_params(problem, params, timeout=timeout, worker=name, task_id=task_id)


class DaskEvaluator(Evaluator):
    """Evaluations as Dask tasks: a new ``LocalCluster``, a scheduler address, or a ``Client``.

    Args:
        address: ``"tcp://host:port"`` of a running scheduler; ``None`` starts a
            ``LocalCluster`` of ``n_workers`` processes (one thread each),
            closed with the evaluator.
        n_workers: Workers of the local cluster (default 2).
        client: An existing ``distributed.Client`` to use (not closed here).
        prefetch: Tasks kept in flight per worker thread.  ``None`` (default):
            2 on the local cluster (one more task waits at the scheduler, so
            workers never wait for the client's round trip: 1.93-1.96x serial
            instead of 1.55-1.86x with 2 workers on a 50 ms objective, see
            docs/bench/overhead.md), 1 on a remote scheduler or client, where
            ``worker-saturation`` above 1.0 may queue the extra task on a
            worker, which then spends a retry when that worker dies.

    A worker that dies mid-task is reported as lost.  The local cluster sets
    ``distributed.scheduler.allowed-failures`` to 0 so that moopt's own retry
    (once) applies, and ``worker-saturation`` to 1.0 so that no task waits on a
    worker behind another (Dask counts such a task as killed too when the
    worker dies); a remote scheduler keeps its own settings (Dask's default
    retries a task 3 times first).  Dask cannot stop a running task: one exceeding the
    time limit is failed when it returns.

    A script that uses the local cluster must run :func:`moopt.optimize` under
    ``if __name__ == "__main__":`` (the workers are spawned and import the script);
    :meth:`start` checks it and raises a :class:`~moopt.errors.ConfigError` naming the
    unguarded line.  The problem must pickle (``cloudpickle``): :meth:`start` tries it first
    and names the part that does not (e.g. a lock or an open file an ``evaluate``
    closure holds).

    Example (a script)::

        import moopt

        def evaluate(q):  # module level: the workers import it
            return {"f1": q["x"], "f2": 1 - q["x"]}

        if __name__ == "__main__":  # required: each worker imports this script
            p = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"], evaluate)
            moopt.optimize(p, "random", budget=20, evaluator="dask:2", store="run.db")
    """

    def __init__(self, address: Optional[str] = None, *, n_workers: int = 2, client=None,
                 prefetch: Optional[int] = None):
        if prefetch is None:
            prefetch = 2 if (address is None and client is None) else 1
        self.prefetch = _positive_int(prefetch, "prefetch", "DaskEvaluator(prefetch=2)")
        n_workers = _positive_int(n_workers, "n_workers", "dask:4")
        self.address = address
        self.n_workers = int(n_workers)
        self._client = client
        self._own_client = client is None
        self._cluster: Optional[LocalCluster] = None
        self._futures: dict = {}
        self._attempt = 0
        self.spec = address or (f"dask:{n_workers}" if client is None else "dask-client")
        self.capacity = n_workers

    def start(self, problem, *, timeout: Optional[float] = None) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover
            raise ConfigError("the Dask evaluator needs dask[distributed]: pip install 'dask[distributed]'") from None
        super().start(problem, timeout=timeout)
        _picklable(problem)  # before any worker starts: the problem travels with each task
        if self._client is None:
            if self.address:
                try:
                    self._client = Client(self.address, timeout="10s")
                except OSError as exc:
                    raise ConfigError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from None
            else:
                method = dask.config.get("distributed.worker.multiprocessing-method", "spawn")
                unguarded = _unguarded_main_call() if method != "fork" else None
                if unguarded is not None:
                    raise ConfigError(_guard_message(unguarded))
                try:
                    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                          "distributed.scheduler.worker-saturation": 1.0}):
                        # dashboard on a free port: a second local cluster must not warn "Port 8787 is in use"
                        self._cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=1,
                                                     processes=True, dashboard_address=":0")
                except Exception as exc:
                    if "Nanny failed to start" in str(exc) or "bootstrapping phase" in str(exc):
                        raise ConfigError(f"the Dask local cluster could not start its workers ({exc}). The usual "
                                          f"cause: {_guard_message('a spawned worker')}") from exc
                    raise
                self._client = Client(self._cluster)
        nthreads = self._client.nthreads()
        slots = max(1, sum(nthreads.values())) if nthreads else self.n_workers
        # prefetch > 1 queues tasks behind the running ones, hiding the scheduler's latency
        self.capacity = slots * self.prefetch
        import uuid

        self._token = uuid.uuid4().hex[:8]

    def submit(self, task_id: int, params: dict) -> None:
        self._attempt += 1
        # the problem travels with each task: scattered data would be lost with its workers
        fut = self._client.submit(_dask_evaluate, self.problem, params, self.timeout, task_id,
                                  pure=False, key=f"moopt-eval-{self._token}-{task_id}-{self._attempt}")
        self._futures[fut] = (task_id, time.time())

    def wait(self) -> list[Outcome]:
        from distributed import wait as dwait

        if not self._futures:
            raise RuntimeError("wait() called with nothing submitted")
        done, _ = dwait(list(self._futures), return_when="FIRST_COMPLETED")
        out = []
        for fut in done:
            task_id, submitted = self._futures.pop(fut)
            exc = None
            if fut.status == "finished":
                try:
                    out.append(fut.result())
                    fut.release()
                    continue
                except BaseException as e:  # the result was lost with its worker
                    exc = e
            else:
                try:
                    exc = fut.exception()
                except BaseException as e:  # cancelled futures raise here
                    exc = e
            name = type(exc).__name__
            lost = name in ("KilledWorker", "CancelledError", "FutureCancelledError", "CommClosedError")
            what = "the worker died during the evaluation" if lost else "the task failed in Dask"
            out.append(Outcome(task_id, "failed", error=f"{what}: {name}: {exc}",
                               finished=time.time(), worker="dask", lost=lost))
            fut.release()
        return out

    def close(self) -> None:
        for fut in list(self._futures):
            fut.cancel()
        self._futures = {}
        if self._client is not None and self._own_client:
            try:
                self._client.close()
            finally:
                self._client = None
        if self._cluster is not None:
            try:
                self._cluster.close()
            finally:
                self._cluster = None


def _positive_int(value: Any, name: str, example: str) -> int:
    """``value`` as an int >= 1 (ints and numpy integers; not bools, floats or strings)."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}; e.g. {example}.")
    return int(value)


def _picklable(problem) -> None:
    """Raise a :class:`~moopt.errors.ConfigError` naming what in ``problem`` cannot be pickled (for Dask)."""
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - a dependency of distributed
        return
    try:
        cloudpickle.dumps(problem)
        return
    except Exception as exc:  # noqa: BLE001 - any failure to pickle is reported below
        err = f"{type(exc).__name__}: {exc}"
    culprit = _unpicklable_part(problem, cloudpickle.dumps)
    raise ConfigError(
        f"the problem cannot be sent to the Dask workers: {culprit or 'the problem object'} cannot be pickled "
        f"({err}). Define evaluate as a module-level function (the workers import it) and create locks, open "
        "files, connections and clients inside it instead of closing over them; or use evaluator='processes:N', "
        "whose forked workers need no pickling.")


def _unpicklable_part(problem, dumps) -> Optional[str]:
    """A description of the first part of ``problem`` that ``dumps`` refuses, looking one level into
    functions (closed-over variables, globals, defaults) and bound methods (the object's attributes)."""
    def fails(obj) -> bool:
        try:
            dumps(obj)
            return False
        except Exception:  # noqa: BLE001
            return True

    def inner(fn) -> Optional[str]:
        func = getattr(fn, "__func__", fn)
        code = getattr(func, "__code__", None)
        if code is not None:
            for var, cell in zip(code.co_freevars, func.__closure__ or ()):
                try:
                    val = cell.cell_contents
                except ValueError:
                    continue
                if fails(val):
                    return f"its closed-over variable {var!r} (a {type(val).__module__}.{type(val).__qualname__})"
            glb = getattr(func, "__globals__", {})
            for var in code.co_names:
                if var in glb and not isinstance(glb[var], type(os)) and fails(glb[var]):
                    val = glb[var]
                    return f"the global {var!r} it uses (a {type(val).__module__}.{type(val).__qualname__})"
        owner = getattr(fn, "__self__", None)
        if owner is not None and not isinstance(owner, type(os)):
            for var, val in vars(owner).items() if hasattr(owner, "__dict__") else ():
                if fails(val):
                    return f"its object's attribute {var!r} (a {type(val).__module__}.{type(val).__qualname__})"
        return None

    for label, attr in (("evaluate", "_evaluate"), ("evaluate_cheap", "_evaluate_cheap"),
                        ("evaluate_batch", "_evaluate_batch"), ("progressive_space", "progressive_space"),
                        ("space", "space"), ("settings", "settings")):
        part = getattr(problem, attr, None)
        if part is None or not fails(part):
            continue
        name = getattr(part, "__qualname__", type(part).__qualname__)
        where = inner(part)
        return f"its {label} ({name}){': ' + where if where else ''}"
    return None


def _unguarded_main_call() -> Optional[str]:
    """``"path:line"`` of the call in the ``__main__`` script that started a local Dask cluster without an
    ``if __name__ == "__main__":`` guard around it (its spawned workers would run the script again), or
    ``"a spawned worker"`` when this process is such a worker importing the script; ``None`` otherwise."""
    import ast
    import sys
    from types import FrameType

    frame: Optional[FrameType] = sys._getframe(1)
    main = sys.modules.get("__main__")
    main_globals = vars(main) if main is not None else None
    module_frame = None
    while frame is not None:
        if frame.f_code.co_name == "<module>":
            if frame.f_globals.get("__name__") == "__mp_main__":
                return "a spawned worker"
            if frame.f_globals is main_globals:
                module_frame = frame
        frame = frame.f_back
    if module_frame is None or main is None:
        return None
    spec_name = getattr(getattr(main, "__spec__", None), "name", None)
    if spec_name is not None and (spec_name == "__main__" or spec_name.endswith(".__main__")):
        return None  # multiprocessing does not import a package's __main__ in its workers
    path = getattr(main, "__file__", None)
    if not path:
        return None  # interactive
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (OSError, SyntaxError, ValueError):
        return None
    line = module_frame.f_lineno

    def is_guard(test) -> bool:
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
            return False
        sides = [test.left, test.comparators[0]]
        names = {s.id for s in sides if isinstance(s, ast.Name)}
        consts = {s.value for s in sides if isinstance(s, ast.Constant)}
        return names == {"__name__"} and consts == {"__main__"}

    for node in ast.walk(tree):
        if isinstance(node, ast.If) and is_guard(node.test) and node.body:
            if node.body[0].lineno <= line <= (node.body[-1].end_lineno or node.body[-1].lineno):
                return None
    return f"{path}:{line}"


def _guard_message(where: str) -> str:
    at = "" if where == "a spawned worker" else f" (the call at {where} is not under it)"
    return ("the Dask evaluator starts its local workers with multiprocessing's 'spawn' method, and each worker "
            "imports the script that started it, so the script must run moopt.optimize (or the code calling it) "
            f'only under `if __name__ == "__main__":`{at}. Without the guard each worker runs the script again '
            "(Dask reports 'Nanny failed to start'). Move the call under the guard, or use "
            "evaluator='processes:N'.")


def make_evaluator(spec=None) -> Evaluator:
    """Build an evaluator from a spec string (see the module docstring) or pass one through.

    Raises:
        ValueError: an unknown spec (the message lists the accepted forms).
    """
    if isinstance(spec, Evaluator):
        return spec
    if spec is None or spec in ("serial", "inprocess", "in-process", "main"):
        return InProcessEvaluator()
    if type(spec).__name__ == "Client" and hasattr(spec, "submit"):
        return DaskEvaluator(client=spec)
    if not isinstance(spec, str):
        raise TypeError(f"evaluator must be a spec string or an Evaluator, got {type(spec).__name__}.")
    s = spec.strip()
    head, _, arg = s.partition(":")
    if s.startswith(("tcp://", "tls://", "ucx://", "inproc://")):
        return DaskEvaluator(s)
    if head in ("processes", "process", "dask"):
        n = None
        if arg:
            try:
                n = int(arg)
            except ValueError:
                n = -1
            if n < 1:
                raise ValueError(f"evaluator {spec!r}: the worker count must be a positive integer, "
                                 f"e.g. '{head}:2'.")
        return ProcessEvaluator(n) if head != "dask" else DaskEvaluator(n_workers=n or 2)
    raise ValueError(
        f"unknown evaluator {spec!r}; use 'serial', 'processes:N', 'dask', 'dask:N' or a "
        "scheduler address 'tcp://host:port'."
    )
