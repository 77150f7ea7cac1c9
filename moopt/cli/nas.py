"""``moopt nas ...``: device-aware NAS commands (torch is imported only by the commands that need it).

Examples::

    moopt nas profile-device --space dpp --out DEVICE.json          # once, on the target device
    moopt nas profile-device --space dpp --input 3x32x32 --classes 10 --out pixel.json
    moopt nas baselines --epochs 1 --format markdown
    moopt nas nb201-devices [--format table|csv|json]                # devices of the NB201 table (no torch)

    moopt nas monas | dpp | list-presets | train-final | export   # the presets (moopt.cli.nas_presets)
"""

from __future__ import annotations

import csv
import io
import json
from typing import Optional, Sequence

import click


def _require_nas():
    try:
        import torch  # noqa: F401

        import moopt.adapters.nas  # noqa: F401
    except ImportError as exc:  # pragma: no cover - install without torch
        raise click.UsageError(
            f"the NAS commands need torch and moopt.adapters ({exc}); install with `pip install -e .[torch]`."
        ) from None


def _shape(text: str) -> tuple:
    try:
        parts = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        raise click.BadParameter(f"{text!r} is not CxHxW (e.g. 3x32x32)", param_hint="--input")
    return parts


def _ints(text: str, what: str) -> tuple:
    try:
        vals = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        vals = ()
    if not vals:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of integers (e.g. 2,2,2)",
                                 param_hint=what)
    return vals


#: commands that need neither torch nor the NAS adapters (the group does not import them for these)
_TORCH_FREE = frozenset({"nb201-devices", "list-presets"})


@click.group()
@click.pass_context
def nas(ctx: click.Context) -> None:
    """Device-aware neural architecture search: the MONAS and DPP-Net presets, devices, baselines."""
    if ctx.invoked_subcommand not in _TORCH_FREE:
        _require_nas()


