"""The outcome of a run: history, Pareto front, hypervolume over time, plots.

A :class:`RunResult` is read from a run store (``RunResult.load("run.db")``)
or returned by :func:`moopt.optimize`.  Tables are :class:`Table` objects (a
list of dict rows with named columns; ``.to_csv()``, ``.to_dicts()``), so no
pandas is needed.

Example:
    >>> import moopt
    >>> p = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"],
    ...                   lambda q: {"f1": q["x"], "f2": 1 - q["x"]})
    >>> res = moopt.optimize(p, "random", budget=20, seed=0)
    >>> len(res.front) == 20 and res.F.shape == (20, 2)
    True
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

import numpy as np

from ._validation import directions_signs
from .indicators import hypervolume
from .pareto import is_nondominated
from .reference import infer_reference_point


# -------------------------------------------------------------------- table
def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        return " ".join(_fmt(x) for x in v)
    return str(v)


class Table:
    """A light table: named columns and rows as dicts.

    Args:
        columns: Column names, in display order.
        rows: One dict per row (missing keys read as ``None``).

    Examples:
        >>> t = Table(["id", "f"], [{"id": 0, "f": 0.5}, {"id": 3, "f": 0.25}])
        >>> t["f"], len(t), t[1]["id"]
        ([0.5, 0.25], 2, 3)
        >>> print(t.to_csv().strip())
        id,f
        0,0.5
        3,0.25
    """

    def __init__(self, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]):
        self.columns = list(columns)
        self.rows = [dict(r) for r in rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.rows)

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self.columns:
                raise KeyError(f"no column {key!r}; columns are {self.columns}")
            return [r.get(key) for r in self.rows]
        return self.rows[key]

    def to_dicts(self) -> list[dict]:
        """The rows as a list of dicts (copies)."""
        return [{c: r.get(c) for c in self.columns} for r in self.rows]

    def to_csv(self, path: Optional[str] = None) -> str:
        """CSV text (header + rows); also written to ``path`` when given."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        for r in self.rows:
            w.writerow([_csv_cell(r.get(c)) for c in self.columns])
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_json(self) -> str:
        return json.dumps(self.to_dicts(), default=_json_default)

    def to_string(self, max_rows: Optional[int] = None) -> str:
        """Aligned text rendering (first ``max_rows`` rows)."""
        rows = self.rows if max_rows is None else self.rows[:max_rows]
        cells = [[_fmt(r.get(c)) for c in self.columns] for r in rows]
        widths = [max([len(c)] + [len(row[j]) for row in cells]) for j, c in enumerate(self.columns)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(self.columns, widths)),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
        if max_rows is not None and len(self.rows) > max_rows:
            lines.append(f"... ({len(self.rows) - max_rows} more rows)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_string(max_rows=20)


def _csv_cell(v):
    if v is None:
        return ""
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, default=_json_default)
    return v


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    return str(o)


