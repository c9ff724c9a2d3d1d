"""Gradient-norm status: healthy / exploding / vanishing / zero / non-finite."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["GradStatus", "GradWord", "grad_status"]

GradWord = Literal["healthy", "exploding", "vanishing", "zero", "nonfinite", "absent"]

EXPLODE_FACTOR = 10.0
"""Recent median above this many times the earlier running median is exploding."""

EXPLODE_LAST_FACTOR = 100.0
"""A single latest value this many times the earlier median is exploding."""

ORDERS_GROWTH = 2.0
"""Growth of the recent level by this many decades (×100) since the start is exploding."""

VANISH_FACTOR = 1e-3
"""Recent median below this fraction of the starting level is vanishing."""

RECENT = 5
"""Points forming the "recent" level."""

EXPLODE_NOW_FACTOR = 10.0
"""The latest value this many times the usual (median of the values before it) is exploding
on that very record: the alarm sounds on the record that shows it, not one record later."""

ONSET_FACTOR = 3.0
"""An explosion's onset: the first of the trailing values above this many times the usual."""

FALLING_FACTOR = 0.5
"""A healthy grad_norm whose latest value is below this fraction of its first is falling."""


@dataclass(frozen=True, slots=True)
class GradStatus:
    """What grad_norm says.

    Attributes:
        word: ``healthy`` / ``exploding`` / ``vanishing`` / ``zero`` / ``nonfinite`` / ``absent``.
        severity: ``ok`` / ``warning`` / ``critical``.
        level: recent median of finite values (the "stable near" number), NaN if none.
        reference: median before the recent window (running reference), NaN if none.
        start: median of the first finite values, NaN if none.
        nonfinite_count: non-finite values in the window.
        first_nonfinite_x: x of the first non-finite value, or None.
        nonfinite_at_end: the latest value is non-finite (persisting).
        loss_finite_at_end: the loss at that x is finite (``logging_nan_inf_filter`` hides NaN loss).
        zero_at_end: the latest values are exactly 0.
        n: points seen.
        now: the latest finite value, NaN if none.
        first: the first finite value, NaN if none.
        usual: median of the finite values before the explosion's onset (exploding), else NaN.
        onset_x / onset_value: where the explosion started and its value there, or None / NaN.
    """

    word: GradWord
    severity: str
    level: float
    reference: float
    start: float
    nonfinite_count: int
    first_nonfinite_x: float | None
    nonfinite_at_end: bool
    loss_finite_at_end: bool
    zero_at_end: bool
    n: int
    now: float = math.nan
    first: float = math.nan
    usual: float = math.nan
    onset_x: float | None = None
    onset_value: float = math.nan


def grad_status(x: np.ndarray, g: np.ndarray, loss_last: float | None = None) -> GradStatus:
    """Judge a grad_norm series.

    Rules, in order:

    1. non-finite at the latest point → ``nonfinite``, critical (also when the loss is finite:
       the Trainer's ``logging_nan_inf_filter`` replaces NaN losses, so the grad norm is the honest
       signal). Earlier non-finite values followed by finite ones → ``nonfinite`` warning naming
       the first step (the optimizer step was probably skipped), unless rule 2/3 applies.
    2. latest value exactly 0 → ``zero`` (critical if the last 2+ points are 0, else warning).
    3. ``exploding`` (critical): the latest value > 10× the median of the values before it (on
       that record, with the onset: the first of the trailing values above 3× usual), or the
       recent median (last 5) > 10× the median before it, or the last value > 100× it, or the
       recent level is >= 2 decades above the start level.
    4. ``vanishing`` (warning): recent median < 1e-3 × the start level (median of the first 5).
    5. else ``healthy``.

    Args:
        x: ``(n,) float64`` steps.
        g: ``(n,) float64`` grad norms.
        loss_last: the latest loss value (for the message), or None.

    Returns:
        :class:`GradStatus` (``absent`` for an empty series).
    """
    n = int(g.shape[0])
    nan = math.nan
    if n == 0:
        return GradStatus("absent", "ok", nan, nan, nan, 0, None, False, False, False, 0)
    fin = np.isfinite(g)
    bad = np.flatnonzero(~fin)
    first_bad = float(x[bad[0]]) if bad.size else None
    at_end = bool(not fin[-1])
    loss_ok = loss_last is not None and math.isfinite(loss_last)
    gf = g[fin]
    level = float(np.median(gf[-RECENT:])) if gf.size else nan
    start = float(np.median(gf[:RECENT])) if gf.size else nan
    reference = float(np.median(gf[:-RECENT])) if gf.size > RECENT else start
    zero_tail = 0
    for v in g[::-1][:8]:
        if v == 0.0:
            zero_tail += 1
        else:
            break

    xf = x[fin]
    now = float(gf[-1]) if gf.size else nan
    first = float(gf[0]) if gf.size else nan
    onset: tuple[float, float, float] | None = None  # (usual, onset x, onset value)
    if gf.size >= 3:
        usual_all = float(np.median(gf[:-1]))
        if usual_all > 0 and now > EXPLODE_NOW_FACTOR * usual_all:
            i = gf.size - 1
            while i > 0 and gf[i - 1] > ONSET_FACTOR * usual_all:
                i -= 1
            usual = float(np.median(gf[:i])) if i > 0 else usual_all
            onset = (usual, float(xf[i]), float(gf[i]))

    def out(word: GradWord, sev: str) -> GradStatus:
        u, ox, ov = onset if (onset is not None and word == "exploding") else (nan, None, nan)
        return GradStatus(
            word,
            sev,
            level,
            reference,
            start,
            int(bad.size),
            first_bad,
            at_end,
            loss_ok,
            zero_tail > 0,
            n,
            now,
            first,
            u,
            ox,
            ov,
        )

    if at_end:
        return out("nonfinite", "critical")
    if zero_tail:
        return out("zero", "critical" if zero_tail >= 2 or n == zero_tail else "warning")
    if onset is not None:
        return out("exploding", "critical")
    if gf.size >= 2:
        last = float(gf[-1])
        if gf.size > RECENT and reference > 0:
            if level > EXPLODE_FACTOR * reference or last > EXPLODE_LAST_FACTOR * reference:
                return out("exploding", "critical")
        if start > 0 and level > 0 and math.log10(level / start) >= ORDERS_GROWTH:
            return out("exploding", "critical")
        if gf.size > RECENT and start > 0 and 0 < level < VANISH_FACTOR * start:
            return out("vanishing", "warning")
    if bad.size:
        return out("nonfinite", "warning")
    return out("healthy", "ok")
