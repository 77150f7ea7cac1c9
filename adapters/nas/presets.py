"""The seed paper's two systems as one-command presets: MONAS and DPP-Net, end to end.

``monas`` trains an LSTM controller by REINFORCE on a MONAS reward (mixed,
power budget or accuracy threshold) over the MONAS macro space or the DenseNet
block space.  ``dpp`` runs DPP-Net's progressive, surrogate-assisted search
over the DPP cell space for a target device: this machine (``host``, measured
here), a latency table profiled on another device (``LUT.json``), or one of
the real devices of the NAS-Bench-201 table (``ws``, ``es``, ``m``, ``panacea``
with ``table="nb201"``).

Each preset is a function returning the run's :class:`moopt.RunResult`; the
``moopt nas monas|dpp`` commands call them.  The run is stored in ``out``
(re-running resumes it) and the results folder beside it (``dpp/`` for
``dpp.db``, see :func:`results_dir`) holds the front as Markdown and CSV, each
front architecture exported (JSON, TorchScript, ``state_dict``), plots and a
``report.md``.  Every option is stored with the run (``config["extra"]["preset"]``),
so :func:`train_final` and :func:`export` rebuild the problem from the run file.

Options (keyword-only; :func:`preset_defaults` lists them; a TOML file uses the
same names, with ``-`` or ``_``):

* shared: ``data`` (``digits``, ``mnist:PATH``, ``fashion-mnist:PATH``,
  ``cifar10:PATH``, ``imagefolder:PATH``), ``table`` (``None`` or ``"nb201"``),
  ``budget``, ``epochs``, ``max_train``, ``seed``, ``device`` (``cpu``,
  ``cuda[:N]``), ``workers`` / ``scheduler`` (Dask), ``out``, ``export``,
  ``progress``.
* MONAS: ``reward`` (``mixed``, ``power``, ``accuracy``), ``alpha``,
  ``power_budget`` (W), ``accuracy_threshold`` (a fraction), ``space``
  (``macro``, ``densenet``), ``layers``, ``children_per_update``,
  ``controller_lr``, ``hidden``, ``energy`` (``auto``, ``estimated``), ``target``
  (with ``table="nb201"``).
* DPP-Net: ``target`` (``host``, ``ws``, ``es``, ``m``, ``panacea``, an NB201
  device, or a ``.json`` latency table), ``criterion`` (``pareto``, ``pnas``),
  ``k``, ``max_layers``, ``n_initial``, ``surrogate`` (``lstm``, ``forest``,
  ``gp``), ``stages``, ``growth``, ``stem_channels``.

Example:
    >>> from moopt.adapters.nas.presets import dpp
    >>> result = dpp(budget=10, epochs=1, max_train=64, max_layers=3, k=2, n_initial=6,
    ...              surrogate="forest", out="/tmp/moopt-doc-dpp.db")      # doctest: +SKIP
    >>> result.front                                                       # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import math
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from moopt.errors import ConfigError
from moopt.problem import Objective, Problem
from moopt.result import RunResult

DATA_KINDS = ("digits", "mnist", "fashion-mnist", "cifar10", "imagefolder")
NB201_TARGETS = ("ws", "es", "m", "panacea")
MONAS_REWARDS = ("mixed", "power", "accuracy")
MONAS_SPACES = ("macro", "densenet")
CRITERIA = ("pareto", "pnas")
SURROGATES = ("lstm", "forest", "gp")
TABLES = ("nb201",)


# --------------------------------------------------------------------------- presets (Python API)
def monas(*, reward: str = "mixed", alpha: float = 0.25, power_budget: Optional[float] = None,
          accuracy_threshold: Optional[float] = None, space: str = "macro", layers: Optional[int] = None,
          children_per_update: int = 5, controller_lr: float = 0.01, hidden: int = 32, energy: str = "auto",
          target: str = "m", data: str = "digits", table: Optional[str] = None, budget: int = 30,
          epochs: float = 3.0, max_train: Optional[int] = None, seed: int = 0, device: str = "cpu",
          workers: Optional[int] = None, scheduler: Optional[str] = None, out: Optional[str] = None,
          export: bool = True, progress: Optional[bool] = None) -> RunResult:
    """MONAS: an LSTM controller trained by REINFORCE on a scalarized accuracy/energy reward.

    Rewards (accuracy in [0, 1] whatever the unit it is reported in):
    ``mixed``: ``R = alpha * acc - (1 - alpha) * energy_n``; ``power``:
    ``R = acc if peak_power_w <= power_budget else 0``; ``accuracy``:
    ``R = 1 - energy_n if acc >= accuracy_threshold else 0``.  ``energy_n`` is the
    energy normalized by the running min/max of the children seen so far, so the
    reward of a fixed network drifts as new extremes appear (it is not stationary).

    Args:
        reward: ``"mixed"``, ``"power"`` or ``"accuracy"``.
        alpha: Weight of accuracy in the mixed reward, in [0, 1].
        power_budget: Power budget in W (``reward="power"``; required there).
        accuracy_threshold: Accuracy threshold as a fraction in [0, 1] (``reward="accuracy"``; required there).
        space: ``"macro"`` (MONAS conv layers: filters and kernel per layer) or ``"densenet"``
            (layers and growth per dense block).
        layers: Conv layers (macro, default 4) or dense blocks (densenet, default 3).
        children_per_update: Children trained per policy update.
        controller_lr: The controller's learning rate (Adam).
        hidden: The controller's LSTM width.
        energy: ``"auto"`` (measured with NVML / RAPL where available, else estimated) or
            ``"estimated"`` (the deterministic 45 nm model).
        target: With ``table="nb201"``: the NB201 device whose latency replaces the energy.
        data: ``"digits"`` (embedded), ``"mnist:PATH"``, ``"fashion-mnist:PATH"``,
            ``"cifar10:PATH"`` or ``"imagefolder:PATH"``.
        table: ``"nb201"``: search the NAS-Bench-201 table (accuracy x real-device latency)
            instead of training; the cost is ``target``'s latency (the table has no energy).
        budget: Children trained (evaluations paid for).
        epochs: Training epochs of each child.
        max_train: Train on the first ``max_train`` training images only.
        seed: Seed of the controller and of every training.
        device: Torch device to train and measure on (``"cpu"``, ``"cuda"``, ``"cuda:N"``).
        workers: Evaluate on a local Dask cluster of this many workers.
        scheduler: Evaluate on the Dask scheduler at this address.
        out: The run file (SQLite); re-running resumes it.  ``None``: in memory, no results folder.
        export: Export every front architecture into the results folder (trains each once more,
            with its own seed, so the weights are the evaluated ones).
        progress: Progress line on stderr (``None``: when it is a terminal).

    Returns:
        The run's :class:`moopt.RunResult`.

    Raises:
        ValueError: a bad option (the message names it and the fix).
    """
    return run_preset("monas", _args(locals()))


def dpp(*, target: str = "host", criterion: str = "pareto", k: int = 8, max_layers: int = 6,
        n_initial: Optional[int] = None, surrogate: str = "lstm", stages: Sequence[int] = (2, 2, 2),
        growth: Sequence[int] = (8, 16, 32), stem_channels: int = 16, data: str = "digits",
        table: Optional[str] = None, budget: int = 50, epochs: float = 3.0, max_train: Optional[int] = None,
        seed: int = 0, device: str = "cpu", workers: Optional[int] = None, scheduler: Optional[str] = None,
        out: Optional[str] = None, export: bool = True, progress: Optional[bool] = None) -> RunResult:
    """DPP-Net: progressive, surrogate-assisted search of a cell for a target device.

    Every step grows each kept cell by one layer (a Norm or a Conv token), predicts the
    children's error with the surrogate, computes params, MACs and the target's latency
    exactly, keeps ``k`` children (Pareto-optimal over all four: ``criterion="pareto"``;
    the ``k`` of least predicted error: ``"pnas"``), trains them and refits the surrogate.

    Args:
        target: ``"host"`` (latency measured here on ``device``), a latency table ``.json``
            (``moopt nas profile-device`` on the target), or with ``table="nb201"`` a device
            group of the NB201 table (``ws``: Titan X, ``es``: Raspberry Pi 4, ``m``: Pixel 3,
            ``panacea``: the three) or any of its 27 devices.
        criterion: ``"pareto"`` (DPP-Net) or ``"pnas"`` (top ``k`` by predicted error).
        k: Cells kept and trained per step after the first.
        max_layers: Longest cell, in layers (Norm and Conv tokens; 6 = three Norm-Conv pairs).
        n_initial: Cells of the first step trained (default all 18 Norm x Conv pairs).
        surrogate: ``"lstm"`` (DPP-Net's RNN regressor), ``"forest"`` or ``"gp"``.
        stages: Cells per dense block of the searched network.
        growth: Growth rate per dense block.
        stem_channels: Output channels of the stem convolution.
        data: As in :func:`monas`.
        table: As in :func:`monas`.
        budget: As in :func:`monas`.
        epochs: As in :func:`monas`.
        max_train: As in :func:`monas`.
        seed: As in :func:`monas`.
        device: As in :func:`monas`.
        workers: As in :func:`monas`.
        scheduler: As in :func:`monas`.
        out: As in :func:`monas`.
        export: As in :func:`monas`.
        progress: As in :func:`monas`.

    Returns:
        The run's :class:`moopt.RunResult`.

    Raises:
        ValueError: a bad option (the message names it and the fix).
    """
    return run_preset("dpp", _args(locals()))


PRESETS: dict[str, Callable[..., RunResult]] = {"monas": monas, "dpp": dpp}
_SUMMARY = {
    "monas": "MONAS: LSTM controller + REINFORCE on a scalarized reward (mixed / power / accuracy)",
    "dpp": "DPP-Net: progressive search with a surrogate, Pareto over error, params, MACs, device latency",
}
#: options that are not presets' search settings (not stored as such, not listed as defaults)
_RUNTIME = ("progress",)


def _args(frame_locals: Mapping[str, Any]) -> dict:
    return {k: v for k, v in frame_locals.items() if not k.startswith("_")}


def preset_defaults(name: str) -> dict:
    """The options of preset ``name`` and their defaults (from its function's signature)."""
    fn = _preset(name)
    return {p.name: p.default for p in inspect.signature(fn).parameters.values() if p.name not in _RUNTIME}


def _preset(name: str) -> Callable[..., RunResult]:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)} (moopt nas list-presets).")
    return PRESETS[name]


