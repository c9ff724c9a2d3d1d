"""Findings: a reason code, a severity and typed facts (no prose), built from the detectors' results.

Each ``*_findings`` function reads one detector's frozen result and appends
:class:`Reason` items through ``add``; :func:`tui_monitor.core.analysis.verdict.analyse`
calls them in turn and orders what they found. The words are in
:mod:`tui_monitor.core.text.reasons`, keyed by ``Reason.code`` and ``Reason.variant``;
this module imports nothing from there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tui_monitor.core.analysis.checkpoints import REDO_STATES, CheckpointStatus
from tui_monitor.core.analysis.evals import EvalStatus
from tui_monitor.core.analysis.gap import Gap
from tui_monitor.core.analysis.grad import FALLING_FACTOR, GradStatus
from tui_monitor.core.analysis.lr import LrStatus
from tui_monitor.core.analysis.progress import ProgressEstimate
from tui_monitor.core.analysis.state import RunState
from tui_monitor.core.analysis.throughput import Throughput
from tui_monitor.core.analysis.trend import Trend
from tui_monitor.core.state import RunSnapshot, SeriesSnapshot

__all__ = [
    "AddReason",
    "checkpoint_findings",
    "ParamValue",
    "Place",
    "Reason",
    "Severity",
    "eval_findings",
    "grad_findings",
    "loss_findings",
    "lr_findings",
    "place_of",
    "relative_change",
    "state_findings",
    "throughput_findings",
    "step_or_none",
]

Severity = Literal["ok", "info", "warning", "critical"]
"""How much a finding matters, least to most: ``ok``, ``info``, ``warning``, ``critical``."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where a finding happened.

    Attributes:
        x: the series' x value: a global step when ``is_step``, else a 0-based record ordinal.
        is_step: True when ``x`` is a step a log stated (shown as "at step 110"); False for an
            ordinal, which is never shown: the point's epoch is ("at epoch 1.56").
        epoch: the epoch of the point at ``x`` (passes over the data), or None.
    """

    x: float
    is_step: bool
    epoch: float | None = None


ParamValue = float | int | str | Place | None
"""A finding's parameter: a number (a metric value in its own units, seconds, a fraction,
a count), a name (a metric key, a schedule, a log line), a :class:`Place`, or None for a
part of the sentence that does not apply (``eta`` unknown)."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding: a code and the typed facts behind it, no prose.

    The words are in :mod:`tui_monitor.core.text.reasons` (``reason_text(reason, lang)``),
    keyed by ``code`` and ``variant``.

    Attributes:
        code: stable identifier (``loss_decreasing``, ``grad_nonfinite``...).
        severity: ``ok`` / ``info`` / ``warning`` / ``critical``.
        step: the global step it refers to, or None (also when the x axis is not steps).
        variant: which sentence of ``code`` applies (``""`` for the plain one; e.g.
            ``loss_nonfinite`` is ``"now"`` or ``"earlier"``).
        params: the facts the sentence shows, by name (see :data:`ParamValue`): metric values
            in the metric's units, durations in seconds, relative changes as fractions
            (``-0.38``), places as :class:`Place`.
    """

    code: str
    severity: Severity
    step: int | None
    variant: str = ""
    params: Mapping[str, ParamValue] = field(default_factory=dict)


AddReason = Callable[[Reason], None]
"""Appends one finding to the verdict being built."""


# -- places ---------------------------------------------------------------------------------------


def step_or_none(x: float | None, is_step: bool) -> int | None:
    """``x`` as a global step, or None when it is missing, not finite or not a step."""
    if x is None or not math.isfinite(x) or not is_step:
        return None
    return int(x)


def place_of(x: float | None, is_step: bool, series: SeriesSnapshot | None = None) -> Place | None:
    """``x`` as a :class:`Place`, or None when it is missing or not finite (the sentence then
    names no place). With the ``series`` ``x`` belongs to, the place carries the epoch of its
    point, said where ``x`` is not a step."""
    if x is None or not math.isfinite(x):
        return None
    return Place(float(x), is_step, epoch_at(series, x) if series is not None and not is_step else None)


def epoch_at(series: SeriesSnapshot, x: float) -> float | None:
    """The epoch of ``series``' point at ``x``, or None (no such point kept, or no epoch)."""
    idx = np.flatnonzero(series.x == x)
    if not idx.size or len(series.epoch) <= idx[0]:
        return None
    ep = float(series.epoch[idx[0]])
    return ep if math.isfinite(ep) else None


# -- findings per detector ------------------------------------------------------------------------


