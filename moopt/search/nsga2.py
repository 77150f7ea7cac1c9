"""NSGA-II on arrays: pymoo's NSGA-II, generation for generation, without its object layer.

Registry name ``"nsga2"`` (pymoo's own class behind the ask/tell wrapper stays available as
``"pymoo-nsga2"``, see :mod:`moopt.search.plugins.pymoo`).  The algorithm is Deb et al.'s NSGA-II
with the operators and defaults of pymoo 0.6.2's ``NSGA2``:

* initial population: ``pop_size`` uniform samples in the bounds (duplicates removed);
* mating: binary tournaments (constraint violation first, then Pareto dominance, then the larger
  crowding distance, ties at random), SBX crossover (per mating probability ``crossover_prob``
  0.9, ``eta`` 15, each variable crossed with probability 0.5), polynomial mutation (``eta`` 20,
  per variable probability ``mutation_prob``, default ``1/n_var``, applied to 90 % of the
  offspring); offspring equal to a parent, a population member or an earlier offspring are
  dropped and mating repeats until ``n_offsprings`` are made (at most 100 rounds);
* survival: feasible candidates by non-dominated rank, the front that does not fit whole by
  crowding distance (ties at random), then infeasible ones by least total violation
  ``sum(max(g, 0))``.

Every random draw is made in the order and shape pymoo makes it, from one
``numpy.random.Generator`` seeded like pymoo's (``pymoo_seed``, drawn from the search's own
generator), so a run proposes exactly the candidates the wrapped pymoo ``NSGA2`` proposes with the
same seed (``tests/core/test_nsga2.py`` checks this generation by generation).  What differs is the
cost: the population lives in arrays (``X``, minimized ``F``, violation, crowding) instead of
pymoo's ``Individual`` objects, which makes a generation about four times cheaper -- it matters on
problems that cost microseconds to evaluate (``docs/bench/engine.md``).

Failed (or pruned) evaluations are told as the worst point seen so far plus one in every
objective and, with constraints, a violation of ``1e9`` each, as in the pymoo wrapper.  Integer and
categorical variables are searched on their vector encoding and rounded when a candidate is made.

State (exact resume, JSON + arrays): the two generators, the population and the open generation
(its vectors are remade on load from the operators' generator state before it, checked by CRC):
``O(pop_size)``, independent of the run's length.  A checkpoint written by the pymoo wrapper under
the same name (moopt before this module) is resumed by replaying its generations here.

Example:
    >>> from moopt.problems import get_problem
    >>> s = nsga2(get_problem("zdt1"), seed=0, pop_size=8)
    >>> len(s.ask(100))        # one generation at a time
    8
"""

from __future__ import annotations

import math
import zlib
from typing import Mapping, Optional

import numpy as np

from .. import _kernels
from ..errors import ConfigError
from ..pareto import total_violation
from ..problem import Problem
from ..space import Real
from .generational import GenerationalSearch

_FAILED_G = 1e9
_OPTIONS = ("pop_size", "n_offsprings", "eliminate_duplicates", "crossover_eta", "crossover_prob",
            "mutation_eta", "mutation_prob")
_DUPLICATE_EPS = 1e-16  # Euclidean distance at or below which two decision vectors are the same
_MAX_MATING_ROUNDS = 100


