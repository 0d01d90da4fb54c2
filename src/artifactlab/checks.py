"""One way to check a number: an integer at least some bound, a seed, or a finite float in a range.

(And one way to check a comma-separated list of names: :func:`name_list`.)

Every config's ``__post_init__`` and every CLI validator goes through these, so a value
is refused the same way wherever it comes from (an option, a sweep file, Python), with
a message naming where it came from. ``nan`` and infinities are refused where a number
must be finite: ``x <= 0`` is false for ``nan``, so range checks alone let it through.
Counts too large to print whole (``V^(n-1)`` for long tuples) are shown by
:func:`magnitude`, which never calls ``str()`` on a huge integer.

Example
-------
>>> at_least("--seeds", 3, 1)
3
>>> finite("--lr", float("nan"), low=0, low_open=True)
Traceback (most recent call last):
artifactlab.errors.InputError: --lr: must be a finite number > 0, got nan
>>> seed_value("--seed", -1)
Traceback (most recent call last):
artifactlab.errors.InputError: --seed: must be >= 0, got -1
>>> magnitude(12_345), magnitude(13**3000)
('12,345', '6.8 x 10^3,341')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from artifactlab.errors import InputError

#: the largest seed: numpy and torch generators and the results store all take 64-bit seeds
MAX_SEED = 2**63 - 1
#: counts below this are printed whole, larger ones by their order of magnitude
_EXACT_BELOW = 10**15


def at_least(where: str, value: Any, low: int) -> int:
    """``value`` if it is an integer (not a bool) ``>= low``; InputError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(where, f"must be an integer >= {low}, got {_short(value)}")
    if value < low:
        raise InputError(where, f"must be >= {low}, got {_short(value)}")
    return value


def name_list(where: str, text: str, known: Sequence[str], noun: str, hint: str = "") -> list[str]:
    """``"a, b,a"`` -> ``["a", "b"]`` if every name is one of ``known``; InputError otherwise.

    The message lists the unknown names (``unknown model(s) x``) or says the list is
    empty, with the known names (and ``hint``) as what to do.
    """
    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in known]
    if unknown or not names:
        raise InputError(
            where,
            f"unknown {noun}(s) {', '.join(unknown)}" if unknown else "is empty",
            f"choose from {', '.join(known)}{hint}",
        )
    return list(dict.fromkeys(names))


def seed_value(where: str, value: Any) -> int:
    """``value`` if it is an integer seed in ``[0, 2^63 - 1]``; InputError otherwise.

    numpy refuses negative seeds and torch seeds wider than 64 bits, each with a
    traceback far from the option that was given; this refuses both up front.
    """
    at_least(where, value, 0)
    if value > MAX_SEED:
        raise InputError(where, f"must be <= 2^63 - 1, got {magnitude(value)}")
    return value


def magnitude(count: int, exact_below: int = _EXACT_BELOW) -> str:
    """A non-negative integer for a message: whole below ``exact_below``, else ``M.M x 10^E``.

    Computed from ``log10`` so that counts with thousands of digits never go through
    ``str()`` (Python refuses to format integers of more than 4,300 digits).
    """
    if count < exact_below or count == 0:
        return f"{count:,}"
    exponent = math.floor(math.log10(count))
    mantissa = count / 10**exponent  # exact integer division, rounded once to a float
    if round(mantissa, 1) >= 10:  # log10 rounding, or 9.96 shown as 10.0
        exponent, mantissa = exponent + 1, mantissa / 10
    return f"{mantissa:.1f} x 10^{exponent:,}"


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
        raise InputError(where, f"must be a finite number{rule}, got {_short(value)}")
    try:
        x = float(value)
    except OverflowError:  # an int beyond float range is not finite either
        raise InputError(where, f"must be a finite number{rule}, got {_short(value)}") from None
    inside = math.isfinite(x)
    if inside and low is not None:
        inside = x > low if low_open else x >= low
    if inside and high is not None:
        inside = x < high if high_open else x <= high
    if not inside:
        raise InputError(where, f"must be a finite number{rule}, got {_short(value)}")
    return x


def _short(value: Any) -> str:
    """``repr(value)``, except an integer too long to print, shown by its magnitude."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return ("-" if value < 0 else "") + magnitude(abs(value))
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _rule(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""
