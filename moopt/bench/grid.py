"""The benchmark grid: one persisted, resumable :func:`moopt.optimize` run per (problem, algorithm, seed).

Runs are spread over moopt's evaluators: the grid is itself a small
:class:`~moopt.Problem` whose "evaluation" of a task index is one whole run.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from ..engine import optimize
from ..errors import ConfigError
from ..evaluators import make_evaluator
from ..indicators import hypervolume, igd_plus
from ..pareto import is_nondominated
from ..problem import Problem
from ..registry import get_algorithm
from ..space import Integer
from .options import check_search_options

#: the default grid: finishes in a few minutes on 2 cores (see docs/benchmarking.md)
DEFAULT_PROBLEMS = ("zdt1", "zdt2", "dtlz2:m=3")
DEFAULT_ALGORITHMS = ("nsga2", "moead", "random")
DEFAULT_SEEDS = 5
DEFAULT_BUDGET = 5000
#: points of the true front used as IGD+ reference set
REFERENCE_FRONT_SIZE = 1000
#: points of each hypervolume-versus-evaluations curve
CURVE_POINTS = 40
SUMMARY_VERSION = 1


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid: a problem spec, an algorithm name and a seed."""

    problem: str
    algorithm: str
    seed: int

    @property
    def slug(self) -> str:
        """Relative path of the run (no extension): ``<problem>/<algorithm>/seed<k>``."""
        return f"{_safe(self.problem)}/{_safe(self.algorithm)}/seed{self.seed}"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text)


# ---------------------------------------------------------------------- parsing
def split_problems(text: str) -> list[str]:
    """Split a comma-separated list of problem specs, keeping options with their problem.

    ``"zdt1,dtlz2:m=3,n_var=12,zdt2"`` -> ``["zdt1", "dtlz2:m=3,n_var=12", "zdt2"]``
    (a part with ``=`` and no ``:`` continues the previous spec).
    """
    out: list[str] = []
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        if "=" in part and ":" not in part and out:
            out[-1] += "," + part
        else:
            out.append(part)
    if not out:
        raise ConfigError(f"no problem named in {text!r}; e.g. 'zdt1,dtlz2:m=3'.")
    return out


def parse_seeds(seeds) -> list[int]:
    """``5`` -> ``[0..4]``; ``"3,7,11"`` or ``[3, 7, 11]`` -> those seeds (each an integer >= 0).

    Raises:
        ConfigError: not a count >= 1 nor a list of distinct integers >= 0 (the message shows both forms).
    """
    forms = "give a count (5 runs seeds 0..4) or a comma-separated list of distinct seeds (3,7,11)"
    if isinstance(seeds, str):
        text = seeds.strip()
        if "," not in text:
            try:
                seeds = int(text)
            except ValueError:
                raise ConfigError(f"seeds must be a count or a list, got {text!r}; {forms}.") from None
            if seeds < 1:
                raise ConfigError(f"the number of seeds must be >= 1, got {seeds}; {forms}.")
        else:
            try:
                seeds = [int(s) for s in text.split(",") if s.strip()]
            except ValueError:
                raise ConfigError(f"seeds must be a count or a list, got {text!r}; {forms}.") from None
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ConfigError(f"the number of seeds must be >= 1, got {seeds}; {forms}.")
        return list(range(int(seeds)))
    if isinstance(seeds, (str, bytes, bool, float)) or not hasattr(seeds, "__iter__"):
        raise ConfigError(f"seeds must be a count or a list, got {seeds!r}; {forms}.")
    out = list(seeds)
    bad = [s for s in out if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0]
    if bad:
        raise ConfigError(f"a seed must be an integer >= 0, got {bad[0]!r}; {forms}.")
    out = [int(s) for s in out]
    if not out or len(set(out)) != len(out):
        raise ConfigError(f"seeds must be a non-empty list of distinct integers, got {out}; {forms}.")
    return out


# ---------------------------------------------------------------------- one run
Resolver = Callable[[str], Any]


