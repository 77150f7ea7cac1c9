"""Uniform random search: the baseline every other search must beat."""

from __future__ import annotations

from typing import Sequence

from .base import Candidate, Evaluation, Search


class RandomSearch(Search):
    """Draws candidates independently and uniformly from the problem's space.

    Args:
        problem: The problem to search.
        seed: Seed of the search's ``numpy.random.Generator``.

    Example:
        >>> import moopt
        >>> p = moopt.Problem([moopt.Integer("k", 1, 3)], ["f"], lambda x: {"f": x["k"]})
        >>> [c.params["k"] for c in RandomSearch(p, seed=1).ask(3)]  # doctest: +SKIP
        [2, 3, 1]
    """

    name = "random"
    #: Draws are independent of results and of how asks are split (see
    #: :func:`moopt.engine.batch_invariant`): ``ask(3)`` gives what three ``ask(1)`` give.
    batch_invariant = True

    def ask(self, n: int = 1) -> list[Candidate]:
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}.")
        return [self._new_candidate(self.problem.space.sample(self.rng)) for _ in range(n)]

    def tell(self, results: Sequence[Evaluation]) -> None:
        # Random search does not learn; failed results need no handling.
        return None
