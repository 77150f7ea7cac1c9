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
from typing import Optional, Sequence

import numpy as np

from .base import Candidate, Evaluation, Search

_ARRAYS = {"ids": np.int64, "F": float, "G": float, "told": bool, "failed": bool}


class GenerationalSearch(Search):
    """A search that proposes and learns from whole generations (see module docs)."""

    _cur: Optional[dict] = None

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

    def ask(self, n: int = 1) -> list[Candidate]:
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}.")
        if n == 0:
            return []
        if self._cur is None:
            self._start_generation()
        cur, space = self._cur, self.problem.space
        assert cur is not None, "_start_generation() must call _open_generation()"
        out: list[Candidate] = []
        while len(out) < n and cur["issued"] < len(cur["X"]):
            i = cur["issued"]
            c = self._new_candidate(space.from_vector(cur["X"][i]),
                                    {"generation": self._generation_index(), "index": i})
            cur["ids"][i] = c.id
            cur["issued"] += 1
            out.append(c)
        return out

    def tell(self, results: Sequence[Evaluation]) -> None:
        names, cnames, signs = self.problem.objective_names, self.problem.constraint_names, self.problem.signs
        for r in results:
            cur = self._cur
            idx = np.flatnonzero(cur["ids"] == r.candidate.id) if cur is not None else np.zeros(0, np.intp)
            if cur is None or len(idx) == 0 or cur["told"][idx[0]]:
                raise ValueError(
                    f"tell() got candidate {r.candidate.id}, which this search has not asked in the "
                    "current generation or was already told; tell each asked candidate once."
                )
            i = int(idx[0])
            cur["told"][i] = True
            ok = r.ok
            if ok:
                try:
                    f = np.array([float((r.values or {})[nm]) for nm in names]) * signs
                    g = np.array([float((r.constraints or {})[nm]) for nm in cnames])
                    ok = bool(np.all(np.isfinite(f)) and np.all(np.isfinite(g)))
                except (KeyError, TypeError, ValueError):
                    ok = False
            if ok:
                cur["F"][i] = f
                cur["G"][i] = g
            else:
                cur["failed"][i] = True
            if cur["told"].all():
                self._finish_generation()
