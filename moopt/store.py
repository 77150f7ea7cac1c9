"""The run store: one SQLite file holding a run's configuration, every evaluation,
the search's latest checkpoint and its logs.

The store is the single source of truth for resume and reports.  Every write
is a transaction (WAL journal, ``synchronous=NORMAL``): a committed evaluation
survives the process being killed at any moment (``SIGKILL``); only a power
loss can roll back the last few commits.

Tables (schema version :data:`SCHEMA_VERSION`, in ``PRAGMA user_version`` and
the ``meta`` table):

* ``meta``: format name, schema version, moopt version, creation time.
* ``config``: the run's identity (problem, algorithm, options, seed) and extra
  settings (budget, problem spec).  A second run with another identity is refused.
* ``candidates``: every asked candidate (id, params, info; ``key``, its canonical
  encoding, only when it differs from the params text, which it is for every
  valid candidate: the engine stores the canonical encoding as the params).
* ``evaluations``: one row per finished candidate, in completion order
  (``seq``): status ``ok``/``failed``/``pruned``, objective and constraint
  values, metrics, error text, start/end times, worker, seed, attempts,
  ``cached_from`` (the ``seq`` of the evaluation it was answered from) and
  ``told`` (whether the checkpointed search state has seen it), and ``key``:
  the 16-byte BLAKE2b digest of the candidate's canonical encoding
  (:func:`key_digest`), under which a repeated candidate is found.  Status
  ``pruned`` marks a candidate outside the search space
  (:class:`~moopt.errors.OutsideSpaceError`); a repeat of an ok or an outside
  candidate is a cached row (the original's values and error, ``cached_from``);
  ``attempts`` is 0 for rows the engine wrote without running anything (cached
  answers, invalid parameters).
  The paid evaluations (:meth:`RunStore.n_paid`) are the ok and failed rows with
  ``attempts > 0`` and no ``cached_from``.
* ``checkpoint``: the search's latest ``state_dict`` only (one row, replaced).  Its
  large top-level arrays are kept in ``checkpoint_arrays`` as parts appended while
  an array only grows (a search's history of told values), so a checkpoint costs
  what changed since the previous one, not the whole history again.
* ``logs``: statistics the search recorded with :meth:`moopt.Search.log`.

Every row carries ``crc``, an 8-byte BLAKE2b checksum of its other columns
(:func:`row_checksum`; an evaluation's ``told`` mark appends one byte), checked
whenever the row is read: a changed value raises :class:`~moopt.errors.RunStoreError`
naming the file, the table and the row.  A store opened for writing (a resume) is
checked whole before anything is written (SQLite's ``integrity_check``, every
checksum, the links between rows); one found damaged is left as it is.  A store
holding anything but this schema's tables and indices (a trigger, a view) is
refused, for reading and for writing: it was made or changed by another program.

Example:
    >>> from moopt.store import RunStore
    >>> store = RunStore(":memory:")
    >>> store.configure({"problem": {"name": "p"}, "algorithm": "random", "options": {}, "seed": 0})
    False
    >>> store.n_results()
    0
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np

from . import serial
from .errors import ConfigError, RunStoreError, is_outside_space

#: Version of the layout below.  2: params stored once, the repeat key as a 16-byte digest
#: (about a third of version 1's size per evaluation).  3 (this version): every row carries a
#: checksum (``crc``, see :func:`row_checksum`) verified when it is read.
#: Stores of another version are refused with a message saying which (no migration).
SCHEMA_VERSION = 3
FORMAT_NAME = "moopt-runstore"
_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, crc BLOB NOT NULL);
CREATE TABLE config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    identity TEXT NOT NULL,
    extra TEXT NOT NULL,
    created REAL NOT NULL,
    crc BLOB NOT NULL
);
CREATE TABLE candidates (
    id INTEGER PRIMARY KEY,
    params TEXT NOT NULL,
    key TEXT,
    info TEXT NOT NULL,
    asked REAL NOT NULL,
    crc BLOB NOT NULL
);
CREATE TABLE evaluations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id INTEGER NOT NULL UNIQUE REFERENCES candidates(id),
    key BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'pruned')),
    objectives TEXT,
    constraints TEXT,
    metrics TEXT,
    error TEXT,
    started REAL,
    finished REAL,
    worker TEXT,
    seed INTEGER,
    attempts INTEGER NOT NULL DEFAULT 1,
    cached_from INTEGER REFERENCES evaluations(seq),
    told INTEGER NOT NULL DEFAULT 0,
    crc BLOB NOT NULL
);
CREATE INDEX evaluations_ok_key ON evaluations(key) WHERE status = 'ok' AND cached_from IS NULL;
CREATE INDEX evaluations_untold ON evaluations(told) WHERE told = 0;
CREATE TABLE checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    state TEXT NOT NULL,
    n_told INTEGER NOT NULL,
    saved REAL NOT NULL,
    crc BLOB NOT NULL
);
CREATE TABLE checkpoint_arrays (
    name TEXT NOT NULL,
    part INTEGER NOT NULL,
    data BLOB NOT NULL,
    crc BLOB NOT NULL,
    PRIMARY KEY (name, part)
);
CREATE TABLE logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    n_told INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    time REAL NOT NULL,
    crc BLOB NOT NULL
);
"""

#: SQL condition on ``evaluations`` selecting the paid ones (see :meth:`RunStore.n_paid`).
PAID_SQL = "status IN ('ok', 'failed') AND cached_from IS NULL AND attempts > 0"

_EVAL_COLUMNS = (
    "e.seq, e.candidate_id, c.key, e.status, e.objectives, e.constraints, e.metrics, e.error, "
    "e.started, e.finished, e.worker, e.seed, e.attempts, e.cached_from, e.told, c.params, c.info, "
    "e.key, e.crc, c.asked, c.crc"
)
#: an evaluations row in table order: 14 checked values, then ``told`` and ``crc``
_EVAL_ROW = ("seq, candidate_id, key, status, objectives, constraints, metrics, error, started, finished, "
             "worker, seed, attempts, cached_from, told, crc")
_CAND_ROW = "id, params, key, info, asked, crc"
_EVAL_INSERT = _EVAL_ROW.replace(", told", "")
_EVAL_QMARKS = ", ".join("?" * 15)

#: ``person`` of each table's checksum, so a row copied into another table does not match
_TAGS = {"meta": b"moopt/meta", "config": b"moopt/config", "candidates": b"moopt/cand",
         "evaluations": b"moopt/eval", "checkpoint": b"moopt/ckpt", "checkpoint_arrays": b"moopt/ckarr",
         "logs": b"moopt/logs"}
_TOLD = b"\x01"  # appended to an evaluation's checksum when it is marked told
_INT64 = (-2 ** 63, 2 ** 63 - 1)
#: deepest nesting of lists/dicts a stored configuration may have
MAX_DEPTH = 100


def row_checksum(table: str, values: tuple) -> bytes:
    """The 8-byte checksum a row of ``table`` carries in its ``crc`` column.

    ``values`` are the row's other columns in table order (an evaluation's without
    ``told``, which appends ``b"\\x01"`` to the checksum when 1), as SQLite returns
    them: BLAKE2b of their ``repr``, personalized by the table.

    Example:
        >>> len(row_checksum("meta", ("format", "moopt-runstore")))
        8
    """
    return hashlib.blake2b(repr(values).encode("utf-8", "surrogatepass"), digest_size=8,
                           person=_TAGS[table]).digest()


def _real(x):
    """A value bound to a REAL column, as SQLite gives it back."""
    if x is None or type(x) is float:
        return x
    return float(x) if isinstance(x, (int, float, np.integer, np.floating)) else x


def _integer(x):
    """A value bound to an INTEGER column, as SQLite gives it back (an integral float becomes an int)."""
    if x is None or type(x) is int:
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, float) and x.is_integer() and _INT64[0] <= x <= _INT64[1]:
        return int(x)
    return x


def _text(x):
    """A value bound to a TEXT column, as SQLite gives it back (numbers become their SQL text)."""
    if x is None or isinstance(x, (str, bytes)):
        return x
    return str(x)


def _eval_row(seq, cid, digest, status, objectives, constraints, metrics, error, started, finished,
              worker, seed, attempts, cached_from, *, crc: bool = True) -> tuple:
    """An evaluations row ready to insert (told = 0), its checksum last (empty without ``crc``)."""
    v = (int(seq), int(cid), bytes(digest), _text(status), objectives, constraints, metrics, _text(error),
         _real(started), _real(finished), _text(worker), _integer(seed), int(attempts),
         None if cached_from is None else int(cached_from))
    return (*v, row_checksum("evaluations", v) if crc else b"")


def _cand_row(cid, params, key, info, asked, *, crc: bool = True) -> tuple:
    v = (int(cid), params, key, info, float(asked))
    return (*v, row_checksum("candidates", v) if crc else b"")


