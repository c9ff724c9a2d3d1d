"""Which changes become a message, and how often: the notification decision, pure (time is given).

:class:`NotifyPolicy` reads the :class:`~tui_monitor.core.changes.Change` items of one followed
log (the ones the headless ``-- verdict`` lines come from) and decides the messages:

- the verdict turning ``warning`` or ``critical`` (the most severe reason), and recovering to
  ``healthy`` from either;
- the run finishing, crashing, ending without finishing, or stalling;
- a new run starting while the log is followed;
- at most one message per change: a change that moves the verdict and ends the run at once is
  one message, said as the end;
- every message leads with the verdict's top reason and its action; a run that reached an end
  (stalled, ended...) is said beside it (a NaN loss stays the news when the run then stalls).

A verdict that flaps (more than :data:`FLAP_MAX` verdict messages within
:data:`FLAP_WINDOW_S`) is said once as ``flapping``; further verdict changes are held until it
has been steady for a whole window, then the verdict at that time is said if it differs from
the last one said. A turn to ``critical`` is never held. Ends of the run and new runs are
never held (each happens once). Nothing is said about what the file held when following
started unless its verdict is already a warning or critical.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tui_monitor.core.changes import Change
from tui_monitor.core.monitor import MonitorSnapshot
from tui_monitor.core.text import fmt_duration, label, reason_text, verdict_word, word
from tui_monitor.core.text.actions import action_text
from tui_monitor.core.text.inert import inert

__all__ = ["FLAP_MAX", "FLAP_WINDOW_S", "NotifyEvent", "NotifyPolicy"]

FLAP_MAX = 3
"""Verdict messages allowed within :data:`FLAP_WINDOW_S`; the next change is said as flapping."""

FLAP_WINDOW_S = 600.0
"""Seconds of the flapping window, and how long a flapping verdict must stay put to be said again."""

_FINAL = ("finished", "crashed", "ended")
"""Run ends that happen once: never held by the rate limit."""


@dataclass(frozen=True, slots=True)
class NotifyEvent:
    """One message to send, already in words (``lang``) and as facts.

    Attributes:
        event: ``warning``, ``critical``, ``recovered``, ``finished``, ``crashed``, ``ended``,
            ``stalled``, ``run_started``, ``flapping`` or ``settled``.
        file: the followed path as given.
        run: the run's index (1-based).
        status: the verdict: ``healthy`` / ``warning`` / ``critical``.
        state: the run state (``running``, ``finished``...).
        code: the verdict's top reason's code (``grad_nonfinite``), or None.
        reason: the top reason's sentence, or ``""``: every message leads with it.
        action: what to try for the top reason (warning and critical ones), or None.
        step / total: global step and total steps, each None when unknown.
        host: the machine's name (the title says it).
        time: wall-clock seconds when it was decided.
        title: the message's title: ``trainmon@host: CRITICAL train.log``.
        body: the message: file, run, verdict word, the reason, the run state's sentence,
            step/total, the action.
        state_reason: for a run that reached an end (``stalled``, ``finished``...), the run
            state's sentence when it is not the top reason itself, else ``""``.
    """

    event: str
    file: str
    run: int
    status: str
    state: str
    code: str | None
    reason: str
    action: str | None
    step: int | None
    total: int | None
    host: str
    time: float
    title: str = ""
    body: str = ""
    state_reason: str = ""

    def as_json(self) -> dict[str, Any]:
        """The event as the JSON object ``--notify-cmd`` reads on its stdin (``"type": "notify"``)."""
        return {
            "type": "notify",
            "event": self.event,
            "file": self.file,
            "run": self.run,
            "status": self.status,
            "state": self.state,
            "code": self.code,
            "reason": self.reason,
            "state_reason": self.state_reason,
            "action": self.action,
            "step": self.step,
            "total": self.total,
            "host": self.host,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.time)),
            "title": self.title,
            "message": self.body,
        }


@dataclass
class _Flaps:
    """The rate limit's memory: when verdict messages were sent, and the hold."""

    sent: deque[float] = field(default_factory=deque)
    held_until: float | None = None


