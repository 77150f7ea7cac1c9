"""The contract of a run store, reusable for your own store (e.g. a :class:`~moopt.RunStore` subclass).

A :class:`StoreFactory` opens the store under test:
``factory.open(location, lock=False, readonly=False)``; ``location`` is a file
path in a fresh directory (an in-memory store ignores it).  Build one with
:func:`run_store_factory` (``RunStore`` or a subclass, on a file or in memory)
or pass a plain callable ``open(location, **kw)`` for a file store.  The checks
write through the methods the engine uses (``configure``, ``record_ask``,
``record_evaluation``, ``record_tell``, ``record_cached``) and read back
through those it and the reports use, and assert:

==============  ==================================================================
``configure``   the first ``configure`` returns False, the same identity True
                (compared as JSON: tuples equal lists); ``extra`` settings are
                merged; another seed/algorithm/options/problem is refused with a
                :class:`~moopt.RunStoreError` naming what differs, and nothing changes
``roundtrip``   candidates (params of every variable type, token sequences
                included, and info) and evaluations (ok/failed/pruned, values,
                constraints, metrics, error text, times, worker, seed, attempts)
                read back exactly (floats to the last bit), in completion order,
                through ``evaluations()`` and ``record(seq)``
``checkpoint``  ``None`` before the first; the latest state only, exactly
                (numpy arrays, 128-bit RNG integers, unicode); ``state=None`` keeps it
``logs``        logs from ``record_ask``/``record_tell`` come back in order with
                their kind, ``n_told`` (``_n_told`` when given) and values; the
                caller's dicts are not modified; ``logs(kind)`` filters
``protocol``    ``pending()`` (asked, not finished, id order), ``untold()``
                (finished, not told, completion order), told marks, invalid
                candidates recorded at ask time, ``counts()``, ``n_results()``
``repeated``    ``lookup_ok(key)`` finds the first ok evaluation of a canonical
                key (never a failed or cached one), also right after it is
                recorded; cached answers copy the original's values
``atomic``      a write that fails (reused candidate id, non-JSON state) leaves
                nothing behind (one transaction per engine step)
``closed``      ``close()`` twice is harmless; a closed store raises RunStoreError
``engine``      through :func:`moopt.optimize` with the store object: a repeated
                candidate is answered from the store, never evaluated twice nor
                charged to the budget (``n_paid``), and
                (persistent stores) a second call resumes where the first stopped
``reopen``      (persistent) reopening gives the same data; a read-only open
                gives it too and refuses writes with RunStoreError
``lock``        (persistent) a second writer (``lock=True``) is refused with
                RunStoreError while the first is open; a reader is not
``bad_files``   (persistent) a non-SQLite, foreign SQLite, other-format,
                newer-schema, corrupt or truncated file, a directory and a
                missing file (read-only) raise RunStoreError naming the file
==============  ==================================================================

moopt has one store implementation, :class:`moopt.store.RunStore` (SQLite);
``optimize(..., store=None)`` uses the same class on ``":memory:"`` (not
persistent: the last three checks do not apply to it).

Example (one call, raises AssertionError naming the failed check):
    >>> from moopt.testing import check_store, run_store_factory
    >>> check_store(run_store_factory(memory=True), checks=["roundtrip", "repeated"])

With pytest, one test per check (``tmp_path`` gives the directory)::

    from moopt.testing import run_store_check, run_store_factory, store_cases

    FACTORY = run_store_factory(MyStore)

    @pytest.mark.parametrize("check", store_cases(FACTORY))
    def test_my_store_contract(check, tmp_path):
        run_store_check(check, FACTORY, tmp_path)

or subclass :class:`StoreContract`::

    class TestMyStoreContract(StoreContract):
        factory = run_store_factory(MyStore)
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Union

import numpy as np

from .. import serial
from ..errors import RunStoreError
from ..space import Categorical, Integer, Real, Space, TokenSequence
from ..store import SCHEMA_VERSION, RunStore


# ----------------------------------------------------------------- factories
def bump_sqlite_schema(location: str) -> None:
    """Make a closed moopt SQLite store look written by a newer moopt (``user_version`` + 1)."""
    con = sqlite3.connect(location)
    try:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        con.commit()
    finally:
        con.close()


@dataclass(frozen=True)
class StoreFactory:
    """How the store contract opens the store under test.

    Attributes:
        open: ``open(location, *, lock=False, readonly=False) -> store``.
        persistent: Data outlives ``close()`` at ``location`` (a file); the
            ``reopen``, ``lock`` and ``bad_files`` checks apply.
        name: Label for messages and test ids.
        make_newer: ``make_newer(location)`` turns a closed store into one of a
            newer schema (``bad_files``); ``None`` skips that case.

    Example:
        >>> f = StoreFactory(lambda loc, **kw: RunStore(loc, **kw), name="sqlite")
        >>> f.persistent
        True
    """

    open: Callable[..., Any]
    persistent: bool = True
    name: str = "store"
    make_newer: Optional[Callable[[str], None]] = bump_sqlite_schema


def run_store_factory(cls: type = RunStore, *, memory: bool = False, **kwargs) -> StoreFactory:
    """A :class:`StoreFactory` for :class:`~moopt.RunStore` or a subclass.

    Args:
        cls: The store class (``cls(path, lock=..., readonly=..., **kwargs)``).
        memory: Open ``":memory:"`` (what ``optimize(..., store=None)`` uses).
        **kwargs: More arguments for ``cls`` (e.g. ``synchronous="full"``).

    Example:
        >>> run_store_factory(memory=True).persistent
        False
    """
    label = cls.__name__ + (":memory:" if memory else "") + "".join(f",{k}={v}" for k, v in kwargs.items())
    if memory:
        def open_memory(location, *, lock=False, readonly=False):
            return cls(":memory:", **kwargs)

        return StoreFactory(open_memory, persistent=False, name=label, make_newer=None)

    def open_file(location, *, lock=False, readonly=False):
        return cls(location, lock=lock, readonly=readonly, **kwargs)

    return StoreFactory(open_file, persistent=True, name=label)


FactoryLike = Union[StoreFactory, Callable[..., Any]]


def _factory(factory: FactoryLike) -> StoreFactory:
    if isinstance(factory, StoreFactory):
        return factory
    if isinstance(factory, type):
        return run_store_factory(factory)
    if callable(factory):
        return StoreFactory(factory, name=getattr(factory, "__name__", "store"))
    raise TypeError(f"a store factory must be a StoreFactory, a store class or a callable open(location, **kw), "
                    f"got {type(factory).__name__}.")


# ------------------------------------------------------------------- data
IDENTITY: dict[str, Any] = {"problem": {"name": "store-contract", "variables": [], "objectives": [{"name": "error"}]},
            "algorithm": "random", "options": {"batch": 4, "sigma": 0.25}, "seed": 7}

SPACE = Space([
    Real("lr", 1e-5, 1.0, log=True), Integer("depth", 1, 8), Categorical("op", ("conv3", "dw3", 7, 0.5, True)),
    TokenSequence("cell", ("conv", "pool", "skip"), 3, 3), TokenSequence("path", ("x", "y"), 1, 5),
])

_PARAMS: list[dict[str, Any]] = [
    {"lr": 0.1 + 0.2, "depth": 3, "op": "conv3", "cell": ("conv", "pool", "skip"), "path": ("x",)},
    {"lr": 1e-5, "depth": 8, "op": 7, "cell": ("skip", "skip", "conv"), "path": ("x", "y", "y", "x", "y")},
    {"lr": 1 / 3, "depth": 1, "op": 0.5, "cell": ("pool", "conv", "pool"), "path": ("y", "y")},
    {"lr": 0.000123456789012345, "depth": 5, "op": True, "cell": ("conv", "conv", "conv"), "path": ("y",)},
    {"lr": 1.0, "depth": 2, "op": "dw3", "cell": ("skip", "pool", "conv"), "path": ("x", "x", "x")},
]

_ERROR = ("RuntimeError: CUDA out of memory — tried to allocate 2.00 GiB (\u00e9t\u00e9 \u2713)\n"
          "  File \"train.py\", line 42, in step\n    loss = model(x)\n"
          "'single' \"double\" back\\slash \t tab\n" + "x" * 1500 + " [end]")

_METRICS: dict[str, Any] = {"epochs": 3, "train_s": 12.000000000000002, "note": "unicode \u2713 \"quoted\"\nnew line",
            "curve": [0.1, 0.2, 1e-300, -0.0], "nested": {"a": [1, "b", None, True, False]}, "big": 2 ** 62,
            "tiny": 5e-324}


def _key(params: Mapping) -> str:
    return serial.canonical(SPACE.validate(params))


def _entry(cid: int, params: Mapping, info: Optional[Mapping] = None) -> tuple:
    """``(id, key, params_json, info_json)`` as the engine writes them."""
    key = _key(params)
    return (cid, key, key, serial.dumps(dict(info or {})))


def _canon(obj: Any) -> str:
    """Exact comparable text: floats to the last bit, -0.0 and int/float/bool kept apart."""
    def default(o):
        if dataclasses.is_dataclass(o):
            return dataclasses.asdict(o)
        if isinstance(o, np.ndarray):
            return {"ndarray": o.tolist(), "dtype": o.dtype.str, "shape": list(o.shape)}
        if isinstance(o, np.generic):
            return {"np": o.item(), "dtype": o.dtype.str}
        raise TypeError(f"cannot compare {type(o).__name__}")

    return json.dumps(obj, default=default, sort_keys=True, allow_nan=True)


def _same(name: str, what: str, got: Any, want: Any) -> None:
    g, w = _canon(got), _canon(want)
    if g == w:
        return
    gd, wd = json.loads(g), json.loads(w)
    if isinstance(gd, dict) and isinstance(wd, dict):
        keys = [k for k in sorted(set(gd) | set(wd)) if gd.get(k, "<missing>") != wd.get(k, "<missing>")]
        detail = "; ".join(f"{k}: stored {json.dumps(wd.get(k, '<missing>'))[:160]}, read back "
                           f"{json.dumps(gd.get(k, '<missing>'))[:160]}" for k in keys[:3])
    else:
        detail = f"stored {w[:300]}, read back {g[:300]}"
    raise AssertionError(f"{name}: {what} did not round-trip exactly: {detail}")


def _snapshot(store) -> dict:
    return {"config": store.config(), "evaluations": store.evaluations(), "checkpoint": store.checkpoint(),
            "logs": store.logs(), "pending": store.pending(), "untold": store.untold(),
            "counts": store.counts(), "n_results": store.n_results(), "n_candidates": store.n_candidates()}


class _Session:
    """Opens stores of one factory in one directory; closes them all at the end."""

    def __init__(self, factory: FactoryLike, directory, check: str):
        self.factory = _factory(factory)
        self.name = self.factory.name
        self._tmp = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="moopt-store-contract-")
            directory = self._tmp.name
        # a fresh folder per check, so running the suite twice in one directory starts clean
        folder = tempfile.mkdtemp(prefix=f"{check}-", dir=str(directory))
        self.location = str(Path(folder) / f"{check}.db")
        self._open: list = []

    def open(self, **kw):
        store = self.factory.open(self.location, **kw)
        self._open.append(store)
        return store

    def __enter__(self) -> "_Session":
        return self

    def __exit__(self, *exc) -> None:
        for s in self._open:
            try:
                s.close()
            except Exception:  # noqa: BLE001 - the check's own error matters more
                pass
        if self._tmp is not None:
            self._tmp.cleanup()


def _need_persistent(session: _Session, check: str) -> None:
    if not session.factory.persistent:
        raise ValueError(f"the {check!r} check applies only to persistent stores; {session.name} is not "
                         "(use store_cases(factory) to list the checks that apply).")


def _fill(store) -> dict[str, Any]:
    """Write the round-trip data set; returns what was written, per candidate id."""
    store.configure(IDENTITY, {"budget": 10})
    infos: list[dict[str, Any]] = [{}, {"step": 2, "parent": 0}, {"why": "mutation \u2713", "scores": [0.5, 1e-12]},
                                   {}, {"pending": True}]
    store.record_ask([_entry(i, _PARAMS[i], infos[i]) for i in range(3)], {"next_id": 3}, n_told=0)
    store.record_ask([_entry(3, _PARAMS[3], infos[3]), _entry(4, _PARAMS[4], infos[4])], {"next_id": 5}, n_told=0)
    bad = {"lr": 5.0, "depth": 3, "op": "conv3", "cell": ("conv",), "path": ("x",)}
    bad_key = serial.canonical(bad)
    store.record_ask([(5, bad_key, serial.dumps(bad), "{}")], {"next_id": 6}, n_told=0,
                     immediate=[(5, bad_key, "failed", "invalid candidate: lr=5.0 is outside [1e-05, 1.0].")])
    written: dict[int, dict[str, Any]] = {
        2: dict(status="ok", objectives={"error": 1 / 3, "latency_ms": 5e-324}, constraints={"g": -0.0},
                metrics=_METRICS, error=None, started=1.5, finished=2.25, worker="proc-1", seed=3, attempts=1),
        0: dict(status="failed", objectives=None, constraints={"g": 0.5}, metrics={}, error=_ERROR,
                started=1700000000.123456, finished=1700000001.654321, worker="tcp://127.0.0.1:4242", seed=None,
                attempts=2),
        1: dict(status="pruned", objectives=None, constraints=None, metrics={"epochs": 1},
                error="pruned at epoch 1", started=None, finished=None, worker=None, seed=0, attempts=1),
        3: dict(status="ok", objectives={"error": 1.7976931348623157e308, "latency_ms": 123456789.12345679},
                constraints=None, metrics={}, error=None, started=3.0, finished=3.0, worker="main",
                seed=2 ** 31 - 1, attempts=1),
    }
    seqs: dict[int, int] = {}
    for cid in (2, 0, 1, 3):  # completion order differs from id order
        w = written[cid]
        seqs[cid] = store.record_evaluation(cid, _key(_PARAMS[cid]), w["status"], objectives=w["objectives"],
                                            constraints=w["constraints"], metrics=w["metrics"] or None,
                                            error=w["error"], started=w["started"], finished=w["finished"],
                                            worker=w["worker"], seed=w["seed"], attempts=w["attempts"])
    return {"written": written, "seqs": seqs, "infos": infos, "bad": (bad, bad_key)}


# ------------------------------------------------------------------- checks
def check_configure(factory: FactoryLike, directory=None, **_) -> None:
    """Identity stored; the same accepted, another refused naming the difference; extra merged."""
    with _Session(factory, directory, "configure") as s:
        st = s.open(lock=True)
        assert st.configure(IDENTITY, {"budget": 10, "evaluator": "serial"}) is False, \
            f"{s.name}: the first configure() must return False (a new run)"
        as_json = {**IDENTITY, "options": {"sigma": 0.25, "batch": np.int64(4)}}
        assert st.configure(as_json, {"budget": 20}) is True, \
            f"{s.name}: configure() with the same identity (numpy int, other key order) must return True (a resume)"
        cfg = st.config()
        for k, v in IDENTITY.items():
            _same(s.name, f"config()[{k!r}]", cfg.get(k), v)
        _same(s.name, "config()['extra'] (merged)", cfg.get("extra"), {"budget": 20, "evaluator": "serial"})
        changes: dict[str, dict[str, Any]] = {"seed": {"seed": 8}, "algorithm": {"algorithm": "nsga2"},
                   "options": {"options": {"batch": 4, "sigma": 0.5}},
                   "problem": {"problem": {**IDENTITY["problem"], "objectives": [{"name": "loss"}]}}}
        for word, change in changes.items():
            try:
                st.configure({**IDENTITY, **change})
            except RunStoreError as exc:
                assert word in str(exc), f"{s.name}: refusing another {word} the error must name it: {exc}"
            else:
                raise AssertionError(f"{s.name}: configure() accepted a run with another {word}; "
                                     "it must raise RunStoreError naming what differs")
        _same(s.name, "config() after a refused configure()", st.config(), cfg)
        if s.factory.persistent:
            st.close()
            st = s.open(lock=True)
            assert st.configure(IDENTITY) is True, f"{s.name}: after reopening, the same identity must resume"
            try:
                st.configure({**IDENTITY, "seed": 9})
            except RunStoreError as exc:
                assert "seed" in str(exc), f"{s.name}: the error must name the seed: {exc}"
            else:
                raise AssertionError(f"{s.name}: after reopening, another seed was accepted")


def _assert_records(s: _Session, store, data: dict, told: frozenset = frozenset()) -> None:
    written, seqs, infos = data["written"], data["seqs"], data["infos"]
    recs = store.evaluations()
    order = [r.candidate_id for r in recs]
    assert order == [5, 2, 0, 1, 3], \
        f"{s.name}: evaluations() must come in completion (recording) order [5, 2, 0, 1, 3], got {order}"
    by_id = {r.candidate_id: r for r in recs}
    for cid, w in written.items():
        rec = by_id[cid]
        got = {k: getattr(rec, k) for k in w}
        want = dict(w, metrics=w["metrics"] or {})
        _same(s.name, f"evaluation of candidate {cid}", got, want)
        assert rec.key == _key(_PARAMS[cid]), f"{s.name}: candidate {cid}'s key changed: {rec.key!r}"
        assert rec.seq == seqs[cid], \
            f"{s.name}: candidate {cid}'s seq {rec.seq} is not {seqs[cid]} (returned when recorded)"
        assert rec.cached_from is None, f"{s.name}: candidate {cid} has cached_from={rec.cached_from}, not None"
        assert rec.told is (cid in told), f"{s.name}: candidate {cid} has told={rec.told}, not {cid in told}"
        try:
            params = SPACE.validate(rec.params)
        except (ValueError, TypeError, KeyError) as exc:
            raise AssertionError(f"{s.name}: candidate {cid}'s params no longer fit the space: {exc}") from None
        _same(s.name, f"params of candidate {cid}", params, SPACE.validate(_PARAMS[cid]))
        assert serial.canonical(rec.params) == rec.key, \
            f"{s.name}: candidate {cid}'s params do not encode to its key (a repeat would not be found)"
        _same(s.name, f"info of candidate {cid}", rec.info, infos[cid])
        _same(s.name, f"record({rec.seq})", store.record(rec.seq), rec)
    bad, bad_key = data["bad"]
    rec = by_id[5]
    assert (rec.status, rec.key) == ("failed", bad_key) and "outside" in (rec.error or ""), \
        f"{s.name}: the invalid candidate recorded at ask time came back as {rec.status!r} {rec.error!r}"
    _same(s.name, "params of the invalid candidate", rec.params, serial.loads(serial.dumps(bad)))


def check_roundtrip(factory: FactoryLike, directory=None, **_) -> None:
    """Candidates and evaluations read back exactly, in completion order."""
    with _Session(factory, directory, "roundtrip") as s:
        st = s.open(lock=True)
        data = _fill(st)
        _assert_records(s, st, data)


def _rng_state() -> dict:
    rng = np.random.default_rng(12345)
    rng.random(7)
    return dict(rng.bit_generator.state)


def check_checkpoint(factory: FactoryLike, directory=None, **_) -> None:
    """The latest checkpoint only, exactly; ``state=None`` keeps the previous one."""
    with _Session(factory, directory, "checkpoint") as s:
        st = s.open(lock=True)
        st.configure(IDENTITY)
        assert st.checkpoint() is None, f"{s.name}: checkpoint() must be None before the first checkpoint"
        first = {"rng": _rng_state(), "next_id": 1}
        st.record_ask([_entry(0, _PARAMS[0])], first, n_told=0)
        _same(s.name, "the first checkpoint", st.checkpoint(), (first, 0))
        arrays = {"f64": np.array([[0.1 + 0.2, -0.0], [5e-324, 1.7976931348623157e308]]),
                  "i64": np.arange(-3, 3, dtype=np.int64) * (2 ** 40), "flags": np.array([True, False, True]),
                  "f32": np.linspace(0, 1, 5, dtype=np.float32)}
        second = {"rng": _rng_state(), "next_id": 2, "arrays": arrays, "text": "\u00e9t\u00e9 \u2713",
                  "nested": [[1, 2.5, None], {"k": "v"}], "big": 2 ** 127 + 1}
        st.record_evaluation(0, _key(_PARAMS[0]), "ok", objectives={"error": 0.5})
        st.record_tell([0], second, n_told=1)
        got = st.checkpoint()
        assert got is not None and got[1] == 1, (f"{s.name}: checkpoint() after record_tell has n_told="
                                                 f"{None if got is None else got[1]}, not 1: not the latest checkpoint")
        for k, a in arrays.items():
            b = got[0]["arrays"][k]
            assert isinstance(b, np.ndarray) and b.dtype == a.dtype and b.shape == a.shape and \
                np.array_equal(a, b) and a.tobytes() == b.tobytes(), \
                f"{s.name}: checkpoint array {k!r} came back as {b!r} (want {a!r}, dtype {a.dtype})"
        _same(s.name, "the latest checkpoint", got, (second, 1))
        st.record_ask([_entry(1, _PARAMS[1])], None, n_told=1)
        st.record_tell([], None, n_told=1)
        _same(s.name, "the checkpoint after writes without state", st.checkpoint(), (second, 1))


def check_logs(factory: FactoryLike, directory=None, **_) -> None:
    """Logs come back in order with kind, n_told and values; logs(kind) filters."""
    with _Session(factory, directory, "logs") as s:
        st = s.open(lock=True)
        st.configure(IDENTITY)
        entries = [{"kind": "policy", "reward": 0.1 + 0.2, "entropy": [1.5, 1e-300], "_n_told": 0},
                   {"kind": "surrogate", "tau": -0.0, "note": "\u2713 \"q\""}]
        given = [dict(e) for e in entries]
        st.record_ask([_entry(0, _PARAMS[0])], {"s": 0}, n_told=0, logs=given)
        assert given == entries, f"{s.name}: record_ask modified the caller's log dicts: {given}"
        st.record_evaluation(0, _key(_PARAMS[0]), "ok", objectives={"error": 0.5})
        st.record_tell([0], {"s": 1}, n_told=1, logs=[{"kind": "policy", "reward": 2 ** 53 + 1, "_n_told": 1},
                                                      {"epoch": 3}])
        logs = st.logs()
        want: list[tuple[str, int, dict[str, Any]]] = [("policy", 0, {"reward": 0.1 + 0.2, "entropy": [1.5, 1e-300]}),
                ("surrogate", 0, {"tau": -0.0, "note": "\u2713 \"q\""}),
                ("policy", 1, {"reward": 2 ** 53 + 1}), ("log", 1, {"epoch": 3})]
        assert len(logs) == len(want), f"{s.name}: {len(want)} logs written, {len(logs)} read back"
        for got, (kind, n_told, values) in zip(logs, want):
            assert isinstance(got.get("time"), float), f"{s.name}: log {got} has no float 'time'"
            _same(s.name, f"log {kind!r}", {k: v for k, v in got.items() if k != "time"},
                  {"kind": kind, "n_told": n_told, **values})
        assert [lg["kind"] for lg in st.logs("policy")] == ["policy", "policy"], \
            f"{s.name}: logs('policy') returned {st.logs('policy')}"


def check_protocol(factory: FactoryLike, directory=None, **_) -> None:
    """pending/untold/told/counts as the engine's resume protocol needs them."""
    with _Session(factory, directory, "protocol") as s:
        st = s.open(lock=True)
        data = _fill(st)
        infos = data["infos"]
        pending = st.pending()
        assert [p[0] for p in pending] == [4], f"{s.name}: pending() must list only candidate 4, got {pending}"
        _same(s.name, "pending() params", SPACE.validate(pending[0][1]), SPACE.validate(_PARAMS[4]))
        _same(s.name, "pending() info", pending[0][2], infos[4])
        untold = [r.candidate_id for r in st.untold()]
        assert untold == [5, 2, 0, 1, 3], f"{s.name}: untold() must be 5, 2, 0, 1, 3 (completion order), got {untold}"
        st.record_tell([5, 2], {"s": 1}, n_told=2)
        st.record_ask([_entry(6, {**_PARAMS[4], "depth": 6})], {"s": 2}, n_told=2, told=[0])
        untold = [r.candidate_id for r in st.untold()]
        assert untold == [1, 3], f"{s.name}: after told marks for 5, 2, 0, untold() must be [1, 3], got {untold}"
        told = {r.candidate_id: r.told for r in st.evaluations()}
        assert told == {5: True, 2: True, 0: True, 1: False, 3: False}, f"{s.name}: told flags {told}"
        assert [p[0] for p in st.pending()] == [4, 6], f"{s.name}: pending() must be [4, 6], got {st.pending()}"
        counts = st.counts()
        want = {"ok": 2, "failed": 2, "pruned": 1, "cached": 0, "pending": 2}
        assert {k: counts.get(k) for k in want} == want, f"{s.name}: counts() {counts}, want {want}"
        assert st.n_results() == 5 and st.n_candidates() == 7, \
            f"{s.name}: n_results()={st.n_results()} (want 5), n_candidates()={st.n_candidates()} (want 7)"


