"""Progress: global step / total, epoch, steps per second and an ETA that skips eval pauses."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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
        rate_source: ``"records"`` (from record arrival times), ``"bar"`` or ``""``.
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


def _record_rate(x: np.ndarray, t: np.ndarray) -> float | None:
    """Median-based steps/s from train-record steps ``x`` and arrival times ``t`` (both ``(n,)``).

    Intervals with no forward step (a resume going back), no time (a burst read at once) or a
    duration > 3× the median (eval or save pause) are dropped; the rate is
    ``sum(dstep) / sum(dt)`` over the rest (last <= 64 intervals).
    """
    if x.shape[0] < 3:
        return None
    dx = np.diff(x)[-64:]
    dt = np.diff(t)[-64:]
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
) -> ProgressEstimate:
    """Combine the bar/banner facts with the train records into step, rate and ETA.

    The rate comes from record arrivals when at least two clean intervals exist (it excludes
    evaluation pauses and resume jumps by construction); otherwise from the bar (tqdm's own
    smoothed rate). ETA = (total - step) / rate.

    Args:
        info: the run's :class:`~tui_monitor.core.state.ProgressState`.
        train_x: ``(n,) float64`` steps of the train records (e.g. the ``loss`` series), or None.
        train_t: ``(n,) float64`` their arrival times (seconds), or None.
        x_is_step: whether ``train_x`` are global steps (ordinals give no rate).
        last_epoch: the run's latest epoch.
    """
    step = info.step
    if train_x is not None and x_is_step and train_x.shape[0]:
        rec_step = int(np.nanmax(train_x))
        step = rec_step if step is None else max(step, rec_step)
    total = info.total
    rate: float | None = None
    src = ""
    if train_x is not None and train_t is not None and x_is_step:
        rate = _record_rate(train_x, train_t)
        src = "records" if rate else ""
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
