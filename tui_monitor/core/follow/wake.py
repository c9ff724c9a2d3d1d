"""Wake-ups for the follow loop: inotify via watchfiles on the parent directory, or a poll timer.

Events are only hints. Whoever wakes, the :class:`~tui_monitor.core.follow.tailer.Tailer` checks size
and identity itself, and :class:`Follower` also polls on a safety timer, so a lost or filtered
event costs latency, never a record.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, Literal, Protocol

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "NETWORK_FS_TYPES",
    "SAFETY_INTERVAL",
    "InotifyWaker",
    "PollWaker",
    "Waker",
    "WakerMode",
    "fs_type",
    "fs_type_from_mountinfo",
    "make_waker",
    "needs_polling",
    "parse_mountinfo",
]

log = logging.getLogger(__name__)

WakerMode = Literal["inotify", "poll"]

DEFAULT_POLL_INTERVAL = 1.0
"""Seconds between polls on network filesystems when no ``--poll`` interval is given."""

SAFETY_INTERVAL = 1.0
"""Seconds between polls even with inotify: events for a renamed-away or deleted-but-open file
never reach a directory watch, and an inotify queue can overflow."""

NETWORK_FS_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb3",
        "smbfs",
        "lustre",
        "gpfs",
        "beegfs",
        "9p",
        "ceph",
        "glusterfs",
        "afs",
        "ocfs2",
        "gfs2",
        "panfs",
        "wekafs",
        "pvfs2",
        "orangefs",
        "virtiofs",
        "vboxsf",
        "davfs",
        "ncpfs",
        "fuse",
    }
)
"""Filesystem types whose remote writes produce no inotify event on this machine."""

MOUNTINFO = "/proc/self/mountinfo"

_RETRY_S = 5.0
"""Seconds before a failed directory watch is tried again."""


# -- filesystem detection ------------------------------------------------------------------


def _unescape_mount_field(field: str) -> str:
    r"""Undo the octal escapes mountinfo uses for blanks and backslashes (``\040`` = space)."""
    if "\\" not in field:
        return field
    out: list[str] = []
    i = 0
    while i < len(field):
        c = field[i]
        digits = field[i + 1 : i + 4]
        if c == "\\" and len(digits) == 3 and all(d in "01234567" for d in digits):
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[tuple[str, str]]:
    """Parse ``/proc/<pid>/mountinfo`` text.

    Args:
        text: the file's content (see proc(5): fields, optional fields, ``-``, fstype, source,
            super options).

    Returns:
        ``(mount_point, fs_type)`` pairs in file order (later lines shadow earlier ones at the
        same mount point). Malformed lines are skipped.
    """
    mounts: list[tuple[str, str]] = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        after = right.split()
        if len(fields) < 5 or not after:
            continue
        mounts.append((_unescape_mount_field(fields[4]), after[0]))
    return mounts


def _is_under(path: str, mount_point: str) -> bool:
    if mount_point == "/":
        return path.startswith("/")
    return path == mount_point or path.startswith(mount_point.rstrip("/") + "/")


def fs_type_from_mountinfo(path: str, text: str) -> str:
    """Filesystem type of an absolute, resolved ``path`` according to mountinfo ``text``.

    The mount with the longest mount point containing ``path`` (by whole path components, so
    ``/mnt/data`` does not contain ``/mnt/database``) wins; at equal length the later line.

    Returns:
        The fs type (``"ext4"``, ``"nfs4"``, ``"fuse.sshfs"``...), or ``""`` if none matches.
    """
    best = ""
    best_len = -1
    for mount_point, fstype in parse_mountinfo(text):
        if _is_under(path, mount_point) and len(mount_point) >= best_len:
            best, best_len = fstype, len(mount_point)
    return best


def fs_type(path: str | Path, mountinfo: str = MOUNTINFO) -> str:
    """Filesystem type holding ``path`` (which need not exist yet: symlinks are resolved as far
    as they exist).

    Args:
        path: a file or directory path.
        mountinfo: the mountinfo file to read (for tests).

    Returns:
        The fs type, or ``""`` when it cannot be told (no ``/proc``, not Linux).
    """
    try:
        with open(mountinfo, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError:
        return ""
    return fs_type_from_mountinfo(str(Path(path).resolve(strict=False)), text)


def needs_polling(fstype: str) -> bool:
    """True for filesystems where inotify misses writes made elsewhere (NFS, SMB, Lustre, ...).

    Every FUSE type counts (``fuse.sshfs``, ``fuse.s3fs``, ``fuse.gcsfuse``...): a FUSE daemon
    only sees writes passing through this kernel, and the remote-backed ones never notify.
    ``fuseblk`` (ntfs-3g and other local block devices) does not.
    """
    t = fstype.lower()
    return t in NETWORK_FS_TYPES or t.startswith(("fuse.", "nfs"))


# -- wakers --------------------------------------------------------------------------------


class Waker(Protocol):
    """Something that sleeps until the followed file may have changed."""

    mode: WakerMode
    """``"inotify"`` or ``"poll"``, for the status line."""

    def wait(self, timeout: float) -> bool:
        """Sleep at most ``timeout`` seconds. True if woken by a change event, False on timeout
        (or stop)."""
        ...

    def close(self) -> None:
        """Stop the waker's thread, if any. Idempotent."""
        ...


