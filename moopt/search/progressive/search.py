"""DPP-Net-style progressive search: Sequential Model-Based Optimization over growing sequences.

Each step expands every kept sequence by one token, predicts the expensive
objectives of every child with a surrogate (one per expensive objective),
computes the cheap objectives exactly (``Problem.evaluate_cheap``), keeps ``k``
children - Pareto-optimal over predicted + cheap objectives (DPP-Net) or the
top ``k`` by one predicted objective (PNAS) - hands them out for evaluation,
and, once every result of the step is told, refits the surrogates on all
successful evaluations so far and takes the next step.

Failed (or pruned) evaluations are logged and counted but are neither
training data for the surrogates nor parents of the next step (when every
candidate of a step failed, all of them are expanded instead, so a transient
outage does not end the search; while no evaluation has succeeded yet the
children are drawn uniformly).  When a step has nothing left to expand
(maximum length reached), the search is finished: ``ask`` returns ``[]`` with
nothing outstanding.

Each sequence becomes a candidate through its space's
:meth:`~moopt.search.progressive.ProgressiveSpace.to_params` (by default the
problem's one token-sequence variable).  Where several sequences denote the
same candidate (a space padding short sequences, e.g. a cell whose unspecified
edges are ``none``), each candidate is proposed once: a child that denotes a
candidate already proposed is not proposed again but expanded in its place, so
its own children (e.g. a cell with ``none`` on a middle edge) are still reached.

Example:
    >>> import moopt, torch; torch.set_num_threads(1)
    >>> from moopt.problems.progressive import SyntheticNAS
    >>> problem = SyntheticNAS(max_length=3)
    >>> search = ProgressiveSearch(problem, seed=0, k=4, surrogate="forest",
    ...                            surrogate_options={"n_estimators": 20})
    >>> while (batch := search.ask(8)):
    ...     search.tell([moopt.Evaluation.success(c, problem.evaluate(c.params)) for c in batch])
    >>> search.step
    2
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np

from ... import serial
from ...indicators import hypervolume
from ...reference import infer_reference_point
from ..base import Candidate, Evaluation, Search
from .selection import TIE_BREAKS, select_pareto, select_top_k
from .space import ProgressiveSpace, space_for

SELECTIONS = ("pareto", "pnas")


class ProgressiveSearch(Search):
    """Surrogate-assisted progressive search (DPP-Net; PNAS with ``selection="pnas"``).

    Args:
        problem: A problem whose single variable is a token sequence, or whose
            progressive space maps sequences onto its variables (``to_params``);
            its objectives marked ``cheap`` are computed exactly for every child,
            the others are predicted by the surrogates.
        seed: Seed of the search's generator (the surrogates' seeds derive from it).
        space: The :class:`ProgressiveSpace`; default the problem's
            ``progressive_space`` (see :class:`~moopt.Problem`), else every sequence of the
            problem's :class:`~moopt.TokenSequence` variable.
        k: Candidates kept (evaluated) per step after the first (K).
        k_expand: At most this many children are drawn uniformly per step when
            the full expansion is larger (K'); ``None`` scores every child.
        n_initial: Candidates drawn from the first step's sequences when there
            are more; ``None`` evaluates all of them.
        max_length: Stop growing at this length (default the space's).
        selection: ``"pareto"`` (DPP-Net) or ``"pnas"`` (top ``k`` predicted).
        tie_break: How Pareto selection cuts the last front: ``"hv"`` (least
            hypervolume contributor removed first; the default, better in
            ``benchmarks/bench_progressive.py``) or ``"crowding"`` (NSGA-II).
        surrogate: ``"lstm"``, ``"forest"``, ``"gp"`` or ``"mean"`` (see :mod:`moopt.surrogates`).
        surrogate_options: Options of the surrogate (e.g. ``{"epochs": 100}``).
        pnas_objective: The predicted objective PNAS ranks by (default the first expensive one).
        ref: Reference point (objectives' own directions) of the logged archive
            hypervolume; default the problem's ``ref_point`` attribute, else
            ``nadir + 0.1 (nadir - ideal)`` of the first step's results.

    The per-step log (``kind="step"``) holds the surrogates' quality on the
    newly evaluated candidates, predicted before refitting (Kendall tau,
    Spearman, MAE per expensive objective), the kept sequences, and the
    archive's hypervolume.
    """

    name = "progressive"

    def __init__(
        self,
        problem,
        *,
        seed: Optional[int] = None,
        space: Optional[ProgressiveSpace] = None,
        k: int = 8,
        k_expand: Optional[int] = None,
        n_initial: Optional[int] = None,
        max_length: Optional[int] = None,
        selection: str = "pareto",
        tie_break: str = "hv",
        surrogate: str = "lstm",
        surrogate_options: Optional[Mapping[str, Any]] = None,
        pnas_objective: Optional[str] = None,
        ref: Optional[Sequence[float]] = None,
    ):
        super().__init__(problem, seed=seed)
        self.space = space_for(problem, space)
        first = next(iter(self.space.initial()), None)
        proposed = sorted(self.space.to_params(tuple(first))) if first is not None else []
        if first is not None and proposed != sorted(problem.space.names):
            raise ValueError(
                f"a progressive search proposes only the variables {proposed} (its space's to_params), "
                f"but the problem has the variables {problem.space.names}; fix the others in evaluate, "
                "or give every variable in the progressive space's to_params()."
            )
        self.k = _positive("k", k)
        self.k_expand = None if k_expand is None else _positive("k_expand", k_expand)
        self.n_initial = None if n_initial is None else _positive("n_initial", n_initial)
        self.max_length = self.space.max_length if max_length is None else _positive("max_length", max_length)
        if selection not in SELECTIONS:
            raise ValueError(f"selection is {selection!r}; use one of {list(SELECTIONS)}.")
        if tie_break not in TIE_BREAKS:
            raise ValueError(f"tie_break is {tie_break!r}; use one of {list(TIE_BREAKS)}.")
        self.selection, self.tie_break = selection, tie_break
        self.expensive = [o for o in problem.objectives if not o.cheap]
        self.cheap = [o for o in problem.objectives if o.cheap]
        if not self.expensive:
            raise ValueError("every objective is cheap; a progressive search needs an expensive one to predict.")
        names = [o.name for o in self.expensive]
        self.pnas_objective = names[0] if pnas_objective is None else pnas_objective
        if self.pnas_objective not in names:
            raise ValueError(f"pnas_objective is {pnas_objective!r}; choose one of the expensive objectives {names}.")
        from ...surrogates import make_surrogate, surrogate_class

        surrogate_class(surrogate)  # unknown names fail here, before any work
        self.surrogate_name = surrogate
        self.surrogate_options = dict(surrogate_options or {})
        n_tok = len(self.space.tokens)
        self.surrogates = [
            make_surrogate(surrogate, n_tok, self.max_length, seed=int(self.rng.integers(2**31 - 1)),
                           **self.surrogate_options)
            for _ in self.expensive
        ]
        self._ref_option = None if ref is None else [float(v) for v in np.asarray(ref, dtype=float).reshape(-1)]
        if ref is None:
            ref = getattr(problem, "ref_point", None)
        self.ref = None if ref is None else np.asarray(ref, dtype=float).reshape(-1) * problem.signs
        if self.ref is not None and self.ref.shape != (problem.n_obj,):
            raise ValueError(f"ref must have one coordinate per objective ({problem.n_obj}), got {ref!r}.")

        self.step = 0
        self.finished = False
        self._queue: list[dict] = []
        self._outstanding: dict[int, dict] = {}
        self._told: list[dict] = []
        self._seen: set[tuple] = set()
        self._seen_keys: set[str] = set()  # canonical candidates of the proposed sequences
        self._data_seqs: list[tuple] = []
        self._data_y: list[list[float]] = []
        self._archive: list[list[float]] = []  # minimized objective rows of ok results
        self._start()

    # -- configuration ---------------------------------------------------------
    def config(self) -> dict:
        return {
            "k": self.k, "k_expand": self.k_expand, "n_initial": self.n_initial,
            "max_length": self.max_length, "selection": self.selection, "tie_break": self.tie_break,
            "surrogate": self.surrogate_name, "surrogate_options": dict(self.surrogate_options),
            "pnas_objective": self.pnas_objective,
            "ref": self._ref_option,
        }

    # -- ask / tell ----------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Candidate]:
        """Up to ``n`` candidates of the current step (``[]``: waiting for results, or finished)."""
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}.")
        out: list[Candidate] = []
        while self._queue and len(out) < n:
            entry = self._queue.pop(0)
            info: dict[str, Any] = {"step": self.step, "length": len(entry["seq"])}
            if entry["pred"] is not None:
                info["predicted"] = dict(entry["pred"])
            c = self._new_candidate(self.space.to_params(tuple(entry["seq"])), info)
            self._outstanding[c.id] = entry
            out.append(c)
        return out

    def tell(self, results: Sequence[Evaluation]) -> None:
        """Record results of this step's candidates; the step advances when all are told.

        Raises:
            ValueError: a result for a candidate that is not outstanding (never
                asked, or already told).
        """
        results = list(results)
        ids = [r.candidate.id for r in results]
        for i, cid in enumerate(ids):
            if cid not in self._outstanding or cid in ids[:i]:
                raise ValueError(
                    f"tell got a result for candidate {cid}, which is not outstanding "
                    "(never asked by this search, or already told); nothing of this call was recorded."
                )
        for r in results:
            entry = self._outstanding.pop(r.candidate.id)
            rec = dict(entry, status=r.status)
            if r.ok:
                assert r.values is not None  # an ok evaluation carries its values
                rec["values"] = {o.name: float(r.values[o.name]) for o in self.problem.objectives}
                self._archive.append([rec["values"][o.name] * o.sign for o in self.problem.objectives])
            self._told.append(rec)
        if not self._queue and not self._outstanding and not self.finished and self._told:
            self._advance()

    # -- the algorithm -------------------------------------------------------------
    def _start(self) -> None:
        seqs = [tuple(s) for s in self.space.initial()]
        seqs = [s for s in dict.fromkeys(seqs) if len(s) <= self.max_length]
        if not seqs:
            raise ValueError("the progressive space's initial() returned no sequence within max_length.")
        by_key: dict[str, tuple] = {}
        for s in seqs:  # one sequence per candidate
            by_key.setdefault(self._key(s), s)
        seqs = list(by_key.values())
        if self.n_initial is not None and len(seqs) > self.n_initial:
            pick = np.sort(self.rng.choice(len(seqs), size=self.n_initial, replace=False))
            seqs = [seqs[int(i)] for i in pick]
        self._mark_seen(seqs)
        self._queue = [{"seq": s, "pred": None} for s in seqs]

    def _key(self, seq: tuple) -> str:
        """Canonical encoding of the candidate that ``seq`` denotes."""
        return serial.canonical(self.space.to_params(tuple(seq)))

    def _mark_seen(self, seqs) -> None:
        for s in seqs:
            self._seen.add(tuple(s))
            self._seen_keys.add(self._key(s))

    def _advance(self) -> None:
        told, self._told = self._told, []
        ok = [r for r in told if r["status"] == "ok"]
        quality = self._quality(ok)
        for r in ok:
            self._data_seqs.append(tuple(r["seq"]))
            self._data_y.append([r["values"][o.name] for o in self.expensive])
        if self._data_seqs:
            X = [self.space.encode(s) for s in self._data_seqs]
            Y = np.asarray(self._data_y, dtype=float)
            # the surrogates learn minimized values (value * sign): the search then depends on the
            # objectives' directions only through the problem's signs, so "max accuracy" and
            # "min -accuracy" give the same run (a network fitted to -y is not the negated fit to y)
            for j, (o, s) in enumerate(zip(self.expensive, self.surrogates)):
                s.fit(X, Y[:, j] * o.sign)
        if self.ref is None and self._archive:
            self.ref = infer_reference_point(np.asarray(self._archive))
        log = {
            "step": self.step,
            "length": max((len(r["seq"]) for r in told), default=0),
            "n_evaluated": len(told),
            "n_failed": len(told) - len(ok),
            "quality": quality,
            "kept": [list(r["seq"]) for r in ok],
            "hypervolume": self.hypervolume(),
            "n_data": len(self._data_seqs),
        }
        # failed candidates are not parents, unless the whole step failed (then the
        # search goes on from every candidate of the step rather than stopping)
        parents = ok if ok else told
        children = self._children([tuple(r["seq"]) for r in parents])
        entries = self._score(children) if children else []
        chosen = self._select(entries)
        log.update(n_children=len(children), n_selected=len(chosen))
        self.log("step", **log)
        if not chosen:
            self.finished = True
            return
        self.step += 1
        self._mark_seen(e["seq"] for e in chosen)
        self._queue = chosen

    def _quality(self, ok: list[dict]) -> Optional[dict]:
        scored = [r for r in ok if r.get("pred")]
        if not scored:
            return None
        from ...surrogates.metrics import rank_quality

        return {o.name: rank_quality([r["values"][o.name] for r in scored],
                                     [r["pred"][o.name] for r in scored]) for o in self.expensive}

    def _children(self, parents: list[tuple]) -> list[tuple]:
        kids: dict[str, tuple] = {}  # candidate key -> first sequence denoting it
        visited: set[tuple] = set()

        def visit(c: tuple) -> None:
            if len(c) > self.max_length or c in self._seen or c in visited:
                return
            visited.add(c)
            key = self._key(c)
            if key in self._seen_keys:  # a candidate already proposed: grow through it instead
                for g in self.space.expand(c):
                    visit(tuple(g))
            else:
                kids.setdefault(key, c)

        for p in parents:
            for c in self.space.expand(p):
                visit(tuple(c))
        children = list(kids.values())
        if self.k_expand is not None and len(children) > self.k_expand:
            pick = np.sort(self.rng.choice(len(children), size=self.k_expand, replace=False))
            children = [children[int(i)] for i in pick]
        return children

    def _score(self, children: list[tuple]) -> list[dict]:
        entries: list[dict[str, Any]] = []
        for c in children:
            cheap = {}
            if self.cheap:
                try:
                    cheap = self.problem.evaluate_cheap(self.space.to_params(c))
                except Exception:  # a child whose cheap objectives cannot be computed is dropped
                    continue
            entries.append({"seq": c, "cheap": {o.name: float(cheap[o.name]) for o in self.cheap}})
        if entries and self.surrogates[0].fitted:
            X = [self.space.encode(e["seq"]) for e in entries]
            for o, s in zip(self.expensive, self.surrogates):
                mean, std = s.predict(X)
                for e, m, d in zip(entries, mean, std):
                    e.setdefault("pred", {})[o.name] = float(m) * o.sign  # back to the objective's direction
                    e.setdefault("pred_std", {})[o.name] = float(d)
        return entries

    def _select(self, entries: list[dict]) -> list[dict]:
        if not entries:
            return []
        if "pred" not in entries[0]:  # nothing evaluated successfully yet: a uniform draw
            pick = np.sort(self.rng.choice(len(entries), size=min(self.k, len(entries)), replace=False))
            return [{"seq": entries[int(i)]["seq"], "pred": None} for i in pick]
        if self.selection == "pnas":
            o = next(o for o in self.expensive if o.name == self.pnas_objective)
            idx = select_top_k([e["pred"][o.name] for e in entries], self.k, direction=o.direction)
        else:
            F = [[e["pred"][o.name] for o in self.expensive] + [e["cheap"][o.name] for o in self.cheap]
                 for e in entries]
            dirs = [o.direction for o in self.expensive] + [o.direction for o in self.cheap]
            idx = select_pareto(F, self.k, directions=dirs, tie_break=self.tie_break)
        return [{"seq": entries[int(i)]["seq"], "pred": dict(entries[int(i)]["pred"])} for i in idx]

    def hypervolume(self) -> float:
        """Hypervolume of every successful evaluation so far (w.r.t. the search's reference point)."""
        if not self._archive or self.ref is None:
            return 0.0
        return hypervolume(np.asarray(self._archive), self.ref, outside="ignore")

    # -- state ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        def entry(e):
            return {"seq": list(e["seq"]), "pred": e.get("pred"),
                    **({"status": e["status"]} if "status" in e else {}),
                    **({"values": e["values"]} if "values" in e else {})}

        state = super().state_dict()
        state.update(
            step=self.step,
            finished=self.finished,
            queue=[entry(e) for e in self._queue],
            outstanding=[[int(i), entry(e)] for i, e in self._outstanding.items()],
            told=[entry(e) for e in self._told],
            seen=sorted((list(s) for s in self._seen), key=serial.dumps),
            data_seqs=[list(s) for s in self._data_seqs],
            data_y=np.asarray(self._data_y, dtype=float).reshape(len(self._data_y), len(self.expensive)),
            archive=np.asarray(self._archive, dtype=float).reshape(len(self._archive), self.problem.n_obj),
            ref=None if self.ref is None else np.asarray(self.ref, dtype=float),
            surrogates=[s.state_dict() for s in self.surrogates],
            config=self.config(),
        )
        return state

    def load_state_dict(self, state: Mapping) -> None:
        mine = self.config()
        theirs = dict(state.get("config", mine))
        diff = sorted(k for k in mine if k != "ref" and mine[k] != theirs.get(k))
        if diff:
            raise ValueError(
                f"the state was saved by a ProgressiveSearch with other options ({diff}: "
                f"{[theirs.get(k) for k in diff]} vs {[mine[k] for k in diff]}); build it with the same options."
            )
        super().load_state_dict(state)

        def entry(e):
            out = {"seq": tuple(e["seq"]), "pred": None if e.get("pred") is None else dict(e["pred"])}
            if "status" in e:
                out["status"] = e["status"]
            if "values" in e:
                out["values"] = dict(e["values"])
            return out

        self.step = int(state["step"])
        self.finished = bool(state["finished"])
        self._queue = [entry(e) for e in state["queue"]]
        self._outstanding = {int(i): entry(e) for i, e in state["outstanding"]}
        self._told = [entry(e) for e in state["told"]]
        self._seen = set()
        self._seen_keys = set()
        self._mark_seen(tuple(s) for s in state["seen"])
        self._data_seqs = [tuple(s) for s in state["data_seqs"]]
        self._data_y = np.asarray(state["data_y"], dtype=float).tolist()
        self._archive = np.asarray(state["archive"], dtype=float).tolist()
        self.ref = None if state["ref"] is None else np.asarray(state["ref"], dtype=float)
        for s, st in zip(self.surrogates, state["surrogates"]):
            s.load_state_dict(st)


def _positive(name: str, v) -> int:
    if isinstance(v, bool) or int(v) != v or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}.")
    return int(v)
