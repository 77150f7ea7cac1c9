"""Benchmark moopt's Pareto and indicator kernels side by side with their peers.

Times, in one run and on the same data, moopt against raw moocore, pymoo,
DEAP, Optuna's own implementations, paretoset, hvwfg and pygmo (each skipped
gracefully when not installed) for:

* exact hypervolume (M = 2..6, N = 100..10,000; fronts on the sphere and on
  the simplex, and random cube sets),
* non-dominated sorting into all fronts (N up to 100,000, M = 2, 3, 5),
* the first-front filter,
* hypervolume contributions,
* incremental archive insertion vs re-filtering after each insertion.

Every library runs in its own worker process, so a slow call can be stopped
at the time limit (reported as ``skipped (> X s)``) and a crash or memory
blow-up cannot take the run down.  Repeats are interleaved across libraries
(repeat 1 of every library, then repeat 2, ...); each repeat times a batch of
calls lasting at least ``--min-batch`` seconds and the table shows the median
per-call time over the repeats, with the ratio to the fastest library.  The
results of every library are checked against moopt's (same hypervolume to
1e-9 relative, same ranks / masks); a disagreement is marked with ``≠``.

Usage::

    .venv/bin/python benchmarks/bench_kernels.py --quick        # ~1-2 minutes
    nice .venv/bin/python benchmarks/bench_kernels.py > docs/bench/kernels_full.md
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
import zlib

import numpy as np

# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def make_points(kind: str, n: int, m: int) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(f"{kind}-{n}-{m}".encode()))
    if kind == "sphere":  # concave front, every point non-dominated
        F = np.abs(rng.normal(size=(n, m)))
        return F / np.linalg.norm(F, axis=1, keepdims=True)
    if kind == "simplex":  # linear front, every point non-dominated
        return rng.dirichlet(np.ones(m), size=n)
    if kind == "cube":  # random set, mostly dominated
        return rng.random((n, m))
    raise ValueError(kind)


REF = 1.1  # reference point (1.1, ..., 1.1) bounds all three kinds


# ---------------------------------------------------------------------------
# library adapters: (task, lib) -> prepare(F) returning a zero-argument call
# whose result converts to a comparable value with `digest`
# ---------------------------------------------------------------------------


def _deap_individuals(F):
    from deap import base

    class Fit(base.Fitness):
        weights = (-1.0,) * F.shape[1]

    class Ind(list):
        pass

    inds = []
    for i, row in enumerate(F.tolist()):
        ind = Ind(row)
        ind.fitness = Fit(row)
        ind.idx = i
        inds.append(ind)
    return inds


def _fronts_to_ranks(fronts, n):
    ranks = np.full(n, -1, dtype=np.int64)
    for r, fr in enumerate(fronts):
        ranks[np.asarray(fr, dtype=np.int64)] = r
    return ranks


def prepare(task: str, lib: str, F: np.ndarray):
    n, m = F.shape
    ref = np.full(m, REF)
    if task == "hv":
        if lib == "moopt":
            import moopt

            return lambda: moopt.hypervolume(F, ref)
        if lib == "moocore":
            import moocore

            return lambda: moocore.hypervolume(F, ref=ref)
        if lib == "pymoo":
            from pymoo.indicators.hv import HV

            ind = HV(ref_point=ref)
            return lambda: ind(F)
        if lib == "optuna":
            from optuna._hypervolume import compute_hypervolume

            return lambda: compute_hypervolume(F, ref)
        if lib == "hvwfg":
            import hvwfg

            return lambda: hvwfg.wfg(F, ref)
        if lib == "pygmo":
            import pygmo

            return lambda: pygmo.hypervolume(F).compute(ref)
    if task == "hvc":
        if lib == "moopt":
            import moopt

            return lambda: moopt.hv_contributions(F, ref)
        if lib == "moocore":
            import moocore

            return lambda: moocore.hv_contributions(F, ref=ref)
        if lib == "pygmo":
            import pygmo

            return lambda: pygmo.hypervolume(F).contributions(ref)
        if lib == "deap":  # least contributor (computes every contribution via moocore)
            from deap.tools import indicator

            inds = _deap_individuals(F)
            return lambda: indicator.hypervolume(inds, ref=ref)
    if task == "sort":
        if lib == "moopt":
            import moopt

            return lambda: moopt.nondominated_sort(F)
        if lib == "moocore":
            import moocore

            return lambda: moocore.pareto_rank(F)
        if lib == "pymoo":
            from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

            nds = NonDominatedSorting()
            return lambda: nds.do(F, return_rank=True)[1]
        if lib == "optuna":
            from optuna.study._multi_objective import _fast_non_domination_rank

            return lambda: _fast_non_domination_rank(F)
        if lib == "paretoset":
            import paretoset

            return lambda: paretoset.paretorank(F, distinct=False) - 1
        if lib == "pygmo":
            import pygmo

            return lambda: pygmo.fast_non_dominated_sorting(F)[3]
        if lib == "deap":
            from deap.tools import sortLogNondominated

            inds = _deap_individuals(F)
            return lambda: _fronts_to_ranks([[i.idx for i in fr] for fr in sortLogNondominated(inds, len(inds))], n)
    if task == "filter":
        if lib == "moopt":
            import moopt

            return lambda: moopt.is_nondominated(F)
        if lib == "moocore":
            import moocore

            return lambda: moocore.is_nondominated(F, keep_weakly=True)
        if lib == "paretoset":
            import paretoset

            return lambda: paretoset.paretoset(F, distinct=False)
        if lib == "optuna":
            from optuna.study._multi_objective import _is_pareto_front

            return lambda: _is_pareto_front(F, assume_unique_lexsorted=False)
        if lib == "pymoo":
            from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

            nds = NonDominatedSorting()
            return lambda: nds.do(F, only_non_dominated_front=True)
        if lib == "pygmo" and m == 2:
            import pygmo

            return lambda: pygmo.non_dominated_front_2d(F)
        if lib == "deap":
            from deap.tools import sortNondominated

            inds = _deap_individuals(F)
            return lambda: [i.idx for i in sortNondominated(inds, len(inds), first_front_only=True)[0]]
    return None


def digest(task: str, lib: str, out, n: int):
    """Comparable form of a result: a float, or a bytes hash of ranks / a mask."""
    if task == "hv":
        return float(out)
    if task == "hvc":
        if lib == "deap":
            return ("least", int(out))
        return np.asarray(out, dtype=float)
    if task == "sort":
        return np.asarray(out, dtype=np.int64)
    if task == "filter":
        out = np.asarray(out)
        if out.dtype == bool:
            return out
        mask = np.zeros(n, dtype=bool)
        mask[out.astype(np.int64)] = True
        return mask
    raise ValueError(task)


def agrees(task, a, b) -> bool:
    """Whether digest ``b`` (a peer) agrees with ``a`` (moopt)."""
    if a is None or b is None:
        return True
    if task == "hv":
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)
    if task == "hvc":
        if isinstance(b, tuple):  # DEAP: index of the least contributor
            idx = b[1]
            return bool(np.isclose(a[idx], a.min(), rtol=1e-9, atol=1e-15))
        return bool(np.allclose(a, b, rtol=1e-7, atol=1e-12))
    return bool(np.array_equal(a, b))


# ---------------------------------------------------------------------------
# worker process (one per library)
# ---------------------------------------------------------------------------


def _worker(conn, lib: str, mem_gb: float) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import resource

        lim = int(mem_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    except Exception:
        pass
    current = None
    while True:
        msg = conn.recv()
        if msg is None:
            return
        op = msg[0]
        try:
            if op == "prepare":
                _, task, kind, n, m = msg
                F = make_points(kind, n, m)
                call = prepare(task, lib, F)
                if call is None:
                    conn.send(("na", None, None))
                    continue
                t0 = time.perf_counter()
                out = call()  # first call: JIT compilation / cache loading, imports
                t1 = time.perf_counter() - t0
                if t1 < 1.0:  # time a warm call to size the batches
                    t0 = time.perf_counter()
                    out = call()
                    t1 = time.perf_counter() - t0
                current = (call, task, n)
                conn.send(("ok", t1, digest(task, lib, out, n)))
            elif op == "time":
                _, reps = msg
                call = current[0]
                t0 = time.perf_counter()
                for _ in range(reps):
                    call()
                conn.send(("ok", (time.perf_counter() - t0) / reps, None))
            elif op == "warmup":
                for task in ("filter", "sort", "hv"):
                    call = prepare(task, lib, make_points("cube", 50, 3))
                    if call is not None:
                        call()
                conn.send(("ok", None, None))
        except MemoryError:
            conn.send(("error", "out of memory", None))
        except Exception as exc:  # a library failing is a result, not a crash
            conn.send(("error", f"{type(exc).__name__}: {exc}"[:80], None))


class Worker:
    def __init__(self, lib: str, mem_gb: float):
        self.lib = lib
        self.mem_gb = mem_gb
        self._start()

    def _start(self):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, self.lib, self.mem_gb), daemon=True)
        self.proc.start()
        self.conn.send(("warmup",))
        if not self.conn.poll(120):
            raise RuntimeError(f"{self.lib} worker did not start")
        self.conn.recv()

    def ask(self, msg, timeout: float):
        self.conn.send(msg)
        if self.conn.poll(timeout):
            try:
                return self.conn.recv()
            except EOFError:
                pass
        else:
            self.proc.kill()
            self.proc.join()
            self._start()
            return ("timeout", None, None)
        self.proc.join(1)
        self._start()
        return ("error", "worker died (memory?)", None)

    def close(self):
        try:
            self.conn.send(None)
        except Exception:
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()


def available(lib: str) -> bool:
    mod = {"moopt": "moopt", "moocore": "moocore", "pymoo": "pymoo", "deap": "deap", "optuna": "optuna",
           "paretoset": "paretoset", "hvwfg": "hvwfg", "pygmo": "pygmo"}[lib]
    try:
        __import__(mod)
        return True
    except Exception:
        return False


# ---------------------------------------------------------------------------
# running cases
# ---------------------------------------------------------------------------

LIBS = {
    "hv": ["moopt", "moocore", "pymoo", "optuna", "hvwfg", "pygmo"],
    "hvc": ["moopt", "moocore", "pygmo", "deap"],
    "sort": ["moopt", "moocore", "pymoo", "optuna", "paretoset", "pygmo", "deap"],
    "filter": ["moopt", "moocore", "paretoset", "optuna", "pymoo", "pygmo", "deap"],
}

TITLES = {
    "hv": "Exact hypervolume",
    "hvc": "Hypervolume contributions (exclusive)",
    "sort": "Non-dominated sorting (all fronts)",
    "filter": "First-front filter (non-dominated mask)",
}


def run_task(task, cases, workers, args, log):
    """Return rows: (kind, m, n, {lib: (time|None, note)}, mismatch set)."""
    libs = [lib for lib in LIBS[task] if lib in workers]
    too_slow: dict[tuple, float] = {}  # (lib, kind, m) -> smallest n that timed out
    too_slow_m: dict[tuple, int] = {}  # (lib, kind, n) -> smallest m that timed out
    rows = []
    for kind, m, n in cases:
        res, digests, mism = {}, {}, set()
        active = []
        for lib in libs:
            key = (lib, kind, m)
            if (key in too_slow and n >= too_slow[key]) or (
                (lib, kind, n) in too_slow_m and m >= too_slow_m[(lib, kind, n)]
            ):
                res[lib] = (None, f"skipped (> {args.limit:g} s)")
                continue
            status, t1, dg = workers[lib].ask(("prepare", task, kind, n, m), args.limit + 30)
            if status == "na":
                res[lib] = (None, "n/a")
            elif status == "timeout" or (status == "ok" and t1 > args.limit):
                res[lib] = (None, f"skipped (> {args.limit:g} s)")
                too_slow[key] = min(n, too_slow.get(key, n))
                too_slow_m[(lib, kind, n)] = min(m, too_slow_m.get((lib, kind, n), m))
            elif status == "error":
                res[lib] = (None, t1)
            else:
                digests[lib] = dg
                active.append((lib, t1))
        times = {lib: [] for lib, _ in active}
        reps = {lib: max(1, int(args.min_batch / max(t1, 1e-7))) for lib, t1 in active}
        for _ in range(args.repeats):  # interleaved repeats
            for lib, _t in active:
                status, t, _ = workers[lib].ask(("time", reps[lib]), args.limit * reps[lib] * 3 + 30)
                if status == "ok":
                    times[lib].append(t)
        for lib, _t in active:
            if times[lib]:
                res[lib] = (statistics.median(times[lib]), "")
            else:
                res[lib] = (None, "failed")
        base = digests.get("moopt")
        for lib, dg in digests.items():
            if lib != "moopt" and not agrees(task, base, dg):
                mism.add(lib)
        rows.append((kind, m, n, res, mism))
        log(f"  {task} {kind} m={m} n={n}: " + ", ".join(
            f"{lib}={v[0] * 1e3:.3g}ms" if v[0] else f"{lib}={v[1]}" for lib, v in res.items()))
    return rows, libs


def fmt_time(t: float) -> str:
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.3g} ms"
    return f"{t * 1e6:.3g} µs"


def table(task, rows, libs, bar: float) -> tuple[str, list]:
    head = "| case | M | N | " + " | ".join(libs) + " | moopt / fastest peer |"
    sep = "|---|---:|---:|" + "---:|" * len(libs) + "---:|"
    lines = [head, sep]
    misses = []
    for kind, m, n, res, mism in rows:
        ok = {lib: v[0] for lib, v in res.items() if v[0] is not None}
        fastest = min(ok.values()) if ok else None
        cells = []
        for lib in libs:
            t, note = res.get(lib, (None, "n/a"))
            if t is None:
                cells.append(note or "n/a")
            else:
                mark = " ≠" if lib in mism else ""
                cells.append(f"{fmt_time(t)} ({t / fastest:.2f}x){mark}")
        peers = [v for lib, v in ok.items() if lib != "moopt" and lib not in mism]
        if "moopt" in ok and peers:
            ratio = ok["moopt"] / min(peers)
            verdict = "✓" if ratio <= bar else "**missed**"
            if ratio > bar:
                misses.append((task, kind, m, n, ratio))
            cells.append(f"{ratio:.2f} {verdict}")
        else:
            cells.append("–")
        lines.append(f"| {kind} | {m} | {n:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines), misses


def archive_bench(n: int, repeats: int, log) -> str:
    """Incremental ParetoArchive vs re-filtering after every insertion (M = 2)."""
    import moocore

    import moopt

    out = [f"| stream (M = 2, N = {n:,}) | ParetoArchive.add | re-filter all points seen (moopt) | "
           "re-filter all points seen (moocore) | re-filter front + new point (moopt) | speed-up vs re-filter all |",
           "|---|---:|---:|---:|---:|---:|"]
    for kind in ("cube", "sphere"):
        F = make_points(kind, n, 2)
        rng = np.random.default_rng(1)
        F = F[rng.permutation(n)]
        rows = F.tolist()

        def arch():
            a = moopt.ParetoArchive()
            for r in rows:
                a.add(r)
            return len(a)

        def refilter_all(kernel):
            def run():
                size = 0
                for i in range(1, n + 1):
                    size = int(kernel(F[:i]).sum())
                return size
            return run

        def refilter_front():
            front = F[:0]
            for i in range(n):
                C = np.vstack([front, F[i : i + 1]])
                front = C[moopt.is_nondominated(C, keep_duplicates=False)]
            return len(front)

        cands = {
            "archive": arch,
            "all_moopt": refilter_all(moopt.is_nondominated),
            "all_moocore": refilter_all(lambda X: moocore.is_nondominated(X, keep_weakly=True)),
            "front": refilter_front,
        }
        times = {k: [] for k in cands}
        sizes = {}
        reps = {k: (3 if k.startswith("all") or k == "front" else repeats) for k in cands}
        for r in range(max(reps.values())):
            for k, f in cands.items():
                if r < reps[k]:
                    t0 = time.perf_counter()
                    sizes[k] = f()
                    times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        assert len(set(sizes.values())) == 1, sizes
        best_refilter = min(med["all_moopt"], med["all_moocore"])
        out.append(
            f"| {kind} (front size {sizes['archive']:,}) | {fmt_time(med['archive'])} | {fmt_time(med['all_moopt'])} | "
            f"{fmt_time(med['all_moocore'])} | {fmt_time(med['front'])} | {best_refilter / med['archive']:.0f}x |"
        )
        log(f"  archive {kind}: " + ", ".join(f"{k}={fmt_time(v)}" for k, v in med.items()))
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small subset, finishes in about 1-2 minutes")
    ap.add_argument("--tasks", default="hv,filter,sort,hvc,archive", help="comma-separated subset")
    ap.add_argument("--libs", default=None, help="comma-separated subset of libraries")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats per case (default 5, quick 5)")
    ap.add_argument("--min-batch", type=float, default=None, help="seconds per timed batch")
    ap.add_argument("--limit", type=float, default=None, help="seconds; slower single calls are skipped")
    ap.add_argument("--mem-gb", type=float, default=6.0, help="address-space limit per worker")
    ap.add_argument("--bar", type=float, default=1.25, help="target ratio moopt / fastest peer")
    ap.add_argument("--only", default=None,
                    help="re-run selected cases: comma-separated task:kind:M:N patterns, '*' matches any "
                         "(e.g. 'hv:*:4:100,filter:sphere:3:*')")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    q = args.quick
    args.repeats = args.repeats or 5
    args.min_batch = args.min_batch or (0.003 if q else 0.02)
    args.limit = args.limit or (0.3 if q else 2.0)
    tasks = args.tasks.split(",")
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))

    if q:
        cases = {
            "hv": [("sphere", m, n) for m in (2, 3, 4, 6) for n in (100, 1000)]
            + [("cube", m, 1000) for m in (3, 5)],
            "filter": [(k, m, n) for k in ("cube", "sphere") for m in (2, 3) for n in (1000, 10000)],
            "sort": [("cube", m, n) for m in (2, 3) for n in (1000, 10000)],
            "hvc": [("sphere", m, n) for m in (2, 3) for n in (100, 1000)],
        }
        n_archive = 2000
    else:
        cases = {
            "hv": [(k, m, n) for k in ("sphere", "simplex", "cube") for m in (2, 3, 4, 5, 6)
                   for n in (100, 1000, 10000)],
            "filter": [(k, m, n) for k in ("cube", "sphere") for m in (2, 3, 5) for n in (1000, 10000, 100000)],
            "sort": [(k, m, n) for k in ("cube", "sphere") for m in (2, 3, 5) for n in (1000, 10000, 100000)],
            "hvc": [(k, m, n) for k in ("sphere", "cube") for m in (2, 3, 4) for n in (100, 1000, 10000)],
        }
        n_archive = 10000

    if args.only:
        pats = [p.split(":") for p in args.only.split(",")]

        def keep(task, case):
            vals = [task, case[0], str(case[1]), str(case[2])]
            return any(len(p) == 4 and all(a in ("*", b) for a, b in zip(p, vals)) for p in pats)

        cases = {t: [c for c in cs if keep(t, c)] for t, cs in cases.items()}
        tasks = [t for t in tasks if t == "archive" and any(p[0] == "archive" for p in pats) or cases.get(t)]
    wanted = set(args.libs.split(",")) if args.libs else None
    all_libs = sorted({lib for t in tasks if t in LIBS for lib in LIBS[t]})
    workers, missing = {}, []
    for lib in all_libs:
        if wanted and lib not in wanted and lib != "moopt":
            continue
        if available(lib):
            workers[lib] = Worker(lib, args.mem_gb)
        else:
            missing.append(lib)
    t_start = time.time()
    import importlib.metadata as md

    def ver(p):
        try:
            return md.version(p)
        except Exception:
            return "-"

    print(f"# moopt kernel benchmark ({'quick' if q else 'full'})\n")
    print(f"python {platform.python_version()}, numpy {np.__version__}, " + ", ".join(
        f"{p} {ver(p)}" for p in ("moocore", "pymoo", "deap", "optuna", "paretoset", "hvwfg", "pygmo")))
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} CPUs (shared); median of {args.repeats} interleaved "
          f"repeats, each a batch of >= {args.min_batch * 1e3:g} ms; single calls slower than {args.limit:g} s "
          f"are skipped. Cells: median time per call (ratio to the fastest). Bar: moopt within {args.bar}x of the "
          f"fastest peer.")
    if missing:
        print(f"\nnot installed (skipped): {', '.join(missing)}")
    all_misses = []
    try:
        for task in tasks:
            if task == "archive":
                continue
            log(f"{task} ...")
            rows, libs = run_task(task, cases[task], workers, args, log)
            text, misses = table(task, rows, libs, args.bar)
            all_misses += misses
            print(f"\n## {TITLES[task]}\n")
            if task == "hvc":
                print("deap: `deap.tools.indicator.hypervolume` (index of the least contributor; "
                      "compares that index).\n")
            if task == "filter":
                print("pygmo: `non_dominated_front_2d` (2 objectives only).\n")
            print(text, flush=True)
        if "archive" in tasks:
            log("archive ...")
            print("\n## Incremental archive (M = 2)\n")
            print(archive_bench(n_archive, args.repeats, log), flush=True)
    finally:
        for w in workers.values():
            w.close()
    print("\n## Summary\n")
    if all_misses:
        print(f"Cases where moopt is slower than {args.bar}x the fastest peer:\n")
        for task, kind, m, n, ratio in all_misses:
            print(f"- {TITLES[task]}: {kind}, M = {m}, N = {n:,}: {ratio:.2f}x")
    else:
        print(f"moopt is within {args.bar}x of the fastest peer in every case measured.")
    print(f"\nTotal time: {time.time() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
