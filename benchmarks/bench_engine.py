"""Cheap problems through the engine: pymoo's ``minimize`` against ``moopt.optimize``, same algorithm.

Each case runs NSGA-II (population 100, pymoo's operators and defaults on both sides) for the
same number of evaluations:

* pymoo: ``pymoo.optimize.minimize(get_problem(name), NSGA2(pop_size=100), ("n_evals", N), seed=p)``;
* moopt with its SQLite run store (a file; WAL, ``synchronous=NORMAL``: every answer survives SIGKILL):
  ``moopt.optimize(get_problem(name), "nsga2", budget=N, seed=s, pop_size=100, store=path)``;
* moopt in memory (``store=None``: an in-memory store of the run's own, without checkpoints).

``p`` is the operator seed moopt's ``nsga2`` draws from ``s``, so both sides make the same run:
moopt's ``nsga2`` is pymoo's NSGA-II on arrays (``moopt.search.nsga2``), and the table's "same
evaluations" column says whether pymoo's run (its initial population and every generation's
offspring, collected by a callback in a separate, untimed run) evaluated exactly the objective
vectors moopt stored, in the same order.  The timed part of a moopt run includes reading its front
(``RunResult.front_F``), as pymoo's result carries its own.

Both problems are vectorized (``evaluate_batch``): moopt evaluates each generation in one call and
records it in one transaction.  The configurations run ``--repeats`` times, interleaved (pymoo,
moopt file, moopt memory, pymoo, ...), after one warm-up run of each (imports); the table shows
medians and the ratio to pymoo.  The bar (issue 13): moopt with the SQLite store within 1.5x of
pymoo, in memory within 1.2x.  The hypervolumes (reference point 1.1 in every objective) are
those of every evaluated point, pymoo's from the callback run.

Usage (under the shared lock, so benchmarks do not overlap)::

    flock /tmp/moopt-bench.lock .venv/bin/python benchmarks/bench_engine.py --repeats 5
    flock /tmp/moopt-bench.lock .venv/bin/python benchmarks/bench_engine.py --quick
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

CASES = [("zdt1", "zdt1", {}, 6000), ("dtlz2", "dtlz2:m=3", {"n_obj": 3, "n_var": 12}, 20000)]


def pymoo_seed(spec: str, seed: int) -> int:
    """The operator seed moopt's ``nsga2`` draws from ``seed`` (pymoo's ``minimize`` gets it)."""
    from moopt.problems import get_problem
    from moopt.search.nsga2 import nsga2

    return nsga2(get_problem(spec), seed=seed, pop_size=100)._pymoo_seed


def run_pymoo(name: str, kw: dict, n: int, seed: int, collect: bool = False):
    """pymoo's run: its time and final population's F, or (``collect``) every evaluated F in order."""
    import numpy as np
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.optimize import minimize
    from pymoo.problems import get_problem

    problem = get_problem(name, **kw)
    seen: list = []

    def callback(algorithm):  # the initial population, then each generation's offspring
        seen.append(np.array(algorithm.off.get("F") if algorithm.off is not None else algorithm.pop.get("F")))

    t0 = time.perf_counter()
    extra = {"callback": callback} if collect else {}
    res = minimize(problem, NSGA2(pop_size=100), ("n_evals", n), seed=seed, **extra)
    dt = time.perf_counter() - t0
    return dt, (np.vstack(seen) if collect else res.F)


def run_moopt(spec: str, n: int, seed: int, store):
    """moopt's run: its time (front included) and every evaluated F in order."""
    import moopt
    from moopt.problems import get_problem

    problem = get_problem(spec)
    t0 = time.perf_counter()
    res = moopt.optimize(problem, "nsga2", budget=n, seed=seed, pop_size=100, store=store, progress=False)
    res.front_F  # noqa: B018 - part of what a user waits for
    dt = time.perf_counter() - t0
    assert res.n_paid == n, res.n_paid
    return dt, res.F


def hv(F, m: int) -> float:
    from moopt.indicators import hypervolume

    return float(hypervolume(F, [1.1] * m, outside="ignore"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3 repeats, a tenth of the evaluations")
    ap.add_argument("--out", help="also write the table (markdown) to this file")
    ap.add_argument("--cases", default=",".join(c[0] for c in CASES),
                    help=f"comma-separated subset of {[c[0] for c in CASES]}")
    args = ap.parse_args(argv)
    wanted = set(args.cases.split(","))
    repeats = 3 if args.quick else args.repeats
    scale = 10 if args.quick else 1
    tmp = tempfile.mkdtemp(prefix="moopt-bench-engine-")
    lines = [f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
             f"median of {repeats} interleaved repeats (seconds)", "",
             "| problem | evaluations | pymoo minimize | moopt (SQLite file) | ratio | moopt (in memory) | ratio "
             "| same evaluations | HV pymoo | HV moopt |",
             "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    import numpy as np

    for name, spec, kw, n in CASES:
        if name not in wanted:
            continue
        n //= scale
        m = kw.get("n_obj", 2)
        run_pymoo(name, kw, 300, 0)  # warm-up: imports
        run_moopt(spec, 300, 0, None)
        t = {"pymoo": [], "file": [], "memory": []}
        same, hvs = [], {"pymoo": [], "moopt": []}
        for rep in range(repeats):
            dt, _ = run_pymoo(name, kw, n, pymoo_seed(spec, rep))
            t["pymoo"].append(dt)
            path = os.path.join(tmp, f"{name}-{rep}.db")
            dt, F = run_moopt(spec, n, rep, path)
            t["file"].append(dt)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            dt, _ = run_moopt(spec, n, rep, None)
            t["memory"].append(dt)
            _, Fp = run_pymoo(name, kw, n, pymoo_seed(spec, rep), collect=True)  # untimed
            same.append(Fp.shape == F.shape and bool(np.array_equal(Fp, F)))
            hvs["pymoo"].append(hv(Fp, m))
            hvs["moopt"].append(hv(F, m))
            print(f"{name} rep {rep}: pymoo {t['pymoo'][-1]:.3f} s, moopt file {t['file'][-1]:.3f} s, "
                  f"memory {t['memory'][-1]:.3f} s, same evaluations: {same[-1]}", file=sys.stderr)
        med = {k: statistics.median(v) for k, v in t.items()}
        lines.append(f"| {spec} | {n} | {med['pymoo']:.3f} | {med['file']:.3f} | {med['file'] / med['pymoo']:.2f}x "
                     f"| {med['memory']:.3f} | {med['memory'] / med['pymoo']:.2f}x "
                     f"| {sum(same)}/{len(same)} runs "
                     f"| {statistics.median(hvs['pymoo']):.4f} | {statistics.median(hvs['moopt']):.4f} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
