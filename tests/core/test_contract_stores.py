"""The run-store contract: every store moopt has passes it; broken stores fail the check they break.

moopt has one store class, RunStore (SQLite).  It runs on a file (``moopt run --out``,
``optimize(store="run.db")``) and on ``":memory:"``, with row checksums or without them (what
``optimize(store=None)`` uses); all are checked, the file store also with ``synchronous="full"``.
"""

import pytest

from moopt.store import SCHEMA_VERSION, RunStore
from moopt.testing import (
    STORE_CHECKS,
    StoreContract,
    StoreFactory,
    check_store,
    run_store_check,
    run_store_factory,
    store_cases,
)
from moopt.testing.store_contract import PERSISTENT_ONLY


# ------------------------------------------------------------ the real ones
class TestSQLiteFileStoreContract(StoreContract):
    factory = run_store_factory()


MEMORY = run_store_factory(memory=True)
PRIVATE = run_store_factory(memory=True, checksums=False)  # what optimize(store=None) uses
FULL_SYNC = run_store_factory(synchronous="full")


@pytest.mark.parametrize("check", store_cases(MEMORY))
def test_memory_store_contract(check):
    run_store_check(check, MEMORY)


@pytest.mark.parametrize("check", store_cases(PRIVATE))
def test_memory_store_without_checksums_contract(check):
    run_store_check(check, PRIVATE)


@pytest.mark.parametrize("check", store_cases(FULL_SYNC))
def test_full_sync_store_contract(check, tmp_path):
    run_store_check(check, FULL_SYNC, tmp_path)


def test_applicability_and_factories(tmp_path):
    assert set(store_cases(MEMORY)) == set(STORE_CHECKS) - set(PERSISTENT_ONLY)
    assert store_cases(run_store_factory()) == list(STORE_CHECKS)
    with pytest.raises(ValueError, match="applies only to persistent stores"):
        run_store_check("reopen", MEMORY)
    with pytest.raises(ValueError, match="unknown store contract check"):
        run_store_check("speed", MEMORY)
    with pytest.raises(TypeError, match="store factory"):
        check_store(42)
    # a store class and a plain open() callable are accepted as factories (persistent file stores)
    check_store(RunStore, tmp_path, checks=["roundtrip", "reopen"])
    check_store(RunStore, tmp_path, checks=["roundtrip", "reopen"])  # again in the same directory
    check_store(lambda loc, **kw: RunStore(loc, **kw), tmp_path, checks=["lock"])


# ----------------------------------------------------- broken stores (proof)
class LosesErrorText(RunStore):
    """Keeps the first 200 characters of an error."""

    def record_evaluation(self, candidate_id, key, status, *, error=None, **kw):
        return super().record_evaluation(candidate_id, key, status, error=None if error is None else error[:200], **kw)


class RoundsFloats(RunStore):
    """Stores objective values to 12 significant digits."""

    def record_evaluation(self, candidate_id, key, status, *, objectives=None, **kw):
        if objectives:
            objectives = {k: float(f"{v:.12g}") for k, v in objectives.items()}
        return super().record_evaluation(candidate_id, key, status, objectives=objectives, **kw)


class IdOrder(RunStore):
    """Lists evaluations by candidate id instead of completion order."""

    def evaluations(self):
        return sorted(super().evaluations(), key=lambda r: r.candidate_id)


class FirstCheckpointOnly(RunStore):
    @staticmethod
    def _put_checkpoint(c, state, n_told, now):
        from moopt import serial
        from moopt.store import row_checksum

        v = (1, serial.dumps(state), int(n_told), float(now))
        c.execute("INSERT OR IGNORE INTO checkpoint(id, state, n_told, saved, crc) VALUES (?, ?, ?, ?, ?)",
                  (*v, row_checksum("checkpoint", v)))


class AcceptsAnyConfig(RunStore):
    """Resumes whatever run the store holds, whatever identity it is given."""

    def configure(self, identity, extra=None):
        stored = {k: v for k, v in self.config().items() if k not in ("extra", "created")}
        return super().configure(stored or identity, extra)


