"""The one place that wires bytes -> `LogParser` -> `RunTally` (+ store and analysis).

`Pipeline` is the synchronous heart used by ``trainmon report`` (one pass over a file),
by the headless ``trainmon tail --plain/--json`` and by the app's worker thread (through
`Monitor`, which adds the tailer and wake-ups).
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tui_monitor.core.analysis import Health, analyse
from tui_monitor.core.analysis.progress import ProgressInfo
from tui_monitor.core.parse import (
    COLUMNAR_MIN,
    Batch,
    Event,
    LogParser,
    ParsedItem,
    Progress,
    Record,
    Rewind,
    RunInfo,
    sniff_format,
)
from tui_monitor.core.store import MetricStore, StoreSnapshot
from tui_monitor.core.tally import MetricStats, RunTally

READ_CHUNK = 1 << 20
"""Bytes read per ``pread`` during catch-up."""


FIRST_PIECE = 64 << 10
"""Piece size fed to the parser while it has not learnt the train bar's total yet."""

PROGRESSIVE_MIN = 8 << 20
"""A file at least this large when `Monitor` starts is loaded progressively: its last
:data:`PROVISIONAL_WINDOW` bytes first (a provisional view), then the whole file."""
PROVISIONAL_WINDOW = 4 << 20
"""Bytes read from the end of a large file for the provisional view (~4,000 records of a
tqdm-laden log; ~50 ms to parse)."""


class InputError(Exception):
    """A path that cannot be read as a log: missing, a directory, unreadable.

    The message is one line, suitable for ``trainmon: <message>`` on stderr.
    """


class Pipeline:
    """Parser + tally (+ store and analysis when present) for one log stream.

    Args:
        on_items: optional callback receiving each non-empty batch of parser items, in
            order (the headless ``tail`` prints them).
        batches: hand `Batch` items to ``on_items`` as they are (the callback prints their
            rows itself, faster); else they are expanded into `Record` items first.

    Attributes:
        parser: the `LogParser`.
        tally: the `RunTally` (exact counts and per-metric statistics).
        store: the `MetricStore` (numpy series for charts and detectors).
        progress: the `ProgressInfo` folded from progress bars, banner and JSON positions.
        bytes_read: bytes fed so far (all streams).
        version: bumped whenever something changed.
    """

    def __init__(self, on_items: Callable[[list[ParsedItem]], None] | None = None, *, batches: bool = False) -> None:
        self.parser = LogParser()
        self._batches = batches
        self.tally = RunTally()
        self.store = MetricStore()
        self.progress = ProgressInfo()
        self.bytes_read = 0
        self.version = 0
        self._on_items = on_items

    def feed(self, data: bytes) -> list[ParsedItem | Batch]:
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
        self._account(items)
        return items

    def finish(self) -> list[ParsedItem]:
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
        self.note(Event(reason, f"file {reason}", -1, time.time()))  # type: ignore[arg-type]

    def note(self, event: Event) -> None:
        """Account an event that did not come from the parser (a file reset)."""
        self._account([event])

    def _account(self, items: Sequence[ParsedItem | Batch]) -> None:
        if not items:
            return
        now = time.time()
        batches = False
        for it in items:
            if isinstance(it, Record):
                it.arrival = now
            elif isinstance(it, Batch):
                it.arrival = now
                batches = True
            elif isinstance(it, (Progress, RunInfo)):
                self.progress = self.progress.merge(it, arrival=now)  # type: ignore[arg-type]
        self.tally.add_many(items)
        if batches:
            self.store.add_items(items)
        elif any(isinstance(it, Rewind) for it in items):
            for it in items:
                if isinstance(it, (Record, Rewind)):
                    self.store.apply(it)
        else:
            self.store.add_many([it for it in items if isinstance(it, Record)])
        self.version += 1
        if self._on_items is not None:
            if batches and not self._batches:
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
        feed_range(fd, pipe, 0)
    except OSError as e:
        raise InputError(f"{path}: read failed ({e.strerror or e})") from None
    finally:
        os.close(fd)
    pipe.finish()
    return pipe


