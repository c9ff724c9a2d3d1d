"""The small series facts the UI asks core for (core/analysis/series.py)."""

from __future__ import annotations

import math

import numpy as np

from tui_monitor.core.analysis.series import endpoint_direction, first_nonfinite, nonfinite_count, whole_run
from tui_monitor.core.state import SeriesSnapshot


def _series(
    x: list[float], y: list[float], count: int | None = None, hist: tuple[list[float], list[float]] = ([], [])
) -> SeriesSnapshot:
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return SeriesSnapshot(
        name="loss",
        metric="loss",
        rank=None,
        kind="train",
        x=xs,
        y=ys,
        epoch=np.full(len(xs), math.nan),
        t=np.zeros(len(xs)),
        offset=np.full(len(xs), -1, dtype=np.int64),
        x_is_step=True,
        count=len(xs) if count is None else count,
        hist_x=np.asarray(hist[0], dtype=np.float64),
        hist_y=np.asarray(hist[1], dtype=np.float64),
        hist_stride=2,
    )


def test_whole_run_is_the_ring_when_nothing_was_lost() -> None:
    """GIVEN a ring holding every point WHEN asked for the whole run THEN the ring as it is."""
    s = _series([1, 2, 3], [3.0, 2.0, 1.0], hist=([1, 3], [3.0, 1.0]))
    x, y = whole_run(s)
    assert x.tolist() == [1, 2, 3] and y.tolist() == [3.0, 2.0, 1.0]


def test_whole_run_puts_the_history_before_the_ring() -> None:
    """GIVEN a ring that lost its first points WHEN asked for the whole run
    THEN the history up to the ring's first x, then the ring at full resolution."""
    s = _series([5, 6, 7], [5.0, 6.0, 7.0], count=7, hist=([1, 3, 5, 7], [1.0, 3.0, 5.0, 7.0]))
    x, y = whole_run(s)
    assert x.tolist() == [1, 3, 5, 6, 7] and y.tolist() == [1.0, 3.0, 5.0, 6.0, 7.0]
    assert x.dtype == np.float64 and y.dtype == np.float64


def test_whole_run_of_an_empty_ring_is_the_history() -> None:
    """GIVEN points counted but none left in the ring WHEN asked THEN the history alone."""
    s = _series([], [], count=4, hist=([1, 3], [1.0, 3.0]))
    assert whole_run(s)[0].tolist() == [1, 3]


def test_nonfinite_count_takes_the_larger_of_ring_and_tally() -> None:
    """GIVEN a ring with one NaN and one inf WHEN the tally knows more (or nothing)
    THEN the larger count."""
    s = _series([1, 2, 3], [math.nan, 1.0, math.inf])
    assert nonfinite_count(s) == 2
    assert nonfinite_count(s, tallied=5) == 5
    assert nonfinite_count(s, tallied=1) == 2


def test_endpoint_direction() -> None:
    """GIVEN series that fall, rise, barely move or have too few values
    WHEN their direction is asked THEN falling / rising / flat / None, NaN ignored."""
    assert endpoint_direction(np.array([3.0, 2.0, 1.0])) == "falling"
    assert endpoint_direction(np.array([1.0, math.nan, 2.0])) == "rising"
    # net change 0.04 of a range of 1.0: under 5 %
    assert endpoint_direction(np.array([1.0, 2.0, 1.04])) == "flat"
    assert endpoint_direction(np.array([2.0, 2.0])) == "flat"
    assert endpoint_direction(np.array([1.0, math.inf])) is None
    assert endpoint_direction(np.zeros(0)) is None


def test_first_nonfinite() -> None:
    """GIVEN values with a NaN and an inf WHEN the first bad one is asked THEN its index;
    all finite or empty THEN None."""
    assert first_nonfinite(np.array([1.0, math.inf, math.nan])) == 1
    assert first_nonfinite(np.array([1.0, 2.0])) is None
    assert first_nonfinite(np.zeros(0)) is None