class _EitherEvent:
    """``is_set()`` of two events, for watchfiles' ``stop_event``."""

    def __init__(self, a: threading.Event, b: threading.Event | None) -> None:
        self._a = a
        self._b = b

    def is_set(self) -> bool:
        return self._a.is_set() or (self._b is not None and self._b.is_set())


class PollWaker:
    """Sleeps a fixed interval: for network filesystems and ``--poll``.

    Args:
        interval: seconds between polls (> 0).
        stop_event: when set, :meth:`wait` returns at once.
    """

    mode: WakerMode = "poll"

    def __init__(self, interval: float = DEFAULT_POLL_INTERVAL, *, stop_event: threading.Event | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"poll interval must be positive, got {interval}")
        self.interval = interval
        """Seconds between polls."""
        self._own_stop = stop_event is None
        self._stop = stop_event if stop_event is not None else threading.Event()

    def wait(self, timeout: float) -> bool:
        """Sleep ``min(interval, timeout)`` seconds, or until stopped. Always False: a poll
        timer has no event to report."""
        self._stop.wait(min(self.interval, timeout))
        return False

    def close(self) -> None:
        """Wake a wait in progress when the waker owns its stop event. Idempotent."""
        if self._own_stop:
            self._stop.set()


class InotifyWaker:
    """Wakes on filesystem events about the file, via ``watchfiles.watch()`` in a daemon thread.

    The **parent directory** is watched, not the file: a watch on the file's inode dies at the
    first rotation. While the directory does not exist yet the nearest existing ancestor is
    watched (non-recursively) and the watch moves down as directories appear.

    Args:
        path: the followed file.
        stop_event: when set, the thread ends and :meth:`wait` returns at once.
        debounce_ms: longest time watchfiles groups changes before yielding them (ms).
        step_ms: quiet time after a change before watchfiles yields (ms); also how often its
            loop checks the stop event.

    Raises:
        ImportError: watchfiles is not installed.
    """

    mode: WakerMode = "inotify"

    def __init__(
        self,
        path: str | Path,
        *,
        stop_event: threading.Event | None = None,
        debounce_ms: int = 30,
        step_ms: int = 15,
    ) -> None:
        import watchfiles  # noqa: F401 - fail here, in the caller's thread, if missing

        self.path = Path(os.path.abspath(path))
        self._debounce_ms = debounce_ms
        self._step_ms = step_ms
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._stop = _EitherEvent(self._closed, stop_event)
        self.watched_dir: Path | None = None
        """The directory the watch thread currently watches (None before it starts)."""
        self.settled = threading.Event()
        """Set once the current watch has yielded (so it is in place); cleared on re-target."""
        self.error: BaseException | None = None
        """The exception that ended the watch thread early (then only the safety timer wakes)."""
        self._thread = threading.Thread(target=self._run, name=f"trainmon-watch:{self.path.name}", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Sleep until a change event or ``timeout`` seconds. True if an event woke us."""
        if self._stop.is_set():
            return False
        woken = self._wake.wait(timeout)
        # Clear before the caller polls: an event landing after this wakes the next wait, and
        # events before it are covered by the poll that follows.
        self._wake.clear()
        return woken and not self._stop.is_set()

    def close(self) -> None:
        """Stop the watch thread (within ``step_ms``) and wake any waiter. Idempotent."""
        self._closed.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=1.0)

    def _target(self) -> tuple[Path, str]:
        """(directory to watch, name whose changes matter in it)."""
        child = self.path
        parent = child.parent
        while not parent.is_dir() and parent != parent.parent:
            child, parent = parent, parent.parent
        return parent, child.name

    def _run(self) -> None:
        import watchfiles

        while not self._stop.is_set():
            try:
                self._watch_once(watchfiles)
            # Any failure (watch limit reached, directory removed mid-start, ...) must leave
            # the safety poll working rather than kill the follower.
            except Exception as e:  # noqa: BLE001
                if self.error is None:
                    log.warning(
                        "file watch failed (%s); relying on the %.1f s safety poll",
                        e,
                        SAFETY_INTERVAL,
                    )
                self.error = e
                self.mode = "poll"
                self._wake.set()
                # Retry later: the directory may come back, a watch slot may free up.
                self._closed.wait(_RETRY_S)
        self._wake.set()

    def _watch_once(self, watchfiles: Any) -> None:
        """Watch the current target directory until stopped or until it must be re-targeted."""
        directory, name = self._target()
        prefix = name + "."

        def concerns_us(_change: object, p: str) -> bool:
            # Our name, or a rotated sibling (train.log.1) whose remaining bytes we drain.
            base = os.path.basename(p)
            return base == name or base.startswith(prefix)

        waiting_on_ancestor = directory != self.path.parent
        self.settled.clear()
        self.watched_dir = directory
        # The file may have appeared while the watch was being set up (no event for it):
        # wake once at the first yield of a new watch, at the latest after rust_timeout.
        fresh = True
        for changes in watchfiles.watch(
            directory,
            watch_filter=concerns_us,
            debounce=self._debounce_ms,
            step=self._step_ms,
            stop_event=self._stop,
            # Come back now and then so a deeper directory created before the watch started
            # (no event for it) or a removed watched directory is noticed.
            rust_timeout=1000,
            yield_on_timeout=True,
            raise_interrupt=False,
            recursive=False,
            ignore_permission_denied=True,
        ):
            if self.error is not None:
                self.error = None
                self.mode = "inotify"
            if changes or fresh:
                fresh = False
                self._wake.set()
                self.settled.set()
            if not directory.is_dir() or (waiting_on_ancestor and self._target()[0] != directory):
                self._wake.set()
                return


def make_waker(
    path: str | Path,
    poll: float | None = None,
    *,
    stop_event: threading.Event | None = None,
) -> Waker:
    """Choose the wake-up source for ``path``.

    Args:
        path: the followed file (need not exist yet).
        poll: a poll interval in seconds (``--poll``); forces polling.
        stop_event: when set, the waker stops and its waits return at once.

    Returns:
        A :class:`PollWaker` when ``poll`` is given or the path is on a network filesystem
        (:func:`needs_polling`; interval :data:`DEFAULT_POLL_INTERVAL`), or when watchfiles
        cannot be imported; else an :class:`InotifyWaker`.
    """
    if poll is not None:
        return PollWaker(poll, stop_event=stop_event)
    if needs_polling(fs_type(path)):
        return PollWaker(DEFAULT_POLL_INTERVAL, stop_event=stop_event)
    try:
        return InotifyWaker(path, stop_event=stop_event)
    except ImportError:
        return PollWaker(DEFAULT_POLL_INTERVAL, stop_event=stop_event)
