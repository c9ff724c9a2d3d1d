"""Senders of notifications: Apprise URLs (``--notify``) and a command (``--notify-cmd``).

Both are called only from the :class:`~tui_monitor.core.notify.Notifier`'s own thread, never
from a monitor's or the UI's: a slow webhook or a hanging command delays only the next message.
A sender raises :class:`NotifyError` with a one-line reason when a message did not go out.

Apprise (https://github.com/caronc/apprise) is an optional extra (``pip install
'trainmon[notify]'``), imported only when ``--notify`` is given.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from typing import Any, Protocol

from tui_monitor.core.notify.policy import NotifyEvent

__all__ = ["CMD_TIMEOUT_S", "AppriseSender", "CommandSender", "MissingExtra", "NotifyError", "Sender"]

CMD_TIMEOUT_S = 30.0
"""Seconds a ``--notify-cmd`` command may take before it is killed and counted as failed."""


class NotifyError(Exception):
    """A message was not delivered; the message is one line saying why."""


class MissingExtra(NotifyError):
    """``--notify`` was given but Apprise is not installed (the ``notify`` extra)."""


class Sender(Protocol):
    """Delivers one event; raises :class:`NotifyError` when it could not."""

    name: str
    """How the sender is named in a failure (the URL's scheme and host, or the command)."""

    def send(self, event: NotifyEvent) -> None: ...


class _Collect(logging.Handler):
    """Keeps the last warning Apprise logged (why a URL failed), instead of printing it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.last = record.getMessage().splitlines()[0] if record.getMessage() else ""


_NOTIFY_TYPE = {"critical": "failure", "warning": "warning", "healthy": "success"}
"""Verdict → Apprise's notify type (the colour or icon a service shows; ``info`` otherwise)."""


_APPRISE_LOG = _Collect()
"""Apprise logs a failed delivery as a warning: on the terminal it would break the dashboard,
so it is collected here (one handler for every sender: they send one at a time, from the
notifier's thread) and said once by the notifier instead."""


class AppriseSender:
    """Sends through Apprise to one ``--notify`` URL (ntfy, Slack, Discord, ``json://`` ...).

    Args:
        url: an Apprise URL.

    Raises:
        MissingExtra: Apprise is not installed.
        NotifyError: a URL Apprise does not understand (said at start, not at the first message).
    """

    def __init__(self, url: str) -> None:
        try:
            import apprise
        except ImportError:
            raise MissingExtra("--notify needs Apprise: pip install 'trainmon[notify]'") from None
        self._obj: Any = apprise.Apprise()
        if not self._obj.add(url):
            raise NotifyError(f"--notify {url}: not a notification URL Apprise knows")
        logger = logging.getLogger("apprise")
        if _APPRISE_LOG not in logger.handlers:
            logger.addHandler(_APPRISE_LOG)
            logger.propagate = False
        # Named by scheme and host only: the rest of a URL often holds a token.
        scheme, _, rest = url.partition("://")
        self.name = f"{scheme}://{rest.split('/', 1)[0].rpartition('@')[2]}"

    def send(self, event: NotifyEvent) -> None:
        """Notify the URL; raises :class:`NotifyError` when it failed."""
        _APPRISE_LOG.last = ""
        kind = _NOTIFY_TYPE.get(event.status, "info")
        if not self._obj.notify(body=event.body, title=event.title, notify_type=kind):
            raise NotifyError(f"{self.name}: {_APPRISE_LOG.last or 'not delivered'}")


class CommandSender:
    """Runs ``--notify-cmd CMD`` (through the shell) with the event as one JSON object on stdin.

    The environment adds ``TRAINMON_STATUS`` (the verdict), ``TRAINMON_EVENT`` (the event)
    and ``TRAINMON_FILE`` (the log). A non-zero exit, or more than :data:`CMD_TIMEOUT_S`
    seconds, is a failure.

    Args:
        cmd: a shell command line.
        timeout_s: the time limit, seconds.
    """

    def __init__(self, cmd: str, timeout_s: float = CMD_TIMEOUT_S) -> None:
        self.cmd = cmd
        self.timeout_s = timeout_s
        self.name = f"--notify-cmd {cmd!r}"

    def send(self, event: NotifyEvent) -> None:
        """Run the command once for ``event``; raises :class:`NotifyError` when it failed."""
        env = {**os.environ, "TRAINMON_STATUS": event.status, "TRAINMON_EVENT": event.event}
        env["TRAINMON_FILE"] = event.file
        data = json.dumps(event.as_json(), ensure_ascii=False) + "\n"
        try:
            done = subprocess.run(
                self.cmd,
                shell=True,
                input=data,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                start_new_session=True,  # a Ctrl-C meant for trainmon does not reach it
            )
        except subprocess.TimeoutExpired:
            raise NotifyError(f"{self.name}: no exit after {self.timeout_s:g} s") from None
        except OSError as e:
            raise NotifyError(f"{self.name}: {e.strerror or e}") from None
        if done.returncode != 0:
            err = (done.stderr or "").strip().splitlines()
            raise NotifyError(f"{self.name}: exit status {done.returncode}" + (f": {err[-1]}" if err else ""))
