"""The follow loop: wait for a wake-up, poll the tailer, hand on non-empty batches."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tui_monitor.core.follow.tailer import DEFAULT_CHUNK_SIZE, Tailer, TailItem
from tui_monitor.core.follow.wake import SAFETY_INTERVAL, Waker, WakerMode, make_waker

__all__ = ["Follower", "follow"]


class Follower:
    """Iterator of non-empty :meth:`Tailer.poll` batches: wait for a wake-up, poll, repeat.

    Polls right away at start, on each wake-up, at least every ``safety_interval`` seconds,
    and again without waiting while the tailer is :attr:`~Tailer.behind`. With ``quiet_after``
    (seconds, > 0) an empty batch comes once the file has been quiet that long after new data
    (the reader may then give out what it held for more bytes). Iteration ends
    when ``stop_event`` is set (within the waker's step, about 15 ms with inotify, or one
    poll interval); the waker and tailer are then closed.

    Attributes:
        tailer: the :class:`Tailer` (its ``state``, ``offset``, ``size`` for a status line).
        waker: the :class:`Waker` (its ``mode``).

    Raises:
        TailError: from the constructor, when the path is a directory or unreadable.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        stop_event: threading.Event,
        poll: float | None = None,
        from_end: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        safety_interval: float = SAFETY_INTERVAL,
        quiet_after: float = 0.0,
    ) -> None:
        self.tailer = Tailer(path, from_end=from_end, chunk_size=chunk_size)
        self.stop_event = stop_event
        self.safety_interval = safety_interval
        self.waker: Waker = make_waker(path, poll, stop_event=stop_event)
        self.quiet_after = quiet_after
        self._quiet_due: float | None = None
        self._first = True

    @property
    def mode(self) -> WakerMode:
        """``"inotify"`` or ``"poll"``."""
        return self.waker.mode

    def __iter__(self) -> Iterator[list[TailItem]]:
        return self

    def __next__(self) -> list[TailItem]:
        while not self.stop_event.is_set():
            if self._first:
                self._first = False
            elif not self.tailer.behind:
                wait = self.safety_interval if self._quiet_due is None else min(self.safety_interval, self.quiet_after)
                self.waker.wait(wait)
                if self.stop_event.is_set():
                    break
            items = self.tailer.poll()
            if items:
                self._quiet_due = time.monotonic() + self.quiet_after if self.quiet_after else None
                return items
            if self._quiet_due is not None and time.monotonic() >= self._quiet_due:
                self._quiet_due = None
                return []  # the file has been quiet for quiet_after seconds since the last data
        self.close()
        raise StopIteration

    def close(self) -> None:
        """Stop the waker and close the file. Idempotent."""
        self.waker.close()
        self.tailer.close()

    def __enter__(self) -> Follower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def follow(
    path: str | Path,
    *,
    stop_event: threading.Event,
    poll: float | None = None,
    from_end: bool = False,
) -> Follower:
    """Follow ``path`` until ``stop_event`` is set, yielding non-empty batches of tail items.

    Args:
        path: the log file (need not exist yet).
        stop_event: set it (from any thread) to end the iteration.
        poll: poll interval in seconds, forcing polling (``--poll``); None = inotify unless the
            file is on a network filesystem.
        from_end: skip the file's current content.

    Returns:
        A :class:`Follower`: ``for batch in follow(...)`` gives ``list[TailItem]`` batches, and
        its ``mode`` / ``tailer.state`` feed a status line.

    Raises:
        TailError: the path is a directory or unreadable at start.
    """
    return Follower(path, stop_event=stop_event, poll=poll, from_end=from_end)
