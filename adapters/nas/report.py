"""A run's results folder: the Pareto front as Markdown and CSV, plots, and a ``report.md``.

:func:`write_results` writes into one folder:

* ``front.md``: the front as a Markdown table (:func:`front_table`), values to 4 significant digits;
* ``front.csv``: the same rows at full precision, columns ``id,architecture,<objective>,...``
  (one plain header row: the objective names; no units in it);
* ``objectives.csv``: one row per objective, columns ``name,direction,unit,source``: what the
  columns of ``front.csv`` mean;
* ``front.png`` and ``hypervolume.png`` (:mod:`moopt.plotting`; the latter needs 2 ok evaluations);
* ``report.md``: title, summary, the front table, links to the files above, the exported
  networks and notes.

``id`` is a candidate's id in the run store (``moopt show``'s ``id``, the id ``--id`` takes).  The front is
:attr:`moopt.RunResult.front`'s (failed, pruned, infeasible and cached evaluations excluded),
sorted by the first objective in its own direction.  Every file is written to a temporary file
in the folder and renamed, so a crash never leaves a half-written report.

Example:
    >>> import moopt
    >>> p = moopt.Problem([moopt.Real("x", 0, 1)], [moopt.Objective("f1", "min", "ms"), "f2"],
    ...                   lambda q: {"f1": q["x"], "f2": 1 - q["x"] ** 0.5})
    >>> res = moopt.optimize(p, "random", budget=3, seed=0)
    >>> print(front_table(res, units={"f1": "ms"}, sources={"f1": "timed", "f2": "model"},
    ...                   fmt="csv").splitlines()[0])
    id,architecture,f1,f2
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Optional, Sequence
from urllib.parse import quote

from moopt.result import RunResult

from .files import atomic_write

FORMATS = ("markdown", "csv")
_NOTHING: Mapping = MappingProxyType({})  # an immutable empty default


# --------------------------------------------------------------------------- values and rows
def format_value(v: Any) -> str:
    """A value for a Markdown table: ints without decimals, floats to 4 significant digits.

    Whole floats (a store reads counts such as ``params`` back as floats) print as ints.

    Example:
        >>> [format_value(v) for v in (12, 3.14159, 1234567.0, 1234.567, None, float("nan"), "a")]
        ['12', '3.142', '1234567', '1235', '', 'nan', 'a']
    """
    if v is None:
        return ""
    if hasattr(v, "item") and callable(v.item) and not isinstance(v, (str, bytes)):
        v = v.item()  # numpy scalars
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if not math.isfinite(v):
        return str(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.4g}"


def architecture(params: Mapping[str, Any]) -> str:
    """A short string of a candidate's parameters.

    A single token-sequence variable gives its tokens joined by ``-``; variables that all read
    ``<unit><i>_<field>`` (MONAS ``layer0_filters``, DenseNet ``block0_growth``), with the same
    fields for every ``i``, give ``<fields> per <unit>: <values of unit 0> <values of unit 1> ...``;
    the 6 edges of an NAS-Bench-201 cell give its standard string (``|op~0|+|op~0|op~1|+...``);
    otherwise ``k=v`` pairs joined by ``", "`` (sequences inside also joined by ``-``).

    Example:
        >>> architecture({"cell": ("bnrelu", "conv3x3")})
        'bnrelu-conv3x3'
        >>> architecture({"layer0_filters": 8, "layer0_kernel": 3, "layer1_filters": 16, "layer1_kernel": 5})
        'filters/kernel per layer: 8/3 16/5'
        >>> architecture({"layer0_filters": 8, "lr": 0.01})
        'layer0_filters=8, lr=0.01'
    """
    if len(params) == 1:
        (value,) = params.values()
        if isinstance(value, (list, tuple)):
            return _join(value)
    from moopt.problems.nb201 import EDGE_NAMES, format_arch

    if sorted(params) == sorted(EDGE_NAMES):  # an NB201 cell: its standard string
        return format_arch([params[e] for e in EDGE_NAMES])
    grouped = _per_unit(params)
    if grouped is not None:
        return grouped
    return ", ".join(f"{k}={_join(v) if isinstance(v, (list, tuple)) else format_value(v)}"
                     for k, v in params.items())


def _per_unit(params: Mapping[str, Any]) -> Optional[str]:
    """``"f1/f2 per unit: a/b c/d"`` when every key is ``<unit><i>_<field>`` with one unit and field set."""
    units: dict[int, dict[str, Any]] = {}
    names = set()
    for key, value in params.items():
        m = re.fullmatch(r"([a-z]+)(\d+)_([a-z_]+)", key)
        if m is None or isinstance(value, (list, tuple)):
            return None
        names.add(m.group(1))
        units.setdefault(int(m.group(2)), {})[m.group(3)] = value
    if len(names) != 1 or sorted(units) != list(range(len(units))):
        return None
    fields = list(units[0])
    if any(list(u) != fields for u in units.values()):
        return None
    values = " ".join("/".join(format_value(units[i][f]) for f in fields) for i in range(len(units)))
    return f"{'/'.join(fields)} per {names.pop()}: {values}"


def _join(seq: Sequence[Any]) -> str:
    return "-".join(format_value(t) for t in seq)


def front_records(result: RunResult) -> list:
    """The :class:`~moopt.store.EvaluationRecord` of each front member, in :attr:`RunResult.front`'s order.

    That order sorts by the first objective in its own direction (ties by the next ones);
    this is :attr:`RunResult.front_records`.
    """
    return list(result.front_records)


def objective_rows(result: RunResult, units: Mapping[str, str], sources: Mapping[str, str]) -> list[dict]:
    """``[{"name", "direction", "unit", "source"}]`` of the run's objectives.

    A unit missing from ``units`` falls back to the one the run stored (``Objective.unit``),
    else ``""``; a missing source is ``""``.
    """
    stored = {o["name"]: o.get("unit") for o in result.config.get("problem", {}).get("objectives", [])}
    return [{"name": n, "direction": d, "unit": units.get(n) or stored.get(n) or "", "source": sources.get(n, "")}
            for n, d in zip(result.objective_names, result.directions)]


# --------------------------------------------------------------------------- tables
def front_table(result: RunResult, *, units: Mapping[str, str], sources: Mapping[str, str],
                fmt: str = "markdown") -> str:
    """The Pareto front of a run as a Markdown or CSV table, one row per front member.

    Args:
        result: A :class:`moopt.RunResult`.
        units: Unit of each objective (e.g. ``{"error_pct": "%", "params": "count"}``).
        sources: Where each value comes from (e.g. ``{"latency_ms": "measured here"}``).
        fmt: ``"markdown"``: columns ``id | architecture | <name> (<unit>) ...``, values to 4
            significant digits, then a line with each objective's direction and source;
            ``"csv"``: columns ``id,architecture,<name>,...`` at full precision (units, directions
            and sources go to ``objectives.csv``, see :func:`objectives_csv`).

    Returns:
        The table text (ending with a newline).

    Example:
        >>> print(front_table(result, units={"error_pct": "%"}, sources={}))  # doctest: +SKIP
        | id | architecture | error_pct (%) | params (count) |
        ...
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt={fmt!r}; choose one of {list(FORMATS)}.")
    recs = front_records(result)
    names = result.objective_names
    if fmt == "csv":
        rows = [[r.candidate_id, architecture(r.params), *[_csv_value(r.objectives[n]) for n in names]] for r in recs]
        return _csv([["id", "architecture", *names]] + rows)
    objs = objective_rows(result, units, sources)
    header = ["id", "architecture"] + [f"{o['name']} ({o['unit']})" if o["unit"] else o["name"] for o in objs]
    lines = [_md_row(header), _md_row(["---:", ":---"] + ["---:"] * len(names))]
    lines += [_md_row([str(r.candidate_id), architecture(r.params)] + [format_value(r.objectives[n]) for n in names])
              for r in recs]
    if not recs:
        lines.append(_md_row(["", "(no Pareto-optimal evaluation: none is ok and feasible)"] + [""] * len(names)))
    described = "; ".join(f"{o['name']}: {o['direction']}, {o['source'] or 'source not given'}" for o in objs)
    return "\n".join(lines) + f"\n\nDirections and sources: {described}.\n"


