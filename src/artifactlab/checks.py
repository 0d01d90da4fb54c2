"""One way to check a number: an integer at least some bound, or a finite float in a range.

Every config's ``__post_init__`` and every CLI validator goes through these, so a value
is refused the same way wherever it comes from (an option, a sweep file, Python), with
a message naming where it came from. ``nan`` and infinities are refused where a number
must be finite: ``x <= 0`` is false for ``nan``, so range checks alone let it through.

Example
-------
>>> at_least("--seeds", 3, 1)
3
>>> finite("--lr", float("nan"), low=0, low_open=True)
Traceback (most recent call last):
artifactlab.errors.InputError: --lr: must be a finite number > 0, got nan
"""

from __future__ import annotations

import math
from typing import Any

from artifactlab.errors import InputError


def at_least(where: str, value: Any, low: int) -> int:
    """``value`` if it is an integer (not a bool) ``>= low``; InputError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(where, f"must be an integer >= {low}, got {value!r}")
    if value < low:
        raise InputError(where, f"must be >= {low}, got {value}")
    return value


def finite(
    where: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float if it is finite and inside the given bounds; InputError otherwise.

    Parameters
    ----------
    where : str
        The option or key, for the message.
    value : Any
        The number to check (bools are refused).
    low, high : float, optional
        Bounds; None for none.
    low_open, high_open : bool
        Exclude the bound itself (``> low`` instead of ``>= low``).
    """
    rule = _rule(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(where, f"must be a finite number{rule}, got {value!r}")
    x = float(value)
    inside = math.isfinite(x)
    if inside and low is not None:
        inside = x > low if low_open else x >= low
    if inside and high is not None:
        inside = x < high if high_open else x <= high
    if not inside:
        raise InputError(where, f"must be a finite number{rule}, got {value!r}")
    return x


def _rule(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""
