"""No dead registry entry: every registered problem and algorithm name works end to end.

Every problem of ``moopt.problems.available_problems()`` builds through ``get_problem``
and evaluates candidates; every algorithm of ``moopt.registry.available_algorithms()``
builds through the registry.  Every (problem, algorithm) pair then goes through
``moopt run``: a pair the search supports runs a few evaluations whose stored values are
the problem's own values for the stored parameters, and ``moopt show`` reads the store;
a pair the search does not support is refused with exit status 2 and one line naming both
(no traceback, no store left behind).  Which pairs are supported is decided by the
searches' own constructor checks, not by a list kept here.  Every problem also goes
through ``moopt bench`` once.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math

import numpy as np
import pytest

import moopt
from moopt.cli import main
from moopt.errors import ConfigError, EvaluationError
from moopt.registry import available_algorithms, get_algorithm, make_search

problems_pkg = pytest.importorskip("moopt.problems")
get_problem = problems_pkg.get_problem

PROBLEMS = problems_pkg.available_problems()
ALGORITHMS = available_algorithms()

BUDGET = 10
# Small populations / update sizes so that BUDGET evaluations span several generations or
# policy updates (the defaults of 100 would never get past the first).  Speed only: whether
# a pair is supported is decided by the search's constructor, and the CLI gets the same options.
SMALL_OPTIONS = {
    "nsga2": {"pop_size": 4},
    "pymoo-nsga2": {"pop_size": 4},
    "nsga3": {"pop_size": 4},
    "smsemoa": {"pop_size": 4},
    "moead": {"n_partitions": 2, "n_neighbors": 2},
    "deap-nsga2": {"pop_size": 4},
    "reinforce": {"children_per_update": 4},
    "progressive": {"k": 4},
}


def _options(algorithm: str) -> dict:
    return dict(SMALL_OPTIONS.get(algorithm, {}))


@functools.lru_cache(maxsize=None)
def _refusal(problem_name: str, algorithm: str):
    """The search's own error for this problem, or None when it accepts it."""
    problem = get_problem(problem_name)
    try:
        search = make_search(algorithm, problem, seed=0, **_options(algorithm))
    except (ConfigError, ValueError, TypeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    assert isinstance(search, moopt.Search) and search.problem is problem
    return None


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _sample(problem, n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [problem.space.sample(rng) for _ in range(n)]


def _assert_values_match(problem, params: dict, objectives: dict, constraints) -> None:
    fresh = problem.evaluate(params)
    for name in problem.objective_names:
        assert objectives[name] == pytest.approx(fresh[name], rel=1e-12, abs=1e-12), (name, params)
    for name in problem.constraint_names:
        assert constraints[name] == pytest.approx(fresh[name], rel=1e-12, abs=1e-12), (name, params)


# --------------------------------------------------------------------------- names
def test_the_registries_are_not_empty():
    assert {"zdt1", "dtlz2", "knapsack", "synthetic-nas"} <= set(PROBLEMS)
    assert "random" in ALGORITHMS


@pytest.mark.parametrize("name", PROBLEMS)
def test_every_problem_builds_and_evaluates(name):
    problem = get_problem(name)
    assert isinstance(problem, moopt.Problem)
    assert problem.n_obj >= 2 and problem.objective_names
    names = problem.objective_names + problem.constraint_names
    first = []
    for params in _sample(problem, 2):
        values = problem.evaluate(params)
        assert set(names) <= set(values), (name, sorted(values))
        assert all(math.isfinite(values[n]) for n in names), values
        first.append(values)
    # deterministic: the same parameters give the same values (the run tests rely on it)
    for params, values in zip(_sample(problem, 2), first):
        assert {n: problem.evaluate(params)[n] for n in names} == {n: values[n] for n in names}
    # the random search takes every kind of problem
    assert _refusal(name, "random") is None


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_builds_for_some_registered_problem(algorithm):
    assert callable(get_algorithm(algorithm))
    accepted = [p for p in PROBLEMS if _refusal(p, algorithm) is None]
    assert accepted, (f"algorithm {algorithm!r} accepts none of the registered problems: "
                      f"{ {p: _refusal(p, algorithm) for p in PROBLEMS} }")


# --------------------------------------------------------------------------- moopt run / show
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("problem_name", PROBLEMS)
def test_run_every_pair_through_the_cli(tmp_path, capsys, problem_name, algorithm):
    db = tmp_path / "run.db"
    argv = ["run", "--problem", problem_name, "--algorithm", algorithm, "--budget", BUDGET,
            "--seed", 0, "--out", db, "--no-progress"]
    for key, value in _options(algorithm).items():
        argv += ["-o", f"{key}={json.dumps(value)}"]
    code, out, err = _cli(capsys, *argv)
    refusal = _refusal(problem_name, algorithm)

    if refusal is not None:
        assert code == 2, (refusal, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), err
        assert "Traceback" not in err
        assert repr(problem_name) in err and repr(algorithm) in err, err
        assert not db.exists(), "a refused run must not leave a store behind"
        return

    assert code == 0, f"{problem_name} x {algorithm} failed:\n{err}"
    problem = get_problem(problem_name)
    res = moopt.RunResult.load(str(db))
    assert res.n_paid == BUDGET  # the budget counts paid evaluations; repeats answered from the store are free
    assert res.config["algorithm"] == algorithm
    assert res.config["extra"]["problem_spec"] == problem_name
    assert res.objective_names == problem.objective_names
    fresh = 0
    for r in res.records:
        if r.status in ("failed", "pruned"):  # only where the problem itself refuses it (NB201's inconsistent cells)
            with pytest.raises(EvaluationError):
                problem.evaluate(r.params)
            continue
        assert r.status == "ok", (r.status, r.error)
        if r.cached_from is None:
            fresh += 1
        _assert_values_match(problem, r.params, r.objectives, r.constraints)
    assert fresh >= 1
    n_ok = res.counts["ok"]
    assert n_ok >= 1 and f"evaluations: ok {n_ok}" in out

    code, out, err = _cli(capsys, "show", db)
    assert code == 0, err
    assert f"algorithm {algorithm}" in out and f"ok {n_ok}" in out
    code, out, err = _cli(capsys, "show", db, "--history", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == res.n_results
    i, first = next((i, r) for i, r in enumerate(res.records) if r.status == "ok")
    for name in problem.objective_names:
        assert float(rows[i][name]) == pytest.approx(first.objectives[name], rel=1e-9)


# --------------------------------------------------------------------------- moopt bench
def _benchmarkable(problem) -> bool:
    # what moopt.problems documents for BenchmarkProblem and moopt bench relies on
    return all(hasattr(problem, a) for a in ("ref_point", "max_hypervolume", "pareto_front"))


def test_bench_every_problem_once(tmp_path, capsys):
    bench_names = [p for p in PROBLEMS if _benchmarkable(get_problem(p))]
    other = [p for p in PROBLEMS if p not in bench_names]
    assert len(bench_names) >= 10
    budget = 6
    out = tmp_path / "bench"
    code, stdout, err = _cli(capsys, "bench", "--problems", ",".join(bench_names), "--algorithms", "random",
                             "--seeds", "1", "--budget", budget, "--out", out, "--no-plots", "--quiet")
    assert code == 0, err
    with open(out / "summary.csv", newline="") as fh:
        rows = {r["problem"]: r for r in csv.DictReader(fh)}
    assert sorted(rows) == sorted(bench_names)
    for row in rows.values():
        assert row["algorithm"] == "random" and row["runs"] == "1" and row["failed_runs"] == "0", row
        assert 0.0 <= float(row["hv_ratio_median"]) <= 1.0 + 1e-9, row
    stores = sorted((out / "runs").rglob("*.db"))
    assert len(stores) == len(bench_names)
    for path in stores:
        res = moopt.RunResult.load(str(path))
        assert res.n_results == budget and res.counts["ok"] == budget
        spec = res.config["extra"].get("problem_spec") or res.config["problem"]["name"]
        problem = get_problem(spec)
        for r in res.records:
            _assert_values_match(problem, r.params, r.objectives, r.constraints)

    # problems without a known front are refused by name, in one line
    for name in other:
        code, stdout, err = _cli(capsys, "bench", "--problems", name, "--algorithms", "random", "--seeds", "1",
                                 "--budget", budget, "--out", tmp_path / f"bench-{name}", "--no-plots", "--quiet")
        assert code == 2, (name, err)
        assert len(err.strip().splitlines()) == 1 and repr(name) in err and "Traceback" not in err, err
