"""RunStore: schema, configuration checks, the resume protocol's tables, bad files."""

import sqlite3

import pytest

import moopt
from moopt import serial
from moopt.errors import RunStoreError
from moopt.search.base import Candidate
from moopt.store import SCHEMA_VERSION, RunStore


def E(i, key, params, info=None):
    return (i, key, serial.dumps(params), serial.dumps(info or {}))


IDENT = {"problem": {"name": "p", "objectives": [{"name": "f"}]}, "algorithm": "random", "options": {}, "seed": 1}


def _fill(store: RunStore, n: int = 3) -> None:
    store.configure(IDENT, {"budget": 10})
    for i in range(n):
        key = f'{{"x":{i}}}'
        store.record_ask([E(i, key, {"x": i})], {"rng": i, "next_id": i + 1}, n_told=i)
        store.record_evaluation(i, key, "ok", objectives={"f": float(i)}, started=1.0, finished=2.0,
                                worker="main", seed=1)
        store.record_tell([i], {"rng": i, "next_id": i + 1, "told": i + 1}, n_told=i + 1,
                          logs=[{"kind": "stat", "value": i}])


def test_new_store_schema_wal_and_config(tmp_path):
    path = tmp_path / "run.db"
    with RunStore(path) as st:
        assert st.configure(IDENT, {"budget": 5}) is False
        assert st.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert st.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with RunStore(path) as st:
        assert st.configure(IDENT, {"budget": 9}) is True
        cfg = st.config()
        assert cfg["algorithm"] == "random" and cfg["seed"] == 1 and cfg["extra"]["budget"] == 9
        assert st.meta()["format"] == "moopt-runstore"


@pytest.mark.parametrize("change, word", [({"seed": 2}, "seed"), ({"algorithm": "nsga2"}, "algorithm"),
                                          ({"problem": {"name": "q", "objectives": []}}, "problem")])
def test_other_configuration_is_refused(tmp_path, change, word):
    path = tmp_path / "run.db"
    with RunStore(path) as st:
        st.configure(IDENT)
    with RunStore(path) as st:
        with pytest.raises(RunStoreError, match=f"holds another run: {word}"):
            st.configure({**IDENT, **change})
        assert st.config()["seed"] == 1  # untouched


def test_protocol_tables_latest_checkpoint_only(tmp_path):
    with RunStore(tmp_path / "run.db") as st:
        _fill(st, 4)
        st.record_ask([E(4, "k4", {"x": 4}, {"step": 2}), E(5, "k5", {"x": 5})], {"rng": 99}, n_told=4)
        st.record_evaluation(5, "k5", "failed", error="boom", attempts=2)
        assert st.conn.execute("SELECT COUNT(*) FROM checkpoint").fetchone()[0] == 1
        assert st.checkpoint() == ({"rng": 99}, 4)
        assert st.pending() == [(4, {"x": 4}, {"step": 2})]
        [untold] = st.untold()
        assert (untold.candidate_id, untold.status, untold.error, untold.attempts) == (5, "failed", "boom", 2)
        assert st.counts() == {"ok": 4, "failed": 1, "pruned": 0, "cached": 0, "pending": 1}
        logs = st.logs()
        assert [lg["value"] for lg in logs] == [0, 1, 2, 3] and logs[2]["n_told"] == 3
        assert st.lookup_ok('{"x":2}') == 3 and st.lookup_ok("k5") is None


def test_cached_rows_reference_the_original(tmp_path):
    with RunStore(tmp_path / "run.db") as st:
        _fill(st, 2)
        orig = st.lookup_ok('{"x":1}')
        st.record_ask([E(7, '{"x":1}', {"x": 1})], {"s": 1}, n_told=2, cached=[(7, orig)])
        rec = st.untold()[0]
        assert rec.cached_from == orig and rec.objectives == {"f": 1.0} and rec.worker == "cache"
        assert st.lookup_ok('{"x":1}') == orig  # the original stays the reference
        assert st.counts()["cached"] == 1


def test_second_writer_is_locked_out(tmp_path):
    path = tmp_path / "run.db"
    with RunStore(path, lock=True):
        with pytest.raises(RunStoreError, match="in use"):
            RunStore(path, lock=True)
    RunStore(path, lock=True).close()  # released


def test_not_sqlite_file(tmp_path):
    p = tmp_path / "notes.db"
    p.write_text("hello, this is not a database at all" * 10)
    with pytest.raises(RunStoreError, match="not an SQLite file"):
        RunStore(p)


def test_foreign_sqlite_file(tmp_path):
    p = tmp_path / "other.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE foo (x)")
    con.commit()
    con.close()
    with pytest.raises(RunStoreError, match="not a moopt run store"):
        RunStore(p)


