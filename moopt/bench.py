"""Hypervolume benchmarking: a (problem x algorithm x seed) grid, persisted runs, a report.

Every run is an ordinary :func:`moopt.optimize` run with its own SQLite run
store under ``out/runs/<problem>/<algorithm>/seed<k>.db`` and a small JSON
summary next to it (final hypervolume, IGD+, hypervolume-versus-evaluations
curve).  Re-running the same grid skips finished runs and resumes interrupted
ones from their stores; raising the budget continues the existing runs.

Runs execute in parallel through moopt's evaluators: the grid is a small
moopt :class:`~moopt.Problem` whose "evaluation" is one whole run, so
``workers=2`` uses two local processes and ``scheduler="tcp://..."`` a Dask
cluster (the output directory must then be on a file system the workers share).

The report (:func:`write_report`): per problem and algorithm the median and
inter-quartile range over seeds of the final hypervolume (as a fraction of the
problem's maximum hypervolume, ``HV/HV*``) and of IGD+ against a 1000-point
sample of the true front; a two-sided Wilcoxon rank-sum test
(``scipy.stats.mannwhitneyu``) of every algorithm against the best one on that
problem, Holm-corrected per problem and metric, marked ``▲`` (significantly
better), ``▼`` (significantly worse), ``≈`` (no significant difference) and
``★`` (the best); a Markdown and a CSV summary; one PNG per problem with the
median hypervolume curve and its IQR band per algorithm.

Example:
    >>> from moopt.bench import run_grid, write_report
    >>> from moopt.problems import get_problem
    >>> records = run_grid(["zdt1"], ["random", "nsga2"], seeds=3, budget=300,
    ...                    resolve=get_problem, out="bench-out")  # doctest: +SKIP
    >>> write_report(records, "bench-out")                        # doctest: +SKIP
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
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import numpy as np

from .errors import ConfigError

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
    """``5`` -> ``[0..4]``; ``"3,7,11"`` or ``[3, 7, 11]`` -> those seeds."""
    if isinstance(seeds, str):
        seeds = seeds.strip()
        if "," not in seeds and "-" not in seeds:
            seeds = int(seeds) if seeds.isdigit() else seeds
        else:
            try:
                seeds = [int(s) for s in seeds.split(",") if s.strip()]
            except ValueError:
                raise ConfigError(f"seeds must be a count (11) or a list (1,2,3), got {seeds!r}.") from None
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ConfigError(f"the number of seeds must be >= 1, got {seeds}.")
        return list(range(int(seeds)))
    if isinstance(seeds, str):
        raise ConfigError(f"seeds must be a count (11) or a list (1,2,3), got {seeds!r}.")
    out = [int(s) for s in seeds]
    if not out or len(set(out)) != len(out):
        raise ConfigError(f"seeds must be a non-empty list of distinct integers, got {list(seeds)}.")
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
    import moopt

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
                front = cand[np.asarray(moopt.is_nondominated(cand), dtype=bool)]
                hv = float(moopt.hypervolume(front, ref))
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
    import moopt

    out = Path(out)
    path = _summary_path(out, spec)
    done = _load_summary(path, budget)
    if done is not None:
        return done
    problem = _problem(resolve, spec.problem)
    store = path.with_suffix(".db")
    store.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = moopt.optimize(problem, spec.algorithm, budget=budget, seed=spec.seed, store=str(store),
                         progress=False, batch_size=batch_size, **dict(options or {}))
    seconds = time.perf_counter() - t0
    names, cnames, signs = problem.objective_names, problem.constraint_names, problem.signs
    rows, evals = [], []
    for i, r in enumerate(res.records):
        if r.status != "ok" or r.cached_from is not None or r.objectives is None:
            continue
        if any((r.constraints or {}).get(c, 0.0) > 0 for c in cnames):
            continue
        rows.append([r.objectives[n] for n in names])
        evals.append(i + 1)
    F = np.array(rows, dtype=float).reshape(-1, len(names)) * signs
    ref = problem.ref_point
    grid = _curve_grid(budget)
    curve = hypervolume_curve(F, np.array(evals), ref, grid)
    hv = float(curve[-1]) if len(curve) else 0.0
    igd = float(moopt.igd_plus(F, _reference_front(resolve, spec.problem))) if len(F) else math.inf
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
    from .problem import Problem
    from .space import Integer

    def evaluate(params):
        spec = specs[int(params["task"])]
        s = run_one(spec, budget=budget, out=out, resolve=resolve, options=options.get(spec.algorithm))
        return {"hv": s["hv"], "seconds": s["seconds"]}

    return Problem([Integer("task", 0, max(len(specs) - 1, 0))], ["hv"], evaluate, name="bench-grid")


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
        ConfigError: unknown problem or algorithm (checked before anything runs).
    """
    from .evaluators import make_evaluator
    from .registry import get_algorithm

    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"budget must be a positive integer, got {budget!r}.")
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}.")
    problems, algorithms, seed_list = list(problems), list(algorithms), parse_seeds(seeds)
    if not problems or not algorithms:
        raise ConfigError("the grid needs at least one problem and one algorithm.")
    options = {k: dict(v) for k, v in (options or {}).items()}
    for p in problems:
        _problem(resolve, p)
    for a in algorithms:
        get_algorithm(a)
    unknown = sorted(set(options) - set(algorithms))
    if unknown:
        raise ConfigError(f"options given for algorithms not in the grid: {unknown}.")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
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


