"""The run engine's own cost per evaluation, against Optuna's per-trial cost; parallel throughput.

Table 1 (overhead): the same trivial 2-objective function, random search on
both sides, persistence on:

* moopt: ``moopt.optimize(problem, "random", store=<SQLite file>)`` (serial
  evaluator; ask + evaluate + tell + every evaluation and the search's
  checkpoint committed to SQLite, WAL, ``synchronous=NORMAL``: a finished
  evaluation survives SIGKILL); also with ``synchronous=FULL`` (an fsync per
  commit, which also survives power loss, as Optuna's default SQLite setup);
* Optuna: ``study.optimize`` with ``RandomSampler`` and its RDB storage
  ``sqlite:///...`` (SQLAlchemy), ``directions=["minimize", "minimize"]``.

Reference rows: moopt with an in-memory store, Optuna with in-memory storage.
Each configuration runs ``--repeats`` times, interleaved; the table shows the
median time per evaluation and the ratio to moopt with its SQLite store.
The bar is moopt <= 1/5 of Optuna's per-evaluation overhead with persistence.

Table 2 (throughput): an objective that sleeps 50 ms, serial vs 2 local
processes vs a Dask LocalCluster of 2 worker processes (started before the
clock, as a long-running cluster would be); evaluations per second and the
speed-up over serial (ideal: 2x).

Usage::

    .venv/bin/python benchmarks/bench_overhead.py --quick
    .venv/bin/python benchmarks/bench_overhead.py --out docs/bench/overhead.md
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import statistics
import sys
import tempfile
import time


def trivial(params):
    x, y = params["x"], params["y"]
    return {"f1": x, "f2": 1.0 - math.sqrt(x) + y}


def sleepy(params):
    time.sleep(0.05)
    return trivial(params)


def moopt_problem(fn):
    import moopt

    return moopt.Problem([moopt.Real("x", 0.0, 1.0), moopt.Real("y", 0.0, 1.0)], ["f1", "f2"], fn,
                         name="trivial")


def run_moopt(n: int, *, persist, tmp: str, rep: int) -> float:
    import moopt

    store = os.path.join(tmp, f"moopt-{n}-{rep}-{persist}.db") if persist else None
    if persist == "full":
        store = moopt.RunStore(store, lock=True, synchronous="full")
    p = moopt_problem(trivial)
    t0 = time.perf_counter()
    res = moopt.optimize(p, "random", budget=n, seed=rep, store=store, progress=False)
    dt = time.perf_counter() - t0
    if persist == "full":
        store.close()
    assert res.n_results == n
    return dt / n


def run_optuna(n: int, *, persist: bool, tmp: str, rep: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{os.path.join(tmp, f'optuna-{n}-{rep}.db')}" if persist else None

    def objective(trial):
        v = trivial({"x": trial.suggest_float("x", 0.0, 1.0), "y": trial.suggest_float("y", 0.0, 1.0)})
        return v["f1"], v["f2"]

    t0 = time.perf_counter()
    study = optuna.create_study(directions=["minimize", "minimize"], storage=storage,
                                sampler=optuna.samplers.RandomSampler(seed=rep))
    study.optimize(objective, n_trials=n)
    dt = time.perf_counter() - t0
    assert len(study.trials) == n
    return dt / n


def overhead_table(quick: bool, repeats: int) -> tuple[str, dict]:
    n_moopt = 300 if quick else 2000
    n_optuna = 60 if quick else 300
    configs = [
        ("moopt, SQLite run store (WAL)", run_moopt, True, n_moopt),
        ("Optuna, RDB storage sqlite:///", run_optuna, True, n_optuna),
        ("moopt, SQLite run store, synchronous=FULL (fsync per commit)", run_moopt, "full", n_moopt // 2),
        ("moopt, in-memory store", run_moopt, False, n_moopt),
        ("Optuna, in-memory storage", run_optuna, False, n_optuna),
    ]
    times: dict[str, list[float]] = {c[0]: [] for c in configs}
    with tempfile.TemporaryDirectory() as tmp:
        for _name, fn, persist, n in configs:  # warm-up: imports, first-call costs
            fn(min(n, 20), persist=persist, tmp=tmp, rep=99)
        for rep in range(repeats):
            for name, fn, persist, n in configs:
                times[name].append(fn(n, persist=persist, tmp=tmp, rep=rep))
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med[configs[0][0]]
    lines = ["| configuration | evaluations per repeat | median time per evaluation | ratio to moopt (SQLite) |",
             "|---|---:|---:|---:|"]
    for name, _, _, n in configs:
        lines.append(f"| {name} | {n} | {med[name] * 1e3:.3f} ms | {med[name] / base:.1f}x |")
    ratio = med[configs[1][0]] / base
    verdict = "met" if ratio >= 5 else "NOT met"
    lines.append("")
    lines.append(f"Optuna (SQLite) / moopt (SQLite) = **{ratio:.1f}x**; bar (moopt <= 1/5 of Optuna): **{verdict}**.")
    return "\n".join(lines), med


def _idle_gap_ms(res) -> float:
    """Median time a worker sat idle between finishing one evaluation and starting its next (ms)."""
    by_worker: dict = {}
    for r in res.records:
        if r.worker is not None and r.started is not None and r.finished is not None:
            by_worker.setdefault(r.worker, []).append((r.started, r.finished))
    gaps = []
    for spans in by_worker.values():
        spans.sort()
        gaps += [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    return 1e3 * statistics.median(gaps) if gaps else float("nan")


def throughput_table(quick: bool) -> str:
    import moopt
    from moopt.evaluators import DaskEvaluator

    n = 20 if quick else 60
    p = moopt_problem(sleepy)
    rows = []

    def timed(evaluator):
        t0 = time.perf_counter()
        res = moopt.optimize(p, "random", budget=n, seed=0, evaluator=evaluator, progress=False)
        dt = time.perf_counter() - t0
        assert res.n_results == n and res.counts["failed"] == 0
        return dt, (_idle_gap_ms(res) if evaluator != "serial" else float("nan"))

    serial, _ = timed("serial")
    rows.append(("serial (in-process)", serial, float("nan")))
    rows.append(("2 local processes (`processes:2`)", *timed("processes:2")))
    try:
        import dask
        import distributed

        # worker-saturation 1.0 is what `dask:2` sets (a worker holds only the task it runs);
        # 2.0 lets it hold the next one too (no scheduler round trip between tasks, but a worker
        # death then also kills the waiting task)
        for saturation in (1.0, 2.0):
            with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                  "distributed.scheduler.worker-saturation": saturation,
                                  "logging.distributed": "error"}):
                logging.getLogger("distributed").setLevel(logging.ERROR)
                cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                   dashboard_address=None)
                client = distributed.Client(cluster)
                try:
                    timed(DaskEvaluator(client=client))  # warm the workers (imports)
                    if saturation == 1.0:
                        rows.append(("Dask LocalCluster, 2 worker processes, prefetch=1",
                                     *timed(DaskEvaluator(client=client, prefetch=1))))
                        rows.append(("Dask LocalCluster, 2 worker processes, prefetch=2 (default of `dask:2`)",
                                     *timed(DaskEvaluator(client=client, prefetch=2))))
                    else:
                        rows.append(("Dask LocalCluster, 2 worker processes, prefetch=2, worker-saturation=2.0 "
                                     "(not a default)", *timed(DaskEvaluator(client=client, prefetch=2))))
                finally:
                    client.close()
                    cluster.close()
    except ImportError:
        rows.append(("Dask LocalCluster (dask not installed)", float("nan"), float("nan")))
    lines = [f"| evaluator | {n} evaluations of a 50 ms objective | evaluations / s | speed-up over serial "
             "| worker idle between tasks (median) |",
             "|---|---:|---:|---:|---:|"]
    for name, dt, gap in rows:
        gap_s = "-" if gap != gap else f"{gap:.1f} ms"
        lines.append(f"| {name} | {dt:.2f} s | {n / dt:.1f} | {serial / dt:.2f}x | {gap_s} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer evaluations and repeats (~1 minute)")
    ap.add_argument("--repeats", type=int, default=None, help="repeats per configuration (default 3, quick 2)")
    ap.add_argument("--out", default=None, help="also write the Markdown to this file")
    ap.add_argument("--no-throughput", action="store_true", help="skip the parallel throughput table")
    ap.add_argument("--throughput-only", action="store_true", help="only the parallel throughput table")
    args = ap.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 3)
    import optuna

    import moopt

    head = (f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"moopt {moopt.__version__}, optuna {optuna.__version__}, load average "
            f"{os.getloadavg()[0]:.1f} at start. Medians of {repeats} interleaved repeats.")
    parts = []
    if not args.throughput_only:
        t1, _ = overhead_table(args.quick, repeats)
        parts += ["## Engine overhead per evaluation (persistence on)", "", head, "", t1]
    else:
        parts += [head.replace(f" Medians of {repeats} interleaved repeats.", "")]
    if not args.no_throughput or args.throughput_only:
        parts += ["", "## Parallel throughput (50 ms objective)", "", throughput_table(args.quick)]
    text = "\n".join(parts) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
