"""NAS-Bench-201 on real devices: a tabular benchmark that ships with moopt.

All 15,625 cells of the NAS-Bench-201 space with their validation accuracy (200
epochs and 12 epochs, on CIFAR-10, CIFAR-100 and ImageNet16-120), parameters and
MACs of their network, and latency on 27 devices (HELP's table, which includes
HW-NAS-Bench's Raspberry Pi 4, Pixel 3, Eyeriss and FPGA), read from
``moopt/problems/data/nb201.npz`` (see ``data/PROVENANCE.md``).  Evaluation is a
lookup; no torch and no shared data folder are needed.

Spec options (``get_problem("nb201:...")``):

* ``device=NAME``: a HELP device column (``pixel3``, ``raspi4``, ``titanx_1``, ...;
  see :data:`DEVICES`; aliases such as ``titanx`` = ``titanx_1``), a device group
  ``ws`` (Titan X, batch 1), ``es`` (Raspberry Pi 4), ``m`` (Pixel 3), ``panacea``
  (all three), or several devices joined with ``+`` (``device=pixel3+raspi4``).
  Default ``pixel3``.
* ``device_table=PATH.csv`` (instead of ``device``): a user's own measured device, see
  :func:`read_device_table`; ``column=NAME`` picks its latency column.
* ``dataset=cifar10|cifar100|imagenet16`` (default ``cifar10``, NB201's cifar10-valid).
* ``accuracy=200ep|12ep`` (default ``200ep``; 12 epochs is a cheap, lower fidelity).
* ``extra=params``, ``extra=macs`` or ``extra=params+macs``: further objectives.
* ``inconsistent=fail|keep`` (default ``fail``): what to do with the 204 cells whose
  source records belong to other cells (see below).

Objectives, all minimized: ``error_pct`` (100 - validation accuracy, %), the latency
(``latency_ms`` for one device, ``latency_ms_<device>`` for several; ms), then
``params`` (parameters of the dataset's network) and ``macs`` (multiply-accumulates of
one forward pass of one image) when asked.  The variables are the 6 edges as
:class:`moopt.Categorical` over the 5 ops (:data:`EDGE_NAMES`, the same as
``moopt.adapters.nas.spaces.nb201``), so every moopt search runs on it; ``evaluate``
also takes ``{"arch": "<NB201 string>"}``.  The progressive (DPP-Net-style) search
grows the cell edge by edge in the fixed order :data:`GROW_ORDER`, unspecified edges
``none`` (:class:`NB201ProgressiveSpace`, the problem's ``progressive_space``).

Policies:

* **Inconsistent cells.** For 204 cells the source table averaged per-seed records
  that belong to other cells (their parameter counts are not their network's).  With
  ``inconsistent=fail`` they are outside the problem's search space: evaluating one
  raises :class:`OutsideSpaceError`, which the run records as ``pruned`` without
  charging the budget (a repeat is answered from the store), and they are excluded
  from the true front.  ``inconsistent=keep`` uses the table's values.
* **A user's device table** covers the cells it has a latency for; the others are
  outside the search space: evaluating one raises :class:`OutsideSpaceError`
  (recorded as ``pruned``, not charged to the budget) and they are not in the true front.  Every
  bad row (blank, NaN, infinite, zero or negative latency, unknown architecture,
  out-of-range ``arch_idx``, conflicting duplicates) is an error naming the file and
  its lines; see :func:`read_device_table`.
* **Latency and the dataset.** The device latencies are those of the CIFAR-10 network
  (32x32 input, 10 classes) whatever ``dataset`` says; ``params`` and ``macs`` are those
  of the chosen dataset's network (100 / 120 classes; 16x16 input for ImageNet16-120).

Every problem knows its exact true Pareto front (exhaustive over the cells it
contains) and its **hypervolume regret** (:func:`hypervolume_regret`).

Example:
    >>> from moopt.problems import get_problem
    >>> p = get_problem("nb201:device=pixel3")
    >>> p.objective_names
    ['error_pct', 'latency_ms']
    >>> p.evaluate({"arch": "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    ...                     "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"})["latency_ms"]
    17.2381
    >>> p.regret(p.pareto_front())
    0.0
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from moopt.errors import ConfigError
from moopt.errors import OutsideSpaceError as _OutsideSpaceError
from moopt.indicators import hypervolume
from moopt.pareto import is_nondominated
from moopt.problem import Objective, Problem
from moopt.reference import normalize
from moopt.search.progressive.space import ProgressiveSpace
from moopt.space import Categorical

#: the 5 ops, in the order of the table's op codes (and of ``moopt.adapters.nas``)
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: the 6 edges in string order, as ``(to_node, from_node)``
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
#: variable names, ``edge_<from>_<to>``
EDGE_NAMES = tuple(f"edge_{j}_{i}" for i, j in EDGES)
N_CELLS = 15625
TABLE_PATH = Path(__file__).resolve().parent / "data" / "nb201.npz"
TABLE_FORMAT_VERSION = 1

DATASETS = ("cifar10", "cifar100", "imagenet16")
ACCURACIES = ("200ep", "12ep")
EXTRAS = ("params", "macs")
_DATASET_ALIASES = {"cifar10-valid": "cifar10", "imagenet": "imagenet16", "imagenet16-120": "imagenet16",
                    "imagenet16_120": "imagenet16", "imagenet16120": "imagenet16"}
_ACCURACY_ALIASES = {"200": "200ep", "12": "12ep", "200epochs": "200ep", "12epochs": "12ep"}


@dataclass(frozen=True)
class Device:
    """A latency column of the table: what hardware, which kind, how the numbers were obtained."""

    name: str
    kind: str  #: gpu, cpu, mobile, embedded, asic, fpga
    hardware: str
    batch: int
    source: str


def _dev(name, kind, hardware, batch, source):
    return name, Device(name, kind, hardware, batch, source)


_HELP = "measured (HELP)"
_PHONE = "measured (HELP; integer ms, origin in the HELP paper)"
#: the 27 devices of the table, in its column order
DEVICES: dict[str, Device] = dict([
    *[_dev(f"1080ti_{b}", "gpu", "NVIDIA GTX 1080 Ti", b, _HELP) for b in (1, 256, 32)],
    *[_dev(f"2080ti_{b}", "gpu", "NVIDIA RTX 2080 Ti", b, _HELP) for b in (1, 256, 32)],
    _dev("essential_ph_1", "mobile", "Essential Phone PH-1", 1, _PHONE),
    _dev("eyeriss", "asic", "Eyeriss accelerator", 1, "simulated (HW-NAS-Bench)"),
    _dev("fpga", "fpga", "FPGA (ZC706)", 1, "estimated (HW-NAS-Bench)"),
    _dev("gold_6226", "cpu", "Intel Xeon Gold 6226", 1, _HELP),
    _dev("gold_6240", "cpu", "Intel Xeon Gold 6240", 1, _HELP),
    _dev("pixel2", "mobile", "Google Pixel 2", 1, _PHONE),
    _dev("pixel3", "mobile", "Google Pixel 3", 1, "measured (HW-NAS-Bench)"),
    _dev("raspi4", "embedded", "Raspberry Pi 4", 1, "measured (HW-NAS-Bench)"),
    _dev("samsung_a50", "mobile", "Samsung Galaxy A50", 1, _PHONE),
    _dev("samsung_s7", "mobile", "Samsung Galaxy S7", 1, _PHONE),
    _dev("silver_4114", "cpu", "Intel Xeon Silver 4114", 1, _HELP),
    _dev("silver_4210r", "cpu", "Intel Xeon Silver 4210R", 1, _HELP),
    *[_dev(f"titan_rtx_{b}", "gpu", "NVIDIA Titan RTX", b, _HELP) for b in (1, 256, 32)],
    *[_dev(f"titanx_{b}", "gpu", "NVIDIA Titan X", b, _HELP) for b in (1, 256, 32)],
    *[_dev(f"titanxp_{b}", "gpu", "NVIDIA Titan Xp", b, _HELP) for b in (1, 256, 32)],
])
#: device groups named after the device classes of DPP-Net (workstation, embedded system, mobile)
DEVICE_GROUPS: dict[str, tuple[str, ...]] = {
    "ws": ("titanx_1",),
    "es": ("raspi4",),
    "m": ("pixel3",),
    "panacea": ("titanx_1", "raspi4", "pixel3"),
}
#: friendlier spellings of device names
DEVICE_ALIASES: dict[str, str] = {
    **{base: f"{base}_1" for base in ("1080ti", "2080ti", "titan_rtx", "titanx", "titanxp", "essential_ph")},
    "gtx1080ti": "1080ti_1", "rtx2080ti": "2080ti_1", "titan_x": "titanx_1", "titan_xp": "titanxp_1",
    "titanrtx": "titan_rtx_1", "essential": "essential_ph_1", "raspberrypi4": "raspi4", "raspberry_pi_4": "raspi4",
    "rpi4": "raspi4", "pixel_3": "pixel3", "pixel_2": "pixel2", "a50": "samsung_a50", "s7": "samsung_s7",
    "galaxy_s7": "samsung_s7", "galaxy_a50": "samsung_a50",
}
DEFAULT_DEVICE = "pixel3"


def device_rows() -> list[dict]:
    """One dict per device (``name, kind, hardware, batch, source, groups``), for listings."""
    return [{"name": d.name, "kind": d.kind, "hardware": d.hardware, "batch": d.batch, "source": d.source,
             "groups": [g for g, members in DEVICE_GROUPS.items() if d.name in members]}
            for d in DEVICES.values()]


# ---------------------------------------------------------------------------------- arch strings
def parse_arch(arch: str) -> tuple:
    """The 6 ops (edge order :data:`EDGES`) of an NB201 string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

    Raises:
        ValueError: malformed string, unknown op or wrong input node.
    """
    if not isinstance(arch, str):
        raise TypeError(f"an NB201 architecture string is expected, got {type(arch).__name__}.")
    hint = "expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' with ops from " + str(list(OPS))
    nodes = arch.strip().split("+")
    if len(nodes) != 3:
        raise ValueError(f"NB201 string {arch!r} has {len(nodes)} nodes; {hint}.")
    ops = []
    for i, node in enumerate(nodes, start=1):
        if not (node.startswith("|") and node.endswith("|")):
            raise ValueError(f"NB201 string {arch!r}: node {i} is {node!r}; {hint}.")
        parts = node[1:-1].split("|")
        if len(parts) != i:
            raise ValueError(f"NB201 string {arch!r}: node {i} has {len(parts)} inputs, needs {i}; {hint}.")
        for j, part in enumerate(parts):
            op, _, src = part.partition("~")
            if op not in OPS or src != str(j):
                raise ValueError(f"NB201 string {arch!r}: bad edge {part!r} into node {i}; {hint}.")
            ops.append(op)
    return tuple(ops)


def format_arch(ops: Sequence) -> str:
    """The NB201 string of 6 ops (names or op codes 0..4) in edge order."""
    ops = tuple(OPS[int(o)] if isinstance(o, (int, np.integer)) and not isinstance(o, bool) else o for o in ops)
    if len(ops) != 6 or any(o not in OPS for o in ops):
        raise ValueError(f"an NB201 cell has 6 ops from {list(OPS)}, got {ops!r}.")
    nodes, k = [], 0
    for i in range(1, 4):
        nodes.append("|" + "|".join(f"{ops[k + j]}~{j}" for j in range(i)) + "|")
        k += i
    return "+".join(nodes)


# ---------------------------------------------------------------------------------- progressive growth
#: the order in which :class:`NB201ProgressiveSpace` sets the edges: the input-to-output edge first,
#: then node 1 (in, out), then node 2 (from node 1, out, from the input), so that most prefixes
#: are cells whose last edge lies on a path from the input to the output
GROW_ORDER = ("edge_0_3", "edge_0_1", "edge_1_3", "edge_1_2", "edge_2_3", "edge_0_2")


class NB201ProgressiveSpace(ProgressiveSpace):
    """The NB201 cell grown edge by edge, for a progressive (DPP-Net-style) search.

    A sequence of ``k`` ops (tokens :data:`OPS`) sets the first ``k`` edges of
    ``order``; the other edges are ``none``.  A cell with ``none`` edges is itself
    a valid NB201 cell, so every prefix is a candidate: the search starts from the
    5 one-edge cells and each step adds the op of the next edge, up to the 6 edges.
    Sequences map onto the problem's 6 edge variables (:meth:`to_params`), so the
    problem keeps its :class:`moopt.Categorical` variables for every other search.
    Two sequences that differ by trailing ``none`` tokens are the same cell; the
    progressive search proposes it once and grows through the longer one.

    Args:
        order: The 6 edge names (:data:`EDGE_NAMES`) in the order they are set;
            default :data:`GROW_ORDER`.
        contains: ``params -> bool``: which cells the problem has (e.g.
            :meth:`NB201Problem.contains`); sequences of other cells are not valid,
            so a search does not propose them (nor grow them).

    Example:
        >>> space = NB201ProgressiveSpace()
        >>> space.to_params(("nor_conv_3x3",))["edge_0_3"], space.to_params(("nor_conv_3x3",))["edge_1_2"]
        ('nor_conv_3x3', 'none')
        >>> len(space.expand(("nor_conv_3x3", "skip_connect")))
        5
    """

    tokens = OPS
    max_length = len(EDGE_NAMES)
    variable = None

    def __init__(self, order: Sequence[str] = GROW_ORDER, contains: Optional[Any] = None) -> None:
        order = tuple(order)
        if sorted(order) != sorted(EDGE_NAMES):
            raise ValueError(f"order={order!r} must list each of the 6 edges {list(EDGE_NAMES)} once.")
        self.order = order
        self.contains = contains

    def initial(self) -> list[tuple]:
        """The 5 cells with one edge set (the first of :attr:`order`)."""
        return [(op,) for op in OPS if self.is_valid((op,))]

    def is_valid(self, seq: tuple) -> bool:
        """Whether ``seq`` is at most 6 ops long and its cell is one the problem contains."""
        if len(seq) > self.max_length or any(t not in OPS for t in seq):
            return False
        return self.contains is None or bool(self.contains(self.to_params(seq)))

    def to_params(self, seq: tuple) -> dict[str, Any]:
        """The edge variables of the cell ``seq`` denotes (edges beyond ``len(seq)`` are ``none``)."""
        seq = tuple(seq)
        if len(seq) > self.max_length:
            raise ValueError(f"an NB201 cell has {self.max_length} edges; the sequence {seq!r} is longer.")
        ops = dict(zip(self.order, seq))
        return {n: ops.get(n, "none") for n in EDGE_NAMES}


# ---------------------------------------------------------------------------------- the table
class NB201Table:
    """The packaged table (read-only arrays, row = ``arch_idx``).

    Attributes:
        arch_ops: ``(15625, 6)`` uint8 op codes (indices into :data:`OPS`), edge order.
        devices: The 27 device names, table order.
        latency_ms: ``{device: (15625,) float64}``.
        val_acc: ``{(accuracy, dataset): (15625,) float64}`` validation accuracy in %
            (``"200ep"``: mean over the seeds; ``"12ep"``: NB201's 12-epoch schedule).
        n_seeds_200ep: ``{dataset: (15625,) uint8}`` seeds behind the 200-epoch mean.
        params: ``{dataset: (15625,) int64}`` parameters of the dataset's network.
        macs: ``{dataset: (15625,) int64}`` MACs of one forward pass of one image.
        inconsistent: ``(15625,)`` bool, the 204 cells whose source records belong to other cells.
        meta: Provenance (sources, commits, sha256 of the inputs, content digest).
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], path: str):
        def ro(a: np.ndarray) -> np.ndarray:
            a = np.array(a)
            a.setflags(write=False)
            return a

        self.path = path
        self.meta = json.loads(str(arrays["meta_json"]))
        if self.meta.get("format_version") != TABLE_FORMAT_VERSION or tuple(arrays["ops"]) != OPS:
            raise ConfigError(f"NB201 table {path}: format version {self.meta.get('format_version')} or op order "
                              f"{tuple(arrays['ops'])} is not the one this moopt reads (version "
                              f"{TABLE_FORMAT_VERSION}, ops {OPS}); rebuild it with problems/data/build_nb201.py.")
        self.arch_ops = ro(arrays["arch_ops"])
        self.devices = tuple(str(d) for d in arrays["devices"])
        self.latency_ms = {d: ro(arrays[f"latency_ms_{d}"].astype(np.float64)) for d in self.devices}
        self.val_acc = {(a, d): ro(arrays[f"val_acc_{a}_{d}"].astype(np.float64))
                        for a in ACCURACIES for d in DATASETS}
        self.n_seeds_200ep = {d: ro(arrays[f"n_seeds_200ep_{d}"]) for d in DATASETS}
        self.params = {d: ro(arrays[f"params_{d}"].astype(np.int64)) for d in DATASETS}
        self.macs = {d: ro(arrays[f"macs_{d}"].astype(np.int64)) for d in DATASETS}
        self.inconsistent = ro(arrays["inconsistent"].astype(bool))
        codes = self.arch_ops.astype(np.int64) @ _PLACE
        index = np.full(N_CELLS, -1, dtype=np.int64)
        index[codes] = np.arange(N_CELLS)
        if self.arch_ops.shape != (N_CELLS, 6) or np.any(index < 0):
            raise ConfigError(f"NB201 table {path} does not hold the 15,625 distinct cells; rebuild it with "
                              "problems/data/build_nb201.py.")
        self._index_of_code = ro(index)

    def arch_str(self, idx: int) -> str:
        """The NB201 string of cell ``idx``."""
        return format_arch(self.arch_ops[_check_idx(idx)])

    def index(self, arch) -> int:
        """``arch_idx`` of an NB201 string or of 6 ops (names or codes)."""
        ops = parse_arch(arch) if isinstance(arch, str) else tuple(arch)
        format_arch(ops)  # validates
        code = sum(_op_code(o) * int(p) for o, p in zip(ops, _PLACE))
        return int(self._index_of_code[code])

    def index_of_codes(self, codes: np.ndarray) -> np.ndarray:
        """``arch_idx`` of each row of op codes, shape ``(n, 6)`` -> ``(n,)``."""
        return self._index_of_code[np.asarray(codes, dtype=np.int64) @ _PLACE]


