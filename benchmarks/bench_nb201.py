"""Search efficiency on the packaged NAS-Bench-201 real-device benchmark, side by side with the peers.

Objective sets: (CIFAR-10 error, latency) on ``titanx_1``, ``raspi4``, ``pixel3``, ``fpga``,
``eyeriss``, ``gold_6226`` and the 4-objective ``panacea`` group (error + Titan X, Raspberry
Pi 4 and Pixel 3 latency), each ``moopt.problems.get_problem("nb201:device=...")``.

Methods:

* moopt searches through ``moopt.optimize`` (budget = distinct paid evaluations; duplicates
  answered from the store and cells outside the space are free): ``random``, ``pls``,
  ``reinforce``, ``nsga2`` (moopt's pymoo wrapper, defaults) and ``progressive`` (cheap settings:
  ``surrogate="forest"``, ``k=19``; it stops by itself after about 100 evaluations, its regret
  then stays).
* peers through their own APIs: pymoo NSGA-II on integer-coded edges (population 20,
  ``IntegerRandomSampling``, SBX + PM (eta 3) with ``RoundingRepair``, ``eliminate_duplicates``),
  Optuna ``TPESampler(multivariate=True, seed=...)`` and ``NSGAIISampler(seed=...)``.  Every
  evaluation a peer requests is charged (repeats included), as the peers count them.

Cells outside the space (the 204 inconsistent cells): free for everybody, never charged to a
budget.  moopt records them as pruned; pymoo gets a penalty value (twice the worst value of
each objective over the table) for them and the evaluation is not counted; Optuna gets the
trial told as failed (``TrialState.FAIL``, which its samplers ignore) and it is not counted.

Score: ``problem.regret`` (hypervolume regret, ``1 - HV(found)/HV(true front)``, objectives
normalized by the exact front's ideal and nadir, reference 1.1 per axis) after the first b
charged evaluations of one run with budget max(b), for b in the budgets; share of the true
front's cells found; wall time per run (to b evaluations).  Ratio = median regret / random
search's median regret on the same set and budget; geometric mean over the 2-objective sets.

Usage:
    python benchmarks/bench_nb201.py                    # 7 sets x 8 methods x 11 seeds x 1,000
    python benchmarks/bench_nb201.py --quick            # 2 sets, 3 seeds, budgets 100,300
    python benchmarks/bench_nb201.py --slow-seeds 3        # reinforce on seeds 0-2 only
    python benchmarks/bench_nb201.py --seeds 31 --methods pls,random,tpe --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

SETS = ["titanx_1", "raspi4", "pixel3", "fpga", "eyeriss", "gold_6226", "panacea"]
MOOPT = {"random": {}, "pls": {}, "reinforce": {}, "nsga2": {},
         "progressive": {"surrogate": "forest", "k": 19}}
PEERS = ["pymoo-nsga2", "optuna-tpe", "optuna-nsga2"]
METHODS = list(MOOPT) + PEERS
LABEL = {"random": "moopt random", "pls": "moopt pls", "reinforce": "moopt reinforce", "nsga2": "moopt nsga2",
         "progressive": "moopt progressive (forest, k=19)", "pymoo-nsga2": "pymoo NSGA-II (int, pop 20)",
         "optuna-tpe": "Optuna TPE (multivariate)", "optuna-nsga2": "Optuna NSGA-II"}
ROOT = Path(__file__).resolve().parent.parent


def _problem(dev: str):
    from moopt.problems import get_problem

    return get_problem(f"nb201:device={dev}")


def _marks(budgets: list[int]) -> list[int]:
    """Evaluation counts of the plotted curves: 10, 20, ... 100, then 25 log-spaced up to the largest budget."""
    hi = max(budgets)
    tail = np.unique(np.rint(np.geomspace(100, hi, 25)).astype(int)) if hi > 100 else np.zeros(0, int)
    return sorted({*range(10, min(hi, 100) + 1, 10), *(int(t) for t in tail), *budgets})


def _curve(problem, idx: list[int], times: list[float], budgets: list[int]) -> dict:
    """Regret, front share and wall time after the first b charged evaluations."""
    F = problem.evaluate_indices(np.asarray(idx, dtype=np.int64)) if idx else np.zeros((0, problem.n_obj))
    out: dict = {"regret": [], "share": [], "wall": []}
    for b in budgets:
        n = min(b, len(idx))
        out["regret"].append(float(problem.regret(F[:n])))
        out["share"].append(float(problem.front_share(idx[:n])))
        out["wall"].append(float(times[n - 1]) if n else 0.0)
    out["curve"] = [float(problem.regret(F[:min(m, len(idx))])) for m in _marks(budgets)]
    return out


def run_moopt(problem, name: str, seed: int, budget: int) -> tuple[list[int], list[float]]:
    import moopt

    t0 = time.time()
    res = moopt.optimize(problem, name, budget=budget, seed=seed, progress=False, **MOOPT[name])
    idx, times = [], []
    for r in res.records:  # completion order; paid = run, ok or failed (not answered from the store)
        if r.paid:
            idx.append(problem.index_of(r.params))
            times.append(r.finished - t0)
    return idx, times


def run_pymoo(problem, seed: int, budget: int) -> tuple[list[int], list[float]]:
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem as PymooProblem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling

    from moopt.problems.nb201 import OPS

    all_F = problem.evaluate_indices(np.arange(15625))
    penalty = 2.0 * np.nanmax(np.abs(all_F), axis=0)
    idx: list[int] = []
    times: list[float] = []
    t0 = time.time()

    class P(PymooProblem):
        def __init__(self):
            super().__init__(n_var=6, n_obj=problem.n_obj, xl=0, xu=len(OPS) - 1, vtype=int)

        def _evaluate(self, X, out, *args, **kwargs):
            cells = problem.table.index_of_codes(np.rint(X).astype(np.int64))
            F = problem.evaluate_indices(cells)
            for c, row in zip(cells, F):
                if np.all(np.isfinite(row)) and len(idx) < budget:
                    idx.append(int(c))
                    times.append(time.time() - t0)
            out["F"] = np.where(np.isfinite(F), F, penalty)

    algo = NSGA2(pop_size=20, sampling=IntegerRandomSampling(),
                 crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
                 mutation=PM(eta=3.0, vtype=float, repair=RoundingRepair()), eliminate_duplicates=True)
    algo.setup(P(), termination=("n_gen", 10 ** 6), seed=seed, verbose=False)
    while len(idx) < budget:
        pop = algo.ask()
        algo.evaluator.eval(algo.problem, pop)
        algo.tell(infills=pop)
    return idx, times


def run_optuna(problem, sampler: str, seed: int, budget: int) -> tuple[list[int], list[float]]:
    import optuna

    from moopt.problems.nb201 import EDGE_NAMES, OPS

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = (optuna.samplers.TPESampler(multivariate=True, seed=seed) if sampler == "tpe"
         else optuna.samplers.NSGAIISampler(seed=seed))
    study = optuna.create_study(directions=["minimize"] * problem.n_obj, sampler=s)
    idx: list[int] = []
    times: list[float] = []
    t0 = time.time()
    while len(idx) < budget:
        trial = study.ask()
        p = {e: trial.suggest_categorical(e, list(OPS)) for e in EDGE_NAMES}
        c = problem.index_of(p)
        row = problem.evaluate_indices([c])[0]
        if not np.all(np.isfinite(row)):  # outside the space: free, told as failed
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        study.tell(trial, [float(v) for v in row])
        idx.append(int(c))
        times.append(time.time() - t0)
    return idx, times


def run_one(task) -> dict:
    dev, method, seed, budgets = task
    problem = _problem(dev)
    b = max(budgets)
    if method in MOOPT:
        idx, times = run_moopt(problem, method, seed, b)
    elif method == "pymoo-nsga2":
        idx, times = run_pymoo(problem, seed, b)
    else:
        idx, times = run_optuna(problem, method.split("-")[1], seed, b)
    out = _curve(problem, idx, times, budgets)
    out.update(set=dev, method=method, seed=seed, n=len(idx))
    return out


def _q(a, q):
    return float(np.percentile(a, q))


def summarize(runs: list[dict], sets: list[str], methods: list[str], budgets: list[int]) -> dict:
    by: dict = {}
    for r in runs:
        by.setdefault((r["set"], r["method"]), []).append(r)
    rows, ratio = [], {}
    for s in sets:
        for m in methods:
            rs = by.get((s, m), [])
            if not rs:
                continue
            for j, b in enumerate(budgets):
                reg = [r["regret"][j] for r in rs]
                row = {"set": s, "method": m, "budget": b, "seeds": len(rs), "median": float(np.median(reg)),
                       "q25": _q(reg, 25), "q75": _q(reg, 75),
                       "share": float(np.median([r["share"][j] for r in rs])),
                       "wall": float(np.median([r["wall"][j] for r in rs]))}
                rows.append(row)
    med = {(r["set"], r["method"], r["budget"]): r["median"] for r in rows}
    two = [s for s in sets if s != "panacea"]
    for m in methods:
        for b in budgets:
            logs = []
            for s in two:
                base, x = med.get((s, "random", b)), med.get((s, m, b))
                if base and x is not None:
                    logs.append(np.log(max(x, 1e-12) / base))
            if len(logs) == len(two) and logs:
                ratio[(m, b)] = float(np.exp(np.mean(logs)))
    return {"rows": rows, "ratio": ratio, "two": two}


def markdown(summary: dict, sets, methods, budgets, seeds, command: str, elapsed: float) -> str:
    ratio, rows = summary["ratio"], summary["rows"]
    lines = ["# NAS-Bench-201 search efficiency (real devices)", "",
             f"Generated by `{command}` ({len(seeds)} seeds: {seeds[0]}..{seeds[-1]}; "
             f"{elapsed / 60:.1f} min on {os.cpu_count()} CPUs shared with other work). "
             "See the docstring of `benchmarks/bench_nb201.py` for the methods, the counting rule and "
             "the treatment of cells outside the space.", "",
             "Regret = `problem.regret` (hypervolume regret against the exact true front, normalized, "
             "reference 1.1 per axis). moopt searches: budget = distinct paid evaluations "
             "(`moopt.optimize`); peers: every evaluation they request. Cells outside the space are free "
             "for all.", "",
             "## Geometric mean over the 2-objective sets of (median regret / random's median regret)", "",
             "| method | " + " | ".join(f"{b:,}" for b in budgets) + " |",
             "|---|" + "---|" * len(budgets)]
    for m in methods:
        cells = [f"{ratio[(m, b)]:.3f}" if (m, b) in ratio else "-" for b in budgets]
        lines.append(f"| {LABEL[m]} | " + " | ".join(cells) + " |")
    lines += ["", f"2-objective sets: {', '.join(summary['two'])}.", "",
              "## Per objective set: median regret [IQR], share of true-front cells found, wall s per run",
              ""]
    for s in sets:
        lines += [f"### {s}" + (" (4 objectives: error + titanx_1, raspi4, pixel3 latency)"
                                if s == "panacea" else ""), "",
                  "| method | budget | seeds | median regret [q25, q75] | front share | wall s |",
                  "|---|---|---|---|---|---|"]
        best: dict[int, float] = {}
        for r in rows:
            if r["set"] == s:
                best[r["budget"]] = min(best.get(r["budget"], 9.0), r["median"])
        for r in rows:
            if r["set"] != s:
                continue
            star = "**" if r["median"] == best[r["budget"]] else ""
            lines.append(f"| {LABEL[r['method']]} | {r['budget']:,} | {r['seeds']} | {star}{r['median']:.4f}{star} "
                         f"[{r['q25']:.4f}, {r['q75']:.4f}] | {r['share']:.3f} | {r['wall']:.2f} |")
        lines.append("")
    lines.append("Plots: " + ", ".join(f"[{s}](nb201_{s}.png)" for s in sets))
    return "\n".join(lines) + "\n"


def plot(runs, sets, methods, budgets, outdir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    marks = np.array(_marks(budgets))
    files = []
    for s in sets:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for m in methods:
            C = np.array([r["curve"] for r in runs if r["set"] == s and r["method"] == m])
            if not len(C):
                continue
            C = np.maximum(C, 1e-5)
            med, lo, hi = np.median(C, 0), np.percentile(C, 25, 0), np.percentile(C, 75, 0)
            style = "-" if m in MOOPT else "--"
            (line,) = ax.plot(marks, med, style, label=LABEL[m], lw=1.6)
            ax.fill_between(marks, lo, hi, color=line.get_color(), alpha=0.15)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("evaluations (charged)")
        ax.set_ylabel("hypervolume regret (median, IQR band)")
        ax.set_title(f"NAS-Bench-201, CIFAR-10 error + latency: {s}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
        fig.tight_layout()
        path = outdir / f"nb201_{s}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        files.append(path)
    return files


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", type=int, default=11)
    ap.add_argument("--budgets", default="100,300,1000")
    ap.add_argument("--slow-seeds", type=int, default=None, metavar="N",
                    help="run reinforce (about 70 s a run at 1,000) on the first N seeds only (default: all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="2 sets, 3 seeds, budgets 100,300")
    ap.add_argument("--out", default=str(ROOT / "docs" / "bench"), help="folder of nb201.md and the PNGs")
    ap.add_argument("--raw", default=None, metavar="PATH", help="also write every run's figures as JSON")
    ap.add_argument("--from-raw", default=None, metavar="PATH",
                    help="run nothing: rewrite the table and plots from a --raw file")
    a = ap.parse_args(argv)
    sets = a.sets.split(",")
    methods = a.methods.split(",")
    budgets = [int(b) for b in a.budgets.split(",")]
    seeds = list(range(a.seeds))
    if a.quick:
        sets, seeds, budgets = ["pixel3", "panacea"], list(range(3)), [100, 300]
    if "random" not in methods:
        methods = ["random"] + methods
    bad = [m for m in methods if m not in METHODS] + [s for s in sets if s not in SETS]
    if bad:
        ap.error(f"unknown {bad}; methods {METHODS}, sets {SETS}")
    slow = len(seeds) if a.slow_seeds is None else a.slow_seeds
    tasks = [(s, m, k, budgets) for s in sets for m in methods for k in seeds
             if m != "reinforce" or k < slow]
    # the slowest tasks (Optuna at large budgets) first, so the two workers end together
    tasks.sort(key=lambda t: t[1] not in ("reinforce", "optuna-tpe"))
    t0 = time.time()
    runs: list[dict] = []
    if a.from_raw:
        raw = json.loads(Path(a.from_raw).read_text())
        runs, budgets = raw["runs"], raw["budgets"]
        seeds = sorted({r["seed"] for r in runs})
        sets = [s for s in sets if any(r["set"] == s for r in runs)]
        methods = [m for m in methods if any(r["method"] == m for r in runs)]
        tasks = []
        t0 -= raw.get("elapsed", 0.0)
    with ProcessPoolExecutor(a.jobs) as ex:
        for i, r in enumerate(ex.map(run_one, tasks, chunksize=1)):
            runs.append(r)
            print(f"[{i + 1}/{len(tasks)} {time.time() - t0:6.0f}s] {r['set']} {r['method']} seed {r['seed']}: "
                  + " ".join(f"{x:.4f}" for x in r["regret"]), file=sys.stderr, flush=True)
    elapsed = time.time() - t0
    command = "python benchmarks/bench_nb201.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if a.from_raw:
        command = raw.get("command", command)
    summary = summarize(runs, sets, methods, budgets)
    outdir = Path(a.out)
    outdir.mkdir(parents=True, exist_ok=True)
    md = markdown(summary, sets, methods, budgets, seeds, command.strip(), elapsed)
    (outdir / "nb201.md").write_text(md)
    if a.raw:
        Path(a.raw).write_text(json.dumps({"budgets": budgets, "runs": runs, "elapsed": elapsed,
                                           "command": command}))
    files = plot(runs, sets, methods, budgets, outdir)
    print(md)
    print("Wrote", outdir / "nb201.md", *files, file=sys.stderr)


if __name__ == "__main__":
    main()
