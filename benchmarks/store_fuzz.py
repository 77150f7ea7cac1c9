"""Damage campaign on finished run stores: does moopt notice, and never act on a damaged store?

Builds two finished stores (random search on ZDT1, a space of reals stored as vectors; PLS on a
categorical problem, params stored as JSON), then applies mutations to copies: single-byte flips
at random offsets, multi-byte overwrites, truncations, deleted rows, changed values through sqlite
(a parameter digit, a dropped parameter key, an objective, a told mark), added triggers and views,
and byte flips inside index pages.  For each copy it reads the result (what ``moopt show`` does:
``RunResult.load`` and its records) and resumes the run with a bigger budget, in this process,
capturing exceptions, and classifies the outcome:

* ``clean``: a RunStoreError / ConfigError whose message names the file;
* ``traceback``: any other exception (or an error that does not name the file);
* ``silent``: a command succeeded but its results differ from the undamaged store's
  (records and front; a resume is compared with a resume of the undamaged store);
* ``harmless``: the mutation hit unused bytes, and the results are identical.

The bar: 0 tracebacks and 0 silent changes.

Usage::

    .venv/bin/python benchmarks/store_fuzz.py --n 240 --seed 0
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback

import moopt
from moopt.errors import ConfigError, RunStoreError
from moopt.problems import get_problem

BUDGET, MORE = 60, 80


def categorical_problem() -> moopt.Problem:
    space = [moopt.Categorical("op", ["conv", "pool", "skip", "none"]), moopt.Categorical("act", ["relu", "gelu"]),
             moopt.Integer("depth", 1, 8)]

    def evaluate(p):
        cost = {"conv": 3.0, "pool": 1.0, "skip": 0.5, "none": 0.1}[p["op"]] * p["depth"]
        err = 1.0 / (1.0 + cost) + (0.05 if p["act"] == "relu" else 0.0)
        return {"error": err, "cost": cost}

    return moopt.Problem(space, ["error", "cost"], evaluate)


CASES = {
    "zdt1-random": (lambda: get_problem("zdt1"), "random"),
    "categorical-pls": (categorical_problem, "pls"),
}


def run(case: str, path: str, budget: int):
    make, alg = CASES[case]
    return moopt.optimize(make(), alg, budget=budget, seed=3, store=path, progress=False)


def snapshot(res) -> tuple:
    recs = tuple((r.seq, r.candidate_id, r.status, r.objectives, r.constraints, r.cached_from,
                  tuple(sorted(r.params.items()))) for r in res.records)
    front = tuple(sorted(r.seq for r in res.front_records)) if hasattr(res, "front_records") else ()
    return recs, front, res.F.tobytes()


# ------------------------------------------------------------------ mutations
def _rows(path, table, col="rowid"):
    con = sqlite3.connect(path)
    try:
        return [r[0] for r in con.execute(f"SELECT {col} FROM {table}")]
    finally:
        con.close()


def _exec(path, *stmts, args=()):
    con = sqlite3.connect(path)
    try:
        for s in stmts:
            con.execute(s, args) if args else con.execute(s)
        con.commit()
    finally:
        con.close()


def m_byte_flip(path, rng):
    data = bytearray(open(path, "rb").read())
    i = rng.randrange(len(data))
    data[i] ^= rng.randrange(1, 256)
    open(path, "wb").write(bytes(data))
    return f"offset {i}"


def m_multi_byte(path, rng):
    data = bytearray(open(path, "rb").read())
    n = rng.randrange(2, 17)
    i = rng.randrange(len(data) - n)
    data[i:i + n] = bytes(rng.randrange(256) for _ in range(n))
    open(path, "wb").write(bytes(data))
    return f"{n} bytes at {i}"


def m_truncate(path, rng):
    size = os.path.getsize(path)
    n = rng.randrange(size)
    with open(path, "r+b") as fh:
        fh.truncate(n)
    return f"to {n} of {size} bytes"


def m_delete_row(path, rng):
    table = rng.choice(["evaluations", "candidates", "logs", "checkpoint", "config", "checkpoint_arrays"])
    rows = _rows(path, table)
    if not rows:
        return m_delete_row(path, rng)
    r = rng.choice(rows)
    _exec(path, f"DELETE FROM {table} WHERE rowid = {r}")
    return f"{table} rowid {r}"


def m_param_digit(path, rng):
    con = sqlite3.connect(path)
    rid, params = rng.choice(con.execute("SELECT id, params FROM candidates").fetchall())
    con.close()
    if isinstance(params, bytes):
        b = bytearray(params)
        j = rng.randrange(len(b))
        b[j] ^= 1 << rng.randrange(8)
        new = bytes(b)
    else:
        digits = [j for j, ch in enumerate(params) if ch.isdigit()]
        j = rng.choice(digits)
        new = params[:j] + str((int(params[j]) + 1) % 10) + params[j + 1:]
    _exec(path, "UPDATE candidates SET params = ? WHERE id = ?", args=(new, rid))
    return f"candidate {rid}"


def m_drop_key(path, rng):
    import json

    con = sqlite3.connect(path)
    rid, params = rng.choice(con.execute("SELECT id, params FROM candidates").fetchall())
    con.close()
    if isinstance(params, bytes):
        new: object = params[:-8]
    else:
        d = json.loads(params)
        d.pop(rng.choice(sorted(d)))
        new = json.dumps(d, sort_keys=True, separators=(",", ":"))
    _exec(path, "UPDATE candidates SET params = ? WHERE id = ?", args=(new, rid))
    return f"candidate {rid}"


def m_objective(path, rng):
    seqs = _rows(path, "evaluations WHERE objectives IS NOT NULL", "seq")
    s = rng.choice(seqs)
    _exec(path, f"UPDATE evaluations SET objectives = replace(objectives, '.', '.9') WHERE seq = {s}")
    return f"evaluation {s}"


def m_told(path, rng):
    s = rng.choice(_rows(path, "evaluations", "seq"))
    _exec(path, f"UPDATE evaluations SET told = 1 - told WHERE seq = {s}")
    return f"evaluation {s}"


def m_trigger(path, rng):
    what = rng.choice(["INSERT", "UPDATE"])
    _exec(path, f"CREATE TRIGGER evil AFTER {what} ON evaluations BEGIN "
                "UPDATE evaluations SET objectives = '{\"f1\":0,\"f2\":0}' WHERE seq = NEW.seq; END")
    return what


def m_view(path, rng):
    _exec(path, "CREATE VIEW best AS SELECT * FROM evaluations WHERE status = 'ok'")
    return "view"


def m_index(path, rng):
    con = sqlite3.connect(path)
    roots = con.execute("SELECT name, rootpage FROM sqlite_master WHERE type = 'index'").fetchall()
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    name, root = rng.choice(roots)
    data = bytearray(open(path, "rb").read())
    off = (root - 1) * size
    start = int.from_bytes(data[off + 5:off + 7], "big") or 65536  # the page's cell content area
    i = off + rng.randrange(min(start, size - 1), size)
    data[i] ^= 1 << rng.randrange(8)
    open(path, "wb").write(bytes(data))
    return f"{name} byte {i - off}"


MUTATIONS = [  # (kind, function, count per 240)
    ("byte flip", m_byte_flip, 70), ("multi-byte", m_multi_byte, 30), ("truncate", m_truncate, 20),
    ("delete row", m_delete_row, 20), ("param digit", m_param_digit, 16), ("drop param key", m_drop_key, 12),
    ("objective", m_objective, 16), ("told mark", m_told, 8), ("trigger", m_trigger, 8), ("view", m_view, 6),
    ("index", m_index, 34),
]


# ------------------------------------------------------------------ the campaign
def attempt(fn, path):
    """``("ok", value)``, ``("clean", message)`` or ``("traceback", text)``."""
    try:
        return "ok", fn()
    except (RunStoreError, ConfigError) as exc:
        msg = str(exc)
        return ("clean", msg) if path in msg else ("traceback", f"error without the file: {msg}")
    except Exception:  # noqa: BLE001 - what the campaign counts
        return "traceback", traceback.format_exc(limit=4)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=240, help="number of mutations (at least 200 for the bar)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", action="store_true", help="print each traceback and silent change")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="moopt-store-fuzz-")
    originals, show_ref, resume_ref = {}, {}, {}
    for case in CASES:
        path = os.path.join(tmp, f"{case}.db")
        run(case, path, BUDGET)
        originals[case] = path
        show_ref[case] = snapshot(moopt.RunResult.load(path))
        ref = os.path.join(tmp, f"{case}-ref.db")
        shutil.copy(path, ref)
        resume_ref[case] = snapshot(run(case, ref, MORE))
    total = sum(c for _, _, c in MUTATIONS)
    plan = [(kind, fn) for kind, fn, c in MUTATIONS for _ in range(max(1, round(c * args.n / total)))]
    table: dict = collections.defaultdict(collections.Counter)
    bad = []
    t0 = time.perf_counter()
    for i, (kind, fn) in enumerate(plan):
        case = rng.choice(sorted(CASES))
        path = os.path.join(tmp, f"m{i}.db")
        shutil.copy(originals[case], path)
        what = fn(path, rng)
        shown = attempt(lambda: snapshot(moopt.RunResult.load(path)), path)
        resumed = attempt(lambda: snapshot(run(case, path, MORE)), path)
        outcomes = [shown[0], resumed[0]]
        if "traceback" in outcomes:
            outcome = "traceback"
        elif (shown[0] == "ok" and shown[1] != show_ref[case]) or (resumed[0] == "ok"
                                                                  and resumed[1] != resume_ref[case]):
            outcome = "silent"
        elif "clean" in outcomes:
            outcome = "clean"
        else:
            outcome = "harmless"
        table[kind][outcome] += 1
        if outcome in ("traceback", "silent"):
            bad.append((kind, case, what, outcome, shown, resumed))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    dt = time.perf_counter() - t0
    cols = ["clean", "harmless", "traceback", "silent"]
    print(f"{len(plan)} mutations of 2 finished stores ({', '.join(CASES)}; {BUDGET} evaluations, resumed to "
          f"{MORE}), seed {args.seed}, {dt:.0f} s\n")
    print("| mutation | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for kind, _, _ in MUTATIONS:
        print(f"| {kind} | " + " | ".join(str(table[kind][c]) for c in cols) + " |")
    print("| **all** | " + " | ".join(str(sum(table[k][c] for k in table)) for c in cols) + " |")
    for kind, case, what, outcome, shown, resumed in bad:
        print(f"\n{outcome}: {kind} ({what}) on {case}")
        if args.verbose:
            print("  show:", shown[0], str(shown[1])[:2000])
            print("  resume:", resumed[0], str(resumed[1])[:2000])
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
