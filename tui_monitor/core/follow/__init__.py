"""Stage 1, follow: bytes of a growing log file, file resets, and the wake-ups that drive reading.

- :mod:`~tui_monitor.core.follow.tailer`: :class:`Tailer` reads by byte offset (``pread``,
  read-only) and reports truncation, rotation, deletion and re-creation as :class:`Reset` items
  between :class:`Chunk` items.
- :mod:`~tui_monitor.core.follow.wake`: what wakes the reader: inotify through watchfiles on the
  parent directory, or a poll timer (chosen automatically on network filesystems).
- :mod:`~tui_monitor.core.follow.follower`: :class:`Follower`, the loop that waits for a
  wake-up and hands on non-empty batches of tail items.
- :mod:`~tui_monitor.core.follow.remote`: the same items for ``user@host:/path`` through the
  user's own ssh (``RemoteFollower``), and a one-shot remote read for ``report``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_monitor.core.follow.follower import Follower, follow
    from tui_monitor.core.follow.tailer import (
        DEFAULT_CHUNK_SIZE,
        HEAD_FINGERPRINT_BYTES,
        Chunk,
        Reset,
        ResetReason,
        Tailer,
        TailError,
        TailItem,
        TailState,
    )
    from tui_monitor.core.follow.wake import (
        DEFAULT_POLL_INTERVAL,
        SAFETY_INTERVAL,
        InotifyWaker,
        PollWaker,
        Waker,
        WakerMode,
        fs_type,
        fs_type_from_mountinfo,
        make_waker,
        needs_polling,
        parse_mountinfo,
    )

_HOME = {
    **dict.fromkeys(("Follower", "follow"), "follower"),
    **dict.fromkeys(
        ("DEFAULT_CHUNK_SIZE", "HEAD_FINGERPRINT_BYTES", "Chunk", "Reset", "ResetReason", "Tailer", "TailError")
        + ("TailItem", "TailState"),
        "tailer",
    ),
    **dict.fromkeys(
        ("DEFAULT_POLL_INTERVAL", "SAFETY_INTERVAL", "InotifyWaker", "PollWaker", "Waker", "WakerMode", "fs_type")
        + ("fs_type_from_mountinfo", "make_waker", "needs_polling", "parse_mountinfo"),
        "wake",
    ),
}
"""The submodule of each name this package exports. They are imported on first use (PEP 562):
`report` reads a file once and only looks for its writer (`writer`), so it need not load the
follower, the wakers and logging (~15 M instructions of its start-up)."""


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_POLL_INTERVAL",
    "HEAD_FINGERPRINT_BYTES",
    "SAFETY_INTERVAL",
    "Chunk",
    "Follower",
    "InotifyWaker",
    "PollWaker",
    "Reset",
    "ResetReason",
    "TailError",
    "TailItem",
    "TailState",
    "Tailer",
    "Waker",
    "WakerMode",
    "follow",
    "fs_type",
    "fs_type_from_mountinfo",
    "make_waker",
    "needs_polling",
    "parse_mountinfo",
]
