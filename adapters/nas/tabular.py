"""Tabular NAS-Bench-201 problems: a thin layer over the packaged benchmark.

The table (accuracies, params, MACs and 27 device latencies of all 15,625 cells)
ships with moopt and is read by :mod:`moopt.problems.nb201` (numpy only, no
shared data folder, no torch); this module only gives it the keyword API of the
NAS adapters.  :func:`nb201_tabular_problem` returns the same
:class:`~moopt.problems.nb201.NB201Problem` as
``moopt.problems.get_problem("nb201:...")``, so a run, its true front and its
regret are the same whichever way the problem was built.

Objective names (one rule everywhere): ``error_pct``, then the latency,
``latency_ms`` when the problem has one latency objective (one device, or a
user's ``device_table``) and ``latency_ms_<device>`` for each device when it has
several (``device="panacea"``, ``device="pixel3+raspi4"``), then ``params`` and
``macs`` when asked with ``extra``.  All are minimized; the latencies, params and
MACs are cheap objectives.

Example:
    >>> problem = nb201_tabular_problem("pixel3")
    >>> problem.objective_names
    ['error_pct', 'latency_ms']
    >>> problem.evaluate({"arch": "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    ...                   "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"})["latency_ms"]
    17.2381
    >>> nb201_tabular_problem("panacea").objective_names
    ['error_pct', 'latency_ms_titanx_1', 'latency_ms_raspi4', 'latency_ms_pixel3']
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from moopt.problems.nb201 import DEVICES, EDGE_NAMES, N_CELLS, NB201Problem, arch_index, load_table


def nb201_tabular_problem(device: Any = None, *, dataset: str = "cifar10", accuracy: str = "200ep",
                          extra: Any = None, inconsistent: str = "fail", device_table: Any = None,
                          column: Optional[str] = None) -> NB201Problem:
    """A lookup-based NB201 problem: ``error_pct`` and latency (and ``params`` / ``macs``), all minimized.

    The keywords are the ``nb201`` spec options (``docs/problems.md``);
    ``nb201_tabular_problem("raspi4", dataset="cifar100")`` is
    ``get_problem("nb201:device=raspi4,dataset=cifar100")``.

    Args:
        device: A device of the table (``pixel3``, ``raspi4``, ``titanx_1``, ...; see
            ``moopt nas nb201-devices``), an alias, a group (``ws``, ``es``, ``m``,
            ``panacea``) or several joined with ``+``; default ``pixel3`` (unless ``device_table``).
        dataset: ``"cifar10"``, ``"cifar100"`` or ``"imagenet16"``.
        accuracy: ``"200ep"`` (200 epochs) or ``"12ep"`` (12 epochs, a cheap fidelity).
        extra: ``"params"``, ``"macs"`` or ``"params+macs"``: further objectives.
        inconsistent: ``"fail"`` (the 204 cells with inconsistent source records are outside
            the problem; evaluating one raises :class:`moopt.errors.EvaluationError`) or ``"keep"``.
        device_table: Path of your own measured latencies (a CSV with ``arch_str`` or
            ``arch_idx`` and a latency column), instead of ``device``.
        column: The latency column of ``device_table``.

    Returns:
        An :class:`~moopt.problems.nb201.NB201Problem` over the 6 edge variables
        (:data:`EDGE_NAMES`); ``evaluate`` also accepts ``{"arch": <NB201 string>}``.

    Raises:
        moopt.errors.ConfigError: an unknown device, dataset, accuracy or extra, both ``device`` and
            ``device_table``, or a bad device table.
    """
    return NB201Problem(device=device, dataset=dataset, accuracy=accuracy, extra=extra, device_table=device_table,
                        column=column, inconsistent=inconsistent)


def arch_strings() -> list[str]:
    """The 15,625 NB201 strings in ``arch_idx`` order (NAS-Bench-201's index, the table's rows)."""
    table = load_table()
    return [table.arch_str(i) for i in range(N_CELLS)]


def inconsistent_indices() -> set[int]:
    """``arch_idx`` of the 204 cells whose source records belong to other cells."""
    return {int(i) for i in np.flatnonzero(load_table().inconsistent)}


def latency_devices() -> list[str]:
    """The 27 devices of the packaged latency table, in its column order."""
    return list(DEVICES)


__all__ = ["nb201_tabular_problem", "arch_index", "arch_strings", "inconsistent_indices", "latency_devices",
           "EDGE_NAMES"]
