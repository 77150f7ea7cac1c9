"""Device-aware NAS adapters: spaces, builders, trainer, datasets, device objectives, devices.

Importing this package is cheap; torch is imported by the submodules that need it.

Modules:
    spaces.monas, spaces.densenet, spaces.dpp, spaces.nb201: search spaces and builders.
    ops: DPP-Net / CondenseNet ops (learned group conv, channel shuffle).
    data: datasets (digits, idx, CIFAR-10, image folders).
    train: the trainer.
    objectives: params, MACs, latency, peak memory, energy / power.
    devices: host measurement and latency lookup tables.
    tabular: NAS-Bench-201 accuracy x real-device latency (the packaged moopt.problems.nb201 table).
    baselines: torchvision baselines and a CondenseNet-like network.
    problem: space + trainer + objectives -> moopt.Problem.
    presets: the MONAS and DPP-Net presets (``monas``, ``dpp``, ``train_final``, ``export``).
    export, report: exported networks and a run's results folder.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "nas_problem": "problem",
    "nb201_tabular_problem": "tabular",
    "TrainConfig": "train",
    "train_model": "train",
    "load_dataset": "data",
    "LatencyTable": "devices",
    "profile_dpp": "devices",
    "DPPCellSpace": "spaces.dpp",
    "DPPConfig": "spaces.dpp",
    "build_dpp": "spaces.dpp",
    "build_nb201": "spaces.nb201",
    "build_monas": "spaces.monas",
    "monas_space": "spaces.monas",
    "build_densenet": "spaces.densenet",
    "densenet_space": "spaces.densenet",
    "build_baseline": "baselines",
    "measure_all": "objectives",
    "monas": "presets",
    "dpp": "presets",
    "run_preset": "presets",
    "list_presets": "presets",
    "train_final": "presets",
    "export_network": "export",
    "front_table": "report",
    "write_results": "report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'moopt.adapters.nas' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value
