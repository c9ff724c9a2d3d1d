"""Smoothing, loss trend and spikes, grad_norm status, eval status, progress and run state."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_monitor.core.analysis.evals import eval_status, metric_direction, pick_eval_metric
from tui_monitor.core.analysis.grad import grad_status
from tui_monitor.core.analysis.progress import estimate_progress
from tui_monitor.core.analysis.smoothing import ema_debiased, ema_debiased_by_distance
from tui_monitor.core.analysis.state import run_state
from tui_monitor.core.analysis.trend import classify_trend, detect_spikes, mann_kendall, sen_slope
from tui_monitor.core.parse import Event, Progress, RunInfo
from tui_monitor.core.state import ProgressState

RNG = np.random.default_rng(1234)


def _tb_reference(y: np.ndarray, w: float) -> np.ndarray:
    """TensorBoard's resmoothDataset loop, verbatim in Python."""
    last, k, out = 0.0, 0, []
    for v in y:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * w + (1 - w) * v
        k += 1
        out.append(last / (1 - w**k))
    return np.array(out)


# -- smoothing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("w", [0.0, 0.6, 0.9, 0.999])
def test_ema_matches_tensorboard_and_skips_nonfinite(w: float) -> None:
    y = RNG.normal(size=3000)
    y[[5, 700]] = [np.nan, np.inf]
    got = ema_debiased(y, w)
    ref = _tb_reference(y, w) if w else y
    assert np.allclose(got, ref, equal_nan=True, rtol=1e-9, atol=1e-12)


def test_distance_ema_equals_plain_on_even_steps_and_forgets_across_gaps() -> None:
    y = RNG.normal(size=500)
    x = np.arange(500.0) * 10
    assert np.allclose(ema_debiased_by_distance(x, y, 0.6), ema_debiased(y, 0.6))
    # a long gap before the last point: it should dominate the average
    x2 = np.array([0.0, 1.0, 2.0, 3.0, 100.0])
    y2 = np.array([1.0, 1.0, 1.0, 1.0, 5.0])
    assert ema_debiased_by_distance(x2, y2, 0.6)[-1] > 4.99
    assert ema_debiased(y2, 0.6)[-1] < 4.0
    with pytest.raises(ValueError):
        ema_debiased(y, 1.0)


# -- trend ---------------------------------------------------------------------------------------


