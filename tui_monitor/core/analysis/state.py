"""Run state: running / stalled / finished / crashed, with the evidence."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tui_monitor.core.parse import Event

__all__ = ["RunState", "StateWord", "run_state", "CRASH_KINDS"]

StateWord = Literal["running", "stalled", "finished", "crashed", "superseded", "ended", "empty"]

CRASH_KINDS = ("oom", "nccl_timeout", "killed", "error", "traceback")
"""Event kinds that end a run, most telling first (the line shown is the best of them)."""

STALL_FACTOR = 5.0
"""Stalled when the silence exceeds this many median inter-arrival intervals ..."""

STALL_MIN_S = 120.0
"""... and at least this many seconds."""


@dataclass(frozen=True, slots=True)
class RunState:
    """The run's state.

    Attributes:
        word: ``running`` / ``stalled`` / ``finished`` / ``crashed`` / ``empty`` (no record yet).
        why: ``"summary"``, ``"step==total"``, ``"final line"``, the crash event kind, ``"silence"``
            or ``""``.
        line: the log line that says so (crash), else ``""``. Data, never markup.
        offset: byte offset of that line, or -1.
        silence_s: seconds since the last record or progress update (when ``now`` was given), else None.
        median_interval_s: median seconds between records, or None.
        late_line: an error read after the run had finished (a summary or the Trainer's
            ``Training completed.`` line, and no record after it): said as an event, not a
            crash; ``""`` when none.
    """

    word: StateWord
    why: str
    line: str
    offset: int
    silence_s: float | None
    median_interval_s: float | None
    late_line: str = ""


_WRAPPER_RE = ("ChildFailedError", "torch.distributed.elastic", "CalledProcessError")
"""A launcher's wrapper around a child's failure (torchrun's ``ChildFailedError``): it
never replaces the child's own error as the cause."""


def _root_cause(crash: Sequence[Event]) -> Event:
    """The event that names the cause: the most telling kind (:data:`CRASH_KINDS`), the
    latest of it, a launcher's wrapper only when nothing else is there."""
    own = [e for e in crash if not any(w in e.line for w in _WRAPPER_RE)] or list(crash)
    return min(own, key=lambda e: (CRASH_KINDS.index(e.kind), -e.offset))


def run_state(
    *,
    has_records: bool,
    last_record_offset: int,
    summary_offset: int | None,
    at_total: bool,
    finished_marker: bool,
    events: Sequence[Event],
    arrivals: np.ndarray,
    last_activity: float,
    now: float | None,
    superseded: bool = False,
    last_write: float | None = None,
    writer_gone: bool = False,
) -> RunState:
    """Decide running / stalled / finished / crashed.

    Rules: a crash event (traceback, OOM, ``Killed``, NCCL timeout, exception line) counts only if
    its byte offset is after the last metric record and after the last summary: a resumed run's
    log keeps the first segment's ``KeyboardInterrupt`` but continues. Otherwise a summary record,
    step == total, or a final-line marker (LLaMA-Factory ``percentage: 100``) is ``finished``.
    Otherwise, with ``now`` given, a silence > max(5 × median inter-arrival, 120 s) since the last
    record or progress update is ``stalled``; else ``running``.

    Args:
        has_records: any metric record stored.
        last_record_offset: byte offset of the last record (-1 if none).
        summary_offset: byte offset of the last summary record, or None.
        at_total: step >= total steps.
        finished_marker: an end-of-run line was read.
        events: parser/tailer events in file order (tailer events have offset -1 and are ignored).
        arrivals: ``(k,) float64`` arrival times of recent records (seconds since the epoch).
        last_activity: arrival of the latest progress item (seconds), 0 if unknown.
        now: current time (seconds since the epoch) or None (no stall detection: reports).
        superseded: a later run started in the same log (then it is ``superseded``, not
            running or stalled, unless it finished or crashed).
        last_write: when the log was last written (``st_mtime``, seconds since the epoch), or
            ``None``: then the silence counts from the last record or progress read.
        writer_gone: the process that had the log open for writing exited (then the run
            ``ended`` without finishing, unless it finished or crashed).
    """
    floor = max(last_record_offset, summary_offset if summary_offset is not None else -1)
    crash = [e for e in events if e.kind in CRASH_KINDS and e.offset >= 0 and e.offset > floor]
    # The run finished before these errors when a summary or the Trainer's "Training
    # completed." line came after the last record: an error in post-training work (an
    # analysis running out of memory, another model's caught exception) is an event.
    done = [e.offset for e in events if e.kind == "finished" and e.offset > last_record_offset]
    finish_at = max(done, default=summary_offset if summary_offset is not None else -1)
    late = ""
    if crash and finish_at >= 0 and finish_at >= last_record_offset and all(e.offset > finish_at for e in crash):
        late = _root_cause(crash).line
        crash = []
    finished_marker = finished_marker or bool(done)
    med: float | None = None
    arr = arrivals[arrivals > 0] if arrivals.size else arrivals
    if arr.shape[0] >= 3:
        d = np.diff(arr)
        d = d[d > 0]
        if d.size:
            med = float(np.median(d))
    # The run's clock is the file's: its last write when known (a file read long after it was
    # written is as silent as its age), else when records and progress were read.
    last = last_write if last_write else max(float(arr[-1]) if arr.size else 0.0, last_activity)
    silence = (now - last) if (now is not None and last > 0) else None
    if crash:
        best = _root_cause(crash)
        return RunState("crashed", best.kind, best.line, best.offset, silence, med)
    if summary_offset is not None:
        return RunState("finished", "summary", "", summary_offset, silence, med, late)
    if at_total:
        return RunState("finished", "step==total", "", -1, silence, med, late)
    if finished_marker:
        return RunState("finished", "final line", "", -1, silence, med, late)
    if not has_records:
        return RunState("empty", "", "", -1, silence, med)
    if superseded:
        # A later run started in the same log: this one stopped without a summary or a crash.
        return RunState("superseded", "next run", "", -1, silence, med)
    if writer_gone:
        # The process that wrote the log exited and left no summary (a SIGKILL leaves no trace).
        return RunState("ended", "writer gone", "", -1, silence, med)
    if silence is not None:
        limit = max(STALL_FACTOR * med, STALL_MIN_S) if med is not None and math.isfinite(med) else STALL_MIN_S
        if silence > limit:
            return RunState("stalled", "silence", "", -1, silence, med)
    return RunState("running", "", "", -1, silence, med)
