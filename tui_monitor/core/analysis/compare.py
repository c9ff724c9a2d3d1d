"""How a run compares with another at the same step: its previous run in the same log, or the
latest run of another log (``--baseline OTHER.log``). A pure function over two runs' arrays
giving one finding (code ``loss_compare``, typed facts, no prose).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tui_monitor.core.analysis.findings import Place, Reason, relative_change
from tui_monitor.core.analysis.series import whole_run
from tui_monitor.core.analysis.smoothing import ema_debiased_by_distance
from tui_monitor.core.state import RunSnapshot, SeriesSnapshot

__all__ = [
    "COMPARE_METRIC",
    "COMPARE_WEIGHT",
    "Baseline",
    "Comparison",
    "aligned_baseline",
    "compare_runs",
    "compare_values",
]

COMPARE_METRIC = "loss"
"""The metric two runs are compared on (the train loss every Trainer log has)."""

COMPARE_WEIGHT = 0.6
"""EMA weight of both sides before they are compared (TensorBoard's default slider value, as the
verdict's smoothed loss): one noisy record must not decide which run is ahead."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """The run another run is compared with.

    Attributes:
        run: its snapshot (series by key, with steps).
        source: the file name of another log (``--baseline OTHER.log``), or ``None`` when it
            is an earlier run of the same log (then said as "run N").
    """

    run: RunSnapshot
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    """Both runs' smoothed values of a metric at one point of the current run.

    Attributes:
        metric: the series key (``loss``).
        x: the current run's x there (a global step when ``is_step``, else a record ordinal).
        is_step: the current run's x axis is global steps.
        epoch: the current run's epoch there, or NaN (said instead of an ordinal).
        now: the current run's smoothed value there (debiased EMA, :data:`COMPARE_WEIGHT`).
        then: the baseline's smoothed value there (linear between its two nearest points).
    """

    metric: str
    x: float
    is_step: bool
    epoch: float
    now: float
    then: float


def aligned_baseline(current: SeriesSnapshot, base: SeriesSnapshot) -> tuple[np.ndarray, np.ndarray] | None:
    """The baseline's points placed on the current run's x axis ("at the same steps").

    Two runs whose x are of one kind (both global steps, or both record ordinals) share it:
    the baseline's whole run (decimated history + ring) as it is. Otherwise (one run's bar
    gave steps, the other's did not) the baseline's epochs are mapped onto the current run's
    x through the current run's own (epoch, x) pairs (linear; points past the current run's
    last epoch are left out); this uses the ring (the last points, where epochs are kept).

    Returns:
        ``(x, y)``, both ``(m,) float64``, finite and in x order, or ``None`` when nothing lines up.
    """
    if current.x_is_step == base.x_is_step:
        bx, by = _finite(*whole_run(base))
    else:
        ce, cx = current.epoch, current.x
        keep = np.isfinite(ce) & np.isfinite(cx)
        ce, cx = ce[keep], cx[keep]
        if ce.size < 2 or not bool(np.all(np.diff(ce) >= 0)) or ce[-1] <= ce[0]:
            return None
        bx = np.interp(base.epoch, ce, cx, left=np.nan, right=np.nan)
        bx, by = _finite(bx, np.asarray(base.y, dtype=np.float64))
    return (bx, by) if bx.size else None


def compare_values(current: RunSnapshot, base: RunSnapshot, metric: str = COMPARE_METRIC) -> Comparison | None:
    """The two runs' smoothed ``metric`` at the latest point both reached.

    The baseline is placed on the current run's x axis (:func:`aligned_baseline`); the point
    is the current run's latest x not past the baseline's last (a baseline that ran longer is
    read where the current run is now; a shorter one where it ended). Each side is smoothed
    with TensorBoard's debiased EMA by x distance
    (:func:`~tui_monitor.core.analysis.smoothing.ema_debiased_by_distance`, weight
    :data:`COMPARE_WEIGHT`); the baseline's value is interpolated linearly at that x.

    Returns:
        A :class:`Comparison`, or ``None`` when either run lacks finite points of ``metric``,
        their axes cannot be lined up, or the current run has no point within the baseline's span.
    """
    cs, bs = current.get(metric), base.get(metric)
    if cs is None or bs is None or not len(cs) or not len(bs):
        return None
    aligned = aligned_baseline(cs, bs)
    if aligned is None:
        return None
    bx, by = aligned
    keep = np.isfinite(cs.x) & np.isfinite(cs.y)
    cx, cy, ce = cs.x[keep], cs.y[keep], cs.epoch[keep]
    upto = np.flatnonzero((cx <= bx[-1]) & (cx >= bx[0]))
    if not upto.size:
        return None
    i = int(upto[-1])
    now = float(ema_debiased_by_distance(cx[: i + 1], cy[: i + 1], COMPARE_WEIGHT)[-1])
    then = float(np.interp(cx[i], bx, ema_debiased_by_distance(bx, by, COMPARE_WEIGHT)))
    if not (math.isfinite(now) and math.isfinite(then)):
        return None
    return Comparison(metric, float(cx[i]), cs.x_is_step, float(ce[i]), now, then)


def compare_runs(current: RunSnapshot, base: Baseline, metric: str = COMPARE_METRIC) -> Reason | None:
    """The finding ``loss_compare``: ``loss 3.10 vs 3.42 for run 1 at step 500``.

    Severity ``info`` (a comparison informs, it does not judge: a run with another learning
    rate may be behind on purpose). Variant ``run`` for an earlier run of the same log
    (param ``run``: its index), ``file`` for another log (param ``file``: its name); with the
    suffix ``_epoch`` when the current run has no steps (the place is then its epoch).

    Params: ``metric``, ``now``, ``then`` (metric units), ``change`` (relative, fraction),
    ``at`` (:class:`Place`, a step) or ``epoch``, and ``run`` or ``file``.

    Returns:
        The reason, or ``None`` when the runs cannot be compared (see :func:`compare_values`).
    """
    c = compare_values(current, base.run, metric)
    if c is None:
        return None
    params: dict[str, float | int | str | Place | None] = {
        "metric": c.metric,
        "now": c.now,
        "then": c.then,
        "change": relative_change(c.then, c.now),
    }
    if base.source is None:
        params["run"] = base.run.index
        variant = "run"
    else:
        params["file"] = base.source
        variant = "file"
    if c.is_step:
        params["at"] = Place(c.x, True)
    elif math.isfinite(c.epoch):
        params["epoch"] = c.epoch
        variant += "_epoch"
    else:
        return None  # a record ordinal is no place a person can find
    return Reason("loss_compare", "info", int(c.x) if c.is_step else None, variant, params)


def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]