class NotifyPolicy:
    """The notification decision for one followed log (see the module docstring).

    Args:
        path: the log as given (said in every message).
        host: the machine's name for the title.
        lang: ``"en"`` or ``"ru"``.
        flap_max / flap_window_s: the rate limit (defaults :data:`FLAP_MAX`, :data:`FLAP_WINDOW_S`).
    """

    def __init__(
        self,
        path: str,
        host: str,
        lang: str = "en",
        *,
        flap_max: int = FLAP_MAX,
        flap_window_s: float = FLAP_WINDOW_S,
    ) -> None:
        self.path = path
        self.host = host
        self.lang = lang
        self.flap_max = flap_max
        self.flap_window_s = flap_window_s
        self._told: str | None = None  # the verdict the last message said (or the baseline)
        self._baseline = False
        self._flaps = _Flaps()
        self._last: Change | None = None  # the latest verdict/end change seen (for a held verdict)

    def decide(self, changes: list[Change], snap: MonitorSnapshot, now: float, wall: float) -> list[NotifyEvent]:
        """The messages for one observation.

        Args:
            changes: what :meth:`ChangeDetector.update` returned for ``snap`` (may be empty:
                the call also releases a held verdict once it has been steady).
            snap: the snapshot the changes come from.
            now: monotonic seconds (the rate limit's clock).
            wall: wall-clock seconds (said in the message).

        Returns:
            Zero or more events, in order.
        """
        if snap.file_state == "reading" or snap.provisional:
            return []  # the history is still being read: its verdicts are not news
        out: list[NotifyEvent] = []
        health = snap.health
        if not self._baseline:
            if health is None or not snap.run.series:
                return []
            self._baseline = True
            self._told = "healthy"
            if not any(c.kind == "new_run" for c in changes):
                # What the log already showed on arrival is said only when it is a warning or
                # critical (one message); a finished run read from history is not news.
                said = [c for c in changes if c.kind != "new_run"]
                if said and said[-1].status in ("warning", "critical"):
                    c = self._last = said[-1]
                    self._told = c.status
                    return [self._event(c.state if c.kind == "run_end" else c.status, c, wall)]
                return []
        for c in changes:
            if c.kind == "new_run":
                out.append(self._event("run_started", c, wall))
                self._told = "healthy"
                continue
            self._last = c
            if c.kind == "run_end" and (c.state in _FINAL or c.status == "critical"):
                out.append(self._event(c.state, c, wall))
                self._told = c.status
                continue
            out.extend(self._verdict(c, now, wall))
        if not changes and self._flaps.held_until is not None and now >= self._flaps.held_until:
            # Steady for a whole window: say where it settled, if that is news.
            self._flaps.held_until = None
            last = self._last
            if last is not None and last.status != self._told:
                out.append(self._event("settled", last, wall))
                self._told = last.status
        return out

    def _verdict(self, c: Change, now: float, wall: float) -> list[NotifyEvent]:
        """A verdict change or a stall, through the rate limit."""
        if c.kind == "verdict" and c.status == self._told:
            return []
        if c.kind == "verdict" and c.status == "healthy" and self._told not in ("warning", "critical"):
            return []
        flaps = self._flaps
        if flaps.held_until is not None and c.status != "critical":
            flaps.held_until = now + self.flap_window_s  # still flapping: hold on
            return []
        while flaps.sent and now - flaps.sent[0] > self.flap_window_s:
            flaps.sent.popleft()
        if len(flaps.sent) >= self.flap_max and c.status != "critical":
            flaps.held_until = now + self.flap_window_s
            flaps.sent.clear()
            return [self._event("flapping", c, wall, count=self.flap_max + 1)]
        flaps.sent.append(now)
        self._told = c.status
        if c.kind == "run_end":
            return [self._event(c.state, c, wall)]
        return [self._event("recovered" if c.status == "healthy" else c.status, c, wall)]

    def _event(self, event: str, c: Change, wall: float, count: int = 0) -> NotifyEvent:
        """The event for change ``c``, with its title and body in words."""
        lang = self.lang
        r = c.reason
        reason = inert(reason_text(r, lang)) if r is not None else ""
        action = action_text(r, lang) if r is not None else None
        end = c.end if c.end is not None and c.end is not r else None
        state_reason = inert(reason_text(end, lang)) if end is not None else ""
        name = self.path.rsplit("/", 1)[-1]
        where = ""
        if c.step is not None:
            where = f"{label('step', lang)} {c.step}" + (f"/{c.total}" if c.total else "")
        if event == "run_started":
            head = label("notify_run_started", lang).format(n=c.run)
        elif event == "flapping":
            window = fmt_duration(self.flap_window_s)
            head = label("notify_flapping", lang).format(n=count, window=window, verdict=verdict_word(c.status, lang))
        elif event in ("finished", "crashed", "ended", "stalled"):
            head = f"{word(event, lang)} · {verdict_word(c.status, lang)}"
        else:
            head = verdict_word(c.status, lang)
        parts = [label("notify_head", lang).format(file=name, n=c.run, head=head)]
        if event == "run_started":
            parts = [f"{name}: {head}"]
        if reason and event not in ("run_started", "flapping"):
            parts.append(reason)
        if state_reason and event not in ("run_started", "flapping"):
            parts.append(state_reason)  # the run's state beside the top reason, not instead
        if where and where not in reason + state_reason:  # a run-state sentence may say it already
            parts.append(where)
        if action and event not in ("run_started", "flapping"):
            parts.append(f"→ {action}")
        title = f"trainmon@{self.host}: {verdict_word(c.status, lang)} {name}"
        if event in ("finished", "crashed", "ended", "stalled", "run_started", "flapping"):
            title = f"trainmon@{self.host}: {head} {name}"
        return NotifyEvent(
            event=event,
            file=self.path,
            run=c.run,
            status=c.status,
            state=c.state,
            code=r.code if r is not None else None,
            reason=reason,
            action=action,
            step=c.step,
            total=c.total,
            host=self.host,
            time=wall,
            title=title,
            body="\n".join(parts),
            state_reason=state_reason,
        )
