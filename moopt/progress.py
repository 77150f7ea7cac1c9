"""A small progress line for long runs: budget spent, failures, free answers, hypervolume, ETA.

Written to stderr, redrawn at most a few times per second, and silent when
stderr is not a terminal (unless forced on).

Example:
    >>> import io
    >>> bar = Progress(10, enabled=True, stream=io.StringIO(), min_interval=0)
    >>> bar.update(5, failed=1, hv=0.5)
    >>> "5/10" in bar.stream.getvalue()
    True
"""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(max(0.0, seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Progress line ``[####....] 120/400 failed 2 cached 31 hv 0.812 elapsed 0:12 ETA 0:28``.

    ``done/total`` is what the budget counts (by default the paid evaluations);
    ``cached`` (duplicates answered from the run store) and ``pruned``
    (candidates outside the search space) are shown when there are any.

    Args:
        total: The budget.
        enabled: ``True`` draws, ``False`` is silent, ``None`` draws only when
            ``stream`` is a terminal.
        stream: Where to draw (default ``sys.stderr``).
        min_interval: Minimal seconds between redraws.
        width: Width of the bar in characters.
        initial: What the budget had counted when this session started (resume),
            for the ETA.
    """

    def __init__(self, total: int, *, enabled: Optional[bool] = None, stream: Optional[TextIO] = None,
                 min_interval: float = 0.2, width: int = 24, initial: int = 0):
        self.total = max(int(total), 0)
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.min_interval = min_interval
        self.width = width
        self.initial = initial
        self._t0 = time.monotonic()
        self._last = -1e9
        self._drawn = False
        self.done = initial

    def update(self, done: int, *, failed: int = 0, hv: Optional[float] = None, force: bool = False,
               cached: int = 0, pruned: int = 0) -> None:
        """Redraw with ``done`` of the budget spent (throttled unless ``force``).

        Args:
            done: What the budget has counted so far.
            failed: Failed evaluations.
            hv: Hypervolume of the front so far (``None``: not shown).
            force: Redraw even if the last redraw was less than ``min_interval`` ago.
            cached: Answers copied from the store (duplicates).
            pruned: Candidates outside the search space.
        """
        self.done = done
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        self.stream.write("\r" + self.render(done, failed=failed, hv=hv, now=now, cached=cached, pruned=pruned)
                          + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def render(self, done: int, *, failed: int = 0, hv: Optional[float] = None,
               now: Optional[float] = None, cached: int = 0, pruned: int = 0) -> str:
        """The progress line (no carriage return); arguments as in :meth:`update`."""
        now = time.monotonic() if now is None else now
        frac = min(1.0, done / self.total) if self.total else 1.0
        fill = int(round(frac * self.width))
        parts = [f"[{'#' * fill}{'.' * (self.width - fill)}] {done}/{self.total}"]
        if failed:
            parts.append(f"failed {failed}")
        if cached:
            parts.append(f"cached {cached}")
        if pruned:
            parts.append(f"pruned {pruned}")
        if hv is not None:
            parts.append(f"hv {hv:.4g}")
        elapsed = now - self._t0
        parts.append(f"elapsed {_clock(elapsed)}")
        new = done - self.initial
        if 0 < new and done < self.total:
            parts.append(f"ETA {_clock(elapsed / new * (self.total - done))}")
        return " ".join(parts)

    def close(self) -> None:
        """End the line (when anything was drawn)."""
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
