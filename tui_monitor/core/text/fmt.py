"""The one number and duration format: every value a person reads goes through here.

The report, the headless lines, the reason sentences and the screen all print a metric
value with :func:`fmt_num` and a length of time with :func:`fmt_duration`, so one value
reads the same wherever it appears. Stdlib only.
"""

from __future__ import annotations

import math

__all__ = ["MISSING", "fmt_change", "fmt_duration", "fmt_num", "fmt_percent"]

MISSING = "–"
"""Shown for a value that is not known (an en dash, not a hyphen: it reads as "none")."""


def fmt_num(v: float | None, digits: int = 4) -> str:
    """A metric value in its short human form: ``digits`` significant digits.

    Tiny (< 0.001) and huge (≥ 1e6) magnitudes use e-notation with ``digits - 2``
    decimals; from ``10 ** (digits - 1)`` up the value is rounded to a whole number
    (more exact than e-notation, and as short); otherwise ``digits`` significant digits.
    A learning rate is a metric value like any other (``2.00e-04``, ``0.003``).

    Args:
        v: the value, or None when unknown.
        digits: significant digits (≥ 3; the status bar's epoch uses 3).

    Returns:
        e.g. ``"4.812"``, ``"0.0392"``, ``"238.4"``, ``"2339"``, ``"12346"``,
        ``"1.97e-04"``, ``"1.23e+06"``, ``"0"``, ``"nan"``, ``"inf"``, ``"-inf"``,
        and :data:`MISSING` for None.
    """
    if v is None:
        return MISSING
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    a = abs(v)
    if a < 1e-3 or a >= 1e6:
        return f"{v:.{max(digits - 2, 1)}e}"
    if a >= 10 ** (digits - 1):
        return f"{v:.0f}"
    return f"{v:.{digits}g}"


def fmt_duration(seconds: float | None) -> str:
    """A length of time as a clock reads it, as tqdm prints it in the same log.

    Args:
        seconds: the duration in seconds; None, negative, NaN or infinite is unknown.

    Returns:
        ``"0:23"`` (23 s), ``"4:05"`` (4 min 5 s), ``"1:02:03"`` (1 h 2 min 3 s),
        ``"50:00:00"`` (hours go on past a day); :data:`MISSING` when unknown.
        The same in every language.
    """
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return MISSING
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def fmt_change(rel: float) -> str:
    """A relative change as a signed whole percentage.

    Args:
        rel: the change as a fraction of the start (``-0.38`` = fell by 38 %).

    Returns:
        ``"−38 %"`` (a true minus sign), ``"+5 %"``, ``"+0 %"``; non-finite → ``"nan"``/``"inf"``.
    """
    if not math.isfinite(rel):
        return fmt_num(rel)
    p = round(rel * 100)
    return f"{'−' if p < 0 else '+'}{abs(p)} %"


def fmt_percent(fraction: float | None) -> str:
    """A fraction done as a whole percentage: ``0.456`` → ``"46 %"``; None → :data:`MISSING`."""
    if fraction is None or not math.isfinite(fraction):
        return MISSING
    return f"{100 * fraction:.0f} %"


def fmt_bytes(n: float | None) -> str:
    """A size in bytes with a binary unit: ``1536`` → ``"1.5 KiB"``, ``5.2e9`` → ``"4.8 GiB"``;
    None or negative → :data:`MISSING`. The same in every language."""
    if n is None or not math.isfinite(n) or n < 0:
        return MISSING
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return MISSING  # unreachable: the loop returns at TiB
