"""The verdict: ``analyse(snapshot, progress, events, now) -> Health`` with ordered, bilingual reasons."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tui_monitor.core.analysis.evals import EvalStatus, eval_status, pick_eval_metric
from tui_monitor.core.analysis.grad import GradStatus, grad_status
from tui_monitor.core.analysis.lr import LrStatus, lr_status
from tui_monitor.core.analysis.progress import ProgressEstimate, estimate_progress
from tui_monitor.core.analysis.smoothing import ema_debiased, ema_debiased_by_distance
from tui_monitor.core.analysis.state import RunState, run_state
from tui_monitor.core.analysis.trend import Spikes, Trend, classify_trend, detect_spikes
from tui_monitor.core.state import RunSnapshot, SeriesSnapshot

_Add = Callable[["Reason"], None]

__all__ = ["Health", "Reason", "Severity", "Status", "analyse", "SEVERITY_ORDER"]

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
class Reason:
    """One finding, in plain words with numbers.

    Attributes:
        code: stable identifier (``loss_decreasing``, ``grad_nonfinite``...).
        severity: ``ok`` / ``info`` / ``warning`` / ``critical``.
        step: the step (or x) it refers to, or None.
        text_en: English sentence; text_ru: Russian sentence.
    """

    code: str
    severity: Severity
    step: int | None
    text_en: str
    text_ru: str


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


# -- formatting -----------------------------------------------------------------------------------


def _n(v: float) -> str:
    """A loss-like number with 3 significant digits, no exponent in the usual range."""
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a == 0:
        return "0"
    if 0.001 <= a < 1:
        return f"{v:.3g}"
    if 1 <= a < 10000:
        digits = max(0, 2 - int(math.floor(math.log10(a))))
        return f"{v:.{digits}f}"
    return f"{v:.2e}"


def _lr(v: float) -> str:
    return "0" if v == 0 else f"{v:.2e}"


def _pct(rel: float) -> str:
    p = round(rel * 100)
    return f"{'−' if p < 0 else '+'}{abs(p)} %"


def _dur(s: float, ru: bool = False) -> str:
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if ru:
        if h:
            return f"{h} ч {m:02d} мин"
        return f"{m} мин {sec:02d} с" if m else f"{sec} с"
    if h:
        return f"{h}h {m:02d}m"
    return f"{m}m {sec:02d}s" if m else f"{sec}s"


def _step(x: float | None, is_step: bool) -> int | None:
    if x is None or not math.isfinite(x) or not is_step:
        return None
    return int(x)


def _at(x: float | None, is_step: bool, ru: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return ""
    if is_step:
        return f" на шаге {int(x)}" if ru else f" at step {int(x)}"
    return f" в записи #{int(x) + 1}" if ru else f" at record #{int(x) + 1}"


# -- helpers --------------------------------------------------------------------------------------


def _whole(s: SeriesSnapshot) -> tuple[np.ndarray, np.ndarray]:
    """Whole-run x/y: the decimated history before the ring, then the ring."""
    if s.count <= len(s) or s.hist_x.size == 0 or s.x.size == 0:
        return s.x, s.y
    older = s.hist_x < s.x[0]
    return np.concatenate([s.hist_x[older], s.x]), np.concatenate([s.hist_y[older], s.y])


def _aligned_last(snap: RunSnapshot, names: Sequence[str], k: int) -> list[np.ndarray] | None:
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


def _topic(code: str) -> int:
    head = code.split("_", 1)[0]
    return _TOPIC_ORDER.index(head) if head in _TOPIC_ORDER else len(_TOPIC_ORDER)


def _sort(reasons: list[Reason]) -> tuple[Reason, ...]:
    """Most severe first; then loss, rewards, gradients, LR, eval, run state, epoch."""
    return tuple(sorted(reasons, key=lambda r: (SEVERITY_ORDER[r.severity], _topic(r.code))))


# -- the entry point ------------------------------------------------------------------------------


def analyse(snap: RunSnapshot, now: float | None = None) -> Health:
    """Read a store snapshot like an experienced engineer and give the verdict with its reasons.

    Runs every detector (loss trend + spikes, grad_norm, LR phase/schedule, eval, progress,
    run state) on the main rank's series (``loss``, ``grad_norm``, ``learning_rate``,
    ``eval_*``) and turns their results into :class:`Reason` items. ``status`` is ``critical``
    if any reason is critical, ``warning`` if any is a warning, else ``healthy``.

    Args:
        snap: the run (:class:`~tui_monitor.core.state.RunSnapshot`): its series, progress
            and events (crash evidence).
        now: current wall-clock seconds for stall detection; None (reports) disables it.

    Returns:
        :class:`Health`. Never raises on odd data (empty store, all-NaN series).
    """
    info = snap.progress
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
                    _step(x[-1], is_step),
                    f"loss is {y[-1]}{_at(x[-1], is_step)}: training has diverged",
                    f"loss равен {y[-1]}{_at(x[-1], is_step, True)}: обучение разошлось",
                )
            )
        elif bad.size:
            add(
                Reason(
                    "loss_nonfinite",
                    "warning",
                    _step(x[bad[0]], is_step),
                    f"loss was {y[bad[0]]}{_at(x[bad[0]], is_step)} ({bad.size}×), finite since",
                    f"loss был {y[bad[0]]}{_at(x[bad[0]], is_step, True)} ({bad.size}×), дальше конечен",
                )
            )
        if zero_by_design:
            add(
                Reason(
                    "loss_zero_expected",
                    "info",
                    None,
                    "loss is 0 on every record: normal for GRPO (the loss is ~0 by construction); "
                    "watch reward and kl instead",
                    "loss равен 0 во всех записях: для GRPO это нормально (loss ≈ 0 по построению); "
                    "следите за reward и kl",
                )
            )
            rw = snap.get("reward")
            if rw is not None and len(rw) >= 3:
                rt = classify_trend(rw.x, rw.y)
                word_en = {
                    "decreasing": "falling",
                    "plateau": "flat",
                    "rising": "rising",
                    "diverging": "rising fast",
                }.get(rt.word, "unclear")
                word_ru = {
                    "decreasing": "падает",
                    "plateau": "стоит",
                    "rising": "растёт",
                    "diverging": "быстро растёт",
                }.get(rt.word, "неясно")
                add(
                    Reason(
                        "reward_trend",
                        "info",
                        None,
                        f"reward {word_en}: {_n(rt.start)} → {_n(rt.end)}",
                        f"reward {word_ru}: {_n(rt.start)} → {_n(rt.end)}",
                    )
                )
        else:
            wx, wy = _whole(loss)
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
                            _step(spikes.x[k], is_step),
                            f"loss spike{_at(spikes.x[k], is_step)}: {_n(spikes.baseline[k])} → {_n(spikes.values[k])}",
                            f"всплеск loss{_at(spikes.x[k], is_step, True)}: {_n(spikes.baseline[k])} → "
                            f"{_n(spikes.values[k])}",
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
                        f"DPO looks degenerate: loss {_n(float(lz[j]))} with rewards/accuracies "
                        f"{_n(float(acc[j]))} and rewards/margins {_n(float(mar[j]))} ({int(deg.sum())} "
                        "recent records): the policy separates pairs trivially (check β, data, "
                        "reference model)",
                        f"DPO вырождается: loss {_n(float(lz[j]))} при rewards/accuracies "
                        f"{_n(float(acc[j]))} и rewards/margins {_n(float(mar[j]))} ({int(deg.sum())} "
                        "последних записей): модель тривиально разделяет пары (проверьте β, данные, "
                        "референсную модель)",
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
        has_any_eval=bool(snap.records.get("eval", 0)),
        has_loss=snap.get("eval_loss") is not None,
    )
    _eval_reasons(add, ev, em.x_is_step if em is not None else True)

    # -- progress and state ----------------------------------------------------------------------
    pr = estimate_progress(
        info, loss.x if loss is not None else None, loss.t if loss is not None else None, is_step, info.epoch
    )
    finished_marker = False
    pc = snap.get("percentage")
    if pc is not None and len(pc) and float(np.nanmax(pc.y[-1:])) >= 100.0:
        finished_marker = True
    st = run_state(
        has_records=bool(snap.series) or snap.summary_offset is not None,
        last_record_offset=snap.last_record_offset,
        summary_offset=snap.summary_offset,
        at_total=pr.at_total,
        finished_marker=finished_marker,
        events=snap.events,
        arrivals=snap.arrivals,
        last_activity=info.last_activity,
        now=now,
    )
    _state_reasons(add, st, pr, snap)

    # -- epoch -----------------------------------------------------------------------------------
    if loss is not None and len(loss):
        ep = loss.epoch[np.isfinite(loss.epoch)]
        if ep.size >= 2 and ep[-1] > ep[0]:
            if st.word == "finished":
                add(
                    Reason(
                        "epoch_advancing",
                        "ok",
                        None,
                        f"epochs done: {ep[0]:.2f} → {ep[-1]:.2f}",
                        f"пройдено эпох: {ep[0]:.2f} → {ep[-1]:.2f}",
                    )
                )
            else:
                add(
                    Reason(
                        "epoch_advancing",
                        "ok",
                        None,
                        f"epoch is advancing: {ep[0]:.2f} → {ep[-1]:.2f}",
                        f"эпоха растёт: {ep[0]:.2f} → {ep[-1]:.2f}",
                    )
                )

    ordered = _sort(reasons)
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


def _loss_reasons(add: _Add, trend: Trend, recent: Trend, dpo: bool, warmup: bool, low: float = math.nan) -> None:
    s, e = trend.start, trend.end
    chg = (e - s) / abs(s) if math.isfinite(s) and s != 0 and math.isfinite(e) else 0.0
    if trend.word == "unknown":
        if 0 < trend.n < 3:
            add(
                Reason(
                    "loss_few_points",
                    "info",
                    None,
                    f"loss {_n(s)} → {_n(e)} ({trend.n} point{'s' if trend.n > 1 else ''}): too few to judge",
                    f"loss {_n(s)} → {_n(e)} (точек: {trend.n}): слишком мало, чтобы судить",
                )
            )
        elif trend.n:
            add(
                Reason(
                    "loss_unclear",
                    "info",
                    None,
                    f"loss has no clear trend yet: {_n(s)} → {_n(e)} over {trend.n} noisy points",
                    f"у loss пока нет явного тренда: {_n(s)} → {_n(e)} за {trend.n} шумных точек",
                )
            )
        return
    if recent.word == "diverging" or trend.word == "diverging":
        t = recent if recent.word == "diverging" else trend
        if math.isfinite(low) and low > 0 and low < t.start and t.end > low:
            # It fell first, then blew up: say both, the fit of a V means little.
            add(
                Reason(
                    "loss_diverging",
                    "critical",
                    None,
                    f"loss is diverging: it fell {_n(t.start)} → {_n(low)}, now {_n(t.end)} (×{t.end / low:.1f})",
                    f"loss расходится: снизился {_n(t.start)} → {_n(low)}, теперь {_n(t.end)} (×{t.end / low:.1f})",
                )
            )
        else:
            add(
                Reason(
                    "loss_diverging",
                    "critical",
                    None,
                    f"loss is diverging: {_n(t.start)} → {_n(t.end)} ({_pct(t.rel_change)} fitted)",
                    f"loss расходится: {_n(t.start)} → {_n(t.end)} ({_pct(t.rel_change)} по тренду)",
                )
            )
        return
    if trend.word == "rising" or recent.word == "rising":
        t = trend if trend.word == "rising" else recent
        where_en = "over the run" if t is trend else "recently"
        where_ru = "за весь прогон" if t is trend else "в последнее время"
        add(
            Reason(
                "loss_rising",
                "warning",
                None,
                f"loss is rising {where_en}: {_n(t.start)} → {_n(t.end)} ({_pct(t.rel_change)} fitted)",
                f"loss растёт {where_ru}: {_n(t.start)} → {_n(t.end)} ({_pct(t.rel_change)} по тренду)",
            )
        )
        if trend.word == "decreasing":
            add(
                Reason(
                    "loss_decreasing",
                    "ok",
                    None,
                    f"over the whole run loss fell {_n(s)} → {_n(e)} ({_pct(chg)})",
                    f"за весь прогон loss снизился {_n(s)} → {_n(e)} ({_pct(chg)})",
                )
            )
        return
    if trend.word == "decreasing" or recent.word == "decreasing":
        add(
            Reason(
                "loss_decreasing",
                "ok",
                None,
                f"loss fell {_n(s)} → {_n(e)} ({_pct(chg)})",
                f"loss снизился {_n(s)} → {_n(e)} ({_pct(chg)})",
            )
        )
        if trend.word == "decreasing" and recent.word == "plateau" and recent is not trend:
            add(
                Reason(
                    "loss_flattening",
                    "info",
                    None,
                    f"loss has levelled off recently near {_n(recent.end)}",
                    f"в последнее время loss выровнялся около {_n(recent.end)}",
                )
            )
        return
    # Whole run and recent window flat.
    fit = _pct(trend.rel_change)
    if warmup:
        add(
            Reason(
                "loss_plateau",
                "info",
                None,
                f"loss is flat near {_n(e)} over {trend.n} points (fitted {fit}) during LR warmup: "
                "expected while the LR is small",
                f"loss стоит около {_n(e)} уже {trend.n} точек (по тренду {fit}) во время разогрева LR: "
                "ожидаемо, пока LR мал",
            )
        )
        return
    sev: Severity = "info" if dpo else "warning"
    add(
        Reason(
            "loss_plateau",
            sev,
            None,
            f"loss is flat near {_n(e)} over {trend.n} points (fitted {fit}): the model is not learning",
            f"loss стоит около {_n(e)} уже {trend.n} точек (по тренду {fit}): модель не учится",
        )
    )


def _grad_reasons(add: _Add, g: GradStatus, s: SeriesSnapshot) -> None:
    st = s.x_is_step
    if g.word == "nonfinite":
        if g.nonfinite_at_end:
            step_x = float(s.x[-1])
            extra_en = (
                (
                    " while loss is still finite: logging_nan_inf_filter hides NaN losses, "
                    "so the model has likely diverged"
                )
                if g.loss_finite_at_end
                else ""
            )
            extra_ru = (
                (" при конечном loss: logging_nan_inf_filter скрывает NaN в loss, модель, скорее всего, разошлась")
                if g.loss_finite_at_end
                else ""
            )
            add(
                Reason(
                    "grad_nonfinite",
                    "critical",
                    _step(step_x, st),
                    f"grad_norm is {s.y[-1]}{_at(step_x, st)}{extra_en}",
                    f"grad_norm равен {s.y[-1]}{_at(step_x, st, True)}{extra_ru}",
                )
            )
        else:
            fx = g.first_nonfinite_x
            add(
                Reason(
                    "grad_nonfinite",
                    "warning",
                    _step(fx, st),
                    f"grad_norm was non-finite{_at(fx, st)} ({g.nonfinite_count}×), finite since (near {_n(g.level)})",
                    f"grad_norm был не конечен{_at(fx, st, True)} ({g.nonfinite_count}×), дальше "
                    f"конечен (около {_n(g.level)})",
                )
            )
    elif g.word == "zero":
        add(
            Reason(
                "grad_zero",
                g.severity,
                _step(float(s.x[-1]), st),  # type: ignore[arg-type]
                "grad_norm is exactly 0: no gradient reaches the weights (frozen model, "
                "detached loss, or no trainable parameters)",
                "grad_norm ровно 0: градиент не доходит до весов (замороженная модель, "
                "оторванный loss или нет обучаемых параметров)",
            )
        )
    elif g.word == "exploding":
        ref = g.reference if g.reference > 0 else g.start
        f = g.level / ref if ref > 0 else math.inf
        add(
            Reason(
                "grad_exploding",
                "critical",
                _step(float(s.x[-1]), st),
                f"grad_norm is exploding: {_n(g.level)}, {f:.0f}× its usual {_n(ref)}",
                f"grad_norm взрывается: {_n(g.level)}, в {f:.0f} раз выше обычного {_n(ref)}",
            )
        )
    elif g.word == "vanishing":
        add(
            Reason(
                "grad_vanishing",
                "warning",
                _step(float(s.x[-1]), st),
                f"grad_norm is vanishing: {_n(g.level)}, down from {_n(g.start)}",
                f"grad_norm затухает: {_n(g.level)}, было {_n(g.start)}",
            )
        )
    elif g.word == "healthy":
        add(
            Reason(
                "grad_ok",
                "ok",
                None,
                f"grad_norm stable near {_n(g.level)}",
                f"grad_norm стабилен, около {_n(g.level)}",
            )
        )


_SCHED_RU = {
    "linear": "линейный",
    "cosine": "косинусный",
    "constant": "постоянный",
    "constant_with_warmup": "постоянный с разогревом",
    "warmup_stable_decay": "WSD",
    "cosine_with_restarts": "косинус с рестартами",
    "inverse_sqrt": "обратный корень",
}


def _lr_reasons(add: _Add, lr: LrStatus, is_step: bool) -> None:
    sched_en = f" ({lr.schedule})" if lr.schedule != "unknown" else ""
    sched_ru = f" ({_SCHED_RU.get(lr.schedule, lr.schedule)})" if lr.schedule != "unknown" else ""
    warm = lr.warmup_end_x is not None
    if lr.phase == "warmup":
        add(
            Reason(
                "lr_warmup",
                "ok",
                None,
                f"LR warming up: {_lr(lr.first)} → {_lr(lr.last)}",
                f"LR в разогреве: {_lr(lr.first)} → {_lr(lr.last)}",
            )
        )
    elif lr.phase == "hold":
        add(
            Reason(
                "lr_hold",
                "ok",
                _step(lr.warmup_end_x, is_step),
                f"LR warmed up to {_lr(lr.peak)}{_at(lr.warmup_end_x, is_step)} and holds there{sched_en}",
                f"LR разогрет до {_lr(lr.peak)}{_at(lr.warmup_end_x, is_step, True)} и держится{sched_ru}",
            )
        )
    elif lr.phase == "constant":
        add(Reason("lr_constant", "ok", None, f"LR constant at {_lr(lr.peak)}", f"LR постоянный: {_lr(lr.peak)}"))
    elif lr.phase == "decay":
        if warm:
            en = f"LR warmed up to {_lr(lr.peak)} and is now decaying{sched_en}: {_lr(lr.last)}"
            ru = f"LR разогрет до {_lr(lr.peak)} и теперь снижается{sched_ru}: {_lr(lr.last)}"
        else:
            en = f"LR decaying{sched_en}: {_lr(lr.peak)} → {_lr(lr.last)}"
            ru = f"LR снижается{sched_ru}: {_lr(lr.peak)} → {_lr(lr.last)}"
        add(Reason("lr_decay", "ok", None, en, ru))
    elif lr.phase == "finished":
        add(
            Reason(
                "lr_finished",
                "ok",
                None,
                f"LR decayed from its peak {_lr(lr.peak)} to {_lr(lr.last)}: end of the schedule{sched_en}",
                f"LR снизился с пика {_lr(lr.peak)} до {_lr(lr.last)}: расписание завершено{sched_ru}",
            )
        )
    if lr.stuck_zero_x is not None:
        add(
            Reason(
                "lr_stuck_zero",
                "warning",
                _step(lr.stuck_zero_x, is_step),
                f"LR is stuck at 0{_at(lr.stuck_zero_x, is_step)} mid-run: the weights do not move",
                f"LR застрял на 0{_at(lr.stuck_zero_x, is_step, True)} посреди обучения: веса не меняются",
            )
        )


def _eval_reasons(add: _Add, ev: EvalStatus, is_step: bool) -> None:
    m = ev.metric or "eval"
    bx = _at(ev.best_x, is_step)
    bx_ru = _at(ev.best_x, is_step, True)
    if ev.word == "improving":
        add(
            Reason(
                "eval_improving",
                "ok",
                _step(ev.best_x, is_step),
                f"{m} improving: {_n(ev.first)} → {_n(ev.last)} (best {_n(ev.best)}{bx})",
                f"{m} улучшается: {_n(ev.first)} → {_n(ev.last)} (лучший {_n(ev.best)}{bx_ru})",
            )
        )
    elif ev.word == "overfitting":
        add(
            Reason(
                "eval_overfitting",
                "warning",
                _step(ev.best_x, is_step),
                f"overfitting: {m} rose {ev.rises} evaluations in a row since its best {_n(ev.best)}{bx} "
                f"(now {_n(ev.last)}) while train loss keeps falling",
                f"переобучение: {m} растёт {ev.rises} оценки подряд после лучшего {_n(ev.best)}{bx_ru} "
                f"(сейчас {_n(ev.last)}), а train loss продолжает падать",
            )
        )
    elif ev.word == "flat":
        add(
            Reason(
                "eval_flat",
                "info",
                None,
                f"{m} flat: {_n(ev.first)} → {_n(ev.last)}",
                f"{m} не меняется: {_n(ev.first)} → {_n(ev.last)}",
            )
        )
    elif ev.word == "worsening":
        add(
            Reason(
                "eval_worsening",
                "info",
                None,
                f"{m} worse than at the start: {_n(ev.first)} → {_n(ev.last)} (best {_n(ev.best)}{bx})",
                f"{m} хуже, чем в начале: {_n(ev.first)} → {_n(ev.last)} (лучший {_n(ev.best)}{bx_ru})",
            )
        )
    elif ev.word == "single":
        add(
            Reason(
                "eval_single",
                "info",
                None,
                f"one evaluation so far: {m} {_n(ev.last)}",
                f"пока одна оценка: {m} {_n(ev.last)}",
            )
        )
    elif ev.word == "no_loss":
        add(Reason("eval_no_loss", "info", None, "evaluations report no loss", "оценки не сообщают loss"))


def _state_reasons(add: _Add, st: RunState, pr: ProgressEstimate, snap: RunSnapshot) -> None:
    where_en = where_ru = ""
    if pr.step is not None:
        if pr.total:
            pct = f" ({100 * (pr.fraction or 0):.0f} %)"
            where_en = f"step {pr.step}/{pr.total}{pct}"
            where_ru = f"шаг {pr.step}/{pr.total}{pct}"
        else:
            where_en, where_ru = f"step {pr.step}", f"шаг {pr.step}"
    if st.word == "crashed":
        add(Reason("run_crashed", "critical", pr.step, f"crashed: {st.line}", f"упал: {st.line}"))
    elif st.word == "finished":
        summ = snap.summaries.get(None) or next(iter(snap.summaries.values()), None)
        rt = summ.get("train_runtime") if summ else None
        tail_en = f", train_runtime {_dur(rt)}" if rt else ""
        tail_ru = f", train_runtime {_dur(rt, True)}" if rt else ""
        why_en = {
            "summary": "summary record",
            "step==total": "last step reached",
            "final line": "final line at 100 %",
        }.get(st.why, st.why)
        why_ru = {
            "summary": "итоговая запись",
            "step==total": "достигнут последний шаг",
            "final line": "финальная строка 100 %",
        }.get(st.why, st.why)
        add(
            Reason(
                "run_finished",
                "ok",
                pr.step,
                f"finished ({why_en}{tail_en}){': ' + where_en if where_en else ''}",
                f"завершён ({why_ru}{tail_ru}){': ' + where_ru if where_ru else ''}",
            )
        )
    elif st.word == "stalled":
        # A usual interval under a second is a catch-up burst, not a training rhythm: not said.
        usual = st.median_interval_s if st.median_interval_s and st.median_interval_s >= 1 else None
        usual_en = f" (usual interval {_dur(usual)})" if usual else ""
        usual_ru = f" (обычно {_dur(usual, True)})" if usual else ""
        add(
            Reason(
                "run_stalled",
                "warning",
                pr.step,
                f"stalled: no new record for {_dur(st.silence_s or 0)}{usual_en}",
                f"застрял: нет новых записей {_dur(st.silence_s or 0, True)}{usual_ru}",
            )
        )
    elif st.word == "running":
        rate_en = rate_ru = ""
        if pr.steps_per_s:
            rate_en = rate_ru = (
                f", {pr.steps_per_s:.3g} steps/s" if pr.steps_per_s >= 0.1 else f", {1 / pr.steps_per_s:.3g} s/step"
            )
            rate_ru = rate_ru.replace("steps/s", "шаг/с").replace("s/step", "с/шаг")
        eta_en = f", ETA {_dur(pr.eta_s)}" if pr.eta_s is not None else ""
        eta_ru = f", осталось ~{_dur(pr.eta_s, True)}" if pr.eta_s is not None else ""
        add(
            Reason(
                "run_running",
                "ok",
                pr.step,
                f"running{': ' + where_en if where_en else ''}{rate_en}{eta_en}",
                f"идёт{': ' + where_ru if where_ru else ''}{rate_ru}{eta_ru}",
            )
        )
    else:
        add(
            Reason("run_waiting", "info", None, "waiting for the first metric record", "ждём первую запись с метриками")
        )