@nas.command("profile-device")
@click.option("--space", type=click.Choice(["dpp"]), default="dpp", show_default=True,
              help="Space whose layers to profile.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="JSON file to write.")
@click.option("--input", "input_shape", default="3x32x32", show_default=True, help="Input shape CxHxW.")
@click.option("--classes", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--stem-channels", default=16, show_default=True, type=click.IntRange(min=1))
@click.option("--stages", default="2,2,2", show_default=True, help="Cells per dense block.")
@click.option("--growth", default="8,16,32", show_default=True, help="Growth rate per block.")
@click.option("--batch-size", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--repeats", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--device", default="cpu", show_default=True, help="torch device (cpu, cuda:0).")
@click.option("--name", default=None, help="Device name stored in the table (default: host name).")
@click.option("--clock", type=click.Choice(["wall", "cpu"]), default="wall", show_default=True,
              help="wall time, or single-thread CPU time (estimates an unloaded machine on a shared one).")
def profile_device(space, out, input_shape, classes, stem_channels, stages, growth, batch_size, threads,
                   repeats, device, name, clock) -> None:
    """Time every layer of a space on this machine and write a latency lookup table."""
    from moopt.adapters.nas.devices import profile_dpp
    from moopt.adapters.nas.spaces.dpp import DPPConfig

    cfg = DPPConfig(stem_channels=stem_channels, stages=_ints(stages, "--stages"), growth=_ints(growth, "--growth"))
    shape = _shape(input_shape)

    def progress(done, total):
        if done == total or done % 50 == 0:
            click.echo(f"profiled {done}/{total} layers", err=True)

    lut = profile_dpp(shape, classes, config=cfg, batch_size=batch_size, threads=threads, repeats=repeats,
                      device=device, name=name, clock=clock, progress=progress)
    lut.save(out)
    click.echo(f"wrote {out}: {len(lut.entries)} layer entries for device {lut.name!r}")


@nas.command("baselines")
@click.option("--names", default="mobilenet_v2,shufflenet_v2,densenet121,condensenet_like", show_default=True,
              help="Comma-separated baselines.")
@click.option("--dataset", default="digits", show_default=True,
              help="digits, mnist, fashion-mnist, cifar10, imagefolder.")
@click.option("--root", default=None, type=click.Path(file_okay=False), help="Dataset folder (all but digits).")
@click.option("--epochs", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option("--max-train", default=None, type=click.IntRange(min=1), help="Use the first N training images.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--clock", type=click.Choice(["wall", "cpu"]), default="wall", show_default=True,
              help="Latency clock: wall time, or single-thread CPU time.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
def baselines(names, dataset, root, epochs, max_train, seed, threads, clock, fmt) -> None:
    """Train the handcrafted baselines and measure their device objectives here."""
    from moopt.adapters.nas.baselines import BASELINES, evaluate_baselines
    from moopt.adapters.nas.data import load_dataset
    from moopt.adapters.nas.train import TrainConfig

    chosen = [n.strip() for n in names.split(",") if n.strip()]
    bad = [n for n in chosen if n not in BASELINES]
    if bad:
        raise click.BadParameter(f"unknown baselines {bad}; choose from {list(BASELINES)}", param_hint="--names")
    ds = load_dataset(dataset, root=root)
    rows = evaluate_baselines(chosen, dataset=ds, seed=seed, threads=threads, clock=clock,
                              train_config=TrainConfig(epochs=epochs, threads=threads, max_train=max_train),
                              progress=lambda r: click.echo(f"done {r['name']}", err=True))
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1))
        return
    click.echo(baseline_table(rows))


def baseline_table(rows) -> str:
    """Markdown table of :func:`~moopt.adapters.nas.baselines.evaluate_baselines` rows."""
    clock = rows[0].get("clock", "wall") if rows else "wall"
    lines = [f"| model | params | MACs | latency_ms ({clock} clock, median ± IQR) | peak_memory_mb | "
             "energy_mj (source) | val acc | train s |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        acc = "failed" if r["val_acc"] is None else f"{100 * r['val_acc']:.1f}%"
        lines.append(f"| {r['name']} | {r['params']:,} | {r['macs']:,} | {r['latency_ms']:.2f} ± "
                     f"{r['latency_iqr_ms']:.2f} | {r['peak_memory_mb']:.2f} | {r['energy_mj']:.3f} "
                     f"({r['energy_source']}) | {acc} | {r['train_time_s']:.1f} |")
    return "\n".join(lines)


#: columns of ``moopt nas nb201-devices``, in order (``device`` is a row's ``name``)
DEVICE_COLUMNS = ("device", "kind", "hardware", "batch", "groups", "source")


@nas.command("nb201-devices")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="An aligned table with a header, CSV (groups joined by ';') or JSON (one object per device).")
def nb201_devices(fmt: str) -> None:
    """List the 27 devices of the NB201 real-device latency table: kind, hardware, batch, groups, source.

    Groups name a set of devices for ``--problem nb201:device=GROUP`` (``ws``: Titan X batch 1,
    ``es``: Raspberry Pi 4, ``m``: Pixel 3, ``panacea``: the three).  Needs neither torch nor the table.
    """
    from moopt.problems.nb201 import DEVICE_GROUPS, device_rows

    click.echo(device_listing(device_rows(), fmt, groups=DEVICE_GROUPS))


def device_listing(rows: list[dict], fmt: str, *, groups: Optional[dict] = None) -> str:
    """Render :func:`moopt.problems.nb201.device_rows` as ``"table"``, ``"csv"`` or ``"json"`` text.

    Args:
        rows: One dict per device (``name``, ``kind``, ``hardware``, ``batch``, ``groups`` (a
            list), ``source``).
        fmt: ``"table"`` (aligned columns under a header, then a legend of the groups when
            ``groups`` is given), ``"csv"`` (groups joined by ``;``) or ``"json"``; every
            format has the columns :data:`DEVICE_COLUMNS`.
        groups: ``{group: member devices}`` for the table's legend.

    Returns:
        The text, without a trailing newline.

    Raises:
        ValueError: an unknown ``fmt``.
    """
    records = [{"device": r["name"], **{c: r[c] for c in DEVICE_COLUMNS[1:]}} for r in rows]
    if fmt == "json":
        return json.dumps(records, indent=1)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(DEVICE_COLUMNS)
        writer.writerows([[";".join(v) if c == "groups" else v for c, v in r.items()] for r in records])
        return out.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"fmt={fmt!r}; choose 'table', 'csv' or 'json'.")
    cells = [[", ".join(v) or "-" if c == "groups" else str(v) for c, v in r.items()] for r in records]
    width = [max(len(x) for x in col) for col in zip(DEVICE_COLUMNS, *cells)]
    right = DEVICE_COLUMNS.index("batch")

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if j == right else v.ljust(w)
                         for j, (v, w) in enumerate(zip(values, width))).rstrip()

    lines = [line(DEVICE_COLUMNS), line(["-" * w for w in width])] + [line(row) for row in cells]
    if groups:
        lines += ["", "groups (use as nb201:device=GROUP): "
                  + "; ".join(f"{g} = {'+'.join(members)}" for g, members in groups.items())]
    return "\n".join(lines)


def _add_preset_commands() -> None:
    from .nas_presets import dpp_cmd, export_cmd, list_presets_cmd, monas_cmd, train_final_cmd

    for cmd in (monas_cmd, dpp_cmd, list_presets_cmd, train_final_cmd, export_cmd):
        nas.add_command(cmd)


_add_preset_commands()
