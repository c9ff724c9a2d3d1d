"""The log's own clock: timestamps at the start of a line (core/parse/stamps.py), and crash
events carrying them from the real parser."""

from __future__ import annotations

import calendar
import time

from helpers import FIXTURES

from tui_monitor.core.parse.stamps import line_time
from tui_monitor.core.pipeline import Pipeline


def _local(y: int, mo: int, d: int, h: int, mi: int, s: int) -> float:
    return time.mktime((y, mo, d, h, mi, s, 0, 0, -1))


def test_the_usual_logger_formats_are_read() -> None:
    # GIVEN lines as Python logging, DeepSpeed, the HF example scripts and ISO 8601 print them
    t = _local(2026, 1, 2, 10, 0, 1)
    assert line_time("2026-01-02 10:00:01 INFO Killed") == t
    assert line_time("[2026-01-02 10:00:01,123] [ERROR] [launch.py:321] x") == t + 0.123
    assert line_time("01/02/2026 10:00:01 - INFO - __main__ - x") == t
    assert line_time("2026-01-02T10:00:01.5Z Traceback") == calendar.timegm((2026, 1, 2, 10, 0, 1)) + 0.5
    assert line_time("2026-01-02 10:00:01+02:00 x") == calendar.timegm((2026, 1, 2, 8, 0, 1))


def test_lines_without_a_leading_time_have_none() -> None:
    for line in (
        "Traceback (most recent call last):",
        "[INFO|trainer.py:2345] 2026-01-02 10:00:01 >> x",  # the time does not lead the line
        "2026-13-02 10:00:01 x",  # no month 13
        "{'loss': 2.0, 'epoch': 0.5}",
        "",
    ):
        assert line_time(line) is None, line


def test_crash_events_carry_the_time_of_their_line() -> None:
    # GIVEN a real log followed by a timestamped OOM line and an unstamped traceback
    data = (FIXTURES / "real" / "hf5_linear_warmup_unbuffered.log").read_bytes()
    data += b"Traceback (most recent call last):\n"
    data += b"[2026-01-02 10:00:01,123] [ERROR] torch.OutOfMemoryError: CUDA out of memory.\n"
    pipe = Pipeline()
    pipe.feed(data)
    pipe.finish()
    # WHEN the events are read THEN the OOM has its line's time, the traceback none
    times = {e.kind: e.time for e in pipe.run.snapshot().events}
    assert times["oom"] == _local(2026, 1, 2, 10, 0, 1) + 0.123
    assert times["traceback"] is None
