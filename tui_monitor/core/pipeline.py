"""The one place that wires parse -> state: `Pipeline`, and whole-file reads (`read_once`).

`Pipeline` is the synchronous heart used by ``trainmon report`` (one pass over a file), by the
headless ``trainmon tail --plain/--json`` and by the app's worker thread (through
:class:`~tui_monitor.core.monitor.Monitor`, which adds following the file).
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tui_monitor.core.analysis import Baseline, Health, analyse
from tui_monitor.core.analysis.checkpoints import CheckpointDisk
from tui_monitor.core.checkpoint_files import CheckpointLook
from tui_monitor.core.parse import (
    COLUMNAR_MIN,
    Batch,
    Event,
    Format,
    LogParser,
    ParsedItem,
    Progress,
    Record,
    RunInfo,
    RunStart,
    is_main_rank,
)
from tui_monitor.core.state import Run, RunSnapshot

if TYPE_CHECKING:  # the writer look and ssh are imported when used: `report` need not load the follower
    from tui_monitor.core.follow.remote import RemoteSpec
    from tui_monitor.core.follow.writer import Writer

__all__ = [
    "FIRST_PIECE",
    "READ_CHUNK",
    "SERIES_CAPACITY",
    "InputError",
    "Pipeline",
    "baseline_for",
    "check_readable",
    "feed_range",
    "read_baseline",
    "read_once",
]

READ_CHUNK = 1 << 20
"""Bytes read per ``pread`` during catch-up."""

FULL_RUNS = 8
"""Runs of a log that keep their numeric series (for the chart and comparisons); earlier ones
keep their counts, statistics and progress only, so a sweep of thousands of runs stays bounded."""

SERIES_CAPACITY = 4096
"""Points per series a run keeps at full resolution (the detectors' window; older points live on
in the decimated history)."""

FIRST_PIECE = 64 << 10
"""Piece size fed to the parser while it has not learnt the train bar's total yet."""


class InputError(Exception):
    """A path that cannot be read as a log: missing, a directory, unreadable.

    The message is one line, suitable for ``trainmon: <message>`` on stderr.
    """


