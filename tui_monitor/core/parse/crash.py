"""Crash evidence in console output: tracebacks, CUDA OOM, ``Killed``, NCCL timeouts, and the
exception line that closes a traceback; and the Trainer's ``Training completed.`` line, after
which an error is not a crash of the training."""

from __future__ import annotations

import re

from tui_monitor.core.parse.framing import clean_line, has_any, segment_start
from tui_monitor.core.parse.items import Event, ParsedItem
from tui_monitor.core.parse.stamps import line_time

__all__ = ["CRASH_WORDS", "CrashScanner"]

_CRASH_RE = re.compile(
    rb"Training completed\. Do not forget"  # the Trainer's last line: what follows is after training
    rb"|Traceback \(most recent call last\):"
    rb"|CUDA out of memory|OutOfMemoryError"
    rb"|(?:^|[\r\n]|\s)Killed(?=\s|$)"
    rb"|Watchdog caught collective operation timeout|NCCL[^\r\n]{0,200}?[Tt]imed? ?out"
)
CRASH_WORDS = {
    b"T": (b"Traceback", b"Training completed"),
    b"C": (b"CUDA out of memory",),
    b"O": (b"OutOfMemoryError",),
    b"K": (b"Killed",),
    b"N": (b"NCCL",),
    b"W": (b"Watchdog",),
}
"""A literal that every `_CRASH_RE` match contains, by first letter."""
_EXC_LINE_RE = re.compile(
    rb"(?m)^(?:\[rank\d+\]: |\d{1,4}: )?((?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Interrupt|Exit)\b[^\r\n]*)"
)


class CrashScanner:
    """Finds crash events in complete console buffers, in file order.

    Attributes:
        in_traceback: a ``Traceback`` was seen and its closing exception line not yet.
    """

    def __init__(self) -> None:
        self.in_traceback = False

    def scan(self, buf: bytes, base: int, order: int, may: bool = True) -> list[tuple[int, int, ParsedItem]]:
        """Crash events in ``buf`` as ``(offset, order, Event)`` tuples (``order`` counts up from
        the given one; the caller merges them with its other items by offset). ``may`` is False
        when the caller knows that no word of `CRASH_WORDS` is in ``buf`` (a `framing.Survey`)."""
        found: list[tuple[int, int, ParsedItem]] = []
        if not (self.in_traceback or (may and has_any(buf, CRASH_WORDS))):
            return found
        line_start, line_end, line_kinds = 0, -1, set()
        for m in _CRASH_RE.finditer(buf):
            tok = m.group().strip()
            if tok.startswith(b"Training"):
                kind = "finished"
            elif tok.startswith(b"Traceback"):
                kind = "traceback"
                self.in_traceback = True
            elif tok in (b"CUDA out of memory", b"OutOfMemoryError"):
                kind = "oom"
            elif tok == b"Killed":
                kind = "killed"
            else:
                kind = "nccl_timeout"
            if m.start() < line_end:
                # Same line as the previous match: one event per kind and line (a line
                # repeating "Killed" made an event per word, each re-scanning the line: O(n²)).
                if kind in line_kinds:
                    continue
                line_kinds.add(kind)
                ls, le = line_start, line_end
            else:
                ls = segment_start(buf, m.start() + 1)
                if buf[m.start() : m.start() + 1] in (b"\n", b"\r"):
                    ls = m.start() + 1
                le = len(buf)
                for sep in (b"\n", b"\r"):
                    i = buf.find(sep, m.end())
                    if 0 <= i < le:
                        le = i
                line_start, line_end, line_kinds = ls, le, {kind}
            if kind == "oom" and found and found[-1][2].kind == "oom" and found[-1][0] == base + ls:  # type: ignore[union-attr]
                continue
            line = clean_line(buf[ls : min(le, ls + 8192)])
            found.append((base + ls, order, Event(kind, line, base + ls, time=line_time(line))))  # type: ignore[arg-type]
            order += 1
        if self.in_traceback:
            for m in _EXC_LINE_RE.finditer(buf):
                tb = [f for f in found if f[2].kind == "traceback"]  # type: ignore[union-attr]
                if tb and base + m.start() < tb[0][0]:
                    continue
                self.in_traceback = False
                if any(f[0] == base + m.start() for f in found):
                    break  # the closing line is already an event (an OOM line): say it once
                # (An exception line starts with the exception's name: it carries no timestamp.)
                found.append((base + m.start(), order, Event("error", clean_line(m.group(1)), base + m.start())))
                order += 1
                break
        return found
