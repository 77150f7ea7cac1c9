"""Turn a NAS space + the trainer + device objectives into a :class:`moopt.Problem`.

Objectives that need no training (``params``, ``macs``, ``latency_ms``,
``peak_memory_mb``, ``energy_mj``, ``peak_power_w``) are marked *cheap* and
computed by the problem's ``evaluate_cheap``; ``error_pct`` (min) and
``accuracy_pct`` (max) train the network.  A training that diverges raises
:class:`moopt.errors.EvaluationError`, so the search records it as failed
and goes on.  Each candidate is trained with a seed derived from the
problem's ``seed`` and the candidate's canonical encoding, so its result does
not depend on the order of evaluation.

Which seed governs evaluation: the problem's own ``seed`` (``nas_problem(...,
seed=)``), never the search's.  The same candidate therefore gets the same
trained weights and accuracy whichever search proposes it and in whatever
order, so runs of different searches (or seeds) are comparable and a
candidate answered from the store is the one that would have been trained.
That seed, the training configuration, a fingerprint of the dataset, the space
options and the device (a latency table's name and digest) are the problem's
``settings``: they are part of ``to_config()``, so resuming a run with any of
them changed is refused, like any other configuration change.

Example:
    >>> problem = nas_problem("monas", objectives=["error_pct", "params"],
    ...                       space_options={"n_layers": 2, "filters": (4, 8), "kernels": (1, 3)},
    ...                       train_config={"epochs": 1, "max_train": 64, "max_val": 32})
    >>> problem.cheap_objectives
    ['params']
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Optional, Sequence, Union

from moopt.problem import Problem

from .objectives import DEVICE_OBJECTIVES

if TYPE_CHECKING:  # imported inside nas_problem at run time
    from .data import Dataset
    from .train import TrainConfig

SPACES = ("monas", "densenet", "condensenet", "dpp", "nb201")
TRAINED_OBJECTIVES = ("error_pct", "accuracy_pct")


def make_space(kind: str, **options):
    """``(variables, builder, extra)`` of a space kind.

    ``builder(params, input_shape, num_classes) -> nn.Module``; ``extra`` holds
    ``progressive_space`` (dpp) and ``dpp_config``.
    """
    if kind == "monas":
        from .spaces.monas import build_monas, monas_space

        return monas_space(**options), lambda p, s, c: build_monas(p, input_shape=s, num_classes=c), {}
    if kind in ("densenet", "condensenet"):
        from .spaces.densenet import build_densenet, densenet_space

        cond = kind == "condensenet"
        return (densenet_space(**options),
                lambda p, s, c: build_densenet(p, input_shape=s, num_classes=c, condense=cond), {})
    if kind == "dpp":
        from .spaces.dpp import DPPCellSpace, DPPConfig, build_dpp

        opts = dict(options)
        space = DPPCellSpace(opts.pop("max_length", 6), variable=opts.pop("variable", "cell"))
        cfg = opts.pop("config", None) or DPPConfig(**opts)
        if isinstance(cfg, Mapping):
            cfg = DPPConfig(**cfg)
        return ([space.token_sequence()],
                lambda p, s, c: build_dpp(p[space.variable], input_shape=s, num_classes=c, config=cfg),
                {"progressive_space": space, "dpp_config": cfg})
    if kind == "nb201":
        from .spaces.nb201 import build_nb201, nb201_space, ops_from_params

        return (nb201_space(),
                lambda p, s, c: build_nb201(ops_from_params(p), input_shape=s, num_classes=c, **options), {})
    raise ValueError(f"unknown space {kind!r}; choose one of {list(SPACES)}.")


def _candidate_seed(seed: int, params: Mapping) -> int:
    from moopt.serial import canonical

    h = hashlib.sha256(f"{int(seed)}|{canonical(dict(params))}".encode()).digest()
    return int.from_bytes(h[:8], "little") % (2 ** 62)


def nas_problem(space: str, *, objectives: Sequence[str] = ("error_pct", "params", "latency_ms"),
                dataset: Union[str, Dataset] = "digits", dataset_root=None,
                train_config: Union[Mapping, TrainConfig, None] = None, device: Union[str, object] = "host",
                seed: int = 0, space_options: Optional[Mapping] = None, latency_repeats: int = 20,
                energy: str = "auto", name: Optional[str] = None):
    """A :class:`moopt.Problem` that builds, trains and measures networks of a space.

    Args:
        space: ``"monas"``, ``"densenet"``, ``"condensenet"``, ``"dpp"`` or ``"nb201"``.
        objectives: Names from ``error_pct``, ``accuracy_pct`` and the device objectives
            ``params``, ``macs``, ``latency_ms``, ``peak_memory_mb``, ``energy_mj``, ``peak_power_w``.
        dataset: A dataset name (``moopt.adapters.nas.data.DATASETS``) or a loaded ``Dataset``.
        dataset_root: Folder of the dataset's files (all but digits).
        train_config: A :class:`~moopt.adapters.nas.train.TrainConfig` or its fields as a dict.
        device: ``"host"`` (measure here) or a :class:`~moopt.adapters.nas.devices.LatencyTable`
            (or the path of its JSON) predicting ``latency_ms`` of another device (dpp only).
        seed: Base seed of every training.
        space_options: Keyword options of the space (e.g. ``n_layers``, ``max_length``, ``stages``).
        latency_repeats: Timed passes per latency measurement.
        energy: How ``energy_mj`` / ``peak_power_w`` are obtained: ``"auto"`` (measured with
            NVML when training on CUDA with ``pynvml`` installed, with RAPL where
            ``/sys/class/powercap`` is readable, else estimated) or ``"estimated"`` (always the
            deterministic 45 nm estimate, :func:`~moopt.adapters.nas.objectives.estimate_energy`).
        name: Problem name.

    Device objectives measured here (``latency_ms``, ``peak_memory_mb``, measured energy) run on
    ``train_config.device``, the torch device the networks are trained on.  Where each
    objective comes from is in the returned problem's :attr:`NASProblem.sources`.

    Returns:
        A :class:`NASProblem`; for ``dpp`` its ``progressive_space`` is the cell space.
    """
    from moopt.errors import EvaluationError
    from moopt.problem import Objective

    from .data import Dataset, load_dataset
    from .devices import LatencyTable
    from .objectives import (
        count_macs,
        count_params,
        device_objective,
        estimate_energy,
        measure_energy,
        measure_latency,
        measure_peak_memory,
    )
    from .train import TrainConfig, train_model

    if energy not in ("auto", "estimated"):
        raise ValueError(f"energy={energy!r}; choose 'auto' (measured where possible) or 'estimated'.")
    unknown = [o for o in objectives if o not in TRAINED_OBJECTIVES + DEVICE_OBJECTIVES]
    if unknown or not objectives:
        raise ValueError(f"unknown objectives {unknown}; choose from {list(TRAINED_OBJECTIVES + DEVICE_OBJECTIVES)}.")
    variables, builder, extra = make_space(space, **dict(space_options or {}))
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset, root=dataset_root)
    if isinstance(train_config, Mapping):
        train_config = TrainConfig(**train_config)
    train_config = train_config or TrainConfig()
    lut = None
    if not (isinstance(device, str) and device == "host"):
        lut = device if isinstance(device, LatencyTable) else LatencyTable.load(device)
        if space != "dpp":
            raise ValueError("a latency table predicts DPP-Net cells only; use device='host' for this space.")
        if tuple(lut.input_shape) != ds.input_shape or lut.num_classes != ds.num_classes:
            raise ValueError(f"latency table {lut.name!r} is for input {lut.input_shape} / {lut.num_classes} "
                             f"classes, the dataset has {ds.input_shape} / {ds.num_classes}.")
        if lut.config != extra["dpp_config"]:
            raise ValueError(f"latency table {lut.name!r} was profiled for {lut.config}, the space uses "
                             f"{extra['dpp_config']}; pass the same skeleton in space_options.")
    shape, n_cls = ds.input_shape, ds.num_classes
    where = train_config.device
    energy_how = _energy_source(where) if energy == "auto" else "estimated"

    objs = []
    for o in objectives:
        if o == "error_pct":
            objs.append(Objective("error_pct", "min", "%"))
        elif o == "accuracy_pct":
            objs.append(Objective("accuracy_pct", "max", "%"))
        else:
            objs.append(device_objective(o))
    cheap_names = [o for o in objectives if o in DEVICE_OBJECTIVES]
    trained = [o for o in objectives if o in TRAINED_OBJECTIVES]

    def build(params):
        return builder(params, shape, n_cls)

    def evaluate_cheap(params):
        out = {}
        if not cheap_names:
            return out
        model = build(params)
        lat = None
        for o in cheap_names:
            if o == "params":
                out[o] = count_params(model)
            elif o == "macs":
                out[o] = count_macs(model, shape)
            elif o == "latency_ms":
                if lut is not None:
                    out[o] = lut.predict(params[extra["progressive_space"].variable])
                else:
                    lat = measure_latency(model, shape, threads=train_config.threads, repeats=latency_repeats,
                                          device=where)
                    out[o] = lat["latency_ms"]
                    out["latency_iqr_ms"] = lat["latency_iqr_ms"]
            elif o == "peak_memory_mb":
                out[o] = measure_peak_memory(model, shape, device=where)["peak_memory_mb"]
        if "energy_mj" in cheap_names or "peak_power_w" in cheap_names:
            if energy_how == "estimated":
                if lat is None and "peak_power_w" in cheap_names:
                    lat = measure_latency(model, shape, threads=train_config.threads, repeats=latency_repeats,
                                          device=where)
                e = estimate_energy(model, shape, latency_ms=None if lat is None else lat["latency_ms"])
            else:
                e = measure_energy(model, shape, threads=train_config.threads, device=where,
                                   latency_ms=None if lat is None else lat["latency_ms"])
            for o in ("energy_mj", "peak_power_w"):
                if o in cheap_names:
                    if e[o] is None:
                        raise EvaluationError(f"{o} is unavailable from source {e['source']}.")
                    out[o] = e[o]
        return out

    def evaluate(params):
        out = {}
        if trained:
            res = train_model(lambda: build(params), ds, train_config, seed=_candidate_seed(seed, params))
            if res["status"] != "ok":
                raise EvaluationError(f"training failed: {res['error']}")
            out.update(error_pct=res["val_error_pct"], accuracy_pct=100.0 * res["val_acc"],
                       train_time_s=res["train_time_s"], epochs_run=res["epochs_run"],
                       time_capped=float(res["time_capped"]))
            out = {k: v for k, v in out.items() if k not in TRAINED_OBJECTIVES or k in trained}
        out.update(evaluate_cheap(params))
        return out

    settings = {
        "space": space,
        "space_options": _jsonable(dict(space_options or {})),
        "dataset": dataset_fingerprint(ds),
        "train_config": asdict(train_config),
        "evaluation_seed": int(seed),
        "device": "host" if lut is None else {"lut": lut.name, "sha256": _digest(lut.entries)},
        "latency_repeats": int(latency_repeats),
        "energy": energy,
    }
    sources = _sources(objectives, ds.name, train_config, lut, energy_how, latency_repeats)
    return NASProblem(variables, objs, evaluate, evaluate_cheap=evaluate_cheap if cheap_names else None,
                      name=name or f"nas-{space}-{ds.name}-{'host' if lut is None else lut.name}",
                      progressive_space=extra.get("progressive_space"), settings=settings,
                      build=build, dataset=ds, train_config=train_config, evaluation_seed=int(seed),
                      dpp_config=extra.get("dpp_config"), sources=sources)


class NASProblem(Problem):
    """A :class:`moopt.Problem` whose candidates are networks: it can also build and train them.

    Beyond a plain problem it carries, as explicit attributes:

    Attributes:
        build: ``build(params) -> torch.nn.Module`` for the dataset's input shape and classes.
        dataset: The loaded :class:`~moopt.adapters.nas.data.Dataset`.
        train_config: The :class:`~moopt.adapters.nas.train.TrainConfig` every candidate is trained with.
        evaluation_seed: The seed every training derives from (with the candidate's encoding).
        dpp_config: The DPP-Net macro skeleton (``dpp`` space only, else ``None``).
        sources: Objective name -> where its values come from, in words (e.g.
            ``"measured here (cpu, median of 20 passes)"``, ``"lookup table pixel"``,
            ``"estimated (45 nm energy model)"``), for reports.

    Build one with :func:`nas_problem`.
    """

    def __init__(self, variables, objectives, evaluate, *, build: Callable, dataset, train_config,
                 evaluation_seed: int, dpp_config=None, sources: Optional[Mapping[str, str]] = None,
                 **problem_options):
        super().__init__(variables, objectives, evaluate, **problem_options)
        self.build = build
        self.dataset = dataset
        self.train_config = train_config
        self.evaluation_seed = evaluation_seed
        self.dpp_config = dpp_config
        self.sources = dict(sources or {})


def _energy_source(device: str) -> str:
    """``"nvml"``, ``"rapl"`` or ``"estimated"``: what ``measure_energy`` will use on ``device``."""
    from .objectives import rapl_domains

    if device.startswith("cuda"):
        try:
            import pynvml  # noqa: F401
        except ImportError:
            return "estimated"
        return "nvml"
    return "rapl" if rapl_domains() else "estimated"


def _sources(objectives: Sequence[str], data: str, train_config, lut, energy_how: str, repeats: int) -> dict:
    """Objective name -> where its values come from, in words."""
    trained = f"trained here ({train_config.device}, {train_config.epochs:g} epochs on {data}), validation split"
    energy = {"nvml": f"measured here (NVML, {train_config.device})",
              "rapl": "measured here (RAPL package energy, includes idle power)",
              "estimated": "estimated (45 nm energy model: MACs + memory traffic)"}[energy_how]
    power = energy if energy_how != "estimated" else "estimated (45 nm energy / measured latency)"
    latency = (f"lookup table {lut.name!r}" if lut is not None
               else f"measured here ({train_config.device}, median of {repeats} passes)")
    words = {"error_pct": trained, "accuracy_pct": trained, "params": "counted (inference form)",
             "macs": "counted (inference form)", "latency_ms": latency,
             "peak_memory_mb": f"measured here ({train_config.device})", "energy_mj": energy,
             "peak_power_w": power}
    return {o: words[o] for o in objectives}


def dataset_fingerprint(ds) -> dict:
    """What identifies a dataset's content: name, sizes, shape and a digest of labels and sampled inputs.

    Hashing every label and up to 512 evenly spaced images per split costs
    milliseconds even for CIFAR-10, and any change of files, split or order shows.

    Example:
        >>> from moopt.adapters.nas.data import load_digits
        >>> sorted(dataset_fingerprint(load_digits()))
        ['input_shape', 'name', 'num_classes', 'sha256', 'sizes']
    """
    h = hashlib.sha256()
    sizes = {}
    for split in ("train", "val", "test"):
        part = getattr(ds, split)
        sizes[split] = len(part)
        step = max(1, len(part) // 512)
        h.update(part.y.numpy().tobytes())
        h.update(part.x[::step].contiguous().numpy().tobytes())
    return {"name": ds.name, "input_shape": list(ds.input_shape), "num_classes": int(ds.num_classes),
            "sizes": sizes, "sha256": h.hexdigest()}


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(_jsonable(obj), sort_keys=True).encode()).hexdigest()


def _jsonable(obj):
    """Dataclasses and tuples as JSON values (for settings)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj
