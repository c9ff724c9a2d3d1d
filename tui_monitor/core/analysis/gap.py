"""The generalisation gap: ``eval_loss`` − train ``loss`` at the nearest logged step, and its trend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["GAP_TREND_REL", "Gap", "GapTrend", "eval_gap"]

GapTrend = Literal["widening", "narrowing", "steady", ""]

GAP_TREND_REL = 0.02
"""A gap that moved by more than this fraction of the train loss over the latest evaluations
is widening or narrowing (2 %); less is steady."""

TREND_EVALS = 5
"""Evaluations the trend is fitted over (the latest ones)."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Eval loss against train loss.

    Attributes:
        step: the latest evaluation's step.
        eval_loss: its ``eval_loss``.
        train_loss: the train ``loss`` logged nearest that step.
        gap: ``eval_loss − train_loss`` (positive: eval is worse).
        first_gap: the gap at the first evaluation.
        change: how much the gap moved over the latest :data:`TREND_EVALS` evaluations
            (least-squares slope × their step span, in loss units).
        trend: ``widening`` / ``narrowing`` / ``steady``, or ``""`` with fewer than three
            evaluations.
        n: evaluations paired with a train loss.
        x: ``(n,) float64`` their steps; values: ``(n,) float64`` the gaps.
    """

    step: float
    eval_loss: float
    train_loss: float
    gap: float
    first_gap: float
    change: float
    trend: GapTrend
    n: int
    x: np.ndarray
    values: np.ndarray


def eval_gap(train_x: np.ndarray, train_y: np.ndarray, eval_x: np.ndarray, eval_y: np.ndarray) -> Gap | None:
    """The gap at each evaluation (the train loss at the nearest logged step, either side).

    Args:
        train_x / train_y: ``(m,) float64`` steps and train losses, steps rising.
        eval_x / eval_y: ``(n,) float64`` steps and eval losses.

    Returns:
        :class:`Gap`, or ``None`` without a finite pair. Never raises on odd data.
    """
    tf = np.isfinite(train_y)
    ef = np.isfinite(eval_y)
    tx, ty = train_x[tf], train_y[tf]
    ex, ey = eval_x[ef], eval_y[ef]
    if not tx.size or not ex.size:
        return None
    j = np.clip(np.searchsorted(tx, ex), 1, max(tx.size - 1, 1)) if tx.size > 1 else np.zeros(ex.size, dtype=np.intp)
    if tx.size > 1:
        nearer_left = np.abs(ex - tx[j - 1]) <= np.abs(tx[j] - ex)
        j = np.where(nearer_left, j - 1, j)
    gaps = ey - ty[j]
    n = int(gaps.size)
    trend: GapTrend = ""
    change = 0.0
    if n >= 3:
        k = min(n, TREND_EVALS)
        gx, gy = ex[-k:], gaps[-k:]
        span = float(gx[-1] - gx[0])
        if span > 0:
            slope = float(np.polyfit(gx, gy, 1)[0])
            change = slope * span
        scale = max(abs(float(ty[j[-1]])), 1e-12)
        limit = GAP_TREND_REL * scale
        trend = "widening" if change > limit else ("narrowing" if change < -limit else "steady")
    last_train = float(ty[j[-1]])
    return Gap(float(ex[-1]), float(ey[-1]), last_train, float(gaps[-1]), float(gaps[0]), change, trend, n, ex, gaps)
