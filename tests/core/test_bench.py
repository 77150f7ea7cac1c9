"""The benchmark grid runner, its statistics and its report."""

import csv
import itertools
import json

import moocore
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moopt
from moopt import bench as B
from moopt.errors import ConfigError
from moopt.problems import get_problem


# ------------------------------------------------------------------ parsing
def test_split_problems_keeps_options_together():
    assert B.split_problems("zdt1,dtlz2:m=3,n_var=12,zdt2") == ["zdt1", "dtlz2:m=3,n_var=12", "zdt2"]
    assert B.split_problems(" zdt1 , dtlz2:m=5 ") == ["zdt1", "dtlz2:m=5"]
    with pytest.raises(ConfigError):
        B.split_problems(" , ")


def test_parse_seeds():
    assert B.parse_seeds(3) == [0, 1, 2]
    assert B.parse_seeds("4") == [0, 1, 2, 3]
    assert B.parse_seeds("3,7,11") == [3, 7, 11]
    assert B.parse_seeds([5, 6]) == [5, 6]
    for bad in (0, "x", "1,1", [], "a,b", "-1", "-1,2", [-3], [1.5], True, "1-3"):
        with pytest.raises(ConfigError, match=r"give a count \(5 runs seeds 0..4\) or a comma-separated list"):
            B.parse_seeds(bad)


# ------------------------------------------------------------------ statistics
def test_holm_by_hand():
    # p sorted: 0.01 (x3) = 0.03; 0.03 (x2) = 0.06; 0.04 (x1) = 0.04 -> monotone 0.06
    np.testing.assert_allclose(B.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(B.holm([0.5, 0.9]), [1.0, 1.0])
    np.testing.assert_allclose(B.holm([0.002]), [0.002])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_holm_properties(p):
    adj = B.holm(p)
    p = np.asarray(p)
    assert np.all(adj >= p - 1e-15) and np.all(adj <= 1.0)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adj[order]) >= -1e-15)  # monotone in the raw p order
    assert np.all(adj <= np.minimum(1.0, len(p) * p) + 1e-15)  # never worse than Bonferroni


def _exact_ranksum_p(x, y):
    """Brute-force two-sided exact p of the rank-sum statistic (no ties)."""
    z = np.concatenate([x, y])
    ranks = np.argsort(np.argsort(z)) + 1
    n = len(x)
    observed = ranks[:n].sum()
    mean = n * (len(z) + 1) / 2
    sums = np.array([sum(c) for c in itertools.combinations(range(1, len(z) + 1), n)])
    return np.mean(np.abs(sums - mean) >= abs(observed - mean) - 1e-12)


def test_compare_to_best_marks_and_p_values():
    rng = np.random.default_rng(0)
    best = 0.9 + 0.01 * rng.random(6)
    worse = 0.5 + 0.01 * rng.random(6)
    close = best + 0.001 * rng.standard_normal(6)
    res = B.compare_to_best({"a": best, "b": worse, "c": close}, higher_is_better=True)
    assert res["a"]["mark"] == "★" or res["c"]["mark"] == "★"
    assert res["b"]["mark"] == "▼"
    top = "a" if res["a"]["mark"] == "★" else "c"
    other = "c" if top == "a" else "a"
    assert res[other]["mark"] == "≈"
    # p-values are the exact rank-sum p (independent brute force), Holm-adjusted over 2 tests
    p_b = _exact_ranksum_p(worse, {"a": best, "c": close}[top])
    assert res["b"]["p"] == pytest.approx(p_b, rel=1e-9)
    raw = [res["b"]["p"], res[other]["p"]]
    np.testing.assert_allclose([res["b"]["p_holm"], res[other]["p_holm"]], B.holm(raw))
    # lower is better (IGD+): the smallest median wins
    res = B.compare_to_best({"a": best, "b": worse}, higher_is_better=False)
    assert res["b"]["mark"] == "★" and res["a"]["mark"] == "▼"