# ------------------------------------------------------------------- result
class RunResult:
    """Everything a run produced, read from its store.

    Attributes:
        config: The stored configuration (problem, algorithm, options, seed, extra).
        records: Every finished evaluation
            (:class:`~moopt.store.EvaluationRecord`) in completion order.
        counts: Counts by status (``ok``, ``failed``, ``pruned``), ``cached``, ``pending``.
        logs: The search's logged statistics.
        resumed: True when the run continued an earlier one in the same store.
        path: The store's path (``None`` for an in-memory run).
        elapsed: Wall-clock seconds of the session that produced this result
            (set by ``moopt run``; ``None`` otherwise).

    Failed and pruned evaluations are kept in :attr:`history` but excluded from
    :attr:`F` and :attr:`front`; infeasible ones (a constraint ``> 0``) are
    excluded from the front; results answered from the store (cached
    duplicates) are counted once.  ``pruned`` marks candidates outside the
    search space (:class:`~moopt.errors.OutsideSpaceError`).

    :attr:`n_paid` is what the budget counts by default (evaluations actually
    run); :attr:`n_results` counts every answer.  :attr:`status` says how the
    run ended (``"stalled"``: the search proposed only known candidates before
    the budget was spent; :attr:`message` says what to do).
    """

    elapsed: Optional[float] = None

    def __init__(self, config: Mapping, records: Sequence, *, counts: Optional[Mapping] = None,
                 logs: Sequence[Mapping] = (), resumed: bool = False, path: Optional[str] = None):
        recs = list(records)
        rows = [(r.seq, r.candidate_id, r.status, r.objectives, r.constraints, r.cached_from, r.attempts)
                for r in recs]
        self._setup(config, rows, counts=counts, logs=logs, resumed=resumed, path=path)
        self._records: Optional[list] = recs
        self._source: Optional[_StoreSource] = None

    def _setup(self, config: Mapping, rows: Sequence[tuple], *, counts, logs, resumed, path) -> None:
        self.config = dict(config)
        self.logs = list(logs)
        self.resumed = resumed
        self.path = path
        prob = self.config.get("problem", {})
        self.objective_names = [o["name"] for o in prob.get("objectives", [])]
        self.directions = [o.get("direction", "min") for o in prob.get("objectives", [])]
        self.constraint_names = [c["name"] for c in prob.get("constraints", [])]
        self.variable_names = [v["name"] for v in prob.get("variables", [])]
        self.signs = directions_signs(self.directions, len(self.directions)) if self.directions else np.ones(0)
        self._columns(rows)
        if counts is None:
            counts = {"ok": 0, "failed": 0, "pruned": 0}
            for st in self._status:
                counts[st] = counts.get(st, 0) + 1
            counts["cached"] = int(self._cached.sum())
            counts["pending"] = 0
        self.counts = dict(counts)

    def _columns(self, rows: Sequence[tuple]) -> None:
        """Per-evaluation columns (numpy) from ``(seq, id, status, objectives, constraints, cached_from,
        attempts)`` rows, objectives and constraints as dicts or JSON text."""
        n, names = len(rows), self.objective_names
        self._seq = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        self._status = [r[2] for r in rows]
        self._cached = np.fromiter((r[5] is not None for r in rows), dtype=bool, count=n)
        self._paid = np.fromiter((r[2] in ("ok", "failed") and r[5] is None and r[6] > 0 for r in rows),
                                 dtype=bool, count=n)
        idx, F, feas = [], [], []
        loads = json.loads
        points = [i for i, r in enumerate(rows) if r[2] == "ok" and r[5] is None and r[3] is not None]
        objs = cons = None
        if points and all(isinstance(rows[i][3], str) for i in points):
            try:  # one parse of all the texts: much cheaper than one call per row
                objs = loads("[" + ",".join([rows[i][3] for i in points]) + "]")
                if len(objs) != len(points):
                    objs = None
                texts = [rows[i][4] for i in points]
                if objs is not None and all(isinstance(t, str) for t in texts):
                    cons = loads("[" + ",".join(texts) + "]")
                    cons = cons if len(cons) == len(points) else None
            except (ValueError, RecursionError):
                objs = cons = None  # a damaged text: the row-by-row reading below names its row
        try:
            for k, i in enumerate(points):
                r = rows[i]
                obj = objs[k] if objs is not None else (loads(r[3]) if isinstance(r[3], str) else r[3])
                con = cons[k] if cons is not None else r[4]
                if isinstance(con, str):
                    con = loads(con)
                idx.append(i)
                F.append([obj[nm] for nm in names])
                feas.append(not con or all(v <= 0 for v in con.values()))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            # a stored value that is not what the store wrote (its checksum is checked when read)
            from .errors import RunStoreError

            raise RunStoreError(
                f"run store {getattr(self, 'path', None) or '(in memory)'} is damaged: evaluations row seq={r[0]}: "
                f"its objectives or constraints "
                f"cannot be read ({type(exc).__name__}: {exc}); restore the file from a backup or start a new "
                "run with another path.") from None
        self._pt_idx = np.asarray(idx, dtype=np.int64)  # rows that are points (ok, not cached)
        self._pt_F = np.array(F, dtype=float).reshape(-1, len(names))  # their objectives, user directions
        self._pt_feas = np.asarray(feas, dtype=bool)
        self._front_pos: Optional[np.ndarray] = None  # indices into the points, in front order

    # -- loading ---------------------------------------------------------------
    @classmethod
    def from_store(cls, store, *, resumed: bool = False, keep: bool = False) -> "RunResult":
        """Read a result from an open :class:`~moopt.store.RunStore`.

        Only what the front, counts and hypervolume need is read at once; the full
        :attr:`records` (parameters included) are read when first used, from the
        store while it is open, else by reopening its file read-only (up to the last
        evaluation this result saw).  An in-memory store closed before that cannot be
        reopened, so its records are read at once unless ``keep`` says the result may
        keep the store open (then it holds it, and the store lives as long as the result).
        """
        path = None if store.path == ":memory:" else store.path
        self = cls.__new__(cls)
        rows = store.summary_rows()
        self._setup(store.config(), rows, counts=store.counts(), logs=store.logs(), resumed=resumed, path=path)
        max_seq = int(self._seq[-1]) if len(self._seq) else 0
        if path is None and not keep:
            self._records = store.evaluations(max_seq)
            self._source = None
        else:
            self._records = None
            self._source = _StoreSource(store, path, max_seq)
        return self

    @classmethod
    def load(cls, path: str) -> "RunResult":
        """Read the result of the run stored at ``path`` (read-only)."""
        from .store import RunStore

        with RunStore(path, readonly=True) as store:
            return cls.from_store(store)

    @property
    def records(self) -> list:
        """Every finished evaluation (:class:`~moopt.store.EvaluationRecord`) in completion order."""
        if self._records is None:
            assert self._source is not None  # set whenever the records are not
            self._records = self._source.all()
        return self._records

    @records.setter
    def records(self, value: Sequence) -> None:
        recs = list(value)
        self._records, self._source = recs, None
        self._columns([(r.seq, r.candidate_id, r.status, r.objectives, r.constraints, r.cached_from, r.attempts)
                       for r in recs])

    # -- selections ------------------------------------------------------------
    @property
    def n_results(self) -> int:
        """Finished results: every answer the search got (cached, failed and pruned included).

        This is what the budget counts with ``count_duplicates=True``.
        """
        return len(self._seq)

    @property
    def n_paid(self) -> int:
        """Evaluations actually run, ok or failed: what the budget counts by default.

        Cached duplicates, candidates with invalid parameters (refused unrun) and
        candidates outside the search space (``pruned``) are not counted.
        """
        return int(self._paid.sum())

    @property
    def count_duplicates(self) -> bool:
        """Whether the run's budget counted every result (``True``) or paid evaluations only."""
        extra = self.config.get("extra") or {}
        value = extra.get("count_duplicates")
        return bool(value) if value is not None else self.n_results > 0  # older stores counted every result

    @property
    def budget(self) -> Optional[int]:
        """The budget of the last session that ran (``None`` if unknown)."""
        value = (self.config.get("extra") or {}).get("budget")
        return None if value is None else int(value)

    @property
    def status(self) -> str:
        """How the run ended.

        ``"complete"`` (the budget is spent), ``"stalled"`` (the search proposed
        only known candidates: duplicates answered from the store, or
        candidates outside the search space, for many answers in a row),
        ``"finished"`` (the search proposed no more candidates) or
        ``"incomplete"`` (stopped before any of these, e.g. interrupted).
        """
        stop = (self.config.get("extra") or {}).get("stop")
        if isinstance(stop, Mapping) and stop.get("status"):
            return str(stop["status"])
        budget = self.budget
        spent = self.n_results if self.count_duplicates else self.n_paid
        return "complete" if budget is not None and spent >= budget else "incomplete"

    @property
    def message(self) -> Optional[str]:
        """The engine's one-line explanation of :attr:`status` (``None`` when none was stored)."""
        stop = (self.config.get("extra") or {}).get("stop")
        return str(stop["message"]) if isinstance(stop, Mapping) and stop.get("message") else None

    @property
    def F(self) -> np.ndarray:
        """Objective values of the ok evaluations, shape ``(n_ok, n_obj)``, in user directions."""
        return self._pt_F.copy()

    def _feasible_F(self) -> np.ndarray:
        return self._pt_F[self._pt_feas]

    def _front_positions(self) -> np.ndarray:
        """Indices (into the points) of the feasible Pareto front, sorted by the minimized objectives."""
        if self._front_pos is None:
            feas = np.flatnonzero(self._pt_feas)
            if len(feas) == 0:
                self._front_pos = np.zeros(0, dtype=np.int64)
            else:
                Fm = self._pt_F[feas] * self.signs
                pos = feas[is_nondominated(Fm)]
                Q = self._pt_F[pos] * self.signs
                # lexicographic by the minimized objectives (first objective first), stable like sorted()
                order = np.lexsort(Q.T[::-1]) if Q.shape[1] else np.arange(len(pos))
                self._front_pos = pos[order]
        return self._front_pos

    def _front_records(self) -> list:
        pos = self._front_positions()
        if len(pos) == 0:
            return []
        rows = self._pt_idx[pos]
        if self._records is not None:
            return [self._records[i] for i in rows]
        assert self._source is not None
        return self._source.by_seqs(self._seq[rows].tolist())

    @property
    def front_records(self) -> list:
        """The :class:`~moopt.store.EvaluationRecord` of each Pareto-optimal feasible evaluation.

        In the order of :attr:`front` (sorted by the objectives, minimized); each candidate
        once (a duplicate answered from the store is not repeated).
        """
        return self._front_records()

    @property
    def front_F(self) -> np.ndarray:
        """Objective values of the Pareto front, shape ``(n_front, n_obj)``, user directions."""
        return self._pt_F[self._front_positions()]

    @property
    def front(self) -> Table:
        """The Pareto-optimal feasible candidates: id, parameters, objectives (and constraints)."""
        cols = ["id"] + self.variable_names + self.objective_names + self.constraint_names
        rows = []
        for r in self._front_records():
            row = {"id": r.candidate_id}
            row.update({k: _plain(v) for k, v in r.params.items()})
            row.update(r.objectives)
            row.update(r.constraints or {})
            rows.append(row)
        return Table(cols, rows)

    @property
    def history(self) -> Table:
        """Every finished evaluation in completion order, failed ones included."""
        cols = (["seq", "id", "status"] + self.variable_names + self.objective_names
                + self.constraint_names + ["cached_from", "error", "worker", "started", "finished"])
        rows = []
        for r in self.records:
            row = {"seq": r.seq, "id": r.candidate_id, "status": r.status, "cached_from": r.cached_from,
                   "error": r.error, "worker": r.worker, "started": r.started, "finished": r.finished}
            row.update({k: _plain(v) for k, v in r.params.items()})
            row.update(r.objectives or {})
            row.update(r.constraints or {})
            rows.append(row)
        return Table(cols, rows)

    # -- hypervolume -------------------------------------------------------------
    def reference_point(self) -> np.ndarray:
        """Reference point inferred from the feasible ok points (user directions)."""
        F = self._feasible_F()
        if len(F) == 0:
            raise ValueError("the run has no feasible ok evaluation; pass ref= explicitly.")
        return infer_reference_point(F, directions=self.directions)

    def _ref_min(self, ref) -> np.ndarray:
        if ref is None:
            ref = self.reference_point()
        r = np.asarray(ref, dtype=float)
        if r.ndim != 1:
            raise ValueError(f"ref must be one point of shape ({len(self.objective_names)},), got an array of "
                             f"shape {r.shape}; pass a single reference point, e.g. ref[0].")
        if r.shape[0] != len(self.objective_names):
            raise ValueError(f"ref has {r.shape[0]} coordinates but the run has "
                             f"{len(self.objective_names)} objectives {self.objective_names}.")
        if not np.all(np.isfinite(r)):
            raise ValueError(f"ref must be finite, got {r.tolist()}.")
        return r * self.signs

    def hypervolume(self, ref=None) -> float:
        """Hypervolume of the feasible front w.r.t. ``ref`` (user directions; inferred if None)."""
        ref_min = self._ref_min(ref)
        return hypervolume(self.front_F * self.signs, ref_min, outside="ignore")

    def hypervolume_history(self, ref=None) -> np.ndarray:
        """Hypervolume of the front after each finished evaluation, shape ``(n_results,)``.

        Entry ``i`` covers the first ``i + 1`` evaluations (failed, infeasible
        and cached ones leave it unchanged).

        Args:
            ref: Reference point in user directions; inferred from all feasible
                ok points when ``None`` (so the last value equals :meth:`hypervolume`).
        """
        n = self.n_results
        feas = np.flatnonzero(self._pt_feas)
        ref_min = self._ref_min(ref) if len(feas) or ref is not None else None
        out = np.zeros(n)
        if ref_min is None or len(feas) == 0:
            return out
        P = self._pt_F[feas] * self.signs
        rows = self._pt_idx[feas]
        # a point dominated by an earlier one never changes the front: drop those at once, in blocks
        keep = _not_dominated_by_earlier(P)
        m = P.shape[1]
        front = np.zeros((0, m))
        changes, values = [], []
        hv = 0.0
        for j in np.flatnonzero(keep):
            p = P[j]
            if front.shape[0] and np.any(np.all(front <= p, axis=1)):
                continue
            front = np.vstack([front[~np.all(p <= front, axis=1)], p])
            if np.all(p < ref_min):
                hv = hypervolume(front, ref_min, outside="ignore")
                changes.append(rows[j])
                values.append(hv)
        if changes:  # each value from where it changed on, carried forward
            at = np.asarray(changes, dtype=np.int64)
            last = np.full(n, -1, dtype=np.int64)
            last[at] = np.arange(len(at))
            last = np.maximum.accumulate(last)
            out = np.where(last >= 0, np.asarray(values, dtype=float)[np.maximum(last, 0)], 0.0)
        return out

    # -- reports -------------------------------------------------------------------
    def summary(self, *, warning: bool = True) -> str:
        """A few lines: configuration, counts, budget and status, front size and hypervolume.

        Args:
            warning: Include the ``warning: stalled: ...`` line of a stalled run
                (``moopt run`` prints it on stderr instead).
        """
        c = self.config
        prob = c.get("problem", {}).get("name", "?")
        lines = [f"problem {prob}, algorithm {c.get('algorithm')}, seed {c.get('seed')}"
                 + (f", budget {c['extra']['budget']}" if c.get("extra", {}).get("budget") is not None else ""),
                 "evaluations: " + ", ".join(f"{k} {v}" for k, v in self.counts.items())]
        if self.budget is not None:
            if self.count_duplicates:
                spent = f"budget: {self.n_results}/{self.budget} results (count_duplicates: every result counts)"
            else:
                spent = (f"budget: {self.n_paid}/{self.budget} paid evaluations (cached duplicates and "
                         "candidates outside the search space are free)")
            lines.append(f"{spent}; {self.status}")
        if warning and self.status == "stalled" and self.message:
            lines.append(f"warning: {self.message}")
        objs = ", ".join(f"{n} ({d})" for n, d in zip(self.objective_names, self.directions))
        lines.append(f"objectives: {objs}")
        front = self._front_records()
        lines.append(f"Pareto front: {len(front)} candidates")
        if front:
            ref = self.reference_point()
            lines.append(f"hypervolume: {self.hypervolume(ref):.6g} (reference point "
                         f"{[float(f'{x:.6g}') for x in ref]}, inferred)")
        return "\n".join(lines)

    def plot(self, out_dir: str = ".", *, ref=None, prefix: str = "") -> list[Path]:
        """Write the front and hypervolume plots as PNG files; returns their paths."""
        from .plotting import plot_run

        return plot_run(self, out_dir, ref=ref, prefix=prefix)

    def __repr__(self) -> str:
        return (f"RunResult({self.n_results} evaluations, {self.counts.get('failed', 0)} failed, "
                f"{self.n_paid} paid, front of {len(self._front_records())}, {self.status})")


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


