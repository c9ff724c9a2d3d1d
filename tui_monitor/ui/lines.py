"""The dashboard's status line, the verdict's reasons and the events, in words of the UI language."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from tui_monitor.core.analysis import Health
from tui_monitor.core.analysis.series import first_nonfinite
from tui_monitor.core.parse import Event
from tui_monitor.core.state import SeriesSnapshot
from tui_monitor.core.text.actions import action_text
from tui_monitor.core.text.fmt import fmt_duration, fmt_num
from tui_monitor.core.text.reasons import reason_text
from tui_monitor.core.text.words import label, verdict_word, word
from tui_monitor.ui.facts import DisplayOptions, RunFacts, severity_of
from tui_monitor.ui.model import SYMBOLS, Line, RunLine, Severity, StatusModel
from tui_monitor.ui.rows import total_epochs

__all__ = ["event_time", "present_runs", "present_events", "present_reasons", "present_status"]

_STATE_SEV: dict[str, Severity] = {
    "running": "ok",
    "following": "ok",
    "stalled": "warning",
    "finished": "ok",
    "crashed": "critical",
    "ended": "warning",
    "superseded": "info",
    "waiting": "warning",
    "reading": "info",
    "deleted": "warning",
    "directory": "warning",
    "not_regular": "warning",
    "unreadable": "critical",
    "error": "critical",
    "empty": "info",
    "lost": "warning",
    "connecting": "info",
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


def present_status(run: RunFacts, opts: DisplayOptions, now: float) -> StatusModel:
    """The status line: file and run state, position, rate, ETA and the verdict."""
    lang = opts.lang
    health = run.health
    prog = health.progress if health is not None else None
    state = health.state if health is not None else None
    file_state = run.file_state
    key = file_state
    text = word(file_state, lang)
    if file_state == "waiting" and run.dir_missing:
        text = label("waiting_no_dir", lang)
    if file_state == "following":
        key = "following"
        text = word("polling" if run.polling else "following", lang)
        if state is not None and state.word in ("stalled", "finished", "crashed", "ended", "superseded"):
            key = state.word
            text = word(state.word, lang)
            if state.word == "stalled" and state.silence_s:
                text += f" {fmt_duration(state.silence_s)}"
        elif run.history_skipped and not run.series:
            # --from-end: say why nothing shows, until the first record arrives.
            text += f" · {label('history_skipped', lang)}"
    elif file_state == "error":
        text = run.error or word("unreadable", lang)
    if run.remote and file_state != "error":
        text = f"{word('remote', lang)} · {text}"
    # no metric record yet: there is nothing to judge, whatever the detectors default to
    verdict: str = health.status if health is not None and run.series else "unknown"
    step = prog.step if prog is not None else run.step
    total = prog.total if prog is not None else run.total
    rate = prog.steps_per_s if prog is not None else run.rate
    eta = prog.eta_s if prog is not None else None
    catching = None
    if run.file_size and run.file_size - run.bytes_read > (1 << 20):
        catching = run.bytes_read / run.file_size
    run_epochs, estimated = total_epochs(run)
    return StatusModel(
        file=run.file,
        state=key,
        state_text=text,
        state_severity=_STATE_SEV.get(key, "info"),
        step=step if step is not None else run.step,
        total=total if total is not None else run.total,
        epoch=run.epoch if run.epoch is not None else run.epoch,
        total_epochs=run_epochs,
        total_epochs_estimated=estimated,
        rate=rate,
        elapsed_s=run.elapsed_s,
        eta_s=eta,
        verdict=verdict,
        verdict_text=verdict_word(verdict, lang),
        catching_up=catching,
        provisional=run.provisional,
        paused=opts.paused,
        run_index=run.run_index,
        run_count=run.run_count,
        writer=run.writer,
        earlier=run.earlier,
    )


# --- reasons and events ------------------------------------------------------------------


def event_time(e: Event, history_until: float) -> float | None:
    """When an event happened, as far as anyone knows: the log's own timestamp on its line
    (``Event.time``), else when it was read if that was live (after ``history_until``), else
    ``None`` (read from the file's history: the time trainmon read it says nothing)."""
    if e.time is not None:
        return e.time
    return e.arrival if e.arrival > history_until else None


def present_reasons(health: Health | None, lang: str) -> tuple[Line, ...]:
    """The verdict's reasons as lines in the analysis' order (most severe first, context last),
    in words of ``lang`` (the catalogue's); under each warning and critical reason, what to try
    (``→ set `max_grad_norm=1.0` ...``)."""
    out: list[Line] = []
    for r in health.reasons if health is not None else ():
        sev = severity_of(r.severity)
        out.append(Line(sev, SYMBOLS[sev], reason_text(r, lang)))
        action = action_text(r, lang)
        if action is not None:
            out.append(Line(sev, " ", f"→ {action}", note=True))
    return tuple(out)


def present_events(run: RunFacts, health: Health | None, opts: DisplayOptions) -> tuple[Line, ...]:
    """Events in time order: findings of the analysis with their step, then file/crash events.

    Findings: the warmup's end, each loss spike, the first NaN/inf of loss and grad_norm,
    each new best of the judged eval metric, overfitting, and the run's end (finished,
    stalled, crashed with its line, ended without finishing). Times are the arrival times of the points (hidden
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
        # Not a step: the point's epoch (a record ordinal means nothing to a person).
        if series.x_is_step:
            where = f"{label('step', lang)} {int(x)}"
        elif idx.size and math.isfinite(float(series.epoch[idx[0]])):
            where = f"{label('epoch', lang)} {fmt_num(float(series.epoch[idx[0]]), 3)}"
        else:
            where = ""
        if opts.times and t > run.history_until:  # read live: when it was written, give or take a poll
            where = f"{where} {time.strftime('%H:%M:%S', time.localtime(t))}".lstrip()
        return (t, ep), where

    def add(
        series: SeriesSnapshot | None, x: float | None, sev: Severity, symbol: str, text: str, **params: str
    ) -> None:
        """One event line: the catalogue's ``text`` label with ``params``, placed at ``x``."""
        key, where = at(series, x)
        found.append((key, Line(sev, symbol, label(text, lang).format(**params), where)))

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
            "ev_warmup_done",
            lr=fmt_num(lr.peak),
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
                "ev_loss_spike",
                ratio=ratio,
                value=fmt_num(v),
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
                "ev_first_nonfinite",
                value=bad_v,
                metric=name,
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
                "ev_new_best",
                metric=ev.metric,
                value=fmt_num(ev.best),
            )
        if ev.word == "overfitting":
            add(
                s,
                ev.best_x,
                "warning",
                "!",
                "ev_overfitting",
                metric=ev.metric,
            )
    st = health.state if health is not None else None
    if st is not None and st.word in ("finished", "crashed", "stalled", "ended"):
        series = loss if loss is not None else None
        last_x = float(series.x[-1]) if series is not None and len(series.x) else None
        if st.word == "crashed":
            add(series, last_x, "critical", "✗", "ev_crashed", line=st.line)
        elif st.word == "finished":
            add(series, last_x, "ok", "■", "ev_finished")
        elif st.word == "ended":  # the writer exited short of the last step, saying nothing
            add(series, last_x, "warning", "!", "ev_ended")
        else:
            silent = fmt_duration(st.silence_s) if st.silence_s else ""
            add(series, last_x, "warning", "!", "ev_stalled", silence=silent)
    for e in run.events:
        crash_kind = e.kind in ("traceback", "error", "oom", "killed", "nccl_timeout")
        if crash_kind and st is not None and st.word == "crashed" and e.line == st.line:
            continue  # already shown as "crashed: <line>"
        sev = _EVENT_SEV.get(e.kind, "info")
        stamp = event_time(e, run.history_until)
        when = time.strftime("%H:%M:%S", time.localtime(stamp)) if stamp is not None and opts.times else ""
        found.append(((e.arrival or math.inf, math.inf), Line(sev, SYMBOLS[sev], e.line, when)))
    found.sort(key=lambda kv: kv[0])
    return tuple(line for _, line in found)


_VERDICT_SYMBOL = {"healthy": "✓", "warning": "!", "critical": "✗"}


def present_runs(verdicts: Sequence[Health], shown: int, lang: str) -> list[RunLine]:
    """The runs list: each run's steps, how it ended and its verdict word.

    Args:
        verdicts: each run's verdict, oldest run first (``MonitorSnapshot.judge``).
        shown: the index (1-based) of the run on screen.
        lang: ``"en"`` or ``"ru"``.
    """
    out: list[RunLine] = []
    for i, h in enumerate(verdicts, start=1):
        p = h.progress
        steps = ""
        if p.step is not None:
            steps = label("runs_steps", lang).format(step=f"{p.step}/{p.total}" if p.total else p.step)
        out.append(
            RunLine(
                index=i,
                steps=steps,
                state=word(h.state.word, lang),
                verdict=h.status,
                verdict_text=verdict_word(h.status, lang),
                symbol=_VERDICT_SYMBOL.get(h.status, "·"),
                latest=i == len(verdicts),
                shown=i == shown,
            )
        )
    return out
