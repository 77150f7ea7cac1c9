"""The run engine: ask, evaluate, tell, persist; resume from the store.

Protocol (each step one SQLite transaction, so a run killed at any moment
resumes without losing or repeating a finished evaluation):

1. ``ask(n)``; persist the new candidates, the post-ask checkpoint, and the
   "told" marks and drained logs of the results told since the previous
   checkpoint (the checkpoint reflects exactly those tells).  Candidates
   already evaluated ok (same canonical encoding) are answered from the
   store and recorded as cached; they are never evaluated twice.
2. Submit the others; persist each evaluation as it completes.
3. ``tell`` the finished results (in the objectives' own directions; failed
   ones included).  Their post-tell state goes to the store with the next
   ask (step 1) or at the end of the run, so each asked batch costs one
   checkpoint write, not two.

On resume the engine loads the checkpoint, re-tells the finished results not
marked told (in completion order; their logs are produced again), re-submits
the candidates that have no result, and goes on.  With the serial evaluator
the final result is identical to an uninterrupted run.

Budget: the number of finished results (cached and failed ones included).
Failed evaluations: recorded with their error and told to the search as
``status="failed"`` results; moopt's searches treat them as worst (they never
enter a front), and :class:`~moopt.RunResult` excludes them from the front.
A worker that dies mid-evaluation costs one retry (``retries``) before the
candidate is recorded failed.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Mapping, Optional

import numpy as np

from . import serial
from .errors import ConfigError, RunStoreError
from .evaluators import Evaluator, Outcome, make_evaluator
from .indicators import hypervolume
from .pareto import is_nondominated
from .problem import Problem
from .progress import Progress
from .reference import infer_reference_point
from .result import RunResult
from .search.base import STATUS_FAILED, STATUS_OK, Candidate, Evaluation, Search
from .store import EvaluationRecord, RunStore


def build_search(problem, algorithm, *, seed=None, options: Optional[Mapping] = None):
    """Return ``(search, identity)`` for an algorithm name or a :class:`~moopt.Search` instance.

    The identity (problem, algorithm, options, seed) is what a run store checks on resume.
    """
    options = dict(options or {})
    if isinstance(algorithm, str):
        from .registry import make_search

        search = make_search(algorithm, problem, seed=seed, **options)
        name = algorithm
    elif isinstance(algorithm, Search):
        if options:
            raise TypeError(
                f"search options {sorted(options)} apply only when the algorithm is given by name; "
                "configure the Search instance itself instead."
            )
        search = algorithm
        if seed is not None and search.seed is not None and seed != search.seed:
            raise ValueError(f"seed={seed} differs from the search's own seed {search.seed}; pass one of them.")
        seed = search.seed if search.seed is not None else seed
        cls = type(search)
        name = cls.name if cls.name != "search" else f"{cls.__module__}:{cls.__qualname__}"
        options = dict(search.config())
    else:
        raise TypeError(f"algorithm must be a registered name (e.g. 'random') or a moopt.Search, "
                        f"got {type(algorithm).__name__}.")
    if search.problem is not problem:
        raise ValueError("the Search instance was built for another problem object; build it with this problem.")
    try:
        opts = serial.loads(serial.dumps(options))
    except TypeError as exc:
        raise TypeError(f"search options must be JSON values to be stored with the run: {exc}") from None
    identity = {"problem": problem.to_config(), "algorithm": name, "options": opts,
                "seed": None if seed is None else int(seed)}
    return search, identity


class _Engine:
    def __init__(self, problem: Problem, search: Search, store: RunStore, evaluator: Evaluator, *,
                 budget: int, seed, timeout, retries: int, batch_size: Optional[int], bar: Progress):
        self.problem = problem
        self.search = search
        self.store = store
        self.evaluator = evaluator
        self.budget = budget
        self.seed = seed
        self.timeout = timeout
        self.retries = retries
        self.batch_size = batch_size
        self.bar = bar
        self.obj_names = problem.objective_names
        self.con_names = problem.constraint_names
        self.n_told = 0
        self.in_flight: dict[int, list] = {}  # id -> [candidate, key, attempts]
        self.flight_keys: dict[str, int] = {}  # key -> id of the in-flight original
        self.waiting: dict[int, list[Candidate]] = {}  # original id -> duplicates asked meanwhile
        self._hv_points: list[np.ndarray] = []
        self._hv_time = 0.0
        self._hv_value: Optional[float] = None
        self._told: list[int] = []  # told since the last checkpoint
        self._logs: list[dict] = []  # drained since the last checkpoint

    # -- helpers ------------------------------------------------------------
    def _normalize(self, params: Mapping) -> dict:
        try:
            return self.problem.space.validate(params)
        except (ValueError, TypeError, KeyError):
            return dict(params)

    def _result(self, cand: Candidate, status: str, objectives=None, constraints=None, metrics=None,
                error=None) -> Evaluation:
        if status == STATUS_OK:
            return Evaluation(cand, STATUS_OK, dict(objectives), dict(constraints) if constraints else None,
                          dict(metrics or {}))
        return Evaluation(cand, status, None, dict(constraints) if constraints else None, dict(metrics or {}),
                      error=error)

    def _result_from_record(self, rec: EvaluationRecord) -> Evaluation:
        cand = Candidate(rec.candidate_id, self._normalize(rec.params), rec.info)
        return self._result(cand, rec.status, rec.objectives, rec.constraints, rec.metrics, rec.error)

    def _split(self, values: Mapping) -> tuple[dict, dict, dict]:
        objectives = {n: float(values[n]) for n in self.obj_names}
        constraints = {n: float(values[n]) for n in self.con_names}
        metrics = {k: v for k, v in values.items() if k not in objectives and k not in constraints}
        return objectives, constraints, metrics

    def _tell(self, results: list[Evaluation]) -> None:
        """Tell the search; its post-tell state is persisted with the next ask (or by _flush)."""
        self.search.tell(results)
        self.n_told += len(results)
        self._told.extend(r.candidate.id for r in results)
        for entry in self.search.drain_logs():
            self._logs.append({**entry, "_n_told": self.n_told})
        for r in results:
            if r.status == STATUS_FAILED:
                self.failed += 1
            elif r.ok and self.bar.enabled and r.feasible():
                assert r.values is not None  # an ok evaluation carries its values
                self._hv_points.append(np.array([r.values[n] for n in self.obj_names]) * self.problem.signs)
        self._draw()

    def _flush(self) -> None:
        """Persist the told marks, logs and the current checkpoint (one transaction)."""
        if self._told or self._logs:
            self.store.record_tell(self._told, self.search.state_dict(), n_told=self.n_told, logs=self._logs)
            self._told, self._logs = [], []

    def _draw(self, force: bool = False) -> None:
        if not self.bar.enabled:
            return
        now = time.monotonic()
        if self._hv_points and len(self.obj_names) <= 4 and (force or now - self._hv_time > 1.0):
            F = np.array(self._hv_points)
            F = F[is_nondominated(F)]
            self._hv_points = list(F)  # dominated points never matter again
            self._hv_value = hypervolume(F, infer_reference_point(F), outside="ignore")
            self._hv_time = time.monotonic()
        self.bar.update(self.n_results, failed=self.failed, hv=self._hv_value, force=force)

    def _submit(self, cand: Candidate, key: str, attempts: int = 1) -> None:
        self.in_flight[cand.id] = [cand, key, attempts]
        self.flight_keys.setdefault(key, cand.id)
        self.evaluator.submit(cand.id, dict(cand.params))

    # -- the loop -------------------------------------------------------------
    def run(self) -> None:
        st = self.store
        ck = st.checkpoint()
        if ck is not None:
            self.search.load_state_dict(ck[0])
            self.n_told = ck[1]
        counts = st.counts()
        self.failed = counts["failed"]
        self.n_results = st.n_results()
        for rec in st.untold():  # finished before the interruption, not yet told
            self._tell([self._result_from_record(rec)])
        resumed_results = []
        for cid, params, info in st.pending():  # asked but without a result: run again
            p = self._normalize(params)
            cand, key = Candidate(cid, p, info), serial.canonical(p)
            orig = st.lookup_ok(key)
            if orig is not None:  # a duplicate whose original finished before the interruption
                st.record_cached(cid, orig)
                rec = st.record(orig)
                resumed_results.append(self._result(cand, STATUS_OK, rec.objectives, rec.constraints, rec.metrics))
                self.n_results += 1
            elif key in self.flight_keys:
                self.waiting.setdefault(self.flight_keys[key], []).append(cand)
            else:
                self._submit(cand, key)
        if resumed_results:
            self._tell(resumed_results)
        while True:
            n_waiting = sum(len(v) for v in self.waiting.values())
            outstanding = len(self.in_flight) + n_waiting
            room = self.budget - self.n_results - outstanding
            free = self.evaluator.capacity - len(self.in_flight)
            if room > 0 and free > 0:
                n = min(room, free) if self.batch_size is None else min(room, self.batch_size)
                immediate = self._ask(n)
                if immediate is None and not self.in_flight:
                    break  # nothing outstanding and nothing proposed: the search is finished
                if immediate:
                    self._tell(immediate)
                    continue
            if not self.in_flight:
                break  # budget spent
            results = []
            for o in self.evaluator.wait():
                results.extend(self._complete(o))
            if results:
                self._tell(results)
        self._flush()
        self._draw(force=True)

    def _ask(self, n: int) -> Optional[list[Evaluation]]:
        """Ask, persist, submit; returns results available at once, or None when the search is done."""
        cands = self.search.ask(n)
        if not isinstance(cands, list) or any(not isinstance(c, Candidate) for c in cands):
            raise TypeError(f"{type(self.search).__name__}.ask() must return a list of moopt.Candidate, "
                            f"got {cands!r:.200}.")
        if len(cands) > n:
            raise ConfigError(f"{type(self.search).__name__}.ask({n}) returned {len(cands)} candidates; "
                              f"a search must return at most n.")
        if not cands:
            return None
        entries, cached, immediate, to_submit, dup_wait = [], [], [], [], []
        results: list[Evaluation] = []
        for c in cands:
            try:
                valid = self.problem.space.validate(c.params)
                key = serial.canonical(valid)
                params: Mapping[str, Any] = valid  # the candidate's own params when invalid
                error = None
            except (ValueError, TypeError, KeyError) as exc:
                params, error = c.params, f"invalid candidate: {exc}"
                try:
                    key = serial.canonical(dict(params))
                except TypeError:
                    key = repr(sorted(dict(params).items(), key=str))
            try:
                # the canonical text doubles as the stored params (key order is the space's on reload)
                params_text = key if error is None else serial.dumps(dict(params))
                info_text = serial.dumps(dict(c.info)) if c.info else "{}"
            except TypeError as exc:
                raise TypeError(f"candidate {c.id} holds values that cannot be stored (JSON and numpy "
                                f"only): {exc}") from None
            entries.append((c.id, key, params_text, info_text))
            if error is not None:
                immediate.append((c.id, key, STATUS_FAILED, error))
                results.append(self._result(c, STATUS_FAILED, error=error))
                continue
            cand = c if params == dict(c.params) else Candidate(c.id, params, c.info)
            orig = self.store.lookup_ok(key)
            if orig is not None:
                cached.append((c.id, orig))
                rec = self.store.record(orig)
                results.append(self._result(c, STATUS_OK, rec.objectives, rec.constraints, rec.metrics))
            elif key in self.flight_keys:
                dup_wait.append((self.flight_keys[key], c))
            else:
                to_submit.append((cand, key))
        try:
            self.store.record_ask(entries, self.search.state_dict(), n_told=self.n_told,
                                  cached=cached, immediate=immediate, told=self._told, logs=self._logs)
            self._told, self._logs = [], []
        except RunStoreError:
            raise
        except Exception as exc:  # duplicate ids and the like
            if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
                raise ConfigError(f"{type(self.search).__name__}.ask() returned a candidate id that was "
                                  f"already used ({[c.id for c in cands]}); ids must be fresh.") from None
            raise
        self.n_results += len(cached) + len(immediate)
        for orig_id, c in dup_wait:
            self.waiting.setdefault(orig_id, []).append(c)
        for cand, key in to_submit:
            self._submit(cand, key)
        return results

    def _complete(self, o: Outcome) -> list[Evaluation]:
        entry = self.in_flight.get(o.task_id)
        if entry is None:  # a late answer for a task already settled (e.g. timed out)
            return []
        cand, key, attempts = entry
        if o.lost and attempts <= self.retries:
            self.in_flight[cand.id][2] = attempts + 1
            self.evaluator.submit(cand.id, dict(cand.params))
            return []
        del self.in_flight[cand.id]
        if self.flight_keys.get(key) == cand.id:
            del self.flight_keys[key]
        if o.status == STATUS_OK:
            objectives, constraints, metrics = self._split(o.values)
            seq = self.store.record_evaluation(
                cand.id, key, STATUS_OK, objectives=objectives, constraints=constraints or None,
                metrics=metrics, started=o.started, finished=o.finished, worker=o.worker,
                seed=self.seed, attempts=attempts)
            results = [self._result(cand, STATUS_OK, objectives, constraints, metrics)]
        else:
            error = o.error if not o.lost else f"{o.error} (after {attempts} attempts)"
            seq = self.store.record_evaluation(
                cand.id, key, STATUS_FAILED, error=error, started=o.started, finished=o.finished,
                worker=o.worker, seed=self.seed, attempts=attempts)
            results = [self._result(cand, STATUS_FAILED, error=error)]
        self.n_results += 1
        for dup in self.waiting.pop(cand.id, []):
            if o.status == STATUS_OK:
                self.store.record_cached(dup.id, seq)
                r = results[0]
                results.append(self._result(dup, STATUS_OK, r.values, r.constraints, r.metrics))
                self.n_results += 1
            else:  # the original failed: evaluate the duplicate itself
                self._submit(dup, key)
        return results


def optimize(
    problem: Problem,
    algorithm: Any = "random",
    *,
    budget: int,
    seed: Optional[int] = None,
    store: Any = None,
    evaluator: Any = None,
    progress: Optional[bool] = None,
    timeout: Optional[float] = None,
    retries: int = 1,
    batch_size: Optional[int] = None,
    verbose: bool = False,
    extra: Optional[Mapping] = None,
    **search_options,
) -> RunResult:
    """Run a search on a problem, persisting every evaluation; resume if the store holds the run.

    Args:
        problem: The :class:`~moopt.Problem`.
        algorithm: A registered algorithm name (``"random"``, ``"nsga2"``,
            ``"reinforce"``, ``"progressive"``, ...; see
            :func:`moopt.registry.available_algorithms`) or a
            :class:`~moopt.Search` instance built for ``problem``.
        budget: Number of finished evaluations (cached and failed included).
        seed: Seed of the search (with a Search instance: its own seed).
        store: Path of the run store (SQLite; created, or resumed when it
            holds this run), a :class:`~moopt.RunStore`, or ``None`` for an
            in-memory store.
        evaluator: ``None``/``"serial"``, ``"processes:N"``, ``"dask"``,
            ``"dask:N"``, ``"tcp://host:port"``, or an
            :class:`~moopt.evaluators.Evaluator`.
        progress: Progress line on stderr: ``None`` when it is a terminal,
            ``True`` always, ``False`` never.
        timeout: Time limit per evaluation in seconds (exceeded: failed).
        retries: Retries of a candidate whose worker died (then failed).
        batch_size: Most candidates asked at once (default: the evaluator's
            capacity, so every worker stays busy).
        verbose: Print one line on stderr when resuming.
        extra: JSON settings stored with the run (not checked on resume).
        **search_options: Options of the named algorithm (stored with the run).

    Returns:
        The :class:`~moopt.RunResult` (front, history, hypervolume over time).

    Raises:
        RunStoreError: the store holds another run, or is not a readable run store.
        ConfigError: unknown algorithm or a search breaking the contract.

    Example:
        >>> import moopt
        >>> p = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"],
        ...                   lambda q: {"f1": q["x"], "f2": (1 - q["x"]) ** 2})
        >>> res = moopt.optimize(p, "random", budget=30, seed=0)
        >>> res.n_results, res.F.shape
        (30, (30, 2))
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a moopt.Problem, got {type(problem).__name__}.")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 0:
        raise ValueError(f"budget must be a non-negative integer (number of evaluations), got {budget!r}.")
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, got {retries!r}.")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    ev = make_evaluator(evaluator)
    search, identity = build_search(problem, algorithm, seed=seed, options=search_options)
    own_store = not isinstance(store, RunStore)
    st = RunStore(":memory:" if store is None else store, lock=True) if own_store else store
    try:
        settings = {"budget": int(budget), "evaluator": ev.spec, **dict(extra or {})}
        resumed = st.configure(identity, settings)
        n_done = st.n_results()
        if verbose and resumed:
            print(f"Resuming the run in {st.path}: {n_done}/{budget} evaluations done.", file=sys.stderr)
        bar = Progress(budget, enabled=progress, initial=n_done)
        engine = _Engine(problem, search, st, ev, budget=int(budget), seed=identity["seed"], timeout=timeout,
                         retries=retries, batch_size=batch_size, bar=bar)
        ev.start(problem, timeout=timeout)
        try:
            engine.run()
        finally:
            ev.close()
            bar.close()
        return RunResult.from_store(st, resumed=resumed)
    finally:
        if own_store:
            st.close()
