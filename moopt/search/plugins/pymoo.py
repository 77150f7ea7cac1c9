"""pymoo algorithms as moopt searches (``from_pymoo``, for pymoo problems, is in :mod:`moopt.interop`).

:class:`PymooSearch` drives a pymoo algorithm through its ask-and-tell
interface (``algorithm.setup``, ``algorithm.ask``, ``algorithm.tell``) so that
moopt's engine runs it: every evaluation persisted, resumable, with progress,
on any evaluator.  The registry names ``"nsga2"``, ``"nsga3"``, ``"moead"`` and
``"smsemoa"`` map to the factories below.

How it works:

* pymoo asks for a *generation* (a population of offspring; one individual at
  a time for MOEA/D).  ``ask(n)`` hands out up to ``n`` of its members and
  returns ``[]`` ("waiting") once all are out; when every member has been told
  the generation goes back to pymoo (``tell``) and the next one is asked.
* Randomness: pymoo 0.6.2 threads one ``numpy.random.Generator``
  (``algorithm.random_state = default_rng(seed)``) through its operators and
  never reads numpy's global state, so the same seed gives the same run
  without touching global state.  The pymoo seed is drawn from the search's
  own generator (i.e. derived from ``seed``).
* Exact resume without pickle: the state is the pymoo seed plus every told
  objective/constraint row (and a CRC of each generation's decision matrix);
  :meth:`PymooSearch.load_state_dict` rebuilds the algorithm and replays the
  generations deterministically, checking each CRC (a mismatch raises instead
  of silently diverging).  The state grows with the run (``8 * (m + k)`` bytes
  per evaluation).
* Failed (or pruned) evaluations are told to pymoo as the worst point seen so
  far plus one in every objective and, with constraints, a violation of
  ``1e9`` -- they never enter a front.
* Variables: the problem's :class:`~moopt.Space` vector encoding
  (``Space.bounds``/``to_vector``/``from_vector``): pymoo works on reals;
  integers and categoricals (by index) are rounded to the nearest valid value
  when a candidate is made, and the rounded vector is what pymoo is told.
  Token sequences have no vector encoding and are rejected.

Example:
    >>> import moopt
    >>> from moopt.problems import get_problem
    >>> res = moopt.optimize(get_problem("zdt1"), "nsga2", budget=200, seed=1,
    ...                      pop_size=20)                      # doctest: +SKIP
"""

from __future__ import annotations

import zlib
from typing import Mapping, Optional

import numpy as np

from ...errors import ConfigError
from ...problem import Problem
from ...space import Real
from ..generational import GenerationalSearch

_FAILED_G = 1e9

# algorithm -> options it accepts (besides the operator options in _OPERATOR_OPTIONS)
_OPTIONS = {
    "nsga2": ("pop_size", "n_offsprings", "eliminate_duplicates"),
    "nsga3": ("pop_size", "n_offsprings", "eliminate_duplicates", "n_partitions"),
    "smsemoa": ("pop_size", "n_offsprings", "eliminate_duplicates"),
    "moead": ("n_partitions", "n_neighbors", "prob_neighbor_mating", "decomposition"),
}
_OPERATOR_OPTIONS = ("crossover_eta", "crossover_prob", "mutation_eta", "mutation_prob")


def _pymoo_problem(problem: Problem):
    """A pymoo ``Problem`` with the moopt problem's sizes and bounds (never evaluated)."""
    from pymoo.core.problem import Problem as PymooProblem

    if not problem.space.is_vector:
        raise TypeError(
            f"problem {problem.name!r} has token-sequence variables, which pymoo cannot search; "
            "use a moopt search (random, reinforce, progressive) instead."
        )
    xl, xu = problem.space.bounds()

    class _Shape(PymooProblem):
        def _evaluate(self, x, out, *args, **kwargs):  # pragma: no cover - never called
            raise RuntimeError("moopt evaluates candidates itself; this pymoo problem only carries shapes.")

    return _Shape(n_var=len(xl), n_obj=problem.n_obj, n_ieq_constr=len(problem.constraints), xl=xl, xu=xu)


def _ref_dirs(n_obj: int, n_partitions: Optional[int], target: int):
    from pymoo.util.ref_dirs import get_reference_directions

    if n_partitions is None:  # the most partitions with at most `target` directions
        from math import comb

        n_partitions = 1
        while comb(n_partitions + 1 + n_obj - 1, n_obj - 1) <= target:
            n_partitions += 1
    return get_reference_directions("das-dennis", n_obj, n_partitions=int(n_partitions))