# ---------------------------------------------------------------------- statistics
def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1).

    Example:
        >>> holm([0.01, 0.04, 0.03]).tolist()
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def compare_to_best(samples: Mapping[str, Sequence[float]], *, higher_is_better: bool,
                    alpha: float = 0.05) -> dict[str, dict]:
    """Wilcoxon rank-sum test of each algorithm against the best (by median), Holm-corrected.

    Args:
        samples: Algorithm -> final values over seeds.
        higher_is_better: True for hypervolume, False for IGD+.
        alpha: Significance level after correction.

    Returns:
        Algorithm -> ``{"mark", "p", "p_holm", "best"}``; marks ``★`` (best),
        ``▲`` (significantly better than the best -- possible when medians and
        rank sums disagree), ``▼`` (significantly worse), ``≈`` (no significant difference).
    """
    from scipy.stats import mannwhitneyu

    med = {a: float(np.median(v)) for a, v in samples.items() if len(v)}
    if not med:
        return {}
    best = (max if higher_is_better else min)(med, key=lambda a: (med[a], -list(med).index(a)))
    others = [a for a in med if a != best]
    raw = []
    for a in others:
        x, y = np.asarray(samples[a], float), np.asarray(samples[best], float)
        if np.array_equal(np.sort(x), np.sort(y)) or (np.ptp(np.concatenate([x, y])) == 0):
            raw.append(1.0)
            continue
        p = float(mannwhitneyu(x, y, alternative="two-sided").pvalue)
        raw.append(1.0 if math.isnan(p) else p)
    adj = holm(raw) if raw else np.zeros(0)
    out = {best: {"mark": "★", "p": None, "p_holm": None, "best": best}}
    for a, p, q in zip(others, raw, adj):
        if q < alpha:
            better = (med[a] > med[best]) if higher_is_better else (med[a] < med[best])
            if med[a] == med[best]:  # equal medians: the rank sums decide the direction
                from scipy.stats import rankdata

                x = np.concatenate([samples[a], samples[best]])
                r = rankdata(x)[: len(samples[a])].mean() - rankdata(x)[len(samples[a]):].mean()
                better = (r > 0) if higher_is_better else (r < 0)
            mark = "▲" if better else "▼"
        else:
            mark = "≈"
        out[a] = {"mark": mark, "p": p, "p_holm": float(q), "best": best}
    return out


def _quartiles(v) -> tuple[float, float, float]:
    q1, med, q3 = np.percentile(np.asarray(v, dtype=float), [25, 50, 75])
    return float(med), float(q1), float(q3)


def summarize(records: Iterable[Mapping], *, alpha: float = 0.05) -> list[dict]:
    """One row per (problem, algorithm): medians, quartiles, test marks, run counts.

    Args:
        records: Run summaries from :func:`run_grid` (failed runs are counted, not used).
        alpha: Significance level of the Holm-corrected tests.

    Returns:
        Rows with keys ``problem, algorithm, runs, failed_runs, hv_ratio_median,
        hv_ratio_q1, hv_ratio_q3, hv_median, hv_mark, hv_p_holm, igd_plus_median,
        igd_plus_q1, igd_plus_q3, igd_plus_mark, igd_plus_p_holm, seconds_median``.
    """
    records = list(records)
    problems = list(dict.fromkeys(r["problem"] for r in records))
    rows = []
    for p in problems:
        recs = [r for r in records if r["problem"] == p]
        algs = list(dict.fromkeys(r["algorithm"] for r in recs))
        ok = {a: [r for r in recs if r["algorithm"] == a and "error" not in r] for a in algs}
        hv_cmp = compare_to_best({a: [r["hv_ratio"] for r in v] for a, v in ok.items() if v},
                                 higher_is_better=True, alpha=alpha)
        igd_cmp = compare_to_best({a: [r["igd_plus"] for r in v] for a, v in ok.items() if v},
                                  higher_is_better=False, alpha=alpha)
        for a in algs:
            v = ok[a]
            row = {"problem": p, "algorithm": a, "runs": len(v),
                   "failed_runs": sum(1 for r in recs if r["algorithm"] == a and "error" in r)}
            if v:
                row["hv_ratio_median"], row["hv_ratio_q1"], row["hv_ratio_q3"] = _quartiles([r["hv_ratio"] for r in v])
                row["hv_median"] = float(np.median([r["hv"] for r in v]))
                row["hv_mark"], row["hv_p_holm"] = hv_cmp[a]["mark"], hv_cmp[a]["p_holm"]
                (row["igd_plus_median"], row["igd_plus_q1"],
                 row["igd_plus_q3"]) = _quartiles([r["igd_plus"] for r in v])
                row["igd_plus_mark"], row["igd_plus_p_holm"] = igd_cmp[a]["mark"], igd_cmp[a]["p_holm"]
                row["seconds_median"] = float(np.median([r["seconds"] for r in v]))
            rows.append(row)
    return rows