def test_compare_identical_samples_is_not_significant():
    res = B.compare_to_best({"x": [0.0] * 5, "y": [0.0] * 5}, higher_is_better=True)
    assert sorted(m["mark"] for m in res.values()) == ["≈", "★"]


def test_hypervolume_curve_matches_brute_force():
    rng = np.random.default_rng(1)
    F = rng.random((120, 2)) * 1.3
    evals = np.sort(rng.choice(np.arange(1, 201), size=120, replace=False))
    ref = np.array([1.1, 1.1])
    grid = np.array([5, 50, 77, 150, 200])
    curve = B.hypervolume_curve(F, evals, ref, grid)
    for g, v in zip(grid, curve):
        P = F[evals <= g]
        P = P[np.all(P < ref, axis=1)]
        assert v == pytest.approx(moocore.hypervolume(P, ref=ref) if len(P) else 0.0, abs=1e-12)
    assert np.all(np.diff(curve) >= 0)


# ------------------------------------------------------------------ grid runner
GRID = dict(problems=["zdt1:n_var=5", "dtlz2:m=3,n_var=5"], algorithms=["random", "nsga2"], seeds=2,
            budget=60, options={"nsga2": {"pop_size": 10}}, resolve=get_problem)


def test_grid_runs_persists_and_skips(tmp_path):
    out = tmp_path / "b"
    records = B.run_grid(**GRID, out=out)
    assert len(records) == 8 and all("error" not in r for r in records)
    r = next(x for x in records if x["problem"] == "zdt1:n_var=5" and x["algorithm"] == "nsga2" and x["seed"] == 1)
    # the summary agrees with an independent recomputation from the run store
    res = moopt.RunResult.load(str(out / r["store"]))
    assert res.n_results == 60 and res.config["seed"] == 1 and res.config["algorithm"] == "nsga2"
    p = get_problem("zdt1:n_var=5")
    F = res.F
    inside = F[np.all(F < p.ref_point, axis=1)]
    hv = moocore.hypervolume(inside, ref=p.ref_point) if len(inside) else 0.0
    assert r["hv"] == pytest.approx(hv, abs=1e-12)
    assert r["hv_ratio"] == pytest.approx(hv / p.max_hypervolume)
    assert r["igd_plus"] == pytest.approx(moopt.igd_plus(F, p.pareto_front(B.REFERENCE_FRONT_SIZE)))
    assert r["curve_evals"][-1] == 60 and r["curve_hv"][-1] == pytest.approx(r["hv"])
    # rerun: everything is skipped (no store touched)
    mtimes = {f: f.stat().st_mtime_ns for f in out.rglob("*.db")}
    again = B.run_grid(**GRID, out=out)
    assert again == records
    assert {f: f.stat().st_mtime_ns for f in out.rglob("*.db")} == mtimes
    # a larger budget resumes the same stores
    more = B.run_grid(**{**GRID, "budget": 90}, out=out)
    assert all(m["n_results"] == 90 for m in more)
    fresh = B.run_grid(**{**GRID, "budget": 90}, out=tmp_path / "fresh")
    assert [m["hv"] for m in more] == [f["hv"] for f in fresh]


def test_parallel_workers_give_the_serial_results(tmp_path):
    serial = B.run_grid(**GRID, out=tmp_path / "s")
    parallel = B.run_grid(**GRID, out=tmp_path / "p", workers=2)
    key = lambda r: (r["problem"], r["algorithm"], r["seed"])  # noqa: E731
    assert [key(r) for r in serial] == [key(r) for r in parallel]
    assert [r["hv"] for r in serial] == [r["hv"] for r in parallel]
    assert [r["igd_plus"] for r in serial] == [r["igd_plus"] for r in parallel]


