"""Devices: ``host`` (measured here) and latency lookup tables (LUT) for devices not at hand.

A LUT is built once *on the target device* (``moopt nas profile-device --space dpp
--out DEVICE.json``): every layer shape a DPP-Net network of the given macro
skeleton can contain (each norm/conv op at every width and resolution, the
stem, the concatenations, transitions and the head) is timed alone, and the
medians are written to a JSON file.  :meth:`LatencyTable.predict` then sums
the entries of an architecture's layers, so a search can optimize the latency
of that device anywhere.

Example:
    >>> from moopt.adapters.nas.spaces.dpp import DPPConfig
    >>> lut = profile_dpp((1, 8, 8), 10, config=DPPConfig(stem_channels=8, stages=(1,), growth=(4,)),
    ...                   repeats=3, warmup=1)
    >>> lut.predict(("bnrelu", "conv3x3")) > 0
    True
"""

from __future__ import annotations

import functools
import json
import math
import os
import platform
import socket
import statistics
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from .ops import CONV_OPS, NORM_OPS, condense_model
from .spaces.dpp import DPPConfig, cell_layers, check_cell, make_layer, network_positions

LUT_FORMAT = "moopt-latency-lut/1"


class _Cat(nn.Module):
    def __init__(self, c2: int):
        super().__init__()
        self.c2 = c2

    def forward(self, x):
        return torch.cat([x, x[:, : self.c2]], 1)


class _Head(nn.Module):
    def __init__(self, c: int, classes: int):
        super().__init__()
        self.norm = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.norm(x)), 1))


_Layer = tuple[Callable[[], nn.Module], tuple[int, int, int]]  # (module factory, input shape (c, h, w))


def _layer_factory(token: str, cin: int, cout: int, config: DPPConfig) -> Callable[[], nn.Module]:
    return lambda: condense_model(nn.Sequential(make_layer(token, cin, cout, config)))


def dpp_keys(seq: Sequence, input_shape: Sequence[int], num_classes: int, config: DPPConfig) -> list[str]:
    """LUT keys of every layer of the DPP-Net network of cell ``seq`` (in execution order)."""
    seq = check_cell(seq)
    c0, h, w = (int(v) for v in input_shape)
    stride = 2 if min(h, w) >= 64 else 1
    keys = [f"stem|{c0}|{config.stem_channels}|{h}x{w}|s{stride}"]
    hw: Optional[tuple[int, int]] = None  # spatial size of the previous cell
    c = config.stem_channels
    for p in network_positions(input_shape, config):
        ph, pw = p["hw"]
        if p["index"] == 0 and p["stage"] > 0 and p["hw"] != hw:
            assert hw is not None  # set by the cells of the earlier stages
            keys.append(f"pool|{p['cin']}|{hw[0]}x{hw[1]}")
        for t, a, b in cell_layers(seq, p["cin"], p["growth"], config):
            keys.append(f"{t}|{a}|{b}|{ph}x{pw}")
        keys.append(f"cat|{p['cin']}|{p['growth']}|{ph}x{pw}")
        hw, c = p["hw"], p["cin"] + p["growth"]
    assert hw is not None  # a network has at least one cell
    keys.append(f"head|{c}|{hw[0]}x{hw[1]}|{num_classes}")
    return keys


def dpp_space_layers(input_shape: Sequence[int], num_classes: int, config: DPPConfig) -> dict[str, _Layer]:
    """Every LUT key of the DPP-Net space for this skeleton -> ``(factory, input shape)``."""
    c0, h, w = (int(v) for v in input_shape)
    stride = 2 if min(h, w) >= 64 else 1
    out: dict[str, _Layer] = {f"stem|{c0}|{config.stem_channels}|{h}x{w}|s{stride}":
           (lambda: nn.Conv2d(c0, config.stem_channels, 3, stride=stride, padding=1, bias=False), (c0, h, w))}
    hw: Optional[tuple[int, int]] = None  # spatial size of the previous cell
    for p in network_positions(input_shape, config):
        ph, pw = p["hw"]
        cin, k = p["cin"], p["growth"]
        bk = config.bottleneck * k
        if p["index"] == 0 and p["stage"] > 0 and p["hw"] != hw:
            assert hw is not None  # set by the cells of the earlier stages
            out[f"pool|{cin}|{hw[0]}x{hw[1]}"] = (lambda: nn.AvgPool2d(2), (cin, hw[0], hw[1]))
        for width in (cin, bk, k):
            for t in NORM_OPS:
                out.setdefault(f"{t}|{width}|{width}|{ph}x{pw}",
                               (_layer_factory(t, width, width, config), (width, ph, pw)))
        for a, b in ((cin, bk), (cin, k), (bk, bk), (bk, k)):
            for t in CONV_OPS:
                out.setdefault(f"{t}|{a}|{b}|{ph}x{pw}", (_layer_factory(t, a, b, config), (a, ph, pw)))
        out[f"cat|{cin}|{k}|{ph}x{pw}"] = (functools.partial(_Cat, k), (cin, ph, pw))
        hw, c = p["hw"], cin + k
    assert hw is not None  # a network has at least one cell
    out[f"head|{c}|{hw[0]}x{hw[1]}|{num_classes}"] = (lambda: _Head(c, num_classes), (c, hw[0], hw[1]))
    return out


