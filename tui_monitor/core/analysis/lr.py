"""Learning-rate phase (warmup / hold / decay / finished / constant) and schedule shape."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["LrPhase", "LrStatus", "lr_status", "SCHEDULES"]

LrPhase = Literal["warmup", "hold", "decay", "finished", "constant", "unknown"]

SCHEDULES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "constant",
    "constant_with_warmup",
    "warmup_stable_decay",
    "inverse_sqrt",
    "unknown",
)
"""Schedule names, as transformers' ``get_scheduler`` spells them (``SchedulerType``).
``polynomial`` with its default ``power=1.0`` is a straight line and is reported as ``linear``."""

REL_TOL = 1e-3
"""Relative tolerance for "equal to the peak": transformers 5.x prints LR with 4 significant
digits (``.4g``), a rounding error of at most 5e-4 of the value."""

FIT_TOL = 0.02
"""Largest accepted max-abs residual of a decay-shape fit, in units of the peak LR."""

FINISHED_FRAC = 1e-3
"""After a decay, an LR at or below this fraction of the peak is the end of the schedule."""


@dataclass(frozen=True, slots=True)
class LrStatus:
    """LR phase and schedule.

    Attributes:
        phase: ``warmup`` / ``hold`` / ``decay`` / ``finished`` / ``constant`` / ``unknown``.
        schedule: one of :data:`SCHEDULES`.
        peak: largest finite LR logged (NaN if none).
        peak_x: x of the first point at the peak.
        warmup_end_x: x of the first point at the peak when a warmup preceded it, else None.
        last: latest finite LR.
        first: first finite LR.
        stuck_zero_x: x of the first LR exactly 0 in a run of zeros mid-run (``lr_stuck_zero``),
            else None.
        fit_residual: max |residual| / peak of the chosen decay fit (NaN if none).
        n: finite points.
    """

    phase: LrPhase
    schedule: str
    peak: float
    peak_x: float
    warmup_end_x: float | None
    last: float
    first: float
    stuck_zero_x: float | None
    fit_residual: float
    n: int


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Closed-form least-squares slope and intercept of ``(m,)`` x, y (cheaper than lstsq)."""
    xm, ym = float(x.mean()), float(y.mean())
    dx = x - xm
    den = float(dx @ dx)
    b = float(dx @ (y - ym)) / den if den > 0 else 0.0
    return b, ym - b * xm


def _fit_linear(x: np.ndarray, r: np.ndarray) -> float:
    """Max |residual| of the least-squares line through (x, r)."""
    b, a = _line(x, r)
    return float(np.max(np.abs(b * x + a - r)))


def _fit_cosine(x: np.ndarray, r: np.ndarray) -> float:
    """Max |residual| of ``r = 0.5 (1 + cos(pi p))`` with p linear in x.

    Source: ``get_cosine_schedule_with_warmup`` in transformers/optimization.py
    (``0.5 * (1 + cos(pi * num_cycles * 2 * progress))``, ``num_cycles = 0.5``). ``p`` is obtained
    by inverting the formula on points well inside (0.02, 0.98), where the inverse is well
    conditioned, then fitted as a line; the residual is measured on all points in r units.
    """
    inner = (r > 0.02) & (r < 0.98)
    if inner.sum() < 2:
        return math.inf
    p = np.arccos(np.clip(2.0 * r[inner] - 1.0, -1.0, 1.0)) / math.pi
    b, a = _line(x[inner], p)
    pp = np.clip(b * x + a, 0.0, 1.0)
    return float(np.max(np.abs(0.5 * (1.0 + np.cos(math.pi * pp)) - r)))


def _fit_inverse_sqrt(x: np.ndarray, r: np.ndarray) -> float:
    """Max |residual| of ``r = 1/sqrt(a x + b)`` (transformers' ``get_inverse_sqrt_schedule``)."""
    pos = r > 0.05
    if pos.sum() < 3:
        return math.inf
    b, a = _line(x[pos], 1.0 / r[pos] ** 2)
    pred = b * x[pos] + a
    if np.any(pred <= 0):
        return math.inf
    return float(np.max(np.abs(1.0 / np.sqrt(pred) - r[pos])))