class Pipeline:
    """Parser + run state for one log stream.

    Args:
        on_items: optional callback receiving each non-empty batch of parser items, in
            order (the headless ``tail`` prints them).
        batches: hand `Batch` items to ``on_items`` as they are (the callback prints their
            rows itself, faster); else they are expanded into `Record` items first.
        clock: wall-clock source (seconds since the epoch) for the items' arrival times.
        start_offset: stream offset of the first byte fed (reading from the middle of a file).
        format: the format when already known (sniffed from the file's head), else ``None``.
        series_capacity: points kept per series at full resolution in each run (see
            `SeriesStore`); the detectors read this window, so every output that must agree with
            ``report`` keeps the default. The Python API re-reads a long log with a larger one
            to hand out every point.
        full_runs: runs (the latest ones) that keep their numeric series.

    Attributes:
        parser: the `LogParser`.
        runs: the log's runs, oldest first (a parser `RunStart` item starts a new one); the
            last is the one new items go to.
        bytes_read: bytes fed so far (all streams).
        version: bumped whenever something changed.
        last_write: when the file was last written (``st_mtime``, seconds since the epoch),
            when known (set by `read_once`), else ``None``.
        baseline: another log's latest run to compare the latest run with (``--baseline``),
            else ``None``: then the previous run of this log, if any, is the comparison.
        writers: the processes seen writing the file while it was read (`read_once` with
            ``writers=True``; Linux ``/proc``), still there at the end.
        writers_gone: those seen at the start of the read and gone at its end: the run's
            process exited, so a run without a summary ended without finishing.
        checkpoint_look: looks at the last checkpoint's directory beside the log (set with
            the log's path by `read_once` and the monitor), else ``None``.
    """

    def __init__(
        self,
        on_items: Callable[[list[ParsedItem]], None] | None = None,
        *,
        batches: bool = False,
        clock: Callable[[], float] = time.time,
        start_offset: int = 0,
        format: Format | None = None,
        series_capacity: int = SERIES_CAPACITY,
        full_runs: int = FULL_RUNS,
    ) -> None:
        self.parser = LogParser(start_offset=start_offset, format=format)
        self._capacity = series_capacity
        self._full_runs = full_runs
        self.runs: list[Run] = [Run(start_offset=start_offset, capacity=series_capacity)]
        self._reset_events: list[Event] = []
        self._run_ended = False  # the current run's summary was read
        self._deferred: list[ParsedItem | Batch | Event] = []  # progress after a summary or reset
        self.clock = clock
        self._batches = batches
        self.bytes_read = 0
        self.version = 0
        self.last_write: float | None = None
        self.baseline: Baseline | None = None
        self.writers: tuple[Writer, ...] = ()
        self.writers_gone: tuple[Writer, ...] = ()
        self.checkpoint_look: CheckpointLook | None = None
        self._on_items = on_items

    @property
    def run(self) -> Run:
        """The latest run (the one new items go to)."""
        return self.runs[-1]

    def health(self, now: float | None = None) -> Health:
        """The verdict on the latest run read so far.

        Args:
            now: wall-clock seconds for stall detection. ``None``: the pipeline's clock when the
                file's last write is known (`read_once` sets `last_write`: a run without a
                summary in a file written long ago is stalled, never running), else no clock.
        """
        if now is None and self.last_write is not None:
            now = self.clock()
        runs = [r.snapshot() for r in self.runs[-2:]]
        return analyse(
            runs[-1],
            now,
            self.last_write,
            bytes_read=self.bytes_read,
            unreadable=self.parser.unreadable_fragments,
            writer_gone=bool(self.writers_gone),
            baseline=baseline_for(runs, len(runs) - 1, self.baseline),
            checkpoint_disk=self.checkpoint_disk(runs[-1]),
        )

    def checkpoint_disk(self, snap: RunSnapshot) -> CheckpointDisk | None:
        """The directory of ``snap``'s last checkpoint on this machine (see `CheckpointLook`)."""
        if self.checkpoint_look is None or not snap.checkpoints:
            return None
        return self.checkpoint_look(snap.checkpoints[-1].path)

    def feed(self, data: bytes | bytearray) -> list[ParsedItem | Batch]:
        """Parse ``data`` (the next bytes of the current stream) and account the items.

        A large ``data`` (>= ``COLUMNAR_MIN`` bytes: catch-up) goes through
        ``LogParser.feed_columnar``: runs of plain train records come back as `Batch`
        items (each standing for its ``records()``), accounted column-wise; the tally and
        the store end up exactly as with the records. ``on_items`` always gets records.
        """
        self.bytes_read += len(data)
        parser = self.parser
        if len(data) > FIRST_PIECE and not parser.knows_train_total:
            # Until the train bar's total is known the parser scans every bar of a chunk
            # (~0.15 s per MiB of bars); small first pieces keep that scan short. Any
            # chunking gives the same items (the parser's contract).
            feed = parser.feed_columnar if len(data) >= COLUMNAR_MIN else parser.feed
            items: list[ParsedItem | Batch] = []
            while len(data) > FIRST_PIECE and not parser.knows_train_total:
                items += feed(data[:FIRST_PIECE])
                data = data[FIRST_PIECE:]
            items += feed(data)
        elif len(data) >= COLUMNAR_MIN:
            items = parser.feed_columnar(data)
        else:
            items = parser.feed(data)  # type: ignore[assignment]
        self._apply(items)
        return items

    def finish(self) -> list[ParsedItem]:
        """End of input (one-shot reads): parse the held partial line."""
        items = self.parser.flush()
        self._apply(items)
        if self._deferred:  # the end: the progress after the last summary is the last run's
            self.run.apply(self._deferred, self.clock())
            self._deferred = []
        return items

    def quiet(self) -> list[ParsedItem]:
        """No new bytes for a while (live following): records held for a redraw go out."""
        items = self.parser.release_held()
        self._apply(items)
        return items

    def reset(self, reason: str, *, keep_partial: bool = False) -> None:
        """The file was truncated / rotated / re-created: start a new byte stream.

        A restarted run shows itself when its first record does not go on from the last one
        (the parser then starts a new run); a rotated log just continues. ``keep_partial``: the
        writer may go on mid-line in the new stream (see `LogParser.reset`).
        """
        self.parser.reset(keep_partial=keep_partial)
        swapped: dict[int, Event] = {}
        for run in self.runs:  # what was read is no longer at its offsets in the new file
            swapped.update(run.forget_offsets())
        self._reset_events = [swapped.get(id(e), e) for e in self._reset_events]
        # The new stream is the file from its first byte: the reset is at offset 0.
        self.add_file_event(Event(reason, f"file {reason}", 0, self.clock()))  # type: ignore[arg-type]

    def _start_run(self, start: RunStart) -> None:
        """A new run starts: the earlier one is superseded; runs before the last
        :data:`FULL_RUNS` keep their counts and progress but drop their series."""
        self.run.superseded = True
        if self._reset_events:  # the file events since its last train record were the new run's
            self.run.drop_events(self._reset_events)
        self.runs.append(Run(len(self.runs) + 1, start.offset, start.reason, capacity=self._capacity))
        self._run_ended = False
        if self._reset_events:  # the reset is where this run begins
            self.run.apply(self._reset_events)
        self._reset_events = []
        if len(self.runs) > self._full_runs:
            self.runs[-self._full_runs - 1].drop_series()

    def add_file_event(self, event: Event) -> None:
        """Account an event that did not come from the parser (a file reset, a deletion).

        It is the latest run's at once (shown as it happens). Whether that run goes on is told
        by what comes next: a train record of the same run keeps it there; a new run starting
        first (a new process's bar or record) takes it over, since the file was deleted,
        re-created or truncated for that run: an earlier run's events stay its own.
        """
        self._apply([event])
        self._reset_events.append(event)

    def _apply(self, items: list[ParsedItem | Batch] | list[ParsedItem] | list[Event]) -> None:
        if not items:
            return
        now = self.clock()
        seg: list[ParsedItem | Batch | Event] = []
        for it in items:  # records and batches first: nearly every item of a catch-up is one
            if isinstance(it, Record):
                if self._deferred:  # the same run went on
                    seg.extend(self._deferred)
                    self._deferred = []
                if it.kind == "train":
                    self._reset_events = []
                elif it.kind == "summary" and is_main_rank(it.rank):
                    self._run_ended = True
            elif isinstance(it, Batch):
                if self._deferred:
                    seg.extend(self._deferred)
                    self._deferred = []
                if self._reset_events and it.has_train:
                    self._reset_events = []
            elif isinstance(it, RunStart):
                self.run.apply(seg, now)
                self._start_run(it)
                seg, self._deferred = list(self._deferred), []
                continue
            elif self._run_ended and isinstance(it, (Progress, RunInfo)):
                # After a run's summary, a bar belongs to whichever run comes next.
                self._deferred.append(it)
                continue
            seg.append(it)
        self.run.apply(seg, now)
        self.version += 1
        if self._on_items is not None:
            if not self._batches and any(isinstance(it, Batch) for it in items):
                # The headless printer prints one line per record.
                flat: list[ParsedItem] = []
                for it in items:
                    if isinstance(it, Batch):
                        flat.extend(it.records())
                    else:
                        flat.append(it)
                self._on_items(flat)
            else:
                self._on_items(items)  # type: ignore[arg-type]


