"""``moopt bench --suite nb201``: the NB201 grid of moopt's own searches through moopt's bench machinery."""

from __future__ import annotations

import json

import pytest

import moopt
from moopt.cli import main
from moopt.cli.bench import SUITES

pytest.importorskip("moopt.problems")


def test_the_nb201_suite_is_the_benchmark_grid():
    grid = SUITES["nb201"]
    assert [p.split("=")[1] for p in grid["problems"]] == ["titanx_1", "raspi4", "pixel3", "fpga", "eyeriss",
                                                         "gold_6226", "panacea"]
    assert {"random", "pls"} <= set(grid["algorithms"]) and grid["budget"] == 1000 and grid["seeds"] == "11"


def test_suite_runs_with_overrides_and_hv_ratio_is_one_minus_regret(tmp_path, capsys):
    out = tmp_path / "b"
    code = main(["bench", "--suite", "nb201", "--problems", "nb201:device=pixel3", "--algorithms", "pls",
                 "--seeds", "1", "--budget", "30", "--out", str(out), "--no-plots", "-q"])
    cap = capsys.readouterr()
    assert code in (0, None), cap.err
    assert "nb201:device=pixel3 | pls | 1 |" in cap.out
    from moopt.problems import get_problem

    problem = get_problem("nb201:device=pixel3")
    res = moopt.RunResult.load(str(next(out.glob("runs/**/*.db"))))
    assert res.config["algorithm"] == "pls" and res.n_paid == 30
    summary = json.loads(next(out.glob("runs/**/*.json")).read_text())
    assert summary["hv_ratio"] == pytest.approx(1 - problem.regret(res), abs=1e-9)
