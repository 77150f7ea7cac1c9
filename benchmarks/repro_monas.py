"""Reproduce the seed paper's MONAS Figures 1-3 at small scale (docs/reproductions.md).

Two settings:

* digits (trained here): the MONAS macro space, each child trained ``--epochs`` epochs on
  scikit-learn's 8x8 digits; accuracy is measured here, energy is the deterministic 45 nm
  estimate (``energy="estimated"``: this machine has neither NVML nor RAPL) and the power is
  that estimated energy divided by the latency measured here (so the power is noisy).  The
  power budget is the 30th percentile (``--power-pct``) of a short random pilot's power and the
  accuracy threshold its 70th percentile (``--acc-pct``) of accuracy.
* NB201 table (looked up): accuracy = 100 - the table's CIFAR-10 error, cost = latency on
  ``--nb201-device`` from the real-device table.  The table has no power, so the power
  budget's analogue is a latency budget (the same percentile of a random pilot).

Runs per setting: random search, REINFORCE with the power (latency) constraint reward, with the
accuracy constraint reward, and with the mixed reward at alpha 0.25 and 0.75, all with the same
budget (``--updates`` x ``--children`` children), the same problem and the preset's controller
settings (LSTM width 32, Adam lr 0.01).  Every sampled child counts (``count_duplicates=True``:
a repeated architecture is served from the cache but costs a child, as a MONAS iteration does).
Writes figures and CSV into ``--out`` and prints the numbers docs/reproductions.md quotes.

Usage:
    python benchmarks/repro_monas.py [--epochs 2] [--updates 50] [--children 5] [--pilot 30]
        [--nb201-updates 100] [--nb201-seeds 3] [--out docs/repro]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path

import numpy as np

T0 = time.perf_counter()


def say(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", flush=True)


def rows_of(result, names) -> list[dict]:
    """Every child of a run in sampling order (cached repeats included, with their values)."""
    out = []
    for r in sorted(result.records, key=lambda r: r.seq):
        row = {"seq": r.seq, "status": r.status, "params": json.dumps(r.params, sort_keys=True)}
        for n in names:
            row[n] = r.objectives.get(n, np.nan) if r.status == "ok" else np.nan
        out.append(row)
    return out


def batch_share(rows, pred, size: int) -> np.ndarray:
    """Share of each consecutive batch of ``size`` children meeting ``pred`` (failed: not meeting)."""
    ok = np.array([r["status"] == "ok" and bool(pred(r)) for r in rows], dtype=float)
    n = len(ok) // size
    return ok[: n * size].reshape(n, size).mean(axis=1)


def logged_share(result) -> np.ndarray:
    """``satisfied_fraction`` of every ``policy_update`` the search logged, in order."""
    vals = []
    for e in result.logs:
        d = e.get("data", e) if isinstance(e, dict) else {}
        d = d if isinstance(d, dict) else {}
        if d.get("satisfied_fraction") is not None:
            vals.append(float(d["satisfied_fraction"]))
    return np.array(vals)


def front_mask(acc, cost) -> np.ndarray:
    from moopt.pareto import is_nondominated

    F = np.column_stack([-np.asarray(acc, float), np.asarray(cost, float)])
    good = np.all(np.isfinite(F), axis=1)
    m = np.zeros(len(F), bool)
    if good.any():
        m[np.flatnonzero(good)] = is_nondominated(F[good])
    return m


def hv(acc, cost, ref) -> float:
    from moopt.indicators import hypervolume

    F = np.column_stack([100.0 - np.asarray(acc, float), np.asarray(cost, float)])
    F = F[np.all(np.isfinite(F), axis=1)]
    return float(hypervolume(F, ref, outside="ignore")) if len(F) else 0.0


def coverage(a_acc, a_cost, b_acc, b_cost) -> float:
    """C(A, B): share of B's front points weakly dominated by some point of A (Zitzler's coverage)."""
    A = np.column_stack([-np.asarray(a_acc, float), np.asarray(a_cost, float)])
    B = np.column_stack([-np.asarray(b_acc, float), np.asarray(b_cost, float)])
    A, B = A[np.all(np.isfinite(A), axis=1)], B[np.all(np.isfinite(B), axis=1)]
    if not len(B):
        return float("nan")
    return float(np.mean([np.any(np.all(A <= b, axis=1)) for b in B]))


def front_xy(rows, acc_key, cost_key):
    acc = np.array([r[acc_key] for r in rows], float)
    cost = np.array([r[cost_key] for r in rows], float)
    m = front_mask(acc, cost)
    order = np.argsort(acc[m])
    return acc[m][order], cost[m][order]


def run_setting(label, problem, *, cost, constraint_key, constraint_budget, acc_threshold, updates, children,
                seed, extra_runs=True):
    """The five runs of one setting: random, power/latency-constraint, accuracy-constraint, alpha 0.25, 0.75."""
    import moopt
    from moopt.rewards import AccuracyConstraintReward, MixedReward, PowerConstraintReward

    budget = updates * children
    names = ["accuracy_pct", cost] + ([constraint_key] if constraint_key != cost else [])
    rl = {"children_per_update": children, "lr": 0.01, "hidden": 32}
    specs = [("random", "random", {}),
             ("constraint", "reinforce", {"reward": PowerConstraintReward(constraint_budget, accuracy="accuracy_pct",
                                                                         power=constraint_key), **rl}),
             ("accuracy", "reinforce", {"reward": AccuracyConstraintReward(acc_threshold, accuracy="accuracy_pct",
                                                                           energy=cost), **rl})]
    if extra_runs:
        specs += [("alpha0.25", "reinforce", {"reward": MixedReward(0.25, accuracy="accuracy_pct", energy=cost),
                                              **rl}),
                  ("alpha0.75", "reinforce", {"reward": MixedReward(0.75, accuracy="accuracy_pct", energy=cost),
                                              **rl})]
    out = {}
    for name, algo, opts in specs:
        t = time.perf_counter()
        res = moopt.optimize(problem, algo, budget=budget, seed=seed, progress=False, count_duplicates=True, **opts)
        rows = rows_of(res, names)
        out[name] = {"rows": rows, "result": res, "wall_s": time.perf_counter() - t}
        acc = np.array([r["accuracy_pct"] for r in rows], float)
        say(f"{label} seed {seed} {name:>10}: {len(rows)} children in {out[name]['wall_s']:.1f}s, "
            f"best accuracy {np.nanmax(acc):.2f}%, median {cost} {np.nanmedian([r[cost] for r in rows]):.4g}")
    return out


def shares(runs, *, constraint_key, constraint_budget, acc_threshold, children, updates):
    """Per-update satisfied shares: constraint (power/latency) and accuracy, RL and random."""
    def pw(r):
        return r[constraint_key] <= constraint_budget

    def ac(r):
        return r["accuracy_pct"] / 100.0 >= acc_threshold

    s = {"rl_constraint": batch_share(runs["constraint"]["rows"], pw, children),
         "random_constraint": batch_share(runs["random"]["rows"], pw, children),
         "rl_accuracy": batch_share(runs["accuracy"]["rows"], ac, children),
         "random_accuracy": batch_share(runs["random"]["rows"], ac, children)}
    # the policy's own per-update log is authoritative for REINFORCE (children outside the space, e.g. the
    # NB201 inconsistent cells, are re-sampled, so the records do not fall into batches of ``children``)
    for k in ("constraint", "accuracy"):
        s[f"rl_{k}_computed"] = s[f"rl_{k}"]
        logged = logged_share(runs[k]["result"])
        s[f"rl_{k}_logged"] = logged
        if len(logged):
            s[f"rl_{k}"] = logged
    # the runs count every sampled child (count_duplicates=True: a repeat is served from the cache but
    # costs a child, as an iteration of MONAS does), so there are ``updates`` updates; the cut is a guard
    # for children outside the space (NB201's inconsistent cells), which cost nothing
    s["updates_run"] = {k: len(s[f"rl_{k}_logged"]) for k in ("constraint", "accuracy")}
    for k in ("rl_constraint", "random_constraint", "rl_accuracy", "random_accuracy"):
        s[k] = s[k][:updates]
    return s


def smooth(y, w):
    y = np.asarray(y, float)
    if w <= 1 or len(y) < w:
        return y
    c = np.convolve(y, np.ones(w) / w, mode="valid")
    return np.concatenate([np.full(w - 1, np.nan), c])


def finish_fig1(plt, fig, axes, suptitle: str, path) -> None:
    """Axes, legend and title of a Figure 1 (share satisfying vs iterations); save it to ``path``."""
    for ax in axes:
        ax.set_xlabel("controller iterations (policy updates)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("% of children satisfying")
    axes[0].legend(fontsize=8)
    fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=float, default=2.0, help="training epochs of each digits child")
    ap.add_argument("--updates", type=int, default=50, help="policy updates per digits run")
    ap.add_argument("--children", type=int, default=5, help="children per policy update")
    ap.add_argument("--pilot", type=int, default=30, help="random children of the digits pilot")
    ap.add_argument("--power-pct", type=float, default=30.0, help="budget percentile of the pilot's power/latency")
    ap.add_argument("--acc-pct", type=float, default=70.0, help="threshold percentile of the pilot's accuracy")
    ap.add_argument("--nb201-updates", type=int, default=100)
    ap.add_argument("--nb201-seeds", type=int, default=3)
    ap.add_argument("--nb201-device", default="pixel3")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-digits", action="store_true")
    ap.add_argument("--skip-nb201", action="store_true")
    ap.add_argument("--out", default="docs/repro")
    args = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"args": vars(args), "cores": os.cpu_count(), "load_start": os.getloadavg()[0]}
    say(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    C = args.children

    # ------------------------------------------------------------------ NB201 table (instant)
    if not args.skip_nb201:
        import moopt
        from moopt.problem import Objective, Problem
        from moopt.problems.nb201 import NB201Problem

        table = NB201Problem(device=args.nb201_device)

        def evaluate(params):
            v = table.evaluate(params)
            return {"accuracy_pct": 100.0 - v["error_pct"], "latency_ms": v["latency_ms"]}

        problem = Problem(table.variables, [Objective("accuracy_pct", "max", "%"),
                                            Objective("latency_ms", "min", "ms")], evaluate,
                          name=f"repro-monas-nb201-{args.nb201_device}")
        pilot = moopt.optimize(problem, "random", budget=100, seed=10_000 + args.seed, progress=False)
        prow = [r for r in rows_of(pilot, ["accuracy_pct", "latency_ms"]) if r["status"] == "ok"]
        lat_budget = float(np.percentile([r["latency_ms"] for r in prow], args.power_pct))
        acc_thr = float(np.percentile([r["accuracy_pct"] for r in prow], args.acc_pct)) / 100.0
        say(f"NB201 ({args.nb201_device}) pilot of 100: latency budget {lat_budget:.3f} ms "
            f"(p{args.power_pct:g}), accuracy threshold {acc_thr:.4f} (p{args.acc_pct:g})")
        per_seed = []
        for s in range(args.nb201_seeds):
            runs = run_setting("NB201", problem, cost="latency_ms", constraint_key="latency_ms",
                               constraint_budget=lat_budget, acc_threshold=acc_thr, updates=args.nb201_updates,
                               children=C, seed=args.seed + s)
            sh = shares(runs, constraint_key="latency_ms", constraint_budget=lat_budget, acc_threshold=acc_thr,
                        children=C, updates=args.nb201_updates)
            per_seed.append((runs, sh))
        # figure 1 (NB201)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
        for ax, key, title in [(axes[0], "constraint", f"latency <= {lat_budget:.2f} ms on {args.nb201_device}"),
                               (axes[1], "accuracy", f"accuracy >= {100 * acc_thr:.2f}%")]:
            rl = np.array([sh[f"rl_{key}"] for _, sh in per_seed])
            rnd = np.array([sh[f"random_{key}"] for _, sh in per_seed])
            x = np.arange(1, rl.shape[1] + 1)
            ax.plot(x, 100 * smooth(rl.mean(0), 5), label="REINFORCE (mean of seeds, 5-update mean)")
            ax.plot(x, 100 * smooth(rnd.mean(0), 5), label="random search", color="gray")
            ax.set_title(title, fontsize=10)
        finish_fig1(plt, fig, axes,
                    f"MONAS Fig. 1 on the NB201 table ({args.nb201_seeds} seeds, {C} children/update)",
                    out / "monas_fig1_nb201.png")
        # fronts and HV (NB201)
        allrows = [r for runs, _ in per_seed for k in runs for r in runs[k]["rows"] if r["status"] == "ok"]
        ref = [1.1 * max(100 - r["accuracy_pct"] for r in allrows), 1.1 * max(r["latency_ms"] for r in allrows)]
        hvs = {k: [] for k in ("random", "alpha0.25", "alpha0.75", "rl_union")}
        last = {k: {"acc": [], "cost": []} for k in ("random", "alpha0.25", "alpha0.75")}
        cov = {"rl_over_random": [], "random_over_rl": []}
        tail = 10 * C
        for runs, _ in per_seed:
            fr = {}
            for k in ("random", "alpha0.25", "alpha0.75"):
                rows = [r for r in runs[k]["rows"] if r["status"] == "ok"]
                a, c = front_xy(rows, "accuracy_pct", "latency_ms")
                fr[k] = (a, c)
                hvs[k].append(hv(a, c, ref))
                last[k]["acc"].append(np.nanmedian([r["accuracy_pct"] for r in runs[k]["rows"][-tail:]]))
                last[k]["cost"].append(np.nanmedian([r["latency_ms"] for r in runs[k]["rows"][-tail:]]))
            ua = np.concatenate([fr["alpha0.25"][0], fr["alpha0.75"][0]])
            uc = np.concatenate([fr["alpha0.25"][1], fr["alpha0.75"][1]])
            hvs["rl_union"].append(hv(ua, uc, ref))
            cov["rl_over_random"].append(coverage(ua, uc, *fr["random"]))
            cov["random_over_rl"].append(coverage(*fr["random"], ua, uc))
        last_c = {k: {"rl": float(np.mean([sh[f"rl_{k}"][-10:].mean() for _, sh in per_seed])),
                      "random": float(np.mean([sh[f"random_{k}"][-10:].mean() for _, sh in per_seed])),
                      "rl_first10": float(np.mean([sh[f"rl_{k}"][:10].mean() for _, sh in per_seed])),
                      "rl_per_seed_last10": [float(sh[f"rl_{k}"][-10:].mean()) for _, sh in per_seed]}
                  for k in ("constraint", "accuracy")}
        summary["nb201"] = {
            "device": args.nb201_device, "latency_budget_ms": lat_budget, "accuracy_threshold": acc_thr,
            "updates": args.nb201_updates, "seeds": args.nb201_seeds, "shares_last10": last_c,
            "hv_ref": ref, "hv": {k: [float(np.mean(v)), float(np.std(v))] for k, v in hvs.items()},
            "hv_per_seed": hvs, "coverage": {k: float(np.mean(v)) for k, v in cov.items()},
            "median_last10_updates": {k: {"acc": float(np.mean(v["acc"])), "latency_ms": float(np.mean(v["cost"]))}
                                      for k, v in last.items()},
            "updates_run": [sh["updates_run"] for _, sh in per_seed],
            "children_sampled": [{k: len(runs[k]["rows"]) for k in runs} for runs, _ in per_seed]}
        fig, ax = plt.subplots(figsize=(5.5, 4))
        runs0 = per_seed[0][0]
        for k, col in [("alpha0.25", "tab:blue"), ("alpha0.75", "tab:red"), ("random", "gray")]:
            rows = [r for r in runs0[k]["rows"] if r["status"] == "ok"]
            a, c = front_xy(rows, "accuracy_pct", "latency_ms")
            ax.step(a, c, where="post", color=col, label=f"{k} front (HV {hvs[k][0]:.1f})")
            ax.scatter(a, c, color=col, s=12)
        ax.set_xlabel("CIFAR-10 accuracy (%), NB201 table")
        ax.set_ylabel(f"latency on {args.nb201_device} (ms), NB201 table")
        ax.set_xlim(80, 92)  # the fronts' knee (each front also holds a ~10% accuracy, ~0 ms cell)
        ax.set_ylim(0, 25)
        ax.legend(fontsize=8)
        ax.set_title(f"MONAS Fig. 3(a) analogue on NB201 (seed {args.seed})", fontsize=10)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "monas_fig3_nb201.png", dpi=110)
        plt.close(fig)
        say(f"NB201 done: shares over the last 10 updates {json.dumps(last_c)}")
        say(f"NB201 HV (ref {ref}): " + ", ".join(f"{k} {np.mean(v):.2f}+-{np.std(v):.2f}" for k, v in hvs.items()))

    # ------------------------------------------------------------------ digits (trained here)
    if not args.skip_digits:
        import moopt
        from moopt.adapters.nas.baselines import evaluate_baselines
        from moopt.adapters.nas.data import load_digits
        from moopt.adapters.nas.problem import nas_problem
        from moopt.adapters.nas.train import TrainConfig

        ds = load_digits()
        tc = TrainConfig(epochs=args.epochs)
        names = ["accuracy_pct", "energy_mj", "peak_power_w"]
        problem = nas_problem("monas", objectives=names, dataset=ds, train_config=tc, seed=args.seed,
                              energy="estimated", name="repro-monas-digits")
        say(f"digits: {len(ds.train.x)} train / {len(ds.val.x)} val images, {args.epochs:g} epochs per child")
        pilot = moopt.optimize(problem, "random", budget=args.pilot, seed=10_000 + args.seed, progress=False)
        prow = [r for r in rows_of(pilot, names) if r["status"] == "ok"]
        power_budget = float(np.percentile([r["peak_power_w"] for r in prow], args.power_pct))
        acc_thr = float(np.percentile([r["accuracy_pct"] for r in prow], args.acc_pct)) / 100.0
        say(f"digits pilot of {args.pilot}: power budget {power_budget:.4f} W (p{args.power_pct:g}), "
            f"accuracy threshold {acc_thr:.4f} (p{args.acc_pct:g})")
        runs = run_setting("digits", problem, cost="energy_mj", constraint_key="peak_power_w",
                           constraint_budget=power_budget, acc_threshold=acc_thr, updates=args.updates, children=C,
                           seed=args.seed)
        sh = shares(runs, constraint_key="peak_power_w", constraint_budget=power_budget, acc_threshold=acc_thr,
                    children=C, updates=args.updates)
        say("digits baselines (trained with the same epochs, measured the same way)")
        base = evaluate_baselines(dataset=ds, train_config=tc, seed=args.seed, repeats=20,
                                  progress=lambda r: say(f"  {r['name']}: acc {100 * r['val_acc']:.2f}%, "
                                                         f"energy {r['energy_mj']:.4g} mJ ({r['energy_source']}), "
                                                         f"latency {r['latency_ms']:.3f} ms"))
        # CSV of every child
        with open(out / "monas_digits_children.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["run", "seq", "status", "accuracy_pct", "energy_mj", "peak_power_w", "params"])
            for k, v in runs.items():
                for r in v["rows"]:
                    w.writerow([k, r["seq"], r["status"], r["accuracy_pct"], r["energy_mj"], r["peak_power_w"],
                                r["params"]])
        # figure 1 (digits)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
        for ax, key, title in [(axes[0], "constraint", f"power <= {power_budget:.3f} W (estimated)"),
                               (axes[1], "accuracy", f"accuracy >= {100 * acc_thr:.1f}%")]:
            x = np.arange(1, len(sh[f"rl_{key}"]) + 1)
            ax.plot(x, 100 * sh[f"rl_{key}"], alpha=0.3, color="tab:blue")
            ax.plot(x, 100 * smooth(sh[f"rl_{key}"], 5), color="tab:blue", label="REINFORCE (5-update mean)")
            ax.plot(x, 100 * smooth(sh[f"random_{key}"], 5), color="gray", label="random search (5-batch mean)")
            ax.set_title(title, fontsize=10)
        finish_fig1(plt, fig, axes,
                    f"MONAS Fig. 1 on digits (macro space, {args.epochs:g} epochs, {C} children/update)",
                    out / "monas_fig1_digits.png")
        # figure 2
        fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True, sharey=True)
        for ax, k in zip(axes, ("alpha0.25", "alpha0.75")):
            rows = [r for r in runs[k]["rows"] if r["status"] == "ok"]
            ax.scatter([r["accuracy_pct"] for r in rows], [r["energy_mj"] for r in rows], s=10, alpha=0.5,
                       label="children")
            a, c = front_xy(rows, "accuracy_pct", "energy_mj")
            ax.step(a, c, where="post", color="red", label="Pareto front")
            ax.set_title(f"alpha = {k[5:]}", fontsize=10)
            ax.set_xlabel("accuracy on digits (%), trained here")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("energy per inference (mJ), estimated")
        axes[0].legend(fontsize=8)
        fig.suptitle("MONAS Fig. 2 on digits: every child of the mixed-reward runs", fontsize=10)
        fig.tight_layout()
        fig.savefig(out / "monas_fig2_digits.png", dpi=110)
        plt.close(fig)
        # figure 3 + HV
        allrows = [r for k in ("random", "alpha0.25", "alpha0.75") for r in runs[k]["rows"] if r["status"] == "ok"]
        ref = [1.1 * max(100 - r["accuracy_pct"] for r in allrows), 1.1 * max(r["energy_mj"] for r in allrows)]
        fr, hvs, med = {}, {}, {}
        tail = 10 * C
        for k in ("random", "alpha0.25", "alpha0.75"):
            rows = [r for r in runs[k]["rows"] if r["status"] == "ok"]
            fr[k] = front_xy(rows, "accuracy_pct", "energy_mj")
            hvs[k] = hv(*fr[k], ref)
            med[k] = {"acc": float(np.nanmedian([r["accuracy_pct"] for r in runs[k]["rows"][-tail:]])),
                      "energy_mj": float(np.nanmedian([r["energy_mj"] for r in runs[k]["rows"][-tail:]])),
                      "acc_all": float(np.nanmedian([r["accuracy_pct"] for r in runs[k]["rows"]])),
                      "energy_all": float(np.nanmedian([r["energy_mj"] for r in runs[k]["rows"]]))}
        ua = np.concatenate([fr["alpha0.25"][0], fr["alpha0.75"][0]])
        uc = np.concatenate([fr["alpha0.25"][1], fr["alpha0.75"][1]])
        hvs["rl_union"] = hv(ua, uc, ref)
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        for k, col in [("alpha0.25", "tab:blue"), ("alpha0.75", "tab:red"), ("random", "gray")]:
            a, c = fr[k]
            ax.step(a, c, where="post", color=col, label=f"{k} front (HV {hvs[k]:.3g})")
            ax.scatter(a, c, color=col, s=14)
        for b, m in zip(base, "osD^"):
            ax.scatter([100 * b["val_acc"]], [b["energy_mj"]], marker=m, s=50, color="k", label=b["name"])
        ax.set_yscale("log")
        ax.set_xlabel("accuracy on digits (%), trained here")
        ax.set_ylabel("energy per inference (mJ), estimated (log)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        ax.set_title("MONAS Fig. 3 on digits: fronts and handcrafted baselines", fontsize=10)
        fig.tight_layout()
        fig.savefig(out / "monas_fig3_digits.png", dpi=110)
        plt.close(fig)
        summary["digits"] = {
            "epochs": args.epochs, "updates": args.updates, "children": C, "pilot": args.pilot,
            "power_budget_w": power_budget, "accuracy_threshold": acc_thr,
            "shares_first5": {k: float(np.mean(sh[k][:5])) for k in ("rl_constraint", "random_constraint",
                                                                       "rl_accuracy", "random_accuracy")},
            "shares_last5": {k: float(np.mean(sh[k][-5:])) for k in ("rl_constraint", "random_constraint",
                                                                      "rl_accuracy", "random_accuracy")},
            "shares_last10": {k: float(np.mean(sh[k][-10:])) for k in ("rl_constraint", "random_constraint",
                                                                        "rl_accuracy", "random_accuracy")},
            "updates_run": sh["updates_run"],
            "children_sampled": {k: len(v["rows"]) for k, v in runs.items()},
            "logged_constraint": sh["rl_constraint_logged"].tolist(),
            "computed_constraint": sh["rl_constraint_computed"].tolist(),
            "hv_ref": ref, "hv": hvs,
            "coverage": {"rl_over_random": coverage(ua, uc, *fr["random"]),
                         "random_over_rl": coverage(*fr["random"], ua, uc)},
            "median_last10_updates": med,
            "fronts": {k: {"acc": v[0].tolist(), "energy_mj": v[1].tolist()} for k, v in fr.items()},
            "baselines": [{k: b[k] for k in ("name", "val_acc", "energy_mj", "energy_source", "latency_ms", "params",
                                             "macs", "peak_power_w", "train_time_s")} for b in base],
            "wall_s": {k: v["wall_s"] for k, v in runs.items()}}
        for b in base:
            dom = [k for k in ("alpha0.25", "alpha0.75", "random")
                   if np.any((fr[k][0] >= 100 * b["val_acc"]) & (fr[k][1] <= b["energy_mj"]))]
            say(f"  baseline {b['name']} dominated by the fronts of: {dom or 'none'}")
            b["dominated_by"] = dom
        summary["digits"]["baseline_dominated_by"] = {b["name"]: b["dominated_by"] for b in base}
        say(f"digits shares (last 5 updates): {json.dumps(summary['digits']['shares_last5'])}")
        say(f"digits HV (ref {ref}): {json.dumps(hvs)}")
        say(f"digits medians of the last 10 updates: {json.dumps(med)}")
    summary["load_end"] = os.getloadavg()[0]
    summary["wall_s"] = time.perf_counter() - T0
    (out / "monas_summary.json").write_text(json.dumps(summary, indent=1, default=float))
    say(f"done in {summary['wall_s']:.0f}s; wrote {out}/monas_*.png, monas_summary.json, monas_digits_children.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
