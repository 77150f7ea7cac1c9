"""Benchmark test problems and their registry.

Name a problem with a spec string ``"name"`` or ``"name:key=value,key=value"``
(``"zdt1"``, ``"dtlz2:m=5"``, ``"dtlz2:m=3,n_var=12"``); ``m`` is an alias of ``n_obj``.  The benchmark
problems (ZDT, DTLZ, constrained) are
:class:`~moopt.problems.base.BenchmarkProblem` instances with
``pareto_front(n)``, ``ref_point`` and ``max_hypervolume``; ``knapsack``
(categorical decisions, for MONAS-style searches) and ``synthetic-nas``
(growable sequences, for progressive searches) are plain problems with their
own known optima.

Example:
    >>> from moopt.problems import get_problem
    >>> p = get_problem("dtlz2:m=5")
    >>> p.n_obj, p.n_var
    (5, 14)
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import Any

from moopt.errors import ConfigError

# name -> "module:class" (module relative to this package)
_PROBLEMS = {
    "zdt1": "zdt:ZDT1",
    "zdt2": "zdt:ZDT2",
    "zdt3": "zdt:ZDT3",
    "zdt4": "zdt:ZDT4",
    "zdt6": "zdt:ZDT6",
    "dtlz1": "dtlz:DTLZ1",
    "dtlz2": "dtlz:DTLZ2",
    "dtlz3": "dtlz:DTLZ3",
    "dtlz4": "dtlz:DTLZ4",
    "dtlz5": "dtlz:DTLZ5",
    "dtlz6": "dtlz:DTLZ6",
    "dtlz7": "dtlz:DTLZ7",
    "bnh": "constrained:BNH",
    "srn": "constrained:SRN",
    "tnk": "constrained:TNK",
    "osy": "constrained:OSY",
    "c1dtlz1": "constrained:C1DTLZ1",
    # categorical decision sequences (MONAS-style searches)
    "knapsack": "categorical:knapsack",
    # NAS-Bench-201 with real-device latencies (tabular; the table ships in problems/data/)
    "nb201": "nb201:NB201Problem",
    # growable token sequences (DPP-Net-style progressive searches)
    "synthetic-nas": "progressive:SyntheticNAS",
}

# other spellings of problem names, and of option names
_NAME_ALIASES = {"c1-dtlz1": "c1dtlz1", "synthetic_nas": "synthetic-nas"}
_OPTION_ALIASES = {"m": "n_obj"}


def available_problems() -> list[str]:
    """Names of the registered problems (``get_problem`` accepts each)."""
    return sorted(_PROBLEMS)


def _parse_value(text: str) -> Any:
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    return text


def parse_spec(spec: str) -> tuple[str, dict]:
    """Split ``"dtlz2:m=3,n_var=12"`` into ``("dtlz2", {"n_obj": 3, "n_var": 12})``.

    Raises:
        ConfigError: the spec is malformed (the message shows the expected form).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"a problem spec must be a non-empty string like 'dtlz2:m=3', got {spec!r}.")
    name, _, rest = spec.strip().partition(":")
    name = name.strip().lower()
    name = _NAME_ALIASES.get(name, name)
    options: dict[str, Any] = {}
    if rest.strip():
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or not key or not value.strip():
                raise ConfigError(
                    f"bad option {item!r} in problem spec {spec!r}; write options as "
                    f"'name:key=value,key=value', e.g. 'dtlz2:m=3,n_var=12'."
                )
            canonical = _OPTION_ALIASES.get(key, key)
            if canonical in options:
                raise ConfigError(
                    f"option {key!r} is given twice in problem spec {spec!r} ('m' and 'n_obj' are the same "
                    f"option); give each once, e.g. 'dtlz2:m=3,n_var=12'."
                )
            options[canonical] = _parse_value(value.strip())
    return name, options


def get_problem(spec: str, **overrides):
    """Build a registered problem from its spec string.

    Args:
        spec: ``"name"`` or ``"name:key=value,..."`` (e.g. ``"dtlz2:m=5"``).
        **overrides: Options that take precedence over the spec's (``n_var=12``).

    Returns:
        A :class:`~moopt.problems.base.BenchmarkProblem`.

    Raises:
        ConfigError: unknown problem (the message lists the known ones) or an
            option the problem does not take.

    Example:
        >>> get_problem("dtlz2:m=3,n_var=12").n_var
        12
    """
    name, options = parse_spec(spec)
    options.update({_OPTION_ALIASES.get(k, k): v for k, v in overrides.items()})
    target = _PROBLEMS.get(name)
    if target is None:
        close = difflib.get_close_matches(name, available_problems(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown problem {name!r}; choose one of {available_problems()}.{hint}")
    module, attr = target.split(":")
    cls = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    params = inspect.signature(cls).parameters
    accepted = [p for p, v in params.items() if v.kind in (v.POSITIONAL_OR_KEYWORD, v.KEYWORD_ONLY)]
    takes_any = any(v.kind is v.VAR_KEYWORD for v in params.values())
    unknown = sorted(set(options) - set(accepted))
    if unknown and not takes_any:
        close = [c for u in unknown for c in difflib.get_close_matches(u, accepted, n=1)]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        example = f"'{name}:{accepted[0]}=...'" if accepted else f"'{name}'"
        m_hint = " (use 'm' for n_obj)" if "n_obj" in accepted else ""
        raise ConfigError(
            f"problem {name!r} does not take options {unknown}; it accepts "
            f"{accepted or 'no options'}{m_hint}, e.g. {example}.{hint}"
        )
    check = _OPTION_CHECKS.get(name)
    if check is not None:
        check(options)
    return cls(**options)


def _check_synthetic_nas(options: dict) -> None:
    """Types and ranges of ``synthetic-nas`` options (its constructor takes them as given)."""
    from .base import check_int, check_number

    ex = "synthetic-nas:max_length=5,alternate=true,instance=0"
    if "max_length" in options:
        check_int("synthetic-nas", "max_length", options["max_length"], low=1, high=7,
                  what="longest token sequence; the true front is enumerated", example=ex)
    if "alternate" in options and not isinstance(options["alternate"], bool):
        raise ConfigError(f"synthetic-nas: alternate must be true or false, got {options['alternate']!r}; "
                          f"e.g. '{ex}'.")
    if "instance" in options:
        check_int("synthetic-nas", "instance", options["instance"], low=0, high=2**63 - 1,
                  what="instance seed", example=ex)
    if "interaction" in options:
        check_number("synthetic-nas", "interaction", options["interaction"], low=0.0,
                     what="strength of token-pair effects", example="synthetic-nas:interaction=0.6")


# problem name -> a check of its options, for problems whose constructors take values as given
_OPTION_CHECKS = {"synthetic-nas": _check_synthetic_nas}


__all__ = ["available_problems", "get_problem", "parse_spec"]