def feed_range(
    fd: int, pipe: Pipeline, start: int, end: int | None = None, stop_event: threading.Event | None = None
) -> int:
    """Feed bytes ``[start, end)`` of an open file to ``pipe`` in :data:`READ_CHUNK` pieces.

    NUL bytes are dropped (the hole a writer without ``O_APPEND`` leaves after a
    truncation; a trainer_state.json never has them). Stops early when ``stop_event`` is
    set. Returns the offset reached (bytes). Raises ``OSError`` from ``pread``.
    """
    offset = start
    while (end is None or offset < end) and not (stop_event is not None and stop_event.is_set()):
        want = READ_CHUNK if end is None else min(READ_CHUNK, end - offset)
        data = os.pread(fd, want, offset)
        if not data:
            break
        offset += len(data)
        if b"\x00" in data:
            data = data.replace(b"\x00", b"")
        pipe.feed(data)
    return offset


@dataclass(frozen=True)
class MonitorSnapshot:
    """Everything a screen or a headless printer needs, frozen (safe from any thread).

    Attributes:
        path: the followed file as given.
        version: the monitor's change counter when taken.
        mode: ``"inotify"``, ``"poll"`` or ``None`` before following started.
        file_state: ``"waiting"`` (file not there yet), ``"following"``, ``"deleted"``,
            ``"unreadable"``, or ``"error"`` (see ``error``).
        error: a one-line message when the file cannot be followed, else ``None``.
        format: the sniffed format (``console``, ``jsonl``, ``trainer_state``) or ``None``.
        store: the `StoreSnapshot` (numpy series copies).
        progress: the `ProgressInfo` (bar / banner / JSON position, rate, total).
        health: the analysis result (`Health`), or ``None`` before any record.
        records: distinct records by kind.
        metrics: per-series `MetricStats` copies (exact whole-run count/first/last/min/max).
        global_step / total_steps / epoch / rate / elapsed_s: latest known position;
            rate in steps per second, elapsed in seconds (as the bar prints it).
        run_info: banner facts (``total_steps``, ``num_epochs``, ...).
        events: crash evidence and file events, oldest first.
        skipped: malformed metric-looking inputs skipped.
        bytes_read / file_size: catch-up progress, in bytes.
        rewinds: resumes/restarts detected.
        started: wall-clock time the monitor started (seconds).
        provisional: True while the series, counts, findings and latest values come from
            the provisional view of a large file's last bytes (from ``provisional_from``
            on) and the whole file is still being read (``bytes_read`` / ``file_size``
            say how far); False once they cover the whole file.
        provisional_from: byte offset where the provisional view starts, else ``None``.
    """

    path: str
    version: int
    mode: str | None
    file_state: str
    error: str | None
    format: str | None
    store: StoreSnapshot
    progress: ProgressInfo
    health: Health | None
    records: dict[str, int]
    metrics: dict[str, MetricStats]
    global_step: int | None
    total_steps: int | None
    epoch: float | None
    rate: float | None
    elapsed_s: float | None
    run_info: dict[str, int]
    events: tuple[Event, ...]
    skipped: int
    bytes_read: int
    file_size: int
    rewinds: int
    started: float
    provisional: bool = False
    provisional_from: int | None = None

    @property
    def catching_up(self) -> bool:
        """True while the initial read is well behind the file's end (> 1 MiB left)."""
        return self.file_size - self.bytes_read > READ_CHUNK


