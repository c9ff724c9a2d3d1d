"""Turn a monitor snapshot into a :class:`~tui_monitor.ui.view.DashboardView`.

The monitor's analysis (``snapshot.health``) decides every verdict; this module only
chooses which series to draw (whole run or recent window, smoothed or not), orders the
rows and puts the analysis' findings into words of the UI language. No textual here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from tui_monitor.core.analysis.smoothing import ema_debiased_by_distance
from tui_monitor.core.analysis.verdict import Health
from tui_monitor.core.text.fmt import fmt_duration, fmt_num
from tui_monitor.core.text.reasons import reason_text
from tui_monitor.core.text.words import label, verdict_word, word
from tui_monitor.ui.view import SYMBOLS, DashboardView, Line, MetricRow, Severity, Status

RECENT_POINTS = 120
"""Points shown by the "recent" window (``w``)."""

SMOOTHING_WEIGHTS: tuple[float, ...] = (0.0, 0.6, 0.9, 0.99)
"""The weights ``s`` cycles through (0 = off); TensorBoard's debiased EMA."""

FIRST_ROWS = ("loss", "learning_rate", "grad_norm")
"""Rows always on top, in this order; eval rows and epoch follow, then the rest."""

_TREND_SYMBOL = {"decreasing": "▼", "plateau": "▬", "rising": "▲", "diverging": "✗", "unknown": "·"}
_TREND_SEV: dict[str, Severity] = {"decreasing": "ok", "plateau": "info", "rising": "warning", "diverging": "critical"}
_GRAD_SYMBOL = {"healthy": "✓", "exploding": "✗", "vanishing": "!", "zero": "✗", "nonfinite": "✗", "absent": "·"}
_STATE_SEV: dict[str, Severity] = {
    "running": "ok",
    "following": "ok",
    "stalled": "warning",
    "finished": "ok",
    "crashed": "critical",
    "waiting": "warning",
    "deleted": "warning",
    "unreadable": "critical",
    "error": "critical",
    "empty": "info",
}
_EVENT_SEV: dict[str, Severity] = {
    "traceback": "critical",
    "oom": "critical",
    "killed": "critical",
    "nccl_timeout": "critical",
    "error": "critical",
    "truncated": "warning",
    "rotated": "info",
    "deleted": "warning",
    "recreated": "info",
}


@dataclass(frozen=True, slots=True)
class ViewOptions:
    """How the user wants to see the run.

    Attributes:
        lang: ``"en"`` or ``"ru"``.
        smoothing: EMA weight (0 = off).
        whole: whole run (decimated history) instead of the recent window.
        paused: the display is frozen (shown in the status line).
        times: show wall-clock times in events (off for fixed states: no clock).
    """

    lang: str = "en"
    smoothing: float = 0.6
    whole: bool = True
    paused: bool = False
    times: bool = True


def _sev(value: str | None) -> Severity:
    if value in ("ok", "info", "warning", "critical"):
        return value  # type: ignore[return-value]
    return "info"


def _series_xy(s: Any, whole: bool) -> tuple[np.ndarray, np.ndarray]:
    """The points to draw: the decimated whole-run history when the ring lost points."""
    x, y = s.x, s.y
    if whole and s.count > len(s.y) and len(s.hist_y):
        # history up to where the ring starts, then the ring at full resolution
        cut = x[0] if len(x) else math.inf
        keep = s.hist_x < cut
        x = np.concatenate([s.hist_x[keep], x])
        y = np.concatenate([s.hist_y[keep], y])
    elif not whole and len(y) > RECENT_POINTS:
        x, y = x[-RECENT_POINTS:], y[-RECENT_POINTS:]
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _at(x: float | None, lang: str, x_is_step: bool = True) -> str:
    """``at step 25`` / ``на шаге 25`` (``at #3`` for record ordinals), ``""`` without ``x``."""
    if x is None or not math.isfinite(x):
        return ""
    if x_is_step:
        return label("at_step", lang).format(n=int(x))
    return label("at_record", lang).format(n=int(x) + 1)


def _health_part(health: Any, name: str) -> Any:
    return getattr(health, name, None) if health is not None else None


