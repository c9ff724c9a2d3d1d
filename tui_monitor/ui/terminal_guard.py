"""The dashboard's terminal watchdog: ends trainmon when its terminal is gone, and on a signal
whatever state Textual's loop and screen writer are in.

Why it exists (Textual 8.x, ``textual/drivers/linux_driver.py`` and ``_writer_thread.py``):

- the driver's input thread loops on end-of-file: when the terminal hangs up, ``os.read`` of
  stdin returns ``b""`` at once, forever, and the thread spins a core (Textualize/textual
  PR #6690, "Fix input thread busy-looping at 100% CPU when stdin reaches EOF", open);
- the output writer thread has no error handling: a write that fails (``EIO`` on a hung-up
  terminal) ends the thread, and the app's next writes block on its full queue
  (``MAX_QUEUED_WRITES = 30``) for good; a write into a terminal nobody reads (a frozen SSH
  client) blocks the same way;
- a blocked loop never runs the handlers ``loop.add_signal_handler`` installed, so SIGTERM and
  SIGHUP were ignored, and the kernel sends SIGHUP at a hangup only to the session leader (a
  shell that traps HUP, or ``setsid``, leaves trainmon without one).

So this thread, not the loop, watches the terminal and takes the signals: the signal numbers
arrive through :func:`signal.set_wakeup_fd` (written by the C-level handler, whatever the main
thread is doing), and the terminal's file descriptors are polled for a hang-up. Either asks the
app to leave its loop, and ends the process with :func:`os._exit` when it has not within
:data:`EXIT_GRACE_S` seconds, after restoring what can still be restored.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import termios
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

SIGNAL_EXIT: dict[int, int] = {int(sig): 128 + int(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
"""Exit status per signal (README: 130 on Ctrl-C, 143 on SIGTERM, 129 on SIGHUP)."""

TERMINAL_GONE_EXIT = 128 + int(signal.SIGHUP)
"""Exit status when the terminal went away without a signal: 129, as if SIGHUP had come."""

EXIT_GRACE_S = 1.0
"""Seconds the app gets to leave its loop (restoring the terminal itself) after a signal or a
hang-up, before the process is ended."""

OUTPUT_STUCK_S = 600.0
"""Seconds the terminal may refuse output before it counts as gone. Long on purpose: a laptop
that sleeps with its SSH session open comes back to a live dashboard; a connection that dies
meanwhile is a hang-up, seen at once."""

CHECK_EVERY_S = 0.5
"""Seconds between checks of the terminal's output when nothing else wakes the watchdog."""

RESTORE_SEQUENCES = (
    "\x18"  # CAN: ends an escape sequence a blocked frame may have left half-written
    "\x1b[<u"  # kitty keyboard protocol off
    "\x1b[?2004l"  # bracketed paste off
    "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l"  # mouse reporting off
    "\x1b[?1004l"  # focus events off
    "\x1b[?7h"  # line wrap on
    "\x1b[?1049l"  # normal screen
    "\x1b[?25h"  # cursor shown
)
"""What Textual's ``stop_application_mode`` writes, for the forced exit (written only if the
terminal takes it at once)."""

_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


