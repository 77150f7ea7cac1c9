"""The contract every search algorithm must pass, reusable for your own searches.

A *factory* builds the search under test: ``factory(problem, seed) -> Search``
(or a registered algorithm name such as ``"random"``).  The checks drive the
search through ask/tell rounds on small problems and assert:

==================  ==============================================================
``ask_zero``        ``ask(0)`` returns ``[]``
``candidates``      ``ask(n)`` returns at most ``n`` :class:`~moopt.Candidate`
                    objects with fresh integer ids and parameters valid in the space
``determinism``     the same seed gives the same candidates
``state_json``      ``state_dict()`` and drained logs go through moopt's JSON codec
``resume``          a ``state_dict`` round trip through the JSON codec, mid-run
                    (with candidates outstanding and after a tell), loaded into a
                    fresh instance built with *another* seed, continues identically
                    (so every RNG state must be in the state dict)
``failures``        failed and pruned results (whole rounds failed, the first one
                    too) and results told in shuffled order or split over two tells
                    are accepted; after a round in which everything failed ``ask``
                    still proposes (an empty list would mean "finished"); failures
                    never count as good results: on :func:`bait_problem` (every real
                    value worse than 0) a region that fails must not be proposed
                    exactly as when it reads as all-zero values, nor more often
                    (beyond ``slack``) than when it is told ok values worse than any
                    other
``directions``      told values are never modified (they are in the user's
                    directions); *mirror*: on :func:`flip_last_objective` (last
                    objective negated and declared in the other direction) the same
                    seed proposes exactly the same candidates in every round, since
                    the minimized values (``value * sign``) are bit for bit those of
                    the original; *progress*: a search whose proposals depend on
                    values proposes lower scores when every objective (the last
                    declared ``max``) minimizes a score than when they maximize it
``vectors``         a search that implements ``ask_vectors``/``tell_vectors`` (the
                    engine's array path) proposes through them exactly what
                    ``ask`` proposes (ids, values, info) and ends each round in the
                    same state as with ``tell``; in a space that is not all
                    ``Real`` it returns ``None`` and changes nothing
``budget``          through :func:`moopt.optimize`: never more paid evaluations
                    than the budget (repeats answered from the store are free),
                    ``ask(n)`` never returns more than ``n``, and two runs
                    with the same seed give the same history
==================  ==============================================================

A search passes ``directions`` and ``failures`` by reading told values only
through their minimized form (``value * problem.signs``, e.g.
:func:`moopt.search.minimized_values`) and by leaving failed and pruned results
out of what it learns from (or ranking them behind every ok result).  Models
fitted to values (surrogates, rewards) must be fitted to minimized values too: a
neural network fitted to ``-y`` is not the negated fit to ``y``, so a search that
fits user-direction values runs differently on a ``max`` objective and on its
negation declared ``min``.  ``failures`` needs a problem that leaves the search
something to propose for four rounds.

Problems are given by kind (``"real"``: 4 reals, 2 objectives min/min;
``"categorical"``: categorical and integer variables, objectives min/max;
``"sequence"``: a fixed-length token sequence; ``"growable"``: token sequences
of length 1..4; ``"constrained"``: ``"real"`` plus a constraint) or as
:class:`~moopt.Problem` instances (e.g. your progressive space's problem).

Example (one call, raises AssertionError naming the failed check):
    >>> import moopt
    >>> from moopt.testing import check_search
    >>> check_search(lambda problem, seed: moopt.RandomSearch(problem, seed=seed),
    ...              problems=["real", "categorical"])

With pytest, one test per check and problem::

    from moopt.testing import contract_cases, run_contract_check

    @pytest.mark.parametrize("check,problem", contract_cases(problems=["categorical"]))
    def test_my_search_contract(check, problem):
        run_contract_check(check, my_factory, problem)

or subclass :class:`SearchContract` (in the spirit of Optuna's
``BasicSamplerTestCase``)::

    class TestMySearchContract(SearchContract):
        problems = ("sequence",)
        def make_search(self, problem, seed):
            return MySearch(problem, seed=seed)
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from .. import serial
from ..problem import Objective, Problem
from ..search.base import STATUS_OK, STATUS_PRUNED, Candidate, Evaluation, Search
from ..space import Categorical, Integer, Real, TokenSequence

Factory = Union[str, Callable[[Problem, int], Search]]
ProblemLike = Union[str, Problem]

DEFAULT_PROBLEMS = ("real", "categorical")
PROBLEM_KINDS = ("real", "categorical", "sequence", "growable", "constrained")


# ------------------------------------------------------------------ problems
def _zdt1(p: Mapping) -> dict:
    x = np.array([p[f"x{i}"] for i in range(4)])
    g = 1.0 + 9.0 * x[1:].mean()
    return {"f1": float(x[0]), "f2": float(g * (1.0 - math.sqrt(x[0] / g)))}


def _categorical(p: Mapping) -> dict:
    cost = {"conv3": 3.0, "conv5": 5.0, "dw3": 1.0, "skip": 0.0}[p["op"]] * p["depth"]
    acc = 0.5 + 0.1 * p["depth"] + {"relu": 0.05, "gelu": 0.07, "tanh": 0.0}[p["act"]] - 0.02 * (p["op"] == "skip")
    return {"cost": float(cost), "accuracy": float(acc)}


def _sequence_values(seq) -> dict:
    seq = tuple(seq)
    ones = sum(1 for t in seq if t == "b")
    return {"size": float(len(seq) + ones), "score": float(sum((i + 1) * (t == "c") for i, t in enumerate(seq)))}


def contract_problem(kind: str) -> Problem:
    """A small built-in problem of the given kind (see the module docstring).

    Raises:
        ValueError: unknown kind.
    """
    if kind == "real":
        return Problem([Real(f"x{i}", 0.0, 1.0) for i in range(4)], ["f1", "f2"], _zdt1, name="contract-real")
    if kind == "constrained":
        def evaluate(p):
            out = _zdt1(p)
            out["g1"] = 0.6 - p["x0"] - p["x1"]
            return out

        return Problem([Real(f"x{i}", 0.0, 1.0) for i in range(4)], ["f1", "f2"], evaluate,
                       constraints=["g1"], name="contract-constrained")
    if kind == "categorical":
        return Problem(
            [Categorical("op", ["conv3", "conv5", "dw3", "skip"]), Integer("depth", 1, 4),
             Categorical("act", ["relu", "gelu", "tanh"])],
            [Objective("cost", "min"), Objective("accuracy", "max")], _categorical, name="contract-categorical")
    if kind == "sequence":
        return Problem([TokenSequence("seq", ("a", "b", "c"), 4, 4)],
                       [Objective("size", "min"), Objective("score", "max")],
                       lambda p: _sequence_values(p["seq"]), name="contract-sequence")
    if kind == "growable":
        return Problem([TokenSequence("seq", ("a", "b", "c"), 1, 4)],
                       [Objective("size", "min"), Objective("score", "max")],
                       lambda p: _sequence_values(p["seq"]), name="contract-growable")
    raise ValueError(f"unknown contract problem kind {kind!r}; choose one of {list(PROBLEM_KINDS)} "
                     "or pass a moopt.Problem.")


def _as_problem(problem: ProblemLike) -> Problem:
    if isinstance(problem, Problem):
        return problem
    if isinstance(problem, str):
        return contract_problem(problem)
    raise TypeError(f"a contract problem must be a kind name or a moopt.Problem, got {type(problem).__name__}.")


# ------------------------------------------------------- derived problems
def _derived_problem(problem: Problem, *, objectives: Sequence[Objective], transform: Callable[[dict], dict],
                     name: str, pointwise: bool, ref: Optional[Callable[[np.ndarray], np.ndarray]] = None
                     ) -> Problem:
    """A copy of ``problem`` with other objectives whose values are ``transform(values)``.

    The copy is an instance of a subclass of ``type(problem)`` that keeps every
    attribute of the original (e.g. a progressive space), so the same search can
    run on it; ``evaluate``, ``evaluate_cheap`` and ``evaluate_batch`` all go
    through ``transform``.

    Args:
        problem: The original problem.
        objectives: The copy's objectives (same names as the original's).
        transform: ``values -> values`` on an evaluation's output dict (objectives,
            constraints, metrics); returns a new dict.
        name: The copy's name.
        pointwise: True when ``transform`` maps each objective on its own (then
            ``evaluate_cheap`` transforms the original's cheap values); otherwise the
            cheap values come from a full evaluation.
        ref: Maps the original's ``ref_point`` to the copy's; ``None``: the copy has none.
    """
    base = problem
    objectives = tuple(objectives)
    cheap = [o.name for o in objectives if o.cheap]

    def ref_point(self):
        value = getattr(base, "ref_point", None)
        if ref is None or value is None:
            raise AttributeError("ref_point")
        return ref(np.asarray(value, dtype=float))

    def evaluate(self, params):
        return transform(dict(base.evaluate(params)))

    def evaluate_cheap(self, params):
        if pointwise:
            return transform(dict(base.evaluate_cheap(params)))
        out = self.evaluate(params)
        return {n: out[n] for n in cheap}

    def evaluate_batch(self, X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if pointwise:  # keep the original's (vectorized) values, transformed row by row
            F0, G = base.evaluate_batch(X)
            rows = [transform(dict(zip(base.objective_names, f))) for f in np.asarray(F0, dtype=float)]
        else:
            rows = [self.evaluate(base.space.from_vector(x)) for x in X]
        F = np.array([[r[n] for n in base.objective_names] for r in rows], dtype=float).reshape(len(X), -1)
        if not pointwise:
            G = (np.array([[r[n] for n in base.constraint_names] for r in rows], dtype=float)
                 if base.constraints else None)
        return F, G

    cls = type(problem)
    derived_cls = type(f"Contract{cls.__name__}", (cls,), {
        "evaluate": evaluate, "evaluate_cheap": evaluate_cheap, "evaluate_batch": evaluate_batch,
        "ref_point": property(ref_point), "__module__": __name__,
    })
    out = copy.copy(problem)
    out.__class__ = derived_cls
    out.objectives = objectives
    out.name = name
    return out


def flip_last_objective(problem: Problem) -> Problem:
    """A copy of ``problem`` whose last objective has the other direction (values negated).

    The copy keeps every other attribute (e.g. a progressive space), so the
    same search can run on it.  Its minimized values (``value * sign``) are
    exactly those of the original (negation is exact in floating point), so a
    search that converts told values with the objectives' directions behaves
    identically on both; ``evaluate``, ``evaluate_cheap``, ``evaluate_batch``
    and a ``ref_point`` attribute are all mirrored.
    """
    last = problem.objectives[-1]
    new_dir = "max" if last.direction == "min" else "min"

    def negate_last(out: dict) -> dict:
        if last.name in out:
            out[last.name] = -out[last.name]
        return out

    def ref(r: np.ndarray) -> np.ndarray:
        r = r.copy()
        r[-1] = -r[-1]
        return r

    return _derived_problem(
        problem, objectives=problem.objectives[:-1] + (Objective(last.name, new_dir, last.unit, last.cheap),),
        transform=negate_last, name=f"{problem.name}-flipped", pointwise=True, ref=ref)


def in_bait_region(space, params: Mapping, anchor: Mapping) -> bool:
    """Whether a candidate lies in the region the ``failures`` check makes fail.

    The region is chosen by the first variable, around its value in ``anchor``
    (the first candidate a search proposes, so that the region is visited from
    the start): the same first token of a token sequence, the same choice of a
    categorical, or, for reals and integers, a window of a quarter of the range
    (on the log scale where the variable has one) that holds the anchor's value.
    """
    var = space.variables[0]
    value, ref = params[var.name], anchor[var.name]
    if isinstance(var, TokenSequence):
        return len(value) > 0 and len(ref) > 0 and value[0] == ref[0]
    if isinstance(var, Categorical):
        return var.index(value) == var.index(ref)
    lo, hi = float(var.low), float(var.high)
    if hi == lo:
        return True
    scale = math.log if var.log else float

    def position(v) -> float:
        return (scale(float(v)) - scale(lo)) / (scale(hi) - scale(lo))

    start = min(max(position(ref) - 0.125, 0.0), 0.75)
    return start <= position(value) <= start + 0.25


def bait_problem(problem: Problem) -> Problem:
    """A copy of ``problem`` whose values are all worse than ``0`` in every objective.

    Each value goes through an increasing map into ``(0.43, 3.57)`` (``min``
    objectives: ``2 + atan(v)``) or ``(-3.57, -0.43)`` (``max``: ``atan(v) - 2``),
    so the problem keeps its order of candidates but a result read as "all zero"
    would dominate every real one: the ``failures`` check tells failures in a
    region of this problem and checks they do not attract the search.
    """
    directions = {o.name: o.direction for o in problem.objectives}

    def squash(out: dict) -> dict:
        for n, d in directions.items():
            if n in out:
                out[n] = (2.0 + math.atan(out[n])) if d == "min" else (math.atan(out[n]) - 2.0)
        return out

    def ref(r: np.ndarray) -> np.ndarray:
        return np.array(list(squash({o.name: float(v) for o, v in zip(problem.objectives, r)}).values()))

    return _derived_problem(problem, objectives=problem.objectives, transform=squash,
                            name=f"{problem.name}-bait", pointwise=True, ref=ref)


def agreeing_problem(problem: Problem, sense: int = 1) -> Problem:
    """A copy of ``problem`` whose objectives all agree: each one minimizes ``sense * s``.

    ``s`` is the original's last objective, minimized (``value * sign``).  The
    copy keeps the names and the first objectives' directions and declares the
    last one ``max``; objective ``o`` has the value ``sense * s * o.sign``, so
    its minimized value is ``sense * s`` whatever its direction.  With
    ``sense=1`` a search should propose low ``s``, with ``sense=-1`` high ``s``.
    """
    if sense not in (1, -1):
        raise ValueError(f"sense must be 1 (minimize s) or -1 (maximize s), got {sense!r}.")
    last = problem.objectives[-1]
    objectives = problem.objectives[:-1] + (Objective(last.name, "max", last.unit, last.cheap),)

    def agree(out: dict) -> dict:
        s = float(out[last.name]) * last.sign
        out.update({o.name: sense * s * o.sign for o in objectives})
        return out

    return _derived_problem(problem, objectives=objectives, transform=agree,
                            name=f"{problem.name}-agree{'+' if sense > 0 else '-'}", pointwise=False)


def _build(factory: Factory, problem: Problem, seed: int) -> Search:
    if isinstance(factory, str):
        from ..registry import make_search

        search = make_search(factory, problem, seed=seed)
    else:
        search = factory(problem, seed)
    assert isinstance(search, Search), f"the factory returned {type(search).__name__}, not a moopt.Search"
    return search


# ------------------------------------------------------------------- driver
def _evaluate(problem: Problem, cand: Candidate) -> Evaluation:
    try:
        values = problem.evaluate(dict(cand.params))
    except Exception as exc:  # a failing evaluation is a failed result
        return Evaluation.failure(cand, f"{type(exc).__name__}: {exc}")
    objectives = {n: values[n] for n in problem.objective_names}
    constraints = {n: values[n] for n in problem.constraint_names} or None
    return Evaluation(cand, STATUS_OK, objectives, constraints)


def _key(c: Candidate) -> tuple:
    return (c.id, serial.canonical(dict(c.params)))


class _Driver:
    """Runs ask/tell rounds; records what the search proposed."""

    def __init__(self, search: Search, problem: Problem, *, batch: int, space_problem: Optional[Problem] = None):
        self.search, self.problem, self.batch = search, problem, batch
        self.space = (space_problem or problem).space
        self.proposed: list[tuple] = []
        self.seen_ids: set = set()
        self.finished = False

    def ask(self, n: Optional[int] = None) -> list[Candidate]:
        n = self.batch if n is None else n
        cands = self.search.ask(n)
        name = type(self.search).__name__
        assert isinstance(cands, list), f"{name}.ask({n}) returned {type(cands).__name__}, not a list"
        assert len(cands) <= n, f"{name}.ask({n}) returned {len(cands)} candidates (more than n)"
        for c in cands:
            assert isinstance(c, Candidate), f"{name}.ask returned {c!r}, not a moopt.Candidate"
            assert isinstance(c.id, (int, np.integer)) and not isinstance(c.id, bool), \
                f"{name}: candidate id {c.id!r} is not an integer"
            assert c.id not in self.seen_ids, f"{name}: candidate id {c.id} was already used"
            self.seen_ids.add(c.id)
            try:
                self.space.validate(c.params)
            except (ValueError, TypeError, KeyError) as exc:
                raise AssertionError(f"{name}: candidate {c.id} is not valid in the space: {exc}") from None
            try:
                serial.dumps(dict(c.info))
            except TypeError as exc:
                raise AssertionError(f"{name}: candidate {c.id} info is not JSON: {exc}") from None
            self.proposed.append(_key(c))
        if not cands:
            self.finished = True
        return cands

    def results(self, cands: Sequence[Candidate], *, fail_every: int = 0, prune_every: int = 0) -> list[Evaluation]:
        out = []
        for i, c in enumerate(cands):
            k = len(self.proposed) + i
            if fail_every and k % fail_every == 0:
                out.append(Evaluation.failure(c, "contract: simulated failure"))
            elif prune_every and k % prune_every == 1:
                out.append(Evaluation(c, STATUS_PRUNED, error="contract: simulated pruning"))
            else:
                out.append(_evaluate(self.problem, c))
        return out

    def tell(self, results: list[Evaluation]) -> None:
        self.search.tell(results)
        logs = self.search.drain_logs()
        try:
            serial.dumps(logs)
        except TypeError as exc:
            raise AssertionError(f"{type(self.search).__name__}: logs are not JSON: {exc}") from None

    def rounds(self, n_rounds: int, **kw) -> None:
        for _ in range(n_rounds):
            cands = self.ask()
            if not cands:
                return
            self.tell(self.results(cands, **kw))


# ------------------------------------------------------------------- checks
def check_ask_zero(factory: Factory, problem: ProblemLike = "real", *, seed: int = 0, **_ignored) -> None:
    """``ask(0)`` returns ``[]``, at the start and mid-run."""
    problem = _as_problem(problem)
    s = _build(factory, problem, seed)
    assert s.ask(0) == [], f"{type(s).__name__}.ask(0) must return []"
    d = _Driver(s, problem, batch=2)
    d.rounds(2)
    assert s.ask(0) == [], f"{type(s).__name__}.ask(0) must return [] mid-run"


def check_candidates(factory: Factory, problem: ProblemLike = "real", *, seed: int = 0, rounds: int = 5,
                     batch: int = 4, **_ignored) -> None:
    """``ask(n)``: at most n Candidates, fresh integer ids, parameters valid in the space."""
    problem = _as_problem(problem)
    d = _Driver(_build(factory, problem, seed), problem, batch=batch)
    d.rounds(rounds)
    for n in (1, 3):
        cands = d.ask(n)
        if cands:
            d.tell(d.results(cands))
    assert d.proposed, f"{type(d.search).__name__} proposed no candidate at all"


def check_determinism(factory: Factory, problem: ProblemLike = "real", *, seed: int = 0, rounds: int = 5,
                      batch: int = 4, **_ignored) -> None:
    """Two instances with the same seed propose the same candidates."""
    problem = _as_problem(problem)
    runs = []
    for _ in range(2):
        d = _Driver(_build(factory, problem, seed), problem, batch=batch)
        d.rounds(rounds, fail_every=5)
        runs.append(d.proposed)
    if runs[0] != runs[1]:
        diff = [i for i, (a, b) in enumerate(zip(*runs)) if a != b]
        at = diff[0] if diff else min(map(len, runs))
        raise AssertionError(f"same seed, different candidates: first difference at position {at}")


def check_state_json(factory: Factory, problem: ProblemLike = "real", *, seed: int = 0, rounds: int = 3,
                     batch: int = 4, **_ignored) -> None:
    """``state_dict()`` holds only JSON types and numpy arrays (round-trips through the codec)."""
    problem = _as_problem(problem)
    s = _build(factory, problem, seed)
    d = _Driver(s, problem, batch=batch)
    for stage in range(rounds):
        state = s.state_dict()
        try:
            text = serial.dumps(state)
        except TypeError as exc:
            raise AssertionError(f"{type(s).__name__}.state_dict() after {stage} rounds is not JSON + "
                                 f"numpy: {exc}") from None
        again = serial.dumps(serial.loads(text))
        assert again == text, f"{type(s).__name__}.state_dict() does not survive a JSON round trip unchanged"
        d.rounds(1)


def _roundtrip(factory: Factory, problem: Problem, state, seed: int) -> Search:
    clone = _build(factory, problem, seed + 1000)  # another seed: the state must carry every RNG
    clone.load_state_dict(serial.loads(serial.dumps(state)))
    return clone


def check_resume(factory: Factory, problem: ProblemLike = "real", *, seed: int = 0, rounds: int = 6,
                 batch: int = 4, **_ignored) -> None:
    """A mid-run state_dict (JSON round trip) loaded into a fresh instance continues identically."""
    problem = _as_problem(problem)
    name = None
    for split in ("after_tell", "outstanding"):
        a = _build(factory, problem, seed)
        name = type(a).__name__
        da = _Driver(a, problem, batch=batch)
        da.rounds(max(1, rounds // 2), fail_every=4)
        pending: list[Candidate] = []
        if split == "outstanding":
            pending = da.ask()
        b = _roundtrip(factory, problem, a.state_dict(), seed)
        db = _Driver(b, problem, batch=batch)
        db.seen_ids = set(da.seen_ids)
        mark = len(da.proposed)
        if pending:
            res = da.results(pending, fail_every=4)
            da.tell(res)
            db.tell(list(res))
        for _ in range(rounds):
            ca, cb = da.ask(), db.ask()
            ka, kb = [_key(c) for c in ca], [_key(c) for c in cb]
            assert ka == kb, (f"{name}: after a state_dict round trip ({split.replace('_', ' ')}) the resumed "
                              f"search proposed {kb[:2]}... instead of {ka[:2]}...")
            if not ca:
                break
            ra = da.results(ca, fail_every=4)
            da.tell(ra)
            db.tell(list(ra))
        assert len(da.proposed) > mark or da.finished, f"{name}: nothing proposed after the resume point"
        sa, sb = serial.dumps(a.state_dict()), serial.dumps(b.state_dict())
        assert sa == sb, f"{name}: the resumed search's final state_dict differs from the original's ({split})"


def _first_difference(a: Sequence, b: Sequence) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def check_failures(factory: Factory, problem: ProblemLike = "real", *, seed: int = 0, rounds: int = 6,
                   batch: int = 4, bait_rounds: int = 10, slack: float = 0.25, **_ignored) -> None:
    """Failed and pruned results are accepted, never stop the search, and never count as good.

    Three parts:

    1. *Accepted, and the search goes on*: failed and pruned results, rounds in
       which every result failed (the first round and the third), results told
       in shuffled order and split over two tells are accepted; after a round in
       which everything failed (nothing outstanding), ``ask`` must return new
       candidates -- an empty list would mean "finished" after a transient outage.
    2. *Not read as zero*: on :func:`bait_problem` (every real value worse than
       ``0`` in every objective) the candidates of a region
       (:func:`in_bait_region`) fail or are pruned, for ``bait_rounds`` rounds.
       The same seed runs again with that region told as ok results whose values
       are all ``0`` (better than any real one), and as ok results worse than any
       real one.  A search whose proposals depend on values (those two runs
       differ) must not propose exactly what it proposes when failures read as 0.
    3. *Not preferred*: in the second half of the rounds the share of proposals
       inside the failing region may exceed the share in the run where the region
       is told the worst values by at most ``slack``; a search that ranks failures
       as good (0, the best seen, ``-inf`` minimized) closes in on them.  Searches
       that treat failures as the worst result (or leave them out) differed by at
       most 0.05 over ten seeds; the broken ones in the tests by 0.45 or more.

    Args:
        bait_rounds: Rounds of each run of parts 2 and 3.
        slack: Allowed excess of the failing region's share of proposals (part 3).
    """
    problem = _as_problem(problem)
    s = _build(factory, problem, seed)
    name = type(s).__name__
    d = _Driver(s, problem, batch=batch)
    rng = np.random.default_rng(seed)
    all_failed_before = None
    for r in range(rounds):
        cands = d.ask()
        if all_failed_before is not None:
            assert cands, (f"{name}.ask({batch}) returned [] with nothing outstanding right after round "
                           f"{all_failed_before}, in which every result failed: the search declared itself "
                           "finished after one bad round; failures (a transient outage, a bad region) must not "
                           "end a search -- propose from the prior or from the failed candidates instead")
            all_failed_before = None
        if not cands:
            break
        if r in (0, 2):
            results = [Evaluation.failure(c, "contract: everything failed") for c in cands]
            all_failed_before = r
        else:
            results = d.results(cands, fail_every=3, prune_every=5)
        order = rng.permutation(len(results))
        shuffled = [results[i] for i in order]
        if r % 2 == 1 and len(shuffled) > 1:  # results split over two tells
            d.tell(shuffled[:1])
            d.tell(shuffled[1:])
        else:
            d.tell(shuffled)
    assert d.proposed, f"{name} proposed nothing"

    bait = bait_problem(problem)
    runs = {mode: _bait_run(factory, bait, seed, bait_rounds, batch, mode) for mode in ("failed", "zero", "worst")}
    (failed, f_share), (zero, _), (worst, w_share) = runs["failed"], runs["zero"], runs["worst"]
    if zero != worst and failed == zero:
        raise AssertionError(
            f"{name} proposed exactly the same candidates when the results in a region failed (or were pruned) "
            f"as when they were ok with every objective 0 (better than any real value of {bait.name}): it "
            "reads failed/pruned results as successes with value 0; leave them out of the values it learns "
            "from, or rank them behind every ok result (see moopt.search.minimized_values(failed=...))")
    assert f_share <= w_share + slack, (
        f"{name} is drawn to failures: in the second half of the rounds {f_share:.0%} of its proposals lie in the "
        f"region whose evaluations fail, against {w_share:.0%} when that region is told ok values worse than any "
        "other; a search must rank failed and pruned results no better than its worst ok result, never as good ones")


def _bait_run(factory: Factory, bait: Problem, seed: int, rounds: int, batch: int, mode: str
              ) -> tuple[list[tuple], float]:
    """Drive a search on ``bait``, the region told as ``mode``: ``"failed"`` (failed or pruned), ``"zero"``
    (ok, every value 0) or ``"worst"`` (ok, worse than any real value).

    Returns:
        The proposals and the share of the second half of the rounds' proposals in the region.
    """
    d = _Driver(_build(factory, bait, seed), bait, batch=batch)
    flags: list[list[bool]] = []
    anchor = None
    n_inside = 0
    for _ in range(rounds):
        cands = d.ask()
        if not cands:
            break
        anchor = anchor or dict(cands[0].params)
        results, round_flags = [], []
        for c in cands:
            inside = in_bait_region(bait.space, c.params, anchor)
            round_flags.append(inside)
            n_inside += inside
            if inside and mode == "failed":  # alternately failed and pruned
                results.append(Evaluation.failure(c, "contract: this region fails") if n_inside % 2
                               else Evaluation(c, STATUS_PRUNED, error="contract: this region is pruned"))
                continue
            res = _evaluate(bait, c)
            if inside and res.ok:  # zero: better than any real value (in (0.43, 3.57)); worst: worse
                res = Evaluation(c, STATUS_OK, {o.name: 0.0 if mode == "zero" else 4.0 * o.sign
                                                for o in bait.objectives}, res.constraints)
            results.append(res)
        flags.append(round_flags)
        d.tell(results)
    late = [f for fl in flags[len(flags) // 2:] for f in fl]
    return d.proposed, (sum(late) / len(late) if late else 0.0)


def check_directions(factory: Factory, problem: ProblemLike = "real", *, seed: int = 0, rounds: int = 5,
                     batch: int = 4, progress_rounds: int = 24, **_ignored) -> None:
    """The search reads every objective in its own direction and leaves told values untouched.

    Three parts:

    1. *Told values are not modified* (they are in the user's directions).
    2. *Mirror*: the same seed runs on the problem and on
       :func:`flip_last_objective` (last objective negated and declared in the
       other direction).  The minimized values (``value * sign``) the two runs
       see are bit for bit the same (negation is exact), so a search that
       converts with the directions proposes exactly the same candidates in every
       round; one that reads told values as minimized (or maximized) whatever the
       direction does not.
    3. *Progress* (searches whose proposals depend on values): on
       :func:`agreeing_problem` every objective (the last declared ``max``)
       minimizes one score ``s``; the same seed runs once to minimize ``s`` and
       once to maximize it, and in the second half of ``progress_rounds`` rounds
       the first run's proposals must have the lower mean ``s``.  This catches a
       search that inverts every direction, which the mirror cannot see.

    Args:
        progress_rounds: Rounds of the progress runs.
    """
    base = _as_problem(problem)
    mirrored = flip_last_objective(base)
    a, b = _build(factory, base, seed), _build(factory, mirrored, seed)
    name = type(a).__name__
    da, db = _Driver(a, base, batch=batch), _Driver(b, mirrored, batch=batch)
    last = base.objectives[-1].name
    for r in range(rounds):
        ca, cb = da.ask(), db.ask()
        ka, kb = [_key(c) for c in ca], [_key(c) for c in cb]
        if ka != kb:
            i = _first_difference(ka, kb)
            raise AssertionError(
                f"{name} proposed other candidates on {mirrored.name!r} (objective {last!r} negated and declared "
                f"{mirrored.directions[-1]!r}) than on {base.name!r} with the same seed: round {r}, candidate {i}: "
                f"{kb[i] if i < len(kb) else None} instead of {ka[i] if i < len(ka) else None}. The values "
                "minimized with the directions are identical, so the search reads told values without their "
                "direction (multiply by problem.signs, or use moopt.search.minimized_values)")
        if not ca:
            break
        for d, cands in ((da, ca), (db, cb)):
            results = d.results(cands)
            before = [(dict(res.values) if res.values else None) for res in results]
            d.tell(results)
            after = [(dict(res.values) if res.values else None) for res in results]
            assert before == after, (f"{name}.tell modified the values it was told; values are in "
                                     "the user's directions and must be copied, not changed in place")
    for d in (da, db):
        assert d.proposed, f"{name} proposed nothing on {d.problem.name} (directions {d.problem.directions})"
    _check_progress(factory, base, seed=seed, rounds=progress_rounds, batch=batch)


def _check_progress(factory: Factory, problem: Problem, *, seed: int, rounds: int, batch: int) -> None:
    runs = {}
    last = problem.objectives[-1].name
    for sense in (1, -1):
        agree = agreeing_problem(problem, sense)
        d = _Driver(_build(factory, agree, seed), agree, batch=batch)
        scores: list[list[Optional[float]]] = []
        for _ in range(rounds):
            cands = d.ask()
            if not cands:
                break
            results = d.results(cands)
            d.tell(results)
            # s of each proposal (minimized value = sense * s); None where the evaluation failed
            row: list[Optional[float]] = []
            for res in results:
                if res.ok:
                    assert res.values is not None  # an ok evaluation carries its values
                    row.append(float(res.values[last]) * agree.objectives[-1].sign * sense)
                else:
                    row.append(None)
            scores.append(row)
        late = [v for row in scores[len(scores) // 2:] for v in row if v is not None]
        runs[sense] = (d.proposed, float(np.mean(late)) if late else math.nan, type(d.search).__name__)
    (down_keys, down, name), (up_keys, up, _) = runs[1], runs[-1]
    if down_keys == up_keys or math.isnan(down) or math.isnan(up):
        return  # the search's proposals do not depend on values (e.g. random search): nothing to compare
    assert down < up, (
        f"{name} does not move towards the optimum: on {problem.name!r} with every objective minimizing one score "
        f"s (the last objective declared 'max'), its proposals in the second half of {rounds} rounds have mean "
        f"s = {down:.4g} when s is minimized and {up:.4g} when s is maximized; the first must be lower. Does "
        "it read 'min' objectives as 'max' (signs inverted)?")


def check_budget(factory: Factory, problem: ProblemLike = "real", *, seed: int = 0, budget: int = 17,
                 **_ignored) -> None:
    """Through moopt.optimize: at most ``budget`` paid evaluations; same seed, same history."""
    from ..engine import optimize

    problem = _as_problem(problem)
    histories = []
    for _ in range(2):
        s = _build(factory, problem, seed)
        res = optimize(problem, s, budget=budget, progress=False)
        assert res.n_paid <= budget, f"{res.n_paid} paid evaluations for a budget of {budget}"
        assert res.counts.get("pending", 0) == 0, "candidates asked beyond the budget were left pending"
        histories.append([(r.candidate_id, r.key, r.status, r.objectives) for r in res.records])
    assert histories[0] == histories[1], "two runs through moopt.optimize with the same seed differ"
    assert histories[0], "no evaluation happened through moopt.optimize"


def check_vectors(factory: Factory, problem: ProblemLike = "real", *, seed: int = 0, rounds: int = 5,
                  batch: int = 3, **_ignored) -> None:
    """``ask_vectors``/``tell_vectors``, where implemented, are ``ask``/``tell`` on arrays."""
    problem = _as_problem(problem)
    a, b = _build(factory, problem, seed), _build(factory, problem, seed)
    name = type(a).__name__
    before = serial.dumps(b.state_dict())
    batch_b = b.ask_vectors(batch)
    if batch_b is None:
        assert serial.dumps(b.state_dict()) == before, f"{name}.ask_vectors() returned None but changed the state"
        return
    from ..space import Real

    assert all(type(v) is Real for v in problem.space.variables), \
        f"{name}.ask_vectors() answered in a space that is not all Real variables; it must return None there"
    names = problem.space.names
    for r in range(rounds):
        if r:
            batch_b = b.ask_vectors(batch)
            assert batch_b is not None, f"{name}.ask_vectors() returned None after answering before"
        cands = a.ask(batch)
        got = batch_b.candidates(names)
        assert [_key(c) + (serial.dumps(dict(c.info)),) for c in cands] == \
            [_key(c) + (serial.dumps(dict(c.info)),) for c in got], \
            f"{name}.ask_vectors({batch}) proposed other candidates than ask({batch}) in round {r}"
        if not cands:
            return
        results = [_evaluate(problem, c) for c in cands]
        if not all(res.ok for res in results):
            return  # tell_vectors takes ok results only
        a.tell(results)
        F = np.array([[res.values[n] for n in problem.objective_names] for res in results])  # type: ignore[index]
        G = (np.array([[res.constraints[n] for n in problem.constraint_names] for res in results])  # type: ignore[index]
             if problem.constraint_names else None)
        b.tell_vectors(np.asarray(batch_b.ids), F, G)
        a.drain_logs(), b.drain_logs()
        assert serial.dumps(a.state_dict()) == serial.dumps(b.state_dict()), \
            f"{name}: tell_vectors() left another state than tell() in round {r}"


CHECKS: dict[str, Callable[..., None]] = {
    "ask_zero": check_ask_zero,
    "candidates": check_candidates,
    "determinism": check_determinism,
    "state_json": check_state_json,
    "resume": check_resume,
    "failures": check_failures,
    "directions": check_directions,
    "vectors": check_vectors,
    "budget": check_budget,
}


def run_contract_check(check: str, factory: Factory, problem: ProblemLike = "real", **options) -> None:
    """Run one named check (a key of :data:`CHECKS`) on one problem; raises AssertionError on failure."""
    if check not in CHECKS:
        raise ValueError(f"unknown contract check {check!r}; choose one of {list(CHECKS)}.")
    CHECKS[check](factory, problem, **options)


def contract_cases(problems: Iterable[ProblemLike] = DEFAULT_PROBLEMS,
                   checks: Optional[Iterable[str]] = None) -> list:
    """``(check, problem)`` pairs for ``pytest.mark.parametrize("check,problem", ...)``, with readable ids."""
    names = list(checks) if checks is not None else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown contract checks {unknown}; choose from {list(CHECKS)}.")
    cases = []
    try:
        import pytest
    except ImportError:  # pragma: no cover
        pytest = None  # type: ignore[assignment]  # mypy cannot type an optional import as "module or None"
    for prob in problems:
        label = prob if isinstance(prob, str) else getattr(prob, "name", "problem")
        for n in names:
            cases.append(pytest.param(n, prob, id=f"{n}-{label}") if pytest else (n, prob))
    return cases


def check_search(factory: Factory, *, problems: Iterable[ProblemLike] = DEFAULT_PROBLEMS,
                 checks: Optional[Iterable[str]] = None, **options) -> None:
    """Run every contract check on every problem.

    Args:
        factory: ``factory(problem, seed) -> Search`` or a registered algorithm name.
        problems: Problem kinds (:data:`PROBLEM_KINDS`) or Problem instances.
        checks: Subset of :data:`CHECKS` names (default: all).
        **options: ``seed``, ``rounds``, ``batch``, ``budget``, ``progress_rounds``
            (``directions``), ``bait_rounds`` and ``slack`` (``failures``) passed to the checks.

    Raises:
        AssertionError: naming the check and problem that failed.
    """
    for prob in problems:
        label = prob if isinstance(prob, str) else getattr(prob, "name", "problem")
        for n in (list(checks) if checks is not None else list(CHECKS)):
            try:
                run_contract_check(n, factory, prob, **options)
            except AssertionError as exc:
                raise AssertionError(f"search contract check {n!r} failed on problem {label!r}: {exc}") from exc


class SearchContract:
    """Base class for pytest: subclass as ``TestXxx(SearchContract)`` and define :meth:`make_search`.

    Attributes:
        problems: Problem kinds or instances to run every check on.
        options: Options for the checks (``rounds``, ``batch``, ``budget``, ``seed``,
            ``progress_rounds``, ``bait_rounds``, ``slack``).
    """

    problems: Sequence[ProblemLike] = DEFAULT_PROBLEMS
    options: Mapping[str, Any] = {}

    def make_search(self, problem: Problem, seed: int) -> Search:  # pragma: no cover - abstract
        raise NotImplementedError("define make_search(problem, seed) in your SearchContract subclass")

    def _run(self, check: str) -> None:
        for prob in self.problems:
            run_contract_check(check, self.make_search, prob, **dict(self.options))

    def test_ask_zero(self):
        self._run("ask_zero")

    def test_candidates(self):
        self._run("candidates")

    def test_determinism(self):
        self._run("determinism")

    def test_state_json(self):
        self._run("state_json")

    def test_resume(self):
        self._run("resume")

    def test_failures(self):
        self._run("failures")

    def test_directions(self):
        self._run("directions")

    def test_vectors(self):
        self._run("vectors")

    def test_budget(self):
        self._run("budget")