def check_repeated(factory: FactoryLike, directory=None, **_) -> None:
    """lookup_ok finds the first ok evaluation of a key, at once; cached answers copy it."""
    with _Session(factory, directory, "repeated") as s:
        st = s.open(lock=True)
        st.configure(IDENTITY)
        k0, k1, k2 = (_key(p) for p in _PARAMS[:3])
        assert st.lookup_ok(k0) is None, f"{s.name}: lookup_ok() found a key in an empty store"
        st.record_ask([_entry(0, _PARAMS[0]), _entry(1, _PARAMS[1]), _entry(2, _PARAMS[0])], {"s": 0}, n_told=0)
        st.record_evaluation(1, k1, "failed", error="boom")
        assert st.lookup_ok(k1) is None, f"{s.name}: lookup_ok() returned a failed evaluation"
        first = st.record_evaluation(0, k0, "ok", objectives={"error": 0.1 + 0.2}, constraints={"g": -1.0},
                                     metrics={"epochs": 3, "note": "n"})
        assert st.lookup_ok(k0) == first, \
            f"{s.name}: lookup_ok() right after the ok evaluation gave {st.lookup_ok(k0)}, not its seq {first}"
        st.record_evaluation(2, k0, "ok", objectives={"error": 0.25})  # evaluated again (e.g. a forced rerun)
        assert st.lookup_ok(k0) == first, f"{s.name}: lookup_ok() must keep answering the first ok evaluation"
        st.record_ask([_entry(3, _PARAMS[1])], {"s": 1}, n_told=0)
        second = st.record_evaluation(3, k1, "ok", objectives={"error": 0.75})
        assert st.lookup_ok(k1) == second, f"{s.name}: after a failure then an ok, lookup_ok() must find the ok one"
        st.record_ask([_entry(4, _PARAMS[0]), _entry(5, _PARAMS[1])], {"s": 2}, n_told=0, cached=[(4, first)])
        seq5 = st.record_cached(5, second)
        by_id = {r.candidate_id: r for r in st.evaluations()}
        for cid, orig in ((4, first), (5, second)):
            rec, src = by_id[cid], st.record(orig)
            assert rec.cached_from == orig and rec.status == "ok", \
                f"{s.name}: cached candidate {cid}: cached_from={rec.cached_from}, status={rec.status}"
            _same(s.name, f"values of cached candidate {cid}", (rec.objectives, rec.constraints, rec.metrics),
                  (src.objectives, src.constraints, src.metrics))
        assert by_id[5].seq == seq5, f"{s.name}: record_cached() returned {seq5}, the record has seq {by_id[5].seq}"
        assert st.lookup_ok(k0) == first and st.lookup_ok(k1) == second, \
            f"{s.name}: after cached answers lookup_ok() must still give the originals"
        assert st.lookup_ok(k2) is None, f"{s.name}: lookup_ok() found a key never evaluated"
        assert st.counts().get("cached") == 2, f"{s.name}: counts()['cached'] is {st.counts().get('cached')}, not 2"
        if s.factory.persistent:
            st.close()
            st = s.open(lock=True)
            assert (st.lookup_ok(k0), st.lookup_ok(k1), st.lookup_ok(k2)) == (first, second, None), \
                f"{s.name}: after reopening lookup_ok() gives {(st.lookup_ok(k0), st.lookup_ok(k1))}"