def baseline_for(runs: Sequence[RunSnapshot], i: int, other: Baseline | None = None) -> Baseline | None:
    """What run ``runs[i]`` is compared with: ``other`` (another log's latest run, ``--baseline``)
    for the latest run when given, else the run before it in the same log, else ``None``.

    Args:
        runs: runs of one log, oldest first (the last may be a suffix of the log's runs).
        i: the position in ``runs`` of the run to compare (0-based).
        other: another log's run, or ``None``.
    """
    if other is not None and i == len(runs) - 1:
        return other
    if i >= 1 and runs[i - 1].series:
        return Baseline(runs[i - 1])
    return None


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


def read_once(path: str | Path, pipeline: Pipeline | None = None, *, writers: bool = False) -> Pipeline:
    """Read the whole file once through a `Pipeline` (``trainmon report``).

    Opens the file read-only (``O_RDONLY``), never locks or writes it; reads it in
    :data:`READ_CHUNK`-byte pieces, so memory stays bounded for any file size.

    With ``writers``, the processes writing the file are looked for (``/proc/*/fd``) before
    the read and looked at again after it: those still there are ``Pipeline.writers``, those
    gone ``Pipeline.writers_gone`` (the run's process exited). Where no writer is visible
    (another node, another user) both stay empty and the file's age decides, as without.

    A path that does not exist here and reads like scp's ``user@host:/path`` is read once
    through ssh (``cat`` on that machine; see :mod:`~tui_monitor.core.follow.remote`).

    Raises:
        InputError: the path is missing, a directory or unreadable; or ssh failed (one line:
            what it said).
    """
    remote = None
    if not os.path.lexists(path):
        from tui_monitor.core.follow.remote import parse_remote

        remote = parse_remote(str(path))
    if remote is not None:
        return _read_remote_once(remote, pipeline or Pipeline())
    p = check_readable(path)
    pipe = pipeline or Pipeline()
    seen: tuple[Writer, ...] = ()
    if writers:
        from tui_monitor.core.follow.writer import find_writers, still_writing

        seen = tuple(find_writers(p) or ())
    if pipe.checkpoint_look is None:
        pipe.checkpoint_look = CheckpointLook(p)
    try:
        fd = os.open(p, os.O_RDONLY)
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        pipe.last_write = os.fstat(fd).st_mtime
        feed_range(fd, pipe, 0)
    except OSError as e:
        raise InputError(f"{path}: read failed ({e.strerror or e})") from None
    finally:
        os.close(fd)
    pipe.finish()
    if seen:
        pipe.writers = tuple(w for w in seen if still_writing(w.pid, p))
        if not pipe.writers:
            pipe.writers_gone = seen
    return pipe


