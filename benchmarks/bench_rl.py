"""MONAS-style REINFORCE search vs random search on the categorical knapsack.

For each method and seed, run a fixed budget of evaluations on
``moopt.problems.categorical.knapsack`` (maximize ``accuracy``, minimize
``energy_mj``; 10 decisions x 4 choices = 1,048,576 candidates) and measure
the hypervolume of everything evaluated, normalized by the hypervolume of the
true Pareto front (found by enumerating the whole space), so 1.0 is optimal.
The reference point is the true front's nadir plus 10% of its range; points
beyond it add nothing.

Methods: ``ReinforceSearch`` with the MONAS mixed reward (alpha 0.25 and
0.75), with the hypervolume-improvement reward (no weights; the search's
defaults for it: previous-batch baseline, normalized advantages), the same
with MONAS's settings (``hvi-monas``: EMA baseline 0.9, raw advantages) as an
ablation, and uniform random search.  All RL runs use 10 children per update,
hidden 32, Adam lr 0.01, entropy weight 0.01.  Prints a Markdown table with median and IQR over seeds, the
ratio of medians to random search and the median wall time per run.

Usage:
    python benchmarks/bench_rl.py            # 11 seeds, budget 400
    python benchmarks/bench_rl.py --quick    # 3 seeds, budget 120
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import torch

import moopt
from moopt.problems.categorical import knapsack
from moopt.search.reinforce import ReinforceSearch

N_LAYERS, N_CHOICES = 10, 4


def exact_front_and_ref(problem):
    """Pareto front of the whole space (minimized) and its nadir + 10% of the range as reference."""
    X = np.array(list(itertools.product(range(N_CHOICES), repeat=N_LAYERS)), dtype=float)
    F, _ = problem.evaluate_batch(X)
    Fm = F * problem.signs
    front = Fm[moopt.is_nondominated(Fm)]
    ideal, nadir = front.min(axis=0), front.max(axis=0)
    return front, nadir + 0.1 * (nadir - ideal)


def run(problem, method: str, seed: int, budget: int, batch: int, **options) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    if method == "random":
        search = moopt.RandomSearch(problem, seed=seed)
    else:
        reward = {"mixed-0.25": "mixed:alpha=0.25,accuracy=accuracy,energy=energy_mj",
                  "mixed-0.75": "mixed:alpha=0.75,accuracy=accuracy,energy=energy_mj",
                  "hvi": "hvi", "hvi-monas": "hvi"}[method]
        if method == "hvi-monas":  # ablation: MONAS's slow baseline and raw advantages
            options = dict(options, baseline_decay=0.9, normalize_advantages=False)
        search = ReinforceSearch(problem, seed=seed, reward=reward, children_per_update=batch, **options)
    rows = []
    while len(rows) < budget:
        cands = search.ask(min(batch, budget - len(rows)))
        X = np.array([problem.space.to_vector(c.params) for c in cands])
        F, _ = problem.evaluate_batch(X)
        search.tell([moopt.Evaluation.success(c, dict(zip(problem.objective_names, f))) for c, f in zip(cands, F)])
        rows.extend(F)
    return np.array(rows) * problem.signs, time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 seeds, budget 120")
    ap.add_argument("--seeds", type=int, default=11)
    ap.add_argument("--budget", type=int, default=400)
    ap.add_argument("--batch", type=int, default=10, help="children per policy update")
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.budget = 3, 120
    torch.set_num_threads(1)

    problem = knapsack(N_LAYERS, N_CHOICES, cost="energy_mj", seed=0)
    front, ref = exact_front_and_ref(problem)
    hv_opt = moopt.hypervolume(front, ref)
    methods = ["mixed-0.25", "mixed-0.75", "hvi", "hvi-monas", "random"]
    hv = {m: [] for m in methods}
    secs = {m: [] for m in methods}
    for seed in range(args.seeds):
        for m in methods:
            Fm, dt = run(problem, m, seed, args.budget, args.batch)
            hv[m].append(moopt.hypervolume(Fm, ref, outside="ignore") / hv_opt)
            secs[m].append(dt)

    base = np.median(hv["random"])
    print(f"knapsack {N_LAYERS}x{N_CHOICES} (accuracy max, energy_mj min), budget {args.budget}, "
          f"{args.seeds} seeds, {args.batch} children per update; HV / HV(true front)\n")
    print("| method | HV median | HV IQR (q25-q75) | median / random | gap to front | gap closed vs random "
          "| s per run |")
    print("|---|---|---|---|---|---|---|")
    for m in methods:
        q25, q50, q75 = np.percentile(hv[m], [25, 50, 75])
        closed = 1.0 - (1.0 - q50) / (1.0 - base)
        print(f"| {m} | {q50:.4f} | {q25:.4f}-{q75:.4f} | {q50 / base:.3f} | {1 - q50:.4f} | {closed:+.0%} "
              f"| {np.median(secs[m]):.2f} |")
    wins = {m: int(np.sum(np.array(hv[m]) > np.array(hv["random"]))) for m in methods if m != "random"}
    print("\nseeds where the method beats random search (same seed): "
          + ", ".join(f"{m} {w}/{args.seeds}" for m, w in wins.items()))


if __name__ == "__main__":
    main()
