"""The search interface: ``ask`` candidates, ``tell`` results, checkpoint the state.

Every search in moopt (random, REINFORCE, progressive, wrapped pymoo/DEAP
algorithms) implements :class:`Search` and passes the contract suite in
:mod:`moopt.testing`.  A search keeps no history of its own beyond what its
algorithm needs: the run store is the history.

Example:
    >>> import moopt
    >>> problem = moopt.Problem([moopt.Real("x", 0, 1)], ["f"], lambda p: {"f": p["x"]})
    >>> search = moopt.search.RandomSearch(problem, seed=0)
    >>> [c] = search.ask(1)
    >>> search.tell([moopt.Evaluation.success(c, {"f": c.params["x"]})])
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Optional, Sequence

import numpy as np

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_PRUNED = "pruned"
STATUSES = (STATUS_OK, STATUS_FAILED, STATUS_PRUNED)


@dataclass(frozen=True)
class Candidate:
    """A candidate proposed by a search.

    Attributes:
        id: Sequential id assigned by the search (0, 1, 2, ...), unique in a run.
        params: Variable name -> value.
        info: JSON data the search wants back with the result (e.g. the step
            of a progressive search); stored with the candidate.
    """

    id: int
    params: Mapping[str, Any]
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """The outcome of evaluating one candidate.

    Attributes:
        candidate: The evaluated candidate.
        status: ``"ok"``, ``"failed"`` or ``"pruned"``.
        values: Objective name -> value in the objective's own direction
            (``None`` unless ``status == "ok"``).
        constraints: Constraint name -> ``g`` (feasible when ``<= 0``).
        metrics: Other named values the evaluation reported (train time, ...).
        error: Error text of a failed evaluation.
    """

    candidate: Candidate
    status: str
    values: Optional[Mapping[str, float]] = None
    constraints: Optional[Mapping[str, float]] = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    @classmethod
    def success(cls, candidate: Candidate, values: Mapping[str, float], **kw) -> "Evaluation":
        """An ok result with objective ``values`` (and optional constraints/metrics)."""
        return cls(candidate, STATUS_OK, dict(values), **kw)

    @classmethod
    def failure(cls, candidate: Candidate, error: str, **kw) -> "Evaluation":
        """A failed result carrying the error text."""
        return cls(candidate, STATUS_FAILED, None, error=str(error), **kw)

    def feasible(self) -> bool:
        """True when ok and every constraint ``<= 0``."""
        if not self.ok:
            return False
        return all(v <= 0 for v in (self.constraints or {}).values())


@dataclass(frozen=True)
class VectorBatch:
    """Candidates asked as arrays (:meth:`Search.ask_vectors`), for a space of ``Real`` variables only.

    Attributes:
        ids: ``(k,)`` int64 candidate ids, fresh and increasing.
        X: ``(k, n_vars)`` float values, columns in the order of ``problem.space.names``.
        info: ``k`` dicts of JSON data, one per candidate (as ``Candidate.info``).
    """

    ids: np.ndarray
    X: np.ndarray
    info: Sequence[Mapping[str, Any]]

    def __len__(self) -> int:
        return len(self.ids)

    def candidates(self, names: Sequence[str]) -> list[Candidate]:
        """The same candidates as :class:`Candidate` objects (``names``: the space's variable names)."""
        return [Candidate(i, dict(zip(names, row)), dict(info))
                for i, row, info in zip(self.ids.tolist(), self.X.tolist(), self.info)]


class Search(abc.ABC):
    """Base class of every search algorithm.

    Subclasses implement :meth:`ask` and :meth:`tell`, and extend
    :meth:`state_dict`/:meth:`load_state_dict` with their own state (JSON types
    and numpy arrays only; torch tensors as numpy arrays).  All randomness comes
    from ``self.rng`` (a ``numpy.random.Generator`` seeded from ``seed``) and,
    for torch-based searches, a ``torch.Generator`` seeded from it.

    Contract (checked by :func:`moopt.testing.check_search`):
        * ``ask(n)`` returns between 0 and ``n`` new candidates with fresh ids;
          an empty list while results are outstanding means "waiting", an empty
          list with nothing outstanding means "finished".
        * ``tell`` accepts results in any order, including failed ones.
        * ``load_state_dict(state_dict())`` on a fresh instance built with the
          same problem and options continues exactly as the original would.
        * Same problem, options and seed give the same candidates.
    """

    name: ClassVar[str] = "search"

    def __init__(self, problem, *, seed: Optional[int] = None):
        self.problem = problem
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._next_id = 0
        self._logs: list[dict] = []

    def log(self, kind: str, **values: Any) -> None:
        """Record a named statistic (JSON values) for the run store, e.g. per policy update.

        The engine drains these with :meth:`drain_logs` after each ``tell`` and
        persists them with the run (``RunStore`` table ``logs``), so reports can
        plot a search's own statistics (mean reward, entropy, surrogate Kendall tau).
        """
        self._logs.append({"kind": kind, **values})

    def drain_logs(self) -> list[dict]:
        """Return and clear the statistics recorded since the last call."""
        out, self._logs = self._logs, []
        return out

    def _new_candidate(self, params: Mapping[str, Any], info: Optional[Mapping] = None) -> Candidate:
        c = Candidate(self._next_id, dict(params), dict(info or {}))
        self._next_id += 1
        return c

    @abc.abstractmethod
    def ask(self, n: int = 1) -> list[Candidate]:
        """Propose up to ``n`` candidates to evaluate."""

    @abc.abstractmethod
    def tell(self, results: Sequence[Evaluation]) -> None:
        """Receive evaluated results (ok, failed or pruned) for asked candidates."""

    def ask_vectors(self, n: int) -> Optional[VectorBatch]:
        """Optional fast path: :meth:`ask` as arrays, for a space of ``Real`` variables only.

        A search that implements it returns exactly the candidates (ids, values, info) and
        makes exactly the state change that ``ask(n)`` would; the engine uses it for
        vectorized problems, where building a :class:`Candidate` per proposal would cost more
        than evaluating it.  ``None`` (the default) means "not supported here": nothing was
        asked, and the engine calls :meth:`ask` instead.
        """
        return None

    def tell_vectors(self, ids: np.ndarray, F: np.ndarray, G: Optional[np.ndarray] = None) -> None:
        """:meth:`tell` for ok results given as arrays; a search with :meth:`ask_vectors` implements it.

        It must make exactly the state change that ``tell`` makes with the same results
        (``Evaluation.success(candidate, dict(zip(objective_names, F[k])), constraints=...)``).

        Args:
            ids: ``(k,)`` ids of asked candidates.
            F: ``(k, n_obj)`` finite objective values in each objective's own direction,
                columns in the order of ``problem.objective_names``.
            G: ``(k, n_constraints)`` finite constraint values (``None`` without constraints).
        """
        raise NotImplementedError(f"{type(self).__name__} has no tell_vectors(); a search that implements "
                                  "ask_vectors() must implement tell_vectors() too.")

    def config(self) -> dict:
        """JSON options that, with the problem and seed, rebuild this search."""
        return {}

    def state_dict(self) -> dict:
        """The complete state (RNG included) as JSON types and numpy arrays."""
        return {"rng": self.rng.bit_generator.state, "next_id": self._next_id}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore a state produced by :meth:`state_dict`."""
        self.rng.bit_generator.state = state["rng"]
        self._next_id = int(state["next_id"])


def minimized_values(problem, results: Sequence[Evaluation], *, failed: str = "exclude"):
    """Objective matrix of ok results, converted to minimization.

    Args:
        problem: The problem (gives objective names and directions).
        results: Results in any status.
        failed: ``"exclude"`` drops failed/pruned results (default), ``"worst"``
            gives them ``+inf`` in every (minimized) objective.

    Returns:
        ``(F, kept)``: ``F`` of shape ``(n_kept, n_obj)`` minimized, and the
        kept results.
    """
    names = problem.objective_names
    signs = problem.signs
    rows, kept = [], []
    for r in results:
        if r.ok:
            assert r.values is not None  # an ok evaluation carries its values
            rows.append([r.values[n] for n in names])
            kept.append(r)
        elif failed == "worst":
            rows.append([math.inf] * len(names))
            kept.append(r)
    F = np.array(rows, dtype=float).reshape(-1, len(names)) * signs
    return F, kept
