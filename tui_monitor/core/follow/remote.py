"""A log on another machine: ``user@host:/path/train.log`` read through the user's own ``ssh``.

Nothing is installed there: the remote side runs POSIX ``sh``, ``wc`` and GNU/BusyBox-style
``tail -c +N -F`` (``cat`` for a one-shot read). The user's ssh does the rest (config, keys,
agent, jump hosts); ``--ssh-command`` or ``TRAINMON_SSH_COMMAND`` replaces ``ssh`` the way
``GIT_SSH_COMMAND`` does for git.

The stream. Each connection first prints one header line, ``trainmon-remote SIZE MTIME``, then
``tail``'s output with its messages merged in (``2>&1``: in the order tail wrote them, which
two separate pipes would not keep). A message about the followed file ("file truncated", "has
been replaced", "has appeared", "has become inaccessible", "cannot open") is taken out of the
bytes and becomes a :class:`~tui_monitor.core.follow.tailer.Reset` or a state; it is recognised
only with this file's exact name in it, so a log line never passes for one.

Reconnecting. The bytes of the current file handed on are counted (``offset``); a new connection
resumes with ``tail -c +(offset - k + 1)``, re-reading the last ``k`` (<= 64) bytes it already
had: if they are the same and the file is not shorter, the stream goes on exactly where it
stopped (no record lost or repeated); otherwise the file was truncated or replaced while the
connection was down, and that is a reset.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from tui_monitor.core.follow.tail_messages import MessageSplitter
from tui_monitor.core.follow.tailer import Chunk, Reset, TailError, TailItem

__all__ = [
    "BACKOFF_S",
    "SSH_COMMAND_ENV",
    "RemoteFollower",
    "RemoteSpec",
    "RemoteState",
    "RemoteTailer",
    "parse_remote",
    "read_remote",
    "ssh_argv",
]

SSH_COMMAND_ENV = "TRAINMON_SSH_COMMAND"
"""Environment variable with the ssh command to use (``ssh -p 2222 -i KEY``), like git's
``GIT_SSH_COMMAND``; ``--ssh-command`` sets it for the process."""

SSH_OPTIONS = ("-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3")
"""Options added after the user's command: no terminal, never a password prompt (it would read
the dashboard's keys; keys or an agent are needed), and a dead link noticed in ~30 s."""

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
"""Seconds between reconnection attempts after a connection was lost (the last one repeats);
back to the first after a connection that worked."""

FINGERPRINT = 64
"""Bytes before the resume offset read again and compared on reconnecting."""

RemoteState = Literal["connecting", "following", "waiting", "unreadable", "lost", "error"]

_SPEC_RE = re.compile(r"^(?P<host>(?:[^@/:\s]+@)?(?:\[[^\]/\s]+\]|[^@/:\s\[\]]+)):(?P<path>.+)$")


@dataclass(frozen=True)
class RemoteSpec:
    """Where a remote log is.

    Attributes:
        host: ``user@host`` or ``host`` (anything ssh accepts, an alias of ``~/.ssh/config``).
        path: the path on that machine (relative paths start in the user's home).
    """

    host: str
    path: str

    def __str__(self) -> str:
        return f"{self.host}:{self.path}"


def parse_remote(text: str) -> RemoteSpec | None:
    """``user@host:/path`` -> `RemoteSpec`, like scp: a colon before any slash; else ``None``.

    The caller asks only for a path that does not exist locally (a local ``a:b.log`` is a file).
    """
    m = _SPEC_RE.match(text)
    if m is None:
        return None
    host, path = m.group("host"), m.group("path")
    if path.startswith("~/"):
        path = path[2:]  # ssh starts in the home directory; a quoted ~ would not expand
    return RemoteSpec(host, path) if path else None