def objective_set(name: str, options: Mapping[str, Any]) -> list[str]:
    """The objectives preset ``name`` optimizes with ``options`` (defaults filled in)."""
    o = {**preset_defaults(name), **options}
    if name == "monas":
        if o["table"] == "nb201":
            return ["accuracy_pct", "latency_ms"]
        return ["accuracy_pct", "peak_power_w" if o["reward"] == "power" else "energy_mj"]
    if o["table"] == "nb201":
        from moopt.problems.nb201 import DEVICE_GROUPS

        devices = DEVICE_GROUPS.get(str(o["target"]), str(o["target"]).split("+"))
        lat = ["latency_ms"] if len(devices) == 1 else [f"latency_ms_{d}" for d in devices]
        return ["error_pct", *lat, "params", "macs"]
    return ["error_pct", "params", "macs", "latency_ms"]


def list_presets() -> list[dict]:
    """One dict per preset: ``name``, ``summary``, ``objectives`` (defaults) and ``defaults``."""
    return [{"name": n, "summary": _SUMMARY[n], "objectives": objective_set(n, {}),
             "defaults": preset_defaults(n)} for n in PRESETS]


# --------------------------------------------------------------------------- options
def load_config_file(path: Union[str, os.PathLike], name: str) -> dict:
    """Options of preset ``name`` from a TOML file (keys as the options, ``-`` or ``_``).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not TOML, or a key that is not an option of the preset (the message lists them).
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser, from PyPI
        import tomli as tomllib

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file {p} not found.")
    try:
        raw = tomllib.loads(p.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"config file {p} is not valid TOML: {exc}.") from None
    known = preset_defaults(name)
    out = {}
    for key, value in raw.items():
        k = key.replace("-", "_")
        if k not in known:
            raise ValueError(f"config file {p}: unknown option {key!r} for preset {name!r}; its options are "
                             f"{', '.join(sorted(o.replace('_', '-') for o in known))}.")
        out[k] = value
    return out


def resolve_options(name: str, given: Mapping[str, Any], config_file: Optional[str] = None) -> dict:
    """Defaults, then the TOML file's values, then ``given`` (command-line flags win)."""
    opts = preset_defaults(name)
    if config_file is not None:
        opts.update(load_config_file(config_file, name))
    unknown = [k for k in given if k not in opts and k not in _RUNTIME]
    if unknown:
        raise ValueError(f"unknown options {unknown} for preset {name!r}; its options are {sorted(opts)}.")
    opts.update(given)
    return opts


