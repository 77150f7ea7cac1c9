"""An incremental Pareto archive that keeps a payload with each point.

For 2 objectives the archive is a pair of sorted lists (first objective
ascending, second strictly descending in minimization terms): an insertion
is two binary searches plus a slice deletion, ``O(log n)`` comparisons and
amortized ``O(1)`` removals.  For 3 or more objectives it is a numpy buffer
and one vectorized ``O(n m)`` dominance check per insertion.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Any, Iterator, Sequence

import numpy as np

from moopt._validation import Directions, as_points, directions_signs

__all__ = ["ParetoArchive"]

_FORMAT = "moopt.ParetoArchive"
_VERSION = 1


class ParetoArchive:
    """The non-dominated subset of every point added so far, with payloads.

    A point enters when no archived point dominates or equals it; archived
    points it dominates leave.  A point equal to an archived one is rejected
    (the first copy stays).  Each point carries a payload (e.g. the
    architecture dict that produced it).

    Args:
        directions: ``"min"``/``"max"`` per objective; ``None`` or one string
            applies to all objectives (their count is then taken from
            ``n_obj`` or the first point added).
        n_obj: Number of objectives, optional when ``directions`` is a list.

    Example:
        >>> archive = ParetoArchive(["min", "max"])
        >>> archive.add([0.10, 0.90], {"arch": "a"})
        True
        >>> archive.add([0.20, 0.80], {"arch": "b"})  # worse in both
        False
        >>> archive.add([0.05, 0.50], {"arch": "c"})
        True
        >>> len(archive), archive.payloads
        (2, [{'arch': 'c'}, {'arch': 'a'}])
        >>> round(archive.hypervolume(ref=[1.0, 0.0]), 4)
        0.835
    """

    def __init__(self, directions: Directions = None, *, n_obj: int | None = None):
        if n_obj is not None and (isinstance(n_obj, bool) or not isinstance(n_obj, (int, np.integer)) or n_obj < 1):
            raise ValueError(f"n_obj must be a positive integer or None, got {n_obj!r}.")
        if directions is not None and not isinstance(directions, str):
            dirs = list(directions)
            if n_obj is not None and len(dirs) != n_obj:
                raise ValueError(f"directions has {len(dirs)} entries but n_obj is {n_obj}.")
            n_obj = len(dirs)
        self._dir_arg = directions
        self._m: int | None = None
        self._signs: np.ndarray | None = None
        if n_obj is not None:
            self._setup(int(n_obj))

    # ------------------------------------------------------------------ setup
    def _setup(self, m: int) -> None:
        self._signs = directions_signs(self._dir_arg, m)
        self._m = m
        self._s = [float(v) for v in self._signs]
        self._payloads: list[Any] = []
        if m == 2:
            self._xs: list[float] = []  # first objective, ascending (min space)
            self._nys: list[float] = []  # minus second objective, ascending
        else:
            self._P = np.empty((16, m))
            self._n = 0

    @property
    def n_obj(self) -> int | None:
        """Number of objectives (``None`` until known)."""
        return self._m

    @property
    def directions(self) -> list[str] | None:
        """Directions per objective (``None`` until the objective count is known)."""
        if self._signs is None:
            return None
        return ["min" if s > 0 else "max" for s in self._signs]

    # ---------------------------------------------------------------- insert
    def _point(self, point) -> list[float]:
        if self._m is None:
            arr = np.asarray(point, dtype=float)
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(f"point must be a 1-D sequence of objective values, got shape {arr.shape}.")
            self._setup(arr.size)
        try:
            vals = [float(v) for v in point]
        except (TypeError, ValueError):
            raise TypeError(f"point must be a sequence of {self._m} numbers, got {point!r}.") from None
        if len(vals) != self._m:
            raise ValueError(f"point has {len(vals)} objectives but the archive has {self._m}.")
        for j, v in enumerate(vals):
            if not math.isfinite(v):
                raise ValueError(
                    f"point[{j}] is {v}; archive only finite objective values "
                    "(record failed evaluations elsewhere)."
                )
        return vals

    def add(self, point, payload: Any = None) -> bool:
        """Offer one point; return whether it entered the archive.

        Args:
            point: Objective values ``(m,)`` in the archive's directions.
            payload: Anything kept with the point (JSON types if the archive
                will be checkpointed with :meth:`to_dict`).

        Returns:
            ``True`` if the point is now archived (it was not dominated by nor
            equal to an archived point); ``False`` otherwise.
        """
        vals = self._point(point)
        if self._m == 2:
            x = vals[0] * self._s[0]
            ny = -vals[1] * self._s[1]
            xs, nys = self._xs, self._nys
            i = bisect_left(xs, x)
            if i < len(xs) and xs[i] == x:
                if nys[i] >= ny:  # same first objective, second no worse
                    return False
            elif i > 0 and nys[i - 1] >= ny:  # better first, second no worse
                return False
            j = bisect_right(nys, ny, i)  # points from i on that the new one dominates
            if j > i:
                del xs[i:j], nys[i:j], self._payloads[i:j]
            xs.insert(i, x)
            nys.insert(i, ny)
            self._payloads.insert(i, payload)
            return True
        x = np.asarray(vals) * self._signs
        P = self._P[: self._n]
        if self._n and (P <= x).all(axis=1).any():
            return False
        if self._n:
            dom = (x <= P).all(axis=1)
            if dom.any():
                keep = ~dom
                k = int(keep.sum())
                self._P[:k] = P[keep]
                self._payloads = [p for p, kp in zip(self._payloads, keep) if kp]
                self._n = k
        if self._n == self._P.shape[0]:
            grown = np.empty((2 * self._P.shape[0], self._P.shape[1]))
            grown[: self._n] = self._P[: self._n]
            self._P = grown
        self._P[self._n] = x
        self._n += 1
        self._payloads.append(payload)
        return True

    def update(self, points, payloads: Sequence[Any] | None = None) -> np.ndarray:
        """Offer several points in order; return which entered (at their turn).

        Args:
            points: ``(k, m)`` objective values.
            payloads: ``k`` payloads or ``None``.

        Returns:
            ``(k,)`` boolean array; ``True`` where the point entered when it was
            offered (it may have been displaced by a later one).
        """
        P = as_points(points, name="points")
        if payloads is not None and len(payloads) != len(P):
            raise ValueError(f"payloads has {len(payloads)} entries but points has {len(P)} rows.")
        out = np.zeros(len(P), dtype=bool)
        for i, row in enumerate(P):
            out[i] = self.add(row, None if payloads is None else payloads[i])
        return out

    # ---------------------------------------------------------------- access
    def __len__(self) -> int:
        if self._m is None:
            return 0
        return len(self._xs) if self._m == 2 else self._n

    def _min_points(self) -> np.ndarray:
        if self._m is None:
            return np.zeros((0, 0))
        if self._m == 2:
            P = np.empty((len(self._xs), 2))
            P[:, 0] = self._xs
            P[:, 1] = self._nys
            P[:, 1] *= -1.0
            return P
        return self._P[: self._n].copy()

    @property
    def points(self) -> np.ndarray:
        """Archived points ``(n, m)`` in the user's directions (a new array).

        With 2 objectives they are sorted by the first objective, best first;
        otherwise in insertion order.
        """
        P = self._min_points()
        if self._signs is not None:
            P *= self._signs
        return P

    @property
    def payloads(self) -> list:
        """Payloads aligned with :attr:`points` (a new list)."""
        return list(self._payloads) if self._m is not None else []

    def __iter__(self) -> Iterator[tuple[np.ndarray, Any]]:
        return iter(zip(self.points, self.payloads))

    def __repr__(self) -> str:
        return f"ParetoArchive(n_points={len(self)}, directions={self.directions})"

    def hypervolume(self, ref, *, outside: str = "warn") -> float:
        """Hypervolume of the archived points (see :func:`moopt.hypervolume`).

        Args:
            ref: Reference point ``(m,)`` in the archive's directions.
            outside: ``"warn"`` / ``"ignore"`` / ``"raise"``.
        """
        from moopt.indicators import hypervolume

        if self._m is None:
            return 0.0
        return hypervolume(self.points, ref, directions=self.directions, outside=outside)

    # ----------------------------------------------------------------- state
    def to_dict(self) -> dict:
        """State as JSON types and numpy arrays (see :mod:`moopt.serial`).

        Returns:
            ``{"format", "version", "directions", "n_obj", "points", "payloads"}``.
        """
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "directions": self.directions if self._m is not None else self._dir_arg,
            "n_obj": self._m,
            "points": self.points,
            "payloads": self.payloads,
        }

    @classmethod
    def from_dict(cls, state: dict) -> "ParetoArchive":
        """Rebuild an archive from :meth:`to_dict` output.

        Raises:
            ValueError: not an archive state, an unknown version, or points
                that are not mutually non-dominated.
        """
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError("state is not a ParetoArchive state (missing format 'moopt.ParetoArchive').")
        if state.get("version") != _VERSION:
            raise ValueError(f"unknown ParetoArchive state version {state.get('version')!r}; expected {_VERSION}.")
        archive = cls(state.get("directions"), n_obj=state.get("n_obj"))
        if state.get("n_obj") is None:
            return archive
        points = as_points(state["points"], name="state['points']", n_obj=state["n_obj"])
        payloads = list(state.get("payloads", []))
        if len(payloads) != len(points):
            raise ValueError(
                f"state has {len(points)} points but {len(payloads)} payloads; the state is corrupt."
            )
        if not all(archive.add(p, pl) for p, pl in zip(points, payloads)) or len(archive) != len(points):
            raise ValueError("state['points'] are not mutually non-dominated; the state is corrupt.")
        return archive
