"""Checks of a benchmark grid's configuration before any run starts.

A grid that cannot run (a negative seed, an option the algorithm does not take, ``pop_size="abc"``)
is a configuration error: :func:`check_search_options` raises :class:`~moopt.errors.ConfigError`
naming the option and the fix, instead of every run failing later with a library's wording
(``negative dimensions are not allowed``).

Each option value is checked against its kind: by name for the options whose meaning is the same in
every search (``pop_size``, ``*_prob``, ``*_eta``, ...), otherwise by the type of the default in the
search's signature; then the search is built once on each problem of the grid, so that an unknown
option or a value the search itself rejects is reported up front.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Mapping

from ..errors import ConfigError
from ..registry import get_algorithm

_POSITIVE_INT = "an integer >= 1"
_PROBABILITY = "a number in [0, 1]"
_POSITIVE = "a finite number > 0"
_NON_NEGATIVE = "a finite number >= 0"
_BOOL = "true or false"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# kind -> (check, an example value as written on the command line)
_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    _POSITIVE_INT: (lambda v: _is_int(v) and v >= 1, "50"),
    _PROBABILITY: (lambda v: _is_number(v) and 0 <= v <= 1, "0.9"),
    _POSITIVE: (lambda v: _is_number(v) and v > 0, "20"),
    _NON_NEGATIVE: (lambda v: _is_number(v) and v >= 0, "0.01"),
    _BOOL: (lambda v: isinstance(v, bool), "true"),
    "an integer": (_is_int, "10"),
    "a number": (_is_number, "1.5"),
    "a string": (lambda v: isinstance(v, str), "name"),
}

#: option name -> its kind, for options that mean the same in every search that takes them
OPTION_KINDS: dict[str, str] = {
    **dict.fromkeys(("pop_size", "n_offsprings", "n_partitions", "n_neighbors", "n_init", "k", "k_expand",
                     "n_initial", "max_length", "children_per_update", "hidden"), _POSITIVE_INT),
    **dict.fromkeys(("crossover_prob", "mutation_prob", "prob_neighbor_mating", "mutation_indpb",
                     "baseline_decay", "relink"), _PROBABILITY),
    **dict.fromkeys(("crossover_eta", "mutation_eta", "lr", "grad_clip"), _POSITIVE),
    "entropy_weight": _NON_NEGATIVE,
    **dict.fromkeys(("eliminate_duplicates", "normalize_advantages"), _BOOL),
}


def _default_kind(default: Any) -> str | None:
    if isinstance(default, bool):
        return _BOOL
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, str):
        return "a string"
    return None  # None or an object: the search checks it when built


def _signature(factory: Callable) -> tuple[dict[str, inspect.Parameter], bool]:
    """The options ``factory`` names (not ``problem``/``seed``) and whether it takes ``**options``."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}, True
    named = {n: p for n, p in params.items() if n not in ("problem", "seed", "self")
             and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return named, any(p.kind is p.VAR_KEYWORD for p in params.values())


def _returned_class(factory: Callable) -> Any:
    """The class a factory function is annotated to return (``-> DeapNSGA2``), or ``None``."""
    if inspect.isclass(factory):
        return None
    try:
        ann = inspect.signature(factory).return_annotation
    except (TypeError, ValueError):
        return None
    if isinstance(ann, str):
        ann = getattr(factory, "__globals__", {}).get(ann)
    return ann if inspect.isclass(ann) else None


def check_option_values(algorithm: str, options: Mapping[str, Any]) -> None:
    """Check the type and range of each option of ``algorithm`` (no search is built).

    Raises:
        ConfigError: an option the algorithm does not name (when it takes no ``**options``) or a
            value of the wrong kind; the message shows ``-o ALG.KEY=VALUE`` with a valid example.
    """
    named, takes_any = _signature(get_algorithm(algorithm))
    for key, value in options.items():
        if key not in named and not takes_any:
            raise ConfigError(
                f"{algorithm} does not take option {key!r} (-o {algorithm}.{key}=...); it accepts "
                f"{sorted(named) or 'no options'}.")
        kind = OPTION_KINDS.get(key)
        if kind is None and key in named:
            default = named[key].default
            kind = _default_kind(default) if default is not inspect.Parameter.empty else None
        if value is None and key in named and named[key].default is None:
            continue  # None is the documented default
        if kind is not None and not _KINDS[kind][0](value):
            raise ConfigError(f"option {algorithm}.{key} must be {kind}, got {value!r}; "
                              f"e.g. -o {algorithm}.{key}={_KINDS[kind][1]}.")


def check_search_options(problem: Any, problem_spec: str, algorithm: str, options: Mapping[str, Any]) -> None:
    """Check ``options`` and build the search ``algorithm`` once on ``problem`` (then discard it).

    Raises:
        ConfigError: a bad option (see :func:`check_option_values`), or the search refuses the
            problem or an option (its message, with the grid cell and the options named).
    """
    check_option_values(algorithm, options)
    factory = get_algorithm(algorithm)
    try:
        factory(problem, seed=0, **dict(options))
    except TypeError as exc:
        named, _ = _signature(factory)
        built = _returned_class(factory)
        if built is not None:
            named.update(_signature(built)[0])
        shown = ", ".join(f"{algorithm}.{k}={v!r}" for k, v in options.items()) or "no options"
        raise ConfigError(f"{algorithm} on {problem_spec!r} with {shown}: {exc}; it accepts options "
                          f"{sorted(named) or 'none'}.") from None
    except (ConfigError, ValueError) as exc:
        shown = ", ".join(f"{algorithm}.{k}={v!r}" for k, v in options.items()) or "no options"
        raise ConfigError(f"{algorithm} cannot run on {problem_spec!r} with {shown}: {exc}") from None
