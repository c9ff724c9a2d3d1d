"""The raw text of a log, read by byte offset on demand: a window of lines around an offset, the
last lines, and the lines matching a regular expression, each in bounded memory whatever the
file's size (toolong's approach: never the whole file in memory, only what is looked at).

Lines are shown as a terminal would have left them: a line that a tqdm bar redrew with ``\\r``
is its last non-empty segment; every control character and escape sequence is made inert
(:func:`~tui_monitor.core.text.inert.inert`). Opened ``O_RDONLY`` for each read, never locked.
"""

from __future__ import annotations

import os
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from tui_monitor.core.parse.framing import ANSI_RE
from tui_monitor.core.text.inert import inert

__all__ = ["MAX_CARRY", "MAX_LINE", "SCAN_LIMIT", "WINDOW", "RawLine", "RawLog", "RawSpan", "shown_text"]

WINDOW = 128 << 10
"""Bytes read on each side of an offset for a window of lines."""

SCAN_LIMIT = 32 << 20
"""Bytes a filter scans, backwards from the end of the file (the latest lines)."""

MAX_LINE = 2000
"""Characters kept of one shown line (a multi-megabyte line of bars becomes its last segment first)."""

MAX_CARRY = 256 << 10
"""Bytes kept of one line still being read (a line longer than this is shown from its last
:data:`MAX_CARRY` bytes: its last ``\\r`` segment is what shows anyway)."""

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class RawLine:
    """One line as shown.

    Attributes:
        offset: byte offset of the line's first byte in the file.
        text: the line's last ``\\r`` segment, escapes removed, control characters as pictures.
    """

    offset: int
    text: str


@dataclass(frozen=True, slots=True)
class RawSpan:
    """Lines read forward from an offset (:meth:`RawLog.read_from`).

    Attributes:
        lines: the complete lines read (those matching the pattern, when one was given), the
            last ``limit`` of them, in file order.
        partial: the file's last line when no newline ends it yet (being written), if it
            matches; ``None`` otherwise.
        end: byte offset just after the last complete line read: where the next read starts.
    """

    lines: list[RawLine]
    partial: RawLine | None
    end: int


def shown_text(raw: bytes) -> str:
    """A line's bytes as the raw log shows them: its last non-empty ``\\r`` segment (what a
    terminal shows of a redrawn tqdm bar) without the blanks that cleared the bar, escape
    sequences removed, decoded with replacement, control characters as pictures, at most
    :data:`MAX_LINE` characters."""
    segs = [s for s in raw.rstrip(b"\r").split(b"\r") if s.strip()]
    last = segs[-1] if segs else b""
    text = ANSI_RE.sub(b"", last[-4 * MAX_LINE :]).decode("utf-8", "replace").rstrip()
    if len(segs) > 1 or raw.startswith(b"\r"):
        # After a redraw the leading blanks are the bar being cleared (tqdm.write), not indentation.
        text = text.lstrip(" ")
    return inert(text)[:MAX_LINE]


def _lines(buf: bytes, base: int, drop_first: bool, drop_last: bool) -> list[RawLine]:
    """Split ``buf`` (read from ``base``) into lines; a partial first/last line is dropped."""
    parts = buf.split(b"\n")
    offs = []
    pos = base
    for p in parts:
        offs.append(pos)
        pos += len(p) + 1
    items = list(zip(offs, parts))
    if drop_first and items:
        items = items[1:]
    if drop_last and items:
        items = items[:-1]
    elif items and not items[-1][1]:
        items = items[:-1]  # the file ends with a newline: no empty last line
    return [RawLine(o, shown_text(p)) for o, p in items]