def test_grid_validates_before_running(tmp_path):
    with pytest.raises(ConfigError, match="unknown problem"):
        B.run_grid(["zdt9"], ["random"], 1, resolve=get_problem, budget=10, out=tmp_path / "x")
    with pytest.raises(ConfigError, match="unknown algorithm"):
        B.run_grid(["zdt1"], ["nsga9"], 1, resolve=get_problem, budget=10, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="budget"):
        B.run_grid(["zdt1"], ["random"], 1, resolve=get_problem, budget=0, out=tmp_path / "x")
    with pytest.raises(ConfigError, match="true front"):
        plain = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"], lambda q: {"f1": q["x"], "f2": 1 - q["x"]})
        B.run_grid(["plain"], ["random"], 1, resolve=lambda s: plain, budget=10, out=tmp_path / "x")


def test_failed_run_is_reported_and_the_grid_goes_on(tmp_path, monkeypatch):
    from moopt import registry
    from moopt.search.random import RandomSearch

    class Broken(RandomSearch):
        def ask(self, n=1):
            raise RuntimeError("broken search")

    monkeypatch.setitem(registry._ALGORITHMS, "broken-test", Broken)
    recs = B.run_grid(["zdt1:n_var=4"], ["random", "broken-test"], 2, resolve=get_problem, budget=20, out=tmp_path)
    bad = [r for r in recs if "error" in r]
    assert len(bad) == 2 and all("broken search" in r["error"] for r in bad)
    assert all("error" not in r for r in recs if r["algorithm"] == "random")
    rep = B.write_report(recs, tmp_path)
    assert "all 2 runs failed" in rep["markdown"]


@pytest.mark.parametrize("algorithm,options,shown", [
    ("nsga2", {"popsize": 3}, "does not take options ['popsize']; it accepts ['pop_size'"),
    ("nsga2", {"pop_size": "abc"}, "option nsga2.pop_size must be an integer >= 1, got 'abc'; "
                                   "e.g. -o nsga2.pop_size=50"),
    ("nsga2", {"pop_size": -5}, "option nsga2.pop_size must be an integer >= 1, got -5"),
    ("nsga2", {"crossover_prob": 1.5}, "nsga2.crossover_prob must be a number in [0, 1], got 1.5"),
    ("moead", {"n_neighbors": -1}, "moead.n_neighbors must be an integer >= 1"),
    ("moead", {"decomposition": "foo"}, "decomposition 'foo' is unknown; use one of ['pbi', 'tchebicheff']"),
    ("random", {"foo": 1}, "random does not take option 'foo' (-o random.foo=...); it accepts no options"),
    ("reinforce", {"hidden": "abc"}, "reinforce.hidden must be an integer >= 1"),
    ("reinforce", {"lr": 0}, "reinforce.lr must be a finite number > 0"),
    ("deap-nsga2", {"foo": 1}, "it accepts options ['crossover_eta', 'crossover_prob', 'mutation_eta'"),
    ("pls", {}, "pls cannot run on 'zdt1:n_var=4' with no options"),
])
def test_bad_options_are_config_errors_before_anything_runs(tmp_path, algorithm, options, shown):
    with pytest.raises(ConfigError) as exc:
        B.run_grid(["zdt1:n_var=4"], [algorithm], 1, resolve=get_problem, budget=10,
                   options={algorithm: options}, out=tmp_path / "x")
    assert shown in str(exc.value)
    assert not (tmp_path / "x").exists()


def test_options_that_are_not_a_mapping_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="must map option names to values"):
        B.check_grid(["zdt1"], ["nsga2"], 1, resolve=get_problem, options={"nsga2": [1, 2]})
    with pytest.raises(ConfigError, match="algorithms not in the grid: \\['moead'\\]"):
        B.check_grid(["zdt1"], ["nsga2"], 1, resolve=get_problem, options={"moead": {}})


def test_an_output_folder_that_cannot_be_created_is_a_config_error(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="cannot create the output folder"):
        B.run_grid(["zdt1:n_var=4"], ["random"], 1, resolve=get_problem, budget=5, out=tmp_path / "f" / "sub")


