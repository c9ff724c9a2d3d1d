"""The verdict: ``analyse(snapshot, progress, events, now) -> Health`` with ordered reasons (codes + typed facts)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tui_monitor.core.analysis.evals import EvalStatus, eval_status, pick_eval_metric
from tui_monitor.core.analysis.grad import GradStatus, grad_status
from tui_monitor.core.analysis.lr import LrStatus, lr_status
from tui_monitor.core.analysis.progress import ProgressEstimate, ProgressInfo, estimate_progress
from tui_monitor.core.analysis.smoothing import ema_debiased, ema_debiased_by_distance
from tui_monitor.core.analysis.state import RunState, run_state
from tui_monitor.core.analysis.trend import Spikes, Trend, classify_trend, detect_spikes
from tui_monitor.core.records import Event
from tui_monitor.core.store import SeriesSnapshot, StoreSnapshot

_AddReason = Callable[["Reason"], None]
"""Appends one finding to the verdict being built."""

__all__ = ["Health", "Place", "ParamValue", "Reason", "Severity", "Status", "analyse", "SEVERITY_ORDER"]

Severity = Literal["ok", "info", "warning", "critical"]
Status = Literal["healthy", "warning", "critical"]

SEVERITY_ORDER: dict[str, int] = {"critical": 0, "warning": 1, "info": 2, "ok": 3}
"""Sort key: most severe first."""

SMOOTH_WEIGHT = 0.6
"""EMA weight for the smoothed loss (TensorBoard's default slider value)."""

SPIKE_WINDOW = 512
"""Spikes are searched in (and the smoothed loss computed over) the latest this-many loss points."""

RECENT_SPIKE = 20
"""A spike among the latest this-many points is a warning; older ones are info."""

DPO_MARGIN = 10.0
"""``rewards/margins`` above this with loss ~0 and accuracy 1 is degenerate DPO."""

GRPO_KEYS = ("reward", "kl", "reward_std", "completion_length")
"""Train keys that mark GRPO/online RL (TRL), where loss 0 is by design (trl#2703)."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where a finding happened.

    Attributes:
        x: the series' x value: a global step when ``is_step``, else a 0-based record ordinal.
        is_step: True when ``x`` is a step a log stated (shown as "at step 110"); False for an
            ordinal (shown as "at record #6").
    """

    x: float
    is_step: bool


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


@dataclass(frozen=True, slots=True)
class Health:
    """The verdict and everything it was built from (what the report and the app read).

    Attributes:
        status: ``healthy`` (no warning/critical reason), ``warning`` or ``critical``.
        reasons: most severe first.
        loss_trend: whole-run loss trend (None without a loss series).
        loss_recent: recent-window loss trend.
        loss_smoothed_last: latest debiased-EMA loss (weight 0.6), or None.
        spikes: loss spikes in the latest 512 points, or None.
        spike_count: number of those spikes.
        grad: grad_norm status, or None without a grad_norm series.
        lr: learning-rate phase/schedule, or None without an LR series.
        eval: evaluation status.
        state: run state.
        progress: step / total / rate / ETA.
        task: ``"grpo"``, ``"dpo"`` or ``"lm"`` (from the keys).
        version: store version analysed.
    """

    status: Status
    reasons: tuple[Reason, ...]
    loss_trend: Trend | None
    loss_recent: Trend | None
    loss_smoothed_last: float | None
    spikes: Spikes | None
    spike_count: int
    grad: GradStatus | None
    lr: LrStatus | None
    eval: EvalStatus
    state: RunState
    progress: ProgressEstimate
    task: str = "lm"
    version: int = 0

    @property
    def codes(self) -> list[str]:
        """Reason codes in order."""
        return [r.code for r in self.reasons]

    def reason(self, code: str) -> Reason | None:
        """The first reason with ``code``, or None."""
        for r in self.reasons:
            if r.code == code:
                return r
        return None


# -- places -----------------------------------------------------------------------------------------


def _step_or_none(x: float | None, is_step: bool) -> int | None:
    """``x`` as a global step, or None when it is missing, not finite or not a step."""
    if x is None or not math.isfinite(x) or not is_step:
        return None
    return int(x)


def _place(x: float | None, is_step: bool) -> Place | None:
    """``x`` as a :class:`Place`, or None when it is missing or not finite (the sentence then names no place)."""
    if x is None or not math.isfinite(x):
        return None
    return Place(float(x), is_step)


# -- helpers --------------------------------------------------------------------------------------


def _whole_run_series(s: SeriesSnapshot) -> tuple[np.ndarray, np.ndarray]:
    """Whole-run x/y: the decimated history before the ring, then the ring."""
    if s.count <= len(s) or s.hist_x.size == 0 or s.x.size == 0:
        return s.x, s.y
    older = s.hist_x < s.x[0]
    return np.concatenate([s.hist_x[older], s.x]), np.concatenate([s.hist_y[older], s.y])


def _aligned_last(snap: StoreSnapshot, names: Sequence[str], k: int) -> list[np.ndarray] | None:
    """Values of ``names`` at the x they share, among the last ``k`` points of each."""
    ser = [snap.get(n) for n in names]
    if any(s is None or len(s) == 0 for s in ser):
        return None
    xs = [s.x[-k:] for s in ser if s is not None]
    common = xs[0]
    for x in xs[1:]:
        common = np.intersect1d(common, x)
    if common.size == 0:
        return None
    out = []
    for s in ser:
        assert s is not None
        xx, yy = s.x[-k:], s.y[-k:]
        _, idx, _ = np.intersect1d(xx, common, return_indices=True)
        out.append(yy[idx])
    return out


_TOPIC_ORDER = ("loss", "dpo", "reward", "grad", "lr", "eval", "run", "epoch")
"""Within one severity, reasons read in this order: the loss first, as a person reads a run."""


def _topic_rank(code: str) -> int:
    """Position of a reason's topic (its code's first word) in :data:`_TOPIC_ORDER`."""
    head = code.split("_", 1)[0]
    return _TOPIC_ORDER.index(head) if head in _TOPIC_ORDER else len(_TOPIC_ORDER)


def _most_severe_first(reasons: list[Reason]) -> tuple[Reason, ...]:
    """Most severe first; then loss, rewards, gradients, LR, eval, run state, epoch."""
    return tuple(sorted(reasons, key=lambda r: (SEVERITY_ORDER[r.severity], _topic_rank(r.code))))


# -- the entry point ------------------------------------------------------------------------------


def analyse(
    snap: StoreSnapshot, progress: ProgressInfo | None = None, events: Sequence[Event] = (), now: float | None = None
) -> Health:
    """Read a store snapshot like an experienced engineer and give the verdict with its reasons.

    Runs every detector (loss trend + spikes, grad_norm, LR phase/schedule, eval, progress,
    run state) on the main rank's series (``loss``, ``grad_norm``, ``learning_rate``,
    ``eval_*``) and turns their results into :class:`Reason` items. ``status`` is ``critical``
    if any reason is critical, ``warning`` if any is a warning, else ``healthy``.

    Args:
        snap: a :class:`~tui_monitor.core.store.StoreSnapshot`.
        progress: bar/banner facts (:class:`ProgressInfo`); None means nothing known.
        events: parser/tailer events in file order (crash evidence).
        now: current wall-clock seconds for stall detection; None (reports) disables it.

    Returns:
        :class:`Health`. Never raises on odd data (empty store, all-NaN series).
    """
    info = progress or ProgressInfo()
    reasons: list[Reason] = []
    add = reasons.append
    loss = snap.get("loss")
    names = set(snap.metric_names())
    grpo = any(k in names for k in GRPO_KEYS) or any(k.startswith("completions/") for k in names)
    dpo = "rewards/margins" in names and "rewards/accuracies" in names
    task = "dpo" if dpo else ("grpo" if grpo else "lm")
    is_step = bool(loss.x_is_step) if loss is not None else True

    # -- learning rate ---------------------------------------------------------------------------
    lrs = snap.get("learning_rate")
    lr: LrStatus | None = None
    if lrs is not None and len(lrs):
        lr = lr_status(lrs.x, lrs.y, info.total)
        _lr_reasons(add, lr, lrs.x_is_step)

    # -- loss ------------------------------------------------------------------------------------
    trend = recent = None
    spikes: Spikes | None = None
    smoothed_last: float | None = None
    if loss is not None and len(loss):
        x, y = loss.x, loss.y
        fin = np.isfinite(y)
        if fin.any():
            tail = slice(-SPIKE_WINDOW, None)
            sm = (
                ema_debiased_by_distance(x[tail], y[tail], SMOOTH_WEIGHT)
                if is_step
                else ema_debiased(y[tail], SMOOTH_WEIGHT)
            )
            smf = sm[np.isfinite(sm)]
            smoothed_last = float(smf[-1]) if smf.size else None
        zero_by_design = grpo and fin.any() and bool(np.all(np.abs(y[fin]) <= 1e-6))
        bad = np.flatnonzero(~fin)
        if bad.size and not fin[-1]:
            add(
                Reason(
                    "loss_nonfinite",
                    "critical",
                    _step_or_none(x[-1], is_step),
                    "now",
                    {"value": float(y[-1]), "at": _place(x[-1], is_step)},
                )
            )
        elif bad.size:
            add(
                Reason(
                    "loss_nonfinite",
                    "warning",
                    _step_or_none(x[bad[0]], is_step),
                    "earlier",
                    {"value": float(y[bad[0]]), "at": _place(x[bad[0]], is_step), "count": int(bad.size)},
                )
            )
        if zero_by_design:
            add(Reason("loss_zero_expected", "info", None))
            rw = snap.get("reward")
            if rw is not None and len(rw) >= 3:
                rt = classify_trend(rw.x, rw.y)
                direction = rt.word if rt.word in ("decreasing", "plateau", "rising", "diverging") else "unknown"
                add(Reason("reward_trend", "info", None, direction, {"start": rt.start, "end": rt.end}))
        else:
            wx, wy = _whole_run_series(loss)
            trend = classify_trend(wx, wy)
            nr = len(loss)
            w = min(nr, max(10, min(200, nr // 4)))
            recent = classify_trend(x[-w:], y[-w:]) if nr > w else trend
            finite = wy[np.isfinite(wy)]
            low = float(finite.min()) if finite.size else math.nan
            _loss_reasons(add, trend, recent, dpo, lr is not None and lr.phase == "warmup", low)
            if fin.sum() >= 5:
                spikes = detect_spikes(x[-SPIKE_WINDOW:], y[-SPIKE_WINDOW:])
                off = max(0, len(loss) - SPIKE_WINDOW)
                for k in range(spikes.count):
                    i = int(spikes.indices[k]) + off
                    sev: Severity = "warning" if i >= len(loss) - RECENT_SPIKE else "info"
                    add(
                        Reason(
                            "loss_spike",
                            sev,
                            _step_or_none(spikes.x[k], is_step),
                            params={
                                "at": _place(spikes.x[k], is_step),
                                "before": float(spikes.baseline[k]),
                                "after": float(spikes.values[k]),
                            },
                        )
                    )
    if dpo:
        al = _aligned_last(snap, ["loss", "rewards/accuracies", "rewards/margins"], 20)
        if al is not None:
            lz, acc, mar = al
            with np.errstate(invalid="ignore"):
                deg = (np.abs(lz) < 1e-3) & (acc >= 0.999) & (mar > DPO_MARGIN)
            if deg.any():
                j = int(np.flatnonzero(deg)[-1])
                add(
                    Reason(
                        "dpo_degenerate",
                        "warning",
                        None,
                        params={
                            "loss": float(lz[j]),
                            "accuracy": float(acc[j]),
                            "margin": float(mar[j]),
                            "count": int(deg.sum()),
                        },
                    )
                )

    # -- gradient --------------------------------------------------------------------------------
    gs = snap.get("grad_norm")
    grad: GradStatus | None = None
    if gs is not None and len(gs):
        gl = None
        if loss is not None and len(loss) and gs.x.size and loss.x[-1] == gs.x[-1]:
            gl = float(loss.y[-1])
        grad = grad_status(gs.x, gs.y, gl)
        _grad_reasons(add, grad, gs)

    # -- eval ------------------------------------------------------------------------------------
    eval_names = [s.name for s in snap.series.values() if s.kind == "eval" and s.rank is None]
    metric = pick_eval_metric(eval_names)
    em = snap.get(metric) if metric else None
    ev = eval_status(
        metric,
        em.x if em is not None else np.zeros(0),
        em.y if em is not None else np.zeros(0),
        train_x=loss.x if loss is not None else None,
        train_loss=loss.y if loss is not None else None,
        has_any_eval=bool(snap.record_counts.get("eval", 0)),
        has_loss=snap.get("eval_loss") is not None,
    )
    _eval_reasons(add, ev, em.x_is_step if em is not None else True)

    # -- progress and state ----------------------------------------------------------------------
    pr = estimate_progress(
        info, loss.x if loss is not None else None, loss.t if loss is not None else None, is_step, snap.last_epoch
    )
    finished_marker = info.finished_marker
    pc = snap.get("percentage")
    if pc is not None and len(pc) and float(np.nanmax(pc.y[-1:])) >= 100.0:
        finished_marker = True
    st = run_state(
        has_records=bool(snap.series) or snap.summary_offset is not None,
        last_record_offset=snap.last_record_offset,
        summary_offset=snap.summary_offset,
        at_total=pr.at_total,
        finished_marker=finished_marker,
        events=events,
        arrivals=snap.arrivals,
        last_activity=info.last_activity,
        now=now,
    )
    _state_reasons(add, st, pr, snap)

    # -- epoch -----------------------------------------------------------------------------------
    if loss is not None and len(loss):
        ep = loss.epoch[np.isfinite(loss.epoch)]
        if ep.size >= 2 and ep[-1] > ep[0]:
            # Said once the run is over as what was done, while it runs as what is going on.
            variant = "finished" if st.word == "finished" else ""
            add(Reason("epoch_advancing", "ok", None, variant, {"first": float(ep[0]), "last": float(ep[-1])}))

    ordered = _most_severe_first(reasons)
    severities = {r.severity for r in ordered}
    status: Status = "critical" if "critical" in severities else ("warning" if "warning" in severities else "healthy")
    return Health(
        status,
        ordered,
        trend,
        recent,
        smoothed_last,
        spikes,
        spikes.count if spikes is not None else 0,
        grad,
        lr,
        ev,
        st,
        pr,
        task,
        snap.version,
    )


# -- reason builders ------------------------------------------------------------------------------


def _relative_change(start: float, end: float) -> float:
    """``(end - start) / |start|``; 0 when the start is 0 or either end is not finite."""
    return (end - start) / abs(start) if math.isfinite(start) and start != 0 and math.isfinite(end) else 0.0


def _loss_reasons(add: _AddReason, trend: Trend, recent: Trend, dpo: bool, warmup: bool, low: float = math.nan) -> None:
    """The loss findings from the whole-run and the recent-window trend (``low``: the run's lowest loss)."""
    s, e = trend.start, trend.end
    whole_run = {"start": s, "end": e, "change": _relative_change(s, e)}
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


def _grad_reasons(add: _AddReason, g: GradStatus, s: SeriesSnapshot) -> None:
    """The grad_norm finding (one at most) from its status ``g`` over the series ``s``."""
    is_step = s.x_is_step
    last_x = float(s.x[-1])
    if g.word == "nonfinite":
        if g.nonfinite_at_end:
            # logging_nan_inf_filter hides NaN losses: a finite loss beside a NaN grad is the tell.
            variant = "now_loss_finite" if g.loss_finite_at_end else "now"
            params: dict[str, ParamValue] = {"value": float(s.y[-1]), "at": _place(last_x, is_step)}
            add(Reason("grad_nonfinite", "critical", _step_or_none(last_x, is_step), variant, params))
        else:
            fx = g.first_nonfinite_x
            params = {"at": _place(fx, is_step), "count": g.nonfinite_count, "level": g.level}
            add(Reason("grad_nonfinite", "warning", _step_or_none(fx, is_step), "earlier", params))
    elif g.word == "zero":
        add(Reason("grad_zero", g.severity, _step_or_none(last_x, is_step)))  # type: ignore[arg-type]
    elif g.word == "exploding":
        usual = g.reference if g.reference > 0 else g.start
        factor = g.level / usual if usual > 0 else math.inf
        params = {"level": g.level, "factor": factor, "usual": usual}
        add(Reason("grad_exploding", "critical", _step_or_none(last_x, is_step), params=params))
    elif g.word == "vanishing":
        params = {"level": g.level, "start": g.start}
        add(Reason("grad_vanishing", "warning", _step_or_none(last_x, is_step), params=params))
    elif g.word == "healthy":
        add(Reason("grad_ok", "ok", None, params={"level": g.level}))


def _lr_reasons(add: _AddReason, lr: LrStatus, is_step: bool) -> None:
    """The learning-rate phase (one finding) and, apart, an LR stuck at 0 mid-run."""
    schedule = lr.schedule  # "unknown" is not said
    if lr.phase == "warmup":
        add(Reason("lr_warmup", "ok", None, params={"first": lr.first, "last": lr.last}))
    elif lr.phase == "hold":
        params: dict[str, ParamValue] = {
            "peak": lr.peak,
            "at": _place(lr.warmup_end_x, is_step),
            "schedule": schedule,
        }
        add(Reason("lr_hold", "ok", _step_or_none(lr.warmup_end_x, is_step), params=params))
    elif lr.phase == "constant":
        add(Reason("lr_constant", "ok", None, params={"peak": lr.peak}))
    elif lr.phase == "decay":
        variant = "after_warmup" if lr.warmup_end_x is not None else ""
        add(Reason("lr_decay", "ok", None, variant, {"peak": lr.peak, "last": lr.last, "schedule": schedule}))
    elif lr.phase == "finished":
        add(Reason("lr_finished", "ok", None, params={"peak": lr.peak, "last": lr.last, "schedule": schedule}))
    if lr.stuck_zero_x is not None:
        at = _place(lr.stuck_zero_x, is_step)
        add(Reason("lr_stuck_zero", "warning", _step_or_none(lr.stuck_zero_x, is_step), params={"at": at}))


def _eval_reasons(add: _AddReason, ev: EvalStatus, is_step: bool) -> None:
    """The evaluation finding (one at most) of the judged eval metric."""
    params: dict[str, ParamValue] = {
        "metric": ev.metric or "eval",
        "first": ev.first,
        "last": ev.last,
        "best": ev.best,
        "at": _place(ev.best_x, is_step),
    }
    best_step = _step_or_none(ev.best_x, is_step)
    if ev.word == "improving":
        add(Reason("eval_improving", "ok", best_step, params=params))
    elif ev.word == "overfitting":
        add(Reason("eval_overfitting", "warning", best_step, params={**params, "rises": ev.rises}))
    elif ev.word == "flat":
        add(Reason("eval_flat", "info", None, params=params))
    elif ev.word == "worsening":
        add(Reason("eval_worsening", "info", None, params=params))
    elif ev.word == "single":
        add(Reason("eval_single", "info", None, params=params))
    elif ev.word == "no_loss":
        add(Reason("eval_no_loss", "info", None))


_FINISHED_VARIANT = {"summary": "summary", "step==total": "last_step", "final line": "final_line"}
"""How a run was seen to finish (``RunState.why``) → the variant of ``run_finished`` that says so."""


def _state_reasons(add: _AddReason, st: RunState, pr: ProgressEstimate, snap: StoreSnapshot) -> None:
    """The run-state finding: crashed, finished, stalled, running or waiting, with where it is."""
    # Where the run is: "step 50/100 (50 %)"; each part only when known.
    where: dict[str, ParamValue] = {
        "step": pr.step,
        "total": (pr.total or None) if pr.step is not None else None,
        "fraction": pr.fraction or 0.0,
    }
    if st.word == "crashed":
        add(Reason("run_crashed", "critical", pr.step, params={"line": st.line}))
    elif st.word == "finished":
        summ = snap.summaries.get(None) or next(iter(snap.summaries.values()), None)
        runtime = summ.get("train_runtime") if summ else None
        variant = _FINISHED_VARIANT.get(st.why, "")
        params: dict[str, ParamValue] = {**where, "why": st.why, "runtime": runtime or None}
        add(Reason("run_finished", "ok", pr.step, variant, params))
    elif st.word == "stalled":
        # A usual interval under a second is a catch-up burst, not a training rhythm: not said.
        usual = st.median_interval_s if st.median_interval_s and st.median_interval_s >= 1 else None
        add(Reason("run_stalled", "warning", pr.step, params={"silence": st.silence_s or 0.0, "usual": usual}))
    elif st.word == "running":
        params = {**where, "rate": pr.steps_per_s or None, "eta": pr.eta_s}
        add(Reason("run_running", "ok", pr.step, params=params))
    else:
        add(Reason("run_waiting", "info", None))