class TerminalGuard:
    """Watch the terminal and the exit signals in a thread while the dashboard runs.

    Args:
        request_exit: called from the guard's thread with an exit status; asks the app to
            leave its loop (it must not block: ``loop.call_soon_threadsafe``).
        on_exit: cleanup run before a forced exit (e.g. the demo's temporary directory).
        output_stuck_s: seconds of refused output after which the terminal counts as gone
            (default :data:`OUTPUT_STUCK_S`, read when the guard is made).
        grace_s: seconds the app gets to leave after ``request_exit`` before the process ends
            (default :data:`EXIT_GRACE_S`).

    The terminal is every one of stdin, stdout and stderr that is a terminal when
    :meth:`start` runs; a hang-up (``POLLHUP``/``POLLERR``, which is also when reads give
    end-of-file or ``EIO`` and writes ``EIO``) on any of them means it is gone. Output is
    judged on stderr, where Textual draws.
    """

    def __init__(
        self,
        request_exit: Callable[[int], None],
        *,
        on_exit: Callable[[], None] | None = None,
        output_stuck_s: float | None = None,
        grace_s: float | None = None,
    ) -> None:
        self.request_exit = request_exit
        self.on_exit = on_exit
        self.output_stuck_s = OUTPUT_STUCK_S if output_stuck_s is None else output_stuck_s
        self.grace_s = EXIT_GRACE_S if grace_s is None else grace_s
        self.finished = threading.Event()
        """Set by :meth:`stop` once the app has left its loop: no forced exit after that."""
        self.exit_code: int | None = None
        """The status the guard is ending the process with (``None`` while all is well)."""
        self._ttys: list[int] = []
        self._out: int | None = None
        self._attrs: list[Any] | None = None
        self._rfd = self._wfd = -1
        self._old_handlers: dict[int, Any] = {}
        self._old_wakeup = -1
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Note the terminal, take the exit signals (main thread only), start the watchdog."""
        self._ttys = [fd for fd in (0, 1, 2) if _isatty(fd)]
        self._out = 2 if 2 in self._ttys else None
        if self._ttys:
            with contextlib.suppress(termios.error):
                self._attrs = termios.tcgetattr(self._ttys[0])
        self._rfd, self._wfd = os.pipe()
        os.set_blocking(self._rfd, False)
        os.set_blocking(self._wfd, False)
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNAL_EXIT:
                self._old_handlers[sig] = signal.signal(sig, _noted)
            # The C-level handler writes the signal's number here before any Python code runs:
            # the loop (or the main thread) being blocked does not delay it.
            self._old_wakeup = signal.set_wakeup_fd(self._wfd, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, name="trainmon-terminal-guard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """The app has left its loop: put the signal handling back and let the thread end."""
        self.finished.set()
        if threading.current_thread() is threading.main_thread() and self._old_handlers:
            signal.set_wakeup_fd(self._old_wakeup)
            for sig, old in self._old_handlers.items():
                signal.signal(sig, old)
            self._old_handlers.clear()
        with contextlib.suppress(OSError):
            os.write(self._wfd, b"\0")  # wake the thread

    # -- the thread -------------------------------------------------------------------------
    def _watch(self) -> None:
        poller = select.poll()
        poller.register(self._rfd, select.POLLIN)
        for fd in self._ttys:
            poller.register(fd, 0)  # hang-up and errors are always reported
        blocked_since: float | None = None
        while not self.finished.is_set():
            events = poller.poll(CHECK_EVERY_S * 1000)
            if self.finished.is_set():
                return
            for fd, mask in events:
                if fd == self._rfd:
                    code = self._signal_code()
                    if code is not None:
                        return self._leave(code)
                elif mask & _GONE:
                    return self._leave(TERMINAL_GONE_EXIT, gone=True)
            if self._out is not None:
                if _writable(self._out):
                    blocked_since = None
                elif blocked_since is None:
                    blocked_since = time.monotonic()
                elif time.monotonic() - blocked_since >= self.output_stuck_s:
                    return self._leave(TERMINAL_GONE_EXIT)

    def _signal_code(self) -> int | None:
        """The exit status of the first exit signal waiting in the wake-up pipe, if any
        (other signals with a Python handler, e.g. Textual's SIGWINCH, also land there)."""
        code = None
        with contextlib.suppress(BlockingIOError, OSError):
            for signum in os.read(self._rfd, 512):
                if code is None and signum in SIGNAL_EXIT:
                    code = SIGNAL_EXIT[signum]
        return code

    def _leave(self, code: int, *, gone: bool = False) -> None:
        """Ask the app to leave with ``code``; end the process if it has not within the grace."""
        self.exit_code = code
        with contextlib.suppress(Exception):
            self.request_exit(code)
        if self.finished.wait(self.grace_s):
            return
        if not gone:
            self._restore()
        if self.on_exit is not None:
            with contextlib.suppress(Exception):
                self.on_exit()
        os._exit(code)

    def _restore(self) -> None:
        """Best effort, never blocking: the terminal modes from before, then the screen."""
        if self._attrs is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self._ttys[0], termios.TCSANOW, self._attrs)
        if self._out is None:
            return
        # A fresh open file description of the same terminal, non-blocking without touching
        # the flags of the one Textual's writer may be blocked in.
        try:
            fd = os.open(f"/proc/self/fd/{self._out}", os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError:
            return
        try:
            os.write(fd, RESTORE_SEQUENCES.encode())
        except OSError:
            pass
        finally:
            os.close(fd)


def keys_from_terminal() -> bool:
    """Read the keys from the terminal when stdin is not one but stdout is.

    ``trainmon tail log < /dev/null`` or ``cmd | trainmon tail log``: Textual reads keys from
    stdin, where its input thread would spin on end-of-file (PR #6690) and no key would ever
    come. Like ``less`` and ``fzf``, take them from the terminal instead (``/dev/tty``, else
    the terminal stdout is on), put on file descriptor 0.

    Returns:
        Whether stdin was replaced.
    """
    if _isatty(0) or not _isatty(1):
        return False
    paths = ["/dev/tty"]
    with contextlib.suppress(OSError):
        paths.append(os.ttyname(1))
    for path in paths:
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        except OSError:
            continue
        os.dup2(fd, 0)
        os.close(fd)
        return True
    return False


def _noted(signum: int, frame: FrameType | None) -> None:
    """Python-level handler of the exit signals: nothing to do, the guard's thread has been
    woken by the signal's number in its wake-up pipe (and must not be raced by a
    KeyboardInterrupt in the main thread)."""


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _writable(fd: int) -> bool:
    """Whether the terminal would take output now (``POLLOUT``)."""
    p = select.poll()
    p.register(fd, select.POLLOUT)
    return any(mask & select.POLLOUT for _, mask in p.poll(0))