def build_view(snap: Any, opts: ViewOptions, *, now: float | None = None) -> DashboardView:
    """Build the dashboard for one run.

    Args:
        snap: a ``MonitorSnapshot`` (``store``, ``health``, ``events``, progress fields).
        opts: the user's view options.
        now: wall-clock seconds for "time since" texts (default ``time.time()``).

    Returns:
        The frozen :class:`DashboardView`.
    """
    lang = opts.lang
    now = time.time() if now is None else now
    health = snap.health
    rows = _rows(snap, opts)
    status = _status(snap, opts, now)
    reasons = _reasons(health, lang)
    events = _events(snap, health, opts)
    return DashboardView(snap.version, status, tuple(rows), reasons, events, lang)


# --- rows --------------------------------------------------------------------------------


def _rows(snap: Any, opts: ViewOptions) -> list[MetricRow]:
    store = snap.store
    health = snap.health
    lang = opts.lang
    names = list(store.series.keys())
    ordered: list[str] = [n for n in FIRST_ROWS if n in store.series]
    evals = [n for n in names if n.startswith("eval_") and n not in ordered and "@rank" not in n]
    judged = getattr(_health_part(health, "eval"), "metric", None)
    quality = [n for n in evals if not any(t in n for t in ("runtime", "per_second"))]
    quality.sort(key=lambda n: (n != judged, n != "eval_loss"))
    ordered += quality
    rest = [n for n in names if n not in ordered and n not in evals]
    rows: list[MetricRow] = []
    for name in ordered:
        rows.append(_row(name, store.series[name], snap, opts))
    ep = _epoch_row(snap, lang)
    if ep is not None:
        rows.append(ep)
    for name in rest + [n for n in evals if n not in quality]:
        rows.append(_row(name, store.series[name], snap, opts))
    return rows


def _row(name: str, s: Any, snap: Any, opts: ViewOptions) -> MetricRow:
    lang = opts.lang
    health = snap.health
    x, y = _series_xy(s, opts.whole)
    if not s.x_is_step:
        x = x + 1.0  # record ordinals are shown from 1, as the analysis' texts number them
    fin = y[np.isfinite(y)]
    last = float(y[-1]) if len(y) else None
    nonfinite = int((~np.isfinite(s.y)).sum())
    stats = snap.metrics.get(name) if getattr(snap, "metrics", None) else None
    if stats is not None:
        nonfinite = max(nonfinite, int(getattr(stats, "nonfinite", 0)))
    smoothed = None
    if opts.smoothing > 0 and fin.size >= 3 and name != "learning_rate" and not name.startswith("eval_"):
        smoothed = ema_debiased_by_distance(x, y, opts.smoothing)
    lo = float(fin.min()) if fin.size else None
    hi = float(fin.max()) if fin.size else None
    word_, symbol, detail, agg = "", "", "", "mean"
    sev: Severity = "info"
    metric = s.metric
    if metric == "loss" and s.rank is None:
        t = _health_part(health, "loss_trend")
        if t is not None and t.word != "unknown":
            word_, symbol, sev = word(t.word, lang), _TREND_SYMBOL.get(t.word, ""), _TREND_SEV.get(t.word, "info")
        elif len(y):
            # the trend test needs more points than a short run (DPO, a fresh start) has
            word_, symbol = word("few_points", lang), "·"
        detail = f"{label('min', lang)} {fmt_num(lo)}"
        sm_last = _health_part(health, "loss_smoothed_last")
        if smoothed is not None and np.isfinite(smoothed[-1]):
            sm_last = float(smoothed[-1])
        if sm_last is not None:
            detail += f"   {label('smoothed', lang)} {fmt_num(sm_last)}"
    elif metric == "learning_rate" and s.rank is None:
        lr = _health_part(health, "lr")
        if lr is not None and lr.phase != "unknown":
            phase = "done" if lr.phase == "finished" else lr.phase
            word_ = word(phase, lang).upper()
            sched = lr.schedule if lr.schedule and lr.schedule != "unknown" and lr.phase != "warmup" else ""
            symbol = {"warmup": "↗", "hold": "→", "decay": "↘", "finished": "■", "constant": "→"}.get(lr.phase, "")
            sev = "critical" if lr.stuck_zero_x is not None else "ok"
            if math.isfinite(lr.peak):
                detail = f"{label('peak', lang)} {fmt_num(lr.peak)} {_at(lr.peak_x, lang, s.x_is_step)}"
            if sched:
                detail = f"{word(sched, lang)}   {detail}"
        elif hi is not None:
            detail = f"{label('peak', lang)} {fmt_num(hi)}"
    elif metric == "grad_norm" and s.rank is None:
        g = _health_part(health, "grad")
        agg = "max"
        if g is not None and g.word != "absent":
            word_ = word(g.word, lang)
            symbol = _GRAD_SYMBOL.get(g.word, "")
            sev = _sev(g.severity if g.severity != "ok" else "ok")
        med = float(np.median(fin)) if fin.size else None
        detail = f"{label('median', lang)} {fmt_num(med)}   {label('max', lang)} {fmt_num(hi)}"
    elif metric.startswith("eval_"):
        ev = _health_part(health, "eval")
        if ev is not None and ev.metric == name and ev.n:
            best_txt = f"{label('best', lang)} {fmt_num(ev.best)} {_at(ev.best_x, lang, s.x_is_step)}"
            is_best = last is not None and math.isfinite(last) and last == ev.best
            ew = {
                "improving": "improving",
                "flat": "flat",
                "worsening": "worse",
                "overfitting": "overfitting",
                "single": "best",
            }.get(ev.word, ev.word)
            word_ = word("best", lang) if is_best else word(ew, lang)
            symbol = "★" if is_best else {"overfitting": "✗", "worsening": "▲", "improving": "▼"}.get(ev.word, "·")
            sev = "warning" if ev.word == "overfitting" else "ok" if is_best or ev.word == "improving" else "info"
            detail = best_txt
        elif lo is not None:
            detail = f"{label('min', lang)} {fmt_num(lo)}   {label('max', lang)} {fmt_num(hi)}"
    else:
        if lo is not None:
            detail = f"{label('min', lang)} {fmt_num(lo)}   {label('max', lang)} {fmt_num(hi)}"
        if fin.size >= 2:
            d = fin[-1] - fin[0]
            span = (hi - lo) if hi is not None and lo is not None else 0.0
            if span == 0 or abs(d) < 0.05 * span:
                word_, symbol = word("flat", lang), "▬"
            elif d < 0:
                word_, symbol = word("falling", lang), "▼"
            else:
                word_, symbol = word("up", lang), "▲"
    if nonfinite and last is not None and not math.isfinite(last):
        sev = "critical"
        if not word_:
            word_, symbol = word("nan", lang), "✗"
    return MetricRow(
        key=name,
        x=x,
        y=y,
        smoothed=smoothed,
        x_is_step=s.x_is_step,
        last=last,
        word=word_,
        symbol=symbol,
        severity=sev,
        detail=detail,
        nonfinite=nonfinite,
        spark_agg=agg,
    )