def test_newer_and_unknown_schema(tmp_path):
    p = tmp_path / "run.db"
    RunStore(p).close()
    con = sqlite3.connect(p)
    con.execute("PRAGMA user_version = 7")
    con.commit()
    con.close()
    with pytest.raises(RunStoreError, match="newer moopt"):
        RunStore(p)
    con = sqlite3.connect(p)
    con.execute("PRAGMA user_version = 0")
    con.commit()
    con.close()
    with pytest.raises(RunStoreError, match="unknown run-store schema"):
        RunStore(p)


def test_corrupt_file_gives_runstoreerror(tmp_path):
    p = tmp_path / "run.db"
    with RunStore(p) as st:
        st.configure(IDENT)
        for i in range(300):
            st.record_ask([E(i, f"k{i}", {"x": "y" * 200, "i": i})], {"s": i}, n_told=0)
        st.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(p.read_bytes())
    assert len(data) > 8 * 4096
    for off in range(4096, len(data) - 4096, 2048):  # scribble over every page but the header
        data[off:off + 64] = b"\xff" * 64
    p.write_bytes(bytes(data))
    with pytest.raises(RunStoreError):
        with RunStore(p) as st:
            st.evaluations()
            st.pending()
    with pytest.raises(RunStoreError):
        moopt.RunResult.load(str(p))


def test_truncated_file(tmp_path):
    p = tmp_path / "run.db"
    with RunStore(p) as st:
        _fill(st, 50)
        st.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2 + 100])
    with pytest.raises(RunStoreError):
        with RunStore(p) as st:
            st.evaluations()


def test_missing_and_readonly(tmp_path):
    with pytest.raises(RunStoreError, match="no run store"):
        RunStore(tmp_path / "nope.db", readonly=True)
    with pytest.raises(RunStoreError, match="directory"):
        RunStore(tmp_path)
    p = tmp_path / "run.db"
    with RunStore(p) as st:
        _fill(st, 2)
    with RunStore(p, readonly=True) as st:
        assert len(st.evaluations()) == 2
        with pytest.raises(RunStoreError, match="read-only"):
            st.record_tell([0], {"s": 0}, n_told=1)


def test_state_must_be_json(tmp_path):
    with RunStore(tmp_path / "run.db") as st:
        st.configure(IDENT)
        with pytest.raises(TypeError, match="state_dict"):
            st.record_ask([E(0, "k", {"x": 0})], {"bad": object()}, n_told=0)
        assert st.n_candidates() == 0  # the transaction was rolled back


def test_candidate_objects_round_trip(tmp_path):
    # params with tuples (token sequences) come back as lists; the engine re-validates them
    with RunStore(tmp_path / "run.db") as st:
        st.configure(IDENT)
        c = Candidate(0, {"seq": ("a", "b")}, {"step": 1})
        st.record_ask([E(c.id, "k", dict(c.params), dict(c.info))], {"s": 0}, n_told=0)
        assert st.pending() == [(0, {"seq": ["a", "b"]}, {"step": 1})]


def test_add_log_appends_an_entry_that_survives_reopening_and_resume(tmp_path):
    import moopt

    db = str(tmp_path / "run.db")
    p = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"], lambda q: {"f1": q["x"], "f2": 1 - q["x"]})
    moopt.optimize(p, "random", budget=4, seed=0, store=db)
    with RunStore(db) as st:
        st.add_log("final_training", {"id": 2, "val_acc": 0.5, "shape": (1, 8, 8)})
        with pytest.raises(ValueError, match="non-empty string"):
            st.add_log("", {})
    res = moopt.optimize(p, "random", budget=6, seed=0, store=db)  # resume: the entry stays, once
    with RunStore(db, readonly=True) as st:
        entries = st.logs("final_training")
    assert res.n_paid == 6 and len(entries) == 1
    assert entries[0]["id"] == 2 and entries[0]["val_acc"] == 0.5 and entries[0]["n_told"] == 4


