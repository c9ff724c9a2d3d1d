"""Present a monitor snapshot as a :class:`~tui_monitor.ui.model.DashboardModel`.

The monitor's analysis (``snapshot.health``) decides every verdict and core computes every
fact about the run (:mod:`tui_monitor.core.analysis.series`); this module only chooses
which points to draw (whole run or recent window, smoothed or not), orders the rows and
puts the findings into words of the UI language. Each kind of row has its presenter in
:data:`PRESENTERS`. No textual here.

Everything read from the snapshot is read in :func:`_read_run`, at the top: when the
snapshot changes shape, that is the one place to follow it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tui_monitor.core.analysis import Health, LrStatus
from tui_monitor.core.analysis.series import (
    Direction,
    endpoint_direction,
    first_nonfinite,
    nonfinite_count,
    whole_run,
)
from tui_monitor.core.analysis.smoothing import ema_debiased_by_distance
from tui_monitor.core.monitor import MonitorSnapshot
from tui_monitor.core.parse import Event
from tui_monitor.core.state import SeriesSnapshot
from tui_monitor.core.text.fmt import fmt_duration, fmt_num
from tui_monitor.core.text.reasons import reason_text
from tui_monitor.core.text.words import label, verdict_word, word
from tui_monitor.ui.model import (
    SYMBOLS,
    DashboardModel,
    Fact,
    Line,
    MetricRowModel,
    Severity,
    StatusModel,
)

RECENT_POINTS = 120
"""Points shown by the "recent" window (``w``)."""

SMOOTHING_WEIGHTS: tuple[float, ...] = (0.0, 0.6, 0.9, 0.99)
"""The weights ``s`` cycles through (0 = off); TensorBoard's debiased EMA."""

FIRST_ROWS = ("loss", "learning_rate", "grad_norm")
"""Rows always on top, in this order; eval rows and epoch follow, then the rest."""

_TREND_SYMBOL = {"decreasing": "▼", "plateau": "▬", "rising": "▲", "diverging": "✗", "unknown": "·"}
_TREND_SEV: dict[str, Severity] = {"decreasing": "ok", "plateau": "info", "rising": "warning", "diverging": "critical"}
_GRAD_SYMBOL = {"healthy": "✓", "exploding": "✗", "vanishing": "!", "zero": "✗", "nonfinite": "✗", "absent": "·"}
_LR_SYMBOL = {"warmup": "↗", "hold": "→", "decay": "↘", "finished": "■", "constant": "→"}
_DIRECTION_WORD: dict[Direction, tuple[str, str]] = {
    "flat": ("flat", "▬"),
    "falling": ("falling", "▼"),
    "rising": ("up", "▲"),
}
"""Word key and symbol of an unjudged metric's direction."""
_EVAL_WORD = {
    "improving": "improving",
    "flat": "flat",
    "worsening": "worse",
    "overfitting": "overfitting",
    "single": "best",
}
"""Word key of each eval finding (a single evaluation is the best so far)."""
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
class DisplayOptions:
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


# --- what the presenters read of a snapshot ----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Run:
    """The facts of one run the dashboard presents, read once from a snapshot.

    Attributes:
        version: the monitor version of the snapshot.
        series: stored series by key (``loss``, ``eval_loss``, ``loss@rank1``).
        health: the analysis' findings, or ``None`` before the first analysis.
        last_epoch: latest epoch of the main rank's records, or ``None``.
        tallied_nonfinite: NaN/inf values the run's tally counted, by series key.
        step / total: the logged global step and total steps, or ``None``.
        epoch: the logged epoch (status fallback), or ``None``.
        rate: logged steps per second, or ``None``.
        elapsed_s: logged seconds since the start, or ``None``.
        num_epochs: the banner's ``Num Epochs``, or ``None``.
        file: the log's file name.
        file_state: ``following``, ``waiting``, ``deleted``, ``error``...
        polling: the file is polled rather than watched.
        error: the read error's text, or ``None``.
        bytes_read / file_size: bytes read so far and the file's size.
        provisional: only the file's tail has been read yet.
        events: file and crash events, oldest first.
    """

    version: int
    series: Mapping[str, SeriesSnapshot]
    health: Health | None
    last_epoch: float | None
    tallied_nonfinite: Mapping[str, int]
    step: int | None
    total: int | None
    epoch: float | None
    rate: float | None
    elapsed_s: float | None
    num_epochs: int | None
    file: str
    file_state: str
    polling: bool
    error: str | None
    bytes_read: int
    file_size: int
    provisional: bool
    events: tuple[Event, ...]


