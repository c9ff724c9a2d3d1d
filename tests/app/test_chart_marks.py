"""The chart model's marks layer (evaluations on the loss chart), as plain strings."""

from __future__ import annotations

import numpy as np

from tui_monitor.ui.chart_model import EVAL_MARK, braille_chart


def test_marks_sit_at_their_steps_and_values_and_widen_the_y_range() -> None:
    # GIVEN a falling train series over steps 0..100 and two evaluations, one below the series
    x = np.arange(0, 101, dtype=float)
    y = 4.0 - x / 100
    chart = braille_chart(y, 40, 8, steps=x, marks=(np.array([0.0, 100.0]), np.array([4.0, 2.5])))
    # THEN the y range reaches the lower evaluation, and each mark is one ◆ at its place:
    # the first at the top-left, the last at the bottom-right
    assert chart.y_min == 2.5 and chart.y_max == 4.0
    plot = chart.lines[:-1]
    assert sum(line.count(EVAL_MARK) for line in plot) == 2
    assert plot[0][chart.gutter] == EVAL_MARK
    assert plot[-1].rstrip().endswith(EVAL_MARK)
    assert chart.marks == [(0, 0), (7, 40 - chart.gutter - 1)]


def test_marks_outside_the_drawn_steps_are_left_out() -> None:
    # GIVEN the recent window (steps 50..100) and an evaluation at step 10
    x = np.arange(50, 101, dtype=float)
    chart = braille_chart(np.ones_like(x), 30, 4, steps=x, marks=(np.array([10.0]), np.array([9.0])))
    # THEN it is not drawn and does not stretch the y axis
    assert not any(EVAL_MARK in line for line in chart.lines)
    assert chart.y_max == 1.0
