"""An LSTM policy that emits one categorical decision per step (MONAS/ENAS controller).

Step ``t`` reads the embedding of the choice made at step ``t - 1`` (a learned
start vector at ``t = 0``), advances an ``LSTMCell`` and applies its own linear
head with ``n_choices[t]`` outputs, so every decision has its own softmax and
its own number of choices.  An optional ``mask(prefix) -> allowed`` hook makes
decisions conditional on the earlier ones.

All randomness (initial weights, sampling) comes from a ``torch.Generator``
the caller passes; the module never touches torch's global random state.

Example:
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> policy = LSTMPolicy([3, 2, 4], hidden=16, generator=g)
    >>> actions = policy.sample(5, generator=g)
    >>> actions.shape
    torch.Size([5, 3])
    >>> logp, entropy = policy.evaluate(actions)
    >>> logp.shape, entropy.shape
    (torch.Size([5]), torch.Size([5]))
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import torch
from torch import nn

Mask = Callable[[tuple], Optional[Sequence[bool]]]


class LSTMPolicy(nn.Module):
    """Autoregressive categorical policy over ``len(n_choices)`` decisions.

    Args:
        n_choices: Number of choices of each decision, in decision order.
        hidden: LSTM hidden size (32--64 keeps it fast on CPU).
        embedding: Size of the choice embeddings (default: ``hidden``).
        init_range: Weights are drawn uniformly from ``[-init_range, init_range]``.
        generator: ``torch.Generator`` for the initial weights.
    """

    def __init__(self, n_choices: Sequence[int], *, hidden: int = 32, embedding: Optional[int] = None,
                 init_range: float = 0.1, generator: Optional[torch.Generator] = None):
        super().__init__()
        self.n_choices = [int(k) for k in n_choices]
        if not self.n_choices or any(k < 1 for k in self.n_choices):
            raise ValueError(f"n_choices must be a non-empty list of positive counts, got {list(n_choices)}.")
        if int(hidden) < 1:
            raise ValueError(f"hidden must be >= 1, got {hidden}.")
        self.hidden = int(hidden)
        self.embedding_size = int(embedding or hidden)
        # Building torch modules draws default weights from the global RNG; fork it
        # so the caller's global state is untouched, then re-draw from `generator`.
        with torch.random.fork_rng(devices=[]):
            self.start = nn.Parameter(torch.zeros(1, self.embedding_size))
            self.embeddings = nn.ModuleList(nn.Embedding(k, self.embedding_size) for k in self.n_choices[:-1])
            self.cell = nn.LSTMCell(self.embedding_size, self.hidden)
            self.heads = nn.ModuleList(nn.Linear(self.hidden, k) for k in self.n_choices)
        self.reset_parameters(init_range, generator=generator)

    @property
    def n_steps(self) -> int:
        return len(self.n_choices)

    @torch.no_grad()
    def reset_parameters(self, init_range: float = 0.1, *, generator: Optional[torch.Generator] = None) -> None:
        """Draw every weight uniformly from ``[-init_range, init_range]`` (ENAS init)."""
        for p in self.parameters():
            p.uniform_(-init_range, init_range, generator=generator)

    def _allowed(self, mask: Optional[Mask], prefixes: list, t: int) -> Optional[torch.Tensor]:
        if mask is None:
            return None
        k = self.n_choices[t]
        rows = []
        for prefix in prefixes:
            allowed = mask(tuple(prefix))
            if allowed is None:
                rows.append(np.ones(k, dtype=bool))
                continue
            a = np.asarray(allowed, dtype=bool).reshape(-1)
            if a.shape[0] != k:
                raise ValueError(
                    f"mask({tuple(prefix)}) returned {a.shape[0]} flags; decision {t} has {k} choices."
                )
            if not a.any():
                raise ValueError(f"mask({tuple(prefix)}) allows no choice at decision {t}; allow at least one.")
            rows.append(a)
        return torch.from_numpy(np.stack(rows))

    def _run(self, batch: int, actions: Optional[torch.Tensor], generator: Optional[torch.Generator],
             mask: Optional[Mask]):
        x = self.start.expand(batch, -1)
        h = x.new_zeros(batch, self.hidden)
        c = x.new_zeros(batch, self.hidden)
        chosen, logps, ents = [], [], []
        prefixes: list[list[int]] = [[] for _ in range(batch)]
        for t in range(len(self.n_choices)):
            h, c = self.cell(x, (h, c))
            logits = self.heads[t](h)
            allowed = self._allowed(mask, prefixes, t)
            if allowed is not None:
                logits = logits.masked_fill(~allowed, float("-inf"))
            logp_all = torch.log_softmax(logits, dim=-1)
            p_all = logp_all.exp()
            if actions is None:
                a = torch.multinomial(p_all.detach(), 1, generator=generator).squeeze(1)
            else:
                a = actions[:, t]
            chosen.append(a)
            logps.append(logp_all.gather(1, a[:, None]).squeeze(1))
            ents.append(-(p_all * torch.where(p_all > 0, logp_all, torch.zeros_like(logp_all))).sum(-1))
            if mask is not None:
                for prefix, ai in zip(prefixes, a.tolist()):
                    prefix.append(ai)
            if t + 1 < self.n_steps:
                x = self.embeddings[t](a)
        return torch.stack(chosen, 1), torch.stack(logps, 1).sum(1), torch.stack(ents, 1).sum(1)

    @torch.no_grad()
    def sample(self, batch: int, *, generator: Optional[torch.Generator] = None,
               mask: Optional[Mask] = None) -> torch.Tensor:
        """Sample ``batch`` decision sequences, a ``(batch, n_steps)`` int64 tensor of choice indices."""
        actions, _, _ = self._run(int(batch), None, generator, mask)
        return actions

    def evaluate(self, actions: torch.Tensor, *, mask: Optional[Mask] = None):
        """Log-probability ``(batch,)`` and entropy ``(batch,)`` (summed over steps) of ``actions``."""
        actions = torch.as_tensor(actions, dtype=torch.long)
        if actions.ndim != 2 or actions.shape[1] != self.n_steps:
            raise ValueError(f"actions must have shape (batch, {self.n_steps}), got {tuple(actions.shape)}.")
        _, logp, ent = self._run(actions.shape[0], actions, None, mask)
        return logp, ent

    def weights(self) -> dict:
        """Parameters as numpy arrays (for a JSON state dict)."""
        return {k: v.detach().cpu().numpy().copy() for k, v in self.state_dict().items()}

    def load_weights(self, weights) -> None:
        """Load parameters produced by :meth:`weights`."""
        self.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
