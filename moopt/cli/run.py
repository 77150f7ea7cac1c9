"""``moopt run | show | plot | hv | demo``: runs with a store, reports and plots.

Examples::

    moopt run --problem zdt1 --algorithm random --budget 400 --seed 3 --out run.db
    moopt show run.db --format csv
    moopt plot run.db --out plots/
    moopt hv points.csv --ref 1.1,1.1 --directions min,max
    moopt demo --out out/demo
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
import warnings
from pathlib import Path

import click

from ..errors import RunStoreError


def _parse_options(items) -> dict:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (e.g. -o pop_size=40)", param_hint="--option")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of numbers (e.g. 1.1,1.1)",
                                 param_hint=what) from None


def _open_result(path: str):
    from ..result import RunResult

    try:
        return RunResult.load(path)
    except RunStoreError as exc:
        raise click.BadParameter(str(exc), param_hint="RUN_DB") from None


def _canonical_hv_line(result, problem, name: str, ref=None) -> str | None:
    """``hypervolume w.r.t. REF: HV (true front: ...)`` for a benchmark problem's own reference point.

    When that reference point excludes the front (an early or poor run), the line says so: the HV
    is 0 there while the summary's HV against the inferred reference point is not.
    """
    import numpy as np

    if ref is None:
        ref = getattr(problem, "ref_point", None)
        if ref is None:
            return None
    ref = [float(x) for x in ref]
    if len(ref) != len(result.objective_names):
        return None
    value = result.hypervolume(ref)
    line = f"hypervolume w.r.t. {ref}: {value:.6f}"
    best = getattr(problem, "max_hypervolume", None)
    if best:
        line += f" (true front: {best:.6f}, {100 * value / best:.1f}%)"
    F = result.front_F
    if len(F):
        signs = np.asarray(result.signs, dtype=float)
        inside = np.all(F * signs < np.asarray(ref) * signs, axis=1)
        if not inside.any():
            line += (f": no point of the front is inside {name}'s reference point {_fmt_point(ref)} (the front's "
                     f"nadir is {_fmt_point((F * signs).max(axis=0) * signs)}), so it is 0; the hypervolume above "
                     "is against a reference point inferred from the front")
        elif not inside.all():
            line += (f"; {int((~inside).sum())} of {len(F)} front points are outside {name}'s reference point "
                     "and add nothing")
    return line


def _get_problem(spec: str):
    try:
        from moopt.problems import get_problem
    except ImportError:  # pragma: no cover - problems/ not installed
        raise click.UsageError("moopt.problems is not installed; reinstall moopt (pip install -e .).") from None
    return get_problem(spec)


def _execute(*, problem_spec, algorithm, budget, seed, out, evaluator, options, timeout, progress,
             retries, say, count_duplicates=None) -> object:
    """Shared by ``run`` and ``demo``: open/resume the store, run, return the RunResult."""
    from ..engine import budget_spent, build_search, optimize, resolve_count_duplicates
    from ..errors import ConfigError
    from ..evaluators import check_timeout
    from ..registry import get_algorithm
    from ..store import RunStore

    problem = _get_problem(problem_spec)
    extra: dict = {"problem_spec": problem_spec}
    if algorithm == "auto":
        from ..registry import choose_algorithm

        algorithm, why = choose_algorithm(problem, budget)
        extra["auto"] = {"picked": algorithm, "reason": why}
    get_algorithm(algorithm)  # an unknown name is its own error, listing the known ones
    try:
        _, identity = build_search(problem, algorithm, seed=seed, options=options)
    except (ConfigError, ValueError, TypeError) as exc:
        # a search that does not support this kind of problem, or a bad option: the search's
        # own message may name only one of the two, so say which pair it was
        raise ConfigError(f"cannot set up algorithm {algorithm!r} for problem {problem_spec!r}: {exc}") from exc
    check_timeout(timeout)  # a bad time limit is refused before the store is created
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    try:
        store = RunStore(out, lock=True)
    except RunStoreError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    try:
        try:
            resumed = store.configure(identity, {"problem_spec": problem_spec})
            count_dup = resolve_count_duplicates(store, count_duplicates)
        except (RunStoreError, ConfigError) as exc:
            raise click.BadParameter(str(exc), param_hint="--out") from None
        if resumed:
            n = budget_spent(store, count_dup)
            what = "evaluations" if count_dup else "paid evaluations"
            if n == budget:
                say(f"The run in {out} is complete ({n}/{budget} {what}); showing its result.")
            elif n < budget:
                say(f"Resuming the run in {out}: {n}/{budget} {what} done.")
        t0 = time.perf_counter()
        result = optimize(problem, algorithm, budget=budget, seed=seed, store=store, evaluator=evaluator,
                          progress=progress, timeout=timeout, retries=retries,
                          extra=extra, count_duplicates=count_dup, **options)
        result.resumed = resumed
        result.elapsed = time.perf_counter() - t0
        if "auto" in extra:  # said once the run went ahead, so a refused run stays a one-line error
            say(f"Algorithm auto: picked {algorithm} ({extra['auto']['reason']}).")
        return result
    finally:
        store.close()


@click.command("run")
@click.option("--problem", "problem_spec", required=True, metavar="SPEC",
              help="Problem spec, e.g. zdt1 or dtlz2:m=3 (see moopt.problems).")
@click.option("--algorithm", default="auto", show_default=True,
              help="Registered algorithm: random, nsga2, pls, reinforce, progressive, ..., or auto: the "
                   "search moopt found best for the problem's kind and the budget (pls for discrete "
                   "variables, moead/nsga2 for reals, progressive for growable sequences; printed).")
@click.option("--budget", type=click.IntRange(min=0), required=True,
              help="Number of evaluations paid for (duplicates answered from the store and candidates "
                   "outside the search space are free; see --count-duplicates).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the search.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Run store (SQLite). An existing store of the same run is resumed.")
@click.option("--evaluator", default="serial", show_default=True,
              help="serial | processes:N | dask | dask:N | tcp://host:port")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler address (tcp://host:port); same as --evaluator ADDRESS.")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Algorithm option (JSON value), repeatable: -o pop_size=40.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Time limit per evaluation in seconds (exceeded: recorded failed).")
@click.option("--retries", type=click.IntRange(min=0), default=1, show_default=True,
              help="Retries of a candidate whose worker died.")
@click.option("--progress/--no-progress", default=None,
              help="Progress line on stderr (default: only on a terminal).")
@click.option("--count-duplicates/--no-count-duplicates", "count_duplicates", default=None,
              help="Let duplicates answered from the store count against --budget (the old behaviour; "
                   "no stall). Default: a new run does not count them; a resumed run keeps its stored "
                   "setting (the other one is refused).")
def run(problem_spec, algorithm, budget, seed, out, evaluator, scheduler, options, timeout, retries, progress,
        count_duplicates):
    """Optimize a problem, storing every evaluation in --out (re-run to resume).

    Kill it at any moment: re-running the same command continues where it
    stopped, without losing or repeating an evaluation.

    The budget counts evaluations paid for. A search that proposes only
    candidates already evaluated ends the run early with a "stalled"
    warning on stderr and exit status 0: its results are valid.
    """
    if scheduler:
        evaluator = scheduler
    opts = _parse_options(options)
    say = lambda msg: click.echo(msg, err=True)  # noqa: E731
    result = _execute(problem_spec=problem_spec, algorithm=algorithm, budget=budget, seed=seed, out=out,
                      evaluator=evaluator, options=opts, timeout=timeout, progress=progress,
                      retries=retries, say=say, count_duplicates=count_duplicates)
    click.echo(result.summary(warning=False))
    line = _canonical_hv_line(result, _get_problem(problem_spec), problem_spec)
    if line:
        click.echo(line)
    click.echo(f"store: {out}  ({result.elapsed:.1f} s this session)")
    if result.status == "stalled":
        say(f"warning: {result.message}")


@click.command("show")
@click.argument("run_db", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--history", is_flag=True, help="List every evaluation instead of the Pareto front.")
def show(run_db, fmt, history):
    """Show a run: configuration, counts by status and the Pareto front."""
    result = _open_result(run_db)
    table = result.history if history else result.front
    if fmt == "csv":
        sys.stdout.write(table.to_csv())
        return
    hv = ref = None
    if len(result.front_F):
        ref = result.reference_point()
        hv = result.hypervolume(ref)
    if fmt == "json":
        cfg = dict(result.config)
        click.echo(json.dumps({
            "config": cfg, "counts": result.counts, "n_paid": result.n_paid, "n_results": result.n_results,
            "status": result.status, "message": result.message,
            "objectives": [{"name": n, "direction": d} for n, d in zip(result.objective_names, result.directions)],
            "hypervolume": hv, "reference_point": None if ref is None else [float(x) for x in ref],
            "history" if history else "front": json.loads(table.to_json()),
        }, indent=1, default=str))
        return
    click.echo(result.summary())
    opts = result.config.get("options") or {}
    if opts:
        click.echo("options: " + ", ".join(f"{k}={v}" for k, v in opts.items()))
    click.echo("")
    click.echo(table.to_string())


@click.command("plot")
@click.argument("run_db", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Directory for the PNG files (default: RUN_DB without suffix + '-plots').")
@click.option("--ref", default=None, help="Reference point for the hypervolume, e.g. 1.1,1.1 (default: inferred).")
def plot(run_db, out_dir, ref):
    """Plot a run: Pareto front and hypervolume versus evaluations (PNG)."""
    result = _open_result(run_db)
    if not len(result.F):
        raise click.UsageError(f"{run_db} has no successful evaluation to plot.")
    ref_v = _floats(ref, "--ref") if ref else None
    if ref_v is not None:  # checked before any file is written
        m = len(result.objective_names)
        if len(ref_v) != m:
            raise click.BadParameter(f"{ref!r} has {len(ref_v)} coordinates but the run has {m} objectives "
                                     f"{result.objective_names}; give one value per objective", param_hint="--ref")
        F = result.front_F
        note = _nadir_note(F, ref_v, list(result.directions), f"--ref {ref}",
                           "the hypervolume would be 0 at every evaluation") if len(F) else None
        if note:
            raise click.BadParameter(note, param_hint="--ref")
    out_dir = out_dir or str(Path(run_db).with_suffix("")) + "-plots"
    for p in result.plot(out_dir, ref=ref_v):
        click.echo(str(p))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_points(path: str):
    """Points of a CSV file: ``(F, header)``; a header is a first row with no number in it."""
    import numpy as np

    try:
        # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") would otherwise glue onto the first field
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="POINTS_CSV") from None
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[int, list[str]]] = []
    try:
        for r in reader:
            if r and any(c.strip() for c in r):
                rows.append((reader.line_num, [c.strip() for c in r]))
    except csv.Error as exc:
        raise click.BadParameter(f"{path}, line {reader.line_num}: {exc}", param_hint="POINTS_CSV") from None
    if not rows:
        raise click.BadParameter(f"{path} holds no points", param_hint="POINTS_CSV")
    header = None
    if not any(_is_number(c) for c in rows[0][1]):  # only names: a header
        header, rows = rows[0][1], rows[1:]
    if not rows:
        raise click.BadParameter(f"{path} holds a header line ({','.join(header or [])}) and no points",
                                 param_hint="POINTS_CSV")
    width = len(header) if header is not None else len(rows[0][1])
    values = []
    for line, r in rows:
        if len(r) != width:
            first = "the header" if header is not None else f"line {rows[0][0]}"
            raise click.BadParameter(f"{path}, line {line}: {len(r)} field{'s' * (len(r) != 1)}, but {first} has "
                                     f"{width}; every "
                                     "point needs one value per objective", param_hint="POINTS_CSV")
        row = []
        for j, c in enumerate(r, 1):
            try:
                x = float(c)
            except ValueError:
                hint = ""
                if any(sep in c for sep in ";\t ") and len(r) == 1:
                    hint = " (fields must be separated by commas)"
                elif line == rows[0][0] and header is None:
                    hint = " (a header line must name every column, with no number in it)"
                raise click.BadParameter(f"{path}, line {line}, field {j}: {c!r} is not a number{hint}",
                                         param_hint="POINTS_CSV") from None
            if not np.isfinite(x):
                raise click.BadParameter(f"{path}, line {line}, field {j}: {c!r} is not a finite number; remove "
                                         "or repair that point", param_hint="POINTS_CSV")
            row.append(x)
        values.append(row)
    return np.array(values, dtype=float), header


def _fmt_point(v) -> str:
    return "(" + ", ".join(f"{float(x):.6g}" for x in v) + ")"


def _nadir_note(F, ref_v, dirs, what: str, consequence: str) -> str | None:
    """A sentence when ``ref_v`` bounds no point of ``F`` (the hypervolume is then 0), else None."""
    import numpy as np

    from .._validation import directions_signs
    from ..reference import ideal_nadir

    signs = directions_signs(dirs, F.shape[1])
    if np.any(np.all(F * signs < np.asarray(ref_v, dtype=float) * signs, axis=1)):
        return None
    _, nadir = ideal_nadir(F, directions=dirs)
    return (f"{what} does not bound any point (the points' nadir is {_fmt_point(nadir)}); {consequence}; pass a "
            "reference point worse than the nadir in every objective, or leave --ref out to infer one")


@click.command("hv")
@click.argument("points_csv", type=click.Path(dir_okay=False))
@click.option("--ref", default=None, help="Reference point, e.g. 1.1,1.1 (default: inferred and printed).")
@click.option("--directions", default=None, help="Per-objective min/max, e.g. min,max (default: all min).")
def hv(points_csv, ref, directions):
    """Hypervolume of the points in a CSV file (one point per row, optional header).

    A first line with no number in it is a header (objective names); a byte-order mark is
    ignored. The number of points read is printed on stderr; stdout holds the result only.
    """
    import numpy as np

    from .._validation import directions_signs
    from ..indicators import hypervolume
    from ..reference import infer_reference_point

    F, header = _read_points(points_csv)
    dirs = [d.strip() for d in directions.split(",")] if directions else None
    try:
        signs = directions_signs(dirs, F.shape[1], name="--directions")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--directions") from None
    if ref is None:
        ref_v = np.asarray(infer_reference_point(F, directions=dirs), dtype=float)
        click.echo(f"reference point (inferred): {','.join(f'{x:.12g}' for x in ref_v)}")
    else:
        ref_v = np.array(_floats(ref, "--ref"))
        if ref_v.shape[0] != F.shape[1]:
            raise click.BadParameter(f"{ref!r} has {ref_v.shape[0]} coordinates but the points have "
                                     f"{F.shape[1]} objectives; give one value per objective",
                                     param_hint="--ref")
    names = f": {', '.join(header)}" if header is not None else ""
    # on stderr, once the input is accepted (an error stays one line); stdout keeps the result only
    click.echo(f"read {len(F)} points ({F.shape[1]} objectives{names}) from {points_csv}", err=True)
    value = hypervolume(F, ref_v, directions=dirs, outside="ignore")
    outside = int(np.sum(~np.all(F * signs < ref_v * signs, axis=1)))
    click.echo(f"hypervolume: {float(value):.12g}")
    if outside:
        click.echo(f"({outside} of {len(F)} points do not dominate the reference point and add no volume)")
        note = _nadir_note(F, ref_v, dirs, f"warning: --ref {ref}", "the hypervolume is 0")
        if note:
            click.echo(note, err=True)


@click.command("demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/demo", show_default=True,
              help="Directory for the run store and plots.")
@click.option("--budget", type=click.IntRange(min=1), default=6000, show_default=True,
              help="Number of evaluations.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--algorithm", default="nsga2", show_default=True,
              help="Algorithm (falls back to random when nsga2 is not available).")
@click.option("--progress/--no-progress", default=None, help="Progress line on stderr.")
def demo(out_dir, budget, seed, algorithm, progress):
    """Solve ZDT1 with NSGA-II through moopt's engine; print the front and plot it."""
    from ..registry import available_algorithms

    say = lambda msg: click.echo(msg, err=True)  # noqa: E731
    if algorithm not in available_algorithms():
        say(f"algorithm {algorithm!r} is not available here; using 'random' instead.")
        algorithm = "random"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    store = out / f"zdt1-{algorithm}-seed{seed}.db"
    options = {"pop_size": 40} if algorithm == "nsga2" else {}  # 150 generations of 40
    result = _execute(problem_spec="zdt1", algorithm=algorithm, budget=budget, seed=seed, out=str(store),
                      evaluator="serial", options=options, timeout=None, progress=progress, retries=1,
                      say=say)
    click.echo(result.summary())
    problem = _get_problem("zdt1")
    ref = [float(x) for x in getattr(problem, "ref_point", [1.1, 1.1])]
    click.echo(_canonical_hv_line(result, problem, "zdt1", ref=ref))
    front = result.front
    click.echo("")
    click.echo(f"Pareto front ({len(front)} candidates; objectives only, every 10th shown):")
    from ..result import Table

    rows = front.rows[:: max(1, len(front) // 10)]
    click.echo(Table(["id"] + result.objective_names, rows).to_string())
    with warnings.catch_warnings():  # a front outside zdt1's reference point is said in the line above
        warnings.filterwarnings("ignore", message="the reference point .* does not bound any point")
        paths = result.plot(out, ref=ref)
    front.to_csv(out / "front.csv")
    click.echo("")
    click.echo(f"store: {store}")
    click.echo(f"front: {out / 'front.csv'}")
    for p in paths:
        click.echo(f"plot: {p}")
    click.echo(f"({result.elapsed:.1f} s)")