def _operators(options: dict) -> dict:
    """SBX/PM operators from numeric options; pymoo's defaults for whatever is not given."""
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM

    kw = {}
    cx = {k: float(options.pop(f"crossover_{k}")) for k in ("eta", "prob") if f"crossover_{k}" in options}
    if cx:
        kw["crossover"] = SBX(**cx)
    mut = {}
    if "mutation_eta" in options:
        mut["eta"] = float(options.pop("mutation_eta"))
    if "mutation_prob" in options:  # per-variable probability (pymoo's prob_var; default 1/n_var)
        mut["prob_var"] = float(options.pop("mutation_prob"))
    if mut:
        kw["mutation"] = PM(**mut)
    return kw


def _make_algorithm(name: str, problem: Problem, options: Mapping):
    options = dict(options)
    accepted = _OPTIONS[name] + _OPERATOR_OPTIONS
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(f"pymoo {name} does not take options {unknown}; it accepts {list(accepted)}.")
    ops = _operators(options)
    m = problem.n_obj
    if name == "nsga2":
        from pymoo.algorithms.moo.nsga2 import NSGA2

        return NSGA2(**options, **ops)
    if name == "smsemoa":
        from pymoo.algorithms.moo.sms import SMSEMOA

        return SMSEMOA(**options, **ops)
    if name == "nsga3":
        from pymoo.algorithms.moo.nsga3 import NSGA3

        pop_size = options.pop("pop_size", None)
        ref_dirs = _ref_dirs(m, options.pop("n_partitions", None), pop_size or 100)
        return NSGA3(ref_dirs, pop_size=pop_size, **options, **ops)
    if name == "moead":
        from pymoo.algorithms.moo.moead import MOEAD

        if problem.constraints:
            raise ConfigError(
                f"pymoo's MOEA/D does not handle constraints and {problem.name!r} has "
                f"{len(problem.constraints)}; use nsga2, nsga3 or smsemoa."
            )
        decomposition = options.pop("decomposition", None)
        if decomposition is not None:
            from pymoo.decomposition.pbi import PBI
            from pymoo.decomposition.tchebicheff import Tchebicheff

            table = {"tchebicheff": Tchebicheff, "pbi": PBI}
            if decomposition not in table:
                raise ConfigError(f"moead: decomposition {decomposition!r} is unknown; use one of {sorted(table)}.")
            options["decomposition"] = table[decomposition]()
        ref_dirs = _ref_dirs(m, options.pop("n_partitions", None), 100)
        return MOEAD(ref_dirs, **options, **ops)
    raise ConfigError(f"unknown pymoo algorithm {name!r}; choose one of {sorted(_OPTIONS)}.")


