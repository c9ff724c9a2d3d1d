"""Notifications that leave the terminal: ``--notify URL`` (Apprise) and ``--notify-cmd CMD``.

- :mod:`~tui_monitor.core.notify.policy`: which verdict and run-state changes become a
  message and how often (pure: :class:`NotifyPolicy`, :class:`NotifyEvent`).
- :mod:`~tui_monitor.core.notify.send`: the senders (Apprise, a command).
- :class:`Notifier` here: one per ``trainmon tail``; the app and the headless printer hand it
  the changes of each followed log (from :class:`~tui_monitor.core.changes.ChangeDetector`,
  the same ones the headless status lines say), and it sends the messages from a thread of
  its own, so a slow or failing sender never holds up the following. Each sender's first
  failure is kept, to be said once (:meth:`Notifier.take_failures`).
"""

from __future__ import annotations

import queue
import socket
import threading
import time

from tui_monitor.core.changes import Change
from tui_monitor.core.monitor import MonitorSnapshot
from tui_monitor.core.notify.policy import FLAP_MAX, FLAP_WINDOW_S, NotifyEvent, NotifyPolicy
from tui_monitor.core.notify.send import AppriseSender, CommandSender, MissingExtra, NotifyError, Sender

__all__ = [
    "FLAP_MAX",
    "FLAP_WINDOW_S",
    "AppriseSender",
    "CommandSender",
    "MissingExtra",
    "NotifyError",
    "NotifyEvent",
    "NotifyPolicy",
    "Notifier",
    "Sender",
    "make_notifier",
]

CLOSE_WAIT_S = 10.0
"""Seconds :meth:`Notifier.close` waits for queued messages to go out."""


class Notifier:
    """Decides (per followed log, :class:`NotifyPolicy`) and sends (on its own thread).

    Args:
        senders: where messages go.
        lang: ``"en"`` or ``"ru"``: the messages' words.
        host: the machine's name for the titles (default: ``socket.gethostname()``).
        flap_max / flap_window_s: the flapping rate limit (see :mod:`.policy`).
    """

    def __init__(
        self,
        senders: list[Sender],
        *,
        lang: str = "en",
        host: str | None = None,
        flap_max: int = FLAP_MAX,
        flap_window_s: float = FLAP_WINDOW_S,
    ) -> None:
        self.senders = senders
        self.lang = lang
        self.host = host or socket.gethostname()
        self.flap_max = flap_max
        self.flap_window_s = flap_window_s
        self._policies: dict[int, NotifyPolicy] = {}
        self._queue: queue.Queue[NotifyEvent | None] = queue.Queue()
        self._failed: set[str] = set()
        self._failures: list[str] = []
        self._lock = threading.Lock()
        self.sent: list[NotifyEvent] = []
        """Events handed to the senders, in order (what was decided; delivery may have failed)."""
        self._thread = threading.Thread(target=self._run, name="trainmon-notify", daemon=True)
        self._thread.start()

    def observe(self, i: int, changes: list[Change], snap: MonitorSnapshot, now: float | None = None) -> None:
        """Take the changes of followed log ``i`` (from ``snap``); queue what is to be said. Never blocks.

        Args:
            i: the log's index among the followed files.
            changes: :meth:`ChangeDetector.update` of ``snap`` (may be empty).
            snap: the snapshot.
            now: monotonic seconds (default ``time.monotonic()``).
        """
        policy = self._policies.get(i)
        if policy is None:
            policy = self._policies[i] = NotifyPolicy(
                snap.path, self.host, self.lang, flap_max=self.flap_max, flap_window_s=self.flap_window_s
            )
        for ev in policy.decide(changes, snap, time.monotonic() if now is None else now, time.time()):
            self._queue.put(ev)

    def _run(self) -> None:
        while True:
            ev = self._queue.get()
            if ev is None:
                return
            with self._lock:
                self.sent.append(ev)
            for s in self.senders:
                try:
                    s.send(ev)
                except NotifyError as e:
                    self._fail(s.name, str(e))
                except Exception as e:  # a sender's own bug never ends the notifier
                    self._fail(s.name, f"{s.name}: {type(e).__name__}: {e}")

    def _fail(self, name: str, message: str) -> None:
        with self._lock:
            if name not in self._failed:
                self._failed.add(name)
                self._failures.append(" ".join(message.split())[:300])

    def take_failures(self) -> list[str]:
        """Each sender's first failure, one line each, once (the next call no longer has it)."""
        with self._lock:
            out, self._failures = self._failures, []
        return out

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Let queued messages go out (at most ``wait_s`` seconds), then stop the thread."""
        self._queue.put(None)
        self._thread.join(wait_s)


def make_notifier(urls: list[str] | None, cmds: list[str] | None, lang: str = "en") -> Notifier | None:
    """The :class:`Notifier` for ``--notify URL ...`` and ``--notify-cmd CMD ...``, or None when neither.

    Raises:
        MissingExtra: URLs were given and Apprise is not installed.
        NotifyError: a URL Apprise does not know.
    """
    senders: list[Sender] = []
    senders.extend(AppriseSender(u) for u in urls or ())
    senders.extend(CommandSender(c) for c in cmds or ())
    return Notifier(senders, lang=lang) if senders else None
