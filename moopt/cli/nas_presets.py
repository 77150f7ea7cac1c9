"""``moopt nas monas|dpp|list-presets|train-final|export``: the seed paper's presets on the command line.

Each preset command maps its flags onto :mod:`moopt.adapters.nas.presets`:
defaults, then ``--config FILE.toml`` (same option names), then the flags given
on the command line (they win).  The run goes to ``--out`` (default
``<preset>.db``; re-running resumes it) and its results folder beside it; the
front table and the folder's path are printed at the end.

Examples::

    moopt nas dpp                                   # DPP-Net on digits for this machine
    moopt nas dpp --target pixel3.json              # ... for the device a latency table was profiled on
    moopt nas dpp --target m --table nb201          # ... for a Pixel 3, on the NB201 real-device table
    moopt nas monas --reward power --power-budget 0.3 --space densenet
    moopt nas train-final dpp.db --id 12 --epochs 30
    moopt nas export dpp.db --id 12 --out arch12/
"""

from __future__ import annotations

import json
from typing import Any, Callable

import click
from click.core import ParameterSource

_DATA_HELP = "digits (embedded) | mnist:PATH | fashion-mnist:PATH | cifar10:PATH | imagefolder:PATH."


def _shared(fn: Callable) -> Callable:
    """The options every preset has (applied bottom-up, so listed here in reverse help order)."""
    opts = [
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="TOML file of options (same names as the flags); flags given here win."),
        click.option("--export/--no-export", "export", default=None,
                     help="Export each front architecture (trained once more, same seed) [default: export]."),
        click.option("--out", default=None, type=click.Path(dir_okay=False),
                     help="Run file; re-running resumes it. Results go to the folder beside it [default: PRESET.db]."),
        click.option("--scheduler", default=None, help="Evaluate on the Dask scheduler at this address."),
        click.option("--workers", default=None, type=int, help="Evaluate on a local Dask cluster of N workers."),
        click.option("--device", default=None, help="Torch device to train and measure on: cpu, cuda, cuda:N."),
        click.option("--seed", default=None, type=int, help="Seed of the search and of every training [0]."),
        click.option("--max-train", default=None, type=int, help="Train on the first N training images only."),
        click.option("--epochs", default=None, type=float, help="Training epochs of each candidate [3]."),
        click.option("--budget", default=None, type=int, help="Candidates trained (evaluations paid for)."),
        click.option("--table", default=None, type=click.Choice(["nb201"]),
                     help="Search the NAS-Bench-201 real-device table instead of training."),
        click.option("--data", default=None, help=_DATA_HELP),
    ]
    for opt in opts:
        fn = opt(fn)
    return fn


def _given(ctx: click.Context, params: dict) -> dict:
    """The options set on the command line (not defaults), as preset option names."""
    out = {}
    for key, value in params.items():
        if key == "config_file":
            continue
        if ctx.get_parameter_source(key) == ParameterSource.COMMANDLINE:
            out[key] = value
    return out


def _run(ctx: click.Context, name: str, params: dict) -> None:
    from moopt.adapters.nas.presets import preset_defaults, resolve_options, results_dir, run_preset

    given = _given(ctx, params)
    opts = resolve_options(name, given, params.get("config_file"))
    if opts["out"] is None:
        opts["out"] = f"{name}.db"
    unknown = set(opts) - set(preset_defaults(name))
    assert not unknown, unknown  # resolve_options checks names
    result = run_preset(name, opts)
    _print_front(result, name, opts)
    click.echo(f"\nresults: {results_dir(opts['out']) / 'report.md'} (run file {opts['out']}; "
               "re-running the command resumes it)")


def _print_front(result, name: str, opts: dict) -> None:
    from moopt.adapters.nas.presets import results_dir

    click.echo(f"{name}: {result.counts.get('ok', 0)} ok, {result.counts.get('failed', 0)} failed, "
               f"{result.counts.get('pruned', 0)} pruned; {len(result.front_records)} on the Pareto front "
               f"(status {result.status})")
    click.echo((results_dir(opts["out"]) / "front.md").read_text().rstrip())


@click.command("monas")
@click.option("--reward", default=None, type=click.Choice(["mixed", "power", "accuracy"]),
              help="mixed: a*acc - (1-a)*energy_n; power: acc if power <= budget else 0; "
                   "accuracy: 1 - energy_n if acc >= threshold else 0 [mixed].")
@click.option("--alpha", default=None, type=float, help="Weight of accuracy in the mixed reward [0.25].")
@click.option("--power-budget", default=None, type=float, help="Power budget in W (--reward power).")
@click.option("--accuracy-threshold", default=None, type=float,
              help="Accuracy threshold as a fraction in [0, 1] (--reward accuracy).")
@click.option("--space", default=None, type=click.Choice(["macro", "densenet"]),
              help="macro: filters and kernel per conv layer; densenet: layers and growth per block [macro].")
