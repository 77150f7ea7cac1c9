"""What a run costs as it grows: bytes per evaluation, old stores refused, lean reports equal to full ones.

Timings are benchmarks (benchmarks/bench_store_growth.py); these tests check sizes and equality.
"""

import sqlite3

import numpy as np
import pytest
from engine_support import zdt1_problem
from test_engine_batch import vec_zdt1

import moopt
from moopt.errors import RunStoreError
from moopt.indicators import hypervolume
from moopt.result import RunResult
from moopt.store import SCHEMA_VERSION, RunStore


def test_bytes_per_evaluation_of_a_30_variable_random_search(tmp_path):
    path = tmp_path / "run.db"
    res = moopt.optimize(vec_zdt1(30), "random", budget=2000, seed=0, store=str(path))
    assert res.n_paid == 2000
    assert not (tmp_path / "run.db-wal").exists() or (tmp_path / "run.db-wal").stat().st_size == 0
    per_eval = path.stat().st_size / 2000
    assert per_eval < 1500, f"{per_eval:.0f} bytes per evaluation"


def test_bytes_per_evaluation_with_json_params(tmp_path):
    """A problem evaluated one candidate at a time (params stored as JSON text) stays under the bar too."""
    path = tmp_path / "run.db"
    moopt.optimize(zdt1_problem(30), "random", budget=1000, seed=0, store=str(path))
    assert path.stat().st_size / 1000 < 1500


def _make_v1(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    con.executemany("INSERT INTO meta VALUES (?, ?)", [("format", "moopt-runstore"), ("schema_version", "1"),
                                                        ("moopt_version", "0.1.0")])
    con.execute("CREATE TABLE candidates (id INTEGER PRIMARY KEY, key TEXT NOT NULL, params TEXT NOT NULL, "
                "info TEXT NOT NULL, asked REAL NOT NULL)")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()


@pytest.mark.parametrize("mode", [{}, {"readonly": True}, {"lock": True}])
def test_old_schema_store_is_refused_with_a_message(tmp_path, mode):
    assert SCHEMA_VERSION > 1
    path = tmp_path / "old.db"
    _make_v1(path)
    want = rf"older moopt \(run-store schema 1; this moopt reads schema {SCHEMA_VERSION}.*0\.1\.0.*another path"
    with pytest.raises(RunStoreError, match=want):
        RunStore(path, **mode)


def test_old_schema_is_refused_by_show(tmp_path, capsys):
    from moopt.cli import main

    path = tmp_path / "old.db"
    _make_v1(path)
    assert main(["show", str(path)]) != 0
    assert "older moopt" in capsys.readouterr().err


def _eager(res: RunResult) -> RunResult:
    return RunResult(res.config, res.records, counts=res.counts, logs=res.logs)


@pytest.mark.parametrize("constrained", [False, True])
def test_lazy_result_equals_the_full_one(tmp_path, constrained):
    path = str(tmp_path / "run.db")
    p = vec_zdt1(8, constrained=constrained, nan_above=0.95)
    moopt.optimize(p, "random", budget=300, seed=1, store=path)
    moopt.optimize(p, "random", budget=300, seed=1, store=path)  # a finished-run resume changes nothing
    lazy = RunResult.load(path)
    assert lazy._records is None  # nothing but the columns read yet
    front = lazy.front.to_dicts()
    assert lazy._records is None  # the front's records read alone
    eager = _eager(RunResult.load(path))
    assert front == eager.front.to_dicts()
    assert [r.seq for r in lazy.front_records] == [r.seq for r in eager.front_records]
    assert np.array_equal(lazy.F, eager.F) and np.array_equal(lazy.front_F, eager.front_F)
    assert np.array_equal(lazy.hypervolume_history(), eager.hypervolume_history())
    assert lazy.summary() == eager.summary()
    assert (lazy.n_paid, lazy.n_results, lazy.status) == (eager.n_paid, eager.n_results, eager.status)
    assert lazy.history.to_dicts() == eager.history.to_dicts()


def test_hypervolume_history_matches_the_definition():
    p = vec_zdt1(4, constrained=True, nan_above=0.9)
    res = moopt.optimize(p, "random", budget=200, seed=7)
    ref = np.array([1.1, 8.0])
    hv = res.hypervolume_history(ref)
    want = []
    pts = []
    for r in res.records:
        if r.status == "ok" and r.cached_from is None and all(v <= 0 for v in (r.constraints or {}).values()):
            pts.append([r.objectives["f1"], r.objectives["f2"]])
        want.append(hypervolume(np.array(pts), ref, outside="ignore") if pts else 0.0)
    assert np.allclose(hv, want, rtol=0, atol=1e-12)


def test_result_of_a_closed_file_store_reads_its_records_from_the_file(tmp_path):
    path = str(tmp_path / "run.db")
    res = moopt.optimize(vec_zdt1(), "random", budget=20, seed=0, store=path)
    n = len(res.front_records)
    moopt.optimize(vec_zdt1(), "random", budget=30, seed=0, store=path)  # the store grows meanwhile
    assert len(res.records) == 20 and len(res.front_records) == n  # what the result saw, no more


def test_in_memory_result_keeps_its_records():
    res = moopt.optimize(vec_zdt1(), "random", budget=20, seed=0)
    assert len(res.records) == 20 and res.front.to_dicts()
    with RunStore(":memory:") as st:
        r2 = moopt.optimize(vec_zdt1(), "random", budget=20, seed=0, store=st)
    assert len(r2.records) == 20  # read before the caller's store closed