def parse_data(spec: str) -> tuple[str, Optional[str]]:
    """``"digits"`` -> ``("digits", None)``; ``"cifar10:PATH"`` -> ``("cifar10", "PATH")``.

    Raises:
        ValueError: an unknown kind, a path given to ``digits``, or no path for the others.
    """
    kind, sep, root = str(spec).partition(":")
    kind = kind.strip().lower()
    if kind not in DATA_KINDS:
        raise ValueError(f"data {spec!r}: unknown dataset {kind!r}; use digits (embedded), mnist:PATH, "
                         "fashion-mnist:PATH, cifar10:PATH or imagefolder:PATH.")
    if kind == "digits":
        if sep:
            raise ValueError(f"data {spec!r}: digits ships with scikit-learn and takes no path; use --data digits.")
        return kind, None
    if not root:
        raise ValueError(f"data {spec!r}: {kind} needs the folder of its files, e.g. --data {kind}:/data/{kind}.")
    return kind, root


def _check(options: Mapping[str, Any], name: str) -> dict:
    """Validate and normalize the options of a preset (types, ranges, combinations)."""
    o = dict(options)

    def integer(key: str, low: int = 1, optional: bool = False) -> None:
        v = o[key]
        if v is None and optional:
            return
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ValueError(f"{key.replace('_', '-')}={v!r}: need an integer >= {low}.")

    def number(key: str, low: float = 0.0, high: float = math.inf, low_open: bool = True) -> None:
        v = o[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or v < low or (low_open and v == low) or v > high:
            rng = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
            raise ValueError(f"{key.replace('_', '-')}={v!r}: need a number in {rng}.")
        o[key] = float(v)

    def choice(key: str, values: Sequence[str]) -> None:
        if o[key] not in values:
            raise ValueError(f"{key.replace('_', '-')}={o[key]!r}: choose one of {', '.join(values)}.")

    integer("budget")
    number("epochs")
    integer("max_train", optional=True)
    integer("seed", low=0)
    integer("workers", optional=True)
    if o["table"] is not None:
        choice("table", TABLES)
    if o["workers"] is not None and o["scheduler"] is not None:
        raise ValueError("give workers (a local Dask cluster) or scheduler (an existing one), not both.")
    parse_data(o["data"])
    if o["table"] is None:
        from .train import resolve_device

        resolve_device(str(o["device"]))
    if name == "monas":
        choice("reward", MONAS_REWARDS)
        choice("space", MONAS_SPACES)
        choice("energy", ("auto", "estimated"))
        number("alpha", 0.0, 1.0, low_open=False)
        integer("children_per_update")
        integer("hidden")
        integer("layers", optional=True)
        number("controller_lr")
        if o["reward"] == "power":
            if o["power_budget"] is None:
                raise ValueError("reward power needs power-budget (W), e.g. --power-budget 0.3; the peak power of "
                                 "a child is in the run's peak_power_w column.")
            number("power_budget")
            if o["table"] is not None:
                raise ValueError("the NB201 table has no power; use --reward mixed or --reward accuracy with "
                                 "--table nb201 (its cost objective is the target's latency).")
        if o["reward"] == "accuracy":
            if o["accuracy_threshold"] is None:
                raise ValueError("reward accuracy needs accuracy-threshold, a fraction in [0, 1], "
                                 "e.g. --accuracy-threshold 0.9.")
            number("accuracy_threshold", 0.0, 1.0, low_open=False)
        if o["budget"] < o["children_per_update"]:
            raise ValueError(f"budget {o['budget']} is smaller than one policy update ({o['children_per_update']} "
                             f"children); pass --budget {o['children_per_update']} or more, or fewer "
                             "--children-per-update.")
    else:
        choice("criterion", CRITERIA)
        choice("surrogate", SURROGATES)
        integer("k")
        integer("max_layers", low=2)
        integer("n_initial", optional=True)
        integer("stem_channels")
        o["stages"] = _int_list(o["stages"], "stages")
        o["growth"] = _int_list(o["growth"], "growth")
        if len(o["stages"]) != len(o["growth"]):
            raise ValueError(f"stages {o['stages']} and growth {o['growth']} need the same length (one per block).")
    return o


def _int_list(v: Any, key: str) -> list[int]:
    items = v.split(",") if isinstance(v, str) else v
    try:
        out = [int(x) for x in items]
    except (TypeError, ValueError):
        out = []
    if not out or min(out) < 1:
        raise ValueError(f"{key}={v!r}: need positive integers, one per dense block, e.g. 2,2,2.")
    return out


# --------------------------------------------------------------------------- problems
def _train_config(o: Mapping[str, Any]):
    from .train import TrainConfig

    return TrainConfig(epochs=o["epochs"], max_train=o["max_train"], device=str(o["device"]))


def _is_lut(target: str) -> bool:
    return str(target).lower().endswith(".json")


def build_problem(name: str, options: Mapping[str, Any]) -> tuple[Problem, str, dict, dict]:
    """``(problem, algorithm, search options, report info)`` of a preset's checked options.

    ``report info`` holds ``sources`` (objective -> where its values come from), ``notes``
    and ``target`` (words for the report).
    """
    o = options
    if o["table"] == "nb201":
        return _table_problem(name, o)
    from .data import load_dataset
    from .problem import nas_problem

    kind, root = parse_data(o["data"])
    ds = load_dataset(kind, root=root)
    notes: list[str] = []
    if name == "monas":
        from moopt.rewards import AccuracyConstraintReward, MixedReward, PowerConstraintReward

        space = "monas" if o["space"] == "macro" else "densenet"
        opts = {} if o["layers"] is None else {("n_layers" if space == "monas" else "n_blocks"): o["layers"]}
        objectives = objective_set("monas", o)
        problem = nas_problem(space, objectives=objectives, dataset=ds, train_config=_train_config(o),
                              seed=o["seed"], space_options=opts, energy=o["energy"],
                              name=f"monas-{o['space']}-{ds.name}")
        cost = objectives[1]
        reward: Any
        if o["reward"] == "mixed":
            reward = MixedReward(o["alpha"], accuracy="accuracy_pct", energy=cost)
        elif o["reward"] == "power":
            reward = PowerConstraintReward(o["power_budget"], accuracy="accuracy_pct", power=cost)
        else:
            reward = AccuracyConstraintReward(o["accuracy_threshold"], accuracy="accuracy_pct", energy=cost)
        search = {"reward": reward, "children_per_update": o["children_per_update"], "lr": o["controller_lr"],
                  "hidden": o["hidden"]}
        if o["reward"] != "power":
            notes.append("energy_n in the reward is normalized by the running min/max of the children seen so "
                         "far, so the reward of a fixed network drifts as the search goes on.")
        return problem, "reinforce", search, {"sources": problem.sources, "notes": notes, "target": "host"}

    from .spaces.dpp import DPPConfig

    target = str(o["target"])
    if target.lower() in NB201_TARGETS:
        raise ValueError(f"target {target!r} is a real device this machine cannot measure; pass --table nb201 to "
                         "search the NB201 real-device latency table for it, or a latency table LUT.json "
                         "profiled on the device (`moopt nas profile-device --out LUT.json`, run there).")
    device: Any = "host"
    cfg = DPPConfig(stem_channels=o["stem_channels"], stages=tuple(o["stages"]), growth=tuple(o["growth"]))
    if _is_lut(target):
        from .devices import LatencyTable

        lut = LatencyTable.load(target)
        device = lut
        if (list(o["stages"]), list(o["growth"]), o["stem_channels"]) == (
                [2, 2, 2], [8, 16, 32], 16) and lut.config != cfg:
            cfg = lut.config  # the skeleton defaults: take the table's own
        notes.append(f"latency_ms is predicted by the latency table {lut.name!r} ({target}): the sum of its "
                     "per-layer medians.")
    elif target != "host":
        raise ValueError(f"target {target!r}: use host (measure here), a latency table file ending in .json, or "
                         "ws, es, m, panacea with --table nb201.")
    problem = nas_problem("dpp", objectives=objective_set("dpp", o), dataset=ds, train_config=_train_config(o),
                          device=device, seed=o["seed"],
                          space_options={"max_length": o["max_layers"], "config": cfg},
                          name=f"dpp-{ds.name}-{'host' if device == 'host' else device.name}")
    search = _progressive_options(o)
    _check_first_step(o, len(problem.progressive_space.initial()), "18 cells: every Norm x Conv pair")
    where = "host (measured here)" if device == "host" else f"latency table {device.name!r}"
    return problem, "progressive", search, {"sources": problem.sources, "notes": notes, "target": where}


def _progressive_options(o: Mapping[str, Any]) -> dict:
    out = {"k": o["k"], "selection": o["criterion"], "surrogate": o["surrogate"], "n_initial": o["n_initial"]}
    if o["surrogate"] == "lstm":
        out["surrogate_options"] = {"epochs": 100}
    return out


def _check_first_step(o: Mapping[str, Any], n_first: int, what: str) -> None:
    first = n_first if o["n_initial"] is None else min(n_first, o["n_initial"])
    if o["budget"] < first:
        raise ValueError(f"budget {o['budget']} is smaller than DPP-Net's first step ({n_first} {what}); pass "
                         f"--budget {first} or more, or --n-initial {o['budget']} to train fewer of them.")


def _table_problem(name: str, o: Mapping[str, Any]) -> tuple[Problem, str, dict, dict]:
    from moopt.problems.nb201 import NB201Problem

    target = str(o["target"])
    if target == "host" or _is_lut(target):
        raise ValueError(f"--table nb201 holds real devices, not {target!r}: pass --target ws, es, m, panacea or a "
                         "device of `moopt nas nb201-devices`; drop --table to search for this machine or a LUT.")
    if parse_data(o["data"])[0] != "digits":
        raise ValueError("--table nb201 looks up CIFAR-10 accuracies and trains nothing; drop --data "
                         "(or drop --table to train on your data).")
    table = NB201Problem(device=target, extra="params+macs")
    devices = ", ".join(table.devices)
    lat_source = f"table: NB201 latency measured on {devices} (HW-NAS-Bench / HELP)"
    sources = {"error_pct": "table: NAS-Bench-201 CIFAR-10 validation error, 200 epochs",
               "params": "table: NAS-Bench-201", "macs": "table: NAS-Bench-201"}
    sources.update({ob.name: lat_source for ob in table.objectives if ob.name.startswith("latency_ms")})
    notes = ["the NB201 table has no memory objective: peak memory on a phone (target m) is not known there."]
    info = {"notes": notes, "target": f"NB201 table: {devices}"}
    if name == "dpp":
        search = _progressive_options(o)
        _check_first_step(o, len(table.progressive_space.initial()), "one-edge cells")
        return table, "progressive", search, {**info, "sources": sources}
    from moopt.rewards import AccuracyConstraintReward, MixedReward

    lat = [ob.name for ob in table.objectives if ob.name.startswith("latency_ms")]
    if len(lat) != 1:
        raise ValueError(f"MONAS trades accuracy against one cost; target {target!r} has {len(lat)} devices: pass "
                         "one device (ws, es, m or a device name).")

    def evaluate(params):
        v = table.evaluate(params)
        return {"accuracy_pct": 100.0 - v["error_pct"], "latency_ms": v[lat[0]]}

    problem = Problem(table.variables, [Objective("accuracy_pct", "max", "%"), Objective("latency_ms", "min", "ms")],
                      evaluate, name=f"monas-table-{table.name}", settings={"table": table.to_config()})
    reward: Any = (MixedReward(o["alpha"], accuracy="accuracy_pct", energy="latency_ms") if o["reward"] == "mixed"
                   else AccuracyConstraintReward(o["accuracy_threshold"], accuracy="accuracy_pct",
                                                 energy="latency_ms"))
    search = {"reward": reward, "children_per_update": o["children_per_update"], "lr": o["controller_lr"],
              "hidden": o["hidden"]}
    notes.append("the table has no energy: the reward's cost is the target's latency_ms.")
    return problem, "reinforce", search, {**info, "sources": {
        "accuracy_pct": "table: 100 - NAS-Bench-201 CIFAR-10 validation error, 200 epochs", "latency_ms": lat_source}}


# --------------------------------------------------------------------------- running
def results_dir(out: Union[str, os.PathLike]) -> Path:
    """The results folder of a run file: beside it, named after it (``runs/dpp.db`` -> ``runs/dpp/``)."""
    p = Path(out)
    d = p.with_suffix("") if p.suffix else p.with_name(p.name + "-results")
    return d


def _evaluator(o: Mapping[str, Any]) -> Optional[str]:
    if o["scheduler"] is not None:
        return str(o["scheduler"])
    if o["workers"] is not None:
        return f"dask:{o['workers']}"
    return None


def _jsonable(o: Mapping[str, Any]) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in o.items() if k not in _RUNTIME}