def _time_module(mod: nn.Module, shape, batch_size: int, repeats: int, warmup: int, device: str,
                 now=time.perf_counter) -> dict:
    mod = mod.eval().to(device)
    g = torch.Generator().manual_seed(0)
    x = torch.randn((batch_size, *shape), generator=g).to(device)
    cuda = torch.device(device).type == "cuda"
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            mod(x)
        for _ in range(repeats):
            if cuda:
                torch.cuda.synchronize(device)
            t0 = now()
            mod(x)
            if cuda:
                torch.cuda.synchronize(device)
            times.append((now() - t0) * 1e3)
    q = statistics.quantiles(times, n=4) if len(times) >= 2 else [times[0]] * 3
    return {"ms": statistics.median(times), "iqr_ms": q[2] - q[0], "min_ms": min(times)}


def device_info(*, threads: Optional[int], batch_size: int, device: str, clock: str = "wall") -> dict:
    """Description of the machine a table was measured on."""
    return {"clock": clock, "hostname": socket.gethostname(), "platform": platform.platform(),
            "processor": platform.processor(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "threads": threads, "batch_size": batch_size, "device": device,
            "accelerator": torch.cuda.get_device_name(device) if torch.device(device).type == "cuda" else None}


class LatencyTable:
    """A per-layer latency lookup table of one device for the DPP-Net space.

    Args:
        entries: LUT key -> ``{"ms": median, "iqr_ms": spread, "min_ms": minimum}``.
        input_shape: ``(c, h, w)`` of the input the table covers.
        num_classes: Classes of the head the table covers.
        config: The DPP-Net skeleton (:class:`~moopt.adapters.nas.spaces.dpp.DPPConfig`) the table covers.
        device: Description of the measured device (:func:`device_info`).
        name: Device name used in reports.
    """

    def __init__(self, entries: dict, *, input_shape, num_classes: int, config: DPPConfig,
                 device: Optional[dict] = None, name: str = "lut"):
        self.entries = dict(entries)
        self.input_shape = tuple(int(v) for v in input_shape)
        self.num_classes = int(num_classes)
        self.config = config
        self.device = dict(device or {})
        self.name = name

    def keys_of(self, seq: Sequence) -> list[str]:
        return dpp_keys(seq, self.input_shape, self.num_classes, self.config)

    def predict(self, seq: Sequence, *, stat: str = "ms") -> float:
        """Predicted latency (ms) of the network of cell ``seq``: the sum of its layers' entries.

        ``stat="ms"`` sums the layers' medians, ``"min_ms"`` their minima.
        """
        if stat not in ("ms", "min_ms"):
            raise ValueError(f"stat={stat!r}; choose 'ms' (medians) or 'min_ms' (minima).")
        total = 0.0
        for k in self.keys_of(seq):
            if k not in self.entries:
                raise ValueError(
                    f"latency table {self.name!r} has no entry {k!r}; it was profiled for input "
                    f"{self.input_shape}, {self.num_classes} classes and {self.config}; re-run "
                    "`moopt nas profile-device` with the skeleton of this search."
                )
            total += self.entries[k].get(stat, self.entries[k]["ms"])
        return total

    def to_dict(self) -> dict:
        return {"format": LUT_FORMAT, "space": "dpp", "name": self.name, "input_shape": list(self.input_shape),
                "num_classes": self.num_classes, "config": self.config.to_dict(), "device": self.device,
                "entries": self.entries}

    def save(self, path) -> None:
        """Write the table as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True))

    @classmethod
    def from_dict(cls, d: dict, *, source: Optional[str] = None) -> "LatencyTable":
        """A table from the form :meth:`to_dict` writes, every value checked.

        Args:
            d: The parsed JSON.
            source: Where ``d`` came from (a file path), named in error messages.

        Raises:
            ValueError: not a moopt table, a missing field, a field of the wrong JSON type (``entries``
                not an object of key -> ``{"ms", "iqr_ms", "min_ms"}``, ``config`` not an object of
                :class:`DPPConfig` fields, ``device`` not an object, ``name`` not a string), or a value no
                profiler writes: an entry's ``ms``/``iqr_ms``/``min_ms`` NaN, infinite, negative or not a
                number, an ``input_shape`` other than 3 positive integers, a non-positive ``num_classes``,
                no entries.  The message names the table (its file), the field or entry and the value.
        """
        where = f" {source}" if source else ""
        if not isinstance(d, dict):
            raise ValueError(f"latency table{where} is a JSON {_json_type(d)}, not a moopt latency table (a JSON "
                             f"object with format {LUT_FORMAT!r}, as `moopt nas profile-device` writes).")
        if d.get("format") != LUT_FORMAT:
            raise ValueError(f"latency table{where} is not a moopt latency table (expected format {LUT_FORMAT!r}, "
                             f"got {d.get('format')!r}).")
        label = _table_label(d, source)
        missing = [k for k in ("entries", "input_shape", "num_classes", "config") if k not in d]
        if missing:
            raise ValueError(f"{label} is missing the field(s) {missing}; {_REPROFILE}.")
        if d.get("space", "dpp") != "dpp":
            raise ValueError(f"{label} is for the space {d.get('space')!r}; moopt's latency tables cover the DPP-Net "
                             f"space ('space': 'dpp'); {_REPROFILE}.")
        name = d.get("name", "lut")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{label}: name must be a non-empty string, got {name!r}; {_REPROFILE}.")
        device = d.get("device")
        if device is not None and not isinstance(device, dict):
            raise ValueError(f"{label}: device must be a JSON object describing the measured machine (or null), "
                             f"got a JSON {_json_type(device)}; {_REPROFILE}.")
        entries = _checked_entries(label, d["entries"])
        input_shape = _checked_input_shape(label, d["input_shape"])
        num_classes = _checked_num_classes(label, d["num_classes"])
        config = _checked_config(label, d["config"])
        return cls(entries, input_shape=input_shape, num_classes=num_classes, config=config,
                   device=device, name=name)

    @classmethod
    def load(cls, path) -> "LatencyTable":
        """Read a table written by :meth:`save` (JSON only; no code is loaded; values checked by :meth:`from_dict`)."""
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"latency table {p} not found; create it with `moopt nas profile-device`.")
        try:
            d = json.loads(p.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"latency table {p} is not valid JSON: {exc}.") from None
        return cls.from_dict(d, source=str(p))


_REPROFILE = "re-run `moopt nas profile-device` on the target device to rebuild the table"
_STATS = ("ms", "iqr_ms", "min_ms")


def _table_label(d: dict, source: Optional[str]) -> str:
    name = f"latency table {d.get('name', 'lut')!r}" if isinstance(d.get("name", "lut"), str) else "latency table"
    return f"{name} ({source})" if source else name


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _checked_entry(label: str, key: str, entry: object) -> dict[str, float]:
    """``{"ms", "iqr_ms", "min_ms"}`` of one entry, each a finite number >= 0 (defaults as :meth:`predict`)."""
    if not isinstance(entry, dict) or "ms" not in entry:
        raise ValueError(f"{label}: entry {key!r} is {entry!r}, not {{'ms': ..., 'iqr_ms': ..., 'min_ms': ...}}; "
                         f"{_REPROFILE}.")
    stats = {"ms": entry["ms"], "iqr_ms": entry.get("iqr_ms", 0.0), "min_ms": entry.get("min_ms", entry["ms"])}
    for stat in _STATS:
        v = stats[stat]
        if not _is_number(v) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{label}: entry {key!r} has {stat}={v!r}; a latency must be a finite number >= 0 "
                             f"(ms); {_REPROFILE}.")
    return {stat: float(stats[stat]) for stat in _STATS}


def _json_type(v: object) -> str:
    """The JSON name of a parsed value's type (``object``, ``array``, ``string``, ...)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    for types, name in ((dict, "object"), ((list, tuple), "array"), (str, "string"), ((int, float), "number")):
        if isinstance(v, types):
            return name
    return type(v).__name__


_ENTRIES_FORM = ('a JSON object mapping each layer key to {"ms": median, "iqr_ms": spread, "min_ms": minimum}, '
                 'e.g. {"conv3x3|8|4|8x8": {"ms": 0.12, "iqr_ms": 0.01, "min_ms": 0.11}}')


def _checked_entries(label: str, entries: object) -> dict[str, dict[str, float]]:
    if not isinstance(entries, dict):
        raise ValueError(f"{label}: entries is a JSON {_json_type(entries)}; it must be {_ENTRIES_FORM}; "
                         f"{_REPROFILE}.")
    if not entries:
        raise ValueError(f"{label} has no entries (entries={entries!r}); {_REPROFILE}.")
    return {str(k): _checked_entry(label, str(k), v) for k, v in entries.items()}


_CONFIG_INTS = ("stem_channels", "bottleneck", "groups", "condense_factor")
_CONFIG_LISTS = ("stages", "growth")


def _checked_config(label: str, config: object) -> DPPConfig:
    """The :class:`DPPConfig` of a table's ``config`` object, every field checked."""
    import dataclasses

    fields = [f.name for f in dataclasses.fields(DPPConfig)]
    form = f"a JSON object of DPPConfig fields {fields}, e.g. {json.dumps(DPPConfig().to_dict())}"
    if not isinstance(config, dict):
        raise ValueError(f"{label}: config is a JSON {_json_type(config)}; it must be {form}; {_REPROFILE}.")
    unknown = sorted(set(config) - set(fields))
    if unknown:
        raise ValueError(f"{label}: config has unknown field(s) {unknown}; it must be {form}; {_REPROFILE}.")
    for k in _CONFIG_INTS:
        v = config.get(k, 1)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{label}: config.{k}={v!r}; it must be a positive integer; {_REPROFILE}.")
    for k in _CONFIG_LISTS:
        v = config.get(k, [1])
        if not isinstance(v, list) or not v or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1
                                                       for x in v):
            raise ValueError(f"{label}: config.{k}={v!r}; it must be a non-empty array of positive integers; "
                             f"{_REPROFILE}.")
    if not isinstance(config.get("shuffle", True), bool):
        raise ValueError(f"{label}: config.shuffle={config['shuffle']!r}; it must be true or false; {_REPROFILE}.")
    try:
        return DPPConfig(**config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label}: config is invalid ({exc}); {_REPROFILE}.") from None