def check_atomic(factory: FactoryLike, directory=None, **_) -> None:
    """A failing write (reused id, non-JSON state) leaves nothing behind."""
    with _Session(factory, directory, "atomic") as s:
        st = s.open(lock=True)
        st.configure(IDENTITY)
        st.record_ask([_entry(0, _PARAMS[0])], {"s": 0}, n_told=0, logs=[{"kind": "a"}])
        before = _canon(_snapshot(st))
        try:
            st.record_ask([_entry(1, _PARAMS[1]), _entry(0, _PARAMS[2])], {"s": 1}, n_told=0, logs=[{"kind": "b"}])
        except Exception:  # noqa: BLE001 - any error will do; the engine reports it
            pass
        else:
            raise AssertionError(f"{s.name}: record_ask() accepted a candidate id already used (0)")
        assert _canon(_snapshot(st)) == before, \
            f"{s.name}: a record_ask() refused for a reused id left part of its batch behind"
        try:
            st.record_ask([_entry(1, _PARAMS[1])], {"s": object()}, n_told=0, logs=[{"kind": "c"}])
        except TypeError as exc:
            assert "state" in str(exc), f"{s.name}: the error for a non-JSON state must say so: {exc}"
        else:
            raise AssertionError(f"{s.name}: record_ask() stored a state that is not JSON")
        assert _canon(_snapshot(st)) == before, f"{s.name}: a record_ask() with a non-JSON state left data behind"


