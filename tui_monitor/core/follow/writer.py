"""Which process writes the log: found through ``/proc/*/fd`` on Linux, watched for its end.

The Python process of ``python train.py > train.log`` (or ``tee`` for ``| tee train.log``)
holds the log open for writing. When it exits without a summary record, the run ended without
finishing — a SIGKILL leaves no other trace. Where no writer can be seen (no ``/proc``, another
user's process, a network filesystem written from another node) nothing is said about a process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROC", "Writer", "WriterWatch", "find_writers", "still_writing"]

PROC = Path("/proc")
"""Where Linux shows its processes."""

_ACCMODE = 0o3
"""``O_ACCMODE``: the access bits of an fd's ``flags`` in ``/proc/<pid>/fdinfo/<fd>`` (octal)."""


@dataclass(frozen=True, slots=True)
class Writer:
    """A process that has the log open for writing.

    Attributes:
        pid: its process id.
        command: its command line (arguments joined by spaces, at most 200 characters); data
            from the system, shown as text.
    """

    pid: int
    command: str


def _command(pid: str, proc: Path) -> str:
    try:
        with open(f"{proc}/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()[:200]


def find_writers(path: str | Path, proc: Path = PROC) -> list[Writer] | None:
    """The processes that have ``path`` open for writing.

    Args:
        path: the log file.
        proc: the ``/proc`` directory.

    Returns:
        The writers (maybe empty), or ``None`` when this system shows no processes (no
        ``/proc``): then nothing can be said about a writer.
    """
    if not proc.is_dir():
        return None
    try:
        target = os.path.realpath(path)
        st = os.stat(target)
    except OSError:
        return []
    me = str(os.getpid())
    out: list[Writer] = []
    try:
        pids = [d for d in os.listdir(proc) if d.isdigit() and d != me]
    except OSError:
        return None
    # Paths are joined as plain strings: pathlib interns every part (sys.intern), and the
    # interned pids and fd numbers of a full look every few seconds made the interpreter's
    # string table grow for hours (BENCHMARKS.md, "Soak").
    for pid in pids:
        fd_dir = f"{proc}/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or another user's process
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") != target:
                    continue
                fst = os.stat(f"{fd_dir}/{fd}")
                if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
                    continue
                with open(f"{proc}/{pid}/fdinfo/{fd}") as f:
                    info = f.read()
            except OSError:
                continue
            flags = next((line.split()[1] for line in info.splitlines() if line.startswith("flags:")), "0")
            if int(flags, 8) & _ACCMODE:  # O_WRONLY or O_RDWR
                out.append(Writer(int(pid), _command(pid, proc)))
                break
    return out


class WriterWatch:
    """Looks for the log's writer now and then and notices when the last one is gone.

    A full look lists every process's fds (3.6 ms for 73 processes here; more on a busy
    server), so it is made every 0.25 s only for the first 2 s, then every
    :data:`SEARCH_EVERY` seconds; once writers are known only their own fds are looked at,
    every ``every`` seconds.

    Args:
        path: the log file.
        every: seconds between looks at known writers.

    Attributes:
        writers: the writers found by the latest look (empty before one was seen).
        gone: the writers that were seen and are no longer there (the run's process ended).
        visible: whether this system shows processes at all.
    """

    def __init__(self, path: str | Path, every: float = 1.0) -> None:
        self.path = path
        self.every = every
        self.writers: tuple[Writer, ...] = ()
        self.gone: tuple[Writer, ...] = ()
        self.visible = True
        self._next = 0.0
        self._searches = 0

    def check(self, now: float) -> bool:
        """Look again if it is time (``now``: monotonic seconds). Returns whether what is known
        of the writers changed."""
        if now < self._next or not self.visible:
            return False
        if self.writers:
            self._next = now + self.every
            alive = tuple(w for w in self.writers if still_writing(w.pid, self.path))
            if alive == self.writers:
                return False
            if not alive:
                self.gone = self.writers
            self.writers = alive
            return True
        # A short run may come and go in a second: look often at first, then seldom.
        self._searches += 1
        self._next = now + (0.25 if self._searches <= FAST_SEARCHES else SEARCH_EVERY)
        found = find_writers(self.path)
        if found is None:
            self.visible = False
            return False
        if not found:
            return False
        self.writers, self.gone = tuple(found), ()
        return True


FAST_SEARCHES = 8
"""Full looks made 0.25 s apart after the start (2 s), before they slow down to SEARCH_EVERY."""

SEARCH_EVERY = 5.0
"""Seconds between full looks for a writer once the first seconds have passed."""


def still_writing(pid: int, path: str | Path, proc: Path = PROC) -> bool:
    """Whether process ``pid`` still has ``path`` open (a cheap look at its fds only).

    Args:
        pid: a process id (from :func:`find_writers`).
        path: the log file.
        proc: the ``/proc`` directory.
    """
    target = os.path.realpath(path)
    fd_dir = f"{proc}/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return False  # the process is gone (or a zombie: its fds are closed)
    for fd in fds:
        try:
            if os.readlink(f"{fd_dir}/{fd}") == target:
                return True
        except OSError:
            continue  # an fd closed while we looked
    return False
