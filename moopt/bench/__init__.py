"""Hypervolume benchmarking: a (problem x algorithm x seed) grid, persisted runs, a report.

Every run is an ordinary :func:`moopt.optimize` run with its own SQLite run
store under ``out/runs/<problem>/<algorithm>/seed<k>.db`` and a small JSON
summary next to it (final hypervolume, IGD+, hypervolume-versus-evaluations
curve).  Re-running the same grid skips finished runs and resumes interrupted
ones from their stores; raising the budget continues the existing runs.

Runs execute in parallel through moopt's evaluators: the grid is a small
moopt :class:`~moopt.Problem` whose "evaluation" is one whole run, so
``workers=2`` uses two local processes and ``scheduler="tcp://..."`` a Dask
cluster (the output directory must then be on a file system the workers share).

The report (:func:`write_report`): per problem and algorithm the median and
inter-quartile range over seeds of the final hypervolume (as a fraction of the
problem's maximum hypervolume, ``HV/HV*``) and of IGD+ against a 1000-point
sample of the true front; a two-sided Wilcoxon rank-sum test
(``scipy.stats.mannwhitneyu``) of every algorithm against the best one on that
problem, Holm-corrected per problem and metric, marked ``▲`` (significantly
better), ``▼`` (significantly worse), ``≈`` (no significant difference) and
``★`` (the best); a Markdown and a CSV summary; one PNG per problem with the
median hypervolume curve and its IQR band per algorithm.

Example:
    >>> from moopt.bench import run_grid, write_report
    >>> from moopt.problems import get_problem
    >>> records = run_grid(["zdt1"], ["random", "nsga2"], seeds=3, budget=300,
    ...                    resolve=get_problem, out="bench-out")  # doctest: +SKIP
    >>> write_report(records, "bench-out")                        # doctest: +SKIP
"""

from .grid import (
                   CURVE_POINTS,
                   DEFAULT_ALGORITHMS,
                   DEFAULT_BUDGET,
                   DEFAULT_PROBLEMS,
                   DEFAULT_SEEDS,
                   REFERENCE_FRONT_SIZE,
                   RunSpec,
                   check_grid,
                   hypervolume_curve,
                   parse_seeds,
                   run_grid,
                   run_one,
                   split_problems,
)
from .report import markdown_table, plot_curves, write_report
from .stats import compare_to_best, holm, summarize

__all__ = ["CURVE_POINTS", "DEFAULT_ALGORITHMS", "DEFAULT_BUDGET", "DEFAULT_PROBLEMS", "DEFAULT_SEEDS",
           "REFERENCE_FRONT_SIZE", "RunSpec", "check_grid", "compare_to_best", "holm", "hypervolume_curve",
           "markdown_table", "parse_seeds", "plot_curves", "run_grid", "run_one", "split_problems",
           "summarize", "write_report"]
