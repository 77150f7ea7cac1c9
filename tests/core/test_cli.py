"""CLI: moopt run / show / plot / hv / demo, resume messages and one-line errors."""

import csv
import io
import json
import re

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


def _front(res):
    """Brute-force non-dominated set of the stored ok evaluations (both objectives minimized)."""
    F = np.array([[r.objectives["f1"], r.objectives["f2"]] for r in res.records if r.status == "ok"])
    dominated = [bool(np.any(np.all(F <= f, axis=1) & np.any(F < f, axis=1))) for f in F]
    return F[~np.array(dominated)]


def _hv2d(front, ref):
    """Area dominated by a 2-D front (minimization) and bounded by ref: a sweep over f1."""
    pts = sorted((float(a), float(b)) for a, b in front if a < ref[0] and b < ref[1])
    area, best_f2 = 0.0, ref[1]
    for i, (f1, f2) in enumerate(pts):
        if f2 < best_f2:
            nxt = next((a for a, b in pts[i + 1:] if b < f2), ref[0])
            area += (nxt - f1) * (ref[1] - f2)
            best_f2 = f2
    return area


def test_hv2d_oracle():
    assert _hv2d([[0, 2], [1, 1], [2, 0]], [3, 3]) == 1 * 1 + 1 * 2 + 1 * 3  # a staircase of columns
    assert _hv2d([[0.5, 0.5], [1, 1], [4, 0]], [2, 2]) == 2.25


def test_run_resume_and_complete(tmp_path, capsys):
    db = str(tmp_path / "run.db")
    code, out, err = _run(capsys, "run", "--problem", "zdt1", "--budget", "30", "--seed", "3", "--out", db)
    assert code == 0, err
    assert "evaluations: ok 30" in out and "Resuming" not in err
    # the printed front size, reference point and hypervolume are those of the stored evaluations
    front = _front(moopt.RunResult.load(db))
    ideal, nadir = front.min(axis=0), front.max(axis=0)
    ref = nadir + 0.1 * (nadir - ideal)
    m = re.search(r"Pareto front: (\d+) candidates\nhypervolume: (\S+) \(reference point \[(\S+), (\S+)\], inferred\)",
                  out)
    assert m, out
    assert int(m.group(1)) == len(front) > 1
    assert [float(m.group(3)), float(m.group(4))] == pytest.approx(ref, rel=1e-5)
    assert float(m.group(2)) == pytest.approx(_hv2d(front, ref), rel=1e-5)
    assert float(m.group(2)) == pytest.approx(moopt.hypervolume(front, ref=ref), rel=1e-5)
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
    assert _run(capsys, "run", "--problem", "zdt1", "--algorithm", "random", "--budget", "40", "--seed", "1",
                "--out", db)[0] == 0
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
    front = _front(res)
    assert sorted(map(tuple, front)) == sorted((r["f1"], r["f2"]) for r in data["front"])
    ref = data["reference_point"]
    assert ref == pytest.approx(moopt.infer_reference_point(front), rel=1e-12)
    assert data["hypervolume"] == pytest.approx(_hv2d(front, ref), rel=1e-9) and data["hypervolume"] > 0
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
    code, out, err = _run(capsys, "hv", str(path), "--ref", "1.1,-0.1", "--directions", "min,max")
    assert code == 0 and err == f"read 30 points (2 objectives: loss, acc) from {path}\n"
    assert out.startswith("hypervolume:")  # stdout: the result only
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
    """NSGA-II on ZDT1, 4000 evaluations: the printed HV is the stored front's, and a good share of HV*.

    Calibration (pop 40, seeds 0-7): HV/HV* = 0.762-0.907 (seed 0: 0.822); random search with the
    same budget: 0.0, and NSGA-II at 300 evaluations: 0.0 (nothing dominates [1.1, 1.1] yet).
    """
    code, out, err = _run(capsys, "demo", "--out", str(tmp_path / "demo"), "--budget", "4000")
    assert code == 0, err
    assert "Pareto front" in out and "using 'random' instead" not in err
    assert (tmp_path / "demo" / "front.png").exists() and (tmp_path / "demo" / "front.csv").exists()
    m = re.search(r"hypervolume w.r.t. \[1.1, 1.1\]: (\S+) \(true front: (\S+), (\S+)%\)", out)
    assert m, out
    hv, best, pct = float(m.group(1)), float(m.group(2)), float(m.group(3))
    assert best == pytest.approx(1.21 - 1 / 3, abs=1e-6)  # 1.1^2 less the area under f2 = 1 - sqrt(f1), f1 in [0, 1]
    res = moopt.RunResult.load(str(tmp_path / "demo" / "zdt1-nsga2-seed0.db"))
    assert res.n_results == 4000 and res.config["algorithm"] == "nsga2"
    front = _front(res)
    assert hv == pytest.approx(_hv2d(front, [1.1, 1.1]), abs=1e-6)
    assert hv == pytest.approx(moopt.hypervolume(front, ref=[1.1, 1.1], outside="ignore"), abs=1e-6)
    assert pct == pytest.approx(100 * hv / best, abs=0.05)
    assert hv / best >= 0.65, f"NSGA-II reached only {hv / best:.3f} of HV* on ZDT1 in 4000 evaluations"
    rows = list(csv.DictReader(io.StringIO((tmp_path / "demo" / "front.csv").read_text())))
    assert sorted((float(r["f1"]), float(r["f2"])) for r in rows) == sorted(map(tuple, front))