def _eval_sound(r) -> bool:
    """Whether an evaluations row (table order, ``told`` and ``crc`` last) matches its checksum."""
    c = hashlib.blake2b(repr(r[:14]).encode("utf-8", "surrogatepass"), digest_size=8,
                        person=b"moopt/eval").digest()
    told = r[14]
    return r[15] == c if told == 0 else (told == 1 and r[15] == c + _TOLD)


def _check_depth(obj, what: str, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON values nested deeper than ``limit`` (json would recurse past Python's limit)."""
    todo = [(obj, 1)]
    while todo:
        o, d = todo.pop()
        if isinstance(o, Mapping):
            items: Iterable = o.values()
        elif isinstance(o, (list, tuple)):
            items = o
        else:
            continue
        if d > limit:
            raise ConfigError(f"{what} is nested more than {limit} levels deep; a run store keeps JSON "
                              f"values nested at most {limit} levels (lists and dicts).")
        todo.extend((v, d + 1) for v in items)


def _told_crc(crc):
    """SQL ``moopt_told(crc)``: an evaluation's checksum once it is marked told."""
    return None if crc is None else bytes(crc) + _TOLD


@functools.lru_cache(maxsize=1)
def _expected_master() -> dict:
    """``(type, name) -> (tbl_name, sql)`` of every table and index of this schema."""
    conn = sqlite3.connect(":memory:")
    try:
        for stmt in _SCHEMA.strip().split(";"):
            if stmt.strip():
                conn.execute(stmt)
        return {(t, n): (tb, q) for t, n, tb, q in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")}
    finally:
        conn.close()


def _check_seed(seed) -> None:
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        return
    if not _INT64[0] <= int(seed) <= _INT64[1]:
        raise ConfigError(f"seed {seed} does not fit a run store's 64-bit integers (from -2**63 to 2**63 - 1 = "
                          f"{_INT64[1]}); pass a smaller seed.")


@dataclass(frozen=True)
class EvaluationRecord:
    """One stored evaluation (a row of ``evaluations`` joined with its candidate).

    ``objectives``/``constraints`` are in the objectives' own directions and
    ``None`` unless ``status == "ok"`` (constraints may be reported for failed ones).
    """

    seq: int
    candidate_id: int
    key: str
    status: str
    objectives: Optional[dict]
    constraints: Optional[dict]
    metrics: dict
    error: Optional[str]
    started: Optional[float]
    finished: Optional[float]
    worker: Optional[str]
    seed: Optional[int]
    attempts: int
    cached_from: Optional[int]
    told: bool
    params: dict
    info: dict

    @property
    def paid(self) -> bool:
        """Whether the evaluation was actually run (what the budget counts by default; ``PAID_SQL``)."""
        return self.status in ("ok", "failed") and self.cached_from is None and self.attempts > 0


def key_digest(key: str | bytes) -> bytes:
    """The 16-byte digest under which the store indexes a candidate's key.

    The key is the candidate's canonical encoding (:func:`moopt.serial.canonical`),
    or, for a space of Reals only, its float64 vector's bytes (:func:`vector_key`).

    Example:
        >>> len(key_digest('{"x":1}'))
        16
    """
    return hashlib.blake2b(key.encode("utf-8") if isinstance(key, str) else bytes(key), digest_size=16).digest()


def vector_key(values) -> bytes:
    """The key (and stored params) of a candidate of a space of Reals: its values as little-endian
    float64 bytes, in the order of the space's variables.  Stored this way a candidate of 30 reals
    takes 240 bytes instead of about 600 characters of JSON, and needs no float formatting."""
    return np.asarray(values, dtype="<f8").tobytes()


def _record(row, names: Optional[Sequence[str]] = None, path: str = "?", check: bool = True) -> EvaluationRecord:
    """An :class:`EvaluationRecord` from a row of ``_EVAL_COLUMNS``, both rows' checksums checked (with ``check``)."""
    if check and not _eval_sound((row[0], row[1], row[17], *row[3:14], row[14], row[18])):
        raise _damaged(path, "evaluations", f"seq={row[0]}")
    if row[20] is None:
        raise RunStoreError(f"run store {path} is damaged: evaluations row seq={row[0]} refers to candidates row "
                            f"id={row[1]}, which is missing; restore the file from a backup or start a new run "
                            "with another path.")
    if check and row_checksum("candidates", (row[1], row[15], row[2], row[16], row[19])) != row[20]:
        raise _damaged(path, "candidates", f"id={row[1]}")
    try:
        return _decode_record(row, names, path)
    except (ValueError, TypeError, RecursionError) as exc:
        if isinstance(exc, RunStoreError):
            raise
        for col, i, table, rowid in (("objectives", 4, "evaluations", f"seq={row[0]}"),
                                     ("constraints", 5, "evaluations", f"seq={row[0]}"),
                                     ("metrics", 6, "evaluations", f"seq={row[0]}"),
                                     ("params", 15, "candidates", f"id={row[1]}"),
                                     ("info", 16, "candidates", f"id={row[1]}")):
            if isinstance(row[i], str):
                _loads(row[i], path, table, rowid, col)
        raise _bad_json(path, "evaluations", f"seq={row[0]}", "?", exc) from None


def _damaged(path: str, table: str, rowid: str) -> RunStoreError:
    return RunStoreError(
        f"run store {path} is damaged: {table} row {rowid} does not match its checksum (a changed value); "
        "restore the file from a backup or start a new run with another path.")


def _bad_json(path: str, table: str, rowid: str, column: str, exc: BaseException) -> RunStoreError:
    why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
    return RunStoreError(
        f"run store {path} is damaged: {table} row {rowid}, column {column}, is not a valid stored value "
        f"({why}); restore the file from a backup or start a new run with another path.")


def _loads(text, path: str, table: str, rowid: str, column: str):
    """``serial.loads`` of a stored value; a value that does not decode names where it is."""
    try:
        return serial.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:
        raise _bad_json(path, table, rowid, column, exc) from None


def _decode_record(row, names: Optional[Sequence[str]], path: str = "?") -> EvaluationRecord:
    raw = row[15]
    if isinstance(raw, bytes):  # a vector of floats (a space of Reals), named by the run's variables
        params = _vector_params(raw, names, path)
        key = row[2] if row[2] is not None and not isinstance(row[2], bytes) else serial.canonical(params)
    else:
        params = serial.loads(raw)
        key = raw if row[2] is None else row[2]  # the params text is the key unless stored apart
    return EvaluationRecord(
        seq=row[0],
        candidate_id=row[1],
        key=key,
        status=row[3],
        objectives=None if row[4] is None else serial.loads(row[4]),
        constraints=None if row[5] is None else serial.loads(row[5]),
        metrics={} if row[6] is None else serial.loads(row[6]),
        error=row[7],
        started=row[8],
        finished=row[9],
        worker=row[10],
        seed=row[11],
        attempts=row[12],
        cached_from=row[13],
        told=bool(row[14]),
        params=params,
        info=serial.loads(row[16]),
    )


def _vector_params(raw: bytes, names: Optional[Sequence[str]], path: str = "?") -> dict:
    """The params of a candidate stored as float64 bytes in the order of the space's variables."""
    values = np.frombuffer(raw, dtype="<f8").tolist() if len(raw) % 8 == 0 else [None] * (len(raw) // 8 + 1)
    if names is None or len(names) != len(values):
        raise RunStoreError(f"run store {path} is damaged: a candidate stored as a vector of {len(raw) / 8:g} "
                            f"numbers does not match the run's variables ({None if names is None else len(names)}); "
                            "restore the file from a backup or start a new run with another path.")
    return dict(zip(names, values))


def _dumps_or_none(obj) -> Optional[str]:
    return None if obj is None else serial.dumps(obj)


_TEMPLATES: dict[tuple, str] = {}


def _values_template(keys: tuple) -> str:
    """The ``%``-template :func:`_dumps_values` fills with a flat dict's values (``keys``: its str keys)."""
    tpl = _TEMPLATES.get(keys)
    if tpl is None:
        if len(_TEMPLATES) > 64:
            _TEMPLATES.clear()
        tpl = _TEMPLATES[keys] = "{" + ",".join(
            json.dumps(k).replace("%", "%%") + ":%r" for k in keys) + "}"  # json writes numbers with repr
    return tpl


def _dumps_values(obj: Optional[Mapping]) -> Optional[str]:
    """``serial.dumps`` of a flat dict of finite floats and ints (objectives, constraints, a
    candidate's info), the same text faster; anything else goes to ``serial.dumps``."""
    if obj is None:
        return None
    vals = tuple(obj.values())
    for v in vals:
        t = type(v)
        if t is not int and (t is not float or v - v != 0.0):  # v - v is nan for nan and inf
            return serial.dumps(obj)
    keys = tuple(obj)
    if keys not in _TEMPLATES and not all(type(k) is str for k in keys):
        return serial.dumps(obj)
    return _values_template(keys) % vals


def _guard(method):
    """Turn SQLite errors raised inside a store method into RunStoreError."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.IntegrityError:  # a caller's error (e.g. a reused id): the caller explains it
            raise
        except sqlite3.DatabaseError as exc:
            if "readonly" in str(exc) and hasattr(self, "_cannot_write"):
                raise RunStoreError(self._cannot_write(f"SQLite: {exc}")) from None
            raise RunStoreError(
                f"run store {self.path} could not be read or written ({exc}); the file may be "
                "corrupt or changed by another program: restore it or start a new run with another path."
            ) from None

    return wrapper


def _diff(stored: Mapping, new: Mapping, prefix: str = "", limit: int = 4) -> list[str]:
    """The differing leaves of two configurations as ``path (stored X, now Y)``, at most ``limit``."""
    out: list[str] = []
    for k in sorted(set(stored) | set(new)):
        a, b = stored.get(k), new.get(k)
        if a == b:
            continue
        path = f"{prefix}{k}"
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out.extend(_diff(a, b, path + ".", limit - len(out)))
        else:
            out.append(f"{path} (stored {_short(a)}, now {_short(b)})")
        if len(out) >= limit:
            return out[:limit] + ["..."] if len(out) > limit else out
    return out


def _short(v) -> str:
    s = json.dumps(v, sort_keys=True, default=str)
    return s if len(s) <= 60 else s[:57] + "..."


class RunStore:
    """A run's SQLite file: configuration, evaluations, latest checkpoint, logs.

    Args:
        path: File path, or ``":memory:"`` for a store that lives only as long
            as this object.
        readonly: Open an existing store for reading only (reports).
        create: Create the file when it does not exist (ignored when
            ``readonly``).
        lock: Hold an exclusive advisory lock on the file while open, so two
            processes never write the same run (released when the process dies).
        synchronous: SQLite ``synchronous`` level: ``"normal"`` (default; a
            commit survives the process being killed, the last commits may be
            lost on power failure) or ``"full"`` (fsync at every commit; also
            survives power failure, slower).
        verify: Run SQLite's ``quick_check`` when opening an existing file
            (default); ``False`` skips it (for a file just checked, e.g. a
            :class:`~moopt.RunResult` reading the rest of a store it loaded).
        checksums: Give every candidates and evaluations row its checksum and
            check it when read (default).  ``False`` only for ``":memory:"``: a
            store no other program can touch has nothing to detect, and a
            run's worth of checksums costs about a quarter of its bookkeeping
            on a problem that evaluates in microseconds (``moopt.optimize``
            with ``store=None`` uses it).

    Raises:
        RunStoreError: the file is not SQLite, is corrupt, belongs to another
            program, comes from a newer/unknown schema, or is locked by a
            running optimization.
    """

    def __init__(self, path: str | os.PathLike = ":memory:", *, readonly: bool = False,
                 create: bool = True, lock: bool = False, synchronous: str = "normal", verify: bool = True,
                 checksums: bool = True):
        if synchronous not in ("normal", "full"):
            raise ValueError(f"synchronous must be 'normal' or 'full', got {synchronous!r}.")
        if not checksums and str(path) != ":memory:":
            raise ValueError(f"checksums=False is only for an in-memory store (':memory:'), not {str(path)!r}: "
                             "the rows of a file carry checksums, so that damage to it is detected.")
        self._crc = bool(checksums)
        # check each row's checksum when it is read; not for a store that checked every row when it
        # opened and has held the run's lock since (all it reads was checked then or written by itself)
        self._check_reads = self._crc
        self.synchronous = synchronous
        self.path = str(path)
        self.readonly = readonly
        self.verify = verify
        self._lock_fd: Optional[int] = None
        self._conn: Optional[sqlite3.Connection] = None
        self._ok_index: Optional[dict[bytes, int]] = None  # key digest -> seq
        self._outside_index: Optional[dict[bytes, int]] = None
        self._digests: dict[str | bytes, bytes] = {}
        self._var_names: Optional[list[str]] = None
        # name -> (dtype, row shape, bytes, parts) of the checkpoint arrays as last committed
        self._ck_arrays: dict[str, tuple[str, tuple, bytes, int]] = {}
        self._ck_pending: Optional[dict[str, tuple[str, tuple, bytes, int]]] = None
        memory = self.path == ":memory:"
        if not memory:
            p = Path(self.path)
            if p.is_dir():
                raise RunStoreError(f"run store path {self.path} is a directory; pass a file path such as run.db.")
            exists = p.exists()
            if not exists and not p.parent.is_dir():
                raise RunStoreError(f"cannot create run store {self.path}: directory {p.parent} does not exist.")
            if not exists and (readonly or not create):
                raise RunStoreError(
                    f"no run store at {self.path}; check the path (or run `moopt run ... --out {self.path}`).")
            if exists and p.stat().st_size > 0:
                with open(p, "rb") as fh:
                    head = fh.read(16)
                if head != _SQLITE_MAGIC:
                    raise RunStoreError(
                        f"{self.path} is not a moopt run store (not an SQLite file); pass a run store "
                        "written by moopt, or another --out path for a new run."
                    )
            elif exists and readonly:
                raise RunStoreError(f"{self.path} is empty, not a moopt run store.")
            if not readonly:
                self._check_writable(p, exists)
        try:
            if memory:
                conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            elif readonly:
                conn = self._connect_readonly()
            else:
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
            self._conn = conn
            conn.create_function("moopt_told", 1, _told_crc, deterministic=True)
            conn.execute("PRAGMA trusted_schema=OFF")  # a received file's schema runs no functions
            conn.execute("PRAGMA cell_size_check=ON")
            if lock and not memory and not readonly:
                self._acquire_lock()
            self._open(conn, memory)
        except sqlite3.DatabaseError as exc:
            self.close()
            if not readonly and not memory and "readonly" in str(exc):
                raise RunStoreError(self._cannot_write(f"SQLite: {exc}")) from None
            raise RunStoreError(
                f"{self.path} is not a readable moopt run store ({exc}); the file may be corrupt: "
                "restore it or start a new run with another path."
            ) from None
        except BaseException:
            self.close()
            raise

    # -- opening ----------------------------------------------------------
    def _cannot_write(self, why: str) -> str:
        return (f"cannot write to run store {self.path}: {why}. To resume the run, copy the store to a writable "
                f"folder (cp {self.path} NEW.db) and run with that path, or make the file and its folder "
                "writable (chmod u+w; chattr -i for an immutable file); reading it (moopt show, "
                "RunResult.load) works as it is.")

    def _check_writable(self, p: Path, exists: bool) -> None:
        """Refuse a store that cannot be written (a read-only or immutable file or folder) before opening it."""
        folder = p.parent
        if exists:
            try:
                fd = os.open(self.path, os.O_RDWR)
            except OSError as exc:
                raise RunStoreError(self._cannot_write(f"the file is read-only ({exc.strerror})")) from None
            os.close(fd)
        # WAL journaling writes X.db-wal and X.db-shm next to the file
        if not os.access(folder, os.W_OK):
            what = "the folder" if exists else "its folder"
            if not exists:
                raise RunStoreError(f"cannot create run store {self.path}: {what} {folder} is not writable; "
                                    "pass a path in a writable folder.")
            raise RunStoreError(self._cannot_write(f"{what} {folder} is read-only (SQLite writes "
                                                   f"{p.name}-wal and {p.name}-shm there)"))
        for suffix in ("-wal", "-shm"):
            side = Path(self.path + suffix)
            if side.exists():
                try:
                    os.close(os.open(side, os.O_RDWR))
                except OSError as exc:
                    raise RunStoreError(self._cannot_write(f"{side.name} is read-only ({exc.strerror})")) from None

    def _connect_readonly(self) -> sqlite3.Connection:
        """Open the file for reading only, also where SQLite cannot create ``-wal``/``-shm`` files.

        ``mode=ro`` reads a WAL store through its ``-shm`` file, which it creates when missing;
        in a read-only folder (or for an immutable file) that fails, and the file is read as
        ``immutable`` instead, which is exact when no ``-wal`` file holds uncheckpointed commits.
        """
        base = Path(self.path).resolve().as_uri()
        conn = sqlite3.connect(base + "?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            wal = Path(self.path + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise RunStoreError(
                    f"cannot read run store {self.path}: SQLite cannot open it read-only ({exc}) and {wal.name} "
                    f"holds commits not yet in the file; copy {self.path} and {wal.name} together to a writable "
                    "folder and read the copy.") from None
        return sqlite3.connect(base + "?immutable=1", uri=True, isolation_level=None, check_same_thread=False)

    def _acquire_lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError as exc:
            raise RunStoreError(self._cannot_write(f"the file is read-only ({exc.strerror})")) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RunStoreError(
                f"run store {self.path} is in use by another running optimization; wait for it to "
                "finish or stop it (its finished evaluations are kept), or use another path."
            ) from None
        self._lock_fd = fd

    def _open(self, conn: sqlite3.Connection, memory: bool) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        master = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        tables = {r[1] for r in master if r[0] == "table"}
        for typ, name, tbl, _sql in master:  # code or objects a moopt store never has: refuse before any read
            if typ not in ("table", "index"):
                raise RunStoreError(
                    f"run store {self.path} holds a {typ} {name!r} (on {tbl!r}), which is not part of a moopt run "
                    "store: the file was made or changed by another program. moopt does not open it; do not run "
                    "it. Start a new run with another path (a received store is data: ask for one without it).")
        if version == 0 and not tables:
            if self.readonly:
                raise RunStoreError(f"{self.path} is an empty SQLite file, not a moopt run store.")
            if not memory:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN IMMEDIATE")
            for stmt in _SCHEMA.strip().split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            from . import __version__

            conn.executemany(
                "INSERT INTO meta(key, value, crc) VALUES (?, ?, ?)",
                [(k, v, row_checksum("meta", (k, v))) for k, v in
                 [("format", FORMAT_NAME), ("schema_version", str(SCHEMA_VERSION)),
                  ("moopt_version", __version__), ("created", repr(time.time()))]],
            )
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
            # a store this object created: every row it will read is one it wrote (in memory, or under the lock)
            self._check_reads = self._crc and not memory and self._lock_fd is None
        else:
            if "meta" not in tables:
                raise RunStoreError(
                    f"{self.path} is an SQLite file but not a moopt run store (no meta table); "
                    "use another path for a new run."
                )
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != FORMAT_NAME:
                raise RunStoreError(
                    f"{self.path} is an SQLite file of another format ({meta.get('format')!r}), "
                    "not a moopt run store."
                )
            if version > SCHEMA_VERSION:
                raise RunStoreError(
                    f"{self.path} was written by a newer moopt (run-store schema {version}; this "
                    f"moopt reads schema {SCHEMA_VERSION}); upgrade moopt to read it."
                )
            if 0 < version < SCHEMA_VERSION and meta.get("schema_version") == str(version):
                raise RunStoreError(
                    f"{self.path} was written by an older moopt (run-store schema {version}; this moopt "
                    f"reads schema {SCHEMA_VERSION}, which checksums every row); "
                    f"read or resume it with the moopt version that wrote it "
                    f"({meta.get('moopt_version', 'unknown')}), or start a new run with another path."
                )
            if version != SCHEMA_VERSION or meta.get("schema_version") != str(SCHEMA_VERSION):
                raise RunStoreError(
                    f"{self.path} has an unknown run-store schema (user_version={version}, "
                    f"meta schema_version={meta.get('schema_version')!r}); expected {SCHEMA_VERSION}."
                )
            self._check_schema(master)
            for k, v, crc in conn.execute("SELECT key, value, crc FROM meta"):
                if row_checksum("meta", (k, v)) != crc:
                    raise _damaged(self.path, "meta", f"key={k!r}")
            self._check_rows(conn)
            full = self.verify and not self.readonly and not memory
            if self.verify:
                check = conn.execute("PRAGMA integrity_check(1)" if full else "PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise RunStoreError(
                        f"{self.path} is corrupt (SQLite integrity check: {check}); restore it or start "
                        "a new run with another path."
                    )
            if full:  # before a resume writes anything: a damaged store is left as it is
                self._verify_all(conn)
                self._check_reads = self._lock_fd is None
            if not self.readonly and not memory:
                conn.execute("PRAGMA journal_mode=WAL")
        if not memory and not self.readonly:
            conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
        conn.execute("PRAGMA foreign_keys=ON")

    def _check_schema(self, master: list) -> None:
        """The tables and indices must be exactly this schema's (names and SQL)."""
        expected = _expected_master()
        found = {(r[0], r[1]): (r[2], r[3]) for r in master}
        for k, v in found.items():
            if k not in expected:
                raise RunStoreError(
                    f"run store {self.path} holds a {k[0]} {k[1]!r}, which is not part of a moopt run store "
                    f"(schema {SCHEMA_VERSION}): the file was made or changed by another program; start a new "
                    "run with another path.")
            if expected[k] != v:
                raise RunStoreError(
                    f"run store {self.path}: its {k[0]} {k[1]!r} differs from a moopt run store's (schema "
                    f"{SCHEMA_VERSION}): the file was changed by another program or is damaged; restore it or "
                    "start a new run with another path.")
        missing = [k for k in expected if k not in found and k[1] != "sqlite_sequence"]
        if missing:
            raise RunStoreError(
                f"run store {self.path} lacks the {missing[0][0]} {missing[0][1]!r} of a moopt run store: the file "
                "is damaged; restore it or start a new run with another path.")

    def _check_rows(self, conn: sqlite3.Connection) -> None:
        """Cheap checks on every open: no evaluation or log row deleted (their ``seq`` runs 1..N with no
        gap up to the highest ever given), and a configuration wherever there are candidates."""
        for table in ("evaluations", "logs"):
            n, top = conn.execute(f"SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM {table}").fetchone()
            given = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
            if n != top or (given is not None and given[0] != top):
                raise RunStoreError(
                    f"run store {self.path} is damaged: {table} holds {n} rows but their seq runs to "
                    f"{max(top, given[0] if given else 0)} (rows were deleted); restore the file from a backup or "
                    "start a new run with another path.")
        if conn.execute("SELECT id FROM config").fetchone() is None \
                and conn.execute("SELECT EXISTS(SELECT 1 FROM candidates)").fetchone()[0]:
            raise RunStoreError(f"run store {self.path} is damaged: it holds candidates but no configuration row; "
                                "restore the file from a backup or start a new run with another path.")

    def _verify_all(self, conn: sqlite3.Connection) -> None:
        """Every row's checksum and the links the engine relies on (run before a resume writes)."""
        path = self.path
        for row in conn.execute(f"SELECT {_EVAL_ROW} FROM evaluations"):
            if not _eval_sound(row):
                raise _damaged(path, "evaluations", f"seq={row[0]}")
        for row in conn.execute(f"SELECT {_CAND_ROW} FROM candidates"):
            if row_checksum("candidates", row[:5]) != row[5]:
                raise _damaged(path, "candidates", f"id={row[0]}")
        simple = (("config", "id, identity, extra, created", "id"),
                  ("checkpoint", "id, state, n_told, saved", "id"),
                  ("checkpoint_arrays", "name, part, data", None),
                  ("logs", "seq, n_told, kind, data, time", "seq"))
        for table, cols, key in simple:
            for row in conn.execute(f"SELECT {cols}, crc FROM {table}"):
                if row_checksum(table, row[:-1]) != row[-1]:
                    where = f"{key}={row[0]}" if key else f"name={row[0]!r} part={row[1]}"
                    raise _damaged(path, table, where)
        bad = conn.execute("PRAGMA foreign_key_check").fetchone()
        if bad is not None:
            raise RunStoreError(
                f"run store {path} is damaged: {bad[0]} row {bad[1]} refers to a missing {bad[2]} row; restore "
                "the file from a backup or start a new run with another path.")
        bad = conn.execute(
            "SELECT e.seq, e.cached_from FROM evaluations e LEFT JOIN evaluations o ON o.seq = e.cached_from "
            "WHERE e.cached_from IS NOT NULL AND (o.seq IS NULL OR o.seq >= e.seq OR o.cached_from IS NOT NULL "
            "OR o.key != e.key OR o.status != e.status OR o.objectives IS NOT e.objectives) LIMIT 1").fetchone()
        if bad is not None:
            raise RunStoreError(
                f"run store {path} is damaged: evaluations row seq={bad[0]} is an answer copied from seq={bad[1]}, "
                "which is not an earlier evaluation of the same candidate with the same values; restore the "
                "file from a backup or start a new run with another path.")
        # each evaluation's told mark is in its checksum (the engine tells the untold ones again on resume);
        # told marks are written with a checkpoint, so told evaluations without one mean it was deleted
        if conn.execute("SELECT id FROM checkpoint").fetchone() is None \
                and conn.execute("SELECT EXISTS(SELECT 1 FROM evaluations WHERE told = 1)").fetchone()[0]:
            raise RunStoreError(f"run store {path} is damaged: evaluations are marked told but there is no "
                                "checkpoint row; restore the file from a backup or start a new run with another path.")

    # -- lifecycle ----------------------------------------------------------
    def close(self) -> None:
        """Close the file (and release the lock); safe to call twice."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
        if self._lock_fd is not None:
            try:
                os.close(self._lock_fd)
            finally:
                self._lock_fd = None

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RunStoreError(f"run store {self.path} is closed.")
        return self._conn

    def _write(self):
        if self.readonly:
            raise RunStoreError(f"run store {self.path} was opened read-only.")
        return _Txn(self.conn)

    # -- configuration ------------------------------------------------------
    @_guard
    def configure(self, identity: Mapping, extra: Optional[Mapping] = None) -> bool:
        """Record the run's identity, or check it against the stored one.

        Args:
            identity: JSON description that must match on resume (problem,
                algorithm, options, seed).
            extra: JSON settings that may change between sessions (budget,
                problem spec); merged into the stored ones.

        Returns:
            True when the store already held this run (a resume).

        Raises:
            RunStoreError: the store holds a run with another identity.
        """
        _check_depth(identity, "the run's configuration")
        _check_depth(extra, "config.extra")
        _check_seed(identity.get("seed"))
        ident = serial.loads(serial.dumps(dict(identity)))
        row = self._config_row()
        if row is None:
            v = (1, serial.dumps(ident), serial.dumps(dict(extra or {})), time.time())
            with self._write() as c:
                c.execute("INSERT INTO config(id, identity, extra, created, crc) VALUES (?, ?, ?, ?, ?)",
                          (*v, row_checksum("config", v)))
            return False
        stored = _loads(row[1], self.path, "config", "id=1", "identity")
        if stored != ident:
            diff = _diff(stored, ident)
            raise RunStoreError(
                f"run store {self.path} holds another run: {'; '.join(diff)} differ. Use another "
                "store path for a new run, or the stored configuration to resume it."
            )
        if extra:
            merged = {**_loads(row[2], self.path, "config", "id=1", "extra"), **dict(extra)}
            v = (1, row[1], serial.dumps(merged), row[3])
            with self._write() as c:
                c.execute("UPDATE config SET extra = ?, crc = ? WHERE id = 1", (v[2], row_checksum("config", v)))
        return True

    def _config_row(self) -> Optional[tuple]:
        """``(id, identity, extra, created)`` of the stored configuration, its checksum checked."""
        row = self.conn.execute("SELECT id, identity, extra, created, crc FROM config WHERE id = 1").fetchone()
        if row is not None and row_checksum("config", row[:4]) != row[4]:
            raise _damaged(self.path, "config", "id=1")
        return None if row is None else row[:4]

    @_guard
    def config(self) -> dict:
        """The stored configuration: identity keys plus ``extra`` settings (empty if none)."""
        row = self._config_row()
        if row is None:
            return {}
        return {**_loads(row[1], self.path, "config", "id=1", "identity"),
                "extra": _loads(row[2], self.path, "config", "id=1", "extra"), "created": row[3]}

    @_guard
    def meta(self) -> dict:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    # -- the resume protocol --------------------------------------------------
    @_guard
    def record_ask(self, entries: Sequence[tuple], state: Optional[Mapping], *, n_told: int,
                   cached: Sequence[tuple] = (), immediate: Sequence[tuple] = (),
                   told: Sequence[int] = (), logs: Sequence[Mapping] = ()) -> None:
        """Persist asked candidates and the post-ask checkpoint in one transaction.

        Args:
            entries: ``(candidate_id, key, params_json, info_json)`` of each asked
                candidate, ``key`` being its canonical encoding and the others
                JSON text from :func:`moopt.serial.dumps`; for a space of Reals
                only, ``key`` and ``params_json`` may both be the candidate's
                :func:`vector_key` (bytes; read back as params named by the run's
                variables, with the canonical encoding as ``key``).
            state: The search's ``state_dict()`` after ``ask``.
            n_told: Number of results the search has been told so far.
            cached: ``(candidate_id, original_seq)`` pairs answered from the
                store; their evaluation rows are written here too.
            immediate: ``(candidate_id, key, status, error)`` of candidates that
                end without evaluation (e.g. invalid parameters).
            told: Candidate ids told since the last checkpoint (marked told).
            logs: The search's logs drained since the last checkpoint.
        """
        now = time.time()
        with self._write() as c:
            c.executemany(
                "INSERT INTO candidates(id, params, key, info, asked, crc) VALUES (?, ?, ?, ?, ?, ?)",
                [_cand_row(i, params, None if key == params else key, info, now, crc=self._crc)
                 for i, key, params, info in entries],
            )
            for cid, orig in cached:
                self._insert_cached(c, self._next_seq(c), cid, orig, now)
            for cid, key, status, error in immediate:
                c.execute(f"INSERT INTO evaluations({_EVAL_INSERT}) VALUES ({_EVAL_QMARKS})",
                          _eval_row(self._next_seq(c), cid, key_digest(key), status, None, None, None, error,
                                    now, now, "engine", None, 0, None, crc=self._crc))
            self._told_and_logs(c, told, logs, n_told, now)
            if state is not None:
                self._put_checkpoint(c, state, n_told, now)
        self._checkpoint_committed()

    @classmethod
    def _told_and_logs(cls, c, told: Sequence[int], logs: Sequence[Mapping], n_told: int, now: float) -> None:
        ids = sorted({int(i) for i in told})
        if ids and ids[-1] - ids[0] + 1 == len(ids):  # a run of ids (a batch): one range update
            c.execute("UPDATE evaluations SET told = 1, crc = moopt_told(crc) "
                      "WHERE candidate_id BETWEEN ? AND ? AND told = 0", (ids[0], ids[-1]))
        elif ids:
            c.executemany("UPDATE evaluations SET told = 1, crc = moopt_told(crc) WHERE candidate_id = ? AND told = 0",
                          [(i,) for i in ids])
        if logs:
            rows = []
            for entry in logs:
                entry = dict(entry)
                kind = str(entry.pop("kind", "log"))
                at = int(entry.pop("_n_told", n_told))
                rows.append((at, kind, serial.dumps(entry), now))
            cls._insert_logs(c, rows)

    @staticmethod
    def _insert_logs(c, rows: Sequence[tuple]) -> None:
        """Append ``(n_told, kind, data_json, time)`` rows to ``logs``, with their ``seq`` and checksum."""
        seq = 1 + int(c.execute(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'logs'), 0), "
            "COALESCE((SELECT MAX(seq) FROM logs), 0))").fetchone()[0])
        out = []
        for i, (at, kind, data, t) in enumerate(rows):
            v = (seq + i, int(at), str(kind), data, float(t))
            out.append((*v, row_checksum("logs", v)))
        c.executemany("INSERT INTO logs(seq, n_told, kind, data, time, crc) VALUES (?, ?, ?, ?, ?, ?)", out)

    def _insert_cached(self, c, seq: int, cid: int, orig: int, now: float) -> None:
        """Insert evaluation ``seq`` answering candidate ``cid`` with the values of evaluation ``orig``."""
        row = c.execute(f"SELECT {_EVAL_ROW} FROM evaluations WHERE seq = ?", (int(orig),)).fetchone()
        if row is None:
            raise RunStoreError(f"run store {self.path} has no evaluation {orig} to answer candidate {cid} from.")
        if self._check_reads and not _eval_sound(row):
            raise _damaged(self.path, "evaluations", f"seq={row[0]}")
        c.execute(f"INSERT INTO evaluations({_EVAL_INSERT}) VALUES ({_EVAL_QMARKS})",
                  _eval_row(seq, cid, row[2], row[3], row[4], row[5], row[6], row[7], now, now, "cache", row[11],
                            0, row[0], crc=self._crc))

    @_guard
    def record_cached(self, candidate_id: int, original_seq: int) -> int:
        """Answer a candidate from the evaluation ``original_seq`` (its own transaction)."""
        with self._write() as c:
            seq = self._next_seq(c)
            self._insert_cached(c, seq, candidate_id, original_seq, time.time())
            return seq

    @_guard
    def record(self, seq: int) -> EvaluationRecord:
        """The evaluation with sequence number ``seq``."""
        row = self.conn.execute(
            f"SELECT {_EVAL_COLUMNS} FROM evaluations e LEFT JOIN candidates c ON c.id = e.candidate_id "
            "WHERE e.seq = ?", (int(seq),)).fetchone()
        if row is None:
            raise RunStoreError(f"run store {self.path} has no evaluation {seq}.")
        return _record(row, self._names(), self.path, self._check_reads)

    @_guard
    def record_evaluation(self, candidate_id: int, key: str | bytes, status: str, *,
                          objectives: Optional[Mapping] = None, constraints: Optional[Mapping] = None,
                          metrics: Optional[Mapping] = None, error: Optional[str] = None,
                          started: Optional[float] = None, finished: Optional[float] = None,
                          worker: Optional[str] = None, seed: Optional[int] = None,
                          attempts: int = 1) -> int:
        """Persist one finished evaluation (its own transaction); returns its ``seq``."""
        if self.readonly:
            raise RunStoreError(f"run store {self.path} was opened read-only.")
        digest = key_digest(key)
        values = (int(candidate_id), digest, status, _dumps_or_none(objectives), _dumps_or_none(constraints),
                  _dumps_or_none(dict(metrics) if metrics else None), error, started, finished, worker,
                  seed, int(attempts), None)
        with self._write() as c:
            seq = self._next_seq(c)
            c.execute(f"INSERT INTO evaluations({_EVAL_INSERT}) VALUES ({_EVAL_QMARKS})",
                      _eval_row(seq, *values, crc=self._crc))
        self._index(digest, status, error, seq)
        return seq

    def _digest(self, key: str | bytes) -> bytes:
        """:func:`key_digest`, remembered for the keys of the current batch (looked up, then recorded)."""
        cache = self._digests
        d = cache.get(key)
        if d is None:
            if len(cache) >= 4096:
                cache.clear()
            d = cache[key] = key_digest(key)
        return d

    def _index(self, digest: bytes, status: str, error: Optional[str], seq: int) -> None:
        if status == "ok" and self._ok_index is not None:
            self._ok_index.setdefault(digest, seq)
        if status == "pruned" and self._outside_index is not None and is_outside_space(error):
            self._outside_index.setdefault(digest, seq)

    @_guard
    def record_answers(self, items: Sequence[tuple]) -> list[int]:
        """Persist answers to asked candidates in order, in one transaction; returns their ``seq``.

        Each item is one of

        * ``("eval", row)``: a finished evaluation, ``row`` holding
          :meth:`record_evaluation`'s arguments by name;
        * ``("row", values)``: the same as a tuple ``(candidate_id, key, status,
          objectives_json, constraints_json, metrics_json, error, started, finished,
          worker, seed, attempts)``, the JSON already encoded;
        * ``("cached", candidate_id, orig)``: answered from the evaluation ``orig``, a
          ``seq`` or ``("item", j)`` for the ``j``-th item of this call;
        * ``("immediate", candidate_id, key, status, error)``: ended without evaluation
          (invalid parameters).

        Either every item is stored or none is.
        """
        if self.readonly:
            raise RunStoreError(f"run store {self.path} was opened read-only.")
        if not items:
            return []
        now, crc = time.time(), self._crc
        evals, immediates, cached = [], [], []
        index: list[tuple[bytes, str, Optional[str], int]] = []
        with self._write() as c:
            first = self._next_seq(c)
            seqs = list(range(first, first + len(items)))  # one row per item, in order
            for seq, item in zip(seqs, items):
                kind = item[0]
                if kind == "eval":
                    r = item[1]
                    d = self._digest(r["key"])
                    metrics = r.get("metrics")
                    evals.append(_eval_row(seq, r["candidate_id"], d, r["status"],
                                           _dumps_values(r.get("objectives")), _dumps_values(r.get("constraints")),
                                           _dumps_or_none(dict(metrics) if metrics else None), r.get("error"),
                                           r.get("started"), r.get("finished"), r.get("worker"), r.get("seed"),
                                           r.get("attempts", 1), None, crc=crc))
                    index.append((d, r["status"], r.get("error"), seq))
                elif kind == "row":
                    v = item[1]
                    d = self._digest(v[1])
                    evals.append(_eval_row(seq, v[0], d, v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10],
                                           v[11], None, crc=crc))
                    index.append((d, v[2], v[6], seq))
                elif kind == "cached":
                    orig = item[2]
                    cached.append((seq, int(item[1]), seqs[orig[1]] if isinstance(orig, tuple) else int(orig)))
                elif kind == "immediate":
                    _, cid, key, status, error = item
                    immediates.append(_eval_row(seq, cid, key_digest(key), status, None, None, None, error, now, now,
                                                "engine", None, 0, None, crc=crc))
                else:
                    raise ValueError(f"unknown answer kind {kind!r}")
            if evals or immediates:
                c.executemany(f"INSERT INTO evaluations({_EVAL_INSERT}) VALUES ({_EVAL_QMARKS})", evals + immediates)
            for seq, cid, orig in cached:  # after the evaluations they may copy
                self._insert_cached(c, seq, cid, orig, now)
        for d, status, error, seq in index:
            self._index(d, status, error, seq)
        return seqs

    @_guard
    def record_new_values(self, ids: Sequence[int], keys: Sequence[bytes], F: np.ndarray, G: Optional[np.ndarray],
                          *, objective_names: Sequence[str], constraint_names: Sequence[str] = (), started: float,
                          finished: float, worker: str, seed: Optional[int]) -> list[int]:
        """Persist ok evaluations of new candidates in one transaction; returns their ``seq``.

        The rows :meth:`record_answers` writes for ``("row", (id, key, "ok", objectives_json,
        constraints_json, None, None, started, finished, worker, seed, 1))`` items, built from arrays:
        the engine's path for a batch of new candidates whose values are all finite.

        Args:
            ids: ``(k,)`` candidate ids (asked, without an answer yet).
            keys: Their keys (:func:`vector_key` bytes), none of them evaluated before.
            F: ``(k, n_obj)`` finite objective values in the objectives' own directions.
            G: ``(k, n_constraints)`` finite constraint values, or ``None`` without constraints.
            objective_names: The names of ``F``'s columns.
            constraint_names: The names of ``G``'s columns.
            started: When the batch's evaluation began (``time.time()``).
            finished: When it ended.
            worker: Stored with every evaluation (``"main"``: this process).
            seed: The run's seed, stored with every evaluation.
        """
        if self.readonly:
            raise RunStoreError(f"run store {self.path} was opened read-only.")
        k = len(ids)
        if not k:
            return []
        obj = _values_template(tuple(objective_names))
        Fl = np.asarray(F, dtype=float).tolist()
        if len(Fl) != k or any(len(f) != len(objective_names) for f in Fl) or not np.all(np.isfinite(F)):
            raise ValueError("record_new_values needs one row of finite objective values per candidate.")
        if constraint_names:
            con = _values_template(tuple(constraint_names))
            Gl = np.asarray(G, dtype=float).tolist()
            if G is None or len(Gl) != k or not np.all(np.isfinite(G)):
                raise ValueError("record_new_values needs one row of finite constraint values per candidate.")
            cons: list[Optional[str]] = [con % tuple(g) for g in Gl]
        else:
            cons = [None] * k
        started, finished, worker = float(started), float(finished), str(worker)
        seed = None if seed is None else int(seed)
        digest, crc = self._digest, self._crc
        with self._write() as c:
            first = self._next_seq(c)
            rows = []
            for seq, cid, key, f, cj in zip(range(first, first + k), ids, keys, Fl, cons):
                v = (seq, int(cid), digest(key), "ok", obj % tuple(f), cj, None, None, started, finished, worker, seed,
                     1, None)  # the types _eval_row gives these values
                rows.append((*v, row_checksum("evaluations", v) if crc else b""))
            c.executemany(f"INSERT INTO evaluations({_EVAL_INSERT}) VALUES ({_EVAL_QMARKS})", rows)
        seqs = list(range(first, first + k))
        if self._ok_index is not None:
            for row in rows:
                self._ok_index.setdefault(row[2], row[0])
        return seqs

    @staticmethod
    def _next_seq(c) -> int:
        """The ``seq`` AUTOINCREMENT would give the next evaluation row."""
        return 1 + int(c.execute(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'evaluations'), 0), "
            "COALESCE((SELECT MAX(seq) FROM evaluations), 0))").fetchone()[0])

    @_guard
    def record_evaluations(self, rows: Sequence[Mapping]) -> list[int]:
        """Persist several finished evaluations in one transaction; returns their ``seq`` in order.

        Each row holds :meth:`record_evaluation`'s arguments by name (``candidate_id``,
        ``key``, ``status`` and any of the optional ones).  Either every row is
        stored or none is.
        """
        now_rows, digests = [], []
        for r in rows:
            d = key_digest(r["key"])
            digests.append(d)
            metrics = r.get("metrics")
            now_rows.append((int(r["candidate_id"]), d, r["status"], _dumps_or_none(r.get("objectives")),
                             _dumps_or_none(r.get("constraints")), _dumps_or_none(dict(metrics) if metrics else None),
                             r.get("error"), r.get("started"), r.get("finished"), r.get("worker"), r.get("seed"),
                             int(r.get("attempts", 1))))
        if not now_rows:
            return []
        with self._write() as c:
            first = self._next_seq(c)
            c.executemany(f"INSERT INTO evaluations({_EVAL_INSERT}) VALUES ({_EVAL_QMARKS})",
                          [_eval_row(first + i, *row, None, crc=self._crc) for i, row in enumerate(now_rows)])
        seqs = list(range(first, first + len(now_rows)))
        for d, r, seq in zip(digests, rows, seqs):
            self._index(d, r["status"], r.get("error"), seq)
        return seqs

    @_guard
    def record_tell(self, candidate_ids: Iterable[int], state: Optional[Mapping], *, n_told: int,
                    logs: Sequence[Mapping] = ()) -> None:
        """Mark results as told and persist the post-tell checkpoint and logs in one transaction.

        A log entry may carry ``_n_told`` (results told when it was recorded);
        otherwise ``n_told`` is used.
        """
        now = time.time()
        with self._write() as c:
            self._told_and_logs(c, list(candidate_ids), logs, n_told, now)
            if state is not None:
                self._put_checkpoint(c, state, n_told, now)
        self._checkpoint_committed()

    #: Top-level state arrays at least this large go to ``checkpoint_arrays`` (appended parts).
    _CK_ARRAY_BYTES = 16384

    def _put_checkpoint(self, c, state: Mapping, n_told: int, now: float) -> None:
        """Write the checkpoint; a large top-level array that extends the one written last time
        gets only its new bytes appended (see ``checkpoint_arrays``)."""
        self._ck_pending = None
        rest = dict(state) if isinstance(state, Mapping) else state
        arrays: dict[str, np.ndarray] = {}
        if isinstance(rest, dict):
            for k, v in list(rest.items()):
                if isinstance(k, str) and isinstance(v, np.ndarray) and v.ndim >= 1 \
                        and v.nbytes >= self._CK_ARRAY_BYTES and v.dtype.kind in "biuf":
                    arr = np.ascontiguousarray(v)
                    arrays[k] = arr
                    rest[k] = {"__checkpoint_array__": k, "dtype": arr.dtype.str, "shape": list(arr.shape)}
        try:
            text = serial.dumps(rest)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the search's state_dict() cannot be stored: {exc}") from None
        except RecursionError:
            raise TypeError("the search's state_dict() cannot be stored: it is nested too deeply") from None
        cache = self._ck_arrays
        new_cache: dict[str, tuple[str, tuple, bytes, int]] = {}
        for k, arr in arrays.items():
            data = arr.tobytes()
            prev = cache.get(k)
            if prev is not None and prev[0] == arr.dtype.str and prev[1] == arr.shape[1:] \
                    and len(data) >= len(prev[2]) and data[:len(prev[2])] == prev[2]:
                parts = prev[3]
                if len(data) > len(prev[2]):
                    v = (k, parts, data[len(prev[2]):])
                    c.execute("INSERT INTO checkpoint_arrays(name, part, data, crc) VALUES (?, ?, ?, ?)",
                              (*v, row_checksum("checkpoint_arrays", v)))
                    parts += 1
            else:
                c.execute("DELETE FROM checkpoint_arrays WHERE name = ?", (k,))
                v = (k, 0, data)
                c.execute("INSERT INTO checkpoint_arrays(name, part, data, crc) VALUES (?, ?, ?, ?)",
                          (*v, row_checksum("checkpoint_arrays", v)))
                parts = 1
            new_cache[k] = (arr.dtype.str, arr.shape[1:], data, parts)
        gone = [k for k in cache if k not in arrays] if cache else None
        if gone is None:  # nothing known about what is stored: drop every array this state lacks
            c.execute(f"DELETE FROM checkpoint_arrays WHERE name NOT IN ({','.join('?' * len(arrays))})",
                      list(arrays))
        elif gone:
            c.executemany("DELETE FROM checkpoint_arrays WHERE name = ?", [(k,) for k in gone])
        v = (1, text, int(n_told), float(now))
        c.execute(
            "INSERT INTO checkpoint(id, state, n_told, saved, crc) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET state = excluded.state, n_told = excluded.n_told, "
            "saved = excluded.saved, crc = excluded.crc",
            (*v, row_checksum("checkpoint", v)),
        )
        self._ck_pending = new_cache

    def _checkpoint_committed(self) -> None:
        """After the transaction that wrote a checkpoint commits: remember its arrays."""
        if self._ck_pending is not None:
            self._ck_arrays, self._ck_pending = self._ck_pending, None

    @_guard
    def checkpoint(self) -> Optional[tuple[dict, int]]:
        """The latest ``(state, n_told)``, or ``None`` before the first checkpoint."""
        row = self.conn.execute("SELECT id, state, n_told, saved, crc FROM checkpoint WHERE id = 1").fetchone()
        if row is None:
            return None
        if row_checksum("checkpoint", row[:4]) != row[4]:
            raise _damaged(self.path, "checkpoint", "id=1")
        row = row[1:]
        state = _loads(row[0], self.path, "checkpoint", "id=1", "state")
        if isinstance(state, dict):
            for k, v in list(state.items()):
                if isinstance(v, dict) and "__checkpoint_array__" in v:
                    name = v["__checkpoint_array__"]
                    parts = []
                    for i, (nm, part, data, crc) in enumerate(self.conn.execute(
                            "SELECT name, part, data, crc FROM checkpoint_arrays WHERE name = ? ORDER BY part",
                            (name,))):
                        if row_checksum("checkpoint_arrays", (nm, part, data)) != crc or part != i:
                            raise _damaged(self.path, "checkpoint_arrays", f"name={nm!r} part={part}")
                        parts.append(data)
                    data = b"".join(parts)
                    try:
                        dtype = np.dtype(v["dtype"])
                        shape = tuple(int(x) for x in v["shape"])
                    except (KeyError, TypeError, ValueError) as exc:
                        raise _bad_json(self.path, "checkpoint", "id=1", "state", exc) from None
                    if len(data) != int(np.prod(shape)) * dtype.itemsize:
                        raise RunStoreError(f"run store {self.path}: the checkpoint's array {k!r} is incomplete; "
                                            "the file may be damaged.")
                    state[k] = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        return state, int(row[1])

    @_guard
    def pending(self) -> list[tuple[int, dict, dict]]:
        """Asked candidates without an evaluation, ``(id, params, info)`` in id order."""
        rows = self.conn.execute(
            "SELECT c.id, c.params, c.key, c.info, c.asked, c.crc FROM candidates c LEFT JOIN evaluations e "
            "ON e.candidate_id = c.id WHERE e.seq IS NULL ORDER BY c.id"
        ).fetchall()
        names = self._names()
        out = []
        for r in rows:
            rid = f"id={r[0]}"
            if self._check_reads and row_checksum("candidates", r[:5]) != r[5]:
                raise _damaged(self.path, "candidates", rid)
            out.append((r[0], _vector_params(r[1], names, self.path) if isinstance(r[1], bytes)
                        else _loads(r[1], self.path, "candidates", rid, "params"),
                        _loads(r[3], self.path, "candidates", rid, "info")))
        return out

    def _names(self) -> Optional[list[str]]:
        """The run's variable names (from its configuration), which name a candidate stored as a vector."""
        if self._var_names is None:
            row = self._config_row()
            if row is None:
                return None
            variables = (_loads(row[1], self.path, "config", "id=1", "identity").get("problem") or {}).get(
                "variables") or []
            self._var_names = [str(v.get("name")) for v in variables if isinstance(v, Mapping)]
        return self._var_names

    @_guard
    def untold(self) -> list[EvaluationRecord]:
        """Finished evaluations the checkpointed search has not been told, in completion order."""
        rows = self.conn.execute(
            f"SELECT {_EVAL_COLUMNS} FROM evaluations e LEFT JOIN candidates c ON c.id = e.candidate_id "
            "WHERE e.told = 0 ORDER BY e.seq"
        ).fetchall()
        names = self._names()
        return [_record(r, names, self.path, self._check_reads) for r in rows]

    @_guard
    def lookup_ok(self, key: str | bytes) -> Optional[int]:
        """``seq`` of the first ok evaluation of the candidate with canonical ``key``."""
        return self._ok_keys().get(self._digest(key))

    def _ok_keys(self) -> dict[bytes, int]:
        """Key digest -> ``seq`` of the first ok, uncached evaluation (read once, then kept up to date)."""
        if self._ok_index is None:
            self._ok_index = {}
            for k, seq in self.conn.execute(
                "SELECT key, MIN(seq) FROM evaluations WHERE status = 'ok' AND cached_from IS NULL GROUP BY key"
            ):
                self._ok_index[k] = seq
        return self._ok_index

    @_guard
    def known_any(self, keys: Sequence[str | bytes]) -> bool:
        """Whether any of ``keys`` would be answered from the store (:meth:`lookup_ok` or :meth:`lookup_outside`)."""
        ok, outside, digest = self._ok_keys(), self._outside_keys(), self._digest
        for key in keys:
            d = digest(key)
            if d in ok or d in outside:
                return True
        return False

    @_guard
    def lookup_outside(self, key: str | bytes) -> Optional[int]:
        """``seq`` of the first evaluation that found the candidate ``key`` outside the search space.

        That is a ``pruned`` evaluation (not a cached one) whose error is a
        :class:`~moopt.errors.OutsideSpaceError`; ``None`` when there is none.
        Being outside the space is a property of the candidate, so the engine
        answers a repeat from it, as it answers a repeat of an ok evaluation.
        """
        return self._outside_keys().get(self._digest(key))

    def _outside_keys(self) -> dict[bytes, int]:
        """Key digest -> ``seq`` of the first evaluation that found it outside the space (read once)."""
        if self._outside_index is None:
            self._outside_index = {}
            for k, seq, error in self.conn.execute(
                "SELECT key, seq, error FROM evaluations WHERE status = 'pruned' AND cached_from IS NULL ORDER BY seq"
            ):
                if is_outside_space(error):
                    self._outside_index.setdefault(k, seq)
        return self._outside_index

    # -- reading ------------------------------------------------------------
    @_guard
    def n_results(self) -> int:
        """Number of finished evaluations (cached, failed and pruned included; see also :meth:`n_paid`)."""
        return int(self.conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0])

    @_guard
    def n_paid(self) -> int:
        """Number of evaluations actually run: ok and failed ones, neither cached nor refused unrun.

        This is what the budget counts by default (see :func:`moopt.optimize`,
        ``count_duplicates``): answers copied from an earlier evaluation
        (``cached_from``), candidates the engine refused before running them
        (``attempts == 0``: invalid parameters) and candidates outside the search
        space (status ``pruned``) cost nothing.
        """
        return int(self.conn.execute(f"SELECT COUNT(*) FROM evaluations WHERE {PAID_SQL}").fetchone()[0])

    @_guard
    def unpaid_tail(self) -> list[str]:
        """The kinds of the answers recorded after the last paid evaluation, in completion order.

        Returns:
            One of ``"cached"`` (a repeat answered from an ok evaluation),
            ``"outside"`` (a repeat of a candidate known to be outside the search
            space), ``"new_outside"`` (a candidate found outside the search space)
            or ``"invalid"`` (refused unrun) per answer after the last evaluation
            that :meth:`n_paid` counts (all answers when none is).  The engine
            replays them to resume its stall counters.
        """
        rows = self.conn.execute(
            "SELECT cached_from IS NOT NULL, status FROM evaluations WHERE seq > "
            f"COALESCE((SELECT MAX(seq) FROM evaluations WHERE {PAID_SQL}), 0) ORDER BY seq").fetchall()
        out = []
        for cached, status in rows:
            if cached:
                out.append("outside" if status == "pruned" else "cached")
            else:
                out.append("new_outside" if status == "pruned" else "invalid")
        return out

    @_guard
    def n_candidates(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM candidates").fetchone()[0])

    @_guard
    def counts(self) -> dict[str, int]:
        """Counts by status, plus ``cached`` (answered from the store) and ``pending``."""
        out = {"ok": 0, "failed": 0, "pruned": 0}
        for status, n in self.conn.execute("SELECT status, COUNT(*) FROM evaluations GROUP BY status"):
            out[status] = int(n)
        out["cached"] = int(self.conn.execute(
            "SELECT COUNT(*) FROM evaluations WHERE cached_from IS NOT NULL").fetchone()[0])
        out["pending"] = self.n_candidates() - sum(out[s] for s in ("ok", "failed", "pruned"))
        return out

    @_guard
    def evaluations(self, max_seq: Optional[int] = None) -> list[EvaluationRecord]:
        """Every finished evaluation in completion order (up to sequence number ``max_seq`` when given)."""
        sql = f"SELECT {_EVAL_COLUMNS} FROM evaluations e LEFT JOIN candidates c ON c.id = e.candidate_id"
        if max_seq is not None:
            rows = self.conn.execute(sql + " WHERE e.seq <= ? ORDER BY e.seq", (int(max_seq),))
        else:
            rows = self.conn.execute(sql + " ORDER BY e.seq")
        names = self._names()
        return [_record(r, names, self.path, self._check_reads) for r in rows]

    @_guard
    def summary_rows(self, max_seq: Optional[int] = None) -> list[tuple]:
        """What reports need of every evaluation, without parameters: one tuple per row.

        ``(seq, candidate_id, status, objectives_json, constraints_json, cached_from, attempts)``
        in completion order (the JSON texts undecoded; ``None`` where absent), up to
        ``max_seq`` when given.  Much cheaper than :meth:`evaluations` on large runs.
        """
        check = self._check_reads
        cols = _EVAL_ROW if check else "seq, candidate_id, status, objectives, constraints, cached_from, attempts"
        sql = f"SELECT {cols} FROM evaluations"
        if max_seq is not None:
            rows = self.conn.execute(sql + " WHERE seq <= ? ORDER BY seq", (int(max_seq),)).fetchall()
        else:
            rows = self.conn.execute(sql + " ORDER BY seq").fetchall()
        if not check:
            return rows
        sound = _eval_sound
        if not all(map(sound, rows)):
            bad = next(r for r in rows if not sound(r))
            raise _damaged(self.path, "evaluations", f"seq={bad[0]}")
        return [(r[0], r[1], r[3], r[4], r[5], r[13], r[12]) for r in rows]

    @_guard
    def records(self, seqs: Iterable[int]) -> list[EvaluationRecord]:
        """The evaluations with the given sequence numbers, in that order (missing ones skipped)."""
        seqs = [int(s) for s in seqs]
        names = self._names()
        found: dict[int, EvaluationRecord] = {}
        for i in range(0, len(seqs), 500):
            part = seqs[i:i + 500]
            rows = self.conn.execute(
                f"SELECT {_EVAL_COLUMNS} FROM evaluations e LEFT JOIN candidates c ON c.id = e.candidate_id "
                f"WHERE e.seq IN ({','.join('?' * len(part))})", part).fetchall()
            found.update((r[0], _record(r, names, self.path, self._check_reads)) for r in rows)
        return [found[s] for s in seqs if s in found]

    @_guard
    def distinct_counts(self) -> dict[str, int]:
        """Distinct candidates among the evaluations actually run (neither cached nor refused unrun).

        Returns:
            ``{"all": ..., "not_pruned": ..., "ok": ...}``: distinct canonical keys of
            every such evaluation, of those not outside the search space, of the ok ones.
        """
        where = "cached_from IS NULL AND attempts > 0"
        one = lambda cond: int(self.conn.execute(  # noqa: E731
            f"SELECT COUNT(DISTINCT key) FROM evaluations WHERE {where}{cond}").fetchone()[0])
        return {"all": one(""), "not_pruned": one(" AND status != 'pruned'"), "ok": one(" AND status = 'ok'")}

    @_guard
    def n_untold(self) -> int:
        """Number of finished evaluations the checkpointed search has not been told."""
        return int(self.conn.execute("SELECT COUNT(*) FROM evaluations WHERE told = 0").fetchone()[0])

    @_guard
    def add_log(self, kind: str, values: Mapping) -> None:
        """Append one log entry outside a search step (e.g. a network trained after the search).

        The entry is stored at the current number of told results; it is not part
        of the search's checkpoint, so resuming the run neither repeats nor loses it.

        Args:
            kind: The log's kind (e.g. ``"final_training"``); read back with ``logs(kind)``.
            values: JSON values (``moopt.serial`` encodes numpy arrays and tuples).

        Examples:
            >>> with RunStore(":memory:") as st:
            ...     st.add_log("note", {"text": "hello"})
            ...     [e["text"] for e in st.logs("note")]
            ['hello']
        """
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"a log kind must be a non-empty string, got {kind!r}.")
        n_told = int(self.conn.execute("SELECT COUNT(*) FROM evaluations WHERE told = 1").fetchone()[0])
        with self._write() as c:
            self._insert_logs(c, [(n_told, kind, serial.dumps(dict(values)), time.time())])

    @_guard
    def logs(self, kind: Optional[str] = None) -> list[dict]:
        """The search's logs, each ``{"kind", "n_told", "time", **values}``, in order."""
        sql = "SELECT seq, n_told, kind, data, time, crc FROM logs"
        args: tuple = ()
        if kind is not None:
            sql += " WHERE kind = ?"
            args = (kind,)
        out = []
        for row in self.conn.execute(sql + " ORDER BY seq", args):
            if row_checksum("logs", row[:5]) != row[5]:
                raise _damaged(self.path, "logs", f"seq={row[0]}")
            out.append({"kind": row[2], "n_told": row[1], "time": row[4],
                        **_loads(row[3], self.path, "logs", f"seq={row[0]}", "data")})
        return out


class _Txn:
    """``with`` block running one ``BEGIN IMMEDIATE ... COMMIT`` (rollback on error)."""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