def objectives_csv(result: RunResult, *, units: Mapping[str, str], sources: Mapping[str, str]) -> str:
    """``objectives.csv``: columns ``name,direction,unit,source``, one row per objective."""
    rows = objective_rows(result, units, sources)
    return _csv([["name", "direction", "unit", "source"]] + [[o[k] for k in ("name", "direction", "unit", "source")]
                                                               for o in rows])


def _csv(rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _csv_value(v: Any) -> Any:
    if hasattr(v, "item") and callable(v.item):
        v = v.item()
    return repr(v) if isinstance(v, float) else v  # repr: the shortest text that reads back exactly


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


# --------------------------------------------------------------------------- the folder
def write_results(result: RunResult, out_dir, *, units: Mapping[str, str], sources: Mapping[str, str],
                  title: str, summary: Mapping[str, Any], exported: Mapping[int, Mapping[str, str]] = _NOTHING,
                  notes: Sequence[str] = ()) -> Path:
    """Write a run's results folder: ``front.md``, ``front.csv``, ``objectives.csv``, plots and ``report.md``.

    Args:
        result: A :class:`moopt.RunResult`.
        out_dir: The folder (created if missing).
        units: Unit of each objective.
        sources: Source of each objective's values (``"measured here"``, ``"NB201 table"``...).
        title: First heading of ``report.md``.
        summary: Key/value pairs listed under the title (preset, data, device, budget, seed,
            counts, elapsed...), in the given order.
        exported: Candidate id (``candidate_id``) -> ``{kind: path}`` of its exported files, as
            :func:`~moopt.adapters.nas.export.export_network` returns them; linked relative to ``out_dir``.
        notes: Lines listed as bullet points at the end.

    Returns:
        The path of ``report.md``.

    Example:
        >>> path = write_results(result, "runs/dpp/results", units={"error_pct": "%"},
        ...                      sources={"error_pct": "measured here"}, title="DPP on digits",
        ...                      summary={"budget": 20, "seed": 0})  # doctest: +SKIP
        >>> path.name  # doctest: +SKIP
        'report.md'
    """
    from moopt.plotting import plot_front, plot_hypervolume

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    notes = list(notes)
    _write_text(out / "front.md", front_table(result, units=units, sources=sources))
    _write_text(out / "front.csv", front_table(result, units=units, sources=sources, fmt="csv"))
    _write_text(out / "objectives.csv", objectives_csv(result, units=units, sources=sources))
    atomic_write(out / "front.png", lambda tmp: plot_front(result, tmp))
    plots = ["front.png"]
    n_ok = len(result.F)
    if n_ok >= 2 and len(result.front_F):
        atomic_write(out / "hypervolume.png", lambda tmp: plot_hypervolume(result, tmp))
        plots.append("hypervolume.png")
    else:
        notes.append(f"hypervolume.png was not drawn: the run has {n_ok} ok evaluation(s) "
                     f"and {len(result.front_F)} on the feasible front; the curve needs at least 2 ok ones.")
    text = _report(result, out, units=units, sources=sources, title=title, summary=summary, plots=plots,
                   exported=exported, notes=notes)
    _write_text(out / "report.md", text)
    return out / "report.md"


def _report(result: RunResult, out: Path, *, units, sources, title: str, summary: Mapping[str, Any],
            plots: Sequence[str], exported: Mapping[int, Mapping[str, str]], notes: Sequence[str]) -> str:
    parts = [f"# {title}", "", "## Summary", ""]
    parts += [f"- **{k}**: {_summary_value(v)}" for k, v in summary.items()]
    n_front = len(result.front)
    parts += ["", "## Pareto front", "",
              f"{n_front} Pareto-optimal of {len(result.F)} ok evaluations; `id` is the candidate id in the run "
              "store (`moopt show`'s `id`; pass it to `moopt nas export` / `train-final --id`).", "",
              front_table(result, units=units, sources=sources).rstrip("\n"), "",
              "Files: [front.csv](front.csv) (full precision), [objectives.csv](objectives.csv) (direction, unit "
              "and source of each column), [front.md](front.md).", ""]
    for p in plots:
        parts += [f"![{p[:-4]}]({p})", ""]
    parts.pop()
    parts += ["", "## Exported networks", ""] + _exported_lines(result, out, exported)
    if notes:
        parts += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(parts) + "\n"


def _exported_lines(result: RunResult, out: Path, exported: Mapping[int, Mapping[str, str]]) -> list[str]:
    if not exported:
        return ["No network was exported."]
    by_seq = {r.candidate_id: r for r in result.records if r.cached_from is None}
    lines = []
    for seq in sorted(exported):
        rec = by_seq.get(seq)
        arch = f" `{architecture(rec.params)}`" if rec is not None else ""
        links = ", ".join(f"[{kind}]({_link(path, out)})" for kind, path in exported[seq].items())
        lines.append(f"- id {seq}{arch}: {links}")
    return lines


def _link(path: str, out: Path) -> str:
    """``path`` relative to ``out`` (both resolved from the working directory), URL-quoted."""
    rel = os.path.relpath(Path(path).resolve(), out.resolve())
    return quote(Path(rel).as_posix())


def _summary_value(v: Any) -> str:
    if isinstance(v, Mapping):
        return ", ".join(f"{k} {format_value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(format_value(x) for x in v)
    return format_value(v)


def _write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