def test_report_files(tmp_path):
    recs = B.run_grid(**GRID, out=tmp_path)
    rep = B.write_report(recs, tmp_path)
    names = sorted(p.name for p in rep["files"])
    assert names == ["hv_dtlz2_m=3_n_var=5.png", "hv_zdt1_n_var=5.png", "summary.csv", "summary.md"]
    for p in rep["files"]:
        assert p.stat().st_size > 200
    with open(tmp_path / "summary.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and {r["algorithm"] for r in rows} == {"random", "nsga2"}
    for row in rows:
        mine = [r["hv_ratio"] for r in recs if r["problem"] == row["problem"] and r["algorithm"] == row["algorithm"]]
        assert float(row["hv_ratio_median"]) == pytest.approx(np.median(mine))
        assert row["hv_mark"] in ("★", "▲", "▼", "≈")
    md = (tmp_path / "summary.md").read_text()
    assert md.count("\n| zdt1:n_var=5 |") == 2 and "Holm" in md


def test_cli_bench(tmp_path):
    from click.testing import CliRunner

    from moopt.cli import cli, main

    out = tmp_path / "cli"
    r = CliRunner().invoke(cli, ["bench", "--problems", "zdt1:n_var=4", "--algorithms", "random,nsga2",
                                 "--seeds", "2", "--budget", "30", "--out", str(out), "-o", "nsga2.pop_size=10",
                                 "--no-plots", "-q"])
    assert r.exit_code == 0, r.output
    assert "| zdt1:n_var=4 | nsga2 | 2 |" in r.output
    assert json.loads((out / "grid.json").read_text())["options"] == {"nsga2": {"pop_size": 10}}
    assert len(list(out.rglob("*.db"))) == 4
    assert main(["bench", "--problems", "zdt1", "--out", str(tmp_path / "y"), "-o", "nsga2pop=3"]) == 2
    assert main(["bench", "--problems", "zdt9", "--out", str(tmp_path / "y")]) == 2
    for bad in (["--seeds", "-1"], ["-o", "random.foo=1"], ["-o", "nsga2.pop_size=abc"], ["--algorithms", "nsgaX"]):
        args = ["bench", "--problems", "zdt1", "--algorithms", "random,nsga2", "--seeds", "1", "--budget", "5",
                "--out", str(tmp_path / "z"), "-q", "--no-plots"]
        assert main(args + bad) == 2, bad
        assert not (tmp_path / "z").exists()


def test_quartiles_of_runs_without_a_feasible_point_are_inf_not_nan():
    from moopt.bench.stats import _quartiles

    inf = float("inf")
    assert _quartiles([inf, inf, inf]) == (inf, inf, inf)
    assert _quartiles([1.0, 2.0, inf, inf]) == (inf, 1.75, inf)
    assert _quartiles([1.0, 2.0, 3.0]) == (2.0, 1.5, 2.5)


def test_final_hv_covers_every_paid_evaluation_when_duplicates_are_free(tmp_path):
    """With duplicates free a run holds more results than its budget; the curve's x-axis is
    what the budget counted, so its last point covers the whole run."""
    import moopt
    from moopt.problems import get_problem

    spec = B.RunSpec("nb201:device=pixel3", "nsga2", 0)
    s = B.run_one(spec, budget=60, out=tmp_path, resolve=get_problem, options={"pop_size": 8})
    res = moopt.RunResult.load(str(tmp_path / s["store"]))
    assert res.n_results > res.n_paid == 60  # NSGA-II re-proposed some cells
    p = get_problem(spec.problem)
    F = np.array([[r.objectives[n] for n in p.objective_names] for r in res.records if r.status == "ok"])
    assert s["hv"] == pytest.approx(moopt.hypervolume(F * p.signs, p.ref_point, outside="ignore"), rel=1e-12)
