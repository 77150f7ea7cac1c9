"""First-call cost of moopt's kernels in a fresh process (no warm caches).

For each public kernel this spawns fresh Python processes, each with an empty
numba cache directory (``NUMBA_CACHE_DIR`` set to a new temporary directory, so
a JIT-compiling build would compile from scratch), and measures separately:

* ``import moopt`` (numpy included: moopt imports it),
* the first call of the kernel on the data below,
* a second call on the same data (the steady-state cost),

and reports the median over ``--procs`` processes (default 5); "first-call
overhead" is first minus second call, the delay a user pays once.  It also
times ``moopt hv`` on 500 3-D points end to end (the console script, as a user
runs it from the shell).

Usage::

    flock /tmp/moopt-bench.lock .venv/bin/python benchmarks/bench_first_call.py
    # another checkout of moopt (e.g. an older commit unpacked with git archive):
    .venv/bin/python benchmarks/bench_first_call.py --pythonpath /tmp/moopt-old
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# (objectives, points): the sets every kernel is called on (uniform random points)
CASES = [(2, 1000), (3, 10000), (5, 1000)]

KERNELS = {
    "hypervolume": "moopt.hypervolume(F, ref)",
    "hv_contributions": "moopt.hv_contributions(F, ref)",
    "is_nondominated": "moopt.is_nondominated(F)",
    "nondominated_sort": "moopt.nondominated_sort(F)",
    "ParetoArchive.add": "A = moopt.ParetoArchive(n_obj=F.shape[1])\nfor row in F: A.add(row)",
}

_CHILD = """
import sys, time, json
t0 = time.perf_counter()
import moopt
import numpy as np
t1 = time.perf_counter()
rng = np.random.default_rng(0)
F = rng.random(({n}, {m}))
ref = np.full({m}, 1.1)
def call():
{body}
t2 = time.perf_counter()
call()
t3 = time.perf_counter()
call()
t4 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "first": t3 - t2, "second": t4 - t3,
                  "numba": "numba" in sys.modules}}))
"""


def _env(pythonpath: str | None, cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_child(kernel: str, m: int, n: int, pythonpath: str | None) -> dict:
    body = "\n".join("    " + line for line in KERNELS[kernel].splitlines())
    code = _CHILD.format(n=n, m=m, body=body)
    with tempfile.TemporaryDirectory(prefix="moopt-numba-cache-") as cache:
        # cwd: an empty directory, so that `python -c` does not import moopt from the current directory
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=_env(pythonpath, cache), cwd=cache, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{kernel} M={m} N={n}: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cli_hv(procs: int, pythonpath: str | None) -> list[float]:
    """Wall time of ``moopt hv pts.csv --ref 1.1,1.1,1.1`` on 500 3-D points, per process."""
    import numpy as np

    exe = Path(sys.executable).parent / "moopt"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "moopt"]
    times = []
    with tempfile.TemporaryDirectory(prefix="moopt-first-call-") as tmp:
        F = np.abs(np.random.default_rng(0).normal(size=(500, 3)))
        F /= np.linalg.norm(F, axis=1, keepdims=True)
        pts = Path(tmp) / "pts.csv"
        np.savetxt(pts, F, delimiter=",")
        for _ in range(procs):
            with tempfile.TemporaryDirectory(prefix="moopt-numba-cache-") as cache:
                t = time.perf_counter()
                proc = subprocess.run(cmd + ["hv", str(pts), "--ref", "1.1,1.1,1.1"], capture_output=True,
                                      text=True, env=_env(pythonpath, cache), cwd=cache, timeout=600)
                times.append(time.perf_counter() - t)
            if proc.returncode != 0 or "hypervolume:" not in proc.stdout:
                raise RuntimeError(f"moopt hv failed: {proc.stderr.strip()[-2000:]}")
    return times


def fmt(t: float) -> str:
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} µs"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--procs", type=int, default=5, help="fresh processes per cell (median)")
    ap.add_argument("--pythonpath", default=None, help="import moopt from this directory instead")
    ap.add_argument("--kernels", default=",".join(KERNELS), help="comma-separated subset")
    ap.add_argument("--cases", default=",".join(f"{m}:{n}" for m, n in CASES),
                    help="comma-separated M:N sets (default %(default)s)")
    args = ap.parse_args(argv)
    cases = [tuple(int(v) for v in c.split(":")) for c in args.cases.split(",")]
    t_start = time.time()
    print(f"# moopt first-call benchmark ({args.procs} fresh processes per row, median; "
          f"empty NUMBA_CACHE_DIR each)\n")
    if args.pythonpath:
        print(f"moopt imported from `{args.pythonpath}`\n")
    print("| kernel | M | N | import moopt | first call | second call | first-call overhead | numba imported |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for kernel in args.kernels.split(","):
        for m, n in cases:
            rows = [run_child(kernel, m, n, args.pythonpath) for _ in range(args.procs)]
            imp = statistics.median(r["import"] for r in rows)
            first = statistics.median(r["first"] for r in rows)
            second = statistics.median(r["second"] for r in rows)
            over = statistics.median(r["first"] - r["second"] for r in rows)
            nb = "yes" if any(r["numba"] for r in rows) else "no"
            print(f"| {kernel} | {m} | {n:,} | {fmt(imp)} | {fmt(first)} | {fmt(second)} | {fmt(over)} | {nb} |",
                  flush=True)
    times = cli_hv(args.procs, args.pythonpath)
    print(f"\n`moopt hv pts.csv --ref 1.1,1.1,1.1` (500 3-D points, end to end): median {fmt(statistics.median(times))}"
          f" (min {fmt(min(times))}, max {fmt(max(times))})")
    print(f"\nTotal time: {time.time() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