def _read_run(snap: MonitorSnapshot) -> _Run:
    """Every field the dashboard reads of ``snap``, in one place."""
    run = snap.run
    progress = run.progress
    return _Run(
        version=snap.version,
        series=run.series,
        health=snap.health,
        last_epoch=progress.epoch,
        tallied_nonfinite={key: stats.nonfinite for key, stats in run.metrics.items()},
        step=progress.step,
        total=progress.total,
        epoch=progress.epoch,
        rate=progress.rate,
        elapsed_s=progress.elapsed_s,
        num_epochs=run.run_info.get("num_epochs"),
        file=snap.path.rsplit("/", 1)[-1],
        file_state=snap.file_state,
        polling=snap.mode == "poll",
        error=snap.error,
        bytes_read=snap.bytes_read,
        file_size=snap.file_size,
        provisional=snap.provisional,
        events=run.events,
    )


def _sev(value: str | None) -> Severity:
    """A finding's severity as a colour class (``info`` for anything else)."""
    if value in ("ok", "info", "warning", "critical"):
        return value  # type: ignore[return-value]
    return "info"


def _at(x: float | None, lang: str, x_is_step: bool = True) -> str:
    """``at step 25`` / ``на шаге 25`` (``at #3`` for record ordinals), ``""`` without ``x``."""
    if x is None or not math.isfinite(x):
        return ""
    if x_is_step:
        return label("at_step", lang).format(n=int(x))
    return label("at_record", lang).format(n=int(x) + 1)


def build_dashboard(snap: MonitorSnapshot, opts: DisplayOptions, *, now: float | None = None) -> DashboardModel:
    """Build the dashboard for one run.

    Args:
        snap: the monitor's snapshot.
        opts: the user's display options.
        now: wall-clock seconds for "time since" texts (default ``time.time()``).

    Returns:
        The frozen :class:`DashboardModel`.
    """
    lang = opts.lang
    now = time.time() if now is None else now
    run = _read_run(snap)
    rows = _rows(run, opts)
    status = _status(run, opts, now)
    reasons = _reasons(run.health, lang)
    events = _events(run, run.health, opts)
    return DashboardModel(run.version, status, tuple(rows), reasons, events, lang)


# --- rows --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Drawn:
    """One series as its row draws it.

    Attributes:
        name: the store key.
        series: the stored series.
        x: ``(n,) float64`` the drawn x (record ordinals from 1 when not steps).
        y: ``(n,) float64`` the drawn values, NaN/inf kept.
        fin: the finite values of ``y``.
        last / lo / hi: the latest drawn value, the finite min and max (``None`` if none).
        smoothed: ``(n,)`` the smoothed overlay at the user's weight, or ``None``.
        nonfinite: NaN/inf values of the series over the run.
    """

    name: str
    series: SeriesSnapshot
    x: np.ndarray
    y: np.ndarray
    fin: np.ndarray
    last: float | None
    lo: float | None
    hi: float | None
    smoothed: np.ndarray | None
    nonfinite: int


@dataclass(frozen=True, slots=True)
class _Look:
    """What a presenter says about a row: its word, symbol, colour, facts and sparkline rule."""

    word: str = ""
    symbol: str = ""
    severity: Severity = "info"
    facts: tuple[Fact, ...] = ()
    spark_agg: str = "mean"


