"""Small facts about one stored series that a screen shows: its whole-run points, its
non-finite count and first non-finite value, and the direction of a metric no detector
judges.

Pure functions over a :class:`~tui_monitor.core.state.SeriesSnapshot` or its arrays, so
the UI asks for these instead of working them out itself.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from tui_monitor.core.state.series import SeriesSnapshot

__all__ = ["FLAT_FRACTION", "Direction", "endpoint_direction", "first_nonfinite", "nonfinite_count", "whole_run"]

Direction = Literal["flat", "falling", "rising"]
"""Where a series went from its first finite value to its last."""

FLAT_FRACTION = 0.05
"""A net change smaller than this fraction of the series' finite range counts as flat."""


def whole_run(s: SeriesSnapshot) -> tuple[np.ndarray, np.ndarray]:
    """The whole run's points: the decimated history before the ring, then the ring.

    The ring holds the last points at full resolution; when it has lost points
    (``s.count > len(s)``) the history (every ``hist_stride``-th point) supplies what
    came before the ring's first x. With an empty ring the history alone is returned.

    Args:
        s: a stored series.

    Returns:
        ``(x, y)``, both ``(n,) float64``: x ascending as stored, y as logged (NaN/inf kept).
    """
    x, y = s.x, s.y
    if s.count > len(s.y) and len(s.hist_y):
        cut = x[0] if len(x) else math.inf
        older = s.hist_x < cut
        x = np.concatenate([s.hist_x[older], x])
        y = np.concatenate([s.hist_y[older], y])
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def nonfinite_count(s: SeriesSnapshot, tallied: int = 0) -> int:
    """NaN and ±inf values of a series.

    The ring only holds the last points; the run's tally counts every value it saw.
    The larger of the two is right: the tally when the ring has dropped old NaNs, the
    ring when the tally does not know the series (``tallied`` 0).

    Args:
        s: a stored series.
        tallied: the run tally's non-finite count of the same series key, 0 if unknown.

    Returns:
        The number of non-finite values, >= 0.
    """
    return max(int((~np.isfinite(s.y)).sum()), int(tallied))


def endpoint_direction(y: np.ndarray, flat_fraction: float = FLAT_FRACTION) -> Direction | None:
    """Direction of a series from its first finite value to its last.

    A deliberately simple rule for metrics no detector judges (``rewards/margins``,
    ``tokens/s``...): the net change ``last - first`` against the finite range
    ``max - min``. A change under ``flat_fraction`` of the range (or a zero range) is
    ``"flat"``; otherwise its sign decides.

    Args:
        y: ``(n,) float64`` values; NaN/inf are ignored.
        flat_fraction: the share of the range below which the change is flat.

    Returns:
        ``"flat"``, ``"falling"`` or ``"rising"``; ``None`` with fewer than 2 finite values.
    """
    fin = y[np.isfinite(y)]
    if fin.size < 2:
        return None
    change = float(fin[-1] - fin[0])
    span = float(fin.max() - fin.min())
    if span == 0 or abs(change) < flat_fraction * span:
        return "flat"
    return "falling" if change < 0 else "rising"


def first_nonfinite(y: np.ndarray) -> int | None:
    """Index of the first NaN or ±inf in ``y``.

    Args:
        y: ``(n,) float64`` values.

    Returns:
        The index, or ``None`` when every value is finite (or ``y`` is empty).
    """
    bad = np.flatnonzero(~np.isfinite(y))
    return int(bad[0]) if bad.size else None
