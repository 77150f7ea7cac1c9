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

Budget (``count_duplicates=False``, the default): the number of evaluations
paid for, i.e. actually run, ok or failed (:meth:`RunStore.n_paid`).  A
candidate answered from the store (a duplicate), a candidate with invalid
parameters (refused before running, recorded failed) and a candidate outside
the search space (its evaluation raised :class:`~moopt.errors.OutsideSpaceError`,
recorded ``pruned``) cost nothing.  ``count_duplicates=True`` counts every
finished result instead, as moopt did before (and as a budget on the search's
proposals would).  The choice changes which candidates a given budget evaluates,
so it is stored with the run: resuming with the other value is refused.

Budget on resume: a resumed run may be given a larger budget (it goes on) or the
same one; a budget below what the run has already spent (:func:`budget_spent`)
is refused with a :class:`~moopt.errors.ConfigError` before anything is written,
so the budget stored with the run is always the one it ran under.  Candidates
asked before an interruption but not yet evaluated (the rest of an interrupted
batch) are answered first, in order, but only while the budget has room: a
resume with a budget between what was spent and that plus the pending
candidates pays exactly the budget, and leaves the rest pending for a later
resume with a larger budget.

Input checks (:func:`optimize`): ``seed`` an integer from 0 to ``2**63 - 1``
(:data:`MAX_SEED`: the store keeps it in SQLite's 64-bit integer), ``timeout`` a
positive number of seconds up to :data:`~moopt.evaluators.MAX_TIMEOUT`, where
``None`` or ``inf`` means no limit, ``retries``/``batch_size``/``budget``
integers (numpy integers too; not bools); each refused value gets a
``ValueError``/``TypeError`` naming the option and a valid value.  What an
``evaluate`` function returns is checked per evaluation (see
:class:`~moopt.Problem`): a list instead of a dict, a missing or misspelt
objective, a string, bool, ``None`` or NaN as an objective value records that
candidate as failed with an error naming the objective and the fix.

Stall: with free answers, a search that proposes only known candidates would
never spend its budget.  After :func:`stall_limit` answers in a row that
taught the search nothing new (``max(100, 10 x batch, budget)`` repeats
answered from the store or invalid candidates; a paid evaluation or a candidate
newly found outside the space resets the count), or ten times as many without
a paid evaluation, the run stops with status ``"stalled"`` and a message
(:attr:`RunResult.status`, :attr:`RunResult.message`); its results are valid.
Evaluations in flight at that point are finished and recorded.  The counts
come from the store (:meth:`RunStore.unpaid_tail`), so a resumed run stops
where an uninterrupted one does.

Failed evaluations: recorded with their error and told to the search as
``status="failed"`` results; moopt's searches treat them as worst (they never
enter a front), and :class:`~moopt.RunResult` excludes them from the front.
Candidates outside the search space are told as ``status="pruned"``, which
searches treat the same way.  A worker that dies mid-evaluation costs one retry
(``retries``) before the candidate is recorded failed.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Mapping, Optional

import numpy as np

from . import serial
from .errors import ConfigError, RunStoreError, is_outside_space
from .evaluators import Evaluator, InProcessEvaluator, Outcome, check_timeout, evaluate_params, make_evaluator
from .indicators import hypervolume
from .pareto import is_nondominated
from .problem import Problem
from .progress import Progress
from .reference import infer_reference_point
from .result import RunResult
from .search.base import STATUS_FAILED, STATUS_OK, STATUS_PRUNED, Candidate, Evaluation, Search, VectorBatch
from .store import EvaluationRecord, RunStore, _dumps_values, vector_key

#: Largest seed a run accepts: the run store keeps the seed in SQLite's signed 64-bit integer.
MAX_SEED = 2**63 - 1


def check_seed(seed: Any) -> Optional[int]:
    """``seed`` as an int (``None`` stays ``None``), or a TypeError/ValueError naming the limits.

    Example:
        >>> check_seed(3), check_seed(None)
        (3, None)
    """
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer from 0 to 2**63-1 ({MAX_SEED}) or None, got {seed!r} "
                        f"({type(seed).__name__}); e.g. seed=0.")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be an integer from 0 to 2**63-1 ({MAX_SEED}), got {int(seed)}: the run store "
                         "keeps it in SQLite's 64-bit integer. Pass a smaller seed (CLI: --seed), e.g. seed % 2**63.")
    return int(seed)


def _info_text(c: Candidate) -> str:
    """A candidate's ``info`` as stored JSON text (``"{}"`` when empty)."""
    return _info_json(c.info, c.id)


def _info_json(info: Mapping, cid: int) -> str:
    """Candidate ``cid``'s ``info`` as stored JSON text (``"{}"`` when empty)."""
    try:
        return (_dumps_values(info) or "{}") if info else "{}"
    except TypeError as exc:
        raise TypeError(f"candidate {cid} holds values that cannot be stored (JSON and numpy only): {exc}") from None


def build_search(problem, algorithm, *, seed=None, options: Optional[Mapping] = None, budget=None):
    """Return ``(search, identity)`` for an algorithm name or a :class:`~moopt.Search` instance.

    The identity (problem, algorithm, options, seed) is what a run store checks on resume.
    ``"auto"`` is replaced by the name :func:`moopt.registry.choose_algorithm` picks for
    ``problem`` and ``budget`` (so the identity, and the run's config, name the search run).
    """
    options = dict(options or {})
    seed = check_seed(seed)  # before the search sees it, and before anything is stored
    if algorithm == "auto":
        from .registry import choose_algorithm

        algorithm = choose_algorithm(problem, budget)[0]
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
        seed = check_seed(search.seed) if search.seed is not None else seed
        cls = type(search)
        name = cls.name if cls.name != "search" else f"{cls.__module__}:{cls.__qualname__}"
        options = dict(search.config())
    else:
        raise TypeError(f"algorithm must be a registered name (e.g. 'random') or a moopt.Search, "
                        f"got {type(algorithm).__name__}.")
    if search.problem is not problem:
        raise ValueError("the Search instance was built for another problem object; build it with this problem.")
    try:
        opts = serial.loads(serial.dumps(_storable(options)))
    except TypeError as exc:
        raise TypeError(f"search options must be JSON values to be stored with the run: {exc}") from None
    identity = {"problem": problem.to_config(), "algorithm": name, "options": opts,
                "seed": None if seed is None else int(seed)}
    return search, identity