Presenter = Callable[[_Drawn, Health | None, str], _Look]
"""``(drawn series, findings, lang) → look`` of one kind of row."""

RowKind = Literal["loss", "learning_rate", "grad_norm", "eval", "other"]
"""The kinds of metric rows, each with its own presenter."""


def _row_kind(s: SeriesSnapshot) -> RowKind:
    """Which presenter a series gets: the judged main-rank rows by name, eval rows, the rest."""
    if s.rank is None and s.metric in ("loss", "learning_rate", "grad_norm"):
        return s.metric  # type: ignore[return-value]
    if s.metric.startswith("eval_"):
        return "eval"
    return "other"


def _present_loss(d: _Drawn, health: Health | None, lang: str) -> _Look:
    """The loss trend of the analysis, the minimum and the smoothed last value."""
    t = health.loss_trend if health is not None else None
    word_, symbol = "", ""
    sev: Severity = "info"
    if t is not None and t.word != "unknown":
        word_, symbol, sev = word(t.word, lang), _TREND_SYMBOL.get(t.word, ""), _TREND_SEV.get(t.word, "info")
    elif len(d.y):
        # the trend test needs more points than a short run (DPO, a fresh start) has
        word_, symbol = word("few_points", lang), "·"
    facts = [Fact(label("min", lang), fmt_num(d.lo))]
    sm_last = health.loss_smoothed_last if health is not None else None
    if d.smoothed is not None and np.isfinite(d.smoothed[-1]):
        sm_last = float(d.smoothed[-1])  # the overlay on screen, at the user's weight
    if sm_last is not None:
        facts.append(Fact(label("smoothed", lang), fmt_num(sm_last)))
    return _Look(word_, symbol, sev, tuple(facts))


def _present_lr(d: _Drawn, health: Health | None, lang: str) -> _Look:
    """The LR phase in capitals, the schedule once past the warmup, and the peak."""
    lr: LrStatus | None = health.lr if health is not None else None
    if lr is None or lr.phase == "unknown":
        return _Look(facts=(Fact(label("peak", lang), fmt_num(d.hi)),) if d.hi is not None else ())
    phase = "done" if lr.phase == "finished" else lr.phase
    sched = lr.schedule if lr.schedule and lr.schedule != "unknown" and lr.phase != "warmup" else ""
    facts: list[Fact] = []
    if sched:
        facts.append(Fact(word(sched, lang)))
    if math.isfinite(lr.peak):
        facts.append(Fact(label("peak", lang), fmt_num(lr.peak), _at(lr.peak_x, lang, d.series.x_is_step)))
    return _Look(
        word(phase, lang).upper(),
        _LR_SYMBOL.get(lr.phase, ""),
        "critical" if lr.stuck_zero_x is not None else "ok",
        tuple(facts),
    )


def _present_grad(d: _Drawn, health: Health | None, lang: str) -> _Look:
    """The gradient finding, the median and the maximum; the sparkline keeps spikes."""
    g = health.grad if health is not None else None
    word_, symbol = "", ""
    sev: Severity = "info"
    if g is not None and g.word != "absent":
        word_, symbol, sev = word(g.word, lang), _GRAD_SYMBOL.get(g.word, ""), _sev(g.severity)
    med = float(np.median(d.fin)) if d.fin.size else None
    facts = (Fact(label("median", lang), fmt_num(med)), Fact(label("max", lang), fmt_num(d.hi)))
    return _Look(word_, symbol, sev, facts, spark_agg="max")


