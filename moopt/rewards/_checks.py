"""Option checks shared by the rewards: numbers with a range, directions, reference points.

Every reward validates its options here so that each bad value gets the same
kind of message: the option's name, the rule, why the rule holds and the value
given.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence


def finite(name: str, value: Any) -> float:
    """``value`` as a finite float.

    Raises:
        TypeError: ``value`` is not a number.
        ValueError: ``value`` is NaN or infinite.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}.")
    return v


def number(name: str, value: Any, *, low: Optional[float] = None, high: Optional[float] = None,
           low_open: bool = False, hint: str = "") -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` with ``low_open``).

    Args:
        name: Option name for the message.
        value: The value given.
        low: Lower limit, or ``None`` for none.
        high: Upper limit, or ``None`` for none.
        low_open: Exclude ``low`` itself (``> low`` rather than ``>= low``).
        hint: What the limits mean, shown in brackets after the rule.

    Raises:
        TypeError: ``value`` is not a number.
        ValueError: NaN, infinite or outside the limits, e.g.
            ``budget must be > 0 (a power budget in the objective's unit), got -1.0.``
    """
    v = finite(name, value)
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and v > high
    if too_low or too_high:
        if high is None:
            rule = f"{'>' if low_open else '>='} {low:g}"
        elif low is None:
            rule = f"<= {high:g}"
        else:
            rule = f"in {'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"{name} must be {rule}{f' ({hint})' if hint else ''}, got {v}.")
    return v


def direction(name: str, value: Any) -> str:
    """``value`` if it is ``"min"`` or ``"max"``.

    Raises:
        ValueError: any other value; ``name`` is the objective it was given for.
    """
    if value not in ("min", "max"):
        raise ValueError(f"direction of objective {name!r} is {value!r}; use 'min' or 'max'.")
    return value


def reference_point(ref: Mapping[str, Any], names: Sequence[str]) -> dict[str, float]:
    """``{name: finite value}`` for exactly the objectives ``names``, in their order.

    Raises:
        ValueError: ``ref`` misses one of ``names``, names another objective, or
            holds a value that is not finite.
    """
    unknown = [n for n in ref if n not in names]
    missing = [n for n in names if n not in ref]
    if unknown or missing:
        raise ValueError(
            f"ref must give a value for each objective {list(names)}; unknown {unknown}, missing {missing}."
        )
    return {n: finite(f"ref[{n!r}]", ref[n]) for n in names}
