"""Decision variables and the search space they form.

A candidate is a ``dict`` mapping each variable's name to its value.  Values are
plain Python types (``float``, ``int``, a choice, or a ``tuple`` of tokens) so
that a candidate's canonical JSON encoding identifies it.

Example:
    >>> import numpy as np, moopt
    >>> space = moopt.Space([moopt.Real("lr", 1e-4, 1e-1, log=True),
    ...                      moopt.Categorical("op", ["conv3", "dw3"])])
    >>> x = space.sample(np.random.default_rng(0))
    >>> sorted(x)
    ['lr', 'op']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"a variable name must be a non-empty string, got {name!r}")


@dataclass(frozen=True)
class Real:
    """A real variable in ``[low, high]``, optionally sampled on a log scale."""

    name: str
    low: float
    high: float
    log: bool = False

    def __post_init__(self):
        _check_name(self.name)
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low >= self.high:
            raise ValueError(
                f"Real {self.name!r}: need finite low < high, got low={self.low}, high={self.high}."
            )
        if self.log and self.low <= 0:
            raise ValueError(f"Real {self.name!r}: log=True needs low > 0, got low={self.low}.")

    kind = "real"

    def sample(self, rng: np.random.Generator) -> float:
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def validate(self, value: Any) -> float:
        v = float(value)
        if not (self.low <= v <= self.high):
            raise ValueError(f"{self.name}={v} is outside [{self.low}, {self.high}].")
        return v

    def to_float(self, value: Any) -> float:
        return float(value)

    def from_float(self, x: float) -> float:
        return float(min(max(x, self.low), self.high))

    @property
    def bounds(self) -> tuple[float, float]:
        return (float(self.low), float(self.high))

    def to_config(self) -> dict:
        return {"type": "real", "name": self.name, "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class Integer:
    """An integer variable in ``[low, high]`` (both inclusive)."""

    name: str
    low: int
    high: int
    log: bool = False

    kind = "integer"

    def __post_init__(self):
        _check_name(self.name)
        if int(self.low) != self.low or int(self.high) != self.high or self.low > self.high:
            raise ValueError(
                f"Integer {self.name!r}: need integers low <= high, got low={self.low}, high={self.high}."
            )
        if self.log and self.low <= 0:
            raise ValueError(f"Integer {self.name!r}: log=True needs low > 0.")

    @property
    def n_values(self) -> int:
        """How many values the variable takes (``high - low + 1``)."""
        return int(self.high) - int(self.low) + 1

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            v = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
            return int(min(self.high, max(self.low, math.floor(v))))
        return int(rng.integers(self.low, self.high + 1))

    def validate(self, value: Any) -> int:
        v = int(value)
        if v != value or not (self.low <= v <= self.high):
            raise ValueError(f"{self.name}={value!r} is not an integer in [{self.low}, {self.high}].")
        return v

    def to_float(self, value: Any) -> float:
        return float(value)

    def from_float(self, x: float) -> int:
        return int(min(max(round(x), self.low), self.high))

    @property
    def bounds(self) -> tuple[float, float]:
        return (float(self.low), float(self.high))

    @property
    def choices(self) -> tuple[int, ...]:
        return tuple(range(int(self.low), int(self.high) + 1))

    def to_config(self) -> dict:
        return {"type": "integer", "name": self.name, "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class Categorical:
    """One choice among ``choices`` (JSON scalars: str, int, float, bool)."""

    name: str
    choices: Sequence[Any]  # any sequence; stored as a tuple

    kind = "categorical"

    def __post_init__(self):
        _check_name(self.name)
        object.__setattr__(self, "choices", tuple(self.choices))
        if len(self.choices) == 0:
            raise ValueError(f"Categorical {self.name!r}: choices is empty.")
        if len(set(map(repr, self.choices))) != len(self.choices):
            raise ValueError(f"Categorical {self.name!r}: choices contain duplicates: {self.choices}.")

    @property
    def n_values(self) -> int:
        """How many values the variable takes (its number of choices)."""
        return len(self.choices)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.choices[int(rng.integers(len(self.choices)))]

    def index(self, value: Any) -> int:
        for i, c in enumerate(self.choices):
            if c == value and isinstance(c, bool) == isinstance(value, (bool, np.bool_)):
                return i
        raise ValueError(f"{self.name}={value!r} is not one of {list(self.choices)}.")

    def validate(self, value: Any) -> Any:
        return self.choices[self.index(value)]

    def to_float(self, value: Any) -> float:
        return float(self.index(value))

    def from_float(self, x: float) -> Any:
        return self.choices[int(min(max(round(x), 0), len(self.choices) - 1))]

    @property
    def bounds(self) -> tuple[float, float]:
        return (0.0, float(len(self.choices) - 1))

    def to_config(self) -> dict:
        return {"type": "categorical", "name": self.name, "choices": list(self.choices)}


@dataclass(frozen=True)
class TokenSequence:
    """A sequence of tokens drawn from ``tokens``, of length ``min_length..max_length``.

    Fixed-length sequences (``min_length == max_length``) suit MONAS-style
    controllers; growable ones suit progressive (DPP-Net-style) searches.
    Values are tuples of tokens.
    """

    name: str
    tokens: Sequence[Any]  # any sequence; stored as a tuple
    min_length: int = 1
    max_length: int = 1

    kind = "sequence"

    def __post_init__(self):
        _check_name(self.name)
        object.__setattr__(self, "tokens", tuple(self.tokens))
        if not self.tokens:
            raise ValueError(f"TokenSequence {self.name!r}: tokens is empty.")
        if not (0 <= self.min_length <= self.max_length):
            raise ValueError(
                f"TokenSequence {self.name!r}: need 0 <= min_length <= max_length, "
                f"got {self.min_length}, {self.max_length}."
            )

    @property
    def fixed_length(self) -> bool:
        return self.min_length == self.max_length

    def sample(self, rng: np.random.Generator) -> tuple:
        n = int(rng.integers(self.min_length, self.max_length + 1))
        idx = rng.integers(len(self.tokens), size=n)
        return tuple(self.tokens[int(i)] for i in idx)

    def validate(self, value: Any) -> tuple:
        seq = tuple(value)
        if not (self.min_length <= len(seq) <= self.max_length):
            raise ValueError(
                f"{self.name} has length {len(seq)}; expected {self.min_length}..{self.max_length}."
            )
        for t in seq:
            if t not in self.tokens:
                raise ValueError(f"{self.name} contains unknown token {t!r}; tokens are {list(self.tokens)}.")
        return seq

    def to_config(self) -> dict:
        return {
            "type": "sequence",
            "name": self.name,
            "tokens": list(self.tokens),
            "min_length": self.min_length,
            "max_length": self.max_length,
        }


Variable = (Real, Integer, Categorical, TokenSequence)

_FROM_CONFIG = {"real": Real, "integer": Integer, "categorical": Categorical, "sequence": TokenSequence}


def variable_from_config(cfg: Mapping) -> Any:
    """Rebuild a variable from its :meth:`to_config` dictionary."""
    cfg = dict(cfg)
    kind = cfg.pop("type")
    return _FROM_CONFIG[kind](**cfg)


class Space:
    """An ordered collection of uniquely named variables.

    Args:
        variables: The variables, in order.  For controllers that emit one
            decision per step (MONAS), this order is the decision order.
    """

    def __init__(self, variables: Iterable):
        self.variables = tuple(variables)
        names = [v.name for v in self.variables]
        if not self.variables:
            raise ValueError("a search space needs at least one variable.")
        for v in self.variables:
            if not isinstance(v, Variable):
                raise TypeError(f"{v!r} is not a moopt variable (Real, Integer, Categorical, TokenSequence).")
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"variable names must be unique; duplicated: {sorted(dup)}.")
        self._by_name = {v.name: v for v in self.variables}

    def __len__(self) -> int:
        return len(self.variables)

    def __iter__(self):
        return iter(self.variables)

    def __getitem__(self, name: str):
        return self._by_name[name]

    @property
    def size(self) -> Optional[int]:
        """Number of candidates when every variable is Categorical or Integer, else ``None``.

        Example:
            >>> Space([Categorical("op", ["a", "b", "c"]), Integer("k", 1, 4)]).size
            12
        """
        size = 1
        for v in self.variables:
            if not isinstance(v, (Categorical, Integer)):
                return None
            size *= v.n_values
        return size

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def sample(self, rng: np.random.Generator) -> dict:
        """Draw one candidate uniformly (log-uniform where asked)."""
        return {v.name: v.sample(rng) for v in self.variables}

    def validate(self, params: Mapping) -> dict:
        """Check a candidate and return it with normalized values.

        Raises:
            ValueError: a missing or unknown variable, or a value out of range.
        """
        missing = [n for n in self.names if n not in params]
        extra = [n for n in params if n not in self._by_name]
        if missing or extra:
            raise ValueError(f"candidate does not match the space: missing {missing}, unknown {extra}.")
        return {v.name: v.validate(params[v.name]) for v in self.variables}

    @property
    def is_vector(self) -> bool:
        """True when every variable maps to one number (no token sequences)."""
        return all(not isinstance(v, TokenSequence) for v in self.variables)

    @property
    def is_categorical(self) -> bool:
        """True when every variable is a finite choice (Categorical or Integer)."""
        return all(isinstance(v, (Categorical, Integer)) for v in self.variables)

    def _require_vector(self):
        if not self.is_vector:
            raise TypeError("this space holds token sequences and has no fixed-length vector encoding.")

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the vector encoding, each of shape ``(n_vars,)``."""
        self._require_vector()
        b = np.array([v.bounds for v in self.variables], dtype=float)
        return b[:, 0], b[:, 1]

    def to_vector(self, params: Mapping) -> np.ndarray:
        """Encode a candidate as a float vector of shape ``(n_vars,)`` (categoricals by index)."""
        self._require_vector()
        return np.array([v.to_float(params[v.name]) for v in self.variables], dtype=float)

    def from_vector(self, x) -> dict:
        """Decode a float vector (clipped, rounded for integer/categorical) into a candidate."""
        self._require_vector()
        x = np.asarray(x, dtype=float).reshape(-1)
        if x.shape[0] != len(self.variables):
            raise ValueError(f"vector has {x.shape[0]} entries, the space has {len(self.variables)} variables.")
        return {v.name: v.from_float(float(xi)) for v, xi in zip(self.variables, x)}

    def to_config(self) -> list[dict]:
        return [v.to_config() for v in self.variables]

    @classmethod
    def from_config(cls, cfg: Sequence[Mapping]) -> "Space":
        return cls(variable_from_config(c) for c in cfg)