def _noisy_decay(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(n, dtype=np.float64) * 10
    return x, 2.0 + 4.0 * np.exp(-x / 1500) + RNG.normal(0, 0.15, n)


def test_mann_kendall_and_sen_on_a_clean_line() -> None:
    y = np.arange(20.0)
    mk = mann_kendall(y)
    assert mk.s == 190 and mk.tau == 1.0 and mk.p < 1e-6
    assert sen_slope(np.arange(20.0) * 2, y) == pytest.approx(0.5)


def test_trend_words_on_synthetic_curves() -> None:
    x, y = _noisy_decay()
    t = classify_trend(x, y)
    assert t.word == "decreasing" and t.slope < 0 and t.rel_change < -0.2
    flat = 1.386 + RNG.normal(0, 0.01, 300)
    assert classify_trend(np.arange(300.0), flat).word == "plateau"
    rising = 2.0 + 0.002 * np.arange(300.0) + RNG.normal(0, 0.05, 300)
    tr = classify_trend(np.arange(300.0), rising)
    assert tr.word == "rising" and tr.slope > 0
    blow = np.exp(np.arange(60.0) / 10)  # exponential blow-up
    assert classify_trend(np.arange(60.0), blow).word == "diverging"
    assert classify_trend(np.arange(2.0), np.array([1.0, 2.0])).word == "unknown"
    three = classify_trend(np.arange(3.0), np.array([3.8214, 3.1959, 2.3571]))
    assert three.word == "decreasing" and three.start == 3.8214 and three.end == 2.3571


def test_trend_ignores_nan_and_handles_zeros() -> None:
    x, y = _noisy_decay(200)
    y[::17] = np.nan
    assert classify_trend(x, y).word == "decreasing"
    zeros = np.zeros(50)
    assert classify_trend(np.arange(50.0), zeros).word == "plateau"


def test_single_spike_found_at_its_index_and_epoch_bumps_are_not_spikes() -> None:
    x, y = _noisy_decay(300)
    y[200] += 3.0
    sp = detect_spikes(x, y)
    assert sp.indices.tolist() == [200]
    assert sp.values[0] == y[200] and sp.baseline[0] < y[200]
    # plateau at ln 4 with small bumps at each epoch start (trainer_state_plateau_ln4.json)
    flat = np.array([1.387, 1.3879, 1.3895, 1.4068, 1.3887, 1.3868, 1.3895, 1.391, 1.4103, 1.3849, 1.3872])
    assert detect_spikes(np.arange(11.0), flat).count == 0
    # drops (epoch boundary) are never spikes
    drop = np.concatenate([np.full(20, 2.0), np.full(20, 1.5)]) + RNG.normal(0, 0.01, 40)
    assert detect_spikes(np.arange(40.0), drop).count == 0


def test_dpo_spike_and_steep_start_is_not_a_spike() -> None:
    dpo = np.array([0.007, 4.6525, 0.3959, 1.1507, 2.1113, 0.0076, 0.0, 0.0036, 0.0])
    assert detect_spikes(np.arange(9.0), dpo).indices.tolist() == [1]
    steep = np.array([0.3713, 0.2992, 0.1605, 0.08331, 0.06889, 0.05346, 0.02927, 0.03943, 0.01985])
    assert detect_spikes(np.arange(9.0), steep).count == 0


# -- grad ----------------------------------------------------------------------------------------


def test_grad_healthy_exploding_vanishing_zero() -> None:
    x = np.arange(200.0)
    g = 1.6 + RNG.normal(0, 0.1, 200)
    st = grad_status(x, g)
    assert st.word == "healthy" and st.level == pytest.approx(1.6, abs=0.2)
    boom = g.copy()
    boom[-5:] = [30, 60, 120, 300, 900]
    assert grad_status(x, boom).word == "exploding"
    growth = np.logspace(0, 3, 200)  # three decades of steady growth
    assert grad_status(x, growth).word == "exploding"
    van = np.logspace(0, -5, 200)
    assert grad_status(x, van).word == "vanishing"
    z = g.copy()
    z[-3:] = 0.0
    zs = grad_status(x, z)
    assert zs.word == "zero" and zs.severity == "critical"


def test_grad_nonfinite_persisting_is_critical_isolated_is_warning() -> None:
    x = np.arange(6.0) * 10
    g = np.array([0.59, 4.25, 1.34, 5.6, 5.28, np.nan])  # glm4: last grad nan, loss finite
    st = grad_status(x, g, loss_last=0.2096)
    assert st.word == "nonfinite" and st.severity == "critical" and st.loss_finite_at_end
    g2 = np.array([1.0, 1.1, np.inf, 1.0, 1.2, 0.9])
    st2 = grad_status(x, g2)
    assert st2.word == "nonfinite" and st2.severity == "warning" and st2.first_nonfinite_x == 20.0
    assert grad_status(np.zeros(0), np.zeros(0)).word == "absent"


# -- eval ----------------------------------------------------------------------------------------


def test_metric_direction_and_pick() -> None:
    assert metric_direction("eval_loss") == -1 and metric_direction("eval_wer") == -1
    assert metric_direction("eval_accuracy") == 1 and metric_direction("eval_rouge1") == 1
    assert metric_direction("eval_runtime") == 0 and metric_direction("eval_samples_per_second") == 0
    assert pick_eval_metric(["eval_runtime", "eval_accuracy"]) == "eval_accuracy"
    assert pick_eval_metric(["eval_accuracy", "eval_loss"]) == "eval_loss"


def test_eval_best_overfitting_and_improving() -> None:
    ex = np.array([100.0, 200, 300, 400, 500])
    ey = np.array([3.0, 2.5, 2.4, 2.6, 2.8])
    tx = np.arange(0.0, 501, 10)
    tl = 5.0 - tx / 200
    st = eval_status("eval_loss", ex, ey, train_x=tx, train_loss=tl, has_loss=True)
    assert st.word == "overfitting" and st.best == 2.4 and st.best_x == 300 and st.rises == 2
    imp = eval_status("eval_loss", ex, np.array([3.0, 2.8, 2.6, 2.5, 2.4]))
    assert imp.word == "improving" and imp.best_x == 500
    acc = eval_status("eval_accuracy", ex, np.array([0.5, 0.6, 0.7, 0.8, 0.85]))
    assert acc.word == "improving" and acc.best == 0.85
    flat = eval_status("eval_loss", ex, np.full(5, 1.3862943649291992))
    assert flat.word == "flat"
    assert eval_status(None, np.zeros(0), np.zeros(0), has_any_eval=True).word == "no_loss"


# -- progress and state --------------------------------------------------------------------------


def test_progress_rate_leaves_out_eval_pauses_and_resume() -> None:
    x = np.arange(10.0, 310, 10)
    t = 1000.0 + x / 5.0  # 5 steps/s
    t[15:] += 60.0  # a one-minute evaluation pause after step 150
    info = ProgressState().with_item(RunInfo(total_steps=1000)).with_item(Progress(300, 1000, rate=980.0))
    pe = estimate_progress(info, x, t, True, 1.25)
    assert pe.steps_per_s == pytest.approx(5.0)
    assert pe.eta_s == pytest.approx(700 / 5.0)
    assert pe.total == 1000 and pe.fraction == pytest.approx(0.3) and pe.epoch_fraction == 0.25
    # a bar's total never replaces the banner's; without record times the bar's rate is used
    info2 = info.with_item(Progress(3, 32, rate=2.0))
    assert info2.total == 1000
    pe2 = estimate_progress(info2, None, None, False, None)
    assert pe2.rate_source == "bar" and pe2.steps_per_s == 2.0


def _state(**kw: object) -> str:
    base: dict[str, object] = dict(
        has_records=True,
        last_record_offset=1000,
        summary_offset=None,
        at_total=False,
        finished_marker=False,
        events=[],
        arrivals=np.arange(10.0) * 10 + 1000,
        last_activity=0.0,
        now=None,
    )
    base.update(kw)
    return run_state(**base).word  # type: ignore[arg-type]


def test_run_states() -> None:
    tb = Event("traceback", "Traceback (most recent call last):", offset=500)
    ki = Event("error", "KeyboardInterrupt", offset=2000)
    assert _state() == "running"
    assert _state(events=[tb]) == "running"  # crash before the last record: resumed run
    assert _state(events=[ki]) == "crashed"
    assert _state(events=[ki], summary_offset=3000) == "finished"  # summary follows
    assert _state(at_total=True) == "finished"
    assert _state(finished_marker=True) == "finished"
    assert _state(now=1090.0 + 100) == "running"
    assert _state(now=1090.0 + 121) == "stalled"
    oom = Event("oom", "torch.OutOfMemoryError: CUDA out of memory.", offset=2100)
    st = run_state(
        has_records=True,
        last_record_offset=1000,
        summary_offset=None,
        at_total=False,
        finished_marker=False,
        events=[ki, oom],
        arrivals=np.zeros(0),
        last_activity=0.0,
        now=None,
    )
    assert st.word == "crashed" and st.line.startswith("torch.OutOfMemoryError")