class RawLog:
    """Reads lines of ``path`` on demand (each call opens, ``pread``s and closes the file).

    Args:
        path: the log file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    def size(self) -> int:
        """The file's size now (bytes), 0 when it cannot be read."""
        try:
            return os.stat(self.path).st_size
        except OSError:
            return 0

    def _read(self, start: int, end: int) -> bytes:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return b""
        try:
            return os.pread(fd, max(end - start, 0), start)
        except OSError:
            return b""
        finally:
            os.close(fd)

    def around(self, offset: int, window: int = WINDOW) -> tuple[list[RawLine], int]:
        """The whole lines within ``window`` bytes either side of ``offset``.

        Returns:
            ``(lines, index)``: the lines in file order, and the index of the line holding
            ``offset`` (the last line when ``offset`` is past the end).
        """
        size = self.size()
        offset = min(max(offset, 0), size)
        start, end = max(0, offset - window), min(size, offset + window)
        lines = _lines(self._read(start, end), start, start > 0, end < size)
        index = len(lines) - 1
        for i, ln in enumerate(lines):
            if ln.offset > offset:
                index = max(i - 1, 0)
                break
        return lines, max(index, 0)

    def tail(self, window: int = WINDOW) -> list[RawLine]:
        """The whole lines of the last ``window`` bytes."""
        size = self.size()
        start = max(0, size - window)
        return _lines(self._read(start, size), start, start > 0, False)

    def grep(self, pattern: re.Pattern[str], limit: int = 1000, scan: int = SCAN_LIMIT) -> tuple[list[RawLine], bool]:
        """The latest ``limit`` lines whose shown text matches ``pattern``, among the last
        ``scan`` bytes, in file order.

        Returns:
            ``(lines, whole)``: ``whole`` is False when the scan stopped before the start of the
            file (at ``scan`` bytes or ``limit`` matches).
        """
        size = self.size()
        end = size
        found: list[RawLine] = []
        carry = b""
        floor = max(0, size - scan)
        while end > floor and len(found) < limit:
            start = max(floor, end - _CHUNK)
            buf = self._read(start, end) + carry
            cut = buf.find(b"\n") if start > 0 else -1
            # The part before the first newline may continue in the previous chunk: carried.
            carry, body, base = (buf[: cut + 1], buf[cut + 1 :], start + cut + 1) if cut >= 0 else (b"", buf, start)
            chunk = [ln for ln in _lines(body, base, False, False) if pattern.search(ln.text)]
            found = chunk + found
            end = start
        whole = end == 0 and len(found) <= limit
        return found[-limit:], whole

    def complete_end(self, size: int | None = None) -> int:
        """Byte offset just after the file's last newline (its size when it ends with one): the
        bytes after it are a line still being written. Looks back at most :data:`MAX_CARRY`
        bytes (a longer unfinished line: the offset where that look-back starts)."""
        size = self.size() if size is None else size
        start = max(0, size - MAX_CARRY)
        tail = self._read(start, size)
        cut = tail.rfind(b"\n")
        return start + cut + 1 if cut >= 0 else start

    def read_from(
        self, start: int, pattern: re.Pattern[str] | None = None, limit: int = 4000, stop: int | None = None
    ) -> RawSpan:
        """The lines from ``start`` (a line's first byte) to ``stop`` (default: the end of the
        file), read in 1 MiB pieces: memory stays bounded by ``limit`` lines whatever the span.

        Args:
            start: byte offset of a line's first byte.
            pattern: keep only the lines whose shown text it matches (``None``: every line).
            limit: the last this many lines are kept.
            stop: read up to this offset (clamped to the file's size).

        Returns:
            A :class:`RawSpan`; its ``partial`` is set only when the read reached the end of
            the file and the last line has no newline yet.
        """
        size = self.size()
        stop = size if stop is None else min(stop, size)
        found: deque[RawLine] = deque(maxlen=max(limit, 1))
        base = pos = max(start, 0)
        carry = b""
        while pos < stop:
            data = self._read(pos, min(stop, pos + _CHUNK))
            if not data:
                break
            pos += len(data)
            buf = carry + data
            cut = buf.rfind(b"\n")
            if cut < 0:
                if len(buf) > MAX_CARRY:  # one very long line: keep its end
                    buf = buf[-MAX_CARRY:]
                    base = pos - len(buf)
                carry = buf
                continue
            for ln in _lines(buf[: cut + 1], base, False, False):
                if pattern is None or pattern.search(ln.text):
                    found.append(ln)
            base += cut + 1
            carry = buf[cut + 1 :]
        partial = None
        if carry and pos >= size:
            ln = RawLine(base, shown_text(carry))
            if pattern is None or pattern.search(ln.text):
                partial = ln
        return RawSpan(list(found), partial, base)
