"""CLI: moopt run / show / plot / hv / demo, resume messages and one-line errors."""

import csv
import io
import json

import moocore
import numpy as np
import pytest

import moopt
from moopt.cli import main

pytest.importorskip("moopt.problems")


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_run_resume_and_complete(tmp_path, capsys):
    db = str(tmp_path / "run.db")
    code, out, err = _run(capsys, "run", "--problem", "zdt1", "--budget", "30", "--seed", "3", "--out", db)
    assert code == 0, err
    assert "evaluations: ok 30" in out and "Resuming" not in err
    code, out, err = _run(capsys, "run", "--problem", "zdt1", "--budget", "45", "--seed", "3", "--out", db)
    assert code == 0 and "Resuming the run in" in err and "30/45" in err
    code, out, err = _run(capsys, "run", "--problem", "zdt1", "--budget", "45", "--seed", "3", "--out", db)
    assert code == 0 and "is complete (45/45" in err
    res = moopt.RunResult.load(db)
    assert res.n_results == 45 and res.config["extra"]["problem_spec"] == "zdt1"
    # identical to an uninterrupted run of 45
    db2 = str(tmp_path / "one.db")
    assert _run(capsys, "run", "--problem", "zdt1", "--budget", "45", "--seed", "3", "--out", db2)[0] == 0
    assert [r.key for r in moopt.RunResult.load(db2).records] == [r.key for r in res.records]


def test_run_other_configuration_is_a_one_line_error(tmp_path, capsys):
    db = str(tmp_path / "run.db")
    assert _run(capsys, "run", "--problem", "zdt1", "--budget", "5", "--out", db)[0] == 0
    code, out, err = _run(capsys, "run", "--problem", "zdt2", "--budget", "5", "--out", db)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "holds another run" in err and "zdt1" in err and "zdt2" in err
    code, out, err = _run(capsys, "run", "--problem", "zdt1", "--budget", "5", "--seed", "9", "--out", db)
    assert code == 2 and "seed" in err


@pytest.mark.parametrize("argv, word", [
    (["run", "--problem", "zdt1", "--out", "x.db"], "budget"),
    (["run", "--problem", "nope", "--budget", "3", "--out", "x.db"], "unknown problem"),
    (["run", "--problem", "zdt1", "--budget", "3", "--algorithm", "nope", "--out", "x.db"], "unknown algorithm"),
    (["run", "--problem", "zdt1", "--budget", "3", "--evaluator", "gpu", "--out", "x.db"], "evaluator"),
    (["run", "--problem", "zdt1", "--budget", "3", "-o", "novalue", "--out", "x.db"], "KEY=VALUE"),
    (["show", "missing.db"], "no run store"),
    (["hv", "missing.csv"], "cannot read"),
])
def test_usage_errors_exit_2_with_one_line(tmp_path, capsys, monkeypatch, argv, word):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and word in err and "Traceback" not in err


def test_show_formats_and_bad_files(tmp_path, capsys):
    db = str(tmp_path / "run.db")
    assert _run(capsys, "run", "--problem", "zdt1", "--budget", "40", "--seed", "1", "--out", db)[0] == 0
    res = moopt.RunResult.load(db)
    code, out, _ = _run(capsys, "show", db)
    assert code == 0 and "problem zdt1, algorithm random, seed 1" in out and "ok 40" in out
    assert f"Pareto front: {len(res.front)} candidates" in out
    code, out, _ = _run(capsys, "show", db, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(res.front) and [float(r["f1"]) for r in rows] == res.front["f1"]
    code, out, _ = _run(capsys, "show", db, "--format", "json")
    data = json.loads(out)
    assert data["counts"]["ok"] == 40 and len(data["front"]) == len(res.front)
    assert data["hypervolume"] == pytest.approx(res.hypervolume())
    code, out, _ = _run(capsys, "show", db, "--history", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 40
    junk = tmp_path / "junk.db"
    junk.write_text("not a database, clearly" * 20)
    code, out, err = _run(capsys, "show", str(junk))
    assert code == 2 and "not an SQLite file" in err and len(err.strip().splitlines()) == 1


def test_plot_writes_pngs(tmp_path, capsys):
    db = str(tmp_path / "run.db")
    assert _run(capsys, "run", "--problem", "zdt1", "--budget", "20", "--out", db)[0] == 0
    code, out, err = _run(capsys, "plot", db, "--out", str(tmp_path / "p"))
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert names == ["front.png", "hypervolume.png"]
    code, out, err = _run(capsys, "plot", db)  # default directory beside the store
    assert code == 0 and (tmp_path / "run-plots" / "front.png").exists()


def test_hv_command(tmp_path, capsys):
    rng = np.random.default_rng(0)
    F = rng.random((30, 2))
    path = tmp_path / "pts.csv"
    path.write_text("loss,acc\n" + "\n".join(f"{a},{b}" for a, b in F))
    code, out, _ = _run(capsys, "hv", str(path), "--ref", "1.1,-0.1", "--directions", "min,max")
    assert code == 0
    expect = moocore.hypervolume(F * [1, -1], ref=[1.1, 0.1])
    assert float(out.split("hypervolume:")[1].split()[0]) == pytest.approx(expect, rel=1e-9)
    code, out, _ = _run(capsys, "hv", str(path))
    assert code == 0 and "reference point (inferred):" in out
    ref = [float(x) for x in out.split("(inferred):")[1].split("\n")[0].split(",")]
    assert float(out.split("hypervolume:")[1].split()[0]) == pytest.approx(moocore.hypervolume(F, ref=ref), rel=1e-6)
    code, out, err = _run(capsys, "hv", str(path), "--ref", "1.1")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_help_for_every_command(capsys):
    for cmd in ("run", "show", "plot", "hv", "demo"):
        code, out, _ = _run(capsys, cmd, "--help")
        assert code == 0 and "Usage:" in out


def test_demo(tmp_path, capsys):
    code, out, err = _run(capsys, "demo", "--out", str(tmp_path / "demo"), "--budget", "300")
    assert code == 0, err
    assert "hypervolume w.r.t." in out and "Pareto front" in out
    assert (tmp_path / "demo" / "front.png").exists() and (tmp_path / "demo" / "front.csv").exists()
    hv = float(out.split("hypervolume w.r.t.")[1].split(":")[1].split()[0])
    assert 0.0 <= hv < 0.8767  # at most the true front's 1.21 - 1/3
    res = moopt.RunResult.load(str(next((tmp_path / "demo").glob("*.db"))))
    assert res.n_results == 300 and hv == pytest.approx(res.hypervolume([1.1, 1.1]), abs=1e-6)
