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
            options[_OPTION_ALIASES.get(key, key)] = _parse_value(value.strip())
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
    try:
        return cls(**options)
    except TypeError as exc:
        import inspect

        accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        raise ConfigError(
            f"problem {name!r} does not take options {sorted(options)} ({exc}); "
            f"it accepts {accepted or 'no options'} (use 'm' for n_obj)."
        ) from None


__all__ = ["available_problems", "get_problem", "parse_spec"]