def _present_eval(d: _Drawn, health: Health | None, lang: str) -> _Look:
    """The judged eval metric: its finding (★ on a new best) and the best value; others: range."""
    ev = health.eval if health is not None else None
    if ev is not None and ev.metric == d.name and ev.n:
        is_best = d.last is not None and math.isfinite(d.last) and d.last == ev.best
        return _Look(
            word("best", lang) if is_best else word(_EVAL_WORD.get(ev.word, ev.word), lang),
            "★" if is_best else {"overfitting": "✗", "worsening": "▲", "improving": "▼"}.get(ev.word, "·"),
            "warning" if ev.word == "overfitting" else "ok" if is_best or ev.word == "improving" else "info",
            (Fact(label("best", lang), fmt_num(ev.best), _at(ev.best_x, lang, d.series.x_is_step)),),
        )
    return _Look(facts=_range_facts(d, lang))


def _present_other(d: _Drawn, health: Health | None, lang: str) -> _Look:
    """A metric no detector judges: its range and where it went (core's endpoint rule)."""
    direction = endpoint_direction(d.y)
    word_, symbol = ("", "") if direction is None else _DIRECTION_WORD[direction]
    return _Look(word(word_, lang) if word_ else "", symbol, facts=_range_facts(d, lang))


def _range_facts(d: _Drawn, lang: str) -> tuple[Fact, ...]:
    """``min … max …`` of the drawn values, none without a finite value."""
    if d.lo is None:
        return ()
    return (Fact(label("min", lang), fmt_num(d.lo)), Fact(label("max", lang), fmt_num(d.hi)))


PRESENTERS: Mapping[RowKind, Presenter] = {
    "loss": _present_loss,
    "learning_rate": _present_lr,
    "grad_norm": _present_grad,
    "eval": _present_eval,
    "other": _present_other,
}
"""The presenter of each kind of metric row (see :func:`_row_kind`); the epoch row, which
has no series of its own, is :func:`_epoch_row`."""

SMOOTHED_KINDS: frozenset[RowKind] = frozenset({"loss", "grad_norm", "other"})
"""Rows that get the smoothed overlay: an LR schedule and sparse evals are drawn raw."""


def _rows(run: _Run, opts: DisplayOptions) -> list[MetricRowModel]:
    """The rows in display order: loss, learning_rate, grad_norm, the quality evals (the
    judged one first), epoch, then every other series and the eval timings last."""
    lang = opts.lang
    names = list(run.series.keys())
    ordered: list[str] = [n for n in FIRST_ROWS if n in run.series]
    evals = [n for n in names if n.startswith("eval_") and n not in ordered and "@rank" not in n]
    judged = run.health.eval.metric if run.health is not None else None
    quality = [n for n in evals if not any(t in n for t in ("runtime", "per_second"))]
    quality.sort(key=lambda n: (n != judged, n != "eval_loss"))
    ordered += quality
    rest = [n for n in names if n not in ordered and n not in evals]
    rows: list[MetricRowModel] = []
    for name in ordered:
        rows.append(_row(name, run, opts))
    ep = _epoch_row(run, lang)
    if ep is not None:
        rows.append(ep)
    for name in rest + [n for n in evals if n not in quality]:
        rows.append(_row(name, run, opts))
    return rows


def _drawn(name: str, run: _Run, opts: DisplayOptions, smooth: bool) -> _Drawn:
    """The points of ``name`` the row draws, with the overlay when ``smooth`` and on."""
    s = run.series[name]
    if opts.whole:
        x, y = whole_run(s)
    else:
        x, y = s.x[-RECENT_POINTS:], s.y[-RECENT_POINTS:]
    if not s.x_is_step:
        x = x + 1.0  # record ordinals are shown from 1, as the analysis' texts number them
    fin = y[np.isfinite(y)]
    smoothed = None
    if smooth and opts.smoothing > 0 and fin.size >= 3:
        smoothed = ema_debiased_by_distance(x, y, opts.smoothing)
    return _Drawn(
        name=name,
        series=s,
        x=x,
        y=y,
        fin=fin,
        last=float(y[-1]) if len(y) else None,
        lo=float(fin.min()) if fin.size else None,
        hi=float(fin.max()) if fin.size else None,
        smoothed=smoothed,
        nonfinite=nonfinite_count(s, run.tallied_nonfinite.get(name, 0)),
    )


