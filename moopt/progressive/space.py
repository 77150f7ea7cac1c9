"""The progressive space: sequences that grow one token at a time.

A problem searched progressively has one :class:`~moopt.TokenSequence`
variable whose values are built by repeated :meth:`ProgressiveSpace.expand`.
DPP-Net's cell space (``moopt.adapters.nas``) and the synthetic problems in
``moopt.problems`` implement this interface.

Example:
    >>> class Bits(ProgressiveSpace):
    ...     tokens = ("0", "1"); max_length = 3; variable = "seq"
    ...     def initial(self): return [("0",), ("1",)]
    >>> Bits().expand(("1",))
    [('1', '0'), ('1', '1')]
"""

from __future__ import annotations

import abc
from typing import Sequence


class ProgressiveSpace(abc.ABC):
    """A space of token sequences grown one token at a time.

    Attributes:
        tokens: The token vocabulary (JSON scalars), in a fixed order; a
            surrogate encodes a sequence by these indices.
        max_length: The longest sequence the space allows.
        variable: Name of the problem's :class:`~moopt.TokenSequence` variable
            that holds the sequence.
    """

    tokens: Sequence
    max_length: int
    variable: str = "sequence"

    @abc.abstractmethod
    def initial(self) -> list[tuple]:
        """The sequences of the first step (every valid sequence of minimal length)."""

    def is_valid(self, seq: tuple) -> bool:
        """Validity rule applied by :meth:`expand` (default: every sequence is valid)."""
        return True

    def expand(self, seq: tuple) -> list[tuple]:
        """Every valid sequence one token longer than ``seq`` (empty at ``max_length``)."""
        seq = tuple(seq)
        if len(seq) >= self.max_length:
            return []
        return [seq + (t,) for t in self.tokens if self.is_valid(seq + (t,))]

    def encode(self, seq: tuple) -> list[int]:
        """Token indices of ``seq`` (for sequence surrogates)."""
        index = {t: i for i, t in enumerate(self.tokens)}
        return [index[t] for t in seq]