class PymooSearch(GenerationalSearch):
    """A pymoo algorithm behind moopt's ask/tell interface.

    Args:
        problem: The moopt problem (vector-encodable variables).
        seed: Seed; the pymoo seed is drawn from the search's generator.
        algorithm: ``"nsga2"``, ``"nsga3"``, ``"moead"`` or ``"smsemoa"``.
        **options: The algorithm's options (JSON values): ``pop_size``,
            ``n_offsprings``, ``eliminate_duplicates``, ``n_partitions``
            (NSGA-III/MOEA/D reference directions), ``n_neighbors``,
            ``prob_neighbor_mating``, ``decomposition`` (MOEA/D), and SBX/PM
            parameters ``crossover_eta``, ``crossover_prob``, ``mutation_eta`` and
            ``mutation_prob`` (per variable; default ``1/n_var``); pymoo's defaults
            for what is not given.

    Example:
        >>> from moopt.problems import get_problem
        >>> s = PymooSearch(get_problem("zdt1"), seed=0, algorithm="nsga2", pop_size=8)
        >>> len(s.ask(100))        # one generation at a time
        8
    """

    name = "pymoo"

    def __init__(self, problem: Problem, *, seed: Optional[int] = None, algorithm: str = "nsga2", **options):
        super().__init__(problem, seed=seed)
        if algorithm not in _OPTIONS:
            raise ConfigError(f"unknown pymoo algorithm {algorithm!r}; choose one of {sorted(_OPTIONS)}.")
        self.algorithm = algorithm
        self.options = dict(options)
        self._pymoo_seed = int(self.rng.integers(2**31 - 1))
        self._cnames = problem.constraint_names
        self._build()

    # -- pymoo plumbing -----------------------------------------------------
    def _build(self) -> None:
        from pymoo.core.termination import NoTermination

        self._pp = _pymoo_problem(self.problem)
        self._alg = _make_algorithm(self.algorithm, self.problem, self.options)
        self._alg.setup(self._pp, seed=self._pymoo_seed, termination=NoTermination(), verbose=False)
        self._sizes: list[int] = []
        self._crcs: list[int] = []
        self._F: list[np.ndarray] = []
        self._G: list[np.ndarray] = []
        self._fail: list[np.ndarray] = []
        self._worst: Optional[np.ndarray] = None
        self._cur: Optional[dict] = None

    def _pymoo_ask(self):
        from pymoo.core.individual import Individual
        from pymoo.core.population import Population

        infills = self._alg.ask()
        single = isinstance(infills, Individual)
        pop = Population.create(infills) if single else infills
        X = np.atleast_2d(np.asarray(pop.get("X"), dtype=float))
        space = self.problem.space
        if not all(isinstance(v, Real) for v in space.variables):  # round integers/categoricals
            X = np.array([space.to_vector(space.from_vector(x)) for x in X])
            pop.set("X", X)
        return infills, pop, X

    def _pymoo_tell(self, infills, pop, F: np.ndarray, G: Optional[np.ndarray]) -> None:
        from pymoo.core.evaluator import Evaluator
        from pymoo.problems.static import StaticProblem

        kw = {"F": F}
        if G is not None:
            kw["G"] = G
        Evaluator().eval(StaticProblem(self._pp, **kw), pop)
        self._alg.tell(infills=infills)

    def _generation_index(self) -> int:
        return len(self._sizes)

    def _start_generation(self) -> None:
        infills, pop, X = self._pymoo_ask()
        self._open_generation(X, infills=infills, pop=pop, crc=zlib.crc32(X.tobytes()))

    def _finish_generation(self) -> None:
        cur = self._cur
        assert cur is not None, "no open generation to finish"
        F, G = cur["F"].copy(), cur["G"].copy()
        ok = ~cur["failed"]
        if ok.any():
            w = F[ok].max(axis=0)
            self._worst = w if self._worst is None else np.maximum(self._worst, w)
        if cur["failed"].any():
            base = self._worst if self._worst is not None else np.zeros(F.shape[1])
            F[cur["failed"]] = base + 1.0
            if G.shape[1]:
                G[cur["failed"]] = _FAILED_G
        self._pymoo_tell(cur["infills"], cur["pop"], F, G if G.shape[1] else None)
        self._sizes.append(len(F))
        self._crcs.append(int(cur["crc"]))
        self._F.append(F)
        self._G.append(G)
        self._fail.append(cur["failed"].copy())
        self._cur = None

    # -- Search interface (ask/tell: GenerationalSearch) ----------------------
    def config(self) -> dict:
        return {"algorithm": self.algorithm, **self.options}

    def state_dict(self) -> dict:
        st = super().state_dict()
        m, k = self.problem.n_obj, len(self._cnames)
        if len(self._F) > 1:  # keep the history in one block (cheap to encode next time)
            self._F, self._G = [np.vstack(self._F)], [np.vstack(self._G)]
            self._fail = [np.concatenate(self._fail)]
        st.update({
            "pymoo_seed": self._pymoo_seed,
            "sizes": list(self._sizes),
            "crcs": list(self._crcs),
            "F": self._F[0] if self._F else np.zeros((0, m)),
            "G": self._G[0] if self._G else np.zeros((0, k)),
            "failed": self._fail[0] if self._fail else np.zeros(0, dtype=bool),
            "current": None,
        })
        cur, gen = self._cur, self._generation_state()  # gen is None exactly when cur is
        if cur is not None and gen is not None:
            st["current"] = {"crc": int(cur["crc"]), **gen}
        return st

    def load_state_dict(self, state: Mapping) -> None:
        self._pymoo_seed = int(state["pymoo_seed"])
        self._build()
        self._replay(state, f"pymoo {self.algorithm}")
        super().load_state_dict(state)


# ---------------------------------------------------------------- registry factories
def nsga2(problem: Problem, *, seed: Optional[int] = None, pop_size: int = 100, **options) -> PymooSearch:
    """pymoo's NSGA-II (SBX + polynomial mutation, rank and crowding survival).

    Example:
        >>> from moopt.problems import get_problem
        >>> nsga2(get_problem("zdt1"), seed=0, pop_size=20).config()["pop_size"]
        20
    """
    return PymooSearch(problem, seed=seed, algorithm="nsga2", pop_size=pop_size, **options)


def nsga3(problem: Problem, *, seed: Optional[int] = None, pop_size: Optional[int] = None, **options) -> PymooSearch:
    """pymoo's NSGA-III; Das-Dennis reference directions (``n_partitions``, default: about ``pop_size`` or 100)."""
    if pop_size is not None:
        options["pop_size"] = pop_size
    return PymooSearch(problem, seed=seed, algorithm="nsga3", **options)


def moead(problem: Problem, *, seed: Optional[int] = None, **options) -> PymooSearch:
    """pymoo's MOEA/D (steady state: one offspring at a time; unconstrained problems only)."""
    return PymooSearch(problem, seed=seed, algorithm="moead", **options)


def smsemoa(problem: Problem, *, seed: Optional[int] = None, pop_size: int = 100, **options) -> PymooSearch:
    """pymoo's SMS-EMOA (hypervolume-contribution survival)."""
    return PymooSearch(problem, seed=seed, algorithm="smsemoa", pop_size=pop_size, **options)
