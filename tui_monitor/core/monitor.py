"""`Monitor`: follow one log (follow -> parse -> state), and `MonitorSnapshot` for its readers."""

from __future__ import annotations

import math
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from tui_monitor.core.analysis import Baseline, Health, analyse
from tui_monitor.core.checkpoint_files import CheckpointLook
from tui_monitor.core.follow import Chunk, Follower, Reset, TailError, TailItem
from tui_monitor.core.follow.remote import RemoteFollower, RemoteSpec, parse_remote
from tui_monitor.core.follow.writer import Writer, WriterWatch
from tui_monitor.core.parse import Event, ParsedItem, keeps_history, sniff_format
from tui_monitor.core.pipeline import READ_CHUNK, Pipeline, baseline_for, feed_range, read_once
from tui_monitor.core.state import RunSnapshot

__all__ = ["PROGRESSIVE_MIN", "PROVISIONAL_WINDOW", "QUIET_AFTER", "Monitor", "MonitorSnapshot"]

PROGRESSIVE_MIN = 8 << 20
"""A file at least this large when `Monitor` starts is loaded progressively: its last
:data:`PROVISIONAL_WINDOW` bytes first (a provisional view), then the whole file."""
QUIET_AFTER = 0.5
"""Seconds without new bytes after which records held for a tqdm redraw go out (a run that died
right after logging leaves its last record waiting for a redraw that never comes)."""

PROVISIONAL_WINDOW = 4 << 20
"""Bytes read from the end of a large file for the provisional view (~4,000 records of a
tqdm-laden log; ~50 ms to parse)."""


@dataclass(frozen=True)
class MonitorSnapshot:
    """Everything a screen or a headless printer needs, frozen (safe from any thread).

    Attributes:
        path: the followed file as given.
        version: the monitor's change counter when taken.
        mode: ``"inotify"``, ``"poll"``, ``"remote"`` (read over ssh) or ``None`` before
            following started.
        file_state: ``"waiting"`` (file not there yet), ``"reading"`` (the file is there and
            what it held when the monitor started is being read), ``"following"``,
            ``"deleted"``, ``"unreadable"``, or ``"error"`` (see ``error``); for a remote log also
            ``"connecting"`` and ``"lost"`` (the connection dropped: reconnecting with back-off).
        error: a one-line message when the file cannot be followed, else ``None``.
        format: the sniffed format (``console``, ``jsonl``, ``trainer_state``) or ``None``.
        skipped: malformed metric-looking inputs skipped (the whole file).
        bytes_read / file_size: catch-up progress, in bytes (a NUL hole read over counts as
            read).
        started: wall-clock time the monitor started (seconds).
        runs: the log's runs, oldest first (see :class:`~tui_monitor.core.state.RunSnapshot`).
        health: the verdict on the latest run (`Health`), or ``None`` before analysis.
        provisional: True while the run, its findings and latest values come from the
            provisional view of a large file's last bytes (from ``provisional_from`` on) and
            the whole file is still being read (``bytes_read`` / ``file_size`` say how far);
            False once they cover the whole file.
        provisional_from: byte offset where the provisional view starts, else ``None``.
        history_skipped: bytes of history ``--from-end`` skipped (0: none, or not from the end).
        dir_missing: while waiting for the file, its directory does not exist either.
        writers: the processes that have the log open for writing (Linux ``/proc``), if seen.
        writers_gone: the writers that were seen and have exited.
        baseline: another log's latest run the latest run is compared with (``--baseline``),
            else ``None`` (then each run is compared with the one before it).
        history_until: wall-clock seconds up to which what was read came from the file's
            history (what it held when the monitor started): arrival times up to it are when
            trainmon read the lines, not when they were written. ``inf`` while that is read.
    """

    path: str
    version: int
    mode: str | None
    file_state: str
    error: str | None
    format: str | None
    skipped: int
    bytes_read: int
    file_size: int
    started: float
    runs: tuple[RunSnapshot, ...]
    health: Health | None = None
    provisional: bool = False
    provisional_from: int | None = None
    dir_missing: bool = False
    writers: tuple[Writer, ...] = ()
    writers_gone: tuple[Writer, ...] = ()
    baseline: Baseline | None = None
    history_until: float = math.inf
    history_skipped: int = 0

    @property
    def run(self) -> RunSnapshot:
        """The latest run (the one the verdict is about)."""
        return self.runs[-1]

    @property
    def catching_up(self) -> bool:
        """True while the initial read is well behind the file's end (> 1 MiB left)."""
        return self.file_size - self.bytes_read > READ_CHUNK

    def baseline_of(self, index: int) -> Baseline | None:
        """What run ``index`` (1-based) is compared with: ``baseline`` for the latest run when
        given, else the run before it (``None`` for the first run, or one whose predecessor
        kept no series)."""
        return baseline_for(self.runs, index - 1, self.baseline)

    def judge(self, index: int) -> Health:
        """The verdict on run ``index`` (1-based): the latest run's is ``health``; an earlier
        run is judged on its own, without a clock (it has ended: finished, crashed or superseded)."""
        if index == len(self.runs) and self.health is not None:
            return self.health
        return analyse(self.runs[index - 1], None, baseline=self.baseline_of(index))


