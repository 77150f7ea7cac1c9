"""``moopt bench``: run a (problem x algorithm x seed) grid and write a hypervolume report."""

from __future__ import annotations

import json

import click


def _parse_options(items) -> dict:
    """``("nsga2.pop_size=50", "moead.n_neighbors=10")`` -> ``{"nsga2": {"pop_size": 50}, ...}``."""
    from ..errors import ConfigError

    out: dict = {}
    for item in items:
        head, eq, value = item.partition("=")
        alg, dot, key = head.partition(".")
        if not eq or not dot or not alg or not key:
            raise ConfigError(f"bad --option {item!r}; write ALGORITHM.KEY=VALUE, e.g. nsga2.pop_size=50.")
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        out.setdefault(alg.strip(), {})[key.strip()] = parsed
    return out


#: ``--suite`` grids: problems, moopt's own algorithms, seeds, budget and options (each
#: overridable by its flag).  ``nb201``: the grid of ``benchmarks/bench_nb201.py`` for moopt's
#: searches (the external peers run only in that script); ``HV/HV*`` of its report is
#: ``1 - problem.regret``.
SUITES: dict = {
    "nb201": {
        "problems": [f"nb201:device={d}" for d in
                     ("titanx_1", "raspi4", "pixel3", "fpga", "eyeriss", "gold_6226", "panacea")],
        "algorithms": ["random", "pls", "reinforce", "nsga2", "progressive"],
        "seeds": "11",
        "budget": 1000,
        "options": {"progressive": {"surrogate": "forest", "k": 19}},
    },
}


@click.command("bench")
@click.option("--suite", type=click.Choice(sorted(SUITES)), default=None,
              help="A named grid: nb201 = the 7 NAS-Bench-201 device sets x random, pls, reinforce, nsga2, "
                   "progressive x 11 seeds x 1000 evaluations (flags given override it).")
@click.option("--problems", default=None, metavar="SPECS",
              help="Comma-separated problem specs, e.g. 'zdt1,zdt2,dtlz2:m=3' "
                   "(default: the default grid's zdt1,zdt2,dtlz2:m=3).")
@click.option("--algorithms", default=None, metavar="NAMES",
              help="Comma-separated algorithm names (default: nsga2,moead,random).")
@click.option("--seeds", default=None, metavar="N|LIST",
              help="Number of seeds (0..N-1) or a comma-separated list (default: 5).")
@click.option("--budget", type=click.IntRange(min=1), default=None,
              help="Evaluations per run (default: 5000).")
@click.option("--out", "out", type=click.Path(file_okay=False), default="bench-out", show_default=True,
              help="Output directory: one run store per run, summary.md/csv and PNG curves.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Local worker processes (each runs whole runs).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler address (tcp://host:8786) instead of local workers; OUT must be "
                   "on a file system the workers share.")
@click.option("--option", "-o", "options", multiple=True, metavar="ALG.KEY=VALUE",
              help="Algorithm option, repeatable: -o nsga2.pop_size=50.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Significance level of the Holm-corrected rank-sum tests.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG hypervolume curves.")
@click.option("--quiet", "-q", is_flag=True, help="No per-run lines, only the final table.")
def bench(suite, problems, algorithms, seeds, budget, out, workers, scheduler, options, alpha, no_plots, quiet):
    """Benchmark algorithms on test problems: final hypervolume and IGD+ over seeds.

    Every run is persisted under OUT/runs/ (one SQLite run store each), so a
    rerun skips finished runs and resumes interrupted ones.  Without options
    it runs the default grid (zdt1, zdt2, dtlz2:m=3 x nsga2, moead, random x
    5 seeds x 5000 evaluations; about 4 minutes on 2 workers).

    Example:

        moopt bench --problems zdt1,dtlz2:m=3 --algorithms nsga2,random --seeds 11 --budget 10000 --workers 2
    """
    from .. import bench as B
    from ..problems import get_problem  # the CLI wires the test problems in
    from ..registry import available_algorithms

    grid = SUITES.get(suite or "", {})
    suite_options = {k: dict(v) for k, v in grid.get("options", {}).items()}
    for alg, opts in _parse_options(options).items():
        suite_options.setdefault(alg, {}).update(opts)
    default_problems = grid.get("problems", B.DEFAULT_PROBLEMS)
    default_algorithms = grid.get("algorithms", B.DEFAULT_ALGORITHMS)
    seeds = seeds if seeds is not None else grid.get("seeds")
    budget = budget or grid.get("budget")
    problem_list = B.split_problems(problems) if problems else list(default_problems)
    algorithm_list = ([a.strip() for a in algorithms.split(",") if a.strip()] if algorithms
                      else list(default_algorithms))
    if not algorithm_list:
        raise click.UsageError(f"--algorithms names no algorithm; choose from {available_algorithms()}.")
    for alg in [a for a in grid.get("options", {}) if a not in algorithm_list]:  # the suite's, not the user's
        if alg not in _parse_options(options):
            suite_options.pop(alg, None)
    seed_spec = seeds if seeds is not None else B.DEFAULT_SEEDS
    # a bad grid (seeds, options, names) exits 2 here, before anything runs or is written
    B.check_grid(problem_list, algorithm_list, seed_spec, resolve=get_problem, budget=budget or B.DEFAULT_BUDGET,
                 workers=workers, options=suite_options)
    if not quiet:
        click.echo(f"Grid: {len(problem_list)} problems x {len(algorithm_list)} algorithms x "
                   f"{len(B.parse_seeds(seed_spec))} seeds, {budget or B.DEFAULT_BUDGET} evaluations per run "
                   f"-> {out}", err=True)
    records = B.run_grid(problem_list, algorithm_list, seed_spec, resolve=get_problem,
                         budget=budget or B.DEFAULT_BUDGET, out=out, workers=workers, scheduler=scheduler,
                         options=suite_options, echo=None if quiet else (lambda s: click.echo(s, err=True)))
    report = B.write_report(records, out, alpha=alpha, plots=not no_plots)
    click.echo(report["markdown"])
    if not quiet:
        click.echo("Wrote " + ", ".join(str(p) for p in report["files"]), err=True)
    failed = sum(1 for r in records if "error" in r)
    if failed:
        raise click.exceptions.Exit(1)