# ---------------------------------------------------------------------- report
_CSV_COLUMNS = ["problem", "algorithm", "runs", "failed_runs", "hv_ratio_median", "hv_ratio_q1", "hv_ratio_q3",
                "hv_median", "hv_mark", "hv_p_holm", "igd_plus_median", "igd_plus_q1", "igd_plus_q3",
                "igd_plus_mark", "igd_plus_p_holm", "seconds_median"]


def _fmt(v, digits=4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"
    return str(v)


def markdown_table(rows: Sequence[Mapping], *, alpha: float = 0.05) -> str:
    """The summary as a Markdown table with a legend."""
    head = ("| problem | algorithm | runs | HV/HV* median [IQR] | | IGD+ median [IQR] | | time/run (s) |\n"
            "|---|---|---:|---|:-:|---|:-:|---:|")
    lines = [head]
    for r in rows:
        if "hv_ratio_median" not in r:
            lines.append(f"| {r['problem']} | {r['algorithm']} | 0 | all {r['failed_runs']} runs failed | | | | |")
            continue
        lines.append(
            f"| {r['problem']} | {r['algorithm']} | {r['runs']}"
            + (f" ({r['failed_runs']} failed)" if r["failed_runs"] else "")
            + f" | {r['hv_ratio_median']:.4f} [{r['hv_ratio_q1']:.4f}, {r['hv_ratio_q3']:.4f}] | {r['hv_mark']}"
            + f" | {_fmt(r['igd_plus_median'])} [{_fmt(r['igd_plus_q1'])}, {_fmt(r['igd_plus_q3'])}]"
            + f" | {r['igd_plus_mark']} | {r['seconds_median']:.1f} |")
    legend = (f"\n★ best median on the problem; ▲/▼ significantly better/worse than the best, ≈ no significant "
              f"difference (two-sided Wilcoxon rank-sum, Holm-corrected per problem and metric, "
              f"alpha = {alpha}). HV/HV*: final hypervolume over the problem's maximum hypervolume for its "
              f"reference point; IGD+ against a {REFERENCE_FRONT_SIZE}-point sample of the true front.")
    return "\n".join(lines) + "\n" + legend + "\n"


def plot_curves(records: Sequence[Mapping], out, *, problem: str) -> Path:
    """PNG of median HV/HV* versus evaluations with an IQR band, one line per algorithm."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    recs = [r for r in records if r["problem"] == problem and "error" not in r]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    for a in dict.fromkeys(r["algorithm"] for r in recs):
        rs = [r for r in recs if r["algorithm"] == a]
        x = np.asarray(rs[0]["curve_evals"])
        Y = np.array([np.asarray(r["curve_hv"]) / r["max_hv"] for r in rs if len(r["curve_hv"]) == len(x)])
        q1, med, q3 = np.percentile(Y, [25, 50, 75], axis=0)
        line, = ax.plot(x, med, label=f"{a} (n={len(Y)})")
        ax.fill_between(x, q1, q3, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("HV / HV*")
    ax.set_title(f"{problem}: median hypervolume, IQR band")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    path = Path(out) / f"hv_{_safe(problem)}.png"
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_report(records: Sequence[Mapping], out, *, alpha: float = 0.05, plots: bool = True) -> dict[str, Any]:
    """Write ``summary.md``, ``summary.csv`` and ``hv_<problem>.png`` into ``out``.

    Returns:
        ``{"rows": [...], "markdown": str, "files": [paths]}``.
    """
    import csv

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = summarize(records, alpha=alpha)
    md = markdown_table(rows, alpha=alpha)
    budgets = sorted({r["budget"] for r in records if "budget" in r})
    seeds = sorted({r["seed"] for r in records})
    title = (f"# moopt benchmark\n\nBudget {', '.join(map(str, budgets))} evaluations per run; "
             f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}).\n\n")
    files = []
    (out / "summary.md").write_text(title + md)
    files.append(out / "summary.md")
    with open(out / "summary.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=_CSV_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k, "")) for k in _CSV_COLUMNS})
    files.append(out / "summary.csv")
    if plots:
        for p in dict.fromkeys(r["problem"] for r in records):
            if any(r["problem"] == p and "error" not in r for r in records):
                files.append(plot_curves(records, out, problem=p))
    return {"rows": rows, "markdown": md, "files": files}