def _storable(options: Mapping[str, Any]) -> dict:
    """Options as stored with the run: a :class:`~moopt.rewards.Reward` object becomes its
    ``config()`` (JSON that :func:`moopt.reward_from_config` rebuilds), so
    ``optimize(problem, "reinforce", reward=MixedReward(...))`` is stored, compared on resume
    and reported like the equivalent spec string or dict."""
    from .rewards.base import Reward

    return {k: (v.config() if isinstance(v, Reward) else v) for k, v in options.items()}


#: Status of a run that stopped because its search proposed only known candidates.
STOP_STALLED = "stalled"
#: Status of a run that spent its budget.
STOP_COMPLETE = "complete"
#: Status of a run whose search proposed no more candidates before the budget was spent.
STOP_FINISHED = "finished"


def stall_limit(batch: int, budget: int) -> int:
    """Answers in a row with nothing new (repeats, invalid candidates) after which a run stalls.

    A run also stalls after ten times as many answers without a paid evaluation
    (candidates newly found outside the search space included).

    Args:
        batch: Candidates asked at once (``batch_size``, or the evaluator's capacity).
        budget: The run's budget.

    Returns:
        ``max(100, 10 * batch, budget)``: at least 100 answers and ten rounds of
        proposals, and no fewer than the budget, so a search that still finds a new
        candidate now and then is not stopped (pymoo's NSGA-II with a population of
        20 on NB201 went up to 708 answers between two new candidates at a budget
        of 1,000 and still spent it), while a small finite space whose candidates
        are all known ends within a second.

    Example:
        >>> stall_limit(1, 50), stall_limit(32, 50), stall_limit(1, 1000)
        (100, 320, 1000)
    """
    return max(100, 10 * int(batch), int(budget))


def stored_count_duplicates(store: RunStore) -> Optional[bool]:
    """The ``count_duplicates`` a stored run was made with; ``None`` for a store without a run.

    A store written before the setting existed (a run whose settings lack it but
    which holds results) counted every result, so it reads as ``True``.
    """
    cfg = store.config()
    if not cfg:
        return None
    value = cfg.get("extra", {}).get("count_duplicates")
    if value is None:
        return True if store.n_results() else None
    return bool(value)


def resolve_count_duplicates(store: RunStore, count_duplicates: Optional[bool]) -> bool:
    """The ``count_duplicates`` of a run: the given value, checked against the stored run.

    Args:
        store: The run store (empty, or holding the run to resume).
        count_duplicates: ``True``/``False``, or ``None`` for the stored value
            (``False`` for a new run).

    Raises:
        ConfigError: the store holds a run made with the other value.
    """
    if count_duplicates is not None and not isinstance(count_duplicates, (bool, np.bool_)):
        raise TypeError(f"count_duplicates must be True, False or None, got {count_duplicates!r}.")
    stored = stored_count_duplicates(store)
    if count_duplicates is None:
        return bool(stored)
    if stored is not None and bool(count_duplicates) != stored:
        raise ConfigError(
            f"run store {store.path} holds a run made with count_duplicates={stored}; the budget "
            f"counts {'every result' if stored else 'paid evaluations only'} there, so resuming it with "
            f"count_duplicates={bool(count_duplicates)} would evaluate other candidates. Pass "
            f"count_duplicates={stored} (or leave it out) to resume it, or use another store path.")
    return bool(count_duplicates)


def budget_spent(store: RunStore, count_duplicates: bool) -> int:
    """What the budget has counted so far in ``store``: paid evaluations, or every result."""
    return store.n_results() if count_duplicates else store.n_paid()


#: Kinds of answers that teach a search nothing new (see ``_Engine._count``).
_STREAK_KINDS = ("cached", "outside", "invalid")


