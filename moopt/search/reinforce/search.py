"""MONAS-style search: an LSTM policy over categorical decisions trained by REINFORCE.

The policy (:class:`moopt.search.reinforce.policy.LSTMPolicy`) emits one decision per
variable of the problem, in the space's order: a ``Categorical`` is one
decision over its choices, an ``Integer`` one decision over ``low..high``, a
fixed-length ``TokenSequence`` one decision per position over its tokens.
Children are sampled in batches of ``children_per_update``; when every child of a
batch has a result, each gets a reward (:mod:`moopt.rewards`) and the policy
takes one REINFORCE step::

    loss = -mean_i((R_i - b) * log p(child_i)) - entropy_weight * mean_i(H_i)

with ``b`` an exponential moving average of the batch's mean reward
(``b <- decay * b + (1 - decay) * mean(R)``, started at the first batch's
mean), gradient-norm clipping and Adam.  Failed, pruned and infeasible
(problem constraint ``g > 0``) children get ``reward.failure_reward()``.

``ask(n)`` hands out up to ``n`` children of the current batch; once the
whole batch is handed out it returns ``[]`` until the batch's results are
told (synchronous REINFORCE: every update is on-policy).  The search never
finishes by itself; the caller's budget stops it.

Every update records ``self.log("policy_update", ...)`` with the mean, std
and max reward, baseline, mean entropy (nats, summed over decisions), loss,
gradient norm, counts of ok/failed children and ``satisfied_fraction`` (the
fraction of the batch that meets the reward's constraint, e.g. the power
budget; ``None`` for rewards without one).

Example:
    >>> import moopt
    >>> from moopt.rewards import MixedReward
    >>> problem = moopt.Problem(
    ...     [moopt.Categorical("op", ["a", "b", "c"]), moopt.Integer("width", 1, 4)],
    ...     [moopt.Objective("accuracy", "max"), moopt.Objective("energy")],
    ...     lambda p: {"accuracy": p["width"] / 4, "energy": p["width"] * (p["op"] == "c")})
    >>> search = ReinforceSearch(problem, reward=MixedReward(0.5), children_per_update=4, seed=0)
    >>> children = search.ask(4)
    >>> search.tell([moopt.Evaluation.success(c, problem.evaluate(c.params)) for c in children])
    >>> [log["kind"] for log in search.drain_logs()]
    ['policy_update']
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from ...space import Categorical, Integer, TokenSequence
from ..base import Candidate, Evaluation, Search

_MAX_CHOICES = 100_000


def _decisions(problem) -> list[tuple[Any, Optional[int], tuple]]:
    """(variable, position or None, choices) per decision step, in order."""
    steps: list[tuple[Any, Optional[int], tuple]] = []
    bad: list[str] = []
    for v in problem.space.variables:
        if isinstance(v, Categorical):
            steps.append((v, None, tuple(v.choices)))
        elif isinstance(v, Integer):
            n = int(v.high) - int(v.low) + 1
            if n > _MAX_CHOICES:
                raise ValueError(
                    f"Integer {v.name!r} has {n} values; ReinforceSearch emits one softmax per "
                    f"decision and allows at most {_MAX_CHOICES} choices; narrow its range."
                )
            steps.append((v, None, v.choices))
        elif isinstance(v, TokenSequence) and v.fixed_length:
            steps.extend((v, i, tuple(v.tokens)) for i in range(v.max_length))
        else:
            bad.append(f"{v.name!r} ({type(v).__name__})")
    if bad:
        raise TypeError(
            "ReinforceSearch needs a problem whose variables are sequences of categorical decisions "
            "(Categorical, Integer or fixed-length TokenSequence); "
            f"not supported: {', '.join(bad)}. Discretize reals as Categorical('lr', [1e-3, 1e-2, ...])."
        )
    return steps


class ReinforceSearch(Search):
    """REINFORCE-trained LSTM controller over categorical decisions (MONAS).

    Args:
        problem: A problem whose variables are all ``Categorical``, ``Integer``
            or fixed-length ``TokenSequence`` (decision order = space order).
        seed: Seed of the numpy generator; the torch generator (weights and
            sampling) is seeded from it.
        reward: A :class:`moopt.rewards.Reward`, a config dict or a spec string
            (``"mixed:alpha=0.25,accuracy=acc,energy=energy_mj"``).  Default:
            the hypervolume improvement over all objectives (a normalized
            weighted sum for one objective).  A Reward instance is copied (its
            running state lives in the search, see :attr:`reward`).
        children_per_update: Children per policy update.
        hidden: LSTM hidden size.
        lr: Adam learning rate.
        baseline_decay: Decay of the exponential moving-average baseline, in
            ``[0, 1)``.  Default: 0.9 (MONAS), or 0 (the previous batch's mean)
            for rewards that shrink as the search goes on
            (``reward.stationary`` is False: hypervolume improvement), whose
            rewards a slow baseline would overestimate for many updates.
        entropy_weight: Weight of the entropy bonus (``>= 0``).
        grad_clip: Maximum gradient norm (``> 0``), or ``None`` for no clipping.
        normalize_advantages: Divide the advantages ``R - b`` by the batch's
            reward standard deviation (makes the step size independent of the
            reward's scale).  Default: off (MONAS) for stationary rewards, on
            for the hypervolume improvement, whose rewards fall by orders of
            magnitude as the archive fills.
        mask: Optional ``mask(prefix) -> allowed`` hook for conditional
            decisions: ``prefix`` is the tuple of choice *indices* already made,
            ``allowed`` a sequence of booleans, one per choice of decision
            ``len(prefix)`` (or ``None`` for all).  Not serialized: pass it
            again when rebuilding the search.
    """

    name = "reinforce"

    def __init__(self, problem, *, seed: Optional[int] = None, reward: Union[None, str, Mapping, Any] = None,
                 children_per_update: int = 10, hidden: int = 32, lr: float = 0.01,
                 baseline_decay: Optional[float] = None,
                 entropy_weight: float = 0.01, grad_clip: Optional[float] = 1.0,
                 normalize_advantages: Optional[bool] = None,
                 mask: Optional[Callable[[tuple], Optional[Sequence[bool]]]] = None):
        super().__init__(problem, seed=seed)
        from ...rewards import HypervolumeImprovement, Reward, WeightedSum, reward_from_config

        self._steps = _decisions(problem)
        if int(children_per_update) != children_per_update or children_per_update < 1:
            raise ValueError(f"children_per_update must be a positive integer, got {children_per_update!r}.")
        if int(hidden) != hidden or hidden < 1:
            raise ValueError(f"hidden must be a positive integer, got {hidden!r}.")
        if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lr must be a positive number, got {lr!r}.")
        if baseline_decay is not None and not (0.0 <= baseline_decay < 1.0):
            raise ValueError(f"baseline_decay must be in [0, 1), got {baseline_decay!r}.")
        if not (entropy_weight >= 0 and math.isfinite(entropy_weight)):
            raise ValueError(f"entropy_weight must be >= 0, got {entropy_weight!r}.")
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"grad_clip must be > 0 or None, got {grad_clip!r}.")
        if mask is not None and not callable(mask):
            raise TypeError(f"mask must be a callable mask(prefix) -> allowed, got {mask!r}.")
        self.children_per_update = int(children_per_update)
        self.hidden = int(hidden)
        self.lr = float(lr)
        self.entropy_weight = float(entropy_weight)
        self.grad_clip = None if grad_clip is None else float(grad_clip)
        self.mask = mask

        if reward is None:
            reward = (WeightedSum(problem.objective_names) if problem.n_obj == 1
                      else HypervolumeImprovement())
        elif isinstance(reward, Reward):
            reward = copy.deepcopy(reward)  # rewards keep state: never share the caller's object
        else:
            reward = reward_from_config(reward)
        self.reward = reward.bind(problem)
        # Defaults follow the reward: MONAS settings for stationary rewards, a
        # last-batch baseline and scale-free advantages for shrinking ones (HVI).
        if baseline_decay is None:
            baseline_decay = 0.9 if reward.stationary else 0.0
        if normalize_advantages is None:
            normalize_advantages = not reward.stationary
        self.baseline_decay = float(baseline_decay)
        self.normalize_advantages = bool(normalize_advantages)

        import torch

        from .policy import LSTMPolicy

        self._torch = torch
        self._gen = torch.Generator()
        self._gen.manual_seed(int(self.rng.integers(0, 2**63 - 1)))
        self.policy = LSTMPolicy([len(s[2]) for s in self._steps], hidden=self.hidden, generator=self._gen)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.lr)
        self.baseline: Optional[float] = None
        self.n_updates = 0
        self._clear_batch()

    # -- batch bookkeeping -----------------------------------------------------
    def _clear_batch(self) -> None:
        self._actions: Optional[np.ndarray] = None  # (B, T) choice indices
        self._ids: list[int] = []
        self._results: list[Optional[dict]] = []

    def _decode(self, row: np.ndarray) -> dict:
        params: dict[str, Any] = {}
        for (var, pos, choices), a in zip(self._steps, row.tolist()):
            value = choices[a]
            if pos is None:
                params[var.name] = value
            else:
                params[var.name] = params.get(var.name, ()) + (value,)
        return params

    def _sample_batch(self) -> None:
        actions = self.policy.sample(self.children_per_update, generator=self._gen, mask=self.mask)
        self._actions = actions.numpy().astype(np.int64)
        self._ids, self._results = [], []

    # -- ask / tell ------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Candidate]:
        if int(n) != n or n < 0:
            raise ValueError(f"n must be an integer >= 0, got {n!r}.")
        out: list[Candidate] = []
        while len(out) < n:
            if self._actions is None:
                self._sample_batch()
            assert self._actions is not None  # _sample_batch() sets it
            i = len(self._ids)
            if i >= self.children_per_update:
                break  # whole batch handed out: wait for its results
            c = self._new_candidate(self._decode(self._actions[i]),
                                    {"update": self.n_updates, "child": i})
            self._ids.append(c.id)
            self._results.append(None)
            out.append(c)
        return out

    def tell(self, results: Sequence[Evaluation]) -> None:
        for r in results:
            cid = r.candidate.id
            if cid not in self._ids:
                raise ValueError(
                    f"result for candidate {cid}, which is not an outstanding child of this search "
                    f"(outstanding: {[i for i, x in zip(self._ids, self._results) if x is None]})."
                )
            j = self._ids.index(cid)
            if self._results[j] is not None:
                raise ValueError(f"candidate {cid} was already told; tell each result once.")
            entry: dict[str, Any] = {"status": r.status, "feasible": bool(r.feasible())}
            if r.ok:
                entry["values"] = {k: float(v) for k, v in (r.values or {}).items()}
                entry["values"].update({k: float(v) for k, v in (r.constraints or {}).items()})
            self._results[j] = entry
        if (self._actions is not None and len(self._ids) == self.children_per_update
                and all(x is not None for x in self._results)):
            self._update()

    # -- policy update ---------------------------------------------------------
    def _told_results(self) -> list[dict]:
        """The results of the current batch, once every child is told (when the policy updates)."""
        told = [e for e in self._results if e is not None]
        assert len(told) == len(self._results), "the policy updates only once every child is told"
        return told

    def _rewards(self) -> tuple[np.ndarray, Optional[float]]:
        results = self._told_results()
        good = [j for j, e in enumerate(results) if e["status"] == "ok" and e["feasible"]]
        rewards = np.empty(self.children_per_update)
        if good:
            rewards[good] = self.reward.batch([results[j]["values"] for j in good])
        fail = self.reward.failure_reward()
        bad = [j for j in range(self.children_per_update) if j not in good]
        rewards[bad] = fail
        satisfied = None
        if self.reward.has_constraint:  # failed children do not satisfy it
            satisfied = float(np.mean([e["status"] == "ok" and bool(self.reward.satisfied(e["values"]))
                                       for e in results]))
        return rewards, satisfied

    def _update(self) -> None:
        torch = self._torch
        R, satisfied = self._rewards()
        b = float(R.mean()) if self.baseline is None else self.baseline
        A = R - b
        if self.normalize_advantages:  # equal rewards carry no ranking: no policy-gradient step
            sd = float(R.std())
            A = A / sd if sd > 1e-12 else np.zeros_like(A)
        adv = torch.as_tensor(A, dtype=torch.float32)
        assert self._actions is not None  # tell() updates only with a sampled batch
        actions = torch.from_numpy(self._actions)
        logp, ent = self.policy.evaluate(actions, mask=self.mask)
        loss = -(adv * logp).mean() - self.entropy_weight * ent.mean()
        self.optimizer.zero_grad()
        loss.backward()
        params = list(self.policy.parameters())
        if self.grad_clip is not None:
            gnorm = float(torch.nn.utils.clip_grad_norm_(params, self.grad_clip))
        else:
            grads = []
            for p in params:
                assert p.grad is not None, "backward() reaches every policy parameter"
                grads.append(p.grad.detach())
            gnorm = float(torch.sqrt(sum((g ** 2).sum() for g in grads)))
        self.optimizer.step()
        self.baseline = self.baseline_decay * b + (1.0 - self.baseline_decay) * float(R.mean())
        results = self._told_results()
        n_ok = sum(e["status"] == "ok" for e in results)
        feasible = float(np.mean([e["feasible"] for e in results]))
        self.log(
            "policy_update",
            update=self.n_updates,
            mean_reward=float(R.mean()),
            std_reward=float(R.std()),
            max_reward=float(R.max()),
            baseline=float(self.baseline),
            entropy=float(ent.detach().mean()),
            loss=float(loss.detach()),
            grad_norm=gnorm,
            n_ok=int(n_ok),
            n_failed=int(self.children_per_update - n_ok),
            feasible_fraction=feasible,
            satisfied_fraction=satisfied,
        )
        self.n_updates += 1
        self._clear_batch()

    # -- checkpoints -----------------------------------------------------------
    def config(self) -> dict:
        return {
            "reward": self.reward.config(),
            "children_per_update": self.children_per_update,
            "hidden": self.hidden,
            "lr": self.lr,
            "baseline_decay": self.baseline_decay,
            "entropy_weight": self.entropy_weight,
            "grad_clip": self.grad_clip,
            "normalize_advantages": self.normalize_advantages,
        }

    def _optimizer_state(self) -> list:
        torch = self._torch
        sd = self.optimizer.state_dict()
        out = []
        for i in range(len(list(self.policy.parameters()))):
            st = sd["state"].get(i)
            out.append(None if st is None else {
                k: (v.detach().cpu().numpy().copy() if torch.is_tensor(v) else v) for k, v in st.items()
            })
        return out

    def _load_optimizer_state(self, per_param: Sequence) -> None:
        torch = self._torch
        state = {}
        for i, st in enumerate(per_param):
            if st is not None:
                state[i] = {k: (torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v)
                            for k, v in st.items()}
        groups = self.optimizer.state_dict()["param_groups"]
        self.optimizer.load_state_dict({"state": state, "param_groups": groups})

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(
            policy=self.policy.weights(),
            optimizer=self._optimizer_state(),
            torch_rng=self._gen.get_state().numpy().copy(),
            baseline=self.baseline,
            n_updates=self.n_updates,
            reward=self.reward.state_dict(),
            batch=None if self._actions is None else {
                "actions": self._actions.copy(),
                "ids": list(self._ids),
                "results": list(self._results),
            },
        )
        return state

    def load_state_dict(self, state: Mapping) -> None:
        torch = self._torch
        super().load_state_dict(state)
        self.policy.load_weights(state["policy"])
        self._load_optimizer_state(state["optimizer"])
        self._gen.set_state(torch.from_numpy(np.array(state["torch_rng"], dtype=np.uint8)))
        self.baseline = None if state["baseline"] is None else float(state["baseline"])
        self.n_updates = int(state["n_updates"])
        self.reward.load_state_dict(state["reward"])
        batch = state["batch"]
        if batch is None:
            self._clear_batch()
        else:
            actions = np.array(batch["actions"], dtype=np.int64).reshape(self.children_per_update, len(self._steps))
            self._actions = actions
            self._ids = [int(i) for i in batch["ids"]]
            self._results = [None if e is None else dict(e) for e in batch["results"]]
