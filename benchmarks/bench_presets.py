"""Wall time of the NAS presets at their defaults on digits (the README's `make run` is the DPP-Net one).

Each preset runs as a user runs it, `moopt nas <preset> --out DIR/<preset>.db` in a fresh
folder, in a subprocess; the script prints its wall time, the run's counts and front size, and
the time of re-running the finished run (which resumes: it only reprints the front).

Usage:
    python benchmarks/bench_presets.py [--presets dpp,monas] [--out out/bench-presets]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="dpp,monas")
    ap.add_argument("--out", default="out/bench-presets")
    args = ap.parse_args(argv)
    from moopt.result import RunResult

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    moopt = [sys.executable, "-m", "moopt"]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print("| preset | command | wall s | ok | failed | front | re-run s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in [p.strip() for p in args.presets.split(",") if p.strip()]:
        db = out / f"{name}.db"
        cmd = [*moopt, "nas", name, "--out", str(db)]
        wall = run(cmd)
        again = run(cmd)
        res = RunResult.load(str(db))
        print(f"| {name} | `moopt nas {name}` | {wall:.1f} | {res.counts['ok']} | {res.counts['failed']} | "
              f"{len(res.front_records)} | {again:.1f} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