class _Engine:
    def __init__(self, problem: Problem, search: Search, store: RunStore, evaluator: Evaluator, *,
                 budget: int, seed, timeout, retries: int, batch_size: Optional[int], bar: Progress,
                 count_duplicates: bool = False, checkpoints: bool = True):
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
        self.count_duplicates = count_duplicates
        self.checkpoints = checkpoints  # False: a private in-memory store, which no run can resume from
        self.stall_limit = stall_limit(batch_size or evaluator.capacity, budget)
        self.streak = dict.fromkeys(_STREAK_KINDS, 0)  # answers with nothing new, since the last new one
        self.dry = dict.fromkeys(_STREAK_KINDS + ("new_outside",), 0)  # answers since the last paid evaluation
        self.n_paid = 0
        self.n_cached = 0
        self.n_results = 0
        self.failed = 0
        self.pruned = 0
        self.finished = False  # the search proposed nothing with nothing outstanding
        self.stalled = False
        self.obj_names = problem.objective_names
        self.con_names = problem.constraint_names
        self.n_told = 0
        self.in_flight: dict[int, list] = {}  # id -> [candidate, key, attempts]
        self.flight_keys: dict[str | bytes, int] = {}  # key -> id of the in-flight original
        self.waiting: dict[int, list[Candidate]] = {}  # original id -> duplicates asked meanwhile
        self._hv_points: list[np.ndarray] = []
        self._hv_time = 0.0
        self._hv_value: Optional[float] = None
        self._told: list[int] = []  # told since the last checkpoint
        self._logs: list[dict] = []  # drained since the last checkpoint
        # evaluate what is in flight in one evaluate_batch call where that gives the same values
        self.vectorized = type(evaluator) is InProcessEvaluator and timeout is None and problem.batch_exact
        # and then ask a batch at a time, where how asks are split cannot change the run
        self.ask_batch = ASK_BATCH if self.vectorized and batch_size is None and batch_invariant(search) else None
        self._queue: list[tuple[int, dict]] = []  # submitted, for the vectorized path
        self._deferred: list[tuple[int, dict, dict]] = []  # pending candidates of a resume not yet submitted
        # and ask/answer/tell whole arrays where the search can (Search.ask_vectors) and every variable is a Real
        self._vector_lane = self.ask_batch is not None and type(search).ask_vectors is not Search.ask_vectors

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

    def _cached_result(self, cand: Candidate, orig: int) -> Evaluation:
        """The result of a repeat answered from the evaluation ``orig`` (ok, or outside the space)."""
        rec = self.store.record(orig)
        return self._result(cand, rec.status, rec.objectives, rec.constraints, rec.metrics, rec.error)

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
        self._told_now([r.candidate.id for r in results])
        for r in results:
            if r.status == STATUS_FAILED:
                self.failed += 1
            elif r.status == STATUS_PRUNED:
                self.pruned += 1
            elif r.ok and self.bar.enabled and r.feasible():
                assert r.values is not None  # an ok evaluation carries its values
                self._hv_points.append(np.array([r.values[n] for n in self.obj_names]) * self.problem.signs)
        self._draw()

    def _state(self) -> Optional[dict]:
        """The search's state for the next checkpoint (``None``: no checkpoints are written)."""
        return self.search.state_dict() if self.checkpoints else None

    def _told_now(self, ids: list[int]) -> None:
        """Account for results just told to the search (their told marks and its logs go with the next checkpoint)."""
        self.n_told += len(ids)
        self._told.extend(ids)
        for entry in self.search.drain_logs():
            self._logs.append({**entry, "_n_told": self.n_told})

    def _flush(self) -> None:
        """Persist the told marks, logs and the current checkpoint (one transaction)."""
        if self._told or self._logs:
            self.store.record_tell(self._told, self._state(), n_told=self.n_told, logs=self._logs)
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
        self.bar.update(self.used, failed=self.failed, hv=self._hv_value, force=force, cached=self.n_cached,
                        pruned=self.pruned)

    @property
    def used(self) -> int:
        """What the budget has counted so far."""
        return self.n_results if self.count_duplicates else self.n_paid

    def _count(self, kind: str, n: int = 1) -> None:
        """Account for ``n`` new answers of one kind.

        Args:
            kind: ``"paid"`` (an evaluation run, ok or failed), ``"new_outside"``
                (a candidate found outside the search space), or one of
                :data:`_STREAK_KINDS`: ``"cached"`` (a repeat answered from an ok
                evaluation), ``"outside"`` (a repeat of a known outside candidate),
                ``"invalid"`` (refused unrun).
            n: How many.
        """
        if n <= 0:
            return
        self.n_results += n
        if kind == "paid":
            self.n_paid += n
            self.dry = dict.fromkeys(self.dry, 0)
            self.streak = dict.fromkeys(_STREAK_KINDS, 0)
            return
        self.dry[kind] += n
        if kind == "new_outside":
            self.streak = dict.fromkeys(_STREAK_KINDS, 0)
            return
        self.streak[kind] += n
        if kind in ("cached", "outside"):
            self.n_cached += n

    def _is_stalled(self) -> bool:
        return not self.count_duplicates and (sum(self.streak.values()) >= self.stall_limit
                                              or sum(self.dry.values()) >= 10 * self.stall_limit)

    def stop(self) -> tuple[str, str]:
        """``(status, message)`` of the ended run (see :attr:`moopt.RunResult.status`)."""
        what = "results" if self.count_duplicates else "paid evaluations"
        if self.used >= self.budget:
            return STOP_COMPLETE, f"budget spent: {self.used}/{self.budget} {what}."
        if self.stalled:
            if sum(self.streak.values()) >= self.stall_limit:
                s, nothing = dict(self.streak), "no new candidate to evaluate"
            else:  # many answers without a paid evaluation, some of them new candidates outside the space
                s, nothing = dict(self.dry), "no candidate inside the search space that was not already evaluated"
            labels = {"cached": "duplicates answered from the store",
                      "new_outside": "new candidates outside the search space",
                      "outside": "repeats of candidates outside the search space",
                      "invalid": "with invalid parameters"}
            parts = [f"{s[k]} {label}" for k, label in labels.items() if s.get(k)]
            n_last = sum(s.values())
            dc = self.store.distinct_counts()
            distinct, n_ok = dc["not_pruned"], dc["ok"]
            size = self.problem.space.size
            head = (f"stalled after {self.n_paid}/{self.budget} paid evaluations: for the last {n_last} "
                    f"answers the search proposed {nothing} ({', '.join(parts)}).")
            if size is not None and dc["all"] >= size:
                return STOP_STALLED, (
                    f"{head} Every one of the {size} candidates of the search space is known ({distinct} "
                    f"evaluated, {n_ok} ok): the budget is larger than the space, and the results cover all of it.")
            of_space = f" of the {size} the search space holds" if size is not None else ""
            return STOP_STALLED, (
                f"{head} {distinct} distinct candidates{of_space} were evaluated ({n_ok} ok); the results are "
                "valid. To spend the rest of the budget, use a search that explores more (a larger population, "
                "more mutation, another algorithm), or count_duplicates=True (CLI: --count-duplicates) to let "
                "duplicates consume the budget.")
        if self.finished:
            return STOP_FINISHED, (f"the search proposed no more candidates after {self.used}/{self.budget} "
                                   f"{what}.")
        return "incomplete", f"stopped after {self.used}/{self.budget} {what}."

    def _submit(self, cand: Candidate, key: str | bytes, attempts: int = 1) -> None:
        self.in_flight[cand.id] = [cand, key, attempts]
        self.flight_keys.setdefault(key, cand.id)
        if self.vectorized:
            self._queue.append((cand.id, dict(cand.params)))
        else:
            self.evaluator.submit(cand.id, dict(cand.params))

    def _wait(self) -> list[Outcome]:
        """The next finished evaluations: the evaluator's, or the whole queue in one vectorized call."""
        if not self.vectorized:
            return self.evaluator.wait()
        queue, self._queue = self._queue, []
        return evaluate_queue(self.problem, queue)

    def _free(self) -> int:
        """How many candidates to ask now (before the budget's room)."""
        if self.ask_batch is not None:
            return 0 if self.in_flight else self.ask_batch
        return self.evaluator.capacity - len(self.in_flight)

    # -- the loop -------------------------------------------------------------
    def run(self) -> None:
        st = self.store
        self.n_results = st.n_results()
        self.n_paid = st.n_paid()
        if self.used >= self.budget and st.n_untold() == 0 and st.n_candidates() == self.n_results:
            # a finished run: nothing to tell, evaluate or ask, so the search state is not rebuilt
            counts = st.counts()
            self.failed, self.pruned, self.n_cached = counts["failed"], counts["pruned"], counts["cached"]
            self._draw(force=True)
            return
        ck = st.checkpoint()
        if ck is not None:
            self.search.load_state_dict(ck[0])
            self.n_told = ck[1]
        counts = st.counts()
        self.failed, self.pruned, self.n_cached = counts["failed"], counts["pruned"], counts["cached"]
        self.n_results = st.n_results()
        self.n_paid = st.n_paid()
        tail = st.unpaid_tail()
        self.n_results -= len(tail)  # replayed by _count, which counts them again
        for kind in tail:
            self._count(kind)
        for rec in st.untold():  # finished before the interruption, not yet told
            self._tell([self._result_from_record(rec)])
        if self.ask_batch is not None:
            pending = [Candidate(cid, params, info) for cid, params, info in st.pending()]
            # the rest of an interrupted batch, answered in order as before the interruption, while the
            # budget has room (each answer costs at most one); the rest stays pending for a later resume
            i = 0
            while i < len(pending) and self.budget - self.used > 0:
                chunk = pending[i:i + self.budget - self.used]
                i += len(chunk)
                self._answer_batch(chunk)
            self._batch_loop()
            self._flush()
            self._draw(force=True)
            return
        self._deferred = list(st.pending())  # asked but without a result: run again, within the budget
        while True:
            if self._deferred:
                resumed_results = self._take_pending()
                if resumed_results:
                    self._tell(resumed_results)
                    continue
            n_waiting = sum(len(v) for v in self.waiting.values())
            # waiting duplicates count as outstanding: one whose original fails is evaluated itself
            outstanding = len(self.in_flight) + n_waiting
            room = self.budget - self.used - outstanding
            free = self._free()
            self.stalled = self._is_stalled()
            if room > 0 and free > 0 and not self.stalled:
                n = min(room, free) if self.batch_size is None else min(room, self.batch_size)
                immediate = self._ask(n)
                if immediate is None and not self.in_flight:
                    self.finished = True
                    break  # nothing outstanding and nothing proposed: the search is finished
                if immediate:
                    self._tell(immediate)
                    continue
            if not self.in_flight:
                break  # budget spent, or stalled
            results = self._complete_many(self._wait())
            if results:
                self._tell(results)
        self._flush()
        self._draw(force=True)

    def _take_pending(self) -> list[Evaluation]:
        """Answer or submit the candidates asked before an interruption, in order, while the budget has
        room for them (each costs at most one); returns the answers available at once (repeats)."""
        st = self.store
        results = []
        while self._deferred:
            outstanding = len(self.in_flight) + sum(len(v) for v in self.waiting.values())
            if self.budget - self.used - outstanding <= 0:
                break  # the rest stays pending in the store, for a resume with a larger budget
            cid, params, info = self._deferred.pop(0)
            p = self._normalize(params)
            cand, key = Candidate(cid, p, info), self._key_of(p)
            orig = st.lookup_ok(key)
            src = orig if orig is not None else st.lookup_outside(key)
            if src is not None:  # a repeat whose original (ok, or outside the space) finished before
                st.record_cached(cid, src)
                results.append(self._cached_result(cand, src))
                self._count("cached" if orig is not None else "outside")
            elif key in self.flight_keys:
                self.waiting.setdefault(self.flight_keys[key], []).append(cand)
            else:
                self._submit(cand, key)
        return results

    # -- asking a batch at a time (batch-invariant searches, in-process evaluator) ----------------
    def _stall_room(self) -> int:
        """Answers that cannot stall the run: a batch of at most this many stalls only at its end,
        exactly where asking one candidate at a time would."""
        if self.count_duplicates:
            return self.ask_batch or 1
        return max(1, min(self.stall_limit - sum(self.streak.values()),
                          10 * self.stall_limit - sum(self.dry.values())))

    def _batch_loop(self) -> None:
        while True:
            room = self.budget - self.used
            self.stalled = self._is_stalled()
            if room <= 0 or self.stalled:
                return
            assert self.ask_batch is not None
            n = min(room, self.ask_batch, self._stall_room())
            if self._vector_lane:
                batch = self._checked_ask_vectors(n)
                if batch is not None:
                    if not len(batch):
                        self.finished = True
                        return
                    self._answer_vectors(batch)
                    continue
                self._vector_lane = False  # the search declined: Candidate objects from here on
            cands = self._checked_ask(n)
            if not cands:
                self.finished = True
                return
            self._answer_batch(cands, ask=True)

    def _checked_ask_vectors(self, n: int) -> Optional[VectorBatch]:
        """``search.ask_vectors(n)`` in a space of Reals, checked like :meth:`_checked_ask`; ``None`` if declined."""
        lane = self._real_lane()
        if lane is None:
            return None
        batch = self.search.ask_vectors(n)
        if batch is None:
            return None
        name = type(self.search).__name__
        if not isinstance(batch, VectorBatch):
            raise TypeError(f"{name}.ask_vectors() must return a moopt.search.VectorBatch or None, got {batch!r:.200}.")
        k = len(batch.ids)
        if k > n:
            raise ConfigError(f"{name}.ask_vectors({n}) returned {k} candidates; a search must return at most n.")
        n_vars = len(lane[0])
        if np.shape(batch.X) != (k, n_vars) or len(batch.info) != k or np.asarray(batch.ids).dtype.kind not in "iu":
            raise TypeError(f"{name}.ask_vectors() returned arrays of the wrong shape or type: ids "
                            f"{np.shape(batch.ids)}, X {np.shape(batch.X)} (expected ({k}, {n_vars})), "
                            f"{len(batch.info)} info dicts.")
        return batch

    def _answer_vectors(self, batch: VectorBatch) -> None:
        """Answer a batch asked as arrays: the same store rows, counts and tells as :meth:`_answer_batch`.

        Taken when every candidate is new (no repeat of a stored or of another batch member), inside
        the bounds, and the problem's ``evaluate_batch`` gives finite values for all; any other batch
        goes through :meth:`_answer_batch` with its candidates as objects, which answers each case.
        """
        names, lo, hi = self._real_lane()  # type: ignore[misc]  # _checked_ask_vectors made sure of it
        X = np.asarray(batch.X, dtype=float)
        Xb = np.ascontiguousarray(X, dtype="<f8")
        keys = [row.tobytes() for row in Xb]  # == vector_key(params)
        inside = bool(np.all((X >= lo) & (X <= hi)))  # False for NaN too
        if not inside or len(set(keys)) < len(keys) or self.store.known_any(keys):
            self._answer_batch(batch.candidates(names), ask=True)
            return
        id_array = np.asarray(batch.ids, dtype=np.int64)
        ids = id_array.tolist()
        infos = [_info_json(info, cid) for info, cid in zip(batch.info, ids)]
        self._record_ask(ids, list(zip(ids, keys, keys, infos)))
        started = time.time()
        F = G = None
        try:
            F, G = self.problem.evaluate_batch(X)
            cn = len(self.con_names)
            good = F.shape == (len(ids), len(self.obj_names)) and bool(np.all(np.isfinite(F))) and (
                not cn or (G is not None and G.shape == (len(ids), cn) and bool(np.all(np.isfinite(G)))))
        except Exception:  # noqa: BLE001 - the general path evaluates again and says which candidate fails
            good = False
        if not good:
            self._answer_batch(batch.candidates(names), ask=False)
            return
        assert F is not None
        finished = time.time()
        G = G if self.con_names else None
        self.store.record_new_values(ids, keys, F, G, objective_names=self.obj_names,
                                     constraint_names=self.con_names, started=started, finished=finished,
                                     worker="main", seed=self.seed)
        self._count("paid", len(ids))
        self.search.tell_vectors(id_array, F, G)
        self._told_now(ids)
        if self.bar.enabled:
            feasible = np.all(G <= 0, axis=1) if G is not None else np.ones(len(ids), dtype=bool)
            self._hv_points.extend((F * self.problem.signs)[feasible])
        self._draw()

    def _checked_ask(self, n: int) -> list[Candidate]:
        cands = self.search.ask(n)
        if not isinstance(cands, list) or any(not isinstance(c, Candidate) for c in cands):
            raise TypeError(f"{type(self.search).__name__}.ask() must return a list of moopt.Candidate, "
                            f"got {cands!r:.200}.")
        if len(cands) > n:
            raise ConfigError(f"{type(self.search).__name__}.ask({n}) returned {len(cands)} candidates; "
                              f"a search must return at most n.")
        return cands

    def _prepare(self, c: Candidate) -> tuple[Candidate, str | bytes, str | bytes, Optional[str]]:
        """``(candidate, key, params_text, error)``: the candidate with validated params, its
        canonical key, the params as stored, and the error of an invalid one."""
        key: str | bytes
        try:
            valid = self.problem.space.validate(c.params)
            key = self._key_of(valid)
            params: Mapping[str, Any] = valid
            error = None
        except (ValueError, TypeError, KeyError) as exc:
            params, error = c.params, f"invalid candidate: {exc}"
            try:
                key = serial.canonical(dict(params))
            except TypeError:
                key = repr(sorted(dict(params).items(), key=str))
        try:
            # the key doubles as the stored params (key order is the space's on reload)
            params_text = key if error is None else serial.dumps(dict(params))
        except TypeError as exc:
            raise TypeError(f"candidate {c.id} holds values that cannot be stored (JSON and numpy "
                            f"only): {exc}") from None
        cand = c if error is not None or params == dict(c.params) else Candidate(c.id, params, c.info)
        return cand, key, params_text, error

    def _record_ask(self, cands: list[Candidate] | list[int], entries: list, **answers) -> None:
        """Persist asked candidates (and any answers given at once) with the post-ask checkpoint."""
        try:
            self.store.record_ask(entries, self._state(), n_told=self.n_told, told=self._told,
                                  logs=self._logs, **answers)
            self._told, self._logs = [], []
        except RunStoreError:
            raise
        except Exception as exc:  # duplicate ids and the like
            if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
                used = [getattr(c, "id", c) for c in cands]
                raise ConfigError(f"{type(self.search).__name__}.ask() returned a candidate id that was "
                                  f"already used ({used}); ids must be fresh.") from None
            raise

    def _answer_batch(self, cands: list[Candidate], *, ask: bool = False) -> None:
        """Answer asked candidates as if they had been asked one at a time, in order.

        With ``ask`` the candidates (and the post-ask checkpoint) are persisted first,
        in one transaction; otherwise they are the pending rest of an interrupted batch.
        Each answer is recorded in the candidates' order (a repeat is answered from the
        first evaluation of its key, a repeat of a failed one is evaluated itself), so
        the store, the stall counts and a resume after any interruption are those of
        one-at-a-time asking.  The batch's new candidates are evaluated in one
        ``evaluate_batch`` call (a vectorized problem), and every answer is recorded
        in one transaction.
        """
        plan, X = self._prepare_batch(cands)
        if ask:
            entries = [(c.id, key, params_text, _info_text(c)) for (_, key, params_text, _), c in zip(plan, cands)]
            self._record_ask(cands, entries)
        results = self._answer_vectorized(plan, X)
        if results:
            self._tell(results)

    def _known(self, key: str | bytes) -> tuple[Optional[int], bool]:
        """``(seq, outside)`` of the evaluation a repeat of ``key`` is answered from, if any."""
        orig = self.store.lookup_ok(key)
        if orig is not None:
            return orig, False
        out = self.store.lookup_outside(key)
        return (out, True) if out is not None else (None, False)

    def _outcome_result(self, cand: Candidate, key: str | bytes, o: Outcome) -> tuple[Any, Evaluation]:
        """The store row (a dict, or a ready tuple for a plain batch outcome) and the result of ``o``."""
        if type(o) is _BatchOutcome:  # objectives then constraints, floats: the row directly
            vals = o.values
            if self.con_names:
                objectives = {n: vals[n] for n in self.obj_names}
                constraints: Optional[dict] = {n: vals[n] for n in self.con_names}
            else:
                objectives, constraints = vals, None
            values = (cand.id, key, STATUS_OK, _dumps_values(objectives), _dumps_values(constraints), None, None,
                      o.started, o.finished, o.worker, self.seed, 1)
            return values, Evaluation(cand, STATUS_OK, objectives, constraints, {})
        row: dict[str, Any] = {"candidate_id": cand.id, "key": key, "started": o.started, "finished": o.finished,
                               "worker": o.worker, "seed": self.seed, "attempts": 1}
        if o.status == STATUS_OK:
            objectives, constraints, metrics = self._split(o.values)
            row.update(status=STATUS_OK, objectives=objectives, constraints=constraints or None, metrics=metrics)
            return row, self._result(cand, STATUS_OK, objectives, constraints, metrics)
        status = STATUS_PRUNED if is_outside_space(o.error) else STATUS_FAILED
        row.update(status=status, error=o.error)
        return row, self._result(cand, status, error=o.error)

    def _prepare_batch(self, cands: list[Candidate]) -> tuple[list, Optional[np.ndarray]]:
        """:meth:`_prepare` for each candidate, and the vector encodings of the valid ones.

        Where every variable is a :class:`~moopt.Real` this is done on arrays: the same
        validated params (floats within the bounds), canonical keys and vectors as the
        per-candidate path, for a fraction of its cost; a candidate that does not pass
        (a missing or extra name, a value out of range or not a number) takes the
        per-candidate path, which says what is wrong with it.  Returns ``X`` of shape
        ``(len(cands), n_vars)`` (rows of invalid candidates unused), or ``None``.
        """
        fast = self._real_lane()
        if fast is None or not cands:
            return [self._prepare(c) for c in cands], None
        names, lo, hi = fast
        n_vars = len(names)
        try:
            rows = [[p[nm] for nm in names] if len(p) == n_vars else None
                    for p in (c.params for c in cands)]
            filled = [r if r is not None else [np.nan] * n_vars for r in rows]
            X = np.array(filled, dtype=float).reshape(len(cands), n_vars)
        except (KeyError, TypeError, ValueError):
            return [self._prepare(c) for c in cands], None
        good = np.all((X >= lo) & (X <= hi), axis=1)
        plan: list[tuple] = []
        Xb = np.ascontiguousarray(X, dtype="<f8")
        for i, (c, ok, v) in enumerate(zip(cands, good.tolist(), X.tolist())):
            if not ok:
                plan.append(self._prepare(c))
                continue
            params = dict(zip(names, v))
            key = Xb[i].tobytes()  # == vector_key(params)
            cand = c if params == c.params else Candidate(c.id, params, c.info)
            plan.append((cand, key, key, None))
        return plan, X

    def _real_lane(self) -> Optional[tuple]:
        """``(names, low, high)`` for a space of Reals only, else ``None``."""
        lane: Optional[tuple] = getattr(self, "_lane", None)
        if not getattr(self, "_lane_set", False):
            from .space import Real

            space = self.problem.space
            lane = None
            if space.variables and all(type(v) is Real for v in space.variables):
                lo, hi = space.bounds()
                lane = (space.names, lo, hi)
            self._lane, self._lane_set = lane, True
        return lane

    def _key_of(self, params: Mapping) -> str | bytes:
        """The key of a valid candidate: its float64 vector (:func:`~moopt.store.vector_key`) in a
        space of Reals only, else its canonical encoding (:func:`moopt.serial.canonical`).

        Every path of the engine keys a candidate this way, so a repeat is recognized whichever
        evaluator or session asked the first one."""
        lane = self._real_lane()
        if lane is not None:
            try:
                return vector_key([float(params[n]) for n in lane[0]])
            except (KeyError, TypeError, ValueError):
                pass
        return serial.canonical(dict(params))

    def _answer_vectorized(self, plan: list, X: Optional[np.ndarray] = None) -> list[Evaluation]:
        st = self.store
        first: dict[str | bytes, int] = {}  # key -> position in plan of the batch's first evaluation of it
        known: dict[str | bytes, tuple[Optional[int], bool]] = {}  # key -> answer from before this batch
        queue, rows = [], []
        for i, (cand, key, _, error) in enumerate(plan):
            if error is not None or key in first:
                continue
            kn = known.get(key)
            if kn is None:
                kn = known[key] = self._known(key)
            if kn[0] is None:
                first[key] = i
                queue.append((cand.id, cand.params))
                rows.append(i)
        outcomes: dict[int, Outcome] = {}
        if queue:
            Xq = X[rows] if X is not None else None
            outcomes = {o.task_id: o for o in evaluate_queue(self.problem, queue, Xq)}
        items: list[tuple] = []
        results: list[Evaluation] = []
        done: dict[str | bytes, tuple[int, Evaluation]] = {}  # key -> (item index, result) of its evaluation here
        for i, (cand, key, _, error) in enumerate(plan):
            if error is not None:
                items.append(("immediate", cand.id, key, STATUS_FAILED, error))
                results.append(self._result(cand, STATUS_FAILED, error=error))
                self._count("invalid")
                continue
            src, outside = known.get(key) or self._known(key)
            prev = done.get(key)
            if src is not None:
                items.append(("cached", cand.id, src))
                results.append(self._cached_result(cand, src))
                self._count("outside" if outside else "cached")
            elif prev is not None and prev[1].status in (STATUS_OK, STATUS_PRUNED):
                r0 = prev[1]
                items.append(("cached", cand.id, ("item", prev[0])))
                results.append(self._result(cand, r0.status, r0.values, r0.constraints, r0.metrics, r0.error))
                self._count("outside" if r0.status == STATUS_PRUNED else "cached")
            else:  # new, or a repeat of one that failed here: evaluated (the latter on its own)
                o = outcomes.pop(cand.id) if first.get(key) == i else \
                    evaluate_queue(self.problem, [(cand.id, dict(cand.params))])[0]
                row, r = self._outcome_result(cand, key, o)
                if key not in done or r.status in (STATUS_OK, STATUS_PRUNED):
                    done[key] = (len(items), r)
                items.append(("row", row) if type(row) is tuple else ("eval", row))
                results.append(r)
                self._count("new_outside" if r.status == STATUS_PRUNED else "paid")
        st.record_answers(items)
        return results

    def _ask(self, n: int) -> Optional[list[Evaluation]]:
        """Ask, persist, submit; returns results available at once, or None when the search is done."""
        cands = self._checked_ask(n)
        if not cands:
            return None
        entries, cached, immediate, to_submit, dup_wait = [], [], [], [], []
        first_in_batch: dict[str | bytes, int] = {}  # key -> id of its first candidate in this batch
        n_outside = 0  # of the cached: repeats of candidates outside the search space
        results: list[Evaluation] = []
        for c in cands:
            cand, key, params_text, error = self._prepare(c)
            entries.append((c.id, key, params_text, _info_text(c)))
            if error is not None:
                immediate.append((c.id, key, STATUS_FAILED, error))
                results.append(self._result(c, STATUS_FAILED, error=error))
                continue
            orig = self.store.lookup_ok(key)
            orig_out = self.store.lookup_outside(key) if orig is None else None
            if orig is not None:
                cached.append((c.id, orig))
                results.append(self._cached_result(c, orig))
            elif orig_out is not None:  # known to be outside the search space
                cached.append((c.id, orig_out))
                n_outside += 1
                results.append(self._cached_result(c, orig_out))
            elif key in self.flight_keys:
                dup_wait.append((self.flight_keys[key], c))
            elif key in first_in_batch:  # a repeat within this batch waits for the first one
                dup_wait.append((first_in_batch[key], c))
            else:
                first_in_batch[key] = c.id
                to_submit.append((cand, key))
        self._record_ask(cands, entries, cached=cached, immediate=immediate)
        self._count("cached", len(cached) - n_outside)
        self._count("outside", n_outside)
        self._count("invalid", len(immediate))
        for orig_id, c in dup_wait:
            self.waiting.setdefault(orig_id, []).append(c)
        for cand, key in to_submit:
            self._submit(cand, key)
        return results

    def _complete_many(self, outcomes: list[Outcome]) -> list[Evaluation]:
        """Record finished evaluations (one transaction for all of them) and return their results."""
        settled: list[tuple[Candidate, str, int, str, Optional[str], Outcome]] = []
        rows: list[dict] = []
        for o in outcomes:
            entry = self.in_flight.get(o.task_id)
            if entry is None:  # a late answer for a task already settled (e.g. timed out)
                continue
            cand, key, attempts = entry
            if o.lost and attempts <= self.retries:
                entry[2] = attempts + 1
                self.evaluator.submit(cand.id, dict(cand.params))
                continue
            del self.in_flight[cand.id]
            if self.flight_keys.get(key) == cand.id:
                del self.flight_keys[key]
            row: dict[str, Any] = {"candidate_id": cand.id, "key": key, "started": o.started,
                                   "finished": o.finished, "worker": o.worker, "seed": self.seed,
                                   "attempts": attempts}
            if o.status == STATUS_OK:
                objectives, constraints, metrics = self._split(o.values)
                row.update(status=STATUS_OK, objectives=objectives, constraints=constraints or None,
                           metrics=metrics)
                settled.append((cand, key, attempts, STATUS_OK, None, o))
            else:
                error = o.error if not o.lost else f"{o.error} (after {attempts} attempts)"
                # a candidate the problem does not contain: recorded pruned, free
                status = STATUS_PRUNED if not o.lost and is_outside_space(error) else STATUS_FAILED
                row.update(status=status, error=error)
                settled.append((cand, key, attempts, status, error, o))
            rows.append(row)
        if not rows:
            return []
        if len(rows) == 1:
            seqs = [self.store.record_evaluation(**rows[0])]
        else:
            seqs = self.store.record_evaluations(rows)
        results: list[Evaluation] = []
        for (cand, key, _attempts, status, error, _o), row, seq in zip(settled, rows, seqs):
            if status == STATUS_OK:
                r = self._result(cand, STATUS_OK, row["objectives"], row["constraints"], row["metrics"])
            else:
                r = self._result(cand, status, error=error)
            results.append(r)
            outside = status == STATUS_PRUNED
            self._count("new_outside" if outside else "paid")
            for dup in self.waiting.pop(cand.id, []):
                if status == STATUS_OK or outside:
                    self.store.record_cached(dup.id, seq)
                    results.append(self._result(dup, r.status, r.values, r.constraints, r.metrics, r.error))
                    self._count("outside" if outside else "cached")
                else:  # the original failed: evaluate the duplicate itself
                    self._submit(dup, key)
        return results


