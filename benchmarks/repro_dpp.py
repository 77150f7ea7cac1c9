"""Reproduce the seed paper's DPP-Net Table 3 at small scale (docs/reproductions.md).

(a) NB201 real-device table (looked up, instant): DPP-Net's progressive search
(``moopt.adapters.nas.presets.dpp(table="nb201")``) for the device classes ``ws`` (Titan X),
``es`` (Raspberry Pi 4), ``m`` (Pixel 3) and ``panacea`` (all three) with Pareto selection,
and with the PNAS criterion (top-k by predicted error), over ``--seeds`` seeds.  Every
evaluated cell's error (CIFAR-10, 200 epochs), params, MACs and latency on titanx_1, raspi4
and pixel3 come from the table.  The handcrafted baseline is the NB201 ResNet cell.

(b) digits (trained here): one DPP-Net run with Pareto selection and one with PNAS, target
``host`` (latency measured here), beside the four handcrafted baselines trained on digits with
the same epochs and measured the same way.

The chosen network of a run (the rule, stated in the docs): among the cells the run evaluated,
those within ``--within`` points of the run's best error; of these the one with the lowest
latency on the run's device (``panacea`` and ``pnas`` on the table: the lowest geometric mean of
the three latencies; on digits: the host latency).  The best-error network of each run is
reported too (what PNAS would pick).

Usage:
    python benchmarks/repro_dpp.py [--seeds 5] [--table-budget 100] [--digits-budget 60]
        [--epochs 2] [--out docs/repro]
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
RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"
DEVS = ("titanx_1", "raspi4", "pixel3")
TARGET_DEV = {"ws": ("titanx_1",), "es": ("raspi4",), "m": ("pixel3",), "panacea": DEVS, "pnas": DEVS}


def say(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", flush=True)


def choose(rows: list[dict], lat_keys, within: float) -> tuple[dict, dict]:
    """``(chosen, best_error)`` of a run's rows (see the module docstring for the rule)."""
    best = min(rows, key=lambda r: r["error_pct"])
    near = [r for r in rows if r["error_pct"] <= best["error_pct"] + within]
    chosen = min(near, key=lambda r: (float(np.exp(np.mean([np.log(r[k]) for k in lat_keys]))), r["error_pct"]))
    return chosen, best


def hv2(rows, a, b, ref) -> float:
    from moopt.indicators import hypervolume

    F = np.array([[r[a], r[b]] for r in rows], float)
    return float(hypervolume(F, ref, outside="ignore"))