def check_closed(factory: FactoryLike, directory=None, **_) -> None:
    """close() twice is harmless; a closed store raises RunStoreError."""
    with _Session(factory, directory, "closed") as s:
        st = s.open(lock=True)
        st.configure(IDENTITY)
        st.close()
        st.close()
        for what, call in (("n_results", lambda: st.n_results()), ("evaluations", lambda: st.evaluations()),
                           ("configure", lambda: st.configure(IDENTITY))):
            try:
                call()
            except RunStoreError:
                continue
            except Exception as exc:  # noqa: BLE001
                raise AssertionError(f"{s.name}: {what}() on a closed store raised {type(exc).__name__}: {exc}; "
                                     "raise RunStoreError saying it is closed") from None
            raise AssertionError(f"{s.name}: {what}() worked on a closed store")
        with s.open(lock=True) as again:
            assert again is not None


def check_engine(factory: FactoryLike, directory=None, **_) -> None:
    """Through moopt.optimize with the store object: repeats answered from the store; resume."""
    from ..engine import optimize
    from ..problem import Problem
    from .evaluator_contract import _ListSearch

    calls: list = []

    def evaluate(p):
        calls.append(serial.canonical(p))
        return {"f1": p["x"] * 0.1 + len(p["seq"]), "f2": 1.0 / (1.0 + p["x"]), "note": "".join(p["seq"])}

    problem = Problem([Real("x", 0.0, 1.0), TokenSequence("seq", ("a", "b"), 1, 3)], ["f1", "f2"], evaluate,
                      name="store-contract-engine")
    plist = [{"x": 0.1, "seq": ("a",)}, {"x": 0.2, "seq": ("a", "b")}, {"x": 0.1, "seq": ("a",)},
             {"x": 0.3, "seq": ("b", "b", "a")}, {"x": 0.2, "seq": ("a", "b")}, {"x": 0.4, "seq": ("b",)}]
    with _Session(factory, directory, "engine") as s:
        st = s.open(lock=True)
        # the budget counts paid evaluations: candidate 2 (a repeat of 0) is free
        first = optimize(problem, _ListSearch(problem, plist, seed=0), budget=3, store=st, progress=False)
        recs = {r.candidate_id: r for r in first.records}
        assert 2 in recs and recs[2].cached_from == recs[0].seq and recs[2].objectives == recs[0].objectives, \
            f"{s.name}: candidate 2 repeats candidate 0 but was not answered from the store"
        assert (first.n_results, first.n_paid) == (4, 3), \
            f"{s.name}: {first.n_results} results, {first.n_paid} paid for a budget of 3 (want 4 and 3)"
        if s.factory.persistent:
            st.close()
            st = s.open(lock=True)
        second = optimize(problem, _ListSearch(problem, plist, seed=0), budget=4, store=st, progress=False)
        assert second.n_results == 6 and second.resumed, (f"{s.name}: the second optimize() did not resume to 6 "
                                                          f"results ({second.n_results}, resumed={second.resumed})")
        _same(s.name, "the first run's records after the resume", second.records[:4], first.records)
        recs = {r.candidate_id: r for r in second.records}
        assert recs[4].cached_from == recs[1].seq, f"{s.name}: candidate 4 repeats 1 but was evaluated again"
        assert len(calls) == len(set(calls)) == 4, \
            f"{s.name}: evaluate ran {len(calls)} times for 4 distinct candidates: {calls}"