def _not_dominated_by_earlier(P: np.ndarray, block: int = 2048) -> np.ndarray:
    """For each row of ``P`` (minimized), whether no earlier row weakly dominates it.

    Rows that an earlier row weakly dominates (or equals) never enter the running
    front, so :meth:`RunResult.hypervolume_history` skips them.  Block-wise against
    the running nondominated set, so the cost stays near ``n x front``.
    """
    n = len(P)
    keep = np.ones(n, dtype=bool)
    front = np.zeros((0, P.shape[1]))
    for s in range(0, n, block):
        B = P[s:s + block]
        if len(front):
            dom = np.zeros(len(B), dtype=bool)
            for i in range(0, len(front), 256):
                F = front[i:i + 256]
                dom |= np.any(np.all(F[None, :, :] <= B[:, None, :], axis=2), axis=1)
            keep[s:s + len(B)] = ~dom
        cand = B[~dom] if len(front) else B
        if len(cand):
            allp = np.vstack([front, cand])
            front = allp[is_nondominated(allp)]
    return keep


class _StoreSource:
    """Where a lazily loaded :class:`RunResult` reads its full records: the open store, else its file."""

    def __init__(self, store, path: Optional[str], max_seq: int):
        self.store, self.path, self.max_seq = store, path, max_seq

    def _read(self, fn):
        st = self.store
        if st is not None and getattr(st, "_conn", None) is not None:
            return fn(st)
        if self.path is None:
            raise RuntimeError("the in-memory run store of this result was closed; its records are gone.")
        from .store import RunStore

        self.store = None  # the store object is closed: read the file from now on
        with RunStore(self.path, readonly=True, verify=False) as fresh:
            return fn(fresh)

    def all(self) -> list:
        return self._read(lambda st: st.evaluations(self.max_seq))

    def by_seqs(self, seqs: list) -> list:
        return self._read(lambda st: st.records(seqs))