def relative_change(start: float, end: float) -> float:
    """``(end - start) / |start|``; 0 when the start is 0 or either end is not finite."""
    return (end - start) / abs(start) if math.isfinite(start) and start != 0 and math.isfinite(end) else 0.0


def loss_findings(add: AddReason, trend: Trend, recent: Trend, dpo: bool, warmup: bool, low: float = math.nan) -> None:
    """The loss findings from the whole-run and the recent-window trend (``low``: the run's lowest loss)."""
    s, e = trend.start, trend.end
    whole_run = {"start": s, "end": e, "change": relative_change(s, e)}
    if trend.word == "unknown":
        if 0 < trend.n < 3:
            variant = "one" if trend.n == 1 else "many"
            add(Reason("loss_few_points", "info", None, variant, {"start": s, "end": e, "n": trend.n}))
        elif trend.n:
            add(Reason("loss_unclear", "info", None, params={"start": s, "end": e, "n": trend.n}))
        return
    if recent.word == "diverging" or trend.word == "diverging":
        t = recent if recent.word == "diverging" else trend
        if math.isfinite(low) and low > 0 and low < t.start and t.end > low:
            # It fell first, then blew up: say both, the fit of a V means little.
            params: dict[str, ParamValue] = {"start": t.start, "low": low, "end": t.end, "factor": t.end / low}
            add(Reason("loss_diverging", "critical", None, "after_fall", params))
        else:
            params = {"start": t.start, "end": t.end, "change": t.rel_change}
            add(Reason("loss_diverging", "critical", None, "fit", params))
        return
    if trend.word == "rising" or recent.word == "rising":
        t = trend if trend.word == "rising" else recent
        variant = "whole_run" if t is trend else "recent"
        add(Reason("loss_rising", "warning", None, variant, {"start": t.start, "end": t.end, "change": t.rel_change}))
        if trend.word == "decreasing":
            add(Reason("loss_decreasing", "ok", None, "whole_run", whole_run))
        return
    if trend.word == "decreasing" or recent.word == "decreasing":
        add(Reason("loss_decreasing", "ok", None, params=whole_run))
        if trend.word == "decreasing" and recent.word == "plateau" and recent is not trend:
            add(Reason("loss_flattening", "info", None, params={"level": recent.end}))
        return
    # Whole run and recent window flat.
    flat = {"level": e, "n": trend.n, "change": trend.rel_change}
    if warmup:
        add(Reason("loss_plateau", "info", None, "warmup", flat))
        return
    add(Reason("loss_plateau", "info" if dpo else "warning", None, params=flat))


def grad_findings(add: AddReason, g: GradStatus, s: SeriesSnapshot) -> None:
    """The grad_norm finding (one at most) from its status ``g`` over the series ``s``."""
    is_step = s.x_is_step
    last_x = float(s.x[-1])
    if g.word == "nonfinite":
        if g.nonfinite_at_end:
            # logging_nan_inf_filter hides NaN losses: a finite loss beside a NaN grad is the tell.
            # The first non-finite value is said as the first (with how many in all), not the
            # latest one, as for the loss.
            variant = "now_loss_finite" if g.loss_finite_at_end else "now"
            first = g.first_nonfinite_x if g.first_nonfinite_x is not None else last_x
            params: dict[str, ParamValue] = {
                "value": float(s.y[-1]),
                "at": place_of(first, is_step, s),
                "count": g.nonfinite_count,
            }
            add(Reason("grad_nonfinite", "critical", step_or_none(first, is_step), variant, params))
        else:
            fx = g.first_nonfinite_x
            params = {"at": place_of(fx, is_step, s), "count": g.nonfinite_count, "level": g.level}
            add(Reason("grad_nonfinite", "warning", step_or_none(fx, is_step), "earlier", params))
    elif g.word == "zero":
        add(Reason("grad_zero", g.severity, step_or_none(last_x, is_step)))  # type: ignore[arg-type]
    elif g.word == "exploding":
        if g.onset_x is not None and g.usual > 0:
            # Said with the current value, from where it started: "exploding since step 110:
            # 7.44 → now 153 (100× usual)".
            since = step_or_none(g.onset_x, is_step)
            params = {"onset": g.onset_value, "now": g.now, "factor": g.now / g.usual}
            if since is not None:
                params["since"] = since
            else:
                params["at"] = place_of(g.onset_x, is_step, s)
            add(Reason("grad_exploding", "critical", since, "since" if since is not None else "from", params))
            return
        usual = g.reference if g.reference > 0 else g.start
        factor = g.level / usual if usual > 0 else math.inf
        params = {"level": g.level, "factor": factor, "usual": usual}
        add(Reason("grad_exploding", "critical", step_or_none(last_x, is_step), params=params))
    elif g.word == "vanishing":
        params = {"level": g.level, "start": g.start}
        add(Reason("grad_vanishing", "warning", step_or_none(last_x, is_step), params=params))
    elif g.word == "healthy":
        if g.n >= 3 and g.first > 0 and g.now < FALLING_FACTOR * g.first and g.now <= g.level:
            # 98.5 → 11.8 is falling, not "stable near 45" (the recent median).
            add(Reason("grad_ok", "ok", None, "falling", {"first": g.first, "now": g.now}))
        else:
            add(Reason("grad_ok", "ok", None, params={"level": g.level}))