def check_reopen(factory: FactoryLike, directory=None, **_) -> None:
    """(persistent) Reopening, also read-only, gives the same data; read-only refuses writes."""
    with _Session(factory, directory, "reopen") as s:
        _need_persistent(s, "reopen")
        st = s.open(lock=True)
        data = _fill(st)
        st.record_tell([5, 2], {"rng": _rng_state(), "a": np.arange(4.0)}, n_told=2, logs=[{"kind": "k", "v": 1.5}])
        before = _canon(_snapshot(st))
        st.close()
        st = s.open(lock=True)
        assert _canon(_snapshot(st)) == before, f"{s.name}: reopening the store changed its data"
        _assert_records(s, st, data, told=frozenset({5, 2}))
        st.close()
        ro = s.open(readonly=True)
        assert _canon(_snapshot(ro)) == before, f"{s.name}: a read-only open shows other data"
        for what, call in (("record_tell", lambda: ro.record_tell([1], {"s": 0}, n_told=3)),
                           ("record_evaluation", lambda: ro.record_evaluation(4, _key(_PARAMS[4]), "ok",
                                                                             objectives={"error": 1.0})),
                           ("record_ask", lambda: ro.record_ask([_entry(9, _PARAMS[0])], {"s": 0}, n_told=0))):
            try:
                call()
            except RunStoreError:
                continue
            except Exception as exc:  # noqa: BLE001
                raise AssertionError(f"{s.name}: {what}() on a read-only store raised {type(exc).__name__}: "
                                     f"{exc}; raise RunStoreError") from None
            raise AssertionError(f"{s.name}: {what}() wrote to a store opened read-only")
        assert _canon(_snapshot(ro)) == before, f"{s.name}: a refused write changed a read-only store"