def run_preset(name: str, options: Mapping[str, Any]) -> RunResult:
    """Run preset ``name`` with ``options`` (missing ones take their defaults); see :func:`monas`, :func:`dpp`."""
    import moopt

    progress = options.get("progress")
    o = _check(resolve_options(name, {k: v for k, v in options.items() if k not in _RUNTIME}), name)
    if o["out"] is not None:
        Path(o["out"]).parent.mkdir(parents=True, exist_ok=True)
    problem, algorithm, search, info = build_problem(name, o)
    result = moopt.optimize(problem, algorithm, budget=o["budget"], seed=o["seed"], store=o["out"],
                            evaluator=_evaluator(o), progress=progress, extra={"preset": {"name": name,
                                                                                          "options": _jsonable(o)}},
                            **search)
    if o["out"] is not None:
        write_preset_results(result, problem, info, name=name, options=o)
    return result


def write_preset_results(result: RunResult, problem: Problem, info: Mapping[str, Any], *, name: str,
                         options: Mapping[str, Any]) -> Path:
    """Write the results folder of a preset run; returns the path of its ``report.md``."""
    from .report import write_results

    out_dir = results_dir(options["out"])
    exported: dict[int, Mapping[str, str]] = {}
    notes = list(info.get("notes", ()))
    if options["export"]:
        if options["table"] is None:
            for rec in result.front_records:
                where = out_dir / f"arch-{rec.candidate_id}"
                exported[rec.candidate_id] = (_exported_already(problem, rec, where)
                                              or export_record(problem, rec, where))
        else:
            notes.append("a table run trains nothing, so no weights are exported; `moopt nas train-final` trains a "
                         "front cell on your data.")
    units = {ob.name: ob.unit or "" for ob in problem.objectives}
    summary = {"preset": name, "data": options["data"] if options["table"] is None else "NB201 table (CIFAR-10)",
               "target": info.get("target", ""), "algorithm": result.config.get("algorithm"),
               "budget": options["budget"], "seed": options["seed"], "epochs": options["epochs"],
               "ok": result.counts.get("ok", 0), "failed": result.counts.get("failed", 0),
               "pruned": result.counts.get("pruned", 0), "status": getattr(result, "status", ""),
               "run file": str(options["out"])}
    return write_results(result, out_dir, units=units, sources=dict(info.get("sources", {})),
                         title=f"moopt nas {name}: {_SUMMARY[name]}", summary=summary, exported=exported,
                         notes=notes)