def lr_findings(add: AddReason, lr: LrStatus, is_step: bool, series: SeriesSnapshot | None = None) -> None:
    """The learning-rate phase (one finding) and, apart, an LR stuck at 0 mid-run (places in
    the learning-rate ``series``)."""
    schedule = lr.schedule  # "unknown" is not said
    if lr.phase == "warmup":
        add(Reason("lr_warmup", "ok", None, params={"first": lr.first, "last": lr.last}))
    elif lr.phase == "hold":
        params: dict[str, ParamValue] = {
            "peak": lr.peak,
            "at": place_of(lr.warmup_end_x, is_step, series),
            "schedule": schedule,
        }
        add(Reason("lr_hold", "ok", step_or_none(lr.warmup_end_x, is_step), params=params))
    elif lr.phase == "constant":
        add(Reason("lr_constant", "ok", None, params={"peak": lr.peak}))
    elif lr.phase == "decay":
        variant = "after_warmup" if lr.warmup_end_x is not None else ""
        add(Reason("lr_decay", "ok", None, variant, {"peak": lr.peak, "last": lr.last, "schedule": schedule}))
    elif lr.phase == "finished":
        add(Reason("lr_finished", "ok", None, params={"peak": lr.peak, "last": lr.last, "schedule": schedule}))
    if lr.stuck_zero_x is not None:
        at = place_of(lr.stuck_zero_x, is_step, series)
        add(Reason("lr_stuck_zero", "warning", step_or_none(lr.stuck_zero_x, is_step), params={"at": at}))


def eval_findings(
    add: AddReason, ev: EvalStatus, is_step: bool, series: SeriesSnapshot | None = None, gap: Gap | None = None
) -> None:
    """The evaluation finding (one at most) of the judged eval metric (places in its ``series``);
    an overfitting one points at the eval − train gap (``gap``) when there is one."""
    params: dict[str, ParamValue] = {
        "metric": ev.metric or "eval",
        "first": ev.first,
        "last": ev.last,
        "best": ev.best,
        "at": place_of(ev.best_x, is_step, series),
    }
    best_step = step_or_none(ev.best_x, is_step)
    if ev.word == "improving":
        add(Reason("eval_improving", "ok", best_step, params=params))
    elif ev.word == "overfitting":
        has_gap = gap is not None and gap.trend != ""
        params = {
            **params,
            "gap": gap.gap if gap is not None and has_gap else None,
            "first_gap": gap.first_gap if gap is not None else None,
            "gap_trend": gap.trend if gap is not None else None,
        }
        if ev.rises >= 2:
            add(Reason("eval_overfitting", "warning", best_step, params={**params, "rises": ev.rises}))
        else:
            params = {**params, "after": ev.after}
            add(Reason("eval_overfitting", "warning", best_step, "since_best", params))
    elif ev.word == "flat":
        add(Reason("eval_flat", "info", None, params=params))
    elif ev.word == "worsening":
        # Better than the first evaluation but worse than the best: said against the best.
        variant = "since_best" if ev.last * ev.direction > ev.first * ev.direction else ""
        add(Reason("eval_worsening", "info", None, variant, params))
    elif ev.word == "single":
        add(Reason("eval_single", "info", None, params=params))
    elif ev.word == "no_loss":
        add(Reason("eval_no_loss", "info", None))


_FINISHED_VARIANT = {"summary": "summary", "step==total": "last_step", "final line": "final_line"}
"""How a run was seen to finish (``RunState.why``) → the variant of ``run_finished`` that says so."""


