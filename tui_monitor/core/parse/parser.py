"""`LogParser`: the facade of the parse stage, bytes of a training log in, items out.

Three formats, sniffed from the content (never from the file name), each read by its own
module: console output (:mod:`~tui_monitor.core.parse.console`), JSON lines
(:mod:`~tui_monitor.core.parse.jsonl`) and ``trainer_state.json``
(:mod:`~tui_monitor.core.parse.trainer_state`). This module frames the stream (a partial last
segment is carried to the next feed) and dispatches.
"""

from __future__ import annotations

from tui_monitor.core.parse.bars import TrainBar
from tui_monitor.core.parse.console import ConsoleReader, ParseCounts
from tui_monitor.core.parse.framing import KEEP_TAIL, MAX_CARRY, Format, sniff_format
from tui_monitor.core.parse.items import Batch, ParsedItem, RunStartReason
from tui_monitor.core.parse.jsonl import JsonLinesReader
from tui_monitor.core.parse.policy import Out, PolicyState, RecordPolicy
from tui_monitor.core.parse.steps import StepTracker
from tui_monitor.core.parse.trainer_state import HistoryMark, TrainerStateReader
from tui_monitor.core.parse.wrapped import open_join_start

__all__ = ["LogParser"]


class LogParser:
    """Incremental parser of a training log's bytes.

    ``feed(data)`` returns the items that became complete, in file order; a partial last
    segment (after the last ``\\r``/``\\n``) is held until the rest arrives, so feeding a
    file in chunks of any size gives exactly the items of feeding it whole (``flush()`` at the
    end parses what is still held).

    Args:
        start_offset: stream offset of the first byte that will be fed (a read that starts in
            the middle of a file, e.g. the last megabytes of a large one), bytes.
        format: the format when the caller already knows it (sniffed from the file's head);
            ``None`` sniffs it from the first bytes fed.

    Attributes:
        format: ``"console"``, ``"jsonl"``, ``"trainer_state"`` or ``None`` until sniffed.
        offset: bytes consumed so far in the current stream.

    Duplicate, resume and step rules are the record policy's
    (:class:`~tui_monitor.core.parse.policy.RecordPolicy`).
    """

    def __init__(self, *, start_offset: int = 0, format: Format | None = None) -> None:
        self.format: Format | None = format
        self.offset = 0
        self._carry = b""
        self._carry_offset = start_offset
        self._joining = False  # the kept partial segment of the stream before a reset
        self._counts = ParseCounts()
        self._bars = TrainBar()
        self._policy = RecordPolicy(StepTracker())
        self._policy.on_new_run = self._on_new_run
        if start_offset > 0:
            self._policy.steps.begin_mid_stream()
        self._console = ConsoleReader(self._policy, self._bars, self._counts)
        self._jsonl = JsonLinesReader(self._console)
        self._state = TrainerStateReader(self._policy, self._counts)

    def _on_new_run(self, reason: RunStartReason) -> None:
        """A restart found by the records (a step or epoch back at the start, no banner, no
        summary): the new run's bar is learnt afresh from the next bytes on. (A banner or a
        summary is cut at its byte by the console reader; a new file was reset already.)"""
        if reason == "restart":
            self._bars.forget()

    # -- what callers may ask -------------------------------------------------------------

    @property
    def skipped(self) -> int:
        """Malformed metric-looking inputs that were skipped (a dict with a ``loss`` key whose
        values do not parse, a JSON line that is not JSON)."""
        return self._counts.skipped

    @property
    def unreadable_fragments(self) -> int:
        """Pieces of text that looked like metrics but could not be read: dicts wrapped or
        pretty-printed over lines that do not join into one dict, and the ``skipped`` ones.
        A file with such fragments and no record says so instead of just "no data"."""
        return self._counts.skipped + self._counts.fragments

    @property
    def readings(self) -> tuple[str, ...]:
        """Readings taken on evidence, sorted: ``second_logger`` (a second logging handler's
        copies of the records were dropped), ``two_writers`` (two processes printed every
        record: each is counted once)."""
        return tuple(sorted(self._policy.readings))

    @property
    def idle(self) -> bool:
        """True when no partial input is held (the last document or line was complete)."""
        return not self._carry

    @property
    def held_bytes(self) -> int:
        """Bytes of a partial segment (or document) held for the next feed."""
        return len(self._carry)

    @property
    def knows_train_total(self) -> bool:
        """Whether the train bar's total is known (from a bar or the banner). Until then each
        chunk's bars are all scanned, which is slow on large chunks of bars."""
        return self._bars.known

    @property
    def state_history(self) -> HistoryMark | None:
        """The mark of the last whole trainer_state.json document read (its ``log_history``),
        for `~tui_monitor.core.parse.trainer_state.keeps_history`; ``None`` before one."""
        return self._state.history

    def policy_state(self) -> PolicyState:
        """What the record policy carries between feeds (for equality checks in tests)."""
        return self._policy.state()

    # -- feeding -----------------------------------------------------------------------------

    def reset(self, *, keep_partial: bool = False) -> None:
        """Start a new byte stream (the file was truncated, rotated or re-created).

        The new stream may go on where the old one stopped (a copytruncate or a rotation: the
        writer writes on) or be a new process's output (a run restarted into the log); which
        one is told by what comes next, so nothing the next bytes may still need is dropped:

        * with ``keep_partial`` (the caller knows the writer may go on mid-line: see
          `Monitor`), the partial last segment is kept and joined with the new stream's first
          bytes, so a record or a bar redraw cut by the reset is read whole; unless the new
          stream starts with a dict of its own, or its first train bar is drawn anew (a new
          process's output), or `drop_partial` is called first;
        * the step tracker keeps its clears awaiting their redraw and the steps queued for
          records still in a writer's buffer, and the train bar its total, until the new
          stream's first train bar says whether the bars go on (see `TrainBar.after_reset`);
        * what the parser learnt about the run (last step and epoch per rank, trainer_state
          records already emitted) is kept: the next train record tells whether the run goes
          on or a new run started (a `RunStart`), and a rewritten trainer_state.json does not
          duplicate records.

        A trainer_state.json is one document: its partial bytes are dropped and it is sniffed
        again.
        """
        if self.format == "trainer_state" or not keep_partial:
            self._carry = b""
        if self.format == "trainer_state":
            self.format = None
        # The kept bytes come just before the new stream's offset 0.
        self._carry_offset = -len(self._carry)
        self._joining = bool(self._carry)
        self.offset = 0
        self._console.reset()
        self._policy.new_stream()
        self._bars.after_reset()

    def drop_partial(self) -> None:
        """The new stream after a reset may not go on from the partial last segment kept
        across it (bytes between may have been destroyed unread): a record begun in it is
        dropped (joined, it could be spliced with a later record into one never logged), and
        gives up its tqdm step. Bar or clear text is kept: a clear cut by the reset is still
        its log event (bytes destroyed between would leave the pairing unprovable anyway)."""
        carry = self._carry
        if self.format == "console" and carry.rfind(b"{") > carry.rfind(b"}"):
            self._policy.lost_record()
            self._carry = b""
            self._carry_offset = 0

    def feed(self, data: bytes | bytearray) -> list[ParsedItem]:
        """Parse the next bytes of the stream.

        Args:
            data: any number of bytes (may split a line, a dict or a UTF-8 sequence); a
                ``bytearray`` (a reader's buffer, reused for its next read: see
                `pipeline.feed_range`) is not kept, what is held is copied out of it.

        Returns:
            Items completed by these bytes, in file order.

        Never raises on malformed input: bad pieces are skipped (and counted in
        ``skipped`` when they looked like metrics).
        """
        return self._feed(data)  # type: ignore[return-value]  # no Batch unless columnar

    def feed_columnar(self, data: bytes | bytearray) -> list[ParsedItem | Batch]:
        """`feed`, with runs of plain records returned as `Batch` items (catch-up).

        Same records, in the same order, with the same steps, epochs and offsets as `feed`
        would return (each `Batch` stands for its `Batch.records`); the parser's state
        afterwards is the same too. Runs are consecutive whole lines of console output that
        are flat numeric dicts of known key sequences (a train record first; other train key
        sequences and eval records may follow), with no rank prefix. A run that would need a
        per-record decision (an echo, a held or disagreeing step) takes the record path; at a
        train record that goes back (a rewind, a restart) it is cut and that record takes it.
        """
        self._console.columnar = True
        try:
            return self._feed(data)
        finally:
            self._console.columnar = False

    def _feed(self, data: bytes | bytearray) -> Out:
        if not data:
            return []
        if self._joining:
            self._joining = False
            if data[:1] == b"{":
                self.drop_partial()  # a record's own line: the partial line does not go on here
        carry, base = self._carry, self._carry_offset
        self.offset += len(data)
        if self.format in ("console", "jsonl") and b"\n" not in carry and b"\r" not in carry:
            # The common case: the carry is a partial segment (no separator), so the complete
            # segments end at data's last separator. They are joined from the carry and a view
            # of data: one copy of the chunk, where ``carry + data`` and its slices made three
            # (~0.2 ms per MiB: fresh 1 MiB objects fault their pages in). Read into a reused
            # buffer (a bytearray), that copy is the chunk's only new 1 MiB object: freed before
            # the next one, its memory is reused without faulting pages in again.
            c = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
            if c:
                view = memoryview(data)
                complete = data[:c] if not carry and type(data) is bytes else b"".join((carry, view[:c]))
                return self._feed_complete(complete, base, bytes(view[c:]) if c < len(data) else b"")
        if type(data) is not bytes:
            data = bytes(data)
        buf = carry + data if carry else data
        if self.format is None:
            fmt = sniff_format(buf)
            if fmt is None:
                self._hold(buf, base)  # bounded: a file of blanks only must not grow the carry
                return []
            self.format = fmt
        if self.format == "trainer_state":
            return self._feed_state(buf, base)
        cut = max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1
        if cut == 0:
            self._hold(buf, base)
            out: Out = []
            if self.format == "console":
                self._console.partial_redraw(self._carry, out)
            return out
        return self._feed_complete(buf[:cut], base, buf[cut:])

    def _feed_complete(self, complete: bytes, base: int, rest: bytes) -> Out:
        """`_feed` of a console or JSON-lines stream: ``complete`` (whole segments, at stream
        offset ``base``) is parsed and ``rest`` (the partial last segment) held."""
        if self.format == "console":
            # A dict wrapped over lines whose end has not been read yet: hold its lines
            # back, so that it is joined as when the file is fed whole.
            held = open_join_start(complete)
            if held >= 0:
                if held == 0:
                    self._hold(complete + rest, base)
                    return []
                complete, rest = complete[:held], complete[held:] + rest
        self._hold(rest, base + len(complete))
        if self.format == "jsonl":
            return self._jsonl.parse(complete, base)
        out = self._console.parse(complete, base)
        if self._carry:
            self._console.partial_redraw(self._carry, out)
        return out

    def flush(self) -> list[ParsedItem]:
        """Parse whatever partial segment is still held (call at end of file).

        A dict cut off mid-way (a line still being written) yields nothing.
        """
        buf, base = self._carry, self._carry_offset
        self._carry = b""
        out: Out = []
        if buf:
            if self.format is None:
                self.format = sniff_format(buf, final=True)
            if self.format == "jsonl":
                out = self._jsonl.parse(buf + b"\n", base)
            elif self.format == "console":
                out = self._console.parse(buf + b"\n", base)
            self._carry_offset = base + len(buf)
        self._policy.flush(out)
        return out  # type: ignore[return-value]

    def release_held(self) -> list[ParsedItem]:
        """The log went quiet: records held for a tqdm redraw that has not come go out now
        (with a queued step when there is one); the partial line is kept (unlike `flush`)."""
        out: Out = []
        self._policy.release_quiet(out)
        return out  # type: ignore[return-value]

    def _hold(self, rest: bytes, offset: int) -> None:
        if len(rest) > MAX_CARRY:
            # An endless \r-less line: nothing before its last KEEP_TAIL bytes can still
            # complete a dict that starts in the kept part.
            drop = len(rest) - KEEP_TAIL
            rest = rest[drop:]
            offset += drop
        self._carry, self._carry_offset = rest, offset

    def _feed_state(self, buf: bytes, base: int) -> Out:
        verdict, items = self._state.read(buf, base)
        if verdict == "items":
            self._carry, self._carry_offset = b"", base + len(buf)
        elif verdict == "incomplete":
            self._carry, self._carry_offset = buf, base
        elif verdict == "too_large":
            self._carry = b""
        else:
            # Sniffed as trainer_state.json (a lone "{" first line) but it is not one: read the
            # stream, from these held bytes on, as console output.
            self.format = "console"
            self._carry, self._carry_offset = b"", base
            self.offset -= len(buf)  # _feed counts them again
            return self._feed(buf)
        return items