def check_lock(factory: FactoryLike, directory=None, **_) -> None:
    """(persistent) A second writer is refused while the first is open; a reader is not."""
    with _Session(factory, directory, "lock") as s:
        _need_persistent(s, "lock")
        st = s.open(lock=True)
        st.configure(IDENTITY)
        st.record_ask([_entry(0, _PARAMS[0])], {"s": 0}, n_told=0)
        st.record_evaluation(0, _key(_PARAMS[0]), "ok", objectives={"error": 0.5})
        try:
            other = s.open(lock=True)
        except RunStoreError as exc:
            assert Path(s.location).name in str(exc), f"{s.name}: the lock error must name the file: {exc}"
        else:
            other.close()
            raise AssertionError(f"{s.name}: a second writer (lock=True) opened the store while the first "
                                 "held it; two runs would write the same file")
        reader = s.open(readonly=True)
        assert reader.n_results() == 1, \
            f"{s.name}: a reader sees {reader.n_results()} results while a writer runs, not 1"
        reader.close()
        st.close()
        again = s.open(lock=True)
        assert again.n_results() == 1, f"{s.name}: after the first writer closed, the next one sees other data"


def _write_bad(kind: str, path: Path, s: _Session) -> None:
    if kind == "non-SQLite":
        path.write_text("id,error\n1,0.5\n" * 50)
    elif kind == "foreign SQLite":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE experiments (id INTEGER, loss REAL)")
        con.commit()
        con.close()
    elif kind == "other-format":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.execute("INSERT INTO meta VALUES ('format', 'optuna-storage')")
        con.commit()
        con.close()
    elif kind in ("newer-schema", "corrupt", "truncated"):
        st = s.factory.open(str(path), lock=True)
        try:
            st.configure(IDENTITY)
            entries = []
            for i in range(250):
                key = serial.canonical({"i": i, "pad": "y" * 200, **SPACE.validate(_PARAMS[i % 5])})
                entries.append((i, key, key, "{}"))
            st.record_ask(entries, {"s": 250}, n_told=0)
        finally:
            st.close()
        if kind == "newer-schema":
            assert s.factory.make_newer is not None
            s.factory.make_newer(str(path))
        elif kind == "corrupt":
            data = bytearray(path.read_bytes())
            for off in range(4096, len(data) - 4096, 2048):
                data[off:off + 64] = b"\xff" * 64
            path.write_bytes(bytes(data))
        else:
            whole = path.read_bytes()
            path.write_bytes(whole[: len(whole) // 2 + 100])


def check_bad_files(factory: FactoryLike, directory=None, **_) -> None:
    """(persistent) Files that are not this store's raise RunStoreError naming the file."""
    with _Session(factory, directory, "bad_files") as s:
        _need_persistent(s, "bad_files")
        base = Path(s.location).parent
        kinds = ["non-SQLite", "foreign SQLite", "other-format", "corrupt", "truncated"]
        if s.factory.make_newer is not None:
            kinds.insert(3, "newer-schema")
        for kind in kinds:
            path = base / f"bad-{kind.replace(' ', '-').lower()}.db"
            _write_bad(kind, path, s)
            for mode in ({"lock": True}, {"readonly": True}):
                try:
                    st = s.factory.open(str(path), **mode)
                    try:
                        st.configure(IDENTITY)
                        st.evaluations()
                        st.pending()
                        st.checkpoint()
                    finally:
                        st.close()
                except RunStoreError as exc:
                    assert path.name in str(exc), f"{s.name}: the error for a {kind} file must name it: {exc}"
                    continue
                except Exception as exc:  # noqa: BLE001
                    raise AssertionError(f"{s.name}: a {kind} file ({mode}) raised {type(exc).__name__}: {exc}; "
                                         "raise RunStoreError naming the file and what to do") from None
                raise AssertionError(f"{s.name}: a {kind} file opened ({mode}) and was read without "
                                     "RunStoreError; refuse files that are not a store of this schema")
        for what, location, mode in (("a directory", str(base), {"lock": True}),
                                     ("a missing file", str(base / "missing.db"), {"readonly": True})):
            try:
                s.factory.open(location, **mode).close()
            except RunStoreError as exc:
                assert Path(location).name in str(exc), f"{s.name}: the error for {what} must name it: {exc}"
            except Exception as exc:  # noqa: BLE001
                raise AssertionError(f"{s.name}: opening {what} raised {type(exc).__name__}: {exc}; "
                                     "raise RunStoreError") from None
            else:
                raise AssertionError(f"{s.name}: opening {what} ({mode}) did not fail")


CHECKS: dict[str, Callable[..., None]] = {
    "configure": check_configure,
    "roundtrip": check_roundtrip,
    "checkpoint": check_checkpoint,
    "logs": check_logs,
    "protocol": check_protocol,
    "repeated": check_repeated,
    "atomic": check_atomic,
    "closed": check_closed,
    "engine": check_engine,
    "reopen": check_reopen,
    "lock": check_lock,
    "bad_files": check_bad_files,
}
STORE_CHECKS = CHECKS
PERSISTENT_ONLY = ("reopen", "lock", "bad_files")


def run_store_check(check: str, factory: FactoryLike, directory: Union[str, os.PathLike, None] = None,
                    **options) -> None:
    """Run one named check (a key of :data:`STORE_CHECKS`); raises AssertionError on failure.

    Args:
        check: The check's name.
        factory: A :class:`StoreFactory`, a store class, or ``open(location, **kw)``.
        directory: Where the check's files go (default: a temporary directory).

    Example:
        >>> run_store_check("checkpoint", run_store_factory(memory=True))
    """
    if check not in CHECKS:
        raise ValueError(f"unknown store contract check {check!r}; choose one of {list(CHECKS)}.")
    CHECKS[check](factory, directory, **options)


def store_cases(factory: FactoryLike, checks: Optional[Iterable[str]] = None) -> list[str]:
    """Check names that apply to ``factory`` (the persistent-only ones need a persistent store).

    Example:
        >>> "reopen" in store_cases(run_store_factory(memory=True))
        False
    """
    f = _factory(factory)
    names = list(checks) if checks is not None else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown store contract checks {unknown}; choose from {list(CHECKS)}.")
    return [n for n in names if f.persistent or n not in PERSISTENT_ONLY]


def check_store(factory: FactoryLike, directory: Union[str, os.PathLike, None] = None, *,
                checks: Optional[Iterable[str]] = None, **options) -> None:
    """Run every applicable contract check on a store.

    Args:
        factory: A :class:`StoreFactory`, a store class, or ``open(location, **kw)``.
        directory: Where the files go (default: a temporary directory).
        checks: Subset of :data:`STORE_CHECKS` (default: all that apply).

    Raises:
        AssertionError: naming the check that failed.

    Example:
        >>> check_store(RunStore)  # the SQLite store on files, every check
    """
    f = _factory(factory)
    for n in store_cases(f, checks):
        try:
            run_store_check(n, f, directory, **options)
        except AssertionError as exc:
            raise AssertionError(f"store contract check {n!r} failed for {f.name}: {exc}") from exc


class StoreContract:
    """Base class for pytest: subclass as ``TestXxx(StoreContract)`` and set :attr:`factory`.

    Checks that do not apply (persistent-only ones on an in-memory store) are skipped.

    Attributes:
        factory: A :class:`StoreFactory` (see :func:`run_store_factory`).
        options: Options for the checks.

    Example:
        >>> class TestMemoryStore(StoreContract):
        ...     factory = run_store_factory(memory=True)
    """

    factory: Optional[StoreFactory] = None
    options: Mapping[str, Any] = {}

    def _run(self, check: str, tmp_path) -> None:
        if self.factory is None:  # pragma: no cover - misuse
            raise NotImplementedError("set factory = run_store_factory(...) in your StoreContract subclass")
        if check not in store_cases(self.factory):
            import pytest

            pytest.skip(f"{check!r} applies only to persistent stores")
        run_store_check(check, self.factory, tmp_path, **dict(self.options))

    def test_configure(self, tmp_path):
        self._run("configure", tmp_path)

    def test_roundtrip(self, tmp_path):
        self._run("roundtrip", tmp_path)

    def test_checkpoint(self, tmp_path):
        self._run("checkpoint", tmp_path)

    def test_logs(self, tmp_path):
        self._run("logs", tmp_path)

    def test_protocol(self, tmp_path):
        self._run("protocol", tmp_path)

    def test_repeated(self, tmp_path):
        self._run("repeated", tmp_path)

    def test_atomic(self, tmp_path):
        self._run("atomic", tmp_path)

    def test_closed(self, tmp_path):
        self._run("closed", tmp_path)

    def test_engine(self, tmp_path):
        self._run("engine", tmp_path)

    def test_reopen(self, tmp_path):
        self._run("reopen", tmp_path)

    def test_lock(self, tmp_path):
        self._run("lock", tmp_path)

    def test_bad_files(self, tmp_path):
        self._run("bad_files", tmp_path)
