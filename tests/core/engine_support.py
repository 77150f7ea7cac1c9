"""Problems and searches for the engine tests (the core's tests do not use problems/)."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

import moopt
from moopt import serial
from moopt.search.base import Evaluation, Search
from moopt.store import RunStore


def zdt1(params) -> dict:
    x = np.array([params[f"x{i}"] for i in range(len(params))])
    g = 1.0 + 9.0 * x[1:].mean()
    f1 = float(x[0])
    return {"f1": f1, "f2": float(g * (1.0 - math.sqrt(f1 / g)))}


class SlowZDT1:
    """ZDT1 evaluation that sleeps ``delay`` seconds and appends each call to ``calls_path``."""

    def __init__(self, delay: float = 0.0, calls_path: Optional[str] = None):
        self.delay, self.calls_path = delay, calls_path

    def __call__(self, params) -> dict:
        if self.calls_path:
            with open(self.calls_path, "a") as fh:
                fh.write(serial.canonical(dict(params)) + "\n")
        if self.delay:
            time.sleep(self.delay)
        return zdt1(params)


def zdt1_problem(n_var: int = 4, *, delay: float = 0.0, calls_path: Optional[str] = None) -> moopt.Problem:
    return moopt.Problem([moopt.Real(f"x{i}", 0.0, 1.0) for i in range(n_var)], ["f1", "f2"],
                         SlowZDT1(delay, calls_path), name="zdt1-local")


class HillClimb(Search):
    """A tiny result-dependent search: mutates members of its nondominated archive.

    Its proposals depend on every result it was told and on their order, so an
    inexact resume shows up as a different history.
    """

    name = "hillclimb-test"

    def __init__(self, problem, *, seed=None, sigma: float = 0.1):
        super().__init__(problem, seed=seed)
        self.sigma = sigma
        self.archive: list[tuple[dict, list[float]]] = []
        self.n_failed = 0

    def config(self) -> dict:
        return {"sigma": self.sigma}

    def ask(self, n: int = 1):
        out = []
        for _ in range(n):
            if len(self.archive) < 3 or self.rng.random() < 0.2:
                params = self.problem.space.sample(self.rng)
            else:
                base, _ = self.archive[int(self.rng.integers(len(self.archive)))]
                lo, hi = self.problem.space.bounds()
                x = self.problem.space.to_vector(base) + self.rng.normal(0, self.sigma, len(lo))
                params = self.problem.space.from_vector(np.clip(x, lo, hi))
            out.append(self._new_candidate(params))
        return out

    def tell(self, results: Sequence[Evaluation]) -> None:
        for r in results:
            if not r.ok:
                self.n_failed += 1
                continue
            f = [r.values[n] * s for n, s in zip(self.problem.objective_names, self.problem.signs)]
            if any(all(a <= b for a, b in zip(g, f)) for _, g in self.archive):
                continue
            self.archive = [(p, g) for p, g in self.archive if not all(a <= b for a, b in zip(f, g))]
            self.archive.append((dict(r.candidate.params), f))
        self.log("archive", size=len(self.archive), failed=self.n_failed)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "archive": [[p, g] for p, g in self.archive], "n_failed": self.n_failed}

    def load_state_dict(self, state) -> None:
        super().load_state_dict(state)
        self.archive = [(dict(p), list(g)) for p, g in state["archive"]]
        self.n_failed = int(state["n_failed"])


def history(result) -> list[tuple]:
    """Comparable view of a run: (candidate id, key, status, objectives, cached_from) in order."""
    return [(r.candidate_id, r.key, r.status, r.objectives, r.cached_from) for r in result.records]


def die_once(marker_dir: str):
    """An evaluate that kills its worker process the first time it sees x0 > 0.5 (per candidate)."""

    def evaluate(params):
        if params["x0"] > 0.5:
            marker = Path(marker_dir) / f"{params['x0']:.12f}"
            if not marker.exists():
                marker.write_text("died")
                os._exit(3)
        return zdt1(params)

    return evaluate


def die_always(params):
    if params["x0"] > 0.5:
        os._exit(4)
    return zdt1(params)


# -- simulated crashes inside the run store (resume tests) ---------------------------
class Crash(BaseException):
    """Simulated process death (not an Exception, so nothing catches it)."""


class CrashingStore(RunStore):
    """Dies at the k-th call of one protocol method, before or after its transaction commits."""

    def __init__(self, path, *, method, k, when):
        super().__init__(path, lock=True)
        self._crash = (method, k, when)
        self._calls = {}

    def _maybe(self, name, when):
        method, k, w = self._crash
        if name == method and w == when and self._calls.get(name, 0) == k:
            raise Crash(f"{name} #{k} {when}")

    def _wrap(name):  # noqa: N805 - helper used at class creation
        def method(self, *args, **kwargs):
            self._maybe(name, "before")
            out = getattr(RunStore, name)(self, *args, **kwargs)
            self._maybe(name, "after")
            self._calls[name] = self._calls.get(name, 0) + 1
            return out

        return method

    record_ask = _wrap("record_ask")
    record_evaluation = _wrap("record_evaluation")
    record_tell = _wrap("record_tell")


def stored_evaluations(path) -> int:
    """Evaluations in the store at ``path`` read by another process (0 while it cannot be read)."""
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def kill_after_progress(argv: Sequence[str], path, rng: np.random.Generator, *, poll: float, jitter: float,
                        timeout: float = 60.0) -> bool:
    """Run ``argv``; once it has stored a new evaluation at ``path`` (or exited, or ``timeout`` passed), wait a
    random ``[0, jitter)`` seconds more and SIGKILL it if it still runs.  Returns whether it was killed."""
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    start = stored_evaluations(path)
    deadline = time.monotonic() + timeout
    while stored_evaluations(path) <= start and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(poll)
    time.sleep(float(rng.uniform(0, jitter)))
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return killed