def _read_remote_once(spec: RemoteSpec, pipe: Pipeline) -> Pipeline:
    """`read_once` of a remote log: its bytes through ssh, NUL bytes dropped as `feed_range` does."""
    from tui_monitor.core.follow.remote import read_remote
    from tui_monitor.core.follow.tailer import TailError

    try:
        for data in read_remote(spec):
            pipe.feed(data.replace(b"\x00", b"") if b"\x00" in data else data)
    except TailError as e:
        raise InputError(str(e)) from None
    pipe.finish()
    return pipe


def feed_range(
    fd: int, pipe: Pipeline, start: int, end: int | None = None, stop_event: threading.Event | None = None
) -> int:
    """Feed bytes ``[start, end)`` of an open file to ``pipe`` in :data:`READ_CHUNK` pieces.

    NUL bytes are dropped (the hole a writer without ``O_APPEND`` leaves after a
    truncation; a trainer_state.json never has them). Stops early when ``stop_event`` is
    set. Returns the offset reached (bytes). Raises ``OSError`` from ``pread``.

    The chunks are read into one buffer (a ``bytearray``) that the parser does not keep
    (`LogParser.feed`): a fresh 1 MiB ``bytes`` per ``os.pread`` besides the parser's own
    copy faulted ~100 pages in per chunk (~0.25 ms per MiB of catch-up).
    """
    _chunks_on_the_heap()
    offset = start
    buf = bytearray(READ_CHUNK)
    view = memoryview(buf)
    while (end is None or offset < end) and not (stop_event is not None and stop_event.is_set()):
        want = READ_CHUNK if end is None else min(READ_CHUNK, end - offset)
        n = _read_into(fd, view[:want], offset)
        if not n:
            break
        data = buf if n == len(buf) else buf[:n]
        offset += n
        if b"\x00" in data:
            data = data.replace(b"\x00", b"")
        pipe.feed(data)
    return offset


def _chunks_on_the_heap() -> None:
    """Have glibc's malloc serve a catch-up's 1 MiB objects from its heap, not fresh mappings.

    glibc maps every allocation above its mmap threshold (128 KiB at first) afresh, and trims
    the heap's free top above twice that threshold, so a chunk's 1 MiB ``bytes`` (the parser's
    copy) faulted its pages in again and again: 50-120 page faults per MiB read (~0.1-0.25 ms),
    as many as the allocation pattern of the items happened to cause. The threshold rises to the
    size of a mapped block when one is freed (mallopt(3), "dynamic mmap threshold"): one block of
    `_HEAP_BLOCK` bytes, allocated zeroed (mapped, its pages never touched) and freed, raises it
    to that size and the trim threshold to twice that, for the rest of the process. Under another
    allocator this is one allocation and nothing else."""
    global _heap_raised
    if not _heap_raised:
        _heap_raised = True
        bytes(_HEAP_BLOCK)


_HEAP_BLOCK = 2 * READ_CHUNK
"""Bytes of `_chunks_on_the_heap`'s block: objects up to this size come from the heap (a chunk's
copy is ~1 MiB), at most twice it stays free at the heap's top. Not more: a larger block grown by
``realloc`` (the regex engine's stack in a long match) is mapped, and grows without a copy (8 MiB
here cost the pure-Python path 4 % more ``memcpy`` on a dense log)."""
_heap_raised = False


def _read_into(fd: int, view: memoryview, offset: int) -> int:
    """``os.pread`` into ``view`` (one read, as ``os.pread`` makes; ``os.preadv`` where the
    platform has it, else a copy of ``os.pread``'s bytes); returns the bytes read."""
    if _HAS_PREADV:
        return os.preadv(fd, [view], offset)
    data = os.pread(fd, len(view), offset)
    view[: len(data)] = data
    return len(data)


_HAS_PREADV = hasattr(os, "preadv")


def read_baseline(path: str | Path) -> Baseline:
    """Another log's latest run, to compare a run with (``--baseline OTHER.log``).

    Raises:
        InputError: the path cannot be read, or its latest run has no loss to compare with.
    """
    run = read_once(path).run.snapshot()
    loss = run.get("loss")
    if loss is None or not len(loss):
        raise InputError(f"{path}: no loss records to compare with (--baseline)")
    return Baseline(run, source=Path(path).name)