class Monitor:
    """Follows one log: tailer -> parser -> tally/store, with `snapshot()` for readers.

    Args:
        path: the log file (need not exist yet: it is waited for).
        poll: poll interval in seconds (forces polling), or ``None`` for inotify unless the
            file is on a network filesystem.
        from_end: skip what the file already holds.
        on_items: callback for each batch of parser items (headless output); called on
            the thread that runs `run`, with the monitor's lock held.
        on_reset: callback ``(reason)`` for each file reset (truncated/rotated/...).
        batches: ``on_items`` accepts `Batch` items (see `Pipeline`).
        progressive: load a large existing file (>= :data:`PROGRESSIVE_MIN`) progressively:
            first its last :data:`PROVISIONAL_WINDOW` bytes into a provisional view that
            `snapshot` shows (``provisional=True``), then the whole file from the start,
            which replaces that view once it has read past the window's end. The
            provisional pass has its own parser, tally and store (no echo, rewind or step
            state leaks into the real pass) and never calls ``on_items``. ``None`` (the
            default): only when there is no ``on_items`` (a display, not a printer).

    `run` blocks (call it from a worker thread); `snapshot` may be called from any other
    thread at any time.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        poll: float | None = None,
        from_end: bool = False,
        on_items: Callable[[list[ParsedItem]], None] | None = None,
        on_reset: Callable[[str], None] | None = None,
        progressive: bool | None = None,
        batches: bool = False,
    ) -> None:
        self.path = str(path)
        self.progressive = (on_items is None) if progressive is None else progressive
        self._provisional: Pipeline | None = None
        self._provisional_from = 0
        self._provisional_end = 0
        self._pversion = 0  # bumped when the provisional view appears or goes
        self.poll = poll
        self.from_end = from_end
        self.pipeline = Pipeline(on_items=on_items, batches=batches)
        self.on_reset = on_reset
        self.lock = threading.RLock()
        self.mode: str | None = None
        self.file_state = "waiting"
        self.error: str | None = None
        self.file_size = 0
        self.started = time.time()
        self._follower: Any = None
        self._health_cache: tuple[int, float, Any] | None = None

    @property
    def live_state(self) -> str:
        """The file state now. ``file_state`` is synced per batch of new bytes only; the
        tailer's own state also changes between batches (permission lost on a reopen)."""
        f = self._follower
        return f.tailer.state if f is not None and self.error is None else self.file_state  # type: ignore[no-any-return]

    @property
    def version(self) -> int:
        """Change counter: grows whenever records, events or the file state changed."""
        return self.pipeline.version + self._pversion

    @property
    def provisional(self) -> bool:
        """True while snapshots show the provisional view (see ``progressive``)."""
        return self._provisional is not None

    def run(self, stop_event: threading.Event) -> None:
        """Follow the file until ``stop_event`` is set. Never raises for bad input.

        A directory or an unreadable file sets ``file_state`` to ``"error"`` with a
        one-line ``error`` and returns.
        """
        from tui_monitor.core.follow import Chunk, Follower, TailError

        try:
            follower = Follower(self.path, stop_event=stop_event, poll=self.poll, from_end=self.from_end)
        except TailError as e:
            with self.lock:
                self.file_state, self.error = "error", str(e)
                self.pipeline.version += 1
            return
        self._follower = follower
        self.mode = follower.mode
        try:
            if self.progressive and not self.from_end:
                self._load_provisional(stop_event)
            for batch in follower:
                # The lock is taken per item (a Chunk is at most 1 MiB), so a snapshot taken
                # during a long catch-up waits milliseconds and shows its progress.
                self.file_size = max(self.file_size, follower.tailer.size)
                for item in batch:
                    if stop_event.is_set():
                        return  # quit at once, even in the middle of a long catch-up
                    with self.lock:
                        self._handle(item)
                        if self._provisional is not None and (
                            self.pipeline.bytes_read >= self._provisional_end or not isinstance(item, Chunk)
                        ):
                            self._drop_provisional()
                with self.lock:
                    self._sync_state(follower)
        finally:
            follower.close()

    def _load_provisional(self, stop_event: threading.Event) -> None:
        """The provisional view of a large file: its last :data:`PROVISIONAL_WINDOW` bytes
        (from the first line start in them) through a `Pipeline` of its own.

        Steps come from the window's own tqdm clear/redraw pairs (a dict is printed after
        its clear, so a record whose event precedes the window just has no step) and the
        epoch guard; the format is sniffed from the file's head, not from the window."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return
        try:
            st = os.fstat(fd)
            size = st.st_size
            if not stat.S_ISREG(st.st_mode) or size < PROGRESSIVE_MIN:
                return
            fmt = sniff_format(os.pread(fd, 64 << 10, 0), final=True)
            if fmt not in ("console", "jsonl"):
                return  # a trainer_state.json is one document
            lo = size - PROVISIONAL_WINDOW
            head = os.pread(fd, 64 << 10, lo)
            nl = head.find(b"\n")
            if nl < 0:
                return
            start = lo + nl + 1
            pipe = Pipeline()
            pipe.parser = LogParser(start_offset=start, format=fmt)
            offset = feed_range(fd, pipe, start, size, stop_event)
            if stop_event.is_set():
                return
        except OSError:
            return
        finally:
            os.close(fd)
        with self.lock:
            if self.pipeline.bytes_read >= offset:
                return  # the real pass is already there
            self._provisional = pipe
            self._provisional_from, self._provisional_end = start, offset
            self.file_size = max(self.file_size, size)
            self._pversion += 1

    def _drop_provisional(self) -> None:
        """The real pass has read past the provisional window (or the file was reset)."""
        self._provisional = None
        self._pversion += 1

    def _handle(self, item: Any) -> None:
        """One tail item: bytes to the parser, or a file reset."""
        from tui_monitor.core.follow import Chunk

        if isinstance(item, Chunk):
            if self.pipeline.parser.format == "trainer_state" and self.pipeline.parser.idle:
                self._reread_state()
            else:
                self.pipeline.feed(item.payload)
            return
        if item.new_stream:
            self.pipeline.reset(item.reason)
        else:
            self.pipeline.note(Event(item.reason, f"file {item.reason}", -1, time.time()))
        if self.on_reset is not None:
            self.on_reset(item.reason)

    def _sync_state(self, follower: Any) -> None:
        state = follower.tailer.state
        size = follower.tailer.size
        if state != self.file_state or size != self.file_size:
            self.file_state = state
            self.file_size = size
            self.pipeline.version += 1

    def _reread_state(self) -> None:
        """trainer_state.json is rewritten whole at each checkpoint: read it again from the
        start (the parser does not emit records it has already emitted)."""
        self.pipeline.parser.reset()
        try:
            data = Path(self.path).read_bytes()
        except OSError:
            return
        self.pipeline.feed(data)

    def feed_file_once(self) -> None:
        """Read the whole file once (no following) — for tests and ``report``-like uses."""
        with self.lock:
            read_once(self.path, self.pipeline)
            self.file_state = "following"
            try:
                self.file_size = os.stat(self.path).st_size
            except OSError:
                pass

    def snapshot(self, now: float | None = None) -> MonitorSnapshot:
        """A frozen `MonitorSnapshot` (analysis included), consistent across its fields.

        Args:
            now: wall-clock seconds used for stall detection (default: ``time.time()``).
        """
        now = time.time() if now is None else now
        with self.lock:
            real = self.pipeline
            prov = self._provisional
            pipe = prov if prov is not None else real
            t = pipe.tally
            store = pipe.store.snapshot()
            snap = MonitorSnapshot(
                path=self.path,
                version=real.version + self._pversion,
                mode=self.mode,
                file_state=self._follower.tailer.state
                if self._follower is not None and self.error is None
                else self.file_state,
                error=self.error,
                format=pipe.parser.format,
                store=store,
                progress=pipe.progress,
                health=None,
                records=dict(t.records),
                metrics={k: replace(v) for k, v in t.metrics.items()},
                global_step=t.global_step,
                total_steps=t.total_steps,
                epoch=t.epoch,
                rate=t.rate,
                elapsed_s=t.elapsed_s,
                run_info=dict(t.run_info),
                events=tuple(t.events),
                skipped=pipe.parser.skipped,
                bytes_read=real.bytes_read,
                file_size=max(self.file_size, real.bytes_read),
                rewinds=t.rewinds,
                started=self.started,
                provisional=prov is not None,
                provisional_from=self._provisional_from if prov is not None else None,
            )
        health = analyse_snapshot(snap, now)
        return replace(snap, health=health)


def analyse_snapshot(snap: MonitorSnapshot, now: float | None) -> Health:
    """Run the detectors (`analyse`) on a snapshot's store, progress and events.

    Args:
        now: wall-clock seconds for stall detection; ``None`` for a one-shot read, where
            arrival times say nothing about the run (``report``).
    """
    return analyse(snap.store, snap.progress, snap.events, now)