_PLACE = 5 ** np.arange(5, -1, -1, dtype=np.int64)  # edge 0 is the most significant base-5 digit


def _op_code(op) -> int:
    if isinstance(op, (int, np.integer)) and not isinstance(op, bool):
        return int(op)
    return OPS.index(op)


def _check_idx(idx) -> int:
    i = int(idx)
    if i != idx or not 0 <= i < N_CELLS:
        raise ValueError(f"arch_idx must be an integer in 0..{N_CELLS - 1}, got {idx!r}.")
    return i


@lru_cache(maxsize=4)
def load_table(path: Optional[str] = None) -> NB201Table:
    """The packaged NB201 table (cached; ``numpy.load(..., allow_pickle=False)``, numpy only).

    Args:
        path: Another ``.npz`` built by ``problems/data/build_nb201.py`` (default: the packaged one).

    Raises:
        FileNotFoundError: the table is missing from this installation.
    """
    p = Path(path) if path is not None else TABLE_PATH
    if not p.is_file():
        raise FileNotFoundError(
            f"the NB201 table {p} is missing: moopt ships it as moopt/problems/data/nb201.npz (reinstall moopt; "
            "a source install needs setup.py's package_data to include problems/data/*.npz), or rebuild it with "
            "problems/data/build_nb201.py from a checkout with the shared data folder.")
    with np.load(p, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return NB201Table(arrays, str(p))


def arch_str(idx: int) -> str:
    """The NB201 string of cell ``idx`` (0..15624)."""
    return load_table().arch_str(idx)


def arch_index(arch) -> int:
    """``arch_idx`` of an NB201 string or of 6 ops (names or codes)."""
    return load_table().index(arch)


# ---------------------------------------------------------------------------------- regret
def hypervolume_regret(F, front, *, ref: float = 1.1) -> float:
    """Hypervolume regret ``1 - HV(F) / HV(front)`` of a found set against the true front.

    Both sets are normalized with the true front's ideal (best value per objective)
    and nadir (worst value per objective over the front), ``(f - ideal) / (nadir -
    ideal)`` (an objective whose front has a single value is only shifted), and the
    hypervolume is taken with the reference point ``ref`` (1.1) on every axis;
    points that do not dominate it add nothing.  All objectives are minimized.  The
    regret is 0 exactly when ``F`` dominates as much as the true front (e.g. contains
    it) and 1 when ``F`` is empty or adds nothing.  This is the one definition used by
    every NB201 problem's :meth:`NB201Problem.regret`, by the benchmark and by the
    tests; with the raw-unit reference point ``ideal + 1.1 * (nadir - ideal)``
    (:attr:`NB201Problem.ref_point`) it equals ``1 - hv / max_hypervolume``, so
    ``moopt bench``'s ``hv_ratio`` is ``1 - regret``.

    Args:
        F: Objective values found, ``(n, m)``, minimized, finite (only successful
            evaluations); ``n`` may be 0.
        front: The true Pareto front, ``(k, m)``.
        ref: Reference coordinate on every normalized axis.

    Returns:
        A float in ``[0, 1]``.

    Raises:
        ValueError: shapes differ, non-finite values, or ``F`` dominates more than the
            true front (these are not the problem's objective values in its order).
    """
    P = np.asarray(front, dtype=float)
    if P.ndim != 2 or len(P) == 0:
        raise ValueError(f"hypervolume_regret: the true front must be a non-empty (k, m) array, got shape {P.shape}.")
    m = P.shape[1]
    F = np.asarray(F, dtype=float)
    if F.size == 0:
        return 1.0
    F = np.atleast_2d(F)
    if F.ndim != 2 or F.shape[1] != m:
        raise ValueError(f"hypervolume_regret: F must have shape (n, {m}) like the true front, got {F.shape}.")
    if not np.all(np.isfinite(F)):
        raise ValueError("hypervolume_regret: F has non-finite values; pass the successful evaluations only.")
    ideal, nadir = P.min(axis=0), P.max(axis=0)
    r = [float(ref)] * m
    best = hypervolume(normalize(P, ideal=ideal, nadir=nadir), r)
    found = hypervolume(normalize(F, ideal=ideal, nadir=nadir), r, outside="ignore")
    regret = 1.0 - found / best
    if regret < -1e-9:
        raise ValueError(f"hypervolume_regret: F dominates more than the true front (regret {regret:.3g}); "
                         "are these the problem's objective values, in the order of its objective_names?")
    return max(0.0, float(regret))


# ---------------------------------------------------------------------------------- user device tables
class DeviceTableError(ConfigError):
    """A user's device table is unreadable or has bad rows (the message names the file and lines)."""


class OutsideSpaceError(_OutsideSpaceError):
    """The candidate is a cell this problem does not contain (no latency in the user's table)."""


@dataclass(frozen=True)
class DeviceTable:
    """A user's device latencies: ``idx`` (sorted arch_idx) and ``latency_ms`` per cell."""

    path: str
    column: str
    key: str
    idx: np.ndarray
    latency_ms: np.ndarray
    sha256: str
    n_rows: int


def _lines(items: list, limit: int = 6) -> str:
    shown = ", ".join(str(x) for x in items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def _numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_device_table(path, column: Optional[str] = None) -> DeviceTable:
    """Read a user's measured NB201 latencies from a CSV file.

    The file is comma-separated UTF-8 text with a header line.  Cells are named by
    ``arch_str`` (the NB201 string) or ``arch_idx`` (0..15624, NAS-Bench-201's index) or
    both (then they must name the same cell).  The latency (ms) is the column
    ``column``, else the only column besides those, else the only numeric one.

    Policies (every error is a :class:`DeviceTableError` naming the file, how many rows
    and their line numbers, and the fix):

    * cells missing from the file are *not* an error: the problem's search space is the
      cells the file has a latency for;
    * a blank, non-numeric, NaN, infinite, zero or negative latency is an error;
    * an unknown or malformed architecture string, a non-integer or out-of-range
      ``arch_idx``, a blank key, a row with more or fewer fields than the header, and
      ``arch_idx``/``arch_str`` naming different cells are errors;
    * the same cell on several rows is an error unless every row has the same
      latency (then they count once);
    * no latency column, several numeric candidates without ``column=``, an unknown
      ``column=``, an empty file or one without data rows are errors.

    Returns:
        A :class:`DeviceTable` with the cells sorted by ``arch_idx``.
    """
    p = Path(str(path)).expanduser()
    where = f"device table {p}"
    if not p.is_file():
        raise DeviceTableError(f"{where}: no such file; give the path of a CSV with arch_str or arch_idx and a "
                               "latency column (ms).")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DeviceTableError(f"{where}: not UTF-8 text (a spreadsheet file?); save it as CSV (UTF-8).") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: Optional[list[str]] = None
    body: list[tuple[int, list[str]]] = []
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue  # blank line
        if header is None:
            header = [c.strip() for c in row]
        else:
            body.append((reader.line_num, [c.strip() for c in row]))
    if header is None:
        raise DeviceTableError(f"{where}: the file is empty; expected a header line such as 'arch_str,latency_ms' "
                               "and one row per cell.")
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t")):
        raise DeviceTableError(f"{where}: the header {header[0]!r} is not comma-separated; save the file with "
                               "commas between columns.")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup or "" in header:
        raise DeviceTableError(f"{where}: the header {header} has {'duplicated' if dup else 'empty'} column names "
                               f"{dup if dup else ''}; give every column one distinct name.")
    lower = {h.lower(): h for h in header}
    keys = [lower[k] for k in ("arch_idx", "arch_str") if k in lower]
    if not keys:
        raise DeviceTableError(f"{where}: no arch_str or arch_idx column (columns: {header}); name the cells by "
                               "arch_str ('|nor_conv_3x3~0|+|none~0|skip_connect~1|+...') or arch_idx (0..15624).")
    others = [h for h in header if h not in keys]
    if column is not None:
        column = str(column)
        if column not in header:
            raise DeviceTableError(f"{where}: column={column!r} is not in the header {header}; choose one of "
                                   f"{others}.")
        if column in keys:
            raise DeviceTableError(f"{where}: column={column!r} names the cells, not their latency; choose one of "
                                   f"{others}.")
    elif len(others) == 1:
        column = others[0]
    elif not others:
        raise DeviceTableError(f"{where}: no latency column besides {keys}; add one with the latency in ms.")
    else:
        pos = {h: header.index(h) for h in others}
        numeric = [h for h in others
                   if any(len(r) > pos[h] and r[pos[h]] for _, r in body)
                   and all(_numeric(r[pos[h]]) for _, r in body if len(r) > pos[h] and r[pos[h]])]
        if len(numeric) > 1:
            raise DeviceTableError(f"{where}: several numeric columns {numeric}; choose the latency column with "
                                   f"column=NAME (e.g. 'nb201:device_table={p},column={numeric[0]}').")
        if not numeric:
            first = []
            for h in others:
                bad_value = next(((ln, r[pos[h]]) for ln, r in body if len(r) > pos[h] and r[pos[h]]
                                  and not _numeric(r[pos[h]])), None)
                if bad_value is not None:
                    first.append(f"{h!r} has {bad_value[1]!r} on line {bad_value[0]}")
            raise DeviceTableError(f"{where}: no numeric column among {others} ({'; '.join(first) or 'all blank'}); "
                                   "write the latency in ms as plain numbers, or choose its column with column=NAME "
                                   "to see every bad row.")
        column = numeric[0]
    if not body:
        raise DeviceTableError(f"{where}: no data rows after the header; add one row per measured cell.")

    table = load_table()
    col = header.index(column)
    kpos = {k: header.index(k) for k in keys}
    issues: dict[str, list] = {}

    def bad(kind: str, line: int, detail: str = "") -> None:
        issues.setdefault(kind, []).append(f"{line}" + (f" ({detail})" if detail else ""))

    cells, values, lines = [], [], []
    for line, row in body:
        if len(row) != len(header):
            bad(f"rows with {'more' if len(row) > len(header) else 'fewer'} fields than the header's "
                f"{len(header)}", line, f"{len(row)} fields")
            continue
        idx = None
        if "arch_idx" in lower:
            s = row[kpos[lower["arch_idx"]]]
            try:
                v = float(s)
                if not v.is_integer():
                    raise ValueError
                idx = int(v)
            except ValueError:
                bad("blank arch_idx" if not s else "arch_idx values that are not integers", line,
                    "" if not s else repr(s))
                continue
            if not 0 <= idx < N_CELLS:
                bad(f"arch_idx values outside 0..{N_CELLS - 1}", line, s)
                continue
        if "arch_str" in lower:
            s = row[kpos[lower["arch_str"]]]
            try:
                by_str = table.index(parse_arch(s))
            except ValueError:
                bad("blank arch_str" if not s else "unknown NB201 architecture strings", line,
                    "" if not s else repr(s[:80]))
                continue
            if idx is not None and idx != by_str:
                bad("arch_idx and arch_str naming different cells", line, f"arch_idx {idx}, arch_str is {by_str}")
                continue
            idx = by_str
        s = row[col]
        try:
            v = float(s)
        except ValueError:
            bad(f"blank {column!r}" if not s else f"non-numeric {column!r}", line, "" if not s else repr(s))
            continue
        if math.isnan(v):
            bad(f"NaN {column!r}", line)
        elif math.isinf(v):
            bad(f"infinite {column!r}", line, s)
        elif v < 0:
            bad(f"negative {column!r}", line, s)
        elif v == 0:
            bad(f"zero {column!r}", line)
        else:
            cells.append(idx)
            values.append(v)
            lines.append(line)
    found = np.array(cells, dtype=np.int64)
    order = np.argsort(found, kind="stable")
    found, lat, at = found[order], np.array(values, dtype=float)[order], np.array(lines)[order]
    starts = np.flatnonzero(np.r_[True, found[1:] != found[:-1]]) if len(found) else np.zeros(0, dtype=np.int64)
    for a, b in zip(starts, np.r_[starts[1:], len(found)]):
        if b - a > 1 and np.any(lat[a:b] != lat[a]):
            bad("cells measured on several rows with different latencies", int(at[a]),
                f"arch_idx {found[a]} also on line(s) {_lines(at[a + 1:b].tolist())}: {_lines(lat[a:b].tolist())}")
    if issues:
        n = sum(len(v) for v in issues.values())
        parts = "; ".join(f"{kind}: {len(v)} row{'s' if len(v) > 1 else ''} (line{'s' if len(v) > 1 else ''} "
                          f"{_lines(v)})" for kind, v in issues.items())
        raise DeviceTableError(
            f"{where}: {n} bad row{'s' if n > 1 else ''} (of {len(body)}) -- {parts}. Every row needs a cell "
            f"(arch_str or arch_idx) and one finite latency > 0 in ms in column {column!r}; fix or delete these "
            "rows (cells left out of the file are outside the search space, not errors); for a cell measured "
            "several times keep one row (e.g. the median).")
    return DeviceTable(str(p.resolve()), column, "+".join(keys), found[starts], lat[starts],
                       hashlib.sha256(raw).hexdigest(), len(body))


# ---------------------------------------------------------------------------------- the problem
def _choice(value, allowed: Sequence[str], aliases: Mapping[str, str], option: str) -> str:
    s = str(value).strip().lower()
    s = aliases.get(s, s)
    if s not in allowed:
        raise ConfigError(f"nb201: {option}={value!r} is unknown; choose one of {list(allowed)}.")
    return s


def _devices(spec) -> tuple[str, tuple[str, ...]]:
    """``(canonical spec text, device names)`` of a ``device=`` option."""
    items = spec if isinstance(spec, (list, tuple)) else str(spec).split("+")
    names: list[str] = []
    texts: list[str] = []
    for item in items:
        s = str(item).strip().lower()
        if s in DEVICE_GROUPS:
            texts.append(s)
            names.extend(DEVICE_GROUPS[s])
            continue
        s = DEVICE_ALIASES.get(s, s)
        if s not in DEVICES:
            import difflib

            close = difflib.get_close_matches(s, list(DEVICES) + list(DEVICE_GROUPS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"nb201: unknown device {item!r}; choose a group {list(DEVICE_GROUPS)} or a device "
                              f"{list(DEVICES)} (several joined with '+'), or give your own measurements with "
                              f"device_table=PATH.csv.{hint}")
        texts.append(s)
        names.append(s)
    if not names:
        raise ConfigError("nb201: device= is empty; name a device such as 'pixel3' or a group such as 'panacea'.")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"nb201: device={spec!r} names {dup} more than once; list each device once.")
    return "+".join(texts), tuple(names)


def _extras(spec) -> tuple[str, ...]:
    if spec is None or spec == "" or spec == ():
        return ()
    items = spec if isinstance(spec, (list, tuple)) else str(spec).split("+")
    out = []
    for item in items:
        s = str(item).strip().lower()
        if s not in EXTRAS:
            raise ConfigError(f"nb201: extra objective {item!r} is unknown; choose from {list(EXTRAS)} "
                              "(both: extra=params+macs).")
        out.append(s)
    return tuple(e for e in EXTRAS if e in out)


class NB201Problem(Problem):
    """A tabular NAS-Bench-201 problem: error and latency (and params / MACs), all minimized.

    See the module docstring for the options and policies.  Besides
    :class:`moopt.Problem`'s interface it has the benchmark metadata that
    ``moopt bench`` uses (:meth:`pareto_front`, :attr:`ref_point`,
    :attr:`max_hypervolume`), the exact true front's cells (:attr:`pareto_indices`) and
    :meth:`regret`.

    Args:
        device: Device name, alias, group (``ws``, ``es``, ``m``, ``panacea``) or several
            joined with ``+``; default ``pixel3`` (unless ``device_table`` is given).
        dataset: ``cifar10``, ``cifar100`` or ``imagenet16``.
        accuracy: ``200ep`` or ``12ep``.
        extra: ``params``, ``macs`` or ``params+macs`` (or a list).
        device_table: Path of a user's CSV of measured latencies (see :func:`read_device_table`).
        column: The latency column of ``device_table``.
        inconsistent: ``fail`` or ``keep`` (the 204 inconsistent cells).
    """

    def __init__(self, device: Any = None, dataset: str = "cifar10", accuracy: str = "200ep", extra: Any = None,
                 device_table: Any = None, column: Optional[str] = None, inconsistent: str = "fail") -> None:
        table = load_table()
        self.table = table
        self.dataset = _choice(dataset, DATASETS, _DATASET_ALIASES, "dataset")
        self.accuracy = _choice(accuracy, ACCURACIES, _ACCURACY_ALIASES, "accuracy")
        self.extras = _extras(extra)
        self.inconsistent = _choice(inconsistent, ("fail", "keep"), {}, "inconsistent")
        if column is not None and device_table is None:
            raise ConfigError("nb201: column= applies to device_table=PATH.csv only; give both, or drop column=.")
        spec: list[str] = []
        settings: dict[str, Any] = {"table_sha256": table.meta["content_sha256"]}
        latency_cols: list[tuple[str, np.ndarray]] = []
        if device_table is not None:
            if device is not None:
                raise ConfigError("nb201: give device= (a device of the packaged table) or device_table= (your "
                                  "own measurements), not both.")
            dt = read_device_table(device_table, column)
            if "," in dt.path:
                raise ConfigError(f"nb201: the device table path {dt.path!r} contains ',', which a problem spec "
                                  "cannot hold; rename or move the file.")
            lat = np.full(N_CELLS, np.nan)
            lat[dt.idx] = dt.latency_ms
            latency_cols.append(("latency_ms", lat))
            self.device_table: Optional[DeviceTable] = dt
            self.devices: tuple[str, ...] = ()
            spec += [f"device_table={dt.path}", f"column={dt.column}"]
            settings["device_table"] = {"path": dt.path, "column": dt.column, "sha256": dt.sha256,
                                        "cells": int(len(dt.idx))}
        else:
            text, self.devices = _devices(DEFAULT_DEVICE if device is None else device)
            self.device_table = None
            spec.append(f"device={text}")
            for d in self.devices:
                name = "latency_ms" if len(self.devices) == 1 else f"latency_ms_{d}"
                latency_cols.append((name, table.latency_ms[d]))
        spec += [f"dataset={self.dataset}", f"accuracy={self.accuracy}"]
        if self.extras:
            spec.append("extra=" + "+".join(self.extras))
        if self.inconsistent != "fail":
            spec.append(f"inconsistent={self.inconsistent}")

        cols = [100.0 - table.val_acc[self.accuracy, self.dataset]] + [c for _, c in latency_cols]
        objectives = [Objective("error_pct", "min", "%")]
        objectives += [Objective(n, "min", "ms", cheap=True) for n, _ in latency_cols]
        for e in self.extras:
            objectives.append(Objective(e, "min", "parameters" if e == "params" else "MACs", cheap=True))
            cols.append((table.params if e == "params" else table.macs)[self.dataset].astype(np.float64))
        F = np.column_stack(cols)
        F.setflags(write=False)
        self._F = F
        self._cheap_cols = [j for j, o in enumerate(objectives) if o.cheap]
        valid = np.all(np.isfinite(F), axis=1)
        self._has_latency = valid.copy()
        if self.inconsistent == "fail":
            valid &= ~table.inconsistent
        valid.setflags(write=False)
        self.valid = valid
        if not valid.any():
            raise ConfigError(f"nb201: no cell is left in the problem ({int(self._has_latency.sum())} with a "
                              "latency, all of them inconsistent); measure more cells or pass inconsistent=keep.")
        self._front_cache: Optional[dict] = None
        super().__init__([Categorical(n, OPS) for n in EDGE_NAMES], objectives, self._evaluate_one,
                         evaluate_cheap=self._evaluate_cheap_one, evaluate_batch=self._evaluate_many,
                         name="nb201:" + ",".join(spec), settings=settings,
                         progressive_space=NB201ProgressiveSpace(contains=self.contains))

    # -- candidates -----------------------------------------------------------
    def index_of(self, params: Mapping) -> int:
        """``arch_idx`` of a candidate: one op per :data:`EDGE_NAMES`, or ``{"arch": <NB201 string>}``."""
        if "arch" in params:
            return self.table.index(parse_arch(params["arch"]))
        missing = [n for n in EDGE_NAMES if n not in params]
        if missing:
            raise ValueError(f"{self.name}: the candidate lacks {missing}; give 'arch' (an NB201 string) or every "
                             f"one of {list(EDGE_NAMES)}.")
        return self.table.index([params[n] for n in EDGE_NAMES])

    def params_of(self, idx: int) -> dict:
        """The candidate (edge variables) of cell ``idx``."""
        return dict(zip(EDGE_NAMES, (OPS[k] for k in self.table.arch_ops[_check_idx(idx)])))

    def contains(self, params: Mapping) -> bool:
        """Whether the candidate is a cell of this problem (not inconsistent / has a latency)."""
        return bool(self.valid[self.index_of(params)])

    def _why_outside(self, i: int) -> OutsideSpaceError:
        s = self.table.arch_str(i)
        if not self._has_latency[i]:
            dt = self.device_table
            return OutsideSpaceError(
                f"{self.name}: cell arch_idx {i} ({s}) has no latency in the device table {dt.path if dt else '?'} "
                f"({len(dt.idx) if dt else 0} of {N_CELLS} cells); cells missing from the table are outside this "
                "problem's search space (recorded as pruned, not charged to the budget); add its measurement "
                "to include it.")
        return OutsideSpaceError(
            f"{self.name}: cell arch_idx {i} ({s}) is one of the 204 NB201 cells whose source records belong to "
            "other cells (see moopt/problems/data/PROVENANCE.md); it is left out of this problem and its true "
            "front (recorded as pruned, not charged to the budget); pass inconsistent=keep to use the table's "
            "values.")

    def _evaluate_one(self, params) -> dict:
        i = self.index_of(params)
        if not self.valid[i]:
            raise self._why_outside(i)
        out: dict[str, Any] = {o.name: float(self._F[i, j]) for j, o in enumerate(self.objectives)}
        out["arch_idx"] = i
        return out

    def _evaluate_cheap_one(self, params) -> dict:
        i = self.index_of(params)
        if not self._has_latency[i]:
            raise self._why_outside(i)
        return {self.objectives[j].name: float(self._F[i, j]) for j in self._cheap_cols}

    def _evaluate_many(self, X):
        """Vectorized lookup: ``X`` ``(n, 6)`` op codes -> ``(F, None)``; rows outside the problem are NaN."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.shape[1:] != (6,):
            raise ValueError(f"{self.name}: X must have shape (n, 6) (one op code per edge), got {X.shape}.")
        codes = np.rint(X)
        if np.any(np.abs(X - codes) > 1e-9) or np.any((codes < 0) | (codes > len(OPS) - 1)):
            raise ValueError(f"{self.name}: X holds op codes 0..{len(OPS) - 1} (indices into {list(OPS)}); got "
                             f"values outside them.")
        idx = self.table.index_of_codes(codes.astype(np.int64))
        F = self._F[idx].copy()
        F[~self.valid[idx]] = np.nan
        return F, None

    def evaluate_indices(self, idx) -> np.ndarray:
        """Objective values of cells ``idx`` (arch_idx), ``(n, n_obj)``; NaN rows outside the problem."""
        idx = np.asarray(idx, dtype=np.int64)
        F = self._F[idx].copy()
        F[~self.valid[idx]] = np.nan
        return F

    # -- true front -----------------------------------------------------------
    def _front(self) -> dict:
        if self._front_cache is None:
            cells = np.flatnonzero(self.valid)
            Fv = self._F[cells]
            on = cells[is_nondominated(Fv)]
            P = np.unique(self._F[on], axis=0)  # sorted lexicographically, one row per distinct point
            ideal, nadir = P.min(axis=0), P.max(axis=0)
            span = np.where(nadir > ideal, nadir - ideal, 1.0)
            ref = ideal + 1.1 * span
            order = np.lexsort(self._F[on].T[::-1])
            self._front_cache = {"P": P, "cells": on[order], "ideal": ideal, "nadir": nadir, "ref": ref,
                                 "hv": hypervolume(P, ref)}
        return self._front_cache

    front_exact = True
    max_hypervolume_source = "exact"

    def pareto_front(self, n: Optional[int] = None) -> np.ndarray:
        """The exact true Pareto front: one row per distinct non-dominated objective vector.

        Exhaustive over the cells this problem contains (:attr:`valid`: the inconsistent
        cells are excluded unless ``inconsistent=keep``; with a device table, the cells
        it measured).  Rows are sorted lexicographically (first objective ascending).

        Args:
            n: At most this many rows, well spread (greedy farthest point, extremes
                kept), when the front is larger; default all.
        """
        P = self._front()["P"].copy()
        if n is not None and int(n) < len(P):
            from .base import select_spread

            if int(n) < 1:
                raise ValueError(f"{self.name}: pareto_front(n) needs n >= 1, got {n!r}.")
            P = select_spread(P, int(n))
        return P

    @property
    def pareto_indices(self) -> np.ndarray:
        """``arch_idx`` of every cell on the true front (cells with equal objectives all included)."""
        return self._front()["cells"].copy()

    @property
    def ideal_point(self) -> np.ndarray:
        """Best value of each objective over the true front."""
        return self._front()["ideal"].copy()

    @property
    def nadir_point(self) -> np.ndarray:
        """Worst value of each objective over the true front."""
        return self._front()["nadir"].copy()

    @property
    def ref_point(self) -> np.ndarray:
        """``ideal + 1.1 * (nadir - ideal)`` of the true front: 1.1 on every normalized axis."""
        return self._front()["ref"].copy()

    @property
    def max_hypervolume(self) -> float:
        """Hypervolume of the true front for :attr:`ref_point` (raw units)."""
        return float(self._front()["hv"])

    def regret(self, found) -> float:
        """Hypervolume regret of a found set (see :func:`hypervolume_regret`).

        Args:
            found: Objective values ``(n, n_obj)`` in :attr:`objective_names` order, or a
                :class:`moopt.RunResult` of a run on this problem (its successful
                evaluations).
        """
        if hasattr(found, "F") and hasattr(found, "objective_names"):
            if list(found.objective_names) != self.objective_names:
                raise ValueError(f"{self.name}: the result's objectives {list(found.objective_names)} are not this "
                                 f"problem's {self.objective_names}.")
            found = found.F
        return hypervolume_regret(found, self._front()["P"])

    def front_share(self, idx) -> float:
        """Share of the true front's cells among ``idx`` (arch_idx of the cells found)."""
        cells = self._front()["cells"]
        return float(np.isin(cells, np.asarray(idx, dtype=np.int64)).sum() / len(cells))

    def describe(self) -> dict:
        """JSON metadata for reports."""
        f = self._front()
        return {"name": self.name, "n_var": len(EDGE_NAMES), "n_obj": self.n_obj, "n_constr": 0,
                "objectives": self.objective_names, "cells": int(self.valid.sum()),
                "front_points": int(len(f["P"])), "front_cells": int(len(f["cells"])),
                "ref_point": f["ref"].tolist(), "max_hypervolume": float(f["hv"]),
                "max_hypervolume_source": "exact", "front_exact": True}


__all__ = ["NB201Problem", "NB201Table", "DeviceTable", "DeviceTableError", "OutsideSpaceError", "Device",
           "DEVICES", "DEVICE_GROUPS", "DEVICE_ALIASES", "DATASETS", "ACCURACIES", "EXTRAS", "OPS", "EDGES",
           "EDGE_NAMES", "N_CELLS", "load_table", "arch_str", "arch_index", "parse_arch", "format_arch",
           "read_device_table", "hypervolume_regret", "device_rows", "NB201ProgressiveSpace", "GROW_ORDER"]