@functools.lru_cache(maxsize=64)
def _problem(resolve: Resolver, spec: str):
    problem = resolve(spec)
    missing = [a for a in ("ref_point", "max_hypervolume", "pareto_front") if not hasattr(problem, a)]
    if missing:
        raise ConfigError(f"problem {spec!r} lacks {missing}; benchmarks need problems with a true front, "
                          "a reference point and a maximum hypervolume (moopt.problems).")
    return problem


@functools.lru_cache(maxsize=64)
def _reference_front(resolve: Resolver, spec: str) -> np.ndarray:
    return _problem(resolve, spec).pareto_front(REFERENCE_FRONT_SIZE)


def _curve_grid(budget: int, n: int = CURVE_POINTS) -> np.ndarray:
    return np.unique(np.linspace(max(1, budget // n), budget, n).astype(int))


def hypervolume_curve(F: np.ndarray, evals: np.ndarray, ref: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Hypervolume of the points found within the first ``g`` evaluations, for each ``g`` in ``grid``.

    Args:
        F: Minimized objective values of the feasible ok evaluations, shape ``(n, m)``.
        evals: 1-based evaluation number of each row of ``F``, shape ``(n,)``, increasing.
        ref: Reference point, shape ``(m,)``.
        grid: Evaluation counts, shape ``(k,)``.

    Returns:
        Array of shape ``(k,)``.
    """
    out = np.zeros(len(grid))
    front = np.zeros((0, len(ref)))
    start = 0
    hv = 0.0
    for j, g in enumerate(grid):
        stop = int(np.searchsorted(evals, g, side="right"))
        if stop > start:
            new = F[start:stop]
            new = new[np.all(new < ref, axis=1)]
            if len(new):
                cand = np.vstack([front, new])
                front = cand[is_nondominated(cand)]
                hv = hypervolume(front, ref)
            start = stop
        out[j] = hv
    return out


def _summary_path(out: Path, spec: RunSpec) -> Path:
    return out / "runs" / f"{spec.slug}.json"


def _load_summary(path: Path, budget: int) -> Optional[dict]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("version") != SUMMARY_VERSION or data.get("budget") != budget:
        return None
    return data


def run_one(spec: RunSpec, *, budget: int, out, resolve: Resolver, options: Optional[Mapping] = None,
            batch_size: Optional[int] = 100) -> dict:
    """Run (or resume, or skip when finished) one grid cell and write its JSON summary.

    Args:
        spec: The cell.
        resolve: Problem spec -> problem with ``ref_point``, ``max_hypervolume``
            and ``pareto_front(n)`` (e.g. ``moopt.problems.get_problem``).
        budget: Evaluations of the run.
        out: Output directory of the grid.
        options: Options of the algorithm (JSON values, stored with the run).
        batch_size: Candidates asked at once (fewer store transactions; same results).

    Returns:
        The summary: ``problem, algorithm, seed, budget, n_results, hv, hv_ratio,
        igd_plus, seconds, curve_evals, curve_hv, ...``.
    """
    out = Path(out)
    path = _summary_path(out, spec)
    done = _load_summary(path, budget)
    if done is not None:
        return done
    problem = _problem(resolve, spec.problem)
    store = path.with_suffix(".db")
    store.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = optimize(problem, spec.algorithm, budget=budget, seed=spec.seed, store=str(store),
                         progress=False, batch_size=batch_size, **dict(options or {}))
    seconds = time.perf_counter() - t0
    names, cnames, signs = problem.objective_names, problem.constraint_names, problem.signs
    rows, evals = [], []
    spent = 0  # what the run's budget has counted so far: paid evaluations, or every result
    for r in res.records:
        spent += 1 if res.count_duplicates or r.paid else 0
        if r.status != "ok" or r.cached_from is not None or r.objectives is None:
            continue
        if any((r.constraints or {}).get(c, 0.0) > 0 for c in cnames):
            continue
        rows.append([r.objectives[n] for n in names])
        evals.append(spent)
    F = np.array(rows, dtype=float).reshape(-1, len(names)) * signs
    ref = problem.ref_point
    grid = _curve_grid(budget)
    curve = hypervolume_curve(F, np.array(evals), ref, grid)
    hv = float(curve[-1]) if len(curve) else 0.0
    igd = float(igd_plus(F, _reference_front(resolve, spec.problem))) if len(F) else math.inf
    summary = {
        "version": SUMMARY_VERSION, "problem": spec.problem, "algorithm": spec.algorithm, "seed": spec.seed,
        "budget": budget, "n_results": res.n_results, "n_feasible": len(F), "failed": res.counts.get("failed", 0),
        "hv": hv, "max_hv": problem.max_hypervolume, "hv_ratio": hv / problem.max_hypervolume,
        "igd_plus": igd, "seconds": seconds, "ref_point": ref.tolist(),
        "curve_evals": grid.tolist(), "curve_hv": curve.tolist(), "store": str(store.relative_to(out)),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=1))
    os.replace(tmp, path)
    return summary


def _grid_problem(specs: Sequence[RunSpec], budget: int, out: str, options: Mapping[str, Mapping],
                  resolve: Resolver):
    """A moopt Problem whose evaluation of ``{"task": i}`` is the whole run ``specs[i]``."""
    def evaluate(params):
        spec = specs[int(params["task"])]
        s = run_one(spec, budget=budget, out=out, resolve=resolve, options=options.get(spec.algorithm))
        return {"hv": s["hv"], "seconds": s["seconds"]}

    return Problem([Integer("task", 0, max(len(specs) - 1, 0))], ["hv"], evaluate, name="bench-grid")


def check_grid(problems: Sequence[str], algorithms: Sequence[str], seeds=DEFAULT_SEEDS, *,
               resolve: Resolver, budget: int = DEFAULT_BUDGET, workers: int = 1,
               options: Optional[Mapping[str, Mapping]] = None) -> tuple[list, list, list, dict]:
    """Check a grid before anything runs; :func:`run_grid` calls it first.

    Every problem is resolved, every algorithm looked up, the seeds parsed, and every search built
    once on every problem with its options (so an option the search does not take, or a value of
    the wrong type or range, is an error here rather than a failure of every run).

    Returns:
        ``(problems, algorithms, seeds, options)`` as lists and a dict of dicts.

    Raises:
        ConfigError: unknown problem or algorithm, bad seeds, bad options (the message names the
            option and a valid value).
        ValueError: a budget or worker count that is not a positive integer.
    """
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"budget must be a positive integer, got {budget!r}.")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}.")
    problems, algorithms, seed_list = list(problems), list(algorithms), parse_seeds(seeds)
    if not problems or not algorithms:
        raise ConfigError("the grid needs at least one problem and one algorithm.")
    if options is not None and not isinstance(options, Mapping):
        raise ConfigError(f"options must map algorithm names to their options, e.g. {{'nsga2': {{'pop_size': 50}}}}, "
                          f"got {options!r}.")
    for alg, opts in (options or {}).items():
        if not isinstance(opts, Mapping):
            raise ConfigError(f"options[{alg!r}] must map option names to values, e.g. {{'pop_size': 50}}, "
                              f"got {opts!r}.")
    opts_by_alg = {k: dict(v) for k, v in (options or {}).items()}
    for p in problems:
        _problem(resolve, p)
    for a in algorithms:
        get_algorithm(a)
    unknown = sorted(set(opts_by_alg) - set(algorithms))
    if unknown:
        raise ConfigError(f"options given for algorithms not in the grid: {unknown}; give options only for "
                          f"{algorithms}, or add the algorithm to the grid.")
    for a in algorithms:  # every search is built once on every problem: bad options fail here, not per run
        for p in problems:
            check_search_options(_problem(resolve, p), p, a, opts_by_alg.get(a, {}))
    return problems, algorithms, seed_list, opts_by_alg


def run_grid(problems: Sequence[str], algorithms: Sequence[str], seeds=DEFAULT_SEEDS, *,
             resolve: Resolver, budget: int = DEFAULT_BUDGET, out="bench-out", workers: int = 1,
             scheduler: Optional[str] = None,
             options: Optional[Mapping[str, Mapping]] = None,
             echo: Optional[Callable[[str], None]] = None) -> list[dict]:
    """Run every (problem, algorithm, seed) of the grid, skipping finished runs.

    Args:
        problems: Problem specs (``"zdt1"``, ``"dtlz2:m=3"``).
        algorithms: Registered algorithm names (``"nsga2"``, ``"random"``, ...).
        seeds: A count ``N`` (seeds ``0..N-1``) or a list of seeds.
        resolve: Problem spec -> benchmark problem; pass ``moopt.problems.get_problem``
            (moopt's core never imports ``moopt.problems`` itself).  Must be
            picklable (a module-level function) for a Dask scheduler.
        budget: Evaluations per run.
        out: Output directory (created).
        workers: Local worker processes (``1``: in this process).
        scheduler: A Dask scheduler address (``"tcp://host:8786"``) instead of local workers.
        options: Per-algorithm options, ``{"nsga2": {"pop_size": 50}}``.
        echo: Called with one line per finished run (e.g. ``print``).

    Returns:
        The run summaries (see :func:`run_one`), in grid order; a run that
        failed gives ``{"problem", "algorithm", "seed", "error"}``.

    Raises:
        ConfigError: a bad grid (see :func:`check_grid`; checked before anything runs), or an
            output folder that cannot be created.
    """
    problems, algorithms, seed_list, options = check_grid(problems, algorithms, seeds, resolve=resolve,
                                                          budget=budget, workers=workers, options=options)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, no permission
        raise ConfigError(f"cannot create the output folder {out} ({exc.strerror or exc}); choose another "
                          "folder (--out) or remove the file in the way.") from None
    specs = [RunSpec(p, a, s) for p in problems for a in algorithms for s in seed_list]
    (out / "grid.json").write_text(json.dumps({
        "problems": problems, "algorithms": algorithms, "seeds": seed_list, "budget": int(budget),
        "options": options}, indent=1))
    results: dict[RunSpec, dict] = {}
    todo = []
    for s in specs:
        done = _load_summary(_summary_path(out, s), int(budget))
        if done is not None:
            results[s] = done
        else:
            todo.append(s)
    if echo and results:
        echo(f"{len(results)} of {len(specs)} runs already finished in {out}; {len(todo)} to run.")

    def note(s: RunSpec, summary: dict) -> None:
        results[s] = summary
        if echo:
            if "error" in summary:
                echo(f"[{len(results)}/{len(specs)}] {s.slug}: FAILED {summary['error']}")
            else:
                echo(f"[{len(results)}/{len(specs)}] {s.slug}: HV/HV*={summary['hv_ratio']:.4f} "
                     f"IGD+={summary['igd_plus']:.4g} ({summary['seconds']:.1f} s)")

    if todo and workers == 1 and scheduler is None:
        for s in todo:
            try:
                note(s, run_one(s, budget=int(budget), out=out, resolve=resolve,
                                options=options.get(s.algorithm)))
            except Exception as exc:  # a failed run is reported, the grid goes on
                note(s, {"problem": s.problem, "algorithm": s.algorithm, "seed": s.seed,
                         "error": f"{type(exc).__name__}: {exc}"})
    elif todo:
        ev = make_evaluator(scheduler if scheduler is not None else f"processes:{int(workers)}")
        grid_problem = _grid_problem(todo, int(budget), str(out), options, resolve)
        ev.start(grid_problem)
        try:
            for i in range(len(todo)):
                ev.submit(i, {"task": i})
            pending = len(todo)
            while pending:
                for o in ev.wait():
                    pending -= 1
                    s = todo[o.task_id]
                    summary = (_load_summary(_summary_path(out, s), int(budget)) if o.status == "ok" else None)
                    note(s, summary if summary is not None else {
                        "problem": s.problem, "algorithm": s.algorithm, "seed": s.seed,
                        "error": o.error or "the run left no summary"})
        finally:
            ev.close()
    return [results[s] for s in specs]
