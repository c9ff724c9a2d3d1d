"""The pure chart models: bucketing, sparklines and the braille chart, asserted as strings."""

from __future__ import annotations

import numpy as np
import pytest

from tui_monitor.ui.chart_model import (
    NONFINITE_MARK,
    UNDER_MARK,
    braille_chart,
    bucket,
    sparkline,
)

LOSS = np.array([6.19, 6.178, 6.12, 6.036, 5.98, 5.898, 5.7, 5.4, 5.1, 5.0, 4.9, 4.85, 4.81])


def test_bucket_min_max_mean_and_nonfinite_count() -> None:
    """GIVEN 6 points with a NaN and an inf WHEN bucketed to 3 THEN stats skip and count them."""
    b = bucket([1.0, 3.0, np.nan, 5.0, np.inf, 2.0], 3)
    assert b.width == 3 and b.count == 6 and b.nonfinite == 2
    assert list(b.lo) == [1.0, 5.0, 2.0]
    assert list(b.hi) == [3.0, 5.0, 2.0]
    assert list(b.mean) == [2.0, 5.0, 2.0]
    assert list(b.bad) == [False, True, True]


def test_bucket_by_steps_spreads_a_short_series_over_the_width() -> None:
    """GIVEN 3 points at steps 0, 5, 10 WHEN bucketed by x into 11 THEN first, middle, last."""
    b = bucket([1.0, 2.0, 3.0], 11, x=[0, 5, 10])
    assert np.isfinite(b.mean).nonzero()[0].tolist() == [0, 5, 10]


def test_sparkline_falls_with_the_loss_and_is_not_stretched() -> None:
    """GIVEN a falling loss of 13 points WHEN drawn 40 wide THEN 13 blocks, high to low."""
    s = sparkline(LOSS, 40)
    assert len(s) == 13
    assert s[0] == "█" and s[-1] == "▁"


def test_sparkline_bucketing_keeps_the_nan_marker() -> None:
    """GIVEN 1000 points with a single NaN WHEN drawn 10 wide THEN the NaN's bucket shows ×."""
    v = np.linspace(1, 2, 1000)
    v[555] = np.nan
    s = sparkline(v, 10)
    assert len(s) == 10 and s[5] == NONFINITE_MARK and s.count(NONFINITE_MARK) == 1


def test_sparkline_flat_and_empty() -> None:
    """GIVEN a constant and an empty series WHEN drawn THEN a mid-level row, and nothing."""
    assert sparkline([2.0, 2.0, 2.0], 5) == "▄▄▄"
    assert sparkline([], 5) == ""


def test_braille_chart_has_labels_steps_and_fixed_width() -> None:
    """GIVEN the loss at steps 5..65 WHEN charted 50×4 THEN max/min labels, steps, equal widths."""
    steps = np.arange(5, 70, 5)
    c = braille_chart(LOSS, 50, 4, steps=steps)
    assert len(c.lines) == 5 and all(len(line) == 50 for line in c.lines)
    assert c.lines[0].lstrip().startswith("6.19")
    assert c.lines[3].lstrip().startswith("4.81")
    axis = c.lines[4].split()
    assert axis[0] == "5" and axis[-1] == "65"
    # the line starts at the top left and ends at the bottom right
    assert c.lines[0][c.gutter] != " " and c.lines[3][-1] != " "


def test_braille_chart_log_scale_and_nan_marker() -> None:
    """GIVEN values spanning 4 decades and a NaN WHEN charted log THEN 0.001..10 and a × mark."""
    v = np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0, np.nan])
    c = braille_chart(v, 40, 4, log=True)
    assert c.lines[0].lstrip().startswith("10")
    assert c.lines[3].lstrip().startswith("0.001")
    assert NONFINITE_MARK in c.lines[0] and c.nonfinite == 1


def test_braille_chart_with_smoothed_overlay_marks_its_own_cells() -> None:
    """GIVEN raw and smoothed series WHEN charted THEN the overlay has its own dots."""
    c = braille_chart(LOSS, 40, 4, smoothed=LOSS * 0.98)
    assert any(any(row) for row in c.smooth)


def test_braille_chart_of_nothing_says_so() -> None:
    """GIVEN only NaNs WHEN charted THEN a message instead of a crash."""
    c = braille_chart([np.nan, np.nan], 40, 3)
    assert "no finite values yet" in "\n".join(c.lines) and c.nonfinite == 2


def test_constant_series_with_float_noise_is_flat() -> None:
    # GIVEN a constant LR whose bucket means differ only by float rounding
    values = np.full(1000, 2e-4) + np.array([0.0, 1e-20] * 500)
    # THEN the sparkline is one flat level, not a zigzag
    assert set(sparkline(values, 20)) == {"▄"}


def test_run_underneath_is_its_own_mark_within_the_x_range_and_counts_in_the_y_range() -> None:
    # GIVEN a run of 20 points falling 4 → 2 and, underneath, a longer run from 4.3 at the same steps
    x = np.arange(5, 105, 5, dtype=np.float64)
    y = np.linspace(4.0, 2.0, x.size)
    ux = np.arange(5, 305, 5, dtype=np.float64)
    uy = np.linspace(4.3, 1.0, ux.size)
    # WHEN drawn
    c = braille_chart(y, 60, 8, steps=x, under=(ux, uy))
    # THEN the y range reaches the run underneath where it is drawn (up to step 100, not its end at 1.0)
    assert c.y_max == pytest.approx(4.3)
    assert c.y_min == pytest.approx(min(2.0, float(uy[ux <= 100].min())))
    # AND its cells show the mark only where the current run has no dot; the braille is unchanged
    plain = braille_chart(y, 60, 8, steps=x, log=False)
    marks = sum(line.count(UNDER_MARK) for line in c.lines)
    assert marks >= 20
    for r, line in enumerate(c.lines[:-1]):
        for col, ch in enumerate(line[c.gutter :]):
            if c.raw[r][col]:
                assert ch != UNDER_MARK
            if ch == UNDER_MARK:
                assert c.under[r][col] and not c.raw[r][col]
    assert plain.lines[-1].split() == c.lines[-1].split()  # the same steps below: 5 … 100
    # AND without a run underneath nothing is marked
    assert not any(UNDER_MARK in line for line in plain.lines)