class Monitor:
    """Follows one log: follow -> parse -> state, with `snapshot()` for readers.

    Args:
        path: the log file (need not exist yet: it is waited for), or ``user@host:/path`` (a
            path that does not exist here, shaped like scp's) read through ssh (see
            :mod:`~tui_monitor.core.follow.remote`; the ssh command from
            ``$TRAINMON_SSH_COMMAND``).
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
            provisional pass has its own parser and run state (no echo, rewind or step
            state leaks into the real pass) and never calls ``on_items``. ``None`` (the
            default): only when there is no ``on_items`` (a display, not a printer).
        clock: wall-clock source (seconds since the epoch): arrival times, stall detection.
        baseline: another log's latest run to compare the latest run with (``--baseline``).

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
        clock: Callable[[], float] = time.time,
        baseline: Baseline | None = None,
    ) -> None:
        self.path = str(path)
        self.baseline = baseline
        self._history_until = math.inf
        self.progressive = (on_items is None) if progressive is None else progressive
        self._provisional: Pipeline | None = None
        self._provisional_from = 0
        self._provisional_end = 0
        self._pversion = 0  # bumped when the provisional view appears or goes
        self.poll = poll
        self.from_end = from_end
        self.clock = clock
        self._writers = WriterWatch(self.path)
        self.pipeline = Pipeline(on_items=on_items, batches=batches, clock=clock)
        self._checkpoint_look = CheckpointLook(self.path)
        self.pipeline.checkpoint_look = self._checkpoint_look
        self.on_reset = on_reset
        self.lock = threading.RLock()
        self.mode: str | None = None
        self.error: str | None = None
        self.started = clock()
        self._follower: Follower | RemoteFollower | None = None
        self._skipped_at_start = 0
        """Bytes ``from_end`` skipped: they count as read, or the status would say
        "catching up 0%" for ever after the first new record of a large file."""
        self._truncated_at: int | None = None
        """Where the file had been read to when it was truncated, until the next bytes come."""
        self._position = 0
        """How far the current file has been read (bytes): a NUL hole read over counts as read
        although no byte of it reaches the parser."""
        self._rewrite_pending = False
        """A trainer_state.json was truncated: is it a checkpoint's rewrite? (`_state_rewritten`)"""
        # The first frame is drawn before `run` has opened anything: look at the path now,
        # so that a file that exists is "reading" (with its size, for the catch-up figure)
        # from the start instead of "waiting" until the worker thread's first read.
        exists, size = _regular_file_size(self.path)
        self.remote: RemoteSpec | None = None if exists or os.path.lexists(self.path) else parse_remote(self.path)
        """Where the log is when it is on another machine (read over ssh), else ``None``."""
        self._reading = exists
        """True until what the file held at start has been read (see `live_state`)."""
        self.file_state = "reading" if exists else ("connecting" if self.remote else "waiting")
        self._seen_state = self.file_state
        """The file state the version last counted (see `version`)."""
        self.file_size = 0 if from_end else size

    @property
    def history_skipped(self) -> int:
        """Bytes of history ``--from-end`` skipped (0: none). Read without the lock: the
        headless loop asks it while a monitor thread may hold the lock, blocked on a full pipe."""
        return self._skipped_at_start

    def check_liveness(self) -> bool:
        """Look for the log's writer process now and then (call it often: it is rate-limited);
        returns whether what is known changed (a snapshot then shows it)."""
        changed = self._writers.check(time.monotonic())
        if changed:
            with self.lock:
                self._pversion += 1
        return changed

    @property
    def dir_missing(self) -> bool:
        """While waiting for the file: its directory does not exist either (a mistyped path?)."""
        f = self._follower
        if f is not None:
            return f.tailer.dir_missing
        return self.file_state == "waiting" and self.remote is None and not Path(self.path).parent.is_dir()

    @property
    def live_state(self) -> str:
        """The file state now. ``file_state`` is synced per batch of new bytes only; the
        tailer's own state also changes between batches (permission lost on a reopen).

        ``"reading"`` while the file is open but what it held at start is not read yet (the
        tailer says ``"following"`` as soon as it has opened the file)."""
        f = self._follower
        if f is None or self.error is not None:
            return self.file_state
        state = f.tailer.state
        return "reading" if state == "following" and self._reading else state

    @property
    def version(self) -> int:
        """Change counter: grows whenever records, events or the file state changed."""
        # The tailer's state can change without a byte to read (the path replaced by a
        # directory): a reader polling the version must still see it.
        state = self.live_state
        if state != self._seen_state:
            with self.lock:
                if state != self._seen_state:
                    self._seen_state = state
                    self._pversion += 1
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
        follower: Follower | RemoteFollower
        try:
            if self.remote is not None:
                follower = RemoteFollower(
                    self.remote, stop_event=stop_event, from_end=self.from_end, quiet_after=QUIET_AFTER
                )
            else:
                follower = Follower(
                    self.path, stop_event=stop_event, poll=self.poll, from_end=self.from_end, quiet_after=QUIET_AFTER
                )
        except TailError as e:
            self._fail(e)
            return
        self._follower = follower
        self.mode = follower.mode
        if self.from_end:
            self._skipped_at_start = self._position = follower.tailer.offset
        if follower.tailer.offset >= follower.tailer.size:
            # Nothing to read at start (missing or empty file, or --from-end): the first
            # batch may be far off, so "reading" ends here. (A file of NUL bytes only gives
            # no batch either, and stays "reading" until something is written to it.)
            self._end_history()
        try:
            if self.progressive and not self.from_end:
                self._load_provisional(stop_event)
            for batch in follower:
                if not self.consume(batch, follower, stop_event):
                    return
        except TailError as e:
            # The tailer waits out a path replaced by a directory; anything it still refuses (or
            # a remote log whose first connection failed) ends this monitor with its one-line
            # message, never a traceback.
            self._fail(e)
        finally:
            follower.close()

    def _end_history(self) -> None:
        """What the file held at start is read: later arrivals are live."""
        self._reading = False
        self._history_until = self.clock()

    def consume(
        self, batch: list[TailItem], follower: Follower | RemoteFollower, stop_event: threading.Event | None = None
    ) -> bool:
        """Apply one batch of ``follower`` (what `run` does with each): chunks to the parser,
        resets, and an empty batch (the file went quiet) releases records held for a redraw.

        Returns:
            False when ``stop_event`` was set in the middle of the batch (the rest is dropped).
        """
        self._follower = follower
        if not batch:  # the file went quiet (records held for a redraw go out), or its state changed
            with self.lock:
                self.pipeline.quiet()
                self._sync_state(follower)
            return True
        # The lock is taken per item (a Chunk is at most 1 MiB), so a snapshot taken
        # during a long catch-up waits milliseconds and shows its progress.
        self.file_size = max(self.file_size, follower.tailer.size)
        for item in batch:
            if stop_event is not None and stop_event.is_set():
                return False  # quit at once, even in the middle of a long catch-up
            with self.lock:
                self._apply_tail_item(item)
                if isinstance(item, Chunk):
                    self._position = item.end if item.end >= 0 else item.offset + len(item.payload)
                elif item.new_stream:
                    self._position = 0
                if self._provisional is not None and (
                    self._position >= self._provisional_end or not isinstance(item, Chunk)
                ):
                    self._drop_provisional()
        with self.lock:
            # (A run of NUL bytes read over gives no chunk at all.)
            self._position = max(self._position, follower.tailer.offset)
            if not follower.tailer.behind and self._reading:
                self._end_history()  # what the file held at start is read
            self._sync_state(follower)
        return True

    def _fail(self, e: TailError) -> None:
        """The log cannot be followed: ``file_state`` ``"error"`` with a one-line ``error``."""
        with self.lock:
            self.file_state, self.error = "error", str(e)
            self.pipeline.version += 1

    def _load_provisional(self, stop_event: threading.Event) -> None:
        """The provisional view of a large file: its last :data:`PROVISIONAL_WINDOW` bytes
        (from the first line start in them) through a `Pipeline` of its own.

        Steps come from the window's own tqdm clear/redraw pairs (a dict is printed after
        its clear, so a record whose event precedes the window just has no step) and the
        epoch guard; the format is sniffed from the file's head, not from the window."""
        if self.remote is not None:
            return  # read over ssh as it comes
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
            pipe = Pipeline(clock=self.clock, start_offset=start, format=fmt)
            pipe.checkpoint_look = self._checkpoint_look
            offset = feed_range(fd, pipe, start, size, stop_event)
            if stop_event.is_set():
                return
        except OSError:
            return
        finally:
            os.close(fd)
        with self.lock:
            if self._position >= offset:
                return  # the real pass is already there
            self._provisional = pipe
            self._provisional_from, self._provisional_end = start, offset
            self.file_size = max(self.file_size, size)
            self._pversion += 1

    def _drop_provisional(self) -> None:
        """The real pass has read past the provisional window (or the file was reset)."""
        self._provisional = None
        self._pversion += 1

    def _apply_tail_item(self, item: Chunk | Reset) -> None:
        """One tail item: bytes to the parser, or a file reset."""
        parser = self.pipeline.parser
        if isinstance(item, Chunk):
            if self._truncated_at is not None:
                # The first bytes after a truncation: a writer that writes on at its own offset
                # (no O_APPEND) goes on after a NUL hole as long as what we had read; only then
                # is the partial line kept across the reset known to go on here. After bytes
                # destroyed unread, or with an appending writer (no hole says where it went on),
                # joining could splice two records into one that was never logged.
                if item.end - len(item.payload) != self._truncated_at:
                    parser.drop_partial()
                self._truncated_at = None
            if self._rewrite_pending:
                self._state_rewritten()
            elif parser.format == "trainer_state" and parser.idle:
                self._reread_state()
            else:
                self.pipeline.feed(item.payload)
            return
        if item.reason == "truncated" and parser.format == "trainer_state" and parser.state_history is not None:
            # The Trainer saves trainer_state.json at each checkpoint by rewriting it in place
            # (truncate, write the whole document): to the tailer a truncation like `> log`.
            # Whether it is the same run growing or a new run's state is only known from the
            # new document, so the reset is held until it is whole.
            self._rewrite_pending = True
            return
        if item.new_stream:
            self._rewrite_pending = False  # rotated or re-created: a new file, announced as such
            # A rotated file was read to its end: its last partial line may go on in the new
            # one; after a truncation the next bytes tell (see the Chunk case above).
            self.pipeline.reset(item.reason, keep_partial=True)
            self._truncated_at = self._position if item.reason == "truncated" else None
        else:
            self.pipeline.add_file_event(Event(item.reason, f"file {item.reason}", -1, self.clock()))
        if self.on_reset is not None:
            self.on_reset(item.reason)

    def _sync_state(self, follower: Follower | RemoteFollower) -> None:
        state = self.live_state
        size = follower.tailer.size
        if state != self.file_state or size != self.file_size:
            self.file_state = state
            self.file_size = size
            self.pipeline.version += 1

    def _state_rewritten(self) -> None:
        """A truncated trainer_state.json has new bytes: once its document is whole, a rewrite
        that keeps the earlier ``log_history`` (a checkpoint of the same run) is read on
        silently, as `_reread_state` does; anything else is the truncation it looked like,
        announced (event, ``on_reset``) before its records."""
        try:
            data = Path(self.path).read_bytes()
        except OSError:
            return
        mark = self.pipeline.parser.state_history
        kept = keeps_history(mark, data) if mark is not None else False
        if kept is None:
            return  # still being written: read it whole when its next bytes arrive
        self._rewrite_pending = False
        if kept:
            self.pipeline.parser.reset()
        else:
            self.pipeline.reset("truncated")
            if self.on_reset is not None:
                self.on_reset("truncated")
        self.pipeline.feed(data)

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
            self._end_history()
            self.file_state = "following"
            try:
                self.file_size = os.stat(self.path).st_size
            except OSError:
                pass

    def snapshot(self, now: float | None = None) -> MonitorSnapshot:
        """A frozen `MonitorSnapshot` (analysis included), consistent across its fields.

        Args:
            now: wall-clock seconds used for stall detection (default: the monitor's clock).
        """
        now = self.clock() if now is None else now
        with self.lock:
            real = self.pipeline
            prov = self._provisional
            pipe = prov if prov is not None else real
            snap = MonitorSnapshot(
                path=self.path,
                version=real.version + self._pversion,
                mode=self.mode,
                file_state=self.live_state,
                error=self.error,
                format=pipe.parser.format,
                skipped=pipe.parser.skipped,
                bytes_read=max(real.bytes_read + self._skipped_at_start, self._position),
                file_size=max(self.file_size, real.bytes_read + self._skipped_at_start, self._position),
                started=self.started,
                runs=tuple(r.snapshot() for r in pipe.runs),
                provisional=prov is not None,
                provisional_from=self._provisional_from if prov is not None else None,
                dir_missing=self.dir_missing,
                writers=self._writers.writers,
                writers_gone=self._writers.gone,
                baseline=self.baseline,
                history_until=self._history_until,
                history_skipped=self._skipped_at_start,
            )
        follower = self._follower
        last_write = follower.tailer.mtime if follower is not None and follower.tailer.mtime else None
        # Outside the lock: a look at the checkpoint directory may touch a slow disk (at most
        # every LOOK_EVERY seconds), and only this thread asks.
        disk = pipe.checkpoint_disk(snap.run)
        health = analyse(
            snap.run,
            now,
            last_write,
            writer_gone=bool(snap.writers_gone),
            baseline=snap.baseline_of(len(snap.runs)),
            checkpoint_disk=disk,
        )
        return replace(snap, health=health)


def _regular_file_size(path: str) -> tuple[bool, int]:
    """``(True, size in bytes)`` when ``path`` is a regular file now, else ``(False, 0)``.

    Only a look (``stat``): opening, permissions and errors are the `Follower`'s business."""
    try:
        st = os.stat(path)
    except OSError:
        return False, 0
    return (True, st.st_size) if stat.S_ISREG(st.st_mode) else (False, 0)
