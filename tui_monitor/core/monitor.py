"""The one place that wires bytes -> `LogParser` -> `RunTally` (+ store and analysis).

`Pipeline` is the synchronous heart used by ``trainmon report`` (one pass over a file),
by the headless ``trainmon tail --plain/--json`` and by the app's worker thread (through
`Monitor`, which adds the tailer and wake-ups).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from tui_monitor.core.parser import LogParser
from tui_monitor.core.records import Event, Item
from tui_monitor.core.tally import RunTally

READ_CHUNK = 1 << 20
"""Bytes read per ``pread`` during catch-up."""


class InputError(Exception):
    """A path that cannot be read as a log: missing, a directory, unreadable.

    The message is one line, suitable for ``trainmon: <message>`` on stderr.
    """


class Pipeline:
    """Parser + tally (+ store and analysis when present) for one log stream.

    Args:
        on_items: optional callback receiving each non-empty batch of parser items, in
            order (the headless ``tail`` prints them).

    Attributes:
        parser: the `LogParser`.
        tally: the `RunTally` (exact counts and per-metric statistics).
        bytes_read: bytes fed so far (all streams).
        version: bumped whenever something changed.
    """

    def __init__(self, on_items: Callable[[list[Item]], None] | None = None) -> None:
        self.parser = LogParser()
        self.tally = RunTally()
        self.bytes_read = 0
        self.version = 0
        self._on_items = on_items

    def feed(self, data: bytes) -> list[Item]:
        """Parse ``data`` (the next bytes of the current stream) and account the items."""
        self.bytes_read += len(data)
        items = self.parser.feed(data)
        self._account(items)
        return items

    def finish(self) -> list[Item]:
        """End of input (one-shot reads): parse the held partial line."""
        items = self.parser.flush()
        self._account(items)
        return items

    def reset(self, reason: str) -> None:
        """The file was truncated / rotated / re-created: start a new byte stream.

        A restarted run shows itself when its first record goes back in epoch or step
        (the parser then emits a `Rewind`); a rotated log just continues.
        """
        self.parser.reset()
        self._account([Event(reason, f"file {reason}", -1, time.time())])  # type: ignore[arg-type]

    def _account(self, items: list[Item]) -> None:
        if not items:
            return
        now = time.time()
        for it in items:
            if hasattr(it, "arrival") and not isinstance(it, Event):
                it.arrival = now  # type: ignore[union-attr]
        self.tally.add_many(items)
        self.version += 1
        if self._on_items is not None:
            self._on_items(items)


def check_readable(path: str | Path) -> Path:
    """Return ``path`` as a `Path` if it is a readable regular file (or a FIFO).

    Raises:
        InputError: missing, a directory, or not readable (one-line message).
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, not a log file")
    try:
        fd = os.open(p, os.O_RDONLY)
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    os.close(fd)
    return p


def read_once(path: str | Path, pipeline: Pipeline | None = None) -> Pipeline:
    """Read the whole file once through a `Pipeline` (``trainmon report``).

    Opens the file read-only (``O_RDONLY``), never locks or writes it; reads it in
    :data:`READ_CHUNK`-byte pieces, so memory stays bounded for any file size.

    Raises:
        InputError: the path is missing, a directory or unreadable.
    """
    p = check_readable(path)
    pipe = pipeline or Pipeline()
    try:
        fd = os.open(p, os.O_RDONLY)
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        offset = 0
        while True:
            try:
                data = os.pread(fd, READ_CHUNK, offset)
            except OSError as e:
                raise InputError(f"{path}: read failed ({e.strerror or e})") from None
            if not data:
                break
            offset += len(data)
            # A trainer_state.json is one document: NUL holes are never in it; console
            # logs may have them after a truncation by a writer without O_APPEND.
            if b"\x00" in data:
                data = data.replace(b"\x00", b"")
            pipe.feed(data)
    finally:
        os.close(fd)
    pipe.finish()
    return pipe