def _row(name: str, run: _Run, opts: DisplayOptions) -> MetricRowModel:
    """The row of series ``name``: its presenter's look, and ✗ critical when it ends non-finite."""
    kind = _row_kind(run.series[name])
    d = _drawn(name, run, opts, kind in SMOOTHED_KINDS)
    look = PRESENTERS[kind](d, run.health, opts.lang)
    word_, symbol, sev = look.word, look.symbol, look.severity
    if d.nonfinite and d.last is not None and not math.isfinite(d.last):
        sev = "critical"
        if not word_:
            word_, symbol = word("nan", opts.lang), "✗"
    return MetricRowModel(
        key=name,
        x=d.x,
        y=d.y,
        smoothed=d.smoothed,
        x_is_step=d.series.x_is_step,
        last=d.last,
        word=word_,
        symbol=symbol,
        severity=sev,
        facts=look.facts,
        nonfinite=d.nonfinite,
        spark_agg=look.spark_agg,
    )


def _step_progress(run: _Run) -> tuple[int | None, int | None]:
    """``(step, total)``: the progress estimate's, each falling back to the logged one."""
    prog = run.health.progress if run.health is not None else None
    step = (prog.step if prog is not None else None) or run.step
    total = (prog.total if prog is not None else None) or run.total
    return step, total


def _total_epochs(run: _Run) -> tuple[float | None, bool]:
    """The run's length in epochs and whether it is an estimate.

    Returns:
        ``(epochs, estimated)``: from ``epoch × total steps / step`` while the run is under
        way (an estimate that moves as the epoch counter advances; exact at the last step),
        else the banner's ``Num Epochs``; ``(None, False)`` when neither is known.
    """
    ep = run.last_epoch
    step, total = _step_progress(run)
    if ep and step and total:
        return ep * total / step, step < total
    n = run.num_epochs
    return (float(n), False) if n else (None, False)


def _epoch_row(run: _Run, lang: str) -> MetricRowModel | None:
    """The epoch row: the pass under way, the run's length in epochs and the step progress
    as a bar; ``None`` before any record states an epoch."""
    loss = run.series.get("loss")
    ep = run.last_epoch
    if ep is None:
        return None
    total_ep, estimated = _total_epochs(run)
    step, total = _step_progress(run)
    # The bar is the step progress (what the ETA counts), labelled so: an epoch bar would
    # need the planned epoch count, which the log only estimates.
    if step and total:
        frac, bar_label = min(step / total, 1.0), label("of_steps", lang)
    elif total_ep:
        frac, bar_label = min(ep / total_ep, 1.0), label("of_epochs", lang)
    else:
        frac, bar_label = ep - math.floor(ep), ""
    facts = (Fact(label("of", lang), f"{'≈' if estimated else ''}{fmt_num(total_ep, 3)}"),) if total_ep else ()
    x = loss.x if loss is not None else np.zeros(0)
    y = loss.epoch if loss is not None else np.zeros(0)
    if ep > 0 and float(ep).is_integer():
        in_pass = label("pass_done", lang).format(n=int(ep))  # at a boundary: the pass is done
    else:
        in_pass = label("in_pass", lang).format(pct=f"{(ep - math.floor(ep)) * 100:.0f}", n=math.floor(ep) + 1)
    return MetricRowModel(
        key="epoch",
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        last=ep,
        word=in_pass,
        symbol="◔",
        severity="info",
        facts=facts,
        progress=frac,
        progress_label=bar_label,
    )


# --- status ------------------------------------------------------------------------------


