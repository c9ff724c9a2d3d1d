"""Smoothing: TensorBoard's debiased EMA and a step-distance-weighted variant, vectorised."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ema_debiased", "ema_debiased_by_distance", "linear_recurrence"]

_MAX_LOG = 600.0
"""Largest |log| growth inside one block of :func:`linear_recurrence` (exp(600) < 1.8e308)."""


def linear_recurrence(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``s[i] = a[i] * s[i-1] + b[i]`` with ``s[-1] = 0``, without a Python loop per point.

    Within a block, ``s[i] = A[i] * cumsum(b / A)[i]`` with ``A[i] = prod(a[..i])``; blocks are
    cut where ``A`` would leave the float range, so the Python loop runs once per block
    (for ``a = 0.6`` a block is ~1,100 points).

    Args:
        a: ``(n,) float64`` decay factors in (0, 1]; values below 1e-250 are clamped.
        b: ``(n,) float64`` inputs.

    Returns:
        ``(n,) float64`` the recurrence.
    """
    n = a.shape[0]
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out
    la = -np.log(np.clip(a, 1e-250, 1.0))
    c = np.cumsum(la)
    prev = 0.0
    i = 0
    while i < n:
        base = c[i - 1] if i > 0 else 0.0
        j = int(np.searchsorted(c, base + _MAX_LOG, side="right"))
        j = max(j, i + 1)
        g = c[i:j] - base  # -log A within the block, in [0, 600]
        scale = np.exp(-g)
        with np.errstate(over="ignore", invalid="ignore"):
            s = scale * (prev + np.cumsum(b[i:j] * np.exp(g)))
        if not np.isfinite(s).all() and np.isfinite(b[i:j]).all():
            # Values near the float limit overflow the scaled sums: run this block as the
            # plain recurrence s[k] = a[k] s[k-1] + b[k] instead.
            acc = prev
            for k in range(i, j):
                acc = float(a[k]) * acc + float(b[k])
                s[k - i] = acc
        out[i:j] = s
        prev = float(s[-1])
        i = j
    return out


def ema_debiased(y: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average.

    Source: TensorBoard's scalar dashboard smoothing (``vz_line_chart2/line-chart.ts``,
    ``resmoothDataset``): ``last = last*w + (1-w)*v``; ``smoothed = last / (1 - w**k)`` where
    ``k`` counts the finite points so far. Non-finite points are skipped (they keep their own
    value and do not enter the average); a series whose finite values are all equal is returned
    as is, as TensorBoard does.

    Args:
        y: ``(n,) float64`` values in logging order.
        weight: smoothing weight ``w`` in [0, 0.999]; 0 returns a copy.

    Returns:
        ``(n,) float64`` smoothed values (non-finite inputs copied through).

    Raises:
        ValueError: ``weight`` outside [0, 1).
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"weight must be in [0, 1), got {weight}")
    y = np.asarray(y, dtype=np.float64)
    out: np.ndarray = y.copy()  # mypy (python_version 3.10) types copy() here as Any
    fin = np.isfinite(y)
    v = y[fin]
    if v.size == 0 or weight == 0.0 or np.all(v == v[0]):
        return out
    a = np.full(v.shape[0], weight)
    s = linear_recurrence(a, (1.0 - weight) * v)
    k = np.arange(1, v.shape[0] + 1, dtype=np.float64)
    out[fin] = s / (1.0 - np.power(weight, k))
    return out


def ema_debiased_by_distance(x: np.ndarray, y: np.ndarray, weight: float, unit: float | None = None) -> np.ndarray:
    """Debiased EMA whose decay follows the step distance, for unevenly spaced logging.

    Each point decays the past by ``w ** (dx / unit)``: a gap of ten logging intervals forgets
    as much as ten points would. With even spacing this equals :func:`ema_debiased`. The debias
    term follows the same recurrence (``d[i] = a[i]*d[i-1] + (1-a[i])``), as in TensorBoard's
    ``1 - w**k`` for even spacing.

    Args:
        x: ``(n,) float64`` steps (non-decreasing).
        y: ``(n,) float64`` values.
        weight: ``w`` in [0, 1).
        unit: step distance that counts as one point; default the median positive spacing.

    Returns:
        ``(n,) float64`` smoothed values; non-finite inputs copied through.

    Raises:
        ValueError: ``weight`` outside [0, 1) or shapes differ.
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"weight must be in [0, 1), got {weight}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError("x and y must have the same shape")
    out: np.ndarray = y.copy()  # mypy (python_version 3.10) types copy() here as Any
    fin = np.isfinite(y) & np.isfinite(x)
    v = y[fin]
    if v.size == 0 or weight == 0.0 or np.all(v == v[0]):
        return out
    xv = x[fin]
    dx = np.diff(xv, prepend=xv[0])
    dx = np.maximum(dx, 0.0)
    if unit is None:
        pos = dx[dx > 0]
        unit = float(np.median(pos)) if pos.size else 1.0
    unit = unit if unit > 0 and math.isfinite(unit) else 1.0
    # Two points at the same step (or out of order) still count as one interval each.
    a = np.power(weight, np.where(dx > 0, dx, unit) / unit)
    a[0] = weight
    s = linear_recurrence(a, (1.0 - a) * v)
    d = linear_recurrence(a, 1.0 - a)
    out[fin] = s / d
    return out