def test_large_checkpoint_arrays_are_appended_and_read_back_exactly(tmp_path):
    import numpy as np

    path = tmp_path / "run.db"
    rng = np.random.default_rng(0)
    hist = rng.random((3000, 3))
    with RunStore(path) as st:
        st.configure(IDENT)
        for n in (1000, 2000, 2000, 3000):  # grows, stays, grows
            st.record_tell([], {"F": hist[:n], "small": np.arange(3), "n": n}, n_told=n)
            state, n_told = st.checkpoint()
            assert n_told == n and np.array_equal(state["F"], hist[:n]) and state["small"].tolist() == [0, 1, 2]
        parts = st.conn.execute("SELECT COUNT(*) FROM checkpoint_arrays WHERE name = 'F'").fetchone()[0]
        assert parts == 3  # one part per growth, not the whole history each time
        with pytest.raises(TypeError):  # a failing checkpoint leaves the last one intact
            st.record_tell([], {"F": rng.random((3500, 3)), "bad": object()}, n_told=9)
        assert np.array_equal(st.checkpoint()[0]["F"], hist)
        other = rng.random((2500, 3))  # not an extension: rewritten
        st.record_tell([], {"F": other}, n_told=10)
        assert np.array_equal(st.checkpoint()[0]["F"], other)
    with RunStore(path) as st:  # a new session knows nothing of the parts: rewrites, then appends
        assert np.array_equal(st.checkpoint()[0]["F"], other)
        more = np.vstack([other, rng.random((700, 3))])
        st.record_tell([], {"F": more}, n_told=11)
        st.record_tell([], {"G": more}, n_told=12)  # F no longer in the state: dropped
        state, _ = st.checkpoint()
        assert "F" not in state and np.array_equal(state["G"], more)
        assert st.conn.execute("SELECT COUNT(*) FROM checkpoint_arrays WHERE name = 'F'").fetchone()[0] == 0


def test_private_memory_store_skips_row_checksums_and_optimize_writes_no_checkpoint(tmp_path, monkeypatch):
    import moopt
    from moopt.problems import get_problem

    with pytest.raises(ValueError, match="only for an in-memory store"):
        RunStore(str(tmp_path / "run.db"), checksums=False)
    calls = []
    real = RunStore._put_checkpoint
    monkeypatch.setattr(RunStore, "_put_checkpoint", lambda self, *a: (calls.append(self.path), real(self, *a))[1])
    p = get_problem("zdt1:n_var=5")
    private = moopt.optimize(p, "nsga2", budget=60, seed=1, pop_size=10, progress=False)
    assert calls == []  # nobody can resume a store of its own in memory
    stored = moopt.optimize(p, "nsga2", budget=60, seed=1, pop_size=10, progress=False, store=str(tmp_path / "r.db"))
    assert len(calls) > 1
    assert [(r.params, r.objectives, r.told, r.status) for r in private.records] == \
        [(r.params, r.objectives, r.told, r.status) for r in stored.records]
    with RunStore(":memory:", checksums=False) as st:
        st.configure({"problem": {"name": "p"}, "algorithm": "a", "options": {}, "seed": 0})
        st.record_ask([(0, "k", '{"x":1}', "{}")], None, n_told=0)
        st.record_evaluation(0, "k", "ok", objectives={"f": 1.0})
        assert st.conn.execute("SELECT crc FROM evaluations").fetchone()[0] == b""
        assert st.record(1).objectives == {"f": 1.0}  # read without a checksum to check


@pytest.mark.parametrize("checksums", [True, False])
def test_record_new_values_writes_the_rows_record_answers_writes(checksums):
    import numpy as np

    from moopt.store import _dumps_values, vector_key

    X = np.array([[0.25, 0.5], [0.125, 1.0 / 3.0], [0.75, 0.1]])
    F = np.array([[1.0, 2.5], [0.1 + 0.2, 1e-300], [3.0, -0.0]])
    G = np.array([[-1.0], [0.5], [0.0]])
    keys = [vector_key(x) for x in X]
    rows = {}
    for how in ("answers", "values"):
        st = RunStore(":memory:", checksums=checksums)
        st.configure({"problem": {"name": "p"}, "algorithm": "a", "options": {}, "seed": 0})
        st.record_ask([(i, k, k, "{}") for i, k in enumerate(keys)], None, n_told=0)
        if how == "answers":
            st.record_answers([("row", (i, k, "ok", _dumps_values({"f1": f[0], "f2": f[1]}), _dumps_values({"g": g[0]}),
                                        None, None, 5.0, 6.0, "main", 7, 1))
                               for i, (k, f, g) in enumerate(zip(keys, F.tolist(), G.tolist()))])
        else:
            assert st.record_new_values([0, 1, 2], keys, F, G, objective_names=["f1", "f2"], constraint_names=["g"],
                                        started=5.0, finished=6.0, worker="main", seed=7) == [1, 2, 3]
        rows[how] = st.conn.execute("SELECT * FROM evaluations ORDER BY seq").fetchall()
        assert st.lookup_ok(keys[1]) == 2
        st.close()
    assert rows["answers"] == rows["values"]
    st = RunStore(":memory:")
    with pytest.raises(ValueError, match="finite objective values"):
        st.record_new_values([0], keys[:1], np.array([[np.nan, 1.0]]), None, objective_names=["f1", "f2"],
                             started=0.0, finished=0.0, worker="main", seed=0)
