"""The log's own clock: a wall-clock timestamp at the start of a line, as Python's ``logging``
(``2026-01-02 10:00:01,123 INFO ...``), DeepSpeed's (``[2026-01-02 10:00:01,123] [INFO] ...``),
the Hugging Face example scripts' (``01/02/2026 10:00:01 - INFO - ...``, month first) and
ISO 8601 (``2026-01-02T10:00:01.5Z``) print it. The time must lead the line:
``[INFO|trainer.py:2345] 2026-01-02 10:00:01 >> ...`` is not read.
"""

from __future__ import annotations

import re
import time

__all__ = ["line_time"]

_STAMP_RE = re.compile(
    r"^\s*\[?(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6}))?\s*(Z|[+-]\d\d:?\d\d)?(?=[\]\s|]|$)"
)
"""A date and a time at the start of a line (optionally in ``[...]``), fractions of a second
after ``.`` or ``,``, an optional UTC offset."""
_US_STAMP_RE = re.compile(r"^\s*\[?(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6}))?(?=[\]\s]|$)")
"""``%m/%d/%Y %H:%M:%S``: the logging format of the transformers example scripts."""


def line_time(line: str) -> float | None:
    """The timestamp a line starts with, in seconds since the epoch, or ``None``.

    A time without a UTC offset is the writer's local time (what ``logging`` prints), read in
    this machine's time zone: the log is usually read where it is written. An impossible date
    (month 13) is no timestamp.

    Args:
        line: one log line (already decoded).
    """
    m = _STAMP_RE.match(line)
    if m is not None:
        y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
        tz = m.group(8)
    else:
        m = _US_STAMP_RE.match(line)
        if m is None:
            return None
        mo, d, y, h, mi, s = (int(g) for g in m.groups()[:6])
        tz = None
    frac = float("0." + m.group(7)) if m.group(7) else 0.0
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 61):
        return None
    fields = (y, mo, d, h, mi, s, 0, 0, -1)
    try:
        if tz is None:
            return time.mktime(fields) + frac
        import calendar  # here: most stamps name no UTC offset (~3 M instructions of start-up)

        secs = calendar.timegm(fields) + frac
    except (OverflowError, ValueError):
        return None
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        secs -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return secs