def state_findings(add: AddReason, st: RunState, pr: ProgressEstimate, snap: RunSnapshot) -> None:
    """The run-state finding: crashed, finished, stalled, running or waiting, with where it is."""
    # Where the run is: "step 50/100 (50 %)"; each part only when known.
    where: dict[str, ParamValue] = {
        "step": pr.step,
        "total": (pr.total or None) if pr.step is not None else None,
        "fraction": pr.fraction or 0.0,
    }
    if st.word == "crashed":
        add(Reason("run_crashed", "critical", pr.step, params={"line": st.line, "why": st.why}))
    elif st.word == "finished":
        summ = snap.summaries.get(None) or next(iter(snap.summaries.values()), None)
        runtime = summ.get("train_runtime") if summ else None
        variant = _FINISHED_VARIANT.get(st.why, "")
        params: dict[str, ParamValue] = {**where, "why": st.why, "runtime": runtime or None}
        add(Reason("run_finished", "ok", pr.step, variant, params))
        if st.late_line:
            # An error after training finished (post-training analysis, another model's
            # caught exception): an event to read, not a crash of this run.
            add(Reason("error_after_finish", "info", None, params={"line": st.late_line}))
    elif st.word == "stalled":
        # A usual interval under a second is a catch-up burst, not a training rhythm: not said.
        usual = st.median_interval_s if st.median_interval_s and st.median_interval_s >= 1 else None
        params = {"silence": st.silence_s or 0.0, "usual": usual, **_last_record(snap, pr)}
        add(Reason("run_stalled", "warning", _record_step(snap, pr), params=params))
    elif st.word == "superseded":
        add(Reason("run_superseded", "info", pr.step, params=where))
    elif st.word == "ended":
        add(Reason("run_ended", "warning", _record_step(snap, pr), params={**where, **_last_record(snap, pr)}))
    elif st.word == "running":
        params = {**where, "rate": pr.steps_per_s or None, "eta": pr.eta_s}
        add(Reason("run_running", "ok", pr.step, params=params))
    else:
        add(Reason("run_waiting", "info", None))


def _record_step(snap: RunSnapshot, pr: ProgressEstimate) -> int | None:
    """The step of the run's last train record (what a stopped run has results up to; a
    checkpoint is never past it), else the progress step when no record states one."""
    loss = snap.get("loss")
    if loss is not None and len(loss) and loss.x_is_step:
        return step_or_none(float(np.nanmax(loss.x)), True)
    return pr.step


def _last_record(snap: RunSnapshot, pr: ProgressEstimate) -> dict[str, ParamValue]:
    """``why="bar_ahead"`` and ``bar_step`` when the train bar got past the last record (a
    block-buffered run killed: the bar's step is not a record's), else nothing."""
    rec = _record_step(snap, pr)
    if rec is not None and pr.step is not None and pr.step > rec:
        return {"why": "bar_ahead", "bar_step": pr.step}
    return {}


def throughput_findings(add: AddReason, tp: Throughput) -> None:
    """A slowdown (one at most): going on is a warning, one the run recovered from is info."""
    sd = tp.slowdown
    if sd is None:
        return
    params: dict[str, ParamValue] = {
        "ratio": sd.ratio,
        "usual": sd.usual,
        "slow": sd.slow,
        "since": sd.since,
        "until": sd.until,
        "seconds": sd.seconds,
    }
    if sd.ongoing:
        add(Reason("throughput_slowdown", "warning", sd.since, "now", params))
    else:
        add(Reason("throughput_slowdown", "info", sd.since, "recovered", params))


def checkpoint_findings(add: AddReason, ck: CheckpointStatus, state_word: str) -> None:
    """The last checkpoint (and the best one), what a run that stopped short would redo, and a
    checkpoint directory whose disk is too full for the next one."""
    last = ck.last
    if last is None:
        return
    params: dict[str, ParamValue] = {
        "step": last.step,
        "path": last.path,
        "count": ck.count,
        "steps": ck.steps_since,
        "redo": ck.redo_s,
        "age": ck.age_s,
        "best": ck.best_path,
        "best_metric": ck.best_metric,
    }
    if state_word in REDO_STATES and ck.steps_since is not None:
        add(Reason("checkpoint_redo", "warning" if ck.steps_since > 0 else "info", last.step, params=params))
    else:
        add(Reason("checkpoint_saved", "ok", last.step, "best" if ck.best_path else "", params))
    if ck.low_space and ck.disk is not None:
        d = ck.disk
        disk: dict[str, ParamValue] = {"free": float(d.free_bytes), "size": float(d.size_bytes), "path": d.path}
        add(Reason("checkpoint_space", "warning", last.step, params=disk))