@click.option("--layers", default=None, type=int, help="Conv layers (macro, 4) or dense blocks (densenet, 3).")
@click.option("--children-per-update", default=None, type=int, help="Children per policy update [5].")
@click.option("--controller-lr", default=None, type=float, help="The controller's learning rate [0.01].")
@click.option("--hidden", default=None, type=int, help="The controller's LSTM width [32].")
@click.option("--energy", default=None, type=click.Choice(["auto", "estimated"]),
              help="auto: measured (NVML, RAPL) where possible, else estimated; estimated: always the "
                   "deterministic 45 nm model [auto].")
@click.option("--target", default=None, help="With --table nb201: the device whose latency is the cost [m].")
@_shared
@click.pass_context
def monas_cmd(ctx: click.Context, **params: Any) -> None:
    """MONAS: an LSTM controller trained by REINFORCE on a scalarized accuracy/energy reward."""
    _run(ctx, "monas", params)


@click.command("dpp")
@click.option("--target", default=None,
              help="host (measured here), LUT.json (a latency table from `moopt nas profile-device`), or with "
                   "--table nb201: ws, es, m, panacea or an NB201 device [host].")
@click.option("--criterion", default=None, type=click.Choice(["pareto", "pnas"]),
              help="pareto: keep the Pareto-optimal children (DPP-Net); pnas: the k of least predicted error.")
@click.option("--k", default=None, type=int, help="Cells kept and trained per step [8].")
@click.option("--max-layers", default=None, type=int, help="Longest cell in layers (Norm and Conv tokens) [6].")
@click.option("--n-initial", default=None, type=int, help="Cells of the first step trained [all 18].")
@click.option("--surrogate", default=None, type=click.Choice(["lstm", "forest", "gp"]),
              help="Accuracy predictor: lstm (DPP-Net's RNN), forest or gp [lstm].")
@click.option("--stages", default=None, help="Cells per dense block, e.g. 2,2,2.")
@click.option("--growth", default=None, help="Growth rate per dense block, e.g. 8,16,32.")
@click.option("--stem-channels", default=None, type=int, help="Channels of the stem convolution [16].")
@_shared
@click.pass_context
def dpp_cmd(ctx: click.Context, **params: Any) -> None:
    """DPP-Net: progressive search of a cell, Pareto over error, params, MACs and the target's latency."""
    _run(ctx, "dpp", params)


@click.command("list-presets")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_presets_cmd(fmt: str) -> None:
    """Each preset with its objectives and default options (no torch needed)."""
    from moopt.adapters.nas.presets import list_presets

    rows = list_presets()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1))
        return
    for i, r in enumerate(rows):
        if i:
            click.echo("")
        click.echo(f"{r['name']}: {r['summary']}")
        click.echo(f"  objectives: {', '.join(r['objectives'])}")
        click.echo("  options (default):")
        width = max(len(k) for k in r["defaults"]) + 2
        for k, v in r["defaults"].items():
            shown = f"{r['name']}.db" if k == "out" and v is None else _show(v)
            click.echo(f"    {('--' + k.replace('_', '-')).ljust(width)}  {shown}")


def _show(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


@click.command("train-final")
@click.argument("run", type=click.Path(dir_okay=False))
@click.option("--id", "run_id", required=True, type=int, help="The architecture's id (front table, moopt show).")
@click.option("--epochs", default=30.0, show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option("--data", default=None, help=f"Dataset (default: the run's). {_DATA_HELP}")
@click.option("--stages", default=None, help="DPP-Net: cells per block of the final network [twice the search's].")
@click.option("--growth", default=None, help="DPP-Net: growth per block of the final network [the search's].")
@click.option("--device", default=None, help="Torch device (default: the run's).")
@click.option("--out", "export_to", default=None, type=click.Path(file_okay=False),
              help="Export folder [the results folder's final-ID/].")
def train_final_cmd(run, run_id, epochs, data, stages, growth, device, export_to) -> None:
    """Train a searched architecture in the final network, longer; record it in the run file."""
    from moopt.adapters.nas.presets import _int_list, train_final

    entry = train_final(run, run_id, epochs=epochs, data=data,
                        stages=None if stages is None else _int_list(stages, "--stages"),
                        growth=None if growth is None else _int_list(growth, "--growth"),
                        device=device, export_to=export_to, progress=lambda m: click.echo(m, err=True))
    ob = entry["objectives"]
    click.echo(f"id {entry['id']}: val acc {100 * entry['val_acc']:.2f}%, test acc {100 * entry['test_acc']:.2f}% "
               f"after {entry['epochs']:g} epochs ({entry['train_time_s']:.1f} s); params {ob['params']:,}, "
               f"MACs {ob['macs']:,}, latency {ob['latency_ms']:.3f} ms ({entry['device']})")
    click.echo(f"recorded in {run} (logs 'final_training'); exported to {entry['files']['json']}")


@click.command("export")
@click.argument("run", type=click.Path(dir_okay=False))
@click.option("--id", "run_id", required=True, type=int, help="The architecture's id (front table, moopt show).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder to write.")
@click.option("--data", default=None, help="Dataset (default: the run's).")
def export_cmd(run, run_id, out_dir, data) -> None:
    """Export an evaluated architecture: JSON, TorchScript, state_dict (and ONNX when installed)."""
    from moopt.adapters.nas.presets import export

    files = export(run, run_id, out_dir, data=data)
    for kind, path in files.items():
        click.echo(f"{kind}: {path}")
