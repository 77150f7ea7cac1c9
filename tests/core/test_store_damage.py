"""A run store notices damage, and a store from someone else cannot act (issue 14).

Each kind of damage is made with sqlite3 or by rewriting bytes, without fixing anything up, and
must raise RunStoreError naming the file, the table and the row -- before a resume writes.
"""

import os
import shutil
import sqlite3
import subprocess

import pytest

import moopt
from moopt.errors import ConfigError, RunStoreError
from moopt.problems import get_problem
from moopt.store import MAX_DEPTH, RunStore


def _run(path, budget=40, seed=0):
    return moopt.optimize(get_problem("zdt1"), "random", budget=budget, seed=seed, store=str(path), progress=False)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    path = tmp_path_factory.mktemp("damage") / "run.db"
    _run(path)
    return path


@pytest.fixture
def copy(finished, tmp_path):
    dst = tmp_path / "copy.db"
    shutil.copy(finished, dst)
    return dst


def _sql(path, *stmts):
    con = sqlite3.connect(path)
    try:
        for s in stmts:
            con.execute(s)
        con.commit()
    finally:
        con.close()


def _snapshot(path):
    res = moopt.RunResult.load(str(path))
    return [(r.seq, r.status, r.objectives, r.params) for r in res.records]


def test_changed_objective_is_detected_on_read_and_before_resume(copy):
    _sql(copy, "UPDATE evaluations SET objectives = replace(objectives, '\"f1\":0.', '\"f1\":0.9') WHERE seq = 17")
    msg = rf"run store {copy} is damaged: evaluations row seq=17 does not match its checksum"
    with pytest.raises(RunStoreError, match=msg):
        moopt.RunResult.load(str(copy))
    before = copy.read_bytes()
    with pytest.raises(RunStoreError, match=msg):
        _run(copy, budget=60)
    assert copy.read_bytes() == before  # a damaged store is not written to


def test_dropped_param_key_is_detected(copy):
    con = sqlite3.connect(copy)
    params = con.execute("SELECT params FROM candidates WHERE id = 5").fetchone()[0]
    con.close()
    if isinstance(params, bytes):  # a space of reals stores a vector: drop its last value
        _sql(copy, "UPDATE candidates SET params = substr(params, 1, length(params) - 8) WHERE id = 5")
    else:
        _sql(copy, "UPDATE candidates SET params = '{}' WHERE id = 5")
    with pytest.raises(RunStoreError, match=rf"{copy} is damaged: candidates row id=5 does not match its checksum"):
        _ = moopt.RunResult.load(str(copy)).records
    with pytest.raises(RunStoreError, match="candidates row id=5"):
        RunStore(copy)


def test_flipped_told_mark_is_detected(copy):
    _sql(copy, "UPDATE evaluations SET told = 0 WHERE seq = 3")
    with pytest.raises(RunStoreError, match="evaluations row seq=3 does not match its checksum"):
        RunStore(copy, lock=True)


def test_changed_checkpoint_and_config_and_logs(copy):
    _sql(copy, "UPDATE checkpoint SET n_told = n_told - 1")
    with pytest.raises(RunStoreError, match="checkpoint row id=1 does not match its checksum"):
        RunStore(copy)
    _sql(copy, "UPDATE checkpoint SET n_told = n_told + 1", "UPDATE config SET extra = '{}'")
    with pytest.raises(RunStoreError, match="config row id=1 does not match its checksum"):
        moopt.RunResult.load(str(copy))


def test_bad_json_names_file_table_row_and_column(copy):
    from moopt.store import row_checksum

    con = sqlite3.connect(copy)
    row = con.execute("SELECT id, identity, extra, created FROM config").fetchone()
    v = (row[0], row[1], '{"budget": 4', row[3])  # a value that is not JSON, with a matching checksum
    con.execute("UPDATE config SET extra = ?, crc = ?", (v[2], row_checksum("config", v)))
    con.commit()
    con.close()
    with pytest.raises(RunStoreError, match=rf"{copy} is damaged: config row id=1, column extra, is not a valid"):
        moopt.RunResult.load(str(copy))