def _status(run: _Run, opts: DisplayOptions, now: float) -> StatusModel:
    """The status line: file and run state, position, rate, ETA and the verdict."""
    lang = opts.lang
    health = run.health
    prog = health.progress if health is not None else None
    state = health.state if health is not None else None
    file_state = run.file_state
    key = file_state
    text = word(file_state, lang)
    if file_state == "following":
        key = "following"
        text = word("polling" if run.polling else "following", lang)
        if state is not None and state.word in ("stalled", "finished", "crashed"):
            key = state.word
            text = word(state.word, lang)
            if state.word == "stalled" and state.silence_s:
                text += f" {fmt_duration(state.silence_s)}"
    elif file_state == "error":
        text = run.error or word("unreadable", lang)
    # no metric record yet: there is nothing to judge, whatever the detectors default to
    verdict: str = health.status if health is not None and run.series else "unknown"
    step = prog.step if prog is not None else run.step
    total = prog.total if prog is not None else run.total
    rate = prog.steps_per_s if prog is not None else run.rate
    eta = prog.eta_s if prog is not None else None
    catching = None
    if run.file_size and run.file_size - run.bytes_read > (1 << 20):
        catching = run.bytes_read / run.file_size
    total_epochs, estimated = _total_epochs(run)
    return StatusModel(
        file=run.file,
        state=key,
        state_text=text,
        state_severity=_STATE_SEV.get(key, "info"),
        step=step if step is not None else run.step,
        total=total if total is not None else run.total,
        epoch=run.last_epoch if run.last_epoch is not None else run.epoch,
        total_epochs=total_epochs,
        total_epochs_estimated=estimated,
        rate=rate if rate is not None else run.rate,
        elapsed_s=run.elapsed_s,
        eta_s=eta,
        verdict=verdict,
        verdict_text=verdict_word(verdict, lang),
        catching_up=catching,
        provisional=run.provisional,
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


def _events(run: _Run, health: Health | None, opts: DisplayOptions) -> tuple[Line, ...]:
    """Events in time order: findings of the analysis with their step, then file/crash events.

    Findings: the warmup's end, each loss spike, the first NaN/inf of loss and grad_norm,
    each new best of the judged eval metric, overfitting, and the run's end (finished,
    stalled, crashed with its line). Times are the arrival times of the points (hidden
    when ``opts.times`` is off, for fixed-state screenshots).
    """
    lang = opts.lang
    series_of = run.series
    found: list[tuple[tuple[float, float], Line]] = []

    def at(series: SeriesSnapshot | None, x: float | None) -> tuple[tuple[float, float], str]:
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

    def add(series: SeriesSnapshot | None, x: float | None, sev: Severity, symbol: str, en: str, ru: str) -> None:
        key, where = at(series, x)
        found.append((key, Line(sev, symbol, ru if lang == "ru" else en, where)))

    lr = health.lr if health is not None else None
    lrs = series_of.get("learning_rate")
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
    loss = series_of.get("loss")
    spikes = health.spikes if health is not None else None
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
        s = series_of.get(name)
        first_bad = first_nonfinite(s.y) if s is not None else None
        if s is not None and first_bad is not None:
            bad_v = fmt_num(float(s.y[first_bad]))
            add(
                s,
                float(s.x[first_bad]),
                "critical",
                "✗",
                f"first {bad_v} in {name}",
                f"первое значение {bad_v} в {name}",
            )
    ev = health.eval if health is not None else None
    if ev is not None and ev.metric and ev.metric in series_of and ev.direction:
        s = series_of[ev.metric]
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
    st = health.state if health is not None else None
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
    for e in run.events:
        crash_kind = e.kind in ("traceback", "error", "oom", "killed", "nccl_timeout")
        if crash_kind and st is not None and st.word == "crashed" and e.line == st.line:
            continue  # already shown as "crashed: <line>"
        sev = _EVENT_SEV.get(e.kind, "info")
        when = time.strftime("%H:%M:%S", time.localtime(e.arrival)) if e.arrival and opts.times else ""
        found.append(((e.arrival or math.inf, math.inf), Line(sev, SYMBOLS[sev], e.line, when)))
    found.sort(key=lambda kv: kv[0])
    return tuple(line for _, line in found)