FIT_POINTS = 128
"""Longer decay segments are fitted on this many evenly spaced points (first and last kept)."""


def _decay_shape(x: np.ndarray, r: np.ndarray) -> tuple[str, float]:
    """Best decay shape for ``(m,)`` x and r = lr/peak (starting at the peak)."""
    if x.shape[0] < 3:
        return "unknown", math.nan
    if x.shape[0] > FIT_POINTS:
        idx = np.unique(np.linspace(0, x.shape[0] - 1, FIT_POINTS).astype(np.int64))
        x, r = x[idx], r[idx]
    fits = {
        "linear": _fit_linear(x, r),
        "cosine": _fit_cosine(x, r),
        "inverse_sqrt": _fit_inverse_sqrt(x, r),
    }
    name = min(fits, key=lambda k: fits[k])
    # Prefer the common shapes when inverse_sqrt is only marginally better (it has the same
    # two parameters and mimics an early cosine/linear decay).
    if name == "inverse_sqrt" and min(fits["linear"], fits["cosine"]) <= 1.5 * fits[name] + 1e-3:
        name = "linear" if fits["linear"] <= fits["cosine"] else "cosine"
    if fits[name] > FIT_TOL:
        return "unknown", fits[name]
    return name, fits[name]


def lr_status(x: np.ndarray, lr: np.ndarray, total_steps: int | None = None) -> LrStatus:
    """Work out the LR phase and schedule from logged ``(x, lr)`` points.

    Method: the peak is the largest LR; a warmup is any earlier point below ``peak·(1-1e-3)``;
    the "hold" is the run of points equal to the peak (within 1e-3, the ``.4g`` rounding of 5.x).
    After the hold, the decay from the last peak point is fitted as a line (``linear``,
    ``polynomial`` power 1), a half cosine (``cosine``) and an inverse square root; the best fit
    within 2 % of the peak names the schedule. An LR that jumps back up by > 10 % of the peak
    after decaying is ``cosine_with_restarts``; a hold of >= 3 points covering >= 10 % of the
    post-peak span before a decay is ``warmup_stable_decay``; a hold to the end is
    ``constant_with_warmup`` (``constant`` without a warmup). If no shape fits, the fit is
    retried without the peak point (sparse logging: the logged "peak" may be warmup's last point).

    The phase is ``finished`` once the LR is <= 1e-3 of the peak, or below 5 % of it and within
    one more logging interval of 0 at the current rate of decrease (a linear schedule's last
    logged LR is one interval above 0), or when x reached ``total_steps``.

    Zeros: an LR of 0 at the first logged step (warmup from 0) and after a gradual decay (the
    schedule's end) is normal. ``stuck_zero_x`` is set for a run of >= 2 zeros between non-zero
    values, a run of >= 2 zeros reached by an abrupt drop (from > 10 % of the peak), or >= 3
    points that are all 0. Tiny positive LRs (1e-9 during warmup) are not zero.

    Args:
        x: ``(n,) float64`` steps.
        lr: ``(n,) float64`` learning rates (non-finite points ignored).
        total_steps: the run's total optimization steps, if known (used to call the phase
            ``finished`` at the last step).

    Returns:
        :class:`LrStatus` (``phase == "unknown"`` with no finite point).
    """
    fin = np.isfinite(lr) & np.isfinite(x)
    xv, v = x[fin], lr[fin]
    n = int(v.shape[0])
    nan = math.nan
    if n == 0:
        return LrStatus("unknown", "unknown", nan, nan, None, nan, nan, None, nan, 0)
    peak = float(v.max())
    first, last = float(v[0]), float(v[-1])
    if peak <= 0.0:
        stuck = float(xv[0]) if n >= 3 else None
        return LrStatus("unknown", "unknown", peak, float(xv[0]), None, last, first, stuck, nan, n)
    at_peak = v >= peak * (1.0 - REL_TOL)
    i_peak = int(np.argmax(at_peak))
    warmup = bool(i_peak > 0)
    peak_x = float(xv[i_peak])
    warm_x = peak_x if warmup else None
    stuck = _stuck_zero(xv, v, peak)

    # Length of the hold: consecutive peak points from i_peak.
    after_peak = at_peak[i_peak:]
    hold_len = int(np.argmin(after_peak)) if not after_peak.all() else int(after_peak.shape[0])
    i_hold_end = i_peak + hold_len - 1
    if i_hold_end == n - 1:
        if not warmup:
            phase: LrPhase = "constant" if n >= 2 else "unknown"
            sched = "constant" if n >= 3 else "unknown"
        elif hold_len == 1:
            phase, sched = "warmup", "unknown"
        else:
            phase, sched = "hold", "constant_with_warmup"
        return LrStatus(phase, sched, peak, peak_x, warm_x, last, first, stuck, nan, n)

    # Decay part, from the last point at the peak.
    xd, vd = xv[i_hold_end:], v[i_hold_end:]
    r = vd / peak
    jumps = np.diff(r)
    restart_at = np.flatnonzero(jumps > 0.10)
    if restart_at.size:
        rising_now = bool(r[-1] > r[-2] + 0.5 * REL_TOL) if r.shape[0] >= 2 else False
        phase = "warmup" if rising_now else ("finished" if r[-1] <= FINISHED_FRAC else "decay")
        first_seg = restart_at[0] + 1
        _, resid = _decay_shape(xd[:first_seg], r[:first_seg])
        return LrStatus(phase, "cosine_with_restarts", peak, peak_x, warm_x, last, first, stuck, resid, n)
    # Terminal zeros beyond the first one carry no shape information.
    nz = np.flatnonzero(vd > 0)
    cut = min(int(nz[-1]) + 2, vd.shape[0]) if nz.size else vd.shape[0]
    sched, resid = _decay_shape(xd[:cut], r[:cut])
    if sched == "unknown" and cut >= 4:
        # With sparse logging the "peak" may be the last warmup point, not the top of the
        # decay (the configured peak is never logged): judge the shape without it.
        sched2, resid2 = _decay_shape(xd[1:cut], r[1:cut])
        if sched2 in ("linear", "inverse_sqrt"):
            sched, resid = sched2, resid2
    span_after = float(xv[-1] - peak_x)
    hold_span = float(xv[i_hold_end] - peak_x)
    if hold_len >= 3 and span_after > 0 and hold_span >= 0.10 * span_after:
        sched = "warmup_stable_decay"
    last_drop = float(r[-2] - r[-1]) if r.shape[0] >= 2 else 0.0
    if (
        r[-1] <= FINISHED_FRAC
        or (r[-1] < 0.05 and 0 < r[-1] <= last_drop)
        or (total_steps is not None and xv[-1] >= total_steps and r[-1] < 0.5)
    ):
        phase = "finished"
    else:
        phase = "decay"
    return LrStatus(phase, sched, peak, peak_x, warm_x, last, first, stuck, resid, n)


def _stuck_zero(x: np.ndarray, v: np.ndarray, peak: float) -> float | None:
    """x of the first zero of a mid-run run of zeros (see :func:`lr_status`), else None."""
    zero = v <= 0.0
    if not zero.any():
        return None
    nzi = np.flatnonzero(~zero)
    if nzi.size == 0:
        return float(x[0]) if v.shape[0] >= 3 else None
    first_nz, last_nz = int(nzi[0]), int(nzi[-1])
    # Interior runs of >= 2 zeros.
    inner = zero[first_nz : last_nz + 1]
    if inner.any():
        d = np.diff(np.concatenate([[0], inner.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        for s, e in zip(starts, ends):
            if e - s >= 2:
                return float(x[first_nz + s])
    # Terminal run of zeros after an abrupt drop.
    tail = v.shape[0] - 1 - last_nz
    if tail >= 2 and v[last_nz] > 0.10 * peak:
        return float(x[last_nz + 1])
    return None