def _checked_input_shape(label: str, shape: object) -> tuple[int, int, int]:
    if not isinstance(shape, (list, tuple)) or len(shape) != 3 or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape):
        raise ValueError(f"{label} has input_shape={shape!r}; it must be 3 positive integers [channels, height, "
                         f"width]; {_REPROFILE}.")
    c, h, w = shape
    return c, h, w


def _checked_num_classes(label: str, n: object) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{label} has num_classes={n!r}; it must be a positive integer; {_REPROFILE}.")
    return n


def profile_dpp(input_shape: Sequence[int], num_classes: int, *, config: Optional[DPPConfig] = None,
                batch_size: int = 1, threads: Optional[int] = 1, repeats: int = 20, warmup: int = 3,
                device: str = "cpu", name: Optional[str] = None, clock: str = "wall",
                progress: Optional[Callable[[int, int], None]] = None) -> LatencyTable:
    """Time every layer of the DPP-Net space on this machine and return the table.

    Args:
        input_shape: ``(c, h, w)`` of the target task.
        num_classes: Classes of the target task.
        config: Macro skeleton (default :class:`DPPConfig`).
        batch_size: Images per timed forward pass (recorded in the table).
        threads: torch intra-op threads while timing (recorded).
        device: Torch device timed (recorded).
        repeats: Timed passes per layer (the median is stored).
        warmup: Untimed passes per layer first.
        name: Device name (default: the host name).
        clock: ``"wall"`` or ``"cpu"`` (single-thread CPU time; see
            :func:`~moopt.adapters.nas.objectives.timer_for`).
        progress: Optional ``progress(done, total)`` callback.
    """
    from .objectives import num_threads, timer_for

    now = timer_for(clock, threads=threads, device=device)
    config = config or DPPConfig()
    layers = dpp_space_layers(input_shape, num_classes, config)
    g = torch.random.fork_rng(devices=[])
    entries = {}
    with g, num_threads(threads):
        torch.manual_seed(0)
        for i, (key, (factory, shape)) in enumerate(sorted(layers.items())):
            entries[key] = _time_module(factory(), shape, batch_size, repeats, warmup, device, now)
            if progress is not None:
                progress(i + 1, len(layers))
    info = device_info(threads=threads, batch_size=batch_size, device=device, clock=clock)
    return LatencyTable(entries, input_shape=input_shape, num_classes=num_classes, config=config, device=info,
                        name=name or info["hostname"])


class HostDevice:
    """This machine: objectives measured on the model itself (see :mod:`.objectives`)."""

    name = "host"

    def __init__(self, *, batch_size: int = 1, threads: int = 1, repeats: int = 20, device: str = "cpu"):
        self.batch_size, self.threads, self.repeats, self.device = batch_size, threads, repeats, device

    def latency(self, model: nn.Module, input_shape: Sequence[int]) -> dict:
        from .objectives import measure_latency

        return measure_latency(model, input_shape, batch_size=self.batch_size, threads=self.threads,
                               repeats=self.repeats, device=self.device)