def _step_progress(snap: Any) -> tuple[int | None, int | None]:
    prog = _health_part(snap.health, "progress")
    step = getattr(prog, "step", None) or snap.global_step
    total = getattr(prog, "total", None) or snap.total_steps
    return step, total


def _total_epochs(snap: Any) -> tuple[float | None, bool]:
    """The run's length in epochs and whether it is an estimate.

    Returns:
        ``(epochs, estimated)``: from ``epoch × total steps / step`` while the run is under
        way (an estimate that moves as the epoch counter advances; exact at the last step),
        else the banner's ``Num Epochs``; ``(None, False)`` when neither is known.
    """
    ep = snap.store.last_epoch
    step, total = _step_progress(snap)
    if ep and step and total:
        return ep * total / step, step < total
    n = snap.run_info.get("num_epochs") if snap.run_info else None
    return (float(n), False) if n else (None, False)


def _epoch_row(snap: Any, lang: str) -> MetricRow | None:
    loss = snap.store.series.get("loss")
    ep = snap.store.last_epoch
    if ep is None:
        return None
    total_ep, estimated = _total_epochs(snap)
    step, total = _step_progress(snap)
    # The bar is the step progress (what the ETA counts), labelled so: an epoch bar would
    # need the planned epoch count, which the log only estimates.
    if step and total:
        frac, bar_label = min(step / total, 1.0), label("of_steps", lang)
    elif total_ep:
        frac, bar_label = min(ep / total_ep, 1.0), label("of_epochs", lang)
    else:
        frac, bar_label = ep - math.floor(ep), ""
    detail = f"{label('of', lang)} {'≈' if estimated else ''}{fmt_num(total_ep, 3)}" if total_ep else ""
    x = loss.x if loss is not None else np.zeros(0)
    y = loss.epoch if loss is not None else np.zeros(0)
    if ep > 0 and float(ep).is_integer():
        in_pass = label("pass_done", lang).format(n=int(ep))  # at a boundary: the pass is done
    else:
        in_pass = label("in_pass", lang).format(pct=f"{(ep - math.floor(ep)) * 100:.0f}", n=math.floor(ep) + 1)
    return MetricRow(
        key="epoch",
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        last=ep,
        word=in_pass,
        symbol="◔",
        severity="info",
        detail=detail,
        progress=frac,
        progress_label=bar_label,
    )


