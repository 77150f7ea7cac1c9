"""The progressive space: sequences that grow one token at a time.

A problem searched progressively has one :class:`~moopt.TokenSequence`
variable whose values are built by repeated :meth:`ProgressiveSpace.expand`, or
a space whose :meth:`ProgressiveSpace.to_params` maps each sequence onto the
problem's variables (e.g. a cell grown edge by edge onto one categorical
variable per edge, the others at a default).  DPP-Net's cell space
(``moopt.adapters.nas``), the synthetic problems and the NAS-Bench-201 problem
in ``moopt.problems`` implement this interface.  A problem announces its space
with ``Problem(..., progressive_space=...)``; :func:`space_for` finds it (or builds
a :class:`FreeSequenceSpace` from the problem's token-sequence variable).

Example:
    >>> class Bits(ProgressiveSpace):
    ...     tokens = ("0", "1"); max_length = 3; variable = "seq"
    ...     def initial(self): return [("0",), ("1",)]
    >>> Bits().expand(("1",))
    [('1', '0'), ('1', '1')]
"""

from __future__ import annotations

import abc
from typing import Any, Iterator, Optional, Sequence


class ProgressiveSpace(abc.ABC):
    """A space of token sequences grown one token at a time.

    Attributes:
        tokens: The token vocabulary (JSON scalars), in a fixed order; a
            surrogate encodes a sequence by these indices.
        max_length: The longest sequence the space allows.
        variable: Name of the problem's :class:`~moopt.TokenSequence` variable
            that holds the sequence, or ``None`` for a space that overrides
            :meth:`to_params` to map a sequence onto the problem's variables.
    """

    tokens: Sequence
    max_length: int
    variable: Optional[str] = "sequence"

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

    def to_params(self, seq: tuple) -> dict[str, Any]:
        """The candidate (one value per problem variable) that ``seq`` denotes.

        The default is ``{variable: seq}``: the sequence is the problem's single
        token-sequence variable.  A space over other variables overrides it (and
        sets :attr:`variable` to ``None``); then several sequences may denote the
        same candidate (e.g. a trailing padding token), and a progressive search
        proposes each candidate once (see :class:`~moopt.search.progressive.search.ProgressiveSearch`).

        Raises:
            ValueError: the space has no ``variable`` and does not override this method.
        """
        if self.variable is None:
            raise ValueError(f"{type(self).__name__} has variable=None but does not override to_params(); "
                             "map a sequence to the problem's variables there, or name the sequence variable.")
        return {self.variable: tuple(seq)}

    def encode(self, seq: tuple) -> list[int]:
        """Token indices of ``seq`` (for sequence surrogates), each in ``[0, len(tokens))``.

        Raises:
            ValueError: ``seq`` holds a token that is not in :attr:`tokens`.
        """
        index = self._index()
        try:
            return [index[t] for t in seq]
        except KeyError as exc:
            raise ValueError(
                f"sequence {tuple(seq)!r} holds the token {exc.args[0]!r}, which is not in the "
                f"space's tokens {list(self.tokens)}."
            ) from None

    def decode(self, indices: Sequence[int]) -> tuple:
        """The sequence whose token indices are ``indices`` (inverse of :meth:`encode`)."""
        return tuple(self.tokens[int(i)] for i in indices)

    def walk(self) -> Iterator[tuple]:
        """Every sequence reachable from :meth:`initial` by :meth:`expand`, shortest first.

        Meant for enumerating small spaces (known fronts, tests); the count
        grows exponentially with :attr:`max_length`.
        """
        level = list(dict.fromkeys(tuple(s) for s in self.initial()))
        seen = set(level)
        while level:
            yield from level
            nxt = []
            for s in level:
                for c in self.expand(s):
                    if c not in seen:
                        seen.add(c)
                        nxt.append(c)
            level = nxt

    def _index(self) -> dict:
        idx = getattr(self, "_index_cache", None)
        if idx is None or len(idx) != len(self.tokens):
            idx = {t: i for i, t in enumerate(self.tokens)}
            try:
                self._index_cache = idx
            except AttributeError:  # pragma: no cover - frozen subclasses
                pass
        return idx


class FreeSequenceSpace(ProgressiveSpace):
    """Every sequence of ``tokens``, grown from length ``min_length`` to ``max_length``.

    Args:
        tokens: The vocabulary.
        max_length: The longest sequence.
        min_length: Length of the initial sequences (all ``len(tokens) ** min_length``
            of them; at least 1).
        variable: Name of the problem's token-sequence variable.

    Example:
        >>> space = FreeSequenceSpace(("a", "b"), max_length=2)
        >>> space.initial(), space.expand(("a",))
        ([('a',), ('b',)], [('a', 'a'), ('a', 'b')])
    """

    def __init__(self, tokens: Sequence, *, max_length: int, min_length: int = 1, variable: str = "sequence"):
        self.tokens = tuple(tokens)
        if not self.tokens:
            raise ValueError("tokens is empty; a progressive space needs at least one token.")
        if len(set(map(repr, self.tokens))) != len(self.tokens):
            raise ValueError(f"tokens contain duplicates: {list(self.tokens)}.")
        min_length = max(1, int(min_length))
        if int(max_length) < min_length:
            raise ValueError(f"max_length={max_length} is smaller than min_length={min_length}.")
        self.max_length = int(max_length)
        self.min_length = min_length
        self.variable = variable

    def initial(self) -> list[tuple]:
        level: list[tuple] = [()]
        for _ in range(self.min_length):
            level = [s + (t,) for s in level for t in self.tokens if self.is_valid(s + (t,))]
        return level


def space_for(problem, space: ProgressiveSpace | None = None) -> ProgressiveSpace:
    """The progressive space of ``problem``.

    Returns ``space`` when given, else the problem's ``progressive_space``
    (the keyword of :class:`~moopt.Problem`), else a :class:`FreeSequenceSpace` over the problem's single
    :class:`~moopt.TokenSequence` variable.  (A space with ``variable=None`` maps its sequences
    with :meth:`ProgressiveSpace.to_params`; the search checks that they give every variable.)

    Raises:
        TypeError: ``space`` is not a :class:`ProgressiveSpace`.
        ValueError: the problem has no token-sequence variable to grow.
    """
    from ...space import TokenSequence

    if space is None:
        space = problem.progressive_space
    if space is not None:
        if not isinstance(space, ProgressiveSpace):
            raise TypeError(f"space must be a moopt.search.progressive.ProgressiveSpace, got {type(space).__name__}.")
        if space.variable is not None and space.variable not in problem.space.names:
            raise ValueError(
                f"the progressive space grows the variable {space.variable!r}, but the problem's "
                f"variables are {problem.space.names}; set the space's `variable` to one of them."
            )
        return space
    seqs = [v for v in problem.variables if isinstance(v, TokenSequence)]
    if len(problem.variables) != 1 or len(seqs) != 1:
        raise ValueError(
            "a progressive search needs a problem with exactly one TokenSequence variable "
            f"(got variables {problem.space.names}); pass space=ProgressiveSpace(...) or build the "
            "problem with Problem(..., progressive_space=...)."
        )
    v = seqs[0]
    return FreeSequenceSpace(v.tokens, max_length=v.max_length, min_length=max(1, v.min_length), variable=v.name)
