"""The per-record policy: which step a record gets, whether it is a copy, whether it starts a
run or rewinds.

Every record the readers find (console, JSON lines, trainer_state.json) goes through one
:class:`RecordPolicy`, in file order: the one facade the readers call. Its rules live in one
module per seam, each with a scalar form (one `Record`) and, where the columnar catch-up needs
it, a batch form (a `ColumnRun` of plain train records) beside it:

* **steps** (:mod:`~tui_monitor.core.parse.pairing`): console records without a stated step
  take the next step the tqdm log events give (:class:`~tui_monitor.core.parse.steps.StepTracker`);
  a record read between a clear and its redraw is held until the redraw comes; on probation a
  burst of records is paired when it ends. Scalar: `take`; batch: `take_run` with
  `StepPairing.peek_run` (`StepTracker.peek_batch`), or, when a clear is open with no step
  queued (``tqdm.write``'s clears, the train bar drawn elsewhere), `StepPairing.hold_rows`:
  the rows are held as slices of their run and go out through `_emit_rows`.
* **copies** (:mod:`~tui_monitor.core.parse.copies`): an echo (a bare dict followed at once by
  the same values logged again with a step or a rank prefix), a second logger's copy
  (LLaMA-Factory's ``llamafactory.train.callbacks``), or, when two processes print every record,
  the second process's copy, counts once. Each reading taken is noted in
  `RecordPolicy.readings` (the report says it). Scalar only: a run that may hold one takes the
  record path (`CopyFilter.batch_ok`; its first row: `CopyFilter.rows_ok`,
  `CopyFilter.may_echo`). Equal consecutive records are *not* duplicates by themselves: only
  evidence decides.
* **runs** (:mod:`~tui_monitor.core.parse.boundaries`, DESIGN.md "Runs"): a `RunStart` before
  the first item of a new run (a banner after records, a train record after the run's summary,
  a step or epoch back at the run's start without a resume message, a train record after a file
  reset that does not continue the run), a `Rewind` before a train record that goes back to a
  mid-run checkpoint (a resume), and the banner's steps per epoch for records no bar gave a
  step. Scalar: `RunBoundaries.accept`; batch: `RunBoundaries.accept_rows` (the rewind
  rule and the logging interval in one pass over the rows). ``on_new_run`` lets the parser
  forget the old run's bar.

A record's way through: `take` (steps) → `emit` (copies, echo) → accept (runs; then it is
appended to the caller's ``out``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tui_monitor.core.parse.boundaries import RunBoundaries
from tui_monitor.core.parse.columnar import ColumnRun
from tui_monitor.core.parse.copies import CopyFilter
from tui_monitor.core.parse.items import Batch, Out, Record, RunInfo, RunMarker, RunStartReason
from tui_monitor.core.parse.pairing import HeldRows, StepPairing
from tui_monitor.core.parse.steps import StepTracker

__all__ = ["Out", "PolicyState", "RecordPolicy"]


@dataclass(frozen=True)
class PolicyState:
    """What the policy carries from one feed to the next (compared by the columnar tests).

    Attributes:
        last_epoch / last_step: the latest epoch / stated step per rank.
        steps_per_epoch / steps_enabled / queued_steps: the step tracker's state.
        echo_mode: a second logger repeats every record (bare copies are held back).
        prev / pending: the last record that went out, and the bare copy held in echo mode.
        waiting: how many records wait for their redraw.
        step_interval / epoch_interval: the run's logging interval, as learnt so far.
        run_flags: (records seen in this run, its summary seen, a resume message seen, a file
            reset not yet followed by a train record).
        readings: the readings taken on evidence (``second_logger``, ``two_writers``).
        two_writers: two processes print every record (their copies are dropped).
    """

    last_epoch: dict[str | None, float]
    last_step: dict[str | None, int]
    steps_per_epoch: float | None
    steps_enabled: bool
    queued_steps: tuple[int, ...]
    echo_mode: bool
    prev: Record | None
    pending: Record | None
    waiting: int
    step_interval: int | None
    epoch_interval: float | None
    run_flags: tuple[bool, bool, bool, bool]
    readings: frozenset[str] = frozenset()
    two_writers: bool = False


class RecordPolicy:
    """Decides, record by record in file order, what goes out (see the module docstring).

    Args:
        steps: the step tracker fed by the console reader's tqdm markers.

    Attributes:
        steps: that step tracker.
        on_new_run: called with the reason when a new run starts (on a restart the parser
            forgets the old run's bar; at a banner or after a summary the console reader
            already did, at the byte where the run's bars start).
    """

    def __init__(self, steps: StepTracker) -> None:
        self.steps = steps
        self.on_new_run: Callable[[RunStartReason], None] | None = None
        self._runs = RunBoundaries(steps, self._run_started)
        self._copies = CopyFilter(self._accept)
        self._pairing = StepPairing(steps, self._runs, self.emit, self._emit_rows)

    def state(self) -> PolicyState:
        """A copy of what the policy carries between feeds."""
        runs, copies, steps = self._runs, self._copies, self.steps
        return PolicyState(
            dict(runs.last_epoch),
            dict(runs.last_step),
            steps.steps_per_epoch,
            steps.enabled,
            steps.queued_steps(),
            copies.echo_mode,
            copies.prev,
            copies.pending,
            self._pairing.held + copies.held,
            runs.step_interval,
            runs.epoch_interval,
            runs.flags,
            frozenset(copies.readings),
            copies.two_writers,
        )

    @property
    def holding(self) -> bool:
        """Records wait for a redraw."""
        return self._pairing.holding

    @property
    def readings(self) -> set[str]:
        """The readings taken on evidence (``second_logger``, ``two_writers``)."""
        return self._copies.readings

    # -- steps (`~tui_monitor.core.parse.pairing`) ------------------------------------------

    def take(self, rec: Record, out: Out) -> None:
        """A console record with no stated step: give it the next tqdm step (holding it while
        its redraw has not been read yet), then `emit` it."""
        self._pairing.take(rec, out)

    def marker(self, kind: str, n: int, out: Out) -> None:
        """One tqdm log-event marker (see `StepTracker.scan`): held records may go out."""
        self._pairing.marker(kind, n, out)

    def markers(self, markers: list[tuple[int, str, int, int]], a: int, b: int, out: Out) -> None:
        """``markers[a:b]`` in order (see `StepPairing.markers`)."""
        self._pairing.markers(markers, a, b, out)

    def release_quiet(self, out: Out) -> None:
        """The log has gone quiet: records held for their redraw go out now with what is
        known (see `StepPairing.release_quiet`)."""
        self._pairing.release_quiet(out)

    def settle(self, out: Out) -> None:
        """End of a buffer: held records go out when no redraw is still open for them."""
        self._pairing.settle(out)

    def new_bars(self, out: Out, offset: int = 0) -> None:
        """After a file reset a new process's bars begin, at stream offset ``offset`` (see
        `StepPairing.new_bars` and `RunBoundaries.new_process`)."""
        self._pairing.new_bars(out)
        self._runs.new_process(offset, out)

    def lost_record(self) -> None:
        """A record begun before a reset will never be read whole: its tqdm step must not go
        to the next record (see `StepPairing.lost_record`)."""
        self._pairing.lost_record()

    # -- runs (`~tui_monitor.core.parse.boundaries`) ----------------------------------------

    def run_marker(self, marker: RunMarker, out: Out) -> None:
        """A training banner or a resume message (main writer only): a banner after records
        starts a new run; a resume message makes the next fall back a resume."""
        self._runs.run_marker(marker, out)

    def run_info(self, info: RunInfo) -> None:
        """A banner fact of the run (see `RunBoundaries.run_info`)."""
        self._runs.run_info(info)

    def new_stream(self) -> None:
        """The file was truncated or replaced: the next train record tells whether the run
        goes on (a copytruncate) or a new one started."""
        self._runs.new_stream()

    def _run_started(self, reason: RunStartReason) -> None:
        if self.on_new_run is not None:
            self.on_new_run(reason)

    # -- copies (`~tui_monitor.core.parse.copies`) ------------------------------------------

    def banner(self) -> None:
        """The Trainer's banner (its total steps) was read: twice before any record means two
        processes that each believe they are the main one."""
        self._copies.banner()

    def emit(self, rec: Record, out: Out) -> None:
        """Apply copy and echo dedupe and the run rules, then append ``rec`` to ``out``."""
        self._copies.emit(rec, out)

    def _accept(self, rec: Record, out: Out) -> None:
        """A record that is no copy goes out: the run rules, then ``out``."""
        stepped = self._runs.epoch_step(rec)
        self._runs.accept(rec, out)
        self._copies.accepted(rec, epoch_stepped=stepped)
        out.append(rec)

    def flush(self, out: Out) -> None:
        """End of input: held records (without a step) and held copies go out."""
        self._pairing.flush(out)
        self._copies.flush(out)

    # -- the batch form ---------------------------------------------------------------------

    def take_run(self, run: ColumnRun, out: Out) -> None:
        """A run of plain records (rank ``None``, no step of their own; train records, and eval
        records among them): as one `Batch` when the scalar path would make no per-record
        decision for them (no echo or copy possible, nothing held, every step agreeing with its
        epoch, no new run, no rewind); its first record included, unless its `take` decides
        (after a summary or a file reset, a record that may be an echo of the one before, the
        stream's first records, a step or epoch that goes back): then it goes through `take`
        and the others form the batch. (A first row alone of its shape, a burst's eval record
        before its train records, is decided with the batch and goes out as its record beside
        it: a batch of several shapes costs the state more.) A train record that goes back (a
        rewind or a new run) is taken through `take`, the rows before it as a batch and the
        rows after it as a run of their own; when no batch applies, every row goes through
        `take`. Either way the items and the policy's state afterwards are those of the scalar
        path.

        When `take` would hold every row for a redraw (`StepPairing.rows_held`: a clear open,
        no step queued), the rows are held as slices of the run and go out, without steps,
        through `_emit_rows` (as one `Batch` each when no per-record decision applies). When
        a clear is open with some steps queued (a block-buffered burst of dicts after a
        clear), the rows that take them go out as a batch and the rest are a run of their own,
        held."""
        rows: Batch | None = run.rows
        while rows is not None:
            rows = self._take_rows(rows, out)

    def _take_rows(self, rows: Batch, out: Out) -> Batch | None:
        """`take_run` up to the first row whose `take` decides after others went out (a train
        record that goes back, a row after an eval row that followed a summary or a reset);
        returns the rows from it on (a run to take next), or ``None`` when all were taken."""
        n = len(rows)
        pairing, runs = self._pairing, self._runs
        if pairing.rows_held():
            # `take` would hold the first row for the open clear's redraw, and each row after it.
            i = pairing.hold_rows(rows, 0, out)
            return rows.part(i, n) if i < n else None
        if not (runs.summary_seen or runs.after_reset):
            done, rest = self._batch_rows(rows, 0, out)
            if done:
                return rest
        self.take(rows.record(0), out)
        if n == 1:
            return None
        if pairing.rows_held():
            i = pairing.hold_rows(rows, 1, out)
            return rows.part(i, n) if i < n else None
        if runs.summary_seen or runs.after_reset:
            return rows.part(1, n)  # (an eval record: the next train record decides)
        return self._batch_rows(rows, 1, out)[1]

    def _batch_rows(self, rows: Batch, s: int, out: Out) -> tuple[bool, Batch | None]:
        """The rows ``s:`` of a run (``s`` = 1: its first row went through `take`; 0: none did,
        nothing is held, no summary or file reset awaits a train record) as one `Batch` up to
        the first train record that goes back, or each through `take` when a per-record
        decision applies to them.

        Returns:
            ``(done, rest)``: ``done`` False (``s`` = 0 only) when the first row needs its
            `take` (nothing went out); ``rest`` the rows from a train record that goes back
            on (a run to take next), or ``None``.
        """
        n = len(rows)
        m = n - s
        epochs = rows.epoch[s:] if rows.epoch is not None and s else rows.epoch
        runs, copies, pairing = self._runs, self._copies, self._pairing
        # (A stream's first records and a two-writer log take the record path: a copy is
        # decided per record.)
        if s:
            paired = pairing.peek_run(epochs, m) if copies.batch_ok(rows) else None
        else:
            paired = pairing.peek_run(epochs, m) if copies.rows_ok() else None
            if paired is None or copies.may_echo(rows, paired[0] > 0):
                return False, None
        full, full_n = rows, n
        rest: Batch | None = None
        if paired is not None and paired[0] < m and pairing.clear_open:
            # Rows beyond the queued steps wait for the open clear's redraw: the first k go out
            # as a batch, the rest are taken next as a run of their own (whose rows are held).
            k = paired[0]
            rest = rows.part(s + k, n)
            m, n = k, s + k
            rows = rows.part(0, n)
            epochs = epochs[:m] if epochs is not None else None
        if paired is not None and paired[0] < m and runs.has_epoch_steps:
            if not s:
                return False, None
            paired = None  # rows without a queued step take their epoch's step, one by one
        if paired is None:
            for rec in rows.part(s, n).records():
                self.take(rec, out)
            return True, None
        k, st, spe = paired
        back = runs.accept_rows(st, epochs, m, rows, s)
        if back is not None:
            # (Nothing was accepted.) The rows before it go out as a batch (paired anew: fewer
            # steps), the row that goes back starts the rest (its `take` decides: a rewind or
            # a new run).
            rest = full.part(s + back, full_n)
            if back == 0:
                return bool(s), rest
            m = back
            rows = rows.part(0, s + back)
            epochs = epochs[:m] if epochs is not None else None
            paired = pairing.peek_run(epochs, m)
            if paired is None:
                for rec in rows.part(s, s + m).records():
                    self.take(rec, out)
                return True, rest
            k, st, spe = paired
            # (The rows before the one that goes back, with the same steps: none goes back.)
            runs.accept_rows(st, epochs, m, rows, s)
        pairing.take_run(k, spe)
        shapes = rows.shapes
        if not s and shapes is not None and len(rows) > 1 and shapes[0] != shapes[1]:
            # A first row alone of its shape (a burst's eval record before its train records)
            # goes out as its record, the others as a batch: the items the state got when that
            # row took the record path (a batch's rows of several shapes cost it more than a
            # record and a batch of one shape).
            first = rows.record(0)
            first.step = int(st[0]) if k else None
            others = rows.part(1, len(rows), st[1:])
            copies.accepted(first, epoch_stepped=False)
            copies.accepted_batch(others)
            out.append(first)
            out.append(others)
        else:
            batch = rows.part(s, len(rows), st)
            copies.accepted_batch(batch)
            out.append(batch)
        return True, rest

    def _emit_rows(self, held: HeldRows, out: Out) -> None:
        """Held rows go out without steps (`StepPairing.release`): one `Batch` when `emit`
        would make no per-record decision for them (no copy or echo possible, no step from
        the epoch, no new run, no rewind), else each row through `emit`. Either way the items
        and the policy's state afterwards are those of `emit` for each row's record."""
        rows = held.run.part(held.start, held.stop)
        epochs = rows.epoch
        runs = self._runs
        none = _NO_STEPS
        if (
            runs.summary_seen
            or runs.after_reset
            or runs.has_epoch_steps
            or not runs.run_has_records
            or not self._copies.rows_ok()
            or runs.accept_rows(none, epochs, len(rows), rows) is not None  # (else accepted)
        ):
            for i in range(len(rows)):
                self.emit(rows.record(i), out)
            return
        batch = rows.part(0, len(rows), none)
        self._copies.accepted_batch(batch)
        out.append(batch)


_NO_STEPS = np.empty(0, dtype=np.int64)
