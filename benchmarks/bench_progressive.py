"""Progressive search (DPP-Net) benchmark on a synthetic NAS-like problem with a known front.

Two tables:

1. Hypervolume regret ``1 - HV / HV_true`` after equal evaluation budgets on
   ``SyntheticNAS(max_length=5)`` (9330 sequences, true front by enumeration):
   Pareto selection (crowding or hypervolume-contribution tie-break) with the
   LSTM surrogate, Pareto selection with the random-forest surrogate, PNAS
   top-K selection with the LSTM, and uniform random search over the space
   (distinct sequences).  Medians and IQR over seeds; also the mean Kendall tau
   of the surrogate on each step's new candidates (predicted before refitting).
2. Held-out surrogate quality: each surrogate trained on ``n_train`` random
   sequences, Kendall tau / Spearman / MAE of ``error`` on 1000 others.

The *seconds / run* column is the median wall time of one run (surrogate
fits, predictions, selection; the evaluations are trivial), measured after a
warm-up run, so that one-time imports are not in it.

Usage::

    python benchmarks/bench_progressive.py            # 11 seeds
    python benchmarks/bench_progressive.py --quick    # 3 seeds
    python benchmarks/bench_progressive.py --methods "HV contribution), LSTM" --skip-surrogates
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def run_progressive(problem, seed: int, **options) -> dict:
    import moopt
    from moopt.search.progressive.search import ProgressiveSearch

    t0 = time.perf_counter()
    search = ProgressiveSearch(problem, seed=seed, **options)
    n = 0
    taus = []
    while batch := search.ask(64):
        search.tell([moopt.Evaluation.success(c, problem.evaluate(c.params)) for c in batch])
        n += len(batch)
        for log in search.drain_logs():
            if log["quality"] and log["quality"]["error"]["kendall_tau"] is not None:
                taus.append(log["quality"]["error"]["kendall_tau"])
    regret = 1.0 - search.hypervolume() / problem.max_hypervolume
    return {"regret": regret, "n": n, "tau": float(np.mean(taus)) if taus else float("nan"),
            "seconds": time.perf_counter() - t0}


def run_random(problem, seed: int, budget: int) -> dict:
    from moopt import hypervolume

    t0 = time.perf_counter()
    seqs, F = problem.enumerate()
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(seqs), size=budget, replace=False)
    hv = hypervolume(F[pick], problem.ref_point, outside="ignore")
    return {"regret": 1.0 - hv / problem.max_hypervolume, "n": budget, "tau": float("nan"),
            "seconds": time.perf_counter() - t0}


def surrogate_quality(problem, name: str, seed: int, n_train: int, n_test: int = 1000, **options) -> dict:
    from moopt.surrogates import make_surrogate
    from moopt.surrogates.metrics import rank_quality

    seqs, F = problem.enumerate()
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(seqs), size=n_train + n_test, replace=False)
    space = problem.progressive_space
    X = [space.encode(seqs[i]) for i in idx]
    y = F[idx, 0]
    t0 = time.perf_counter()
    s = make_surrogate(name, len(space.tokens), space.max_length, seed=seed, **options)
    s.fit(X[:n_train], y[:n_train])
    mean, _ = s.predict(X[n_train:])
    q = rank_quality(y[n_train:], mean)
    q["seconds"] = time.perf_counter() - t0
    return q


def _fmt(values) -> str:
    v = np.asarray([x for x in values if x == x], dtype=float)
    if v.size == 0:
        return "-"
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return f"{med:.4f} [{q1:.4f}, {q3:.4f}]"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds instead of 11")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--k", type=int, default=20, help="candidates kept per step (K)")
    parser.add_argument("--max-length", type=int, default=5)
    parser.add_argument("--k-expand", type=int, default=None,
                        help="K': children drawn per step when the expansion is larger (default: score all)")
    parser.add_argument("--skip-surrogates", action="store_true", help="only the search table")
    parser.add_argument("--surrogates", default="lstm,forest,gp,mean",
                        help="comma-separated surrogates of the held-out table")
    parser.add_argument("--methods", default=None,
                        help="only the search rows whose label contains one of these texts (separated by ';')")
    parser.add_argument("--torch-threads", default="1",
                        help="torch.set_num_threads before the runs; 'keep' leaves torch's default "
                             "(the LSTM surrogate fits on its own num_threads option, 1 by default)")
    parser.add_argument("--surrogate-options", default="{}",
                        help="JSON options of the LSTM surrogate in the LSTM rows, e.g. '{\"warm_start\": true}'")
    args = parser.parse_args(argv)
    import json

    import torch

    if args.torch_threads != "keep":
        torch.set_num_threads(int(args.torch_threads))
    lstm_options = json.loads(args.surrogate_options)
    from moopt.problems.progressive import SyntheticNAS

    n_seeds = args.seeds or (3 if args.quick else 11)
    seeds = list(range(n_seeds))
    problem = SyntheticNAS(max_length=args.max_length)
    seqs, _ = problem.enumerate()
    print(f"# Progressive search on {problem.name}\n")
    print(f"{len(seqs)} sequences, true front {len(problem.pareto_front())} points, "
          f"HV_true = {problem.max_hypervolume:.4f} (ref {np.round(problem.ref_point, 4).tolist()}); "
          f"K = {args.k}, K' = {args.k_expand or 'all children'}, {n_seeds} seeds.\n")

    methods = {
        "Pareto (crowding), LSTM": dict(selection="pareto", tie_break="crowding", surrogate="lstm"),
        "Pareto (HV contribution), LSTM": dict(selection="pareto", tie_break="hv", surrogate="lstm"),
        "Pareto (HV contribution), random forest": dict(selection="pareto", tie_break="hv", surrogate="forest"),
        "Pareto (HV contribution), GP": dict(selection="pareto", tie_break="hv", surrogate="gp"),
        "PNAS top-K, LSTM": dict(selection="pnas", surrogate="lstm"),
    }
    if args.methods:
        wanted = [w.strip() for w in args.methods.split(";") if w.strip()]
        methods = {k: v for k, v in methods.items() if any(w in k for w in wanted)}
    for opts in methods.values():
        if opts["surrogate"] == "lstm" and lstm_options:
            opts["surrogate_options"] = lstm_options
    rows = {}
    budget = None
    if methods:  # warm-up: imports and first-use costs stay out of the timed runs
        run_progressive(problem, 10_000, k=args.k, k_expand=args.k_expand, **next(iter(methods.values())))
    for label, opts in methods.items():
        rows[label] = []
        for s in seeds:
            rows[label].append(run_progressive(problem, s, k=args.k, k_expand=args.k_expand, **opts))
            print(f"  {label}, seed {s}: regret {rows[label][-1]['regret']:.4f}", file=sys.stderr, flush=True)
        budget = rows[label][0]["n"]
    rows["random search (distinct sequences)"] = [run_random(problem, s, budget or 86) for s in seeds]

    print(f"## Hypervolume regret after {budget} evaluations (median [IQR]; lower is better)\n")
    print("| method | HV regret | mean Kendall tau (error, per step) | seconds / run |")
    print("|---|---|---|---|")
    for label, res in rows.items():
        print(f"| {label} | {_fmt([r['regret'] for r in res])} | {_fmt([r['tau'] for r in res])} "
              f"| {np.median([r['seconds'] for r in res]):.2f} |")
    base = np.median([r["regret"] for r in rows["random search (distinct sequences)"]])
    print()
    for label, res in rows.items():
        print(f"- {label}: median regret / random's = {np.median([r['regret'] for r in res]) / base:.3f}")

    if args.skip_surrogates:
        return
    n_train = 100
    print(f"\n## Held-out surrogate quality on `error` ({n_train} random training sequences, "
          "1000 test; median [IQR])\n")
    print("| surrogate | Kendall tau | Spearman | MAE | seconds (fit + predict) |")
    print("|---|---|---|---|---|")
    for name in [n.strip() for n in args.surrogates.split(",") if n.strip()]:
        qs = [surrogate_quality(problem, name, s, n_train, **(lstm_options if name == "lstm" else {}))
              for s in seeds]
        print(f"| {name} | {_fmt([q['kendall_tau'] if q['kendall_tau'] is not None else float('nan') for q in qs])} "
              f"| {_fmt([q['spearman'] if q['spearman'] is not None else float('nan') for q in qs])} "
              f"| {_fmt([q['mae'] for q in qs])} | {np.median([q['seconds'] for q in qs]):.2f} |")


if __name__ == "__main__":
    main()