class NewestLogFirst(RunStore):
    def logs(self, kind=None):
        return super().logs(kind)[::-1]


class ForgetsToldMarks(RunStore):
    def record_tell(self, candidate_ids, state, *, n_told, logs=()):
        super().record_tell([], state, n_told=n_told, logs=logs)


class StaleRepeatIndex(RunStore):
    """Reads the index of ok evaluations once and never updates it."""

    def lookup_ok(self, key):
        if not hasattr(self, "_frozen"):
            self._frozen = dict(self.conn.execute(
                "SELECT key, MIN(seq) FROM evaluations WHERE status = 'ok' AND cached_from IS NULL GROUP BY key"))
        return self._frozen.get(key)


class OneCandidatePerTransaction(RunStore):
    def record_ask(self, entries, state, **kw):
        for e in entries:
            super().record_ask([e], state, **kw)
        if not entries:
            super().record_ask([], state, **kw)


class AttributeErrorWhenClosed(RunStore):
    @property
    def conn(self):
        return self._conn


class ReadonlyIgnored(RunStore):
    def __init__(self, path=":memory:", *, readonly=False, **kw):
        super().__init__(path, readonly=False, **kw)


class NoLock(RunStore):
    def __init__(self, path=":memory:", *, lock=False, **kw):
        super().__init__(path, lock=False, **kw)


class ValueErrorForForeignFiles(RunStore):
    def __init__(self, path=":memory:", **kw):
        try:
            with open(path, "rb") as fh:
                head = fh.read(16)
        except OSError:
            head = b""
        if head and head != b"SQLite format 3\x00":
            raise ValueError("bad file")
        super().__init__(path, **kw)


class ReadsNewerSchemas(RunStore):
    """Opens a newer schema as if it were its own."""

    def _open(self, conn, memory):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION and not self.readonly:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        super()._open(conn, memory)


BROKEN = [
    (LosesErrorText, "roundtrip", "candidate 0 did not round-trip exactly: error: stored"),
    (RoundsFloats, "roundtrip", "candidate 2 did not round-trip exactly: objectives: stored"),
    (IdOrder, "roundtrip", "completion"),
    (FirstCheckpointOnly, "checkpoint", "not the latest checkpoint"),
    (AcceptsAnyConfig, "configure", "accepted a run with another seed"),
    (NewestLogFirst, "logs", "did not round-trip exactly"),
    (ForgetsToldMarks, "protocol", r"untold\(\) must be \[1, 3\]"),
    (StaleRepeatIndex, "repeated", "right after the ok evaluation"),
    (StaleRepeatIndex, "engine", "was not answered from the store"),
    (OneCandidatePerTransaction, "atomic", "left part of its batch behind"),
    (AttributeErrorWhenClosed, "closed", "raised AttributeError"),
    (ReadonlyIgnored, "reopen", "wrote to a store opened read-only"),
    (NoLock, "lock", "second writer"),
    (ValueErrorForForeignFiles, "bad_files", "raised ValueError"),
    (ReadsNewerSchemas, "bad_files", "newer-schema file opened"),
]


@pytest.mark.parametrize("cls, check, match", [pytest.param(c, k, m, id=f"{c.__name__}-{k}") for c, k, m in BROKEN])
def test_broken_stores_fail_their_check(cls, check, match, tmp_path):
    with pytest.raises(AssertionError, match=match):
        run_store_check(check, run_store_factory(cls), tmp_path)
    assert check in STORE_CHECKS


def test_broken_memory_store_fails_too():
    with pytest.raises(AssertionError, match="store contract check 'roundtrip' failed for RoundsFloats:memory:"):
        check_store(run_store_factory(RoundsFloats, memory=True))


def test_custom_factory_without_newer_schema_hook(tmp_path):
    """A store of another file format can skip the newer-schema case but not the others."""
    f = StoreFactory(lambda loc, **kw: ValueErrorForForeignFiles(loc, **kw), name="custom", make_newer=None)
    with pytest.raises(AssertionError, match="a non-SQLite file"):
        run_store_check("bad_files", f, tmp_path)

