"""DEAP's NSGA-II as a moopt search (registry name ``"deap-nsga2"``).

The generational loop of DEAP's ``examples/ga/nsga2.py``: an initial uniform
population, then per generation ``selTournamentDCD`` -> ``cxSimulatedBinaryBounded``
(probability ``crossover_prob``, ``eta=crossover_eta``) -> ``mutPolynomialBounded``
(``eta=mutation_eta``, ``indpb=1/n_var``) -> ``selNSGA2`` on parents plus
offspring, behind moopt's ask/tell.

Randomness: DEAP's operators draw from Python's *global* ``random`` module.
The search keeps its own ``random.Random`` state (seeded from the search's
numpy generator) and swaps it in only while DEAP operators run, restoring the
caller's global state afterwards; so the same seed gives the same run and the
caller's ``random`` stream is untouched.  (Not thread-safe: another thread
drawing from ``random`` during ``ask`` would interleave with it.)

No ``deap.creator`` classes are created: the fitness class is a local
subclass of ``deap.base.Fitness`` and individuals are a local ``list``
subclass, so nothing leaks between runs.

State (exact resume, JSON + arrays): population vectors, their fitness and
crowding distances, the offspring being evaluated, and the Python random
state -- ``O(pop_size)``, independent of the run length.

Constraints and failures: DEAP's NSGA-II has no constraint handling, so an
infeasible candidate is told as ``worst + 1 + violation`` in every objective
(``worst``: the worst feasible value seen so far; violation: the sum of
positive ``g``), and a failed one as ``worst + 1 + 1e9`` -- both rank behind
every feasible candidate.  Integer and categorical variables are rounded as in
:mod:`moopt.search.plugins.pymoo`.

Example:
    >>> from moopt.problems import get_problem
    >>> s = deap_nsga2(get_problem("zdt1"), seed=0, pop_size=8)
    >>> len(s.ask(20))
    8
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from typing import Mapping, Optional

import numpy as np

from ...problem import Problem
from ...space import Real
from ..generational import GenerationalSearch

_FAILED = 1e9


def _state_to_json(state) -> list:
    version, internal, gauss = state
    return [int(version), [int(v) for v in internal], gauss]


def _state_from_json(data) -> tuple:
    version, internal, gauss = data
    return (int(version), tuple(int(v) for v in internal), gauss)


class DeapNSGA2(GenerationalSearch):
    """DEAP's NSGA-II behind ask/tell.

    Args:
        problem: The moopt problem (vector-encodable variables).
        seed: Seed of the search.
        pop_size: Population size ``mu`` (a multiple of 4, as ``selTournamentDCD`` needs).
        crossover_prob: Probability that a pair of parents is crossed (SBX).
        crossover_eta: SBX distribution index.
        mutation_eta: Polynomial-mutation distribution index.
        mutation_indpb: Per-variable mutation probability (default ``1 / n_var``).
    """

    name = "deap-nsga2"

    def __init__(self, problem: Problem, *, seed: Optional[int] = None, pop_size: int = 100,
                 crossover_prob: float = 0.9, crossover_eta: float = 20.0, mutation_eta: float = 20.0,
                 mutation_indpb: Optional[float] = None):
        super().__init__(problem, seed=seed)
        if not problem.space.is_vector:
            raise TypeError(f"problem {problem.name!r} has token-sequence variables, which DEAP's "
                            "NSGA-II cannot search; use a moopt search instead.")
        if not isinstance(pop_size, (int, np.integer)) or pop_size < 4 or pop_size % 4:
            raise ValueError(f"deap-nsga2: pop_size must be a multiple of 4 (>= 4) for selTournamentDCD, "
                             f"got {pop_size!r}.")
        for nm, v in (("crossover_prob", crossover_prob), ("mutation_indpb", mutation_indpb)):
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"deap-nsga2: {nm} must be in [0, 1], got {v!r}.")
        from deap import base

        self.pop_size = int(pop_size)
        self.crossover_prob = float(crossover_prob)
        self.crossover_eta = float(crossover_eta)
        self.mutation_eta = float(mutation_eta)
        lo, hi = problem.space.bounds()
        self._low, self._up = lo.tolist(), hi.tolist()
        self.mutation_indpb = 1.0 / len(lo) if mutation_indpb is None else float(mutation_indpb)
        self._round = not all(isinstance(v, Real) for v in problem.space.variables)
        self._Fitness = type("MooptFitness", (base.Fitness,), {"weights": (-1.0,) * problem.n_obj})
        self._py_state = random.Random(int(self.rng.integers(2**63))).getstate()
        self._pop: Optional[list] = None
        self._cur: Optional[dict] = None
        self._worst: Optional[np.ndarray] = None
        self._generation = 0

    def config(self) -> dict:
        return {"pop_size": self.pop_size, "crossover_prob": self.crossover_prob,
                "crossover_eta": self.crossover_eta, "mutation_eta": self.mutation_eta,
                "mutation_indpb": self.mutation_indpb}

    # -- helpers ------------------------------------------------------------
    @contextmanager
    def _own_random(self):
        saved = random.getstate()
        random.setstate(self._py_state)
        try:
            yield
        finally:
            self._py_state = random.getstate()
            random.setstate(saved)

    def _individual(self, x, f=None, crowd=None):
        ind = _Individual(float(v) for v in x)
        ind.fitness = self._Fitness()
        if f is not None:
            ind.fitness.values = tuple(float(v) for v in f)
        if crowd is not None:
            ind.fitness.crowding_dist = float(crowd)
        return ind

    def _encode(self, x) -> np.ndarray:
        space = self.problem.space
        return space.to_vector(space.from_vector(x)) if self._round else np.clip(x, self._low, self._up)

    def _variation(self) -> np.ndarray:
        """Offspring vectors of the current population (DEAP's generational step)."""
        from deap import tools

        with self._own_random():
            if self._pop is None:
                X = np.array([[random.uniform(a, b) for a, b in zip(self._low, self._up)]
                              for _ in range(self.pop_size)])
            else:
                offspring = tools.selTournamentDCD(self._pop, len(self._pop))
                offspring = [self._individual(ind) for ind in offspring]  # clones
                for ind1, ind2 in zip(offspring[::2], offspring[1::2]):
                    if random.random() <= self.crossover_prob:
                        tools.cxSimulatedBinaryBounded(ind1, ind2, eta=self.crossover_eta,
                                                       low=self._low, up=self._up)
                    tools.mutPolynomialBounded(ind1, eta=self.mutation_eta, low=self._low, up=self._up,
                                               indpb=self.mutation_indpb)
                    tools.mutPolynomialBounded(ind2, eta=self.mutation_eta, low=self._low, up=self._up,
                                               indpb=self.mutation_indpb)
                X = np.array([list(ind) for ind in offspring], dtype=float)
        return np.array([self._encode(x) for x in X])

    def _generation_index(self) -> int:
        return self._generation

    def _start_generation(self) -> None:
        self._open_generation(self._variation())

    def _finish_generation(self) -> None:
        from deap import tools

        cur = self._cur
        assert cur is not None, "no open generation to finish"
        F = cur["F"].copy()
        cv = np.maximum(np.nan_to_num(cur["G"], nan=0.0), 0.0).sum(axis=1)  # total violation (failed: unused)
        feasible = ~cur["failed"] & (cv <= 0)
        if feasible.any():
            w = F[feasible].max(axis=0)
            self._worst = w if self._worst is None else np.maximum(self._worst, w)
        base_ = self._worst if self._worst is not None else np.zeros(F.shape[1])
        bad = ~feasible
        pen = np.where(cur["failed"], _FAILED, cv)
        F[bad] = base_ + 1.0 + pen[bad, None]
        offspring = [self._individual(x, f) for x, f in zip(cur["X"], F)]
        pool = offspring if self._pop is None else self._pop + offspring
        self._pop = tools.selNSGA2(pool, self.pop_size)  # deterministic; assigns crowding distances
        self._cur = None
        self._generation += 1

    # -- Search interface (ask/tell: GenerationalSearch) ------------------------
    def state_dict(self) -> dict:
        st = super().state_dict()
        st["py_random"] = _state_to_json(self._py_state)
        st["generation"] = self._generation
        st["worst"] = None if self._worst is None else self._worst.copy()
        if self._pop is None:
            st["pop"] = None
        else:
            st["pop"] = {"X": np.array([list(ind) for ind in self._pop], dtype=float),
                         "F": np.array([ind.fitness.values for ind in self._pop], dtype=float),
                         "crowd": np.array([ind.fitness.crowding_dist for ind in self._pop], dtype=float)}
        cur, gen = self._cur, self._generation_state()  # gen is None exactly when cur is
        st["current"] = None if cur is None or gen is None else {"X": cur["X"].copy(), **gen}
        return st

    def load_state_dict(self, state: Mapping) -> None:
        super().load_state_dict(state)
        self._py_state = _state_from_json(state["py_random"])
        self._generation = int(state["generation"])
        self._worst = None if state["worst"] is None else np.asarray(state["worst"], dtype=float)
        pop = state["pop"]
        self._pop = None if pop is None else [
            self._individual(x, f, c) for x, f, c in zip(np.asarray(pop["X"]), np.asarray(pop["F"]),
                                                         np.asarray(pop["crowd"]))]
        cur = state["current"]
        self._cur = None
        if cur is not None:
            self._open_generation(np.asarray(cur["X"], dtype=float))
            self._load_generation_state(cur)


class _Individual(list):
    """A DEAP individual without ``deap.creator``: a list with a ``fitness`` attribute."""

    fitness = None


def deap_nsga2(problem: Problem, *, seed: Optional[int] = None, pop_size: int = 100, **options) -> DeapNSGA2:
    """Registry factory of :class:`DeapNSGA2` (``"deap-nsga2"``)."""
    return DeapNSGA2(problem, seed=seed, pop_size=pop_size, **options)