def fmt(vals, digits=3) -> str:
    v = np.asarray(vals, float)
    if len(v) == 1 or np.allclose(v, v[0]):
        return f"{v.mean():.{digits}g}"
    return f"{v.mean():.{digits}g} ± {v.std():.2g}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds of the table runs")
    ap.add_argument("--table-budget", type=int, default=100, help="cells evaluated per table run (at most)")
    ap.add_argument("--k", type=int, default=8, help="cells kept per step")
    ap.add_argument("--digits-budget", type=int, default=60, help="networks trained per digits run")
    ap.add_argument("--epochs", type=float, default=2.0, help="training epochs on digits")
    ap.add_argument("--within", type=float, default=1.0, help="error slack (points) of the choice rule")
    ap.add_argument("--surrogate", default="lstm")
    ap.add_argument("--skip-table", action="store_true")
    ap.add_argument("--skip-digits", action="store_true")
    ap.add_argument("--out", default="docs/repro")
    args = ap.parse_args(argv)

    from moopt.adapters.nas.presets import dpp

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"args": vars(args), "cores": os.cpu_count(), "load_start": os.getloadavg()[0]}
    say(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

    # ------------------------------------------------------------------ (a) NB201 table
    if not args.skip_table:
        from moopt.problems.nb201 import NB201Problem, parse_arch

        full = NB201Problem(device="panacea", extra="params+macs")
        lat = {d: f"latency_ms_{d}" for d in DEVS}

        def lookup(params) -> dict:
            v = full.evaluate(params)
            return {"error_pct": v["error_pct"], "params": v["params"], "macs": v["macs"],
                    **{d: v[lat[d]] for d in DEVS}, "arch": full.table.arch_str(full.index_of(params))}

        ops = parse_arch(RESNET)
        resnet = lookup({"arch": RESNET})
        say(f"NB201 ResNet cell {RESNET}: ops per edge {ops} -> node1 = conv3x3(x), node2 = conv3x3(node1), "
            f"node3 = skip(x) + node2: two 3x3 convs with an identity shortcut (a basic residual block); "
            f"table: error {resnet['error_pct']:.2f}%, params {resnet['params']:.0f}")
        runs: dict = {}
        for target in ("ws", "es", "m", "panacea", "pnas"):
            runs[target] = []
            for s in range(args.seeds):
                t = time.perf_counter()
                res = dpp(table="nb201", target="panacea" if target == "pnas" else target,
                          criterion="pnas" if target == "pnas" else "pareto", budget=args.table_budget, k=args.k,
                          surrogate=args.surrogate, seed=s, out=None, export=False, progress=False)
                rows = [lookup(r.params) for r in res.records if r.status == "ok" and r.cached_from is None]
                chosen, best = choose(rows, TARGET_DEV[target], args.within)
                runs[target].append({"rows": rows, "chosen": chosen, "best": best, "counts": dict(res.counts)})
                say(f"table {target:>7} seed {s}: {len(rows)} cells in {time.perf_counter() - t:.1f}s; chosen "
                    f"{chosen['arch']} error {chosen['error_pct']:.2f}% "
                    + " ".join(f"{d} {chosen[d]:.3g}ms" for d in DEVS))
        # the same rule over the whole table (what an exhaustive search would pick)
        idx = np.flatnonzero(full.valid)
        F = full._F[idx]
        names = [o.name for o in full.objectives]
        allrows = [{"error_pct": F[i, names.index("error_pct")], "params": F[i, names.index("params")],
                    "macs": F[i, names.index("macs")], **{d: F[i, names.index(lat[d])] for d in DEVS}, "i": int(j)}
                   for i, j in enumerate(idx)]
        optimum = {}
        for target in ("ws", "es", "m", "panacea"):
            c, _ = choose(allrows, TARGET_DEV[target], args.within)
            optimum[target] = {**{k: float(v) for k, v in c.items() if k != "i"}, "arch": full.table.arch_str(c["i"])}
        best_all = min(allrows, key=lambda r: r["error_pct"])
        optimum["best error"] = {**{k: float(v) for k, v in best_all.items() if k != "i"},
                                 "arch": full.table.arch_str(best_all["i"])}
        table_rows = []
        for target, lst in runs.items():
            for which in ("chosen", "best"):
                if which == "best" and target not in ("pnas", "panacea"):
                    continue
                label = f"DPP-Net-{target.upper() if target != 'panacea' else 'Panacea'}"
                label = "DPP-Net-PNAS" if target == "pnas" else label
                if which == "best":
                    label += " (best error)"
                vals = [x[which] for x in lst]
                table_rows.append({"model": label, **{k: [float(v[k]) for v in vals]
                                                      for k in ("error_pct", "params", "macs", *DEVS)},
                                   "archs": [v["arch"] for v in vals]})
        # Pareto vs PNAS on the device objectives: HV of every evaluated cell in (error, latency on d)
        refs = {d: [100.0, 1.1 * max(r[d] for lst in runs.values() for x in lst for r in x["rows"])] for d in DEVS}
        hvd = {t: {d: [hv2(x["rows"], "error_pct", d, refs[d]) for x in runs[t]] for d in DEVS}
               for t in ("panacea", "pnas", "ws", "es", "m")}
        summary["table"] = {
            "resnet": resnet, "resnet_ops": ops, "optimum": optimum, "rows": table_rows,
            "counts": {t: [x["counts"] for x in lst] for t, lst in runs.items()},
            "cells_evaluated": {t: [len(x["rows"]) for x in lst] for t, lst in runs.items()},
            "hv_ref": refs, "hv": {t: {d: [float(np.mean(v)), float(np.std(v))] for d, v in h.items()}
                                   for t, h in hvd.items()}}
        lines = ["| model | error % | params (M) | MACs (M) | titanx_1 ms | raspi4 ms | pixel3 ms |",
                 "|---|---|---|---|---|---|---|"]
        for r in table_rows:
            lines.append(f"| {r['model']} | {fmt(r['error_pct'])} | {fmt(np.array(r['params']) / 1e6)} | "
                         f"{fmt(np.array(r['macs']) / 1e6)} | " + " | ".join(fmt(r[d]) for d in DEVS) + " |")
        lines.append(f"| ResNet cell (handcrafted) | {resnet['error_pct']:.3g} | {resnet['params'] / 1e6:.3g} | "
                     f"{resnet['macs'] / 1e6:.3g} | " + " | ".join(f"{resnet[d]:.3g}" for d in DEVS) + " |")
        for t, o in optimum.items():
            lines.append(f"| whole-table optimum, rule for {t} | {o['error_pct']:.3g} | {o['params'] / 1e6:.3g} | "
                         f"{o['macs'] / 1e6:.3g} | " + " | ".join(f"{o[d]:.3g}" for d in DEVS) + " |")
        summary["table"]["markdown"] = "\n".join(lines)
        print("\n".join(lines), flush=True)
        say("HV of every evaluated cell, (error %, latency on d), ref (100, 1.1 x max): " + json.dumps(
            summary["table"]["hv"]))
        with open(out / "dpp_nb201_runs.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["target", "seed", "pick", "arch", "error_pct", "params", "macs", *DEVS])
            for t, lst in runs.items():
                for s, x in enumerate(lst):
                    for which in ("chosen", "best"):
                        v = x[which]
                        w.writerow([t, s, which, v["arch"], v["error_pct"], v["params"], v["macs"],
                                    *[v[d] for d in DEVS]])

    # ------------------------------------------------------------------ (b) digits, host
    if not args.skip_digits:
        from moopt.adapters.nas.baselines import evaluate_baselines
        from moopt.adapters.nas.data import load_digits
        from moopt.adapters.nas.train import TrainConfig

        drows: dict = {}
        for crit in ("pareto", "pnas"):
            t = time.perf_counter()
            res = dpp(target="host", criterion=crit, budget=args.digits_budget, epochs=args.epochs, k=args.k,
                      surrogate=args.surrogate, seed=0, out=None, export=False, progress=False)
            rows = [{**r.objectives, "arch": "-".join(r.params["cell"])} for r in res.records
                    if r.status == "ok" and r.cached_from is None]
            chosen, best = choose(rows, ("latency_ms",), args.within)
            drows[crit] = {"rows": rows, "chosen": chosen, "best": best, "wall_s": time.perf_counter() - t,
                           "counts": dict(res.counts)}
            say(f"digits dpp {crit}: {len(rows)} networks in {drows[crit]['wall_s']:.0f}s; chosen {chosen['arch']} "
                f"error {chosen['error_pct']:.2f}% latency {chosen['latency_ms']:.3f} ms; best error "
                f"{best['error_pct']:.2f}% ({best['arch']})")
        say("digits baselines (same epochs, measured the same way)")
        ds = load_digits()
        base = evaluate_baselines(dataset=ds, train_config=TrainConfig(epochs=args.epochs), seed=0, repeats=20,
                                  progress=lambda r: say(f"  {r['name']}: acc {100 * r['val_acc']:.2f}% latency "
                                                         f"{r['latency_ms']:.3f} ms"))
        ref = [100.0, 1.1 * max(r["latency_ms"] for c in drows.values() for r in c["rows"])]
        lines = ["| model | error % | params (K) | MACs (K) | host latency ms |", "|---|---|---|---|---|"]
        for crit, lab in (("pareto", "DPP-Net (Pareto)"), ("pnas", "DPP-Net-PNAS")):
            for which in ("chosen", "best"):
                v = drows[crit][which]
                lines.append(f"| {lab}, {'chosen by the rule' if which == 'chosen' else 'best error'}: "
                             f"`{v['arch']}` | {v['error_pct']:.2f} | {v['params'] / 1e3:.1f} | {v['macs'] / 1e3:.0f} "
                             f"| {v['latency_ms']:.3f} |")
        for b in base:
            lines.append(f"| {b['name']} (handcrafted) | {100 - 100 * b['val_acc']:.2f} | {b['params'] / 1e3:.1f} | "
                         f"{b['macs'] / 1e3:.0f} | {b['latency_ms']:.3f} |")
        print("\n".join(lines), flush=True)
        hvs = {c: hv2(v["rows"], "error_pct", "latency_ms", ref) for c, v in drows.items()}
        say(f"digits HV (error %, host latency ms), ref {ref}: {hvs}")
        summary["digits"] = {
            "markdown": "\n".join(lines), "hv_ref": ref, "hv": hvs,
            "runs": {c: {k: v[k] for k in ("chosen", "best", "wall_s", "counts")} for c, v in drows.items()},
            "baselines": [{k: b[k] for k in ("name", "val_acc", "params", "macs", "latency_ms", "latency_iqr_ms",
                                             "train_time_s")} for b in base],
            "median_params": {c: float(np.median([r["params"] for r in v["rows"]])) for c, v in drows.items()},
            "median_latency_ms": {c: float(np.median([r["latency_ms"] for r in v["rows"]])) for c, v in drows.items()}}
    summary["load_end"] = os.getloadavg()[0]
    summary["wall_s"] = time.perf_counter() - T0
    (out / "dpp_summary.json").write_text(json.dumps(summary, indent=1, default=float))
    say(f"done in {summary['wall_s']:.0f}s; wrote {out}/dpp_summary.json, dpp_nb201_runs.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
