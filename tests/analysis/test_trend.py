"""Loss trend on curves a person would call diverging or decreasing."""

from __future__ import annotations

import numpy as np
import pytest

from tui_monitor.core.analysis.trend import classify_trend


def test_loss_that_fell_then_blew_up_is_diverging() -> None:
    # GIVEN a loss falling 6 -> 2.6 over 20 logs, then exploding to 13.3 and sticking there
    # (the Trainer's logging_nan_inf_filter repeats the last finite loss once it is NaN)
    down = np.linspace(6.0, 2.6, 21)
    up = np.array([2.76, 3.96, 6.11, 9.22] + [13.29] * 10)
    y = np.concatenate([down, up])
    x = np.arange(y.shape[0], dtype=float) * 5
    # WHEN classified THEN diverging: Mann-Kendall alone sees a V as no trend
    t = classify_trend(x, y)
    assert t.word == "diverging"
    assert t.end == pytest.approx(13.29)


def test_noisy_decreasing_loss_is_not_diverging() -> None:
    rng = np.random.default_rng(3)
    y = np.exp(-np.linspace(0, 1.5, 200)) * 3 * np.exp(rng.normal(0, 0.15, 200))
    assert classify_trend(np.arange(200.0), y).word == "decreasing"


def test_ema_of_values_near_the_float_limit_stays_finite() -> None:
    from tui_monitor.core.analysis.smoothing import ema_debiased

    # GIVEN a loss that blew up to 1e300 (finite, near float max)
    y = np.array([1.0, 2.0, 1e300, 1e300, 3.0])
    # WHEN smoothed THEN the result is finite and equals TensorBoard's plain loop
    got = ema_debiased(y, 0.6)
    last, want = 0.0, []
    for i, v in enumerate(y, 1):
        last = last * 0.6 + (1 - 0.6) * v
        want.append(last / (1 - 0.6**i))
    assert np.isfinite(got).all()
    assert got == pytest.approx(want, rel=1e-9)
