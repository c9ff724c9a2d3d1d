"""Dicts printed over several lines: hard-wrapped by a terminal, or pretty-printed.

A ``tmux capture-pane`` or a terminal copy at a fixed width cuts a long dict into lines, inside
keys (``'comple`` / ``tions/mean_length'``) and numbers (``0.08838834`` / ``61356163``), and a
cut that fell on a space loses it (the terminal trims line ends). IPython/``pprint`` prints a
dict one key per line (``{'epoch': 3.0,`` / `` 'eval_loss': 0.41,`` / … ``}``). Both are a line
that opens ``{'`` and does not close it: it is joined with the lines that follow (each without
its line end and trailing blanks) up to the first ``}``, and the joined text is read as one
dict. The join stops, unread, at a blank line, at another ``{'`` before the ``}``, or past
:data:`MAX_JOIN_LINES` lines / :data:`MAX_JOIN_BYTES` bytes; a stopped join that looked like
metrics is an unreadable fragment (counted, and said in the report).

The parser holds back the lines of a join still open at the end of what it was fed
(:func:`open_join_start`), so a dict split over several feeds is joined exactly as when the
file is fed whole.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["MAX_JOIN_BYTES", "MAX_JOIN_LINES", "OPENER_RE", "join_at", "looks_like_metrics", "open_join_start"]

MAX_JOIN_LINES = 64
"""Continuation lines joined at most (a 30-key GRPO dict wrapped at 80 columns is ~25 lines)."""
MAX_JOIN_BYTES = 16 << 10
"""Bytes of a joined dict at most."""

OPENER_RE = re.compile(rb"\{'[^}\r\n]*+\r*+\n")
"""``{'`` with no ``}`` up to the end of its line (the line end included). Possessive: a
closed dict fails at its ``}`` without backtracking through its body."""

_METRIC_HINT_RE = re.compile(rb"'(?:[^'\n]*loss|learning_rate|lr|grad_norm|eval_[^'\n]*|epoch|rewards?/?[^'\n]*)'")

JoinResult = tuple[Literal["dict", "broken", "open"], bytes, int]
"""``("dict", text, end)``: the joined text (one ``{…}``), ``end`` just past its last line's
``}``; ``("broken", text, end)``: the join stopped (see the module docstring); ``("open", b"",
-1)``: the buffer ends before the join is decided."""


def _trim(line: bytes) -> bytes:
    return line.rstrip(b"\r\n \t")


def join_at(buf: bytes, s: int, line_end: int) -> JoinResult:
    """Join the dict opened at ``buf[s]`` (``{'``, unclosed up to ``line_end``, the index of
    its line's ``\\n``) with the following lines of ``buf``."""
    parts = [_trim(buf[s:line_end])]
    size = len(parts[0])
    # A constant prefix before every line ("# ", "[rank0]: ") is not part of the dict: a
    # continuation line that starts with the opener line's prefix loses it.
    ls = max(buf.rfind(b"\n", 0, s), buf.rfind(b"\r", 0, s)) + 1
    prefix = buf[ls:s] if s - ls <= 80 and buf[ls:s].strip() else b""
    if size > MAX_JOIN_BYTES:
        return "broken", parts[0], line_end + 1
    pos = line_end + 1
    for _ in range(MAX_JOIN_LINES):
        nl = buf.find(b"\n", pos)
        if nl < 0:
            return "open", b"", -1
        line = buf[pos:nl]
        if prefix and line.startswith(prefix):
            line = line[len(prefix) :]
        elif prefix and line.startswith(prefix.rstrip()):
            line = line[len(prefix.rstrip()) :]
        if not line.strip():
            return "broken", b"".join(parts), pos
        close = line.find(b"}")
        reopen = line.find(b"{'")
        if reopen >= 0 and (close < 0 or reopen < close):
            return "broken", b"".join(parts), pos
        if b"\r" in line.rstrip(b"\r"):
            return "broken", b"".join(parts), pos  # a tqdm redraw: not a wrapped line
        if close >= 0:
            parts.append(line[: close + 1])
            return "dict", b"".join(parts), nl
        part = _trim(line)
        size += len(part)
        if size > MAX_JOIN_BYTES:
            return "broken", b"".join(parts), pos
        parts.append(part)
        pos = nl + 1
    return "broken", b"".join(parts), pos


def looks_like_metrics(text: bytes) -> bool:
    """Whether an unreadable joined text looked like a metric dict (a marker key, and no
    nested dict: a config printed over lines is not a fragment of metrics)."""
    return b"{" not in text[1:] and _METRIC_HINT_RE.search(text) is not None


def open_join_start(buf: bytes) -> int:
    """Start of the line of a join still open at the end of ``buf`` (complete lines), or -1.

    Only the last ``{'`` can be open: a join before it stops at it at the latest."""
    i = buf.rfind(b"{'")
    if i < 0:
        return -1
    start = max(buf.rfind(b"\n", 0, i), buf.rfind(b"\r", 0, i)) + 1
    m = OPENER_RE.match(buf, i)
    if m is None:
        # Closed on its line, or a line ending in "\r" with its "\n" still to come (CRLF
        # cut between the two): the latter is held, as the join depends on the next bytes.
        rest = buf[i:].rstrip(b"\r")
        if b"}" in rest or b"\r" in rest or b"\n" in rest or len(rest) > MAX_JOIN_BYTES:
            return -1
        return start
    return start if join_at(buf, i, m.end() - 1)[0] == "open" else -1
