"""JSON lines: one JSON object per line (LLaMA-Factory ``trainer_log.jsonl``, generic metric logs).

A line that is not JSON (a rank-prefixed dict, a crash, a Python dict literal the Trainer
printed) is read as console output, so a log sniffed from a JSON first line loses nothing.
"""

from __future__ import annotations

import json

from tui_monitor.core.parse.console import ConsoleReader
from tui_monitor.core.parse.items import Record
from tui_monitor.core.parse.policy import Out
from tui_monitor.core.parse.values import build_record, json_int, to_float

__all__ = ["WALL_TIME", "JsonLinesReader"]

WALL_TIME = "wall_time"
"""The key of a JSON line's write time (seconds since the epoch), never read as a metric."""


class JsonLinesReader:
    """Reads complete JSON-lines buffers into items, through the console reader's policy.

    Args:
        console: the console reader (for non-JSON lines; its policy and counts are shared).
    """

    def __init__(self, console: ConsoleReader) -> None:
        self.console = console

    def parse(self, buf: bytes, base: int) -> Out:
        """Items of ``buf`` (whole lines), in file order; ``base`` is the offset of ``buf[0]``."""
        console = self.console
        counts = console.counts
        out: Out = []
        pos = 0
        for line in buf.splitlines(keepends=True):
            start = pos
            pos += len(line)
            text = line.strip()
            if not text:
                continue
            if not text.startswith(b"{"):
                out.extend(console.parse(line, base + start))
                continue
            try:
                obj = json.loads(text, parse_int=json_int)
            except ValueError:
                # Not JSON: a Python dict literal the Trainer printed, or a broken line.
                got = console.parse(line, base + start)
                if not any(isinstance(it, Record) for it in got):
                    counts.skipped += 1
                out.extend(got)
                continue
            if not isinstance(obj, dict):
                counts.skipped += 1
                continue
            flat = {k: v for k, v in obj.items() if isinstance(v, (int, float, str, type(None)))}
            # When the line was written (seconds since the epoch; TensorBoard's name for an event's
            # time, written by trainmon's Trainer callback): a time, not a metric. Only in JSON
            # lines: a console dict's keys are the training's own.
            flat.pop(WALL_TIME, None)
            for k, v in list(flat.items()):
                if isinstance(v, str) and k not in ("global_step/max_steps",):
                    f = to_float(v)
                    if f is not None:
                        flat[k] = f
            rec, prog = build_record(flat, offset=base + start)
            if prog is not None:
                out.append(prog)
            if rec is not None:
                console.policy.emit(rec, out)
        return out