#: Candidates asked at once from a search whose proposals do not depend on how asks are split
#: (:func:`batch_invariant`), for a vectorized problem (:attr:`moopt.Problem.batch_exact`) on the
#: in-process evaluator without a time limit.
ASK_BATCH = 1024


def batch_invariant(search: Search) -> bool:
    """Whether ``search`` proposes the same candidates however its asks are split.

    True for a search class that declares ``batch_invariant = True`` (random search,
    the generational searches: they learn only from whole generations) and whose
    subclass does not override ``ask`` or ``tell`` (an override may learn from each
    result).  Such a search is asked a batch at a time by the in-process evaluator,
    which gives the same run as asking one candidate at a time, at a fraction of the
    cost (one checkpoint per batch instead of one per candidate).
    """
    cls = type(search)
    for owner in cls.__mro__:
        if "batch_invariant" in owner.__dict__:
            return (owner.__dict__["batch_invariant"] is True and cls.ask is owner.ask  # type: ignore[attr-defined]
                    and cls.tell is owner.tell)  # type: ignore[attr-defined]
    return False


def evaluate_queue(problem: Problem, queue: list[tuple[int, dict]],
                   X: Optional[np.ndarray] = None) -> list[Outcome]:
    """Evaluate queued ``(task_id, params)`` in one ``evaluate_batch`` call (in this process).

    Only for a problem whose :attr:`~moopt.Problem.batch_exact` is true: each row's
    values are then exactly what :meth:`~moopt.Problem.evaluate` gives that candidate.
    A candidate whose row is not finite, and every candidate when the batch call
    itself raises or returns the wrong shape, is evaluated alone, so it gets the
    outcome (and the error text) the per-candidate path gives; the others keep theirs.
    ``X`` (optional) holds the candidates' vector encodings, row by row.
    """
    if not queue:
        raise RuntimeError("wait() called with nothing submitted")
    names, cnames = problem.objective_names, problem.constraint_names
    started = time.time()
    try:
        if X is None:
            X = np.array([problem.space.to_vector(p) for _, p in queue], dtype=float)
        F, G = problem.evaluate_batch(X)
        if F.shape != (len(queue), len(names)) or (
                cnames and (G is None or G.shape != (len(queue), len(cnames)))):
            raise ValueError("evaluate_batch returned arrays of the wrong shape")
    except Exception:  # noqa: BLE001 - each candidate on its own tells which one fails, and how
        return [evaluate_params(problem, p, worker="main", task_id=tid) for tid, p in queue]
    finished = time.time()
    ok = np.all(np.isfinite(F), axis=1)
    if cnames:
        assert G is not None  # checked above
        ok &= np.all(np.isfinite(G), axis=1)
    Fl, Gl = F.tolist(), (G.tolist() if cnames and G is not None else None)
    out: list[Outcome] = []
    for i, (tid, p) in enumerate(queue):
        if not ok[i]:
            out.append(evaluate_params(problem, p, worker="main", task_id=tid))
            continue
        values = dict(zip(names, Fl[i]))
        if Gl is not None:
            values.update(zip(cnames, Gl[i]))
        out.append(_BatchOutcome(tid, STATUS_OK, values, started=started, finished=finished, worker="main"))
    return out


