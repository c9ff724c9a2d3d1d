"""Step pairing, the record policy's step rule: each console record without a stated step takes
the next step the tqdm log events give, and waits for it when it is not read yet.

One :class:`StepPairing` per `~tui_monitor.core.parse.policy.RecordPolicy`. The
`~tui_monitor.core.parse.steps.StepTracker` turns the bars' clears and redraws into queued
steps (DESIGN.md, "Steps from tqdm"); this module decides which record takes which of them:

* **holding**: a record read between a clear and its redraw (``python -u``: the record is
  written before its redraw) waits for the redraw; held records go out when it comes, when no
  redraw is open any more, when more than ``MAX_WAIT`` wait, or when the log goes quiet.
* **bursts**: on probation (a buffered stdout whose pairing is not yet proven) the records read
  since the last log event are held as one burst and paired when it ends: its newest records
  take the queued steps, its oldest extra ones none (`StepTracker.pair_burst`).
* **a read from mid-file** (unsynced): the first burst's steps are not known; its records go out
  without one.

Each record leaves through the policy's emit callback, in file order, whether or not it got a
step. Scalar: `StepPairing.take`; batch (a run of plain train records, the columnar catch-up):
`StepPairing.peek_run` with `StepTracker.peek_batch`, then `StepPairing.take_run`; and, when
every row of the run would be held (a clear is open and no step is queued: ``tqdm.write``'s
clears with a train bar that never redraws in the file), `StepPairing.hold_rows`, which holds
the rows as slices of the run and lets them out through the emit-rows callback.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tui_monitor.core.parse.boundaries import RunBoundaries
from tui_monitor.core.parse.items import Batch, Out, Record
from tui_monitor.core.parse.steps import MAX_WAIT, StepTracker

__all__ = ["HeldRows", "StepPairing"]


class HeldRows:
    """Rows ``start:stop`` of a columnar run's rows (`ColumnRun.rows`, a `Batch` without steps),
    held for a redraw as one entry (they stand for the records ``run.record(i)`` the record
    path would hold, in order).

    Attributes:
        run: the run.
        start / stop: the rows held (``stop`` exclusive).
    """

    __slots__ = ("run", "start", "stop")

    def __init__(self, run: Batch, start: int, stop: int) -> None:
        self.run = run
        self.start = start
        self.stop = stop

    def __len__(self) -> int:
        return self.stop - self.start

    def records(self) -> list[Record]:
        """The rows as the records the record path would have held."""
        return [self.run.record(i) for i in range(self.start, self.stop)]


class StepPairing:
    """Pairs console records with the tqdm steps (module docstring).

    Args:
        steps: the step tracker fed by the console reader's tqdm markers.
        runs: the run boundaries (a record that starts a new run is paired with the new run's
            steps per epoch, not the old run's).
        emit: where each record goes, with or without a step, in order.
        emit_rows: where held rows of a run go when they are let out without steps, in
            order (as the records ``emit`` would get, each without a step).
    """

    def __init__(
        self,
        steps: StepTracker,
        runs: RunBoundaries,
        emit: Callable[[Record, Out], None],
        emit_rows: Callable[[HeldRows, Out], None],
    ) -> None:
        self._steps = steps
        self._runs = runs
        self._emit = emit
        self._emit_rows = emit_rows
        # Records between a tqdm clear and its redraw (rows of a run held as one entry).
        self._waiting: list[Record | HeldRows] = []
        self._rows_entries = 0  # `HeldRows` entries in `_waiting`
        self._rows_extra = 0  # the records they stand for beyond one each
        self._burst: list[Record] = []  # on probation: the records read since the last log event

    @property
    def holding(self) -> bool:
        """Records wait for a redraw."""
        return bool(self._waiting)

    @property
    def held(self) -> int:
        """How many records wait for their redraw."""
        return len(self._waiting) + self._rows_extra

    # -- the scalar form --------------------------------------------------------------------

    def take(self, rec: Record, out: Out) -> None:
        """A console record with no stated step: give it the next tqdm step (holding it while
        its redraw has not been read yet), then emit it."""
        steps = self._steps
        runs = self._runs
        if runs.summary_seen and rec.kind == "train":
            # The first record of the next run (the policy's accept starts it): its step is
            # checked against the new run's steps per epoch, not the old run's.
            steps.forget_run()
        if not steps.enabled:
            self._emit(rec, out)
            return
        if steps.unsynced:
            # A read from mid-file: the first burst's steps are not known. One record between
            # a clear and its redraw is an unbuffered log's; several are a burst of stdout
            # written there (its buffer filled while tqdm wrote), none of them that event's.
            stale = steps.stale_for_record()
            if self._waiting:
                self._waiting.append(rec)
                steps.give_up_open()
                self.release(out, with_steps=False)
                return
            if stale:
                self._emit(rec, out)
                return
        if steps.probation and not self._waiting and (steps.queued or not steps.awaiting):
            self._burst.append(rec)  # paired when the burst ends (`_end_burst`)
            if len(self._burst) > MAX_WAIT:
                self._end_burst(out)
            return
        if self._waiting:
            self._waiting.append(rec)
            if len(self._waiting) + self._rows_extra > MAX_WAIT:
                self.release(out, with_steps=False)
            return
        if runs.after_reset and rec.kind == "train" and runs.starts_new_run(rec) is not None:
            # The first record after a reset starts a new run (its epoch went back): the old
            # run's steps per epoch must not judge the new run's first pairing.
            steps.forget_run()
        step = steps.take()
        if step is not None:
            if steps.check(step, rec.epoch):
                rec.step = step
            self._emit(rec, out)
        elif steps.awaiting:
            self._waiting.append(rec)
        else:
            self._emit(rec, out)

    def _end_burst(self, out: Out) -> None:
        """A burst of records read on probation ended (a log event, the log went quiet, the
        end of input): its newest records take the queued steps, its oldest extra ones none
        (see `StepTracker.pair_burst`)."""
        burst, self._burst = self._burst, []
        if not burst:
            return
        steps = self._steps
        extra, _ = steps.pair_burst(len(burst))
        for i, rec in enumerate(burst):
            step = steps.take() if i >= extra else None
            if step is not None and steps.check(step, rec.epoch):
                rec.step = step
            self._emit(rec, out)

    def release(self, out: Out, *, with_steps: bool) -> None:
        """Emit held records in order, each with the next queued step when there is one."""
        steps = self._steps
        if with_steps and self._rows_entries:
            # Each held row may take a step (and be checked against its epoch): as records.
            self._waiting = [r for h in self._waiting for r in (h.records() if isinstance(h, HeldRows) else [h])]
            self._rows_entries = self._rows_extra = 0
        while self._waiting:
            step = steps.take() if with_steps else None
            if step is None and with_steps and steps.awaiting:
                return  # the next redraw is still to come
            rec = self._waiting.pop(0)
            if isinstance(rec, HeldRows):
                self._rows_entries -= 1
                self._rows_extra -= len(rec) - 1
                self._emit_rows(rec, out)
                continue
            if step is not None and steps.check(step, rec.epoch):
                rec.step = step
            self._emit(rec, out)

    def marker(self, kind: str, n: int, out: Out) -> None:
        """One tqdm log-event marker (see `StepTracker.scan`): held records may go out."""
        steps = self._steps
        if steps.unsynced:
            steps.synced_at_event(bool(self._waiting))
        if self._burst:
            self._end_burst(out)
        steps.on_marker(kind, n)
        if self._waiting:
            if kind == "step":
                self.release(out, with_steps=True)
            elif not steps.awaiting:
                self.release(out, with_steps=False)

    def markers(self, markers: list[tuple[int, str, int, int]], a: int, b: int, out: Out) -> None:
        """``markers[a:b]`` in order. A ``"pair"`` (open, then step) with no record held is
        just its step queued: the open and the step cancel out in the open count."""
        if b - a > 1 and not self._waiting:
            # The common case (the train bar's redraws between two bursts of stdout): pairs
            # only, nothing held. The first pair's sync and burst end leave nothing for the
            # others to do (nothing is held after them, the tracker is synced or stays
            # unsynced, the burst is empty), so the steps are queued at once: the loop below,
            # without a Python call per marker.
            _, kinds, counts, _ = zip(*markers[a:b])
            if kinds.count("pair") == b - a:
                self._queue_pairs(counts, out)
                return
        for i in range(a, b):
            _, kind, n, _ = markers[i]
            if kind == "pair":
                if not self._waiting:
                    self._queue_pairs((n,), out)
                    continue
                self.marker("open", 0, out)
                self.marker("step", n, out)
            else:
                self.marker(kind, n, out)

    def _queue_pairs(self, counts: tuple[int, ...], out: Out) -> None:
        """Whole clear -> redraw pairs of ``counts`` steps with no record held: the tracker is
        synced at the first (when it was not), the burst before them ends, their steps queue."""
        if self._steps.unsynced:
            self._steps.synced_at_event(False)
        if self._burst:
            self._end_burst(out)
        self._steps.queue_steps(counts)

    def release_quiet(self, out: Out) -> None:
        """The log has gone quiet with records held for their redraw (a run that died right
        after logging, a redraw still in the write buffer): they go out now with what is known
        (queued steps first), and the redraws still open will not shift later records."""
        self._end_burst(out)
        if not self._waiting:
            return
        self.release(out, with_steps=True)
        if self._waiting:
            self._steps.give_up_open()
            self.release(out, with_steps=False)

    def settle(self, out: Out) -> None:
        """End of a buffer: held records go out when no redraw is still open for them."""
        if self._waiting and not self._steps.awaiting:
            self.release(out, with_steps=True)

    def new_bars(self, out: Out) -> None:
        """After a file reset a new process's bars begin: records held for a redraw of the old
        stream go out without it, and the steps it queued for records still in the old
        writer's buffer are dropped (that writer is gone)."""
        if self._waiting:
            self.release(out, with_steps=False)
        self._steps.reset()

    def lost_record(self) -> None:
        """A record whose first bytes were read will never be read whole (its partial line was
        dropped at a reset): the tqdm step it would have taken must not go to the next record.
        Its step is the first queued one (stdout buffered: the events come first), else its
        event is the open one (python -u: its clear was read, its redraw is still to come)."""
        if self._steps.queued:
            self._steps.take()
        elif self._steps.awaiting:
            self._steps.drop_open()

    def flush(self, out: Out) -> None:
        """End of input: a burst is paired, and held records go out without a step."""
        self._end_burst(out)
        if self._waiting:
            self.release(out, with_steps=False)

    # -- the batch form ---------------------------------------------------------------------

    def peek_run(self, epochs: np.ndarray | None, m: int) -> tuple[int, np.ndarray, float | None] | None:
        """The batch form of `take` for ``m`` rows of a run not yet taken (all of them, or
        those after its first when that one went through `take`), without taking anything.

        Args:
            epochs: ``(m,) float64`` epochs of the rows, or ``None``.
            m: how many rows.

        Returns:
            ``(k, steps, steps_per_epoch)``: the first ``k <= m`` rows take the queued
            ``(k,) int64`` steps (the others none, or, when `clear_open`, the others would be
            held for the redraw: the caller takes only the first ``k``) and the tracker would
            then have ``steps_per_epoch``; ``None`` when the rows must take the record path (a
            read from mid-file, on probation, records held, no step queued while a clear is
            open, or a pairing that disagrees with its epoch, which `take` answers by disabling
            the tracker).
        """
        steps = self._steps
        if steps.unsynced or steps.probation or self._burst or self._waiting:
            return None
        k = 0
        st: np.ndarray = np.empty(0, dtype=np.int64)
        spe = steps.steps_per_epoch
        if steps.enabled:
            k = min(m, steps.queued)
            if k < m and steps.awaiting and not k:
                return None  # records would be held for their redraw
            # With some steps queued and a clear open (dicts of several logging steps in one
            # burst after a clear, their redraws after them), the first k rows take the queued
            # steps and the rows after them would be held: the caller takes only the k rows as
            # a batch (`clear_open`) and the rest as a run of its own, whose rows are held.
            # (Also with k = 0: a peek forgets the bounds an earlier one left for `take_batch`.)
            paired = steps.peek_batch(epochs, k)
            if paired is None:
                return None
            st, spe = paired
        return k, st, spe

    @property
    def clear_open(self) -> bool:
        """A tqdm clear awaits its redraw: rows beyond the queued steps would be held."""
        return self._steps.enabled and self._steps.awaiting

    def rows_held(self) -> bool:
        """Whether `take` would hold every row of a run for its redraw: the tracker is on and
        in sync, a clear is open, no step is queued (so none can come before a redraw), and no
        file reset or summary makes a row's `take` learn the run afresh. (`tqdm.write`'s clears
        when the train bar never redraws in the file: the clear stays open for good.)"""
        steps, runs = self._steps, self._runs
        return (
            steps.enabled
            and not steps.unsynced
            and not steps.queued
            and steps.awaiting
            and not runs.after_reset
            and not runs.summary_seen
        )

    def hold_rows(self, run: Batch, start: int, out: Out) -> int:
        """The batch form of `take` for the rows ``start:`` of ``run`` when `rows_held`: each
        row is held; whenever more than ``MAX_WAIT`` records are held they all go out without
        a step (`release`), exactly where `take` would let them out, record by record.

        Returns:
            ``len(run)`` when every row was held; else the row from which `rows_held` no
            longer holds (records let out by a release made a summary the last record out:
            the next row's `take` decides), for the caller to take as a run of its own.
        """
        n = len(run)
        i = start
        while i < n:
            j = min(n, i + MAX_WAIT + 1 - self.held)  # the row whose hold is one too many
            self._waiting.append(HeldRows(run, i, j))
            self._rows_entries += 1
            self._rows_extra += j - i - 1
            i = j
            if self.held > MAX_WAIT:
                self.release(out, with_steps=False)
                if not self.rows_held():
                    return i
        return n

    def take_run(self, k: int, steps_per_epoch: float | None) -> None:
        """Take the ``k`` steps `peek_run` gave (and the steps per epoch it learnt)."""
        if k:
            self._steps.take_batch(k, steps_per_epoch)
