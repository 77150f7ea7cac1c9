"""``algorithm="auto"``: the rule, the default of ``optimize`` and ``moopt run``, and that it says what it picked."""

from __future__ import annotations

import logging

import pytest

import moopt
from moopt.cli import main
from moopt.registry import choose_algorithm, get_algorithm


def _two(q: dict) -> dict:
    x = sum(float(v) if not isinstance(v, str) else len(v) for v in q.values() if not isinstance(v, tuple))
    return {"f1": x, "f2": -x}


def categorical() -> moopt.Problem:
    return moopt.Problem([moopt.Categorical("a", ["x", "yy", "zzz"]), moopt.Integer("b", 0, 4)], ["f1", "f2"], _two)


def real(constraints=()) -> moopt.Problem:
    def f(q):
        out = _two(q)
        if constraints:
            out["g"] = q["x"] - 0.5
        return out

    return moopt.Problem([moopt.Real("x", 0, 1), moopt.Real("y", 0, 1)], ["f1", "f2"], f, constraints=constraints)


def mixed() -> moopt.Problem:
    return moopt.Problem([moopt.Real("x", 0, 1), moopt.Categorical("a", ["u", "v"])], ["f1", "f2"], _two)


def fixed_tokens() -> moopt.Problem:
    return moopt.Problem([moopt.TokenSequence("s", ("p", "q"), 4, 4)], ["f1", "f2"],
                         lambda q: {"f1": q["s"].count("p"), "f2": q["s"].count("q")})


def growable() -> moopt.Problem:
    return moopt.Problem([moopt.TokenSequence("s", ("p", "q"), 1, 4)], ["f1", "f2"],
                         lambda q: {"f1": len(q["s"]), "f2": -len(q["s"])})


@pytest.mark.parametrize("make, budget, expected", [
    (categorical, 300, "pls"),
    (categorical, None, "pls"),
    (fixed_tokens, 50, "pls"),
    (real, 5000, "moead"),
    (real, None, "moead"),
    (real, 300, "nsga2"),
    (lambda: real(("g",)), 5000, "nsga2"),
    (mixed, 5000, "nsga2"),
    (growable, 100, "progressive"),
])
def test_the_rule_on_representative_problems(make, budget, expected):
    name, reason = choose_algorithm(make(), budget)
    assert name == expected
    assert reason  # it says why


def test_nb201_is_categorical_so_auto_picks_pls():
    problems = pytest.importorskip("moopt.problems")
    p = problems.get_problem("nb201:device=pixel3")  # has a progressive space too: discrete wins
    assert choose_algorithm(p, 300)[0] == "pls"


def test_every_pick_builds_on_its_problem():
    for make in (categorical, real, mixed, fixed_tokens, growable):
        p = make()
        for budget in (100, 5000):
            get_algorithm(choose_algorithm(p, budget)[0])(p, seed=0)


def test_optimize_without_algorithm_runs_the_pick_and_records_it(caplog):
    p = categorical()
    with caplog.at_level(logging.INFO, logger="moopt"):
        res = moopt.optimize(p, budget=12, seed=0)
    assert res.n_paid == 12
    assert res.config["algorithm"] == "pls"
    assert res.config["extra"]["auto"]["picked"] == "pls"
    assert "algorithm auto: picked pls" in caplog.text


def test_optimize_auto_on_reals_and_resume_keeps_the_pick(tmp_path):
    p = real()
    db = str(tmp_path / "r.db")
    first = moopt.optimize(p, budget=40, seed=1, store=db)
    assert first.config["algorithm"] == "nsga2"  # budget < 1000
    again = moopt.optimize(p, "auto", budget=40, seed=1, store=db)
    assert again.resumed and again.n_paid == 40


def test_cli_run_defaults_to_auto_and_prints_the_pick(tmp_path, capsys):
    out = tmp_path / "run.db"
    code = main(["run", "--problem", "nb201:device=pixel3", "--budget", "15", "--out", str(out), "--no-progress"])
    cap = capsys.readouterr()
    assert code in (0, None)
    assert "Algorithm auto: picked pls" in cap.err
    cfg = moopt.RunResult.load(str(out)).config
    assert cfg["algorithm"] == "pls" and cfg["extra"]["auto"]["picked"] == "pls"
