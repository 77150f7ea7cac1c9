"""Vectorized evaluation speed of moopt's test problems next to pymoo's implementations.

Prints a Markdown table: median time per batch evaluation (seconds over repeats) of
``problem.evaluate_batch(X)`` and pymoo's ``problem.evaluate(X)`` on the same ``X``, and
their ratio (pymoo / moopt; > 1 means moopt is faster).

Usage:
    python benchmarks/bench_problems.py [--quick] [--n 10000] [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points and repeats (smoke run)")
    ap.add_argument("--n", type=int, default=10000, help="points per batch")
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args(argv)
    n, repeats = (1000, 3) if args.quick else (args.n, args.repeats)

    from pymoo.problems import get_problem as pymoo_get

    from moopt.problems import get_problem

    specs = ["zdt1", "zdt3", "zdt4", "zdt6", "dtlz1:m=3", "dtlz2:m=3", "dtlz5:m=3", "dtlz7:m=3",
             "dtlz2:m=8", "bnh", "tnk", "osy", "c1dtlz1:m=3"]
    print(f"Batch evaluation, {n} points, median of {repeats} repeats\n")
    print("| problem | moopt (ms) | pymoo (ms) | pymoo / moopt |")
    print("|---|---:|---:|---:|")
    for spec in specs:
        p = get_problem(spec)
        name = p.name.split(":")[0]
        q = (pymoo_get(name, n_var=p.n_var, n_obj=p.n_obj) if name.startswith(("dtlz", "c1dtlz"))
             else pymoo_get(name))
        X = np.random.default_rng(0).uniform(p.xl, p.xu, size=(n, p.n_var))
        t_ours = _time(lambda: p.evaluate_batch(X), repeats)
        t_pymoo = _time(lambda: q.evaluate(X, return_values_of=["F", "G"]), repeats)
        print(f"| {p.name} | {t_ours * 1e3:.3f} | {t_pymoo * 1e3:.3f} | {t_pymoo / t_ours:.2f} |")


if __name__ == "__main__":
    main()