def _exported_already(problem: Problem, record, out_dir: Path) -> Optional[dict]:
    """The files of an earlier export of ``record`` in ``out_dir`` when they are still valid, else ``None``.

    Valid: the card names the same architecture, evaluation seed, training config and dataset
    and every file it lists exists (a re-run of a finished preset then rewrites only the report).
    """
    import json

    from .problem import NASProblem, dataset_fingerprint

    card = out_dir / f"arch-{record.candidate_id}.json"
    if not isinstance(problem, NASProblem) or not card.is_file():
        return None
    try:
        d = json.loads(card.read_text())
        files = {k: out_dir / v for k, v in d["export"]["files"].items()}
        same = (d["params"] == json.loads(json.dumps(record.params)) and d["evaluation_seed"] == problem.evaluation_seed
                and d["train_config"] == json.loads(json.dumps(problem.train_config.to_dict()))
                and d["dataset"]["sha256"] == dataset_fingerprint(problem.dataset)["sha256"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not same or not all(f.is_file() for f in files.values()):
        return None
    return {k: str(f) for k, f in files.items()}


def retrain(problem: Problem, params: Mapping[str, Any]):
    """Train candidate ``params`` of a NAS problem exactly as its evaluation did; returns ``(model, train result)``.

    The seed is the candidate's evaluation seed, so on CPU the weights are the evaluated ones.
    """
    from .problem import NASProblem, _candidate_seed
    from .train import train_model

    if not isinstance(problem, NASProblem):
        raise ValueError(f"problem {problem.name!r} trains no networks (a table run); nothing to retrain.")
    res = train_model(lambda: problem.build(params), problem.dataset, problem.train_config,
                      seed=_candidate_seed(problem.evaluation_seed, params), return_model=True)
    if res["status"] != "ok":
        raise RuntimeError(f"training the candidate again failed: {res['error']}.")
    return res.pop("model"), res


def export_record(problem: Problem, record, out_dir: Union[str, os.PathLike]) -> dict:
    """Train an evaluated candidate again (same seed) and export it into ``out_dir``; returns the files written."""
    from .export import export_network
    from .problem import NASProblem, dataset_fingerprint

    if not isinstance(problem, NASProblem):
        raise ValueError(f"problem {problem.name!r} trains no networks (a table run); nothing to export.")
    model, res = retrain(problem, record.params)
    stored = record.objectives.get("error_pct")
    if stored is None and "accuracy_pct" in record.objectives:
        stored = 100.0 - record.objectives["accuracy_pct"]
    reproduced = None if stored is None else abs(res["val_error_pct"] - stored) < 1e-9
    units = {ob.name: ob.unit for ob in problem.objectives}
    sources = getattr(problem, "sources", {})
    info = {"id": record.candidate_id, "params": record.params, "problem": problem.name,
            "objectives": {n: {"value": v, "unit": units.get(n), "source": sources.get(n)}
                           for n, v in record.objectives.items()},
            "train_config": problem.train_config.to_dict(), "evaluation_seed": problem.evaluation_seed,
            "dataset": dataset_fingerprint(problem.dataset),
            "retrained": {"val_error_pct": res["val_error_pct"], "matches_the_run": reproduced}}
    ds = problem.dataset
    example = ds.prepare(ds.val.x[:8])
    return export_network(model, out_dir, name=f"arch-{record.candidate_id}", input_shape=ds.input_shape, info=info,
                          example=example)


# --------------------------------------------------------------------------- after a run
def load_run(path: Union[str, os.PathLike]) -> tuple[RunResult, str, dict]:
    """``(result, preset name, options)`` of a preset's run file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the run was not made by a preset (``moopt nas monas|dpp``).
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"run file {path} not found.")
    result = RunResult.load(str(path))
    preset = result.config.get("extra", {}).get("preset")
    if not isinstance(preset, Mapping) or preset.get("name") not in PRESETS:
        raise ValueError(f"{path} was not written by `moopt nas monas` or `moopt nas dpp` (no preset options "
                         "stored); export and train-final need a preset's run.")
    return result, str(preset["name"]), {**preset_defaults(preset["name"]), **dict(preset["options"])}


def _record(result: RunResult, run_id: int):
    rec = next((r for r in result.records if r.candidate_id == run_id and r.cached_from is None), None)
    if rec is None:
        ids = [r.candidate_id for r in result.records]
        raise ValueError(f"no evaluation with id {run_id} in {result.path}; ids run "
                         f"{min(ids) if ids else '-'}..{max(ids) if ids else '-'} (see `moopt show`).")
    if rec.status != "ok":
        raise ValueError(f"evaluation {run_id} {rec.status}" + (f" ({rec.error})" if rec.error else "")
                         + "; pick an ok one (see `moopt show`).")
    return rec


def export(run: Union[str, os.PathLike], run_id: int, out_dir: Union[str, os.PathLike], *,
           data: Optional[str] = None) -> dict:
    """Train evaluation ``run_id`` of a preset run again (same seed) and export it into ``out_dir``.

    Returns:
        The files written (``json``, ``torchscript``, ``state_dict``, ``onnx`` when available).
    """
    result, name, o = load_run(run)
    rec = _record(result, int(run_id))
    if o["table"] is not None:
        raise ValueError(f"{run} is a table run: its networks were never trained; use `moopt nas train-final "
                         f"{run} --id {run_id}` to train one on your data.")
    if data is not None:
        o["data"] = data
    problem, _, _, _ = build_problem(name, _check(o, name))
    return export_record(problem, rec, out_dir)


def final_network(name: str, o: Mapping[str, Any], params: Mapping[str, Any], *, input_shape, num_classes: int,
                  stages: Optional[Sequence[int]] = None, growth: Optional[Sequence[int]] = None):
    """``(builder, skeleton)`` of the final network of a searched architecture.

    DPP-Net's cell is stacked in a larger network (by default twice the cells per block);
    a MONAS network is itself the final network; an NB201 cell uses the NB201 skeleton.
    """
    if o["table"] == "nb201":
        from .spaces.nb201 import build_nb201, ops_from_params

        return (lambda: build_nb201(ops_from_params(params), input_shape=input_shape, num_classes=num_classes),
                "NB201 (C=16, N=5)")
    if name == "monas":
        from .problem import make_space

        kind = "monas" if o["space"] == "macro" else "densenet"
        _, builder, _ = make_space(kind)
        return lambda: builder(params, input_shape, num_classes), f"{o['space']} (as searched)"
    from .spaces.dpp import DPPConfig, build_dpp

    st = list(stages) if stages is not None else [2 * s for s in o["stages"]]
    gr = list(growth) if growth is not None else list(o["growth"])
    cfg = DPPConfig(stem_channels=o["stem_channels"], stages=tuple(st), growth=tuple(gr))
    return (lambda: build_dpp(params["cell"], input_shape=input_shape, num_classes=num_classes, config=cfg),
            cfg.to_dict())


def train_final(run: Union[str, os.PathLike], run_id: int, *, epochs: float = 30.0, data: Optional[str] = None,
                stages: Optional[Sequence[int]] = None, growth: Optional[Sequence[int]] = None,
                device: Optional[str] = None, export_to: Optional[Union[str, os.PathLike]] = None,
                progress: Optional[Callable[[str], None]] = None) -> dict:
    """DPP-Net's last step: train a searched architecture in the final network, longer, and record it.

    The network is trained on the whole training split for ``epochs`` epochs (seeded from the
    run's seed and the architecture), its validation and test accuracy and its device
    objectives are measured here, the result is appended to the run file (``logs("final_training")``),
    and the network is exported (default: ``<results folder>/final-<id>/``).

    Args:
        run: A preset's run file.
        run_id: The candidate's id (the ``id`` of ``moopt show`` and of the front table).
        epochs: Training epochs.
        data: Dataset (default the run's; a table run defaults to digits).
        stages: Cells per dense block of the final network (default twice the search's).
        growth: Growth rate per dense block of the final network (default the search's).
        device: Torch device (default the run's).
        export_to: Folder for the exported network.
        progress: Called with a line of text at each stage.

    Returns:
        The recorded entry: ``id``, ``params``, ``skeleton``, ``epochs``, ``val_acc``, ``test_acc``,
        the device objectives, ``train_time_s``, ``files``.
    """
    from moopt.store import RunStore

    from .data import load_dataset
    from .export import export_network
    from .objectives import count_macs, count_params, estimate_energy, measure_latency
    from .problem import _candidate_seed
    from .train import TrainConfig, evaluate_accuracy, resolve_device, train_model

    say = progress or (lambda _msg: None)
    result, name, o = load_run(run)
    rec = _record(result, int(run_id))
    if not (isinstance(epochs, (int, float)) and epochs > 0):
        raise ValueError(f"epochs={epochs!r}: need a positive number of epochs.")
    data = data or (o["data"] if o["table"] is None else "digits")
    dev = str(device or o["device"])
    resolve_device(dev)
    kind, root = parse_data(data)
    ds = load_dataset(kind, root=root)
    build, skeleton = final_network(name, o, rec.params, input_shape=ds.input_shape, num_classes=ds.num_classes,
                                    stages=stages, growth=growth)
    cfg = replace(TrainConfig(), epochs=float(epochs), device=dev, augment=bool(ds.flip))
    say(f"training evaluation {rec.candidate_id} in the final network for {epochs:g} epochs on {ds.name} ({dev})")
    res = train_model(build, ds, cfg, seed=_candidate_seed(o["seed"], rec.params), return_model=True)
    if res["status"] != "ok":
        raise RuntimeError(f"final training of evaluation {rec.candidate_id} failed: {res['error']}.")
    model = res.pop("model")
    test_acc = evaluate_accuracy(model, ds, "test")
    lat = measure_latency(model, ds.input_shape, device=dev, repeats=30)
    entry = {"id": rec.candidate_id, "params": rec.params, "data": data, "skeleton": skeleton, "epochs": float(epochs),
             "device": dev, "val_acc": res["val_acc"], "test_acc": test_acc, "train_time_s": res["train_time_s"],
             "objectives": {"params": count_params(model), "macs": count_macs(model, ds.input_shape),
                            "latency_ms": lat["latency_ms"], "latency_iqr_ms": lat["latency_iqr_ms"],
                            "energy_mj": estimate_energy(model, ds.input_shape)["energy_mj"]},
             "sources": {"params": "counted (inference form)", "macs": "counted (inference form)",
                         "latency_ms": f"measured here ({dev}, median of 30 passes)",
                         "energy_mj": "estimated (45 nm energy model)",
                         "val_acc": "validation split", "test_acc": "test split"},
             "searched_objectives": dict(rec.objectives)}
    out_dir = Path(export_to) if export_to is not None else results_dir(run) / f"final-{rec.candidate_id}"
    say(f"exporting to {out_dir}")
    files = export_network(model, out_dir, name=f"final-{rec.candidate_id}", input_shape=ds.input_shape,
                           info={k: v for k, v in entry.items()}, example=ds.prepare(ds.val.x[:8]))
    entry["files"] = files
    with RunStore(str(run)) as store:
        store.add_log("final_training", entry)
    return entry
