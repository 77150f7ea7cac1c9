"""Shared ask/tell bookkeeping for searches that work one generation at a time.

Evolutionary algorithms (pymoo's, DEAP's NSGA-II) propose a whole generation,
hand it out through any number of ``ask`` calls, and learn only once every
member has been told.  :class:`GenerationalSearch` does that bookkeeping once:
subclasses create a generation's decision vectors in
:meth:`~GenerationalSearch._start_generation` (calling
:meth:`~GenerationalSearch._open_generation`) and consume the told values in
:meth:`~GenerationalSearch._finish_generation`.

The open generation is a dict ``self._cur`` with ``X`` (n, n_vars) vector
encodings, ``ids`` (n,) candidate ids (-1 until asked), ``F`` (n, m) minimized
objective values, ``G`` (n, k) constraint values, ``told`` and ``failed``
(n,) flags and ``issued`` (how many were asked).  A failed, pruned or
non-finite result sets ``failed``; what that means for selection is the
subclass's documented choice.
"""

from __future__ import annotations

import abc
import math
from typing import Mapping, Optional, Sequence

import numpy as np

from .base import Candidate, Evaluation, Search, VectorBatch

_ARRAYS = {"ids": np.int64, "F": float, "G": float, "told": bool, "failed": bool}


def _decode(space, X: np.ndarray) -> list[dict]:
    """``[space.from_vector(x) for x in X]``, vectorized where every variable is a Real."""
    from ..space import Real

    if not all(type(v) is Real for v in space.variables):
        return [space.from_vector(x) for x in X]
    names = space.names
    return [dict(zip(names, row)) for row in _clip_reals(space, X).tolist()]


def _clip_reals(space, X: np.ndarray) -> np.ndarray:
    """The vectors of a space of Reals within its bounds (``Real.from_float``: ``min(max(x, low), high)``)."""
    lo, hi = space.bounds()
    return np.minimum(np.maximum(np.asarray(X, dtype=float), lo), hi)


