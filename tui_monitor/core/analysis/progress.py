"""Progress: global step / total, epoch, steps per second and an ETA that skips eval pauses."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tui_monitor.core.analysis.throughput import MIN_DT, ClockSource, clock_intervals
from tui_monitor.core.state.progress import ProgressState

__all__ = ["ProgressEstimate", "estimate_progress"]

PAUSE_FACTOR = 3.0
"""An interval between train records longer than this many times the median is a pause
(evaluation, checkpoint save) and is left out of the rate."""


@dataclass(frozen=True, slots=True)
class ProgressEstimate:
    """Where the run is and when it should end.

    Attributes:
        step: best known global step (max of the train records' step and the bar), or None.
        total: total steps, or None.
        fraction: step / total in [0, 1], or None.
        epoch: latest epoch, or None; epoch_fraction: its fractional part.
        steps_per_s: steps per second without pauses, or None.
        eta_s: seconds to the end at that rate, or None.
        at_total: step >= total.
        rate_source: ``"records"`` (from record arrival times), ``"train_runtime"``, ``"bar"``
            (the bar's elapsed time, else its printed rate) or ``""``.
    """

    step: int | None
    total: int | None
    fraction: float | None
    epoch: float | None
    epoch_fraction: float | None
    steps_per_s: float | None
    eta_s: float | None
    at_total: bool
    rate_source: str


def _clock_rate(x: np.ndarray, t: np.ndarray, min_dt: float) -> float | None:
    """Median-based steps/s from steps ``x`` at clock times ``t`` (both ``(n,)``, seconds).

    Points are merged into intervals of at least ``min_dt`` seconds and one step
    (`throughput`'s rule): a block-buffered log hands many records over in one read, so
    consecutive arrivals say nothing of the pace, and the bar prints whole seconds.
    Intervals with a duration per step > 3× the median (eval or save pause) are dropped; the
    rate is ``sum(dstep) / sum(dt)`` over the rest (last <= 64 intervals).
    """
    if x.shape[0] < 3:
        return None
    i, j = clock_intervals(x, t, min_dt)
    if i.size < 2:
        return None
    dx = (x[j] - x[i])[-64:]
    dt = (t[j] - t[i])[-64:]
    ok = (dx > 0) & (dt > 0) & np.isfinite(dt)
    if ok.sum() < 2:
        return None
    per_step = dt[ok] / dx[ok]
    med = float(np.median(per_step))
    keep = per_step <= PAUSE_FACTOR * med
    if not keep.any():
        return None
    return float(dx[ok][keep].sum() / dt[ok][keep].sum())


def estimate_progress(
    info: ProgressState,
    train_x: np.ndarray | None,
    train_t: np.ndarray | None,
    x_is_step: bool,
    last_epoch: float | None,
    clock: ClockSource = "arrival",
    clock_x: np.ndarray | None = None,
    clock_t: np.ndarray | None = None,
) -> ProgressEstimate:
    """Combine the bar/banner facts with the run's clock into step, rate and ETA.

    The rate comes from the run's clock (see `throughput`: ``train_runtime``, the bar's own
    elapsed time, else when the train records were read) when at least two clean intervals
    exist (it excludes evaluation pauses and resume jumps by construction); otherwise from
    the bar (tqdm's own smoothed rate). ETA = (total - step) / rate.

    Args:
        info: the run's :class:`~tui_monitor.core.state.ProgressState`.
        train_x: ``(n,) float64`` steps of the train records (e.g. the ``loss`` series), or None.
        train_t: ``(n,) float64`` their arrival times (seconds), or None: the clock when
            ``clock_x``/``clock_t`` are not given.
        x_is_step: whether ``train_x`` are global steps (ordinals give no rate).
        last_epoch: the run's latest epoch.
        clock_x, clock_t: ``(k,) float64`` steps and seconds of the run's clock
            (`run_clock`), or None.
        clock: which clock that is (``"arrival"``, ``"bar"``, ``"train_runtime"``): it
            sets the shortest interval measured (:data:`MIN_DT`).
    """
    step = info.step
    if train_x is not None and x_is_step and train_x.shape[0]:
        rec_step = int(np.nanmax(train_x))
        step = rec_step if step is None else max(step, rec_step)
    total = info.total
    rate: float | None = None
    src = ""
    if clock_x is None or clock_t is None:
        clock_x, clock_t = (train_x, train_t) if x_is_step else (None, None)
    if clock_x is not None and clock_t is not None:
        rate = _clock_rate(clock_x, clock_t, MIN_DT.get(clock, 0.0))
        src = ("records" if clock == "arrival" else clock) if rate else ""
    if rate is None and info.rate and info.rate > 0 and math.isfinite(info.rate):
        rate, src = info.rate, "bar"
    frac = None
    eta = None
    at_total = False
    if total and step is not None:
        frac = min(1.0, max(0.0, step / total))
        at_total = step >= total
        if rate:
            eta = max(0.0, (total - step) / rate)
    ef = None
    if last_epoch is not None and math.isfinite(last_epoch):
        ef = last_epoch - math.floor(last_epoch)
    return ProgressEstimate(step, total, frac, last_epoch, ef, rate, eta, at_total, src)
