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

__all__ = ["event_time", "present_events", "present_reasons", "present_runs", "present_status", "raw_log_event"]

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
_CRASH_KINDS = ("traceback", "error", "oom", "killed", "nccl_timeout")
_RESET_KINDS = ("truncated", "rotated", "recreated")

LANDMARK_CRASH, LANDMARK_NONFINITE, LANDMARK_RESET = 3, 2, 1
"""How strongly an event calls for the raw log when no event is chosen (``Line.landmark``):
the crash line first (what ended the run), then the first NaN/inf, then a reset of the file
or a run's start."""


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
    the latest checkpoint saved, each new best of the judged eval metric, overfitting, and the
    run's end (finished, stalled, crashed with its line, ended without finishing). Times are the
    arrival times of the points (hidden when ``opts.times`` is off, for fixed-state screenshots).
    A run after the log's first starts with a line saying why it is a new run.

    Each line carries the byte offset of the log line that shows it (``Line.offset``: the
    record of a point, the crash or reset line, the run's first line), where the raw log opens
    for it; the crash line, the first NaN/inf, a reset and a run's start are landmarks
    (``Line.landmark``), where it opens when no event is chosen.
    """
    lang = opts.lang
    series_of = run.series
    found: list[tuple[tuple[float, float], Line]] = []

    def at(series: SeriesSnapshot | None, x: float | None) -> tuple[tuple[float, float], str, int]:
        """((arrival, epoch) sort key, "step N hh:mm:ss", byte offset) for point ``x`` of ``series``.

        Arrival times order events across series; the epoch breaks ties (a file read at
        once arrives all at the same time), since steps of eval and train ordinals differ.
        """
        if x is None or series is None or not math.isfinite(x):
            return (math.inf, math.inf), "", -1
        idx = np.flatnonzero(series.x == x)
        offset = int(series.offset[idx[0]]) if idx.size and len(series.offset) else -1
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
        return (t, ep), where, offset

    def add(
        series: SeriesSnapshot | None,
        x: float | None,
        sev: Severity,
        symbol: str,
        text: str,
        offset: int | None = None,
        landmark: int = 0,
        **params: str,
    ) -> None:
        """One event line: the catalogue's ``text`` label with ``params``, placed at ``x``; its
        offset is that point's record's unless ``offset`` is given."""
        key, where, at_offset = at(series, x)
        off = at_offset if offset is None else offset
        line = Line(sev, symbol, label(text, lang).format(**params), where, offset=off, landmark=landmark)
        found.append((key, line))

    if run.run_index > 1:  # why this is a new run, where it starts
        reason = label(f"run_reason_{run.start_reason}", lang)
        text = label("ev_run_start", lang).format(n=run.run_index, reason=reason)
        # Where the raw log opens only for an earlier run: the latest run's lines are at the end.
        mark = LANDMARK_RESET if run.earlier else 0
        found.append(((-math.inf, -math.inf), Line("info", "▶", text, offset=run.start_offset, landmark=mark)))

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
                offset=int(s.offset[first_bad]),  # that point's record, not the first at its x
                landmark=LANDMARK_NONFINITE,
                value=bad_v,
                metric=name,
            )
    ck = run.last_checkpoint
    if ck is not None and ck.step is not None:  # where training would resume from
        add(loss, float(ck.step), "info", SYMBOLS["info"], "ev_checkpoint", offset=ck.offset, path=ck.path)
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
            at_crash = _crash_start(run.events, st.offset)
            add(series, last_x, "critical", "✗", "ev_crashed", offset=at_crash, landmark=LANDMARK_CRASH, line=st.line)
        elif st.word == "finished":  # at the summary record (train_runtime)
            add(series, last_x, "ok", "■", "ev_finished", offset=run.end_offset)
        elif st.word == "ended":  # the writer exited short of the last step, saying nothing
            add(series, last_x, "warning", "!", "ev_ended", offset=run.end_offset)
        else:
            silent = fmt_duration(st.silence_s) if st.silence_s else ""
            add(series, last_x, "warning", "!", "ev_stalled", offset=run.end_offset, silence=silent)
    for e in run.events:
        crash_kind = e.kind in _CRASH_KINDS
        if crash_kind and st is not None and st.word == "crashed" and e.line == st.line:
            continue  # already shown as "crashed: <line>"
        sev = _EVENT_SEV.get(e.kind, "info")
        stamp = event_time(e, run.history_until)
        when = time.strftime("%H:%M:%S", time.localtime(stamp)) if stamp is not None and opts.times else ""
        mark = LANDMARK_CRASH if crash_kind else LANDMARK_RESET if e.kind in _RESET_KINDS else 0
        off = e.offset if e.in_file else -1
        found.append(
            ((e.arrival or math.inf, math.inf), Line(sev, SYMBOLS[sev], e.line, when, offset=off, landmark=mark))
        )
    # When they were read, then where in the file: lines read at once (a file's history) keep
    # the file's order, a crash in the middle of a resumed run included.
    found.sort(key=lambda kv: (kv[0][0], kv[1].offset if kv[1].offset >= 0 else math.inf, kv[0][1]))
    return tuple(line for _, line in found)


def _crash_start(events: Sequence[Event], offset: int) -> int:
    """Where the raw log opens for a crash whose closing line is at ``offset``: the start of
    the traceback that leads to it (the latest ``Traceback`` line at or before it), else the
    line itself; -1 when that line is no longer in the file."""
    at = next((e for e in events if e.offset == offset and e.kind in _CRASH_KINDS), None)
    if at is None or not at.in_file or offset < 0:
        return -1
    starts = [e.offset for e in events if e.kind == "traceback" and e.in_file and 0 <= e.offset <= offset]
    return max(starts) if starts else offset


def raw_log_event(events: Sequence[Line]) -> Line | None:
    """The event the raw log opens at when none is chosen: the strongest landmark that is in
    the file (the crash line, else the first NaN/inf, else a reset or a run's start; the
    earliest in the file among equals, the latest for resets and starts), or ``None`` (the
    raw log then opens at the end, following).

    Args:
        events: the events as presented (:func:`present_events`).
    """
    best: Line | None = None
    for line in events:
        if line.landmark <= 0 or line.offset < 0:
            continue
        if best is None or line.landmark > best.landmark:
            best = line
        elif line.landmark == best.landmark:
            later = line.offset > best.offset
            if later == (line.landmark == LANDMARK_RESET):
                best = line
    return best


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