def ssh_argv(spec: RemoteSpec, script: str, ssh_command: str | None = None) -> list[str]:
    """The argv that runs ``script`` (POSIX sh) on ``spec.host``: the user's ssh command
    (``ssh_command``, else ``$TRAINMON_SSH_COMMAND``, else ``ssh``) + :data:`SSH_OPTIONS`."""
    base = shlex.split(ssh_command or os.environ.get(SSH_COMMAND_ENV) or "ssh")
    # The remote login shell may be any shell: hand it one word for POSIX sh.
    return [*base, *SSH_OPTIONS, spec.host, "exec sh -c " + shlex.quote(script)]


def _tail_script(path: str, start: int | None) -> str:
    """Header, then ``tail -c +start -F`` with its messages merged in; ``start`` None: the end."""
    begin = '"$(( s < 0 ? 1 : s + 1 ))"' if start is None else str(start)
    return (
        f"f={shlex.quote(path)}\n"
        's=$(wc -c 2>/dev/null < "$f") || s=-1\n'
        'm=$(date -r "$f" +%s 2>/dev/null) || m=0\n'
        "printf 'trainmon-remote %s %s\\n' $s $m\n"
        f'LC_ALL=C exec tail -c +{begin} -F -- "$f" 2>&1\n'
    )


class RemoteTailer:
    """Follow a remote file through ssh, in a thread of its own; `poll` hands on what arrived.

    The same interface as :class:`~tui_monitor.core.follow.tailer.Tailer` for the monitor
    (``state``, ``offset``, ``size``, ``mtime``, ``behind``, ``dir_missing``, ``poll``,
    ``close``), with the connection in ``state``.

    Args:
        spec: the remote file.
        ssh_command: the ssh command (see `ssh_argv`).
        from_end: start at the remote file's end.
        backoff: seconds between reconnection attempts (:data:`BACKOFF_S`).

    Attributes:
        error: a one-line message when the first connection failed (``state == "error"``),
            or why the last connection was lost; else ``None``.
        connections: connections made (with the header read) so far.
    """

    def __init__(
        self,
        spec: RemoteSpec,
        *,
        ssh_command: str | None = None,
        from_end: bool = False,
        backoff: Sequence[float] = BACKOFF_S,
    ) -> None:
        self.spec = spec
        self._ssh_command = ssh_command
        self._from_end = from_end
        self._backoff = tuple(backoff)
        self._lock = threading.Lock()
        self._items: list[TailItem] = []
        self.changed = threading.Event()
        self._stop = threading.Event()
        self._state: RemoteState = "connecting"
        self._offset = 0
        self._size = 0
        self._mtime = 0.0
        self._fp = b""
        self._proc: subprocess.Popen[bytes] | None = None
        self.error: str | None = None
        self.connections = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"ssh {spec}")
        self._thread.start()

    # -- the Tailer interface -------------------------------------------------------------------
    @property
    def path(self) -> str:
        """``host:path`` as given."""
        return str(self.spec)

    @property
    def state(self) -> RemoteState:
        """``connecting``, ``following``, ``waiting`` (the remote file is not there),
        ``unreadable``, ``lost`` (reconnecting with back-off) or ``error`` (see `error`)."""
        return self._state

    @property
    def offset(self) -> int:
        """Bytes of the current remote file handed on."""
        return self._offset

    @property
    def size(self) -> int:
        """The remote file's size as last known (bytes)."""
        return max(self._size, self._offset)

    @property
    def mtime(self) -> float:
        """When the remote file was last written, as far as seen from here: its mtime at the
        last connection, or when its latest bytes arrived (seconds since the epoch)."""
        return self._mtime

    behind = False
    """A remote stream is handed on as it arrives."""
    dir_missing = False
    """Not known for a remote file."""

    def poll(self) -> list[TailItem]:
        """What arrived since the last poll, in stream order."""
        with self._lock:
            items, self._items = self._items, []
            self.changed.clear()
        return items

    def close(self) -> None:
        """End the connection and the thread. Idempotent."""
        self._stop.set()
        self._kill()
        self.changed.set()

    # -- the connection thread ------------------------------------------------------------------
    def _push(self, item: TailItem | None = None, state: RemoteState | None = None) -> None:
        with self._lock:
            if item is not None:
                self._items.append(item)
            if state is not None:
                self._state = state
            self.changed.set()

    def _kill(self) -> None:
        p = self._proc
        if p is not None and p.poll() is None:
            p.kill()

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            outcome = self._connect_once()
            if self._stop.is_set():
                return
            if outcome == "again":
                continue  # the file changed while away: read it anew at once
            if outcome == "failed" and self.connections == 0:
                self._push(state="error")  # never reached: say why and stop (a typo, no key)
                return
            if outcome == "ok":
                attempt = 0
            self._push(state="lost")
            delay = self._backoff[min(attempt, len(self._backoff) - 1)]
            attempt += 1
            self._stop.wait(delay)

    def _connect_once(self) -> Literal["ok", "failed", "again"]:
        """One ssh connection, until it ends. ``ok``: it worked, then ended; ``failed``: no
        header came (ssh could not connect or log in); ``again``: reconnect at once."""
        resume = self._offset
        k = min(FINGERPRINT, resume)
        start: int | None = resume - k + 1
        if self._from_end and self.connections == 0:
            start = None
        argv = ssh_argv(self.spec, _tail_script(self.spec.path, start), self._ssh_command)
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # the terminal's Ctrl-C is ours to handle, not ssh's
            )
        except OSError as e:
            self.error = f"{self.spec}: cannot run {argv[0]}: {e.strerror or e}"
            return "failed"
        self._proc = proc
        said: deque[str] = deque(maxlen=8)
        err = threading.Thread(target=_collect_lines, args=(proc, said), daemon=True)
        err.start()
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        try:
            header, rest = _read_header(fd)
            if header is None:
                proc.wait()
                err.join(timeout=2)
                self.error = _ssh_error(self.spec, said, proc.returncode)
                return "failed"
            size, mtime = header
            self.connections += 1
            self.error = None
            self._size = max(size, 0)
            self._mtime = max(self._mtime, mtime)
            if start is None:
                self._offset = self._size
            elif resume:
                if size < resume:
                    # Shorter than what was read (or gone) while the connection was down.
                    self._new_stream(Reset("truncated") if size >= 0 else Reset("deleted"))
                    return "again"
                got = rest
                while len(got) < k:
                    more = os.read(fd, 65536)
                    if not more:
                        return "ok"
                    got += more
                if got[:k] != self._fp[-k:]:
                    self._new_stream(Reset("recreated"))  # replaced by another file as long
                    return "again"
                rest = got[k:]
            self._push(state="following" if size >= 0 else "waiting")
            splitter = MessageSplitter(self.spec.path)
            data = rest
            while True:
                if data:
                    self._take(splitter.feed(data))
                data = os.read(fd, 65536)
                if not data:
                    break
            proc.wait()
            err.join(timeout=2)
            self.error = _ssh_error(self.spec, said, proc.returncode)
            return "ok"
        except OSError:
            return "ok"
        finally:
            self._kill()
            proc.wait()
            proc.stdout.close()

    def _new_stream(self, reset: Reset) -> None:
        if reset.new_stream:
            self._offset = 0
            self._fp = b""
        self._push(reset)

    def _take(self, pieces: list[bytes | tuple[str, str]]) -> None:
        for piece in pieces:
            if isinstance(piece, bytes):
                data = piece.replace(b"\x00", b"") if b"\x00" in piece else piece
                offset = self._offset
                self._offset += len(piece)
                self._fp = (self._fp + piece)[-FINGERPRINT:]
                self._mtime = time.time()
                if data:
                    self._push(Chunk(offset, data, offset + len(piece)), "following")
                continue
            kind, detail = piece
            if kind == ": file truncated":
                self._new_stream(Reset("truncated"))
            elif kind == " has been replaced;":
                self._new_stream(Reset("rotated"))
            elif kind == " has appeared;":
                self._new_stream(Reset("recreated"))
                self._push(state="following")
            elif kind == " has become inaccessible":
                self._push(Reset("deleted"), "waiting")
            elif kind == "cannot open":
                self._push(state="unreadable" if "denied" in detail.lower() else "waiting")


