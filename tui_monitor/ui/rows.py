"""The metric rows of the dashboard: one presenter per kind of metric (:data:`PRESENTERS`),
the points to draw (whole run or recent window, smoothed or not), and the epoch row."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tui_monitor.core.analysis import Health, LrStatus
from tui_monitor.core.analysis.compare import aligned_baseline
from tui_monitor.core.analysis.series import Direction, endpoint_direction, nonfinite_count, whole_run
from tui_monitor.core.analysis.smoothing import ema_debiased_by_distance
from tui_monitor.core.state import SeriesSnapshot
from tui_monitor.core.text.fmt import fmt_num
from tui_monitor.core.text.words import label, word
from tui_monitor.ui.facts import DisplayOptions, RunFacts, place_label, severity_of
from tui_monitor.ui.model import Fact, MetricRowModel, Severity

__all__ = [
    "FIRST_ROWS",
    "PRESENTERS",
    "RECENT_POINTS",
    "SMOOTHING_WEIGHTS",
    "present_rows",
    "step_progress",
    "total_epochs",
]

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
    gap = health.gap if health is not None else None
    if gap is not None:
        # eval − train at the latest evaluation, and where it is going (the overfitting tell)
        facts.append(Fact(label("gap", lang), fmt_num(gap.gap), word(gap.trend, lang) if gap.trend else ""))
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
        facts.append(
            Fact(label("peak", lang), fmt_num(lr.peak), place_label(lr.peak_x, lang, d.series.x_is_step, d.series))
        )
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
        word_, symbol, sev = word(g.word, lang), _GRAD_SYMBOL.get(g.word, ""), severity_of(g.severity)
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
            (Fact(label("best", lang), fmt_num(ev.best), place_label(ev.best_x, lang, d.series.x_is_step, d.series)),),
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


def present_rows(run: RunFacts, opts: DisplayOptions) -> list[MetricRowModel]:
    """The rows in display order: loss, learning_rate, grad_norm, the quality evals (the
    judged one first), epoch, then every other series and the eval timings, then throughput."""
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
    # Derived from the logged rows' clock, after them: the logged metrics keep their places.
    tp = _throughput_row(run, lang)
    if tp is not None:
        rows.append(tp)
    return rows


def _drawn(name: str, run: RunFacts, opts: DisplayOptions, smooth: bool) -> _Drawn:
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


def _row(name: str, run: RunFacts, opts: DisplayOptions) -> MetricRowModel:
    """The row of series ``name``: its presenter's look, and ✗ critical when it ends non-finite."""
    kind = _row_kind(run.series[name])
    d = _drawn(name, run, opts, kind in SMOOTHED_KINDS)
    look = PRESENTERS[kind](d, run.health, opts.lang)
    base = run.baseline_series.get(name)
    under = aligned_baseline(run.series[name], base) if base is not None and len(base) else None
    if under is not None and not d.series.x_is_step:
        under = (under[0] + 1.0, under[1])  # on the drawn axis: record ordinals are shown from 1
    # The evaluations on the train loss's axes (their steps), where both x axes are steps.
    ev = run.series.get("eval_loss") if kind == "loss" and d.series.x_is_step else None
    marks = (ev.x, ev.y) if ev is not None and ev.x_is_step and len(ev) else None
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
        under_x=under[0] if under is not None else None,
        under_y=under[1] if under is not None else None,
        marks_x=marks[0] if marks is not None else None,
        marks_y=marks[1] if marks is not None else None,
        marks_label="eval_loss" if marks is not None else "",
    )


def step_progress(run: RunFacts) -> tuple[int | None, int | None]:
    """``(step, total)``: the progress estimate's, each falling back to the logged one."""
    prog = run.health.progress if run.health is not None else None
    step = (prog.step if prog is not None else None) or run.step
    total = (prog.total if prog is not None else None) or run.total
    return step, total


def total_epochs(run: RunFacts) -> tuple[float | None, bool]:
    """The run's length in epochs and whether it is an estimate.

    Returns:
        ``(epochs, estimated)``: ``epoch × total steps / epoch_step`` with the epoch and the
        step of the same record (the bar of a block-buffered log runs ahead of its records, so
        the bar's step would shrink the estimate); exact once that record is at the last step.
        Without such a record, the banner's ``Num Epochs``; ``(None, False)`` when neither is
        known.
    """
    ep, at = run.epoch, run.epoch_step
    step, total = step_progress(run)
    at = at or step  # no bar after the last record yet: it was printed under the bar's step
    if ep and at and total:
        return ep * total / at, at < total
    n = run.num_epochs
    return (float(n), False) if n else (None, False)


def _epoch_row(run: RunFacts, lang: str) -> MetricRowModel | None:
    """The epoch row: the pass under way, the run's length in epochs and the step progress
    as a bar; ``None`` before any record states an epoch."""
    loss = run.series.get("loss")
    ep = run.epoch
    if ep is None:
        return None
    total_ep, estimated = total_epochs(run)
    step, total = step_progress(run)
    # The bar is the step progress (what the ETA counts), labelled so: an epoch bar would
    # need the planned epoch count, which the log only estimates.
    if step and total:
        frac, bar_label = min(step / total, 1.0), label("of_steps", lang)
    elif total_ep:
        frac, bar_label = min(ep / total_ep, 1.0), label("of_epochs", lang)
    else:
        # The pass under way; at a whole epoch the pass is done (full), as its word says.
        done = ep > 0 and float(ep).is_integer()
        frac, bar_label = (1.0 if done else ep - math.floor(ep)), ""
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


def _throughput_row(run: RunFacts, lang: str) -> MetricRowModel | None:
    """The throughput row: tokens/s (steps/s without a token counter) per interval of the
    run's clock, a slowdown going on as a warning, steps/s, samples/s and tokens seen;
    ``None`` while no rate is known."""
    tp = run.health.throughput if run.health is not None else None
    if tp is None or not tp.known:
        return None
    tokens = tp.tokens_per_s is not None
    last = tp.tokens_per_s if tokens else tp.steps_per_s
    if last is None:
        last = tp.printed_tokens_per_s
        tokens = last is not None
    x, y = tp.x, tp.rate
    if not x.size and last is not None and run.step is not None:
        x, y = np.asarray([float(run.step)]), np.asarray([last])
    sd = tp.slowdown
    word_, symbol = "", ""
    sev: Severity = "info"
    if sd is not None and sd.ongoing:
        word_, symbol, sev = word("slowing", lang), "▼", "warning"
    facts: list[Fact] = []
    if tokens and tp.steps_per_s is not None:
        facts.append(Fact(label("steps_per_s", lang).format(n=fmt_num(tp.steps_per_s))))
    if tp.samples_per_s is not None:
        facts.append(Fact(label("samples_per_s", lang).format(n=fmt_num(tp.samples_per_s))))
    if tp.tokens_seen is not None:
        facts.append(Fact(label("tokens_seen", lang), fmt_num(tp.tokens_seen)))
    return MetricRowModel(
        key="tokens/s" if tokens else "steps/s",
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        last=last,
        word=word_,
        symbol=symbol,
        severity=sev,
        facts=tuple(facts),
    )