class GenerationalSearch(Search):
    """A search that proposes and learns from whole generations (see module docs)."""

    _cur: Optional[dict] = None
    #: A generation is proposed whole and learnt from whole, so how the engine splits its asks
    #: does not change the run (see :func:`moopt.engine.batch_invariant`).
    batch_invariant = True

    @abc.abstractmethod
    def _start_generation(self) -> None:
        """Create the next generation: call :meth:`_open_generation` with its vectors."""

    @abc.abstractmethod
    def _finish_generation(self) -> None:
        """Learn from ``self._cur`` (every member told) and set ``self._cur = None``."""

    @abc.abstractmethod
    def _generation_index(self) -> int:
        """Index of the open generation (stored in each candidate's ``info``)."""

    def _open_generation(self, X: np.ndarray, **extra) -> None:
        """Open a generation of ``len(X)`` members with vector encodings ``X`` (n, n_vars)."""
        n, m, k = len(X), self.problem.n_obj, len(self.problem.constraint_names)
        self._cur = {
            "X": X, "issued": 0, "ids": np.full(n, -1, dtype=np.int64),
            "F": np.full((n, m), np.nan), "G": np.full((n, k), np.nan),
            "told": np.zeros(n, dtype=bool), "failed": np.zeros(n, dtype=bool), **extra,
        }

    def _replay(self, state: Mapping, label: str) -> None:
        """Remake the generations of a checkpoint that lists them (``sizes``, ``crcs``, told ``F``, ``G`` and
        ``failed``, and the open one under ``current``) by proposing each again, checking its CRC, and
        learning the stored values; ``label`` names the search in the error raised when they diverge."""
        F, G = np.asarray(state["F"], dtype=float), np.asarray(state["G"], dtype=float)
        failed = np.asarray(state["failed"], dtype=bool)
        start = 0
        for g, (size, crc) in enumerate(zip(state["sizes"], state["crcs"])):
            self._start_generation()
            cur = self._cur
            assert cur is not None, "_start_generation() must call _open_generation()"
            if len(cur["X"]) != size or int(cur["crc"]) != int(crc):
                raise ValueError(f"replaying {label} diverged at generation {g}: the state was made with another "
                                 "problem, options or pymoo version.")
            sl = slice(start, start + size)
            cur.update(F=F[sl], G=G[sl].reshape(size, -1), failed=failed[sl])
            self._finish_generation()
            start += size
        current = state.get("current")
        if current is not None:
            self._start_generation()
            assert self._cur is not None, "_start_generation() must call _open_generation()"
            if int(self._cur["crc"]) != int(current["crc"]):
                raise ValueError(f"replaying {label} diverged at the current generation.")
            self._load_generation_state(current)

    def _generation_state(self) -> Optional[dict]:
        """The open generation's bookkeeping (copies), for ``state_dict``."""
        cur = self._cur
        if cur is None:
            return None
        return {"issued": int(cur["issued"]), **{key: cur[key].copy() for key in _ARRAYS}}

    def _load_generation_state(self, state: dict) -> None:
        """Restore what :meth:`_generation_state` saved into the (re)opened generation."""
        cur = self._cur
        assert cur is not None, "reopen the generation before restoring its state"
        for key, dtype in _ARRAYS.items():
            cur[key] = np.array(state[key], dtype=dtype).reshape(cur[key].shape)
        cur["issued"] = int(state["issued"])
        cur.pop("pos", None)  # derived from ids and told: rebuilt when needed
        cur.pop("n_told", None)

    def _issue(self, n: int) -> Optional[tuple[int, int, np.ndarray]]:
        """Hand out up to ``n`` members of the open generation (opened if needed): ``(first, end, ids)``
        of their positions and fresh ids, or ``None`` when there are none to hand out."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}.")
        if n == 0:
            return None
        if self._cur is None:
            self._start_generation()
        cur = self._cur
        assert cur is not None, "_start_generation() must call _open_generation()"
        lo_i = int(cur["issued"])
        hi_i = min(len(cur["X"]), lo_i + n)
        if hi_i <= lo_i:
            return None
        ids = np.arange(self._next_id, self._next_id + (hi_i - lo_i), dtype=np.int64)
        self._next_id += hi_i - lo_i
        cur["ids"][lo_i:hi_i] = ids
        cur["issued"] = hi_i
        return lo_i, hi_i, ids

    def ask(self, n: int = 1) -> list[Candidate]:
        got = self._issue(n)
        if got is None:
            return []
        lo_i, hi_i, ids = got
        cur = self._cur
        assert cur is not None
        rows = _decode(self.problem.space, cur["X"][lo_i:hi_i])
        gen = self._generation_index()
        pos = cur.setdefault("pos", {})
        out: list[Candidate] = []
        for i, cid, params in zip(range(lo_i, hi_i), ids.tolist(), rows):
            pos[cid] = i
            out.append(Candidate(cid, params, {"generation": gen, "index": i}))
        return out

    def ask_vectors(self, n: int) -> Optional[VectorBatch]:
        """:meth:`ask` as arrays (a space of ``Real`` variables only; ``None`` otherwise)."""
        from ..space import Real

        space = self.problem.space
        if not all(type(v) is Real for v in space.variables):
            return None
        got = self._issue(n)
        if got is None:
            return VectorBatch(np.zeros(0, dtype=np.int64), np.zeros((0, len(space.names))), [])
        lo_i, hi_i, ids = got
        assert self._cur is not None
        X = _clip_reals(space, self._cur["X"][lo_i:hi_i])
        gen = self._generation_index()
        return VectorBatch(ids, X, [{"generation": gen, "index": i} for i in range(lo_i, hi_i)])

    def tell_vectors(self, ids: np.ndarray, F: np.ndarray, G: Optional[np.ndarray] = None) -> None:
        """:meth:`tell` for ok results given as arrays (see :meth:`Search.tell_vectors`)."""
        cur = self._cur
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if cur is None or not len(ids):
            if len(ids):
                raise ValueError(f"tell_vectors() got candidates {ids[:5].tolist()}, which this search has not "
                                 "asked in the current generation; tell each asked candidate once.")
            return
        issued = int(cur["issued"])
        pos = ids - cur["ids"][0]
        inside = (pos >= 0) & (pos < issued)
        if not inside.all() or np.any(cur["ids"][np.where(inside, pos, 0)] != ids) or cur["told"][pos].any() \
                or len(np.unique(pos)) != len(pos):
            raise ValueError(
                "tell_vectors() got a candidate this search has not asked in the current generation or was "
                "already told; tell each asked candidate once.")
        Fm = np.asarray(F, dtype=float) * self.problem.signs
        k = len(self.problem.constraint_names)
        Gm = np.asarray(G, dtype=float).reshape(len(ids), k) if k else np.zeros((len(ids), 0))
        ok = np.all(np.isfinite(Fm), axis=1) & np.all(np.isfinite(Gm), axis=1)
        cur["F"][pos[ok]] = Fm[ok]
        cur["G"][pos[ok]] = Gm[ok]
        cur["failed"][pos[~ok]] = True
        cur["told"][pos] = True
        cur["n_told"] = int(cur["told"].sum())
        if cur["n_told"] == len(cur["told"]):
            self._finish_generation()

    def tell(self, results: Sequence[Evaluation]) -> None:
        names, cnames, signs = self.problem.objective_names, self.problem.constraint_names, self.problem.signs
        for r in results:
            cur = self._cur
            i = self._position(cur, r.candidate.id)
            if cur is None or i is None or cur["told"][i]:
                raise ValueError(
                    f"tell() got candidate {r.candidate.id}, which this search has not asked in the "
                    "current generation or was already told; tell each asked candidate once."
                )
            cur["told"][i] = True
            cur["n_told"] = cur.get("n_told", int(cur["told"].sum()) - 1) + 1
            ok = r.ok
            if ok:
                try:
                    vals, cons = r.values or {}, r.constraints or {}
                    f = [float(vals[nm]) * sg for nm, sg in zip(names, signs)]
                    g = [float(cons[nm]) for nm in cnames]
                    ok = all(math.isfinite(v) for v in f) and all(math.isfinite(v) for v in g)
                except (KeyError, TypeError, ValueError):
                    ok = False
            if ok:
                cur["F"][i] = f
                cur["G"][i] = g
            else:
                cur["failed"][i] = True
            if cur["n_told"] == len(cur["told"]):
                self._finish_generation()

    @staticmethod
    def _position(cur: Optional[dict], cid: int) -> Optional[int]:
        """Index in the open generation of the asked candidate ``cid`` (``None`` if not there)."""
        if cur is None:
            return None
        pos = cur.get("pos")
        if pos is None or len(pos) != int(cur["issued"]):  # e.g. after load_state_dict: rebuild
            pos = cur["pos"] = {int(c): k for k, c in enumerate(cur["ids"].tolist()) if c >= 0}
        return pos.get(cid)