def crowding(F: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of the rows of ``F`` (n, m), as pymoo computes it.

    Per objective, the gaps to the previous and the next point (sorted stably) divided by the
    objective's range (a zero range adds nothing), the extremes ``inf``; summed over objectives
    and divided by ``m``.  Sets of at most two points are all ``inf``.  The arithmetic is pymoo's
    (each gap divided separately), so near-ties sort as they do there; values are ``1/m`` of
    :func:`moopt.crowding_distance`'s.

    Example:
        >>> crowding(np.array([[0.0, 3.0], [1.0, 1.0], [3.0, 0.0]])).tolist()
        [inf, 1.0, inf]
    """
    n, m = F.shape
    if n <= 2:
        return np.full(n, np.inf)
    order = np.argsort(F, axis=0, kind="mergesort")
    S = np.take_along_axis(F, order, axis=0)
    span = S.max(axis=0) - S.min(axis=0)
    span[span == 0] = np.nan
    edges = np.full((1, m), np.inf)
    gaps = np.diff(np.concatenate([-edges, S, edges]), axis=0)  # (n + 1, m): gap before each, then after the last
    with np.errstate(invalid="ignore"):
        before, after = gaps[:-1] / span, gaps[1:] / span
    before[np.isnan(before)] = 0.0
    after[np.isnan(after)] = 0.0
    rank = np.argsort(order, axis=0)
    cols = np.arange(m)
    return np.sum(before[rank, cols] + after[rank, cols], axis=1) / m


def _duplicates(X: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Rows of ``X`` within ``_DUPLICATE_EPS`` (Euclidean) of an earlier row of ``X`` or of a row of ``others``.

    pymoo drops the rows that repeat an earlier row, then those that repeat the population, then those
    that repeat the offspring made so far; a row goes in each case exactly when it is near a row of
    either kind, so one distance matrix against ``X`` and ``others`` stacked gives the same rows.
    """
    from scipy.spatial.distance import cdist

    n = len(X)
    near = cdist(X, np.vstack([X, others]) if len(others) else X) <= _DUPLICATE_EPS  # NaN compares False
    near[:, :n][np.triu_indices(n)] = False  # a row is not a repeat of itself or of a later row
    return near.any(axis=1)


class NSGA2Search(GenerationalSearch):
    """NSGA-II (see the module docs): pymoo's algorithm and random stream on numpy arrays.

    Args:
        problem: The moopt problem (vector-encodable variables).
        seed: Seed; the operators' seed is drawn from the search's generator.
        pop_size: Population size (default 100).
        n_offsprings: Offspring per generation (default ``pop_size``).
        eliminate_duplicates: Drop offspring equal to a population member or each other (default true).
        crossover_eta: SBX distribution index (15).
        crossover_prob: Probability that a pair of parents is crossed (0.9).
        mutation_eta: Polynomial mutation distribution index (20).
        mutation_prob: Probability that a variable is mutated (``1/n_var``).

    Example:
        >>> from moopt.problems import get_problem
        >>> s = NSGA2Search(get_problem("zdt1"), seed=0, pop_size=8)
        >>> len(s.ask(3)), s.ask(3)[0].info["generation"]
        (3, 0)
    """

    name = "nsga2"

    def __init__(self, problem: Problem, *, seed: Optional[int] = None, pop_size: int = 100,
                 n_offsprings: Optional[int] = None, eliminate_duplicates: bool = True,
                 crossover_eta: float = 15.0, crossover_prob: float = 0.9, mutation_eta: float = 20.0,
                 mutation_prob: Optional[float] = None):
        super().__init__(problem, seed=seed)
        if not problem.space.is_vector:
            raise TypeError(
                f"problem {problem.name!r} has token-sequence variables, which NSGA-II cannot search; "
                "use a moopt search (random, reinforce, progressive, pls) instead."
            )
        self.options: dict = {"pop_size": pop_size}
        for key, value, default in (("n_offsprings", n_offsprings, None),
                                    ("eliminate_duplicates", eliminate_duplicates, True),
                                    ("crossover_eta", crossover_eta, 15.0), ("crossover_prob", crossover_prob, 0.9),
                                    ("mutation_eta", mutation_eta, 20.0), ("mutation_prob", mutation_prob, None)):
            if value != default:
                self.options[key] = value
        self.pop_size = self._count_option("pop_size", pop_size)
        self.n_offsprings = self._count_option("n_offsprings", n_offsprings if n_offsprings is not None else pop_size)
        self.eliminate_duplicates = bool(eliminate_duplicates)
        self.crossover_eta = self._positive("crossover_eta", crossover_eta)
        self.crossover_prob = self._probability("crossover_prob", crossover_prob)
        self.mutation_eta = self._positive("mutation_eta", mutation_eta)
        self.xl, self.xu = (np.asarray(b, dtype=float) for b in problem.space.bounds())
        n_var = len(self.xl)
        self._fixed = self.xl == self.xu  # variables SBX and PM leave alone
        self._any_fixed = bool(self._fixed.any())
        self.mutation_prob = (min(0.5, 1 / n_var) if mutation_prob is None
                              else self._probability("mutation_prob", mutation_prob))
        self._reals = all(isinstance(v, Real) for v in problem.space.variables)
        self._constrained = bool(problem.constraint_names)
        self._pymoo_seed = int(self.rng.integers(2**31 - 1))
        self._reset()

    # -- options --------------------------------------------------------------------------------
    @staticmethod
    def _count_option(name: str, value) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"nsga2: {name} must be a whole number >= 1, got {value!r}.")
        return int(value)

    @staticmethod
    def _positive(name: str, value) -> float:
        v = float(value)
        if not math.isfinite(v) or v <= 0:
            raise ConfigError(f"nsga2: {name} must be a positive number, got {value!r}.")
        return v

    @staticmethod
    def _probability(name: str, value) -> float:
        v = float(value)
        if not 0.0 <= v <= 1.0:
            raise ConfigError(f"nsga2: {name} must be a probability in [0, 1], got {value!r}.")
        return v

    def config(self) -> dict:
        return dict(self.options)

    # -- the population -------------------------------------------------------------------------
    def _reset(self) -> None:
        self._rs = np.random.default_rng(self._pymoo_seed)  # every operator draws from this one
        n_var, m = len(self.xl), self.problem.n_obj
        self._X = np.zeros((0, n_var))
        self._F = np.zeros((0, m))
        self._cv = np.zeros(0)
        self._cd = np.zeros(0)
        self._n_gen = 0
        self._worst: Optional[np.ndarray] = None
        self._cur = None

    def _generation_index(self) -> int:
        return self._n_gen

    def _round(self, X: np.ndarray) -> np.ndarray:
        """Integers and categoricals at their nearest valid value (reals as they are)."""
        if self._reals:
            return X
        space = self.problem.space
        return np.array([space.to_vector(space.from_vector(x)) for x in X], dtype=float).reshape(X.shape)

    def _start_generation(self) -> None:
        before = self._rs.bit_generator.state  # a checkpoint remakes the generation from here
        if self._n_gen == 0:
            X = self.xl + (self.xu - self.xl) * self._rs.random((self.pop_size, len(self.xl)))
            if self.eliminate_duplicates:
                X = X[~_duplicates(X, X[:0])]
        else:
            X = self._offspring()
        X = self._round(X)
        self._open_generation(X, crc=zlib.crc32(X.tobytes()), rng_before=before)

    def _finish_generation(self) -> None:
        cur = self._cur
        assert cur is not None, "no open generation to finish"
        F, G, failed = cur["F"].copy(), cur["G"].copy(), cur["failed"]
        ok = ~failed
        if ok.any():
            w = F[ok].max(axis=0)
            self._worst = w if self._worst is None else np.maximum(self._worst, w)
        if failed.any():
            F[failed] = (self._worst if self._worst is not None else np.zeros(F.shape[1])) + 1.0
            if G.shape[1]:
                G[failed] = _FAILED_G
        X, cv = cur["X"], total_violation(G)
        if self._n_gen > 0:  # parents and offspring compete
            X, F, cv = np.vstack([self._X, X]), np.vstack([self._F, F]), np.concatenate([self._cv, cv])
            n_survive = self.pop_size
        else:  # the initial population is only ranked
            n_survive = len(X)
        keep, cd = self._survival(F, cv, n_survive)
        self._X, self._F, self._cv, self._cd = X[keep], F[keep], cv[keep], cd[keep]
        self._n_gen += 1
        self._cur = None

    # -- survival -------------------------------------------------------------------------------
    def _survival(self, F: np.ndarray, cv: np.ndarray, n_survive: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the survivors in order, and the crowding distance of every row (``nan`` where unset)."""
        n_survive = min(n_survive, len(F))
        cd = np.full(len(F), np.nan)
        if not self._constrained:
            return self._rank_and_crowding(np.arange(len(F)), F, n_survive, cd), cd
        feasible = np.flatnonzero(cv <= 0.0)
        infeasible = np.flatnonzero(cv > 0.0)
        infeasible = infeasible[np.argsort(cv[infeasible])]
        keep = (self._rank_and_crowding(feasible, F, min(len(feasible), n_survive), cd)
                if len(feasible) else np.zeros(0, dtype=np.int64))
        rest = n_survive - len(keep)
        return (np.concatenate([keep, infeasible[:rest]]) if rest > 0 else keep), cd

    def _rank_and_crowding(self, rows: np.ndarray, F: np.ndarray, n_survive: int, cd: np.ndarray) -> np.ndarray:
        """Survivors among ``rows`` of ``F``: whole fronts, then the split front by crowding (sets ``cd``)."""
        Fr = F[rows]
        ranks = _kernels.nd_ranks(Fr)
        out: list[np.ndarray] = []
        taken = 0
        for r in range(int(ranks.max()) + 1 if len(ranks) else 0):
            front = np.flatnonzero(ranks == r)
            d = crowding(Fr[front])
            cd[rows[front]] = d
            if taken + len(front) > n_survive:
                n_remove = taken + len(front) - n_survive
                perm = self._rs.permutation(len(front))
                order = np.flip(perm[np.argsort(d[perm], kind="quicksort")])
                front = front[order[:-n_remove]]
            out.append(rows[front])
            taken += len(front)
            if taken >= n_survive:
                break
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    # -- mating ---------------------------------------------------------------------------------
    def _offspring(self) -> np.ndarray:
        """The next generation's decision vectors (``n_offsprings`` rows, fewer if duplicates persist)."""
        made: list[np.ndarray] = []
        n_made = 0
        for _ in range(_MAX_MATING_ROUNDS):
            n_left = self.n_offsprings - n_made
            if n_left <= 0:
                break
            parents = self._tournament(math.ceil(n_left / 2))
            X = self._mutate(self._crossover(parents))
            if self.eliminate_duplicates and len(X):
                X = X[~_duplicates(X, np.vstack([self._X, *made]))]
            X = X[:n_left]
            made.append(X)
            n_made += len(X)
        return np.vstack(made) if made else np.zeros((0, len(self.xl)))

    def _tournament(self, n_matings: int) -> np.ndarray:
        """Parent indices ``(n_matings, 2)`` from binary tournaments on the population."""
        rs, n = self._rs, len(self._X)
        n_draws = n_matings * 4
        P = np.concatenate([rs.permutation(n) for _ in range(math.ceil(n_draws / n))])[:n_draws].reshape(-1, 2)
        a, b = P[:, 0], P[:, 1]
        cva, cvb = self._cv[a], self._cv[b]
        infeasible = (cva > 0.0) | (cvb > 0.0)
        Fa, Fb = self._F[a], self._F[b]
        a_dom = np.all(Fa <= Fb, axis=1) & np.any(Fa < Fb, axis=1)
        b_dom = np.all(Fb <= Fa, axis=1) & np.any(Fb < Fa, axis=1)
        cda, cdb = self._cd[a], self._cd[b]
        win = np.where(infeasible, np.where(cva < cvb, a, np.where(cvb < cva, b, -1)),
                       np.where(a_dom, a, np.where(b_dom, b, np.where(cda > cdb, a, np.where(cdb > cda, b, -1)))))
        for i in np.flatnonzero(win < 0):  # ties: a coin per tournament, in order
            win[i] = rs.choice([a[i], b[i]])
        return win.reshape(n_matings, 2)

    def _crossover(self, parents: np.ndarray) -> np.ndarray:
        """SBX on each pair of parents: ``(2 * n_matings, n_var)``, first children then second children."""
        rs, xl, xu = self._rs, self.xl, self.xu
        X = np.stack([self._X[parents[:, 0]], self._X[parents[:, 1]]])  # (2, n_matings, n_var)
        n_matings, n_var = X.shape[1], X.shape[2]
        out = X.copy()
        mate = np.asarray(rs.random(n_matings)) < self.crossover_prob
        if mate.any():
            rs.random((n_matings, 1))  # pymoo's draw for swapping children (always swaps at its default)
            cross = rs.random((n_matings, n_var)) < 0.5
            cross[np.abs(X[0] - X[1]) <= 1.0e-14] = False
            if self._any_fixed:
                cross[:, self._fixed] = False
            rows, cols = np.nonzero(cross)  # row-major: the order of boolean indexing
            p1, p2 = X[0, rows, cols], X[1, rows, cols]
            low_first = p1 < p2
            y1, y2 = np.where(low_first, p1, p2), np.where(low_first, p2, p1)
            lo, hi = xl[cols], xu[cols]
            e1 = self.crossover_eta + 1.0
            u = rs.random(len(p1))
            spread = y2 - y1
            total = y1 + y2
            with np.errstate(invalid="ignore", divide="ignore"):
                alpha = 2.0 - np.power(1.0 + 2.0 * (y1 - lo) / spread, -e1)
                beta1 = np.power(np.where(u <= 1.0 / alpha, u * alpha, 1.0 / (2.0 - u * alpha)), 1.0 / e1)
                alpha = 2.0 - np.power(1.0 + 2.0 * (hi - y2) / spread, -e1)
                beta2 = np.power(np.where(u <= 1.0 / alpha, u * alpha, 1.0 / (2.0 - u * alpha)), 1.0 / e1)
            c1 = 0.5 * (total - beta1 * spread)
            c2 = 0.5 * (total + beta2 * spread)
            swap = np.bitwise_xor(rs.random(len(p1)) < 0.5, p1 > p2) == low_first  # child 1 gets c2
            Q = X.copy()
            Q[0, rows, cols] = np.where(swap, c2, c1)
            Q[1, rows, cols] = np.where(swap, c1, c2)
            np.clip(Q, xl, xu, out=Q)
            out[:, mate] = Q[:, mate]
        return out.reshape(-1, n_var)

    def _mutate(self, X: np.ndarray) -> np.ndarray:
        """Polynomial mutation, kept for each row with probability 0.9."""
        rs, xl, xu = self._rs, self.xl, self.xu
        n, n_var = X.shape
        hit = rs.random((n, n_var)) < self.mutation_prob
        if self._any_fixed:
            hit[:, self._fixed] = False
        rows, cols = np.nonzero(hit)
        lo, hi = xl[cols], xu[cols]
        x = X[rows, cols]
        width = hi - lo
        d1, d2 = (x - lo) / width, (hi - x) / width
        power = 1.0 / (self.mutation_eta + 1.0)
        u = rs.random(x.shape)
        with np.errstate(invalid="ignore"):
            down = np.power(2.0 * u + (1.0 - 2.0 * u) * np.power(1.0 - d1, self.mutation_eta + 1.0), power) - 1.0
            up = 1.0 - np.power(2.0 * (1.0 - u) + 2.0 * (u - 0.5) * np.power(1.0 - d2, self.mutation_eta + 1.0), power)
        y = np.clip(x + np.where(u <= 0.5, down, up) * width, lo, hi)
        Y = X.copy()
        Y[rows, cols] = y
        keep = np.asarray(rs.random(n)) <= 0.9
        return np.where(keep[:, None], Y, X)

    # -- state ----------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        st = super().state_dict()
        st.update({
            "pymoo_seed": self._pymoo_seed, "operator_rng": self._rs.bit_generator.state,
            "n_gen": self._n_gen, "pop_X": self._X, "pop_F": self._F, "pop_cv": self._cv, "pop_cd": self._cd,
            "worst": None if self._worst is None else self._worst.tolist(), "current": None,
        })
        cur, gen = self._cur, self._generation_state()
        if cur is not None and gen is not None:  # its vectors are remade from the generator state before it
            st["current"] = {"rng_before": cur["rng_before"], "crc": int(cur["crc"]), **gen}
        return st

    def load_state_dict(self, state: Mapping) -> None:
        self._pymoo_seed = int(state["pymoo_seed"])
        self._reset()
        if "sizes" in state:  # a checkpoint of the pymoo wrapper: replay its generations
            self._replay(state, "nsga2")
        else:
            self._rs.bit_generator.state = state["operator_rng"]
            self._n_gen = int(state["n_gen"])
            self._X = np.asarray(state["pop_X"], dtype=float).reshape(-1, len(self.xl))
            self._F = np.asarray(state["pop_F"], dtype=float).reshape(-1, self.problem.n_obj)
            self._cv = np.asarray(state["pop_cv"], dtype=float).reshape(-1)
            self._cd = np.asarray(state["pop_cd"], dtype=float).reshape(-1)
            self._worst = None if state["worst"] is None else np.asarray(state["worst"], dtype=float)
            cur = state.get("current")
            if cur is not None:
                self._rs.bit_generator.state = cur["rng_before"]
                self._start_generation()
                assert self._cur is not None
                if int(self._cur["crc"]) != int(cur["crc"]):
                    raise ValueError("the nsga2 state does not remake its open generation: it was made with another "
                                     "problem, options or moopt version.")
                self._rs.bit_generator.state = state["operator_rng"]
                self._load_generation_state(cur)
        super().load_state_dict(state)


def nsga2(problem: Problem, *, seed: Optional[int] = None, pop_size: int = 100, **options) -> NSGA2Search:
    """NSGA-II on arrays (SBX + polynomial mutation, rank and crowding survival); see the module docs.

    Example:
        >>> from moopt.problems import get_problem
        >>> nsga2(get_problem("zdt1"), seed=0, pop_size=20).config()["pop_size"]
        20
    """
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ConfigError(f"nsga2 does not take options {unknown}; it accepts {list(_OPTIONS)}.")
    return NSGA2Search(problem, seed=seed, pop_size=pop_size, **options)
