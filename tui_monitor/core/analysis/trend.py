"""Loss trend (Mann–Kendall + Sen's slope) and loss spikes (robust z-score on residuals)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "MannKendall",
    "Trend",
    "TrendWord",
    "Spikes",
    "mann_kendall",
    "sen_slope",
    "classify_trend",
    "detect_spikes",
    "bucket_median",
]

TrendWord = Literal["decreasing", "plateau", "rising", "diverging", "unknown"]

MAX_PAIRS_N = 64
"""Mann–Kendall and Sen's slope are O(n²): longer inputs are first reduced to this many bucket
medians (the test then runs on the aggregated series; 64 buckets keep the cost ~0.1 ms)."""

REL_CHANGE = 0.02
"""Smallest relative change of the fitted level (Sen's slope × span / level) that counts as a trend."""

DIVERGE_FACTOR = 2.0
"""Rising by this factor (fitted, or last vs. minimum level) over the window is divergence."""

MIN_PLATEAU_N = 10
"""Below this many points, a non-significant but large swing is ``unknown``, not ``plateau``."""

P_SIGNIFICANT = 0.05
"""Two-sided Mann–Kendall p-value below which a trend is significant."""

SMALL_N_TAU = 0.6
"""For fewer than 10 points the normal approximation is weak: |Kendall's tau| >= this suffices."""


@dataclass(frozen=True, slots=True)
class MannKendall:
    """Mann–Kendall trend test result.

    Source: Mann (1945), Kendall (1975); variance with the ties correction
    ``(n(n-1)(2n+5) - Σ t(t-1)(2t+5)) / 18`` and the continuity-corrected z, as in
    Hipel & McLeod, *Time Series Modelling of Water Resources* (1994), ch. 23.

    Attributes:
        s: the S statistic (sum of signs of later minus earlier values).
        z: standard normal score.
        p: two-sided p-value (``erfc(|z|/√2)``).
        tau: Kendall's tau, ``s / (n(n-1)/2)``, in [-1, 1].
        n: points used.
    """

    s: float
    z: float
    p: float
    tau: float
    n: int


@dataclass(frozen=True, slots=True)
class Trend:
    """Trend of a series over a window.

    Attributes:
        word: ``decreasing`` / ``plateau`` / ``rising`` / ``diverging`` / ``unknown`` (< 3 points, or
            < 10 noisy points without a significant trend).
        slope: Sen's slope of the analysed values per x unit (log-values when ``log``), 0.0 if unknown.
        rel_change: fitted relative change over the window: ``exp(slope*span) - 1`` in log space,
            ``slope*span/|level|`` otherwise.
        p: Mann–Kendall two-sided p-value (1.0 if unknown).
        tau: Kendall's tau.
        start: level at the start (first finite value, as an engineer reads it).
        end: level at the end (median of the last max(1, min(5, n//10)) finite values).
        n: finite points used.
        log: whether log-values were analysed (all values > 0).
        x0: x of the window's first point; x1: of its last.
    """

    word: TrendWord
    slope: float
    rel_change: float
    p: float
    tau: float
    start: float
    end: float
    n: int
    log: bool
    x0: float
    x1: float


@dataclass(frozen=True, slots=True)
class Spikes:
    """Upward outliers of a series against a running median.

    Attributes:
        indices: ``(k,) int64`` indices (into the input arrays) of the spikes.
        x: ``(k,) float64`` their x.
        values: ``(k,) float64`` their values.
        baseline: ``(k,) float64`` the running median at those points.
        z: ``(k,) float64`` robust z-scores.
    """

    indices: np.ndarray
    x: np.ndarray
    values: np.ndarray
    baseline: np.ndarray
    z: np.ndarray

    @property
    def count(self) -> int:
        """Number of spikes."""
        return int(self.indices.shape[0])


def bucket_median(x: np.ndarray, y: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce ``(n,)`` x/y to at most ``n_out`` points: the median of each consecutive bucket.

    Returns ``(m,) float64`` x and y with ``m <= n_out``; inputs with ``n <= n_out`` are returned as is.
    """
    n = y.shape[0]
    if n <= n_out:
        return x, y
    k = n // n_out
    m = n // k
    cut = n - m * k  # drop the oldest remainder so the newest points are kept
    xb = np.median(x[cut:].reshape(m, k), axis=1)
    yb = np.median(y[cut:].reshape(m, k), axis=1)
    return xb, yb


@functools.lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, 1)


def mann_kendall(y: np.ndarray) -> MannKendall:
    """Mann–Kendall test on ``(n,) float64`` finite values (O(n²) memory: keep n <= ~500).

    Raises:
        ValueError: ``y`` not 1-D.
    """
    if y.ndim != 1:
        raise ValueError("y must be 1-D")
    n = int(y.shape[0])
    if n < 2:
        return MannKendall(0.0, 0.0, 1.0, 0.0, n)
    i, j = _pairs(n)
    s = float(np.sign(y[j] - y[i]).sum())
    _, counts = np.unique(y, return_counts=True)
    ties = counts[counts > 1].astype(np.float64)
    var = (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18.0
    if var <= 0:
        z = 0.0
    elif s > 0:
        z = (s - 1) / math.sqrt(var)
    elif s < 0:
        z = (s + 1) / math.sqrt(var)
    else:
        z = 0.0
    p = math.erfc(abs(z) / math.sqrt(2.0))
    tau = s / (n * (n - 1) / 2.0)
    return MannKendall(s, z, p, tau, n)


def sen_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Sen's slope: the median of pairwise slopes ``(y_j - y_i) / (x_j - x_i)`` for ``x_j > x_i``.

    Source: Sen (1968), *J. Amer. Statist. Assoc.* 63, 1379–1389. ``(n,) float64`` inputs,
    O(n²) memory. Returns 0.0 when no pair has distinct x.
    """
    n = y.shape[0]
    if n < 2:
        return 0.0
    i, j = _pairs(n)
    dx = x[j] - x[i]
    ok = dx != 0
    if not ok.any():
        return 0.0
    return float(np.median((y[j] - y[i])[ok] / dx[ok]))


def classify_trend(
    x: np.ndarray, y: np.ndarray, *, rel_change: float = REL_CHANGE, diverge_factor: float = DIVERGE_FACTOR
) -> Trend:
    """Classify the trend of a noisy series (loss) as decreasing / plateau / rising / diverging.

    Method: non-finite points are dropped; inputs longer than ``MAX_PAIRS_N`` are reduced to
    bucket medians; values are analysed in log space when all are > 0 (losses fall
    multiplicatively). Mann–Kendall gives the significance (p < 0.05, or |tau| >= 0.6 below
    10 points), Sen's slope the size. Thresholds:

    - ``plateau``: the fitted relative change is below ``rel_change`` (2 %), or not significant
      with >= 10 points (fewer noisy points without a trend give ``unknown``);
    - ``decreasing`` / ``rising``: significant and |fitted relative change| >= 2 %;
    - ``diverging``: rising and (the fitted level grew by >= ``diverge_factor`` (×2), or the last
      level is >= ×2 the window's minimum smoothed level after having been lower); also, whatever
      Mann–Kendall says, when the last level is >= ×2 the minimum of a 5-point running median
      reached earlier (a loss that fell, then blew up: a V has no monotone trend).

    Args:
        x: ``(n,) float64`` steps (or ordinals).
        y: ``(n,) float64`` values.

    Returns:
        A :class:`Trend`; ``word == "unknown"`` below 3 finite points.
    """
    fin = np.isfinite(y) & np.isfinite(x)
    xf, yf = x[fin], y[fin]
    n = int(yf.shape[0])
    if n == 0:
        return Trend("unknown", 0.0, 0.0, 1.0, 0.0, math.nan, math.nan, 0, False, math.nan, math.nan)
    k_end = max(1, min(5, n // 10))
    start = float(yf[0])
    end = float(np.median(yf[-k_end:]))
    if n < 3:
        return Trend("unknown", 0.0, 0.0, 1.0, 0.0, start, end, n, False, float(xf[0]), float(xf[-1]))
    xb, yb = bucket_median(xf, yf, MAX_PAIRS_N)
    use_log = bool(np.all(yb > 0))
    v = np.log(yb) if use_log else yb
    mk = mann_kendall(v)
    slope = sen_slope(xb, v)
    span = float(xb[-1] - xb[0])
    if use_log:
        rel = math.expm1(min(slope * span, 700.0))
    else:
        level = float(np.median(np.abs(yb)))
        rel = slope * span / level if level > 0 else (0.0 if slope == 0 else math.copysign(math.inf, slope))
    significant = mk.p < P_SIGNIFICANT or (n < 10 and abs(mk.tau) >= SMALL_N_TAU)
    word: TrendWord
    if abs(rel) < rel_change:
        word = "plateau"
    elif not significant:
        # Few noisy points without a trend are not yet evidence of a plateau.
        word = "plateau" if n >= MIN_PLATEAU_N else "unknown"
    elif rel < 0:
        word = "decreasing"
    else:
        word = "rising"
        lo = float(np.min(yb))
        grown = (lo > 0 and end >= diverge_factor * lo) if use_log else False
        if rel + 1.0 >= diverge_factor or grown:
            word = "diverging"
    if word != "diverging" and use_log and yb.shape[0] >= 6:
        # A loss that fell and then blew up (a V) has no monotone trend for Mann–Kendall,
        # yet it has diverged: the level now is >= ×2 its smoothed minimum, reached earlier.
        smooth = np.median(np.lib.stride_tricks.sliding_window_view(yb, 5), axis=1)
        lo_i = int(np.argmin(smooth))
        lo = float(smooth[lo_i])
        if lo > 0 and end >= diverge_factor * lo and lo_i < smooth.shape[0] - 1:
            word = "diverging"
    return Trend(word, slope, rel, mk.p, mk.tau, start, end, n, use_log, float(xf[0]), float(xf[-1]))


def _running_median(y: np.ndarray, half: int) -> np.ndarray:
    """Median of the ``2*half`` neighbours of each point, the point itself excluded.

    At the left edge the window shrinks symmetrically (point ``i < half`` uses ``i`` neighbours
    on each side; point 0 gets NaN): a loss falling steeply at the start would otherwise make
    its first points look high against later, lower ones. At the right edge the missing right
    neighbours are simply absent, so the newest point is judged against its predecessors.
    ``y`` must be finite.
    """
    n = y.shape[0]
    med = np.full(n, np.nan)
    if n > 2 * half:
        win = np.lib.stride_tricks.sliding_window_view(y, 2 * half + 1)
        win = np.delete(win, half, axis=1)
        med[half : n - half] = np.median(win, axis=1)
    for i in range(1, min(half, n)):
        if i + i < n:
            med[i] = np.median(np.concatenate([y[:i], y[i + 1 : i + 1 + i]]))
    for i in range(max(half, n - half), n):
        med[i] = np.median(np.concatenate([y[i - half : i], y[i + 1 :]]))
    return med


def detect_spikes(
    x: np.ndarray, y: np.ndarray, *, z_threshold: float = 5.0, rel_threshold: float = 0.25, half_window: int = 3
) -> Spikes:
    """Find upward spikes by a robust z-score of residuals from a running median.

    Method: baseline = median of the ``half_window`` finite neighbours on each side (the point
    excluded); residual r = y - baseline; modified z = 0.6745 r / MAD(r) (Iglewicz & Hoaglin,
    1993, who flag |z| > 3.5; we use 5 to stay quiet on noisy losses). A spike also needs
    ``r >= rel_threshold × |baseline|`` (25 %), so the small bump at the first log of each epoch
    (1.387 → 1.41 in a plateaued run) is not one. Downward jumps (the drop at an epoch boundary)
    are never spikes.

    Args:
        x: ``(n,) float64`` steps.
        y: ``(n,) float64`` values (non-finite ignored).

    Returns:
        :class:`Spikes` (empty below 5 finite points).
    """
    fin = np.isfinite(y)
    idx = np.flatnonzero(fin)
    empty = Spikes(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    if idx.shape[0] < 5:
        return empty
    v = y[idx]
    base = _running_median(v, half_window)
    r = v - base
    ok = np.isfinite(r)
    if ok.sum() < 5:
        return empty
    mad = float(np.median(np.abs(r[ok] - np.median(r[ok]))))
    scale = max(mad, 1e-12 * max(1.0, float(np.median(np.abs(v)))))
    z = 0.6745 * (r - float(np.median(r[ok]))) / scale
    with np.errstate(invalid="ignore"):
        hit = ok & (z > z_threshold) & (r >= rel_threshold * np.abs(base)) & (r > 0)
    sel = np.flatnonzero(hit)
    ii = idx[sel]
    return Spikes(ii.astype(np.int64), x[ii].astype(np.float64), v[sel], base[sel], z[sel])