def _read_header(fd: int) -> tuple[tuple[int, float] | None, bytes]:
    """``((size, mtime), bytes after the header)``; ``(None, b"")`` when none came."""
    buf = b""
    while b"\n" not in buf and len(buf) < 256:
        more = os.read(fd, 4096)
        if not more:
            return None, b""
        buf += more
    line, _, rest = buf.partition(b"\n")
    parts = line.split()
    if len(parts) != 3 or parts[0] != b"trainmon-remote":
        return None, b""
    try:
        return (int(parts[1]), float(parts[2])), rest
    except ValueError:
        return None, b""


def _collect_lines(proc: subprocess.Popen[bytes], said: deque[str]) -> None:
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.decode("utf-8", "replace").strip()
        # ssh's notes on a first connection are not the reason it failed
        if line and not line.startswith(("Warning: Permanently added", "** ")):
            said.append(line)
    proc.stderr.close()


def _ssh_error(spec: RemoteSpec, said: deque[str], code: int | None) -> str:
    """One line: what ssh (or the remote shell) said last, else its exit status."""
    why = said[-1] if said else f"ssh exited with status {code}"
    return f"{spec}: {why}"


class RemoteFollower:
    """:class:`~tui_monitor.core.follow.Follower` for a remote file: non-empty batches of tail
    items as they arrive, an empty batch when the connection's state changed or the stream has
    been quiet ``quiet_after`` seconds after data; ends when ``stop_event`` is set.

    Raises:
        TailError: from iteration, when the first connection failed (one-line message).
    """

    mode = "remote"
    """For the status line: the file is read over ssh."""

    def __init__(
        self,
        spec: RemoteSpec,
        *,
        stop_event: threading.Event,
        from_end: bool = False,
        quiet_after: float = 0.0,
        ssh_command: str | None = None,
        backoff: Sequence[float] = BACKOFF_S,
    ) -> None:
        self.tailer = RemoteTailer(spec, ssh_command=ssh_command, from_end=from_end, backoff=backoff)
        self.stop_event = stop_event
        self.quiet_after = quiet_after
        self._quiet_due: float | None = None
        self._state = self.tailer.state

    def __iter__(self) -> Iterator[list[TailItem]]:
        return self

    def __next__(self) -> list[TailItem]:
        t = self.tailer
        while not self.stop_event.is_set():
            items = t.poll()
            if items:
                self._quiet_due = time.monotonic() + self.quiet_after if self.quiet_after else None
                self._state = t.state
                return items
            if t.state == "error":
                raise TailError(t.error or f"{t.path}: cannot connect")
            if t.state != self._state:
                self._state = t.state
                return []
            if self._quiet_due is not None and time.monotonic() >= self._quiet_due:
                self._quiet_due = None
                return []
            left = 0.25 if self._quiet_due is None else max(0.0, min(0.25, self._quiet_due - time.monotonic()))
            t.changed.wait(left)
        self.close()
        raise StopIteration

    def close(self) -> None:
        """End the connection."""
        self.tailer.close()


def read_remote(spec: RemoteSpec, ssh_command: str | None = None, timeout: float | None = None) -> Iterator[bytes]:
    """The remote file's bytes, once (``cat``), in pieces as they arrive (for ``report``).

    Raises:
        TailError: ssh or the remote ``cat`` failed (one line: what it said).
    """
    script = "LC_ALL=C exec cat -- " + shlex.quote(spec.path)
    proc = subprocess.Popen(
        ssh_argv(spec, script, ssh_command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    said: deque[str] = deque(maxlen=8)
    err = threading.Thread(target=_collect_lines, args=(proc, said), daemon=True)
    err.start()
    assert proc.stdout is not None
    try:
        while True:
            data = os.read(proc.stdout.fileno(), 1 << 20)
            if not data:
                break
            yield data
        proc.wait(timeout)
        err.join(timeout=2)
        if proc.returncode != 0:
            raise TailError(_ssh_error(spec, said, proc.returncode))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