@pytest.mark.parametrize("obj", [
    "CREATE TRIGGER t AFTER INSERT ON evaluations BEGIN UPDATE evaluations SET objectives = '{}'; END",
    "CREATE VIEW v AS SELECT * FROM evaluations",
    "CREATE TABLE notes (x)",
    "CREATE INDEX extra_idx ON candidates(info)",
])
def test_objects_from_elsewhere_are_refused_for_reading_and_writing(copy, obj):
    _sql(copy, obj)
    before = copy.read_bytes()
    for opener in (lambda: moopt.RunResult.load(str(copy)), lambda: RunStore(copy, lock=True),
                   lambda: _run(copy, budget=60)):
        with pytest.raises(RunStoreError, match=rf"run store {copy} holds a (trigger|view|table|index) "
                                                r"'\w+'.*not part of a moopt run store"):
            opener()
    assert copy.read_bytes() == before


def test_changed_schema_sql_is_refused(copy):
    _sql(copy, "PRAGMA writable_schema = ON",
         "UPDATE sqlite_master SET sql = replace(sql, 'told INTEGER NOT NULL DEFAULT 0', "
         "'told INTEGER NOT NULL DEFAULT 1') WHERE name = 'evaluations'")
    with pytest.raises(RunStoreError, match="table 'evaluations' differs from a moopt run store's"):
        moopt.RunResult.load(str(copy))


def _damage_index(path):
    """Flip one byte of an entry of the unique index on evaluations.candidate_id (quick_check passes)."""
    con = sqlite3.connect(path)
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_evaluations_1'").fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * size + size - 5] ^= 0x01
    path.write_bytes(bytes(data))


def test_damaged_index_is_detected_before_writing(copy):
    for suffix in ("-wal", "-shm"):
        assert not os.path.exists(str(copy) + suffix)
    _damage_index(copy)
    con = sqlite3.connect(copy)
    assert con.execute("PRAGMA quick_check").fetchone()[0] == "ok"  # what the tester's damage slipped past
    con.close()
    before = copy.read_bytes()
    with pytest.raises(RunStoreError, match=rf"{copy} is corrupt \(SQLite integrity check: .*index"):
        _run(copy, budget=60)
    assert copy.read_bytes() == before


def _chattr(flag, path):
    if shutil.which("chattr") is None:
        pytest.skip("no chattr")
    if subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr not permitted here")


@pytest.mark.parametrize("where", ["file", "folder"])
def test_readonly_store_shows_and_refuses_to_resume(finished, tmp_path, where):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "run.db"
    shutil.copy(finished, path)
    expected = _snapshot(path)
    target = path if where == "file" else folder
    if os.geteuid() != 0:
        os.chmod(target, 0o555 if where == "folder" else 0o444)
    else:
        _chattr("+i", target)
    try:
        assert _snapshot(path) == expected  # show / RunResult.load reads it as it is
        from moopt.cli import main

        assert main(["show", str(path)]) == 0
        with pytest.raises(RunStoreError, match=rf"cannot write to run store {path}: the "
                                                rf"{'file is' if where == 'file' else 'folder .* is'} read-only.*"
                                                r"copy the store to a writable folder.*chmod"):
            _run(path, budget=60)
        with pytest.raises(RunStoreError, match="cannot write to run store"):
            RunStore(path)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(target)], capture_output=True)
        else:
            os.chmod(target, 0o755 if where == "folder" else 0o644)


def test_big_seed_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "seed.db"
    st = RunStore(path)
    with pytest.raises(ConfigError, match=r"seed 99999999999999999999999 does not fit .*64-bit.*2\*\*63"):
        st.configure({"problem": {"name": "p"}, "algorithm": "random", "options": {}, "seed": 99999999999999999999999})
    assert st.config() == {}
    st.close()
    with pytest.raises((ConfigError, ValueError), match="2\\*\\*63"):
        _run(tmp_path / "seed2.db", seed=2 ** 70)


def test_deep_nesting_is_refused_on_write(tmp_path):
    deep: dict = {}
    d = deep
    for _ in range(10_000):
        d["x"] = {}
        d = d["x"]
    st = RunStore(tmp_path / "deep.db")
    with pytest.raises(ConfigError, match=rf"config.extra is nested more than {MAX_DEPTH} levels deep"):
        st.configure({"problem": {"name": "p"}, "algorithm": "random", "options": {}, "seed": 0}, deep)
    assert st.config() == {}
    st.close()
    with pytest.raises(ConfigError, match="config.extra is nested"):
        moopt.optimize(get_problem("zdt1"), "random", budget=5, seed=0, store=None, progress=False, extra=deep)


def test_undamaged_copy_resumes_and_is_unchanged(copy, finished):
    before = _snapshot(finished)
    res = _run(copy, budget=60)
    assert res.n_paid == 60
    assert _snapshot(copy)[:40] == before