# --- status ------------------------------------------------------------------------------


def _status(snap: Any, opts: ViewOptions, now: float) -> Status:
    lang = opts.lang
    health = snap.health
    prog = _health_part(health, "progress")
    state = _health_part(health, "state")
    file_state = snap.file_state
    key = file_state
    text = word(file_state, lang)
    if file_state == "following":
        key = "following"
        text = word("polling" if snap.mode == "poll" else "following", lang)
        if state is not None and state.word in ("stalled", "finished", "crashed"):
            key = state.word
            text = word(state.word, lang)
            if state.word == "stalled" and state.silence_s:
                text += f" {fmt_duration(state.silence_s)}"
    elif file_state == "error":
        text = snap.error or word("unreadable", lang)
    # no metric record yet: there is nothing to judge, whatever the detectors default to
    verdict = getattr(health, "status", None) if snap.store.series else None
    verdict = verdict or "unknown"
    step = getattr(prog, "step", None) if prog is not None else snap.global_step
    total = getattr(prog, "total", None) if prog is not None else snap.total_steps
    rate = getattr(prog, "steps_per_s", None) if prog is not None else snap.rate
    eta = getattr(prog, "eta_s", None) if prog is not None else None
    catching = None
    if snap.file_size and snap.file_size - snap.bytes_read > (1 << 20):
        catching = snap.bytes_read / snap.file_size
    return Status(
        file=snap.path.rsplit("/", 1)[-1],
        state=key,
        state_text=text,
        state_severity=_STATE_SEV.get(key, "info"),
        step=step if step is not None else snap.global_step,
        total=total if total is not None else snap.total_steps,
        epoch=snap.store.last_epoch if snap.store.last_epoch is not None else snap.epoch,
        total_epochs=_total_epochs(snap)[0],
        total_epochs_estimated=_total_epochs(snap)[1],
        rate=rate if rate is not None else snap.rate,
        elapsed_s=snap.elapsed_s,
        eta_s=eta,
        verdict=verdict,
        verdict_text=verdict_word(verdict, lang),
        catching_up=catching,
        provisional=getattr(snap, "provisional", False),
        paused=opts.paused,
    )


# --- reasons and events ------------------------------------------------------------------


def _reasons(health: Health | None, lang: str) -> tuple[Line, ...]:
    """The verdict's reasons as lines, most severe first, in words of ``lang`` (the catalogue's)."""
    out: list[Line] = []
    for r in health.reasons if health is not None else ():
        sev = _sev(r.severity)
        out.append(Line(sev, SYMBOLS[sev], reason_text(r, lang)))
    order = {"critical": 0, "warning": 1, "info": 2, "ok": 3}
    out.sort(key=lambda line: order[line.severity])
    return tuple(out)


