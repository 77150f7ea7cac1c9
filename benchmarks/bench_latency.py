"""Latency measurement quality, LUT validation and the baselines' device objectives.

Three Markdown tables:

1. Repeatability of ``measure_latency``: for a few networks, K independent calls;
   median of the medians, the coefficient of variation (CV) *across calls* and
   the mean within-call CV, and the ratio to ``torch.utils.benchmark.Timer``
   (``blocked_autorange`` median) as an independent peer.
2. LUT validation: a DPP-Net latency table profiled here predicts the latency
   of N random DPP-Net architectures; Spearman / Kendall rank correlation
   between predicted and measured medians (and the mean ratio measured/predicted),
   with wall-clock time and with single-thread CPU time (``clock="cpu"``), which
   leaves out the waits for a core on a loaded shared machine.
3. Baselines (MobileNetV2, ShuffleNetV2, DenseNet-121, CondenseNet-like): params,
   MACs, latency, peak memory, energy, digits val accuracy after a short training.

Usage::

    python benchmarks/bench_latency.py            # full: 100 archs at 3x32x32, K=10
    python benchmarks/bench_latency.py --quick    # small: 30 archs at 1x8x8, K=5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import torch


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def _kendall(a, b) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)


def repeatability(k: int, threads: int, repeats: int) -> str:
    from torch.utils.benchmark import Timer

    from moopt.adapters.nas.baselines import build_baseline
    from moopt.adapters.nas.objectives import inference_form, measure_latency
    from moopt.adapters.nas.spaces.dpp import build_dpp

    models = {
        "dpp (bnrelu,conv3x3) 3x32x32": (build_dpp(("bnrelu", "conv3x3"), input_shape=(3, 32, 32), num_classes=10),
                                         (3, 32, 32)),
        "condensenet_like 3x32x32": (build_baseline("condensenet_like", input_shape=(3, 32, 32), num_classes=10),
                                     (3, 32, 32)),
        "mobilenet_v2 1x8x8": (build_baseline("mobilenet_v2", input_shape=(1, 8, 8), num_classes=10), (1, 8, 8)),
    }
    clocks = ["wall"] + (["cpu"] if threads == 1 else [])
    lines = [f"### measure_latency repeatability (K={k} calls x {repeats} repeats, batch 1, {threads} thread(s))", "",
             "| model | clock | median of medians ms | CV across calls | mean within-call CV | "
             "torch Timer median ms (wall) | ratio ours/Timer |", "|---|---|---:|---:|---:|---:|---:|"]
    for name, (model, shape) in models.items():
        m = inference_form(model)
        x = torch.randn(1, *shape)
        torch.set_num_threads(threads)
        with torch.inference_mode():
            t = Timer("m(x)", globals={"m": m, "x": x}, num_threads=threads).blocked_autorange(min_run_time=1.0)
        peer = t.median * 1e3
        for clock in clocks:
            meds, cvs = [], []
            for _ in range(k):
                r = measure_latency(model, shape, threads=threads, repeats=repeats, clock=clock)
                meds.append(r["latency_ms"])
                cvs.append(r["latency_cv"])
            cv = statistics.pstdev(meds) / statistics.fmean(meds)
            med = statistics.median(meds)
            lines.append(f"| {name} | {clock} | {med:.3f} | {cv:.3f} | {statistics.fmean(cvs):.3f} | "
                         f"{peer:.3f} | {med / peer:.2f} |")
    return "\n".join(lines)


def lut_validation(n_archs: int, shape, threads: int, repeats: int, seed: int = 0) -> tuple[str, dict]:
    from moopt.adapters.nas.devices import profile_dpp
    from moopt.adapters.nas.objectives import measure_latency
    from moopt.adapters.nas.spaces.dpp import DPPCellSpace, DPPConfig, build_dpp

    cfg = DPPConfig()
    clocks = ["wall"] + (["cpu"] if threads == 1 else [])
    luts, t_prof = {}, {}
    for clock in clocks:
        t0 = time.perf_counter()
        luts[clock] = profile_dpp(shape, 10, config=cfg, threads=threads, repeats=repeats, clock=clock)
        t_prof[clock] = time.perf_counter() - t0
    space = DPPCellSpace(max_length=6)
    rng = np.random.default_rng(seed)
    cells, seen = [], set()
    while len(cells) < n_archs:
        c = space.sample(rng)
        if c not in seen:
            seen.add(c)
            cells.append(c)
    meas = {c: [] for c in clocks}
    meas_min = {c: [] for c in clocks}
    t0 = time.perf_counter()
    for cell in cells:
        torch.manual_seed(0)
        net = build_dpp(cell, input_shape=shape, num_classes=10, config=cfg)
        for clock in clocks:
            r = measure_latency(net, shape, threads=threads, repeats=repeats, clock=clock)
            meas[clock].append(r["latency_ms"])
            meas_min[clock].append(r["latency_min_ms"])
    t_meas = time.perf_counter() - t0
    lines = [f"### DPP-Net latency LUT vs measured ({n_archs} random cells of 2..6 tokens, input "
             f"{'x'.join(map(str, shape))}, skeleton stages {cfg.stages} growth {cfg.growth}, batch 1, "
             f"{threads} thread(s), {repeats} repeats, measuring all clocks took {t_meas:.0f} s)", "",
             "| clock | statistic | LUT entries | profile s | Spearman rho | Kendall tau | mean measured/predicted | "
             "measured ms (min / median / max) |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    rhos = {}
    for clock in clocks:
        for stat, values in (("median", meas[clock]), ("min", meas_min[clock])):
            pred = [luts[clock].predict(c, stat="ms" if stat == "median" else "min_ms") for c in cells]
            m = values
            rho = _spearman(pred, m)
            rhos[f"{clock}/{stat}"] = rho
            ratio = float(np.mean(np.array(m) / np.array(pred)))
            lines.append(f"| {clock} | {stat} | {len(luts[clock].entries)} | {t_prof[clock]:.1f} | {rho:.3f} | "
                         f"{_kendall(pred, m):.3f} | {ratio:.2f} | {min(m):.2f} / {statistics.median(m):.2f} / "
                         f"{max(m):.2f} |")
    return "\n".join(lines), rhos


def baselines(epochs: float, threads: int, repeats: int, max_train, clock: str) -> str:
    from moopt.adapters.nas.baselines import BASELINES, evaluate_baselines
    from moopt.adapters.nas.train import TrainConfig
    from moopt.cli.nas import baseline_table

    rows = evaluate_baselines(BASELINES, train_config=TrainConfig(epochs=epochs, threads=threads, max_train=max_train),
                              threads=threads, repeats=repeats, clock=clock,
                              progress=lambda r: print(f"  done {r['name']}", file=sys.stderr))
    head = (f"### Baselines on this host (digits 1x8x8, batch 1, {threads} thread(s); trained {epochs} epoch(s), "
            "SGD-Nesterov lr 0.1 cosine, seed 0)")
    return head + "\n\n" + baseline_table(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", choices=["repeatability", "lut", "baselines"], default=None,
                    help="run one section only")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall", help="latency clock of the baselines table")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        k, n, shape, rep, epochs, max_train = 3, 30, (1, 8, 8), 15, 1, 256
    else:
        k, n, shape, rep, epochs, max_train = 10, 100, (3, 32, 32), 20, 3, None
    if args.only in (None, "repeatability"):
        print(repeatability(k, args.threads, rep), end="\n\n", flush=True)
    if args.only in (None, "lut"):
        table, rhos = lut_validation(n, shape, args.threads, rep)
        print(table, end="\n\n", flush=True)
        print("LUT Spearman rho (clock/statistic): " + ", ".join(f"{k} {v:.3f}" for k, v in rhos.items())
              + " (target >= 0.9)\n")
    if args.only in (None, "baselines"):
        print(baselines(epochs, args.threads, rep, max_train, args.clock), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
