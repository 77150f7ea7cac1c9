"""Normalization of objective values: ``n = (v - lo) / (hi - lo)`` on minimized values.

Each objective is first turned into a *minimized* value ``v = f`` (``min``) or
``v = -f`` (``max``); then

* ``bounds={"energy_mj": (low, high)}`` fixes ``lo``/``hi`` (given in the
  objective's own units and direction; ``n`` is *not* clipped, so values
  outside the bounds give ``n < 0`` or ``n > 1``), or
* without bounds, ``lo``/``hi`` are the running minimum/maximum of the values
  rewarded so far, *including* the batch being rewarded (so ``n`` is in
  ``[0, 1]``); ``n = 0`` while ``hi == lo``.  The running bounds are part of
  :meth:`moopt.rewards.Reward.state_dict` and therefore of a search's
  checkpoint.
"""

from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence

import numpy as np


class Normalizer:
    """Linear normalization of minimized values, fixed bounds or running min/max.

    Args:
        names: Objective names, in column order.
        bounds: Fixed ``{name: (low, high)}`` in own units; the other names
            use running bounds.

    Raises:
        ValueError: bounds for a name not in ``names``, or a bound that is not
            a finite pair with ``low < high``.
    """

    def __init__(self, names: Sequence[str], bounds: Optional[Mapping[str, Sequence[float]]]):
        self.names = list(names)
        bounds = dict(bounds or {})
        unknown = [n for n in bounds if n not in self.names]
        if unknown:
            raise ValueError(
                f"bounds given for {unknown}, which this reward does not use; it uses {self.names}."
            )
        self.fixed: dict[str, tuple[float, float]] = {}
        for n, b in bounds.items():
            try:
                lo, hi = (float(x) for x in b)
            except (TypeError, ValueError):
                raise ValueError(f"bounds[{n!r}] must be a pair (low, high), got {b!r}.") from None
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
                raise ValueError(f"bounds[{n!r}] must be finite with low < high, got ({lo}, {hi}).")
            self.fixed[n] = (lo, hi)
        k = len(self.names)
        self.lo = np.full(k, np.inf)  # running bounds of the minimized values
        self.hi = np.full(k, -np.inf)

    def observe(self, V: np.ndarray) -> None:
        """Widen the running bounds to the minimized values ``V`` ``(n, k)``."""
        if V.size:
            self.lo = np.minimum(self.lo, V.min(axis=0))
            self.hi = np.maximum(self.hi, V.max(axis=0))

    def __call__(self, V: np.ndarray, signs: np.ndarray) -> np.ndarray:
        """Normalized ``V`` ``(n, k)`` (minimized values; ``signs`` turn fixed bounds the same way)."""
        lo, hi = self.lo.copy(), self.hi.copy()
        for j, n in enumerate(self.names):
            if n in self.fixed:
                a, b = self.fixed[n][0] * signs[j], self.fixed[n][1] * signs[j]
                lo[j], hi[j] = min(a, b), max(a, b)
        span = hi - lo
        ok = np.isfinite(span) & (span > 0)
        safe_span = np.where(ok, span, 1.0)
        safe_lo = np.where(np.isfinite(lo), lo, 0.0)
        return np.where(ok, (V - safe_lo) / safe_span, 0.0)

    def state_dict(self) -> dict:
        """Running bounds ``{"lo", "hi"}`` of the minimized values."""
        return {"lo": self.lo.copy(), "hi": self.hi.copy()}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore the running bounds of :meth:`state_dict`."""
        self.lo = np.array(state["lo"], dtype=float).reshape(len(self.names))
        self.hi = np.array(state["hi"], dtype=float).reshape(len(self.names))