def _events(snap: Any, health: Any, opts: ViewOptions) -> tuple[Line, ...]:
    """Events in time order: findings of the analysis with their step, then file/crash events.

    Findings: the warmup's end, each loss spike, the first NaN/inf of loss and grad_norm,
    each new best of the judged eval metric, overfitting, and the run's end (finished,
    stalled, crashed with its line). Times are the arrival times of the points (hidden
    when ``opts.times`` is off, for fixed-state screenshots).
    """
    lang = opts.lang
    store = snap.store
    found: list[tuple[tuple[float, float], Line]] = []

    def at(series: Any, x: float | None) -> tuple[tuple[float, float], str]:
        """((arrival, epoch) sort key, "step N hh:mm:ss") for point ``x`` of ``series``.

        Arrival times order events across series; the epoch breaks ties (a file read at
        once arrives all at the same time), since steps of eval and train ordinals differ.
        """
        if x is None or series is None or not math.isfinite(x):
            return (math.inf, math.inf), ""
        idx = np.flatnonzero(series.x == x)
        t = float(series.t[idx[0]]) if idx.size and len(series.t) else 0.0
        ep = float(series.epoch[idx[0]]) if idx.size and len(series.epoch) else math.inf
        ep = ep if math.isfinite(ep) else float(x)
        where = f"{label('step', lang)} {int(x)}" if series.x_is_step else f"#{int(x) + 1}"
        if opts.times and t > 0:
            where += " " + time.strftime("%H:%M:%S", time.localtime(t))
        return (t, ep), where

    def add(series: Any, x: float | None, sev: Severity, symbol: str, en: str, ru: str) -> None:
        key, where = at(series, x)
        found.append((key, Line(sev, symbol, ru if lang == "ru" else en, where)))

    lr = _health_part(health, "lr")
    lrs = store.series.get("learning_rate")
    # Only once the LR has left the warmup: while it still climbs, the last point is not
    # the warmup's end, and an event there would move later with every new record.
    if lr is not None and lr.warmup_end_x is not None and lr.phase in ("hold", "decay", "finished", "constant"):
        add(
            lrs,
            lr.warmup_end_x,
            "ok",
            "↗",
            f"warmup finished, LR {fmt_num(lr.peak)}",
            f"прогрев закончен, LR {fmt_num(lr.peak)}",
        )
    loss = store.series.get("loss")
    spikes = _health_part(health, "spikes")
    if spikes is not None and loss is not None:
        for k in range(len(spikes.x)):
            v, b = float(spikes.values[k]), float(spikes.baseline[k])
            ratio = f" ×{v / b:.1f}" if b > 0 and math.isfinite(v / b) else ""
            add(
                loss,
                float(spikes.x[k]),
                "warning",
                "!",
                f"loss spike{ratio}: {fmt_num(v)}",
                f"всплеск loss{ratio}: {fmt_num(v)}",
            )
    for name in ("loss", "grad_norm"):
        s = store.series.get(name)
        if s is not None and len(s.y):
            bad = np.flatnonzero(~np.isfinite(s.y))
            if bad.size:
                bad_v = fmt_num(float(s.y[bad[0]]))
                add(
                    s,
                    float(s.x[bad[0]]),
                    "critical",
                    "✗",
                    f"first {bad_v} in {name}",
                    f"первое значение {bad_v} в {name}",
                )
    ev = _health_part(health, "eval")
    if ev is not None and ev.metric and ev.metric in store.series and ev.direction:
        s = store.series[ev.metric]
        if ev.n >= 2 and math.isfinite(ev.best) and ev.best != ev.first:  # the latest new best
            add(
                s,
                ev.best_x,
                "ok",
                "★",
                f"new best {ev.metric} {fmt_num(ev.best)}",
                f"новый лучший {ev.metric} {fmt_num(ev.best)}",
            )
        if ev.word == "overfitting":
            add(
                s,
                ev.best_x,
                "warning",
                "!",
                f"overfitting: {ev.metric} worse since",
                f"переобучение: {ev.metric} хуже с этого места",
            )
    st = _health_part(health, "state")
    if st is not None and st.word in ("finished", "crashed", "stalled"):
        series = loss if loss is not None else None
        last_x = float(series.x[-1]) if series is not None and len(series.x) else None
        if st.word == "crashed":
            add(series, last_x, "critical", "✗", f"crashed: {st.line}", f"упал: {st.line}")
        elif st.word == "finished":
            add(series, last_x, "ok", "■", "finished", "завершён")
        else:
            silent = fmt_duration(st.silence_s) if st.silence_s else ""
            add(series, last_x, "warning", "!", f"stalled: no record for {silent}", f"застрял: нет записей {silent}")
    for e in snap.events:
        crash_kind = e.kind in ("traceback", "error", "oom", "killed", "nccl_timeout")
        if crash_kind and st is not None and st.word == "crashed" and e.line == st.line:
            continue  # already shown as "crashed: <line>"
        sev = _EVENT_SEV.get(e.kind, "info")
        when = time.strftime("%H:%M:%S", time.localtime(e.arrival)) if e.arrival and opts.times else ""
        found.append(((e.arrival or math.inf, math.inf), Line(sev, SYMBOLS[sev], e.line, when)))
    found.sort(key=lambda kv: kv[0])
    return tuple(line for _, line in found)
