"""Cost as runs grow: a random search on ZDT1 (30 reals) through the CLI at several sizes.

For each size N (evaluations) it runs, each in a fresh process, timing the wall clock and
reading the process's peak resident memory (``ru_maxrss``):

* ``moopt run --problem zdt1 --algorithm random --budget N --seed 0 --out X.db`` (the run);
* the run store's size on disk, per evaluation;
* ``moopt show X.db``; ``moopt plot X.db --out D``;
* the same ``moopt run`` again (a finished run: it should not replay anything).

The bar at 50,000 evaluations: at most 1.5 KB per evaluation; show, plot and the finished-run
resume each under 2 s with peak RSS under 200 MB.

Usage (under the shared lock, so benchmarks do not overlap)::

    flock /tmp/moopt-bench.lock .venv/bin/python benchmarks/bench_store_growth.py --sizes 10000,50000,200000
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

# runs the moopt CLI in this process, then reports the peak RSS (kB on Linux) on stderr
WRAP = (
    "import resource, sys\n"
    "from moopt.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stderr.write('\\nMAXRSS %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    "sys.exit(code)\n"
)


def moopt_cli(*args: str) -> tuple[float, float, str]:
    """``(wall seconds, peak RSS in MB, stdout)`` of one ``moopt`` command in a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAP, *args], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"moopt {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rss = [line for line in proc.stderr.splitlines() if line.startswith("MAXRSS ")]
    kb = int(rss[-1].split()[1]) if rss else 0
    mb = kb / 1024 if sys.platform != "darwin" else kb / 2**20
    return dt, mb, proc.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,50000,200000", help="comma-separated numbers of evaluations")
    ap.add_argument("--dir", default=None, help="where the run stores go (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the run stores")
    ap.add_argument("--out", help="also write the table (markdown) to this file")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    tmp = args.dir or tempfile.mkdtemp(prefix="moopt-bench-growth-")
    lines = [f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
             "one run per size; wall seconds / peak RSS (MB) of each command in a fresh process", "",
             "| evaluations | run | store (MB) | bytes/eval | show | plot | finished-run resume |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        db = os.path.join(tmp, f"zdt1-random-{n}.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        run = ["run", "--problem", "zdt1", "--algorithm", "random", "--budget", str(n), "--seed", "0",
               "--out", db, "--no-progress"]
        r_run = moopt_cli(*run)
        size = os.path.getsize(db)
        r_show = moopt_cli("show", db)
        r_plot = moopt_cli("plot", db, "--out", os.path.join(tmp, f"plots-{n}"))
        r_again = moopt_cli(*run)
        cell = lambda r: f"{r[0]:.2f} s / {r[1]:.0f} MB"  # noqa: E731
        lines.append(f"| {n} | {cell(r_run)} | {size / 2**20:.1f} | {size / n:.0f} | {cell(r_show)} "
                     f"| {cell(r_plot)} | {cell(r_again)} |")
        print(lines[-1], file=sys.stderr)
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