class _BatchOutcome(Outcome):
    """An ok outcome of :func:`evaluate_queue`: its values are exactly the objectives then the
    constraints, as floats (no metrics), so the engine need not split them."""


def _int_option(value: Any, name: str, low: int, what: str) -> int:
    """``value`` as an int >= ``low`` (ints and numpy integers; not bools, floats or strings)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        bound = "a non-negative integer" if low == 0 else f"an integer >= {low}"
        raise ValueError(f"{name} must be {bound} ({what}), got {value!r}.")
    return int(value)


def optimize(
    problem: Problem,
    algorithm: Any = "auto",
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
    count_duplicates: Optional[bool] = None,
    **search_options,
) -> RunResult:
    """Run a search on a problem, persisting every evaluation; resume if the store holds the run.

    Args:
        problem: The :class:`~moopt.Problem`.
        algorithm: A registered algorithm name (``"random"``, ``"nsga2"``,
            ``"reinforce"``, ``"progressive"``, ...; see
            :func:`moopt.registry.available_algorithms`), a
            :class:`~moopt.Search` instance built for ``problem``, or ``"auto"``
            (default): the search :func:`moopt.registry.choose_algorithm` picks
            for the problem's kind and the budget (``pls`` for discrete
            variables, ``moead``/``nsga2`` for reals, ``progressive`` for
            growable sequences); the pick is logged (logger ``moopt``), stored
            as the run's algorithm and under ``config["auto"]``.
        budget: Number of evaluations paid for: ok and failed ones actually run.
            On resume it may grow; one below what the run already spent is
            refused (:class:`~moopt.errors.ConfigError`).
            Duplicates answered from the store, candidates with invalid
            parameters and candidates outside the search space
            (:class:`~moopt.errors.OutsideSpaceError`) are free.  With
            ``count_duplicates=True``: every finished result.
        seed: Seed of the search (with a Search instance: its own seed): an
            integer from 0 to ``2**63 - 1`` (:data:`MAX_SEED`), or ``None``.
        store: Path of the run store (SQLite; created, or resumed when it
            holds this run), a :class:`~moopt.RunStore`, or ``None`` for an
            in-memory store.
        evaluator: ``None``/``"serial"``, ``"processes:N"``, ``"dask"``,
            ``"dask:N"``, ``"tcp://host:port"``, or an
            :class:`~moopt.evaluators.Evaluator`.
        progress: Progress line on stderr: ``None`` when it is a terminal,
            ``True`` always, ``False`` never.
        timeout: Time limit per evaluation in seconds (exceeded: failed), at
            most :data:`~moopt.evaluators.MAX_TIMEOUT` (1e9); ``None`` or
            ``float("inf")``: no limit.
        retries: Retries of a candidate whose worker died (then failed).
        batch_size: Most candidates asked at once (default: the evaluator's
            capacity, so every worker stays busy).
        verbose: Print one line on stderr when resuming.
        extra: JSON settings stored with the run (not checked on resume).
        count_duplicates: ``False``: the budget counts paid evaluations only
            (see ``budget``); a search that proposes only known candidates for
            :func:`stall_limit` answers in a row stops the run with status
            ``"stalled"``.  ``True``: every result counts, duplicates answered
            from the store included (how moopt counted before this option
            existed; no stall).
            ``None`` (default): the value stored with the run when resuming,
            else ``False``.  Stored with the run; resuming with the other value
            is refused.
        **search_options: Options of the named algorithm (stored with the run).

    Returns:
        The :class:`~moopt.RunResult` (front, history, hypervolume over time);
        its ``status`` is ``"complete"``, ``"stalled"`` or ``"finished"`` (the
        search proposed no more candidates), with a ``message``.

    Raises:
        RunStoreError: the store holds another run, or is not a readable run store.
        ConfigError: unknown algorithm, a search breaking the contract, a
            ``count_duplicates`` other than the stored run's, a budget below what
            the stored run already spent, or (Dask) a script without the
            ``if __name__ == "__main__":`` guard or a problem that cannot be pickled.
        ValueError, TypeError: a bad option (``budget``, ``seed``, ``timeout``,
            ``retries``, ``batch_size``, ...), named in the message.

    Example:
        >>> import moopt
        >>> p = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"],
        ...                   lambda q: {"f1": q["x"], "f2": (1 - q["x"]) ** 2})
        >>> res = moopt.optimize(p, "random", budget=30, seed=0)
        >>> res.n_paid, res.F.shape, res.status
        (30, (30, 2), 'complete')
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a moopt.Problem, got {type(problem).__name__}.")
    budget = _int_option(budget, "budget", 0, "the number of evaluations paid for, e.g. budget=100")
    retries = _int_option(retries, "retries", 0, "retries of a candidate whose worker died, e.g. retries=1")
    if batch_size is not None:
        batch_size = _int_option(batch_size, "batch_size", 1, "candidates asked at once, e.g. batch_size=8")
    timeout = check_timeout(timeout)  # inf: no limit; beyond what the system's timers hold: refused
    seed = check_seed(seed)  # before anything is written: the store keeps it in a 64-bit integer
    for flag, value in (("progress", progress), ("count_duplicates", count_duplicates)):
        if value is not None and not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{flag} must be True, False or None, got {value!r}.")
    if extra is not None and not isinstance(extra, Mapping):
        raise TypeError(f"extra must be a dict of JSON settings, got {type(extra).__name__}.")
    ev = make_evaluator(evaluator)
    auto = None
    if isinstance(algorithm, str) and algorithm == "auto":
        from .registry import choose_algorithm

        picked, why = choose_algorithm(problem, int(budget))
        auto = {"picked": picked, "reason": why}
        logging.getLogger("moopt").info("algorithm auto: picked %s (%s)", picked, why)
        if verbose:
            print(f"algorithm auto: picked {picked} ({why})", file=sys.stderr)
        algorithm = picked
    search, identity = build_search(problem, algorithm, seed=seed, options=search_options)
    own_store = not isinstance(store, RunStore)
    # a store of our own in memory: nobody else can read, damage or resume it, so its rows go without
    # checksums and the run writes no checkpoints
    private = own_store and store is None
    st = RunStore(":memory:" if store is None else store, lock=True, checksums=not private) if own_store else store
    keep = False  # an in-memory store of our own goes to the result, which reads its records lazily
    try:
        resumed = st.configure(identity)  # another run in the store is refused before anything else
        count_dup = resolve_count_duplicates(st, count_duplicates)
        if resumed:
            spent = budget_spent(st, count_dup)
            if budget < spent:  # refused before the stored budget is touched
                what = "evaluations" if count_dup else "paid evaluations"
                raise ConfigError(
                    f"the run in {st.path} already spent {spent} {what}, more than budget={budget}; pass "
                    f"budget={spent} or more (CLI: --budget {spent}) to continue it, or use another store "
                    "(CLI: --out) for a new run.")
        settings = {"budget": int(budget), "evaluator": ev.spec, **({"auto": auto} if auto else {}),
                    **dict(extra or {}),
                    "count_duplicates": count_dup, "stop": None}
        st.configure(identity, settings)
        n_done = budget_spent(st, count_dup)
        what = "evaluations" if count_dup else "paid evaluations"
        if verbose and resumed:
            print(f"Resuming the run in {st.path}: {n_done}/{budget} {what} done.", file=sys.stderr)
        bar = Progress(budget, enabled=progress, initial=n_done)
        engine = _Engine(problem, search, st, ev, budget=int(budget), seed=identity["seed"], timeout=timeout,
                         retries=retries, batch_size=batch_size, bar=bar, count_duplicates=count_dup,
                         checkpoints=not private)
        ev.start(problem, timeout=timeout)
        try:
            engine.run()
        finally:
            ev.close()
            bar.close()
        status, message = engine.stop()
        st.configure(identity, {"stop": {"status": status, "message": message}})
        keep = own_store and store is None
        return RunResult.from_store(st, resumed=resumed, keep=keep)
    finally:
        if own_store and not keep:
            st.close()
