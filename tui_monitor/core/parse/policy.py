"""The per-record policy: which step a record gets, whether it is an echo, whether it rewinds.

Every record the readers find (console, JSON lines, trainer_state.json) goes through one
:class:`RecordPolicy`, in file order. Each rule has a scalar form (one `Record`) and, where the
columnar catch-up needs it, a batch form (a `ColumnRun` of plain train records) beside it:

* **steps** (console records without a stated step): the next step the tqdm log events give
  (:class:`~tui_monitor.core.parse.steps.StepTracker`); a record read between a clear and its
  redraw is held until the redraw comes. Scalar: `take`; batch: `take_run` with
  `StepTracker.peek_batch`.
* **echo**: a bare dict followed at once by the same values logged again with a step or a rank
  prefix (a second logging handler, e.g. FATE's Rich handler) counts once. Scalar only: a run
  with an echo pending takes the record path.
* **rewind**: a train record whose step (else epoch) is lower than the previous one of the same
  rank means the run was resumed into the same log: a `Rewind` goes out before it.
  After a summary record the run has ended: what follows is a new run, never a rewind.
  Scalar: `_went_back`; batch: `_run_goes_back`.
* **new run** (DESIGN.md, "Runs"): a `RunStart` goes out before the first item of a new run when
  the training banner appears after records were seen (`run_marker`), a main-writer train record
  follows the run's summary record, a step or epoch falls back to the start of the run (no later
  than its first logged record) without a resume message, or, after the file was truncated or
  replaced (`new_stream`), the first train record does not continue the run. A fall back to a
  mid-run position (a checkpoint) is a resume: the same run, a `Rewind`. Everything the policy
  learnt of the old run (last steps and epochs, steps per epoch) is forgotten, and ``on_new_run``
  lets the parser forget the old run's bar.

* **copies** (scalar only: a run that may hold one takes the record path): a second logger's
  copy (a line whose prefix names a logging handler, LLaMA-Factory's
  ``llamafactory.train.callbacks``, right after the Trainer's dict with the same values to the
  digits it prints) is dropped; two processes that both print every record (the stream's first
  record printed twice identically, or the banner printed twice before any record) make each
  record's identical copy among the last two dropped. Each reading taken is noted in
  `RecordPolicy.readings` (the report says it).

Equal consecutive records are *not* duplicates by themselves: only evidence decides.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from tui_monitor.core.parse.columnar import ColumnRun
from tui_monitor.core.parse.items import (
    Batch,
    ParsedItem,
    Record,
    Rewind,
    RunInfo,
    RunMarker,
    RunStart,
    RunStartReason,
    is_main_rank,
)
from tui_monitor.core.parse.steps import MAX_WAIT, StepTracker, banner_steps_per_epoch, epoch_step

__all__ = ["PolicyState", "RecordPolicy"]

Out = list[ParsedItem | Batch]
"""Where the policy appends what goes out, in order."""


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
        on_new_run: called with the reason when a new run starts (on a restart the parser
            forgets the old run's bar; at a banner or after a summary the console reader
            already did, at the byte where the run's bars start).
    """

    def __init__(self, steps: StepTracker) -> None:
        self.steps = steps
        self.on_new_run: Callable[[RunStartReason], None] | None = None
        self._run_has_records = False
        self._summary_seen = False
        self._resume_seen = False
        self._after_reset = False
        self._step_interval: int | None = None
        self._epoch_interval: float | None = None
        self._last_epoch: dict[str | None, float] = {}
        self._last_step: dict[str | None, int] = {}
        self._seen: dict[str | None, tuple[int | None, float | None]] = {}  # last (step, epoch) of any kind
        self._prev: Record | None = None
        self._pending: Record | None = None
        self._echo_mode = False
        self._waiting: list[Record] = []  # records between a tqdm clear and its redraw
        self._burst: list[Record] = []  # on probation: the records read since the last log event
        self.readings: set[str] = set()
        self._info: dict[str, int] = {}  # the run's banner facts
        self._epoch_spe: int | None = None  # steps per epoch the banner gives (epoch steps)
        self._epoch_stepped: Record | None = None  # the last record given its epoch's step
        self._two_writers = False
        self._accepted = 0  # records accepted in this stream
        self._banners = 0  # banners read before the first record
        self._recent: list[list[object]] = []  # [record, matched] of the last two accepted
        self._probe: list[Record] = []  # copies held while the two-writer evidence is open

    def state(self) -> PolicyState:
        """A copy of what the policy carries between feeds."""
        return PolicyState(
            dict(self._last_epoch),
            dict(self._last_step),
            self.steps.steps_per_epoch,
            self.steps.enabled,
            self.steps.queued_steps(),
            self._echo_mode,
            self._prev,
            self._pending,
            len(self._waiting) + len(self._probe),
            self._step_interval,
            self._epoch_interval,
            (self._run_has_records, self._summary_seen, self._resume_seen, self._after_reset),
            frozenset(self.readings),
            self._two_writers,
        )

    @property
    def holding(self) -> bool:
        """Records wait for a redraw."""
        return bool(self._waiting)

    # -- steps ----------------------------------------------------------------------------

    def take(self, rec: Record, out: Out) -> None:
        """A console record with no stated step: give it the next tqdm step (holding it while
        its redraw has not been read yet), then `emit` it."""
        steps = self.steps
        if self._summary_seen and rec.kind == "train":
            # The first record of the next run (`emit` starts it): its step is checked against
            # the new run's steps per epoch, not the old run's.
            steps.forget_run()
        if not steps.enabled:
            self.emit(rec, out)
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
                self.emit(rec, out)
                return
        if steps.probation and not self._waiting and (steps.queued or not steps.awaiting):
            self._burst.append(rec)  # paired when the burst ends (`_end_burst`)
            if len(self._burst) > MAX_WAIT:
                self._end_burst(out)
            return
        if self._waiting:
            self._waiting.append(rec)
            if len(self._waiting) > MAX_WAIT:
                self.release(out, with_steps=False)
            return
        if self._after_reset and rec.kind == "train" and self._starts_new_run(rec) is not None:
            # The first record after a reset starts a new run (its epoch went back): the old
            # run's steps per epoch must not judge the new run's first pairing.
            steps.forget_run()
        step = steps.take()
        if step is not None:
            if steps.check(step, rec.epoch):
                rec.step = step
            self.emit(rec, out)
        elif steps.awaiting:
            self._waiting.append(rec)
        else:
            self.emit(rec, out)

    def _end_burst(self, out: Out) -> None:
        """A burst of records read on probation ended (a log event, the log went quiet, the
        end of input): its newest records take the queued steps, its oldest extra ones none
        (see `StepTracker.pair_burst`)."""
        burst, self._burst = self._burst, []
        if not burst:
            return
        steps = self.steps
        extra, _ = steps.pair_burst(len(burst))
        for i, rec in enumerate(burst):
            step = steps.take() if i >= extra else None
            if step is not None and steps.check(step, rec.epoch):
                rec.step = step
            self.emit(rec, out)

    def release(self, out: Out, *, with_steps: bool) -> None:
        """Emit held records in order, each with the next queued step when there is one."""
        steps = self.steps
        while self._waiting:
            step = steps.take() if with_steps else None
            if step is None and with_steps and steps.awaiting:
                return  # the next redraw is still to come
            rec = self._waiting.pop(0)
            if step is not None and steps.check(step, rec.epoch):
                rec.step = step
            self.emit(rec, out)

    def marker(self, kind: str, n: int, out: Out) -> None:
        """One tqdm log-event marker (see `StepTracker.scan`): held records may go out."""
        steps = self.steps
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
        for i in range(a, b):
            _, kind, n, _ = markers[i]
            if kind == "pair":
                if not self._waiting:
                    if self.steps.unsynced:
                        self.steps.synced_at_event(False)
                    if self._burst:
                        self._end_burst(out)
                    self.steps.queue_step(n)
                    continue
                self.marker("open", 0, out)
                self.marker("step", n, out)
            else:
                self.marker(kind, n, out)

    def release_quiet(self, out: Out) -> None:
        """The log has gone quiet with records held for their redraw (a run that died right
        after logging, a redraw still in the write buffer): they go out now with what is known
        (queued steps first), and the redraws still open will not shift later records."""
        self._end_burst(out)
        if not self._waiting:
            return
        self.release(out, with_steps=True)
        if self._waiting:
            self.steps.give_up_open()
            self.release(out, with_steps=False)

    def settle(self, out: Out) -> None:
        """End of a buffer: held records go out when no redraw is still open for them."""
        if self._waiting and not self.steps.awaiting:
            self.release(out, with_steps=True)

    # -- runs -----------------------------------------------------------------------------------

    def run_marker(self, marker: RunMarker, out: Out) -> None:
        """A training banner or a resume message (main writer only): a banner after records
        starts a new run; a resume message makes the next fall back a resume."""
        if not is_main_rank(marker.rank):
            return
        if marker.kind == "resume":
            self._resume_seen = True
        elif self._run_has_records:
            self._new_run("banner", marker.offset, out)

    def new_bars(self, out: Out) -> None:
        """After a file reset a new process's bars begin: records held for a redraw of the old
        stream go out without it, and the steps it queued for records still in the old
        writer's buffer are dropped (that writer is gone)."""
        if self._waiting:
            self.release(out, with_steps=False)
        self.steps.reset()

    def lost_record(self) -> None:
        """A record whose first bytes were read will never be read whole (its partial line was
        dropped at a reset): the tqdm step it would have taken must not go to the next record.
        Its step is the first queued one (stdout buffered: the events come first), else its
        event is the open one (python -u: its clear was read, its redraw is still to come)."""
        if self.steps.queued:
            self.steps.take()
        elif self.steps.awaiting:
            self.steps.drop_open()

    def new_stream(self) -> None:
        """The file was truncated or replaced: the next train record tells whether the run
        goes on (a copytruncate) or a new one started."""
        self._after_reset = True

    def _new_run(self, reason: RunStartReason, offset: int, out: Out) -> None:
        out.append(RunStart(reason, offset))
        self._seen.clear()
        self._last_step.clear()
        self._last_epoch.clear()
        self._run_has_records = False
        self._summary_seen = False
        self._resume_seen = False
        self._after_reset = False
        self._step_interval = None
        self._epoch_interval = None
        self._info = {}
        self._epoch_spe = None
        self.steps.forget_run()
        if self.on_new_run is not None:
            self.on_new_run(reason)

    def _starts_new_run(self, rec: Record) -> RunStartReason | None:
        """Whether this main-writer train record is the first of a new run, and why."""
        if self._summary_seen:
            return "after_summary"
        if self._after_reset:
            # Against the run's last record of any kind: after a copytruncate the first record
            # read may be an eval record.
            # The epoch first: it is the record's own, while a step is paired by order (bytes
            # destroyed by the truncation shift the pairing). A restarted run logs its first
            # epoch and step again: equal is no going on.
            seen_step, seen_epoch = self._seen.get(rec.rank, (None, None))
            if rec.epoch is not None and seen_epoch is not None and rec.epoch != seen_epoch:
                continues = rec.epoch > seen_epoch
            else:
                continues = rec.step is not None and seen_step is not None and rec.step > seen_step
            return None if continues or not self._run_has_records else "new_file"
        if self._resume_seen or not self._went_back(rec):
            return None
        # Back at the start: within two logging intervals of step (epoch) 0. A resume goes back
        # to a checkpoint, further on (a log that starts mid-run has no start to go back to).
        if rec.step is not None and self._step_interval is not None:
            return "restart" if rec.step <= 2 * self._step_interval else None
        if rec.step is None and rec.epoch is not None and self._epoch_interval is not None:
            return "restart" if rec.epoch <= 2 * self._epoch_interval else None
        return None

    def _learn_interval(self, rec: Record) -> None:
        """The logging interval (the smallest forward step and epoch between two main-writer
        train records), which tells a restart from a resume."""
        last_step, last_epoch = self._last_step.get(rec.rank), self._last_epoch.get(rec.rank)
        if rec.step is not None and last_step is not None and rec.step > last_step:
            d = rec.step - last_step
            self._step_interval = d if self._step_interval is None else min(self._step_interval, d)
        if rec.epoch is not None and last_epoch is not None and rec.epoch > last_epoch:
            e = rec.epoch - last_epoch
            self._epoch_interval = e if self._epoch_interval is None else min(self._epoch_interval, e)

    # -- echo and rewind --------------------------------------------------------------------

    def run_info(self, info: RunInfo) -> None:
        """A banner fact of the run: with enough of them, records without a step take
        ``epoch * steps per epoch`` (`~tui_monitor.core.parse.steps.epoch_step`)."""
        for name in ("total_steps", "num_epochs", "grad_accum", "num_examples", "batch_size", "steps_per_epoch"):
            v = getattr(info, name)
            # (The training banner's "Num examples" is the first; "***** Running Evaluation
            # *****" prints the eval set's.)
            if v is not None and not (name == "num_examples" and name in self._info):
                self._info[name] = v
        self._epoch_spe = banner_steps_per_epoch(self._info)

    def banner(self) -> None:
        """The Trainer's banner (its total steps) was read: twice before any record means two
        processes that each believe they are the main one."""
        if self._accepted == 0:
            self._banners += 1
            if self._banners >= 2:
                self._two_writers = True

    def _is_copy(self, rec: Record) -> bool:
        """A second logger's or (in two-writer mode) a second process's copy of a record
        already out (see the module docstring); notes the reading taken."""
        prev = self._prev
        if rec.logger is not None and prev is not None and prev.logger is None and _same_rounded(prev, rec):
            self.readings.add("second_logger")
            return True
        if rec.kind == "summary" or not self._two_writers:
            return False
        for entry in self._recent:
            old = entry[0]
            if not entry[1] and isinstance(old, Record) and _identical(old, rec):
                entry[1] = True
                self.readings.add("two_writers")
                return True
        return False

    def _probe_writers(self, rec: Record, out: Out) -> bool:
        """The evidence of two writers at a stream's start: its first two distinct records
        each printed twice in a row (r1 r1 r2 r2). The copy of r1 and r2 are held until the
        fourth record decides; True when ``rec`` was taken (held or dropped)."""
        probe = self._probe
        if not probe:
            first = self._recent[0][0] if self._recent else None
            if (
                self._accepted == 1
                and not self._two_writers
                and rec.kind != "summary"
                and isinstance(first, Record)
                and _identical(first, rec)
            ):
                probe.append(rec)
                return True
            return False
        if len(probe) == 1 and not _identical(probe[0], rec):
            probe.append(rec)
            return True
        held, self._probe = probe, []
        if len(held) == 2 and _identical(held[1], rec):
            # Confirmed: every record comes twice. r1's copy is dropped, r2 goes out, and
            # this copy of r2 is dropped.
            self._two_writers = True
            self.readings.add("two_writers")
            self._recent[0][1] = True
            self._emit(held[1], out)
            self._recent[-1][1] = True
            return True
        for h in held:
            self._emit(h, out)
        return False

    def emit(self, rec: Record, out: Out) -> None:
        """Apply copy and echo dedupe and rewind detection, then append ``rec`` to ``out``."""
        if self._probe_writers(rec, out) or self._is_copy(rec):
            return
        self._emit(rec, out)

    def _emit(self, rec: Record, out: Out) -> None:
        prev = self._pending or self._prev
        if prev is not None and prev is self._epoch_stepped:
            prev = replace(prev, step=None)  # its step is the epoch's, not one the log stated
        if prev is not None and self._is_echo(prev, rec):
            # The same record logged a second time by another handler, with its step
            # and rank: keep one. In echo mode the bare copy was held back, so the
            # logged copy (which knows its rank) is the one kept.
            self._echo_mode = True
            if self._pending is not None:
                self._pending = None
                self._accept(rec, out)
            else:
                self._prev = rec
            return
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._accept(pending, out)
        if self._echo_mode and rec.step is None and rec.rank is None:
            self._pending = rec
            return
        self._accept(rec, out)

    def flush(self, out: Out) -> None:
        """End of input: held records (without a step) and a held bare copy go out."""
        self._end_burst(out)
        if self._waiting:
            self.release(out, with_steps=False)
        if self._probe:
            held, self._probe = self._probe, []
            for h in held:
                self._emit(h, out)
        if self._pending is not None:
            out.append(self._pending)
            self._pending = None

    @staticmethod
    def _is_echo(prev: Record, rec: Record) -> bool:
        if prev.kind != rec.kind or prev.step is not None or prev.rank is not None:
            return False
        if rec.step is None and rec.rank is None:
            return False
        if prev.epoch != rec.epoch:
            return False
        pm, rm = prev.metrics, rec.metrics
        if len(rm) < len(pm):
            return False
        for k, v in pm.items():
            w = rm.get(k)
            if w is None or not (w == v or (math.isnan(v) and math.isnan(w))):
                return False
        return all(k in pm or k == "total_flos" for k in rm)

    def _went_back(self, rec: Record) -> bool:
        """The rewind rule for one train record: its step, else its epoch, is lower than the
        previous one of the same rank."""
        last_step = self._last_step.get(rec.rank)
        if rec.step is not None:
            return last_step is not None and rec.step < last_step
        last_epoch = self._last_epoch.get(rec.rank)
        return rec.epoch is not None and last_epoch is not None and rec.epoch < last_epoch

    def _accept(self, rec: Record, out: Out) -> None:
        if rec.step is None and self._epoch_spe is not None and rec.epoch is not None and is_main_rank(rec.rank):
            # No bar gave the step (disable_tqdm, a read from mid-file): the banner's steps per
            # epoch do, where the printed epoch is precise enough.
            rec.step = epoch_step(rec.epoch, self._epoch_spe)
            self._epoch_stepped = rec
        if rec.kind == "summary":
            # The run ended: the next train record starts a new run (DESIGN.md, "Runs"), it
            # does not resume this one, so going back from here is no rewind.
            self._last_step.pop(rec.rank, None)
            self._last_epoch.pop(rec.rank, None)
        main = is_main_rank(rec.rank)
        if rec.kind == "train":
            reason = self._starts_new_run(rec) if main else None
            if reason is not None:
                self._new_run(reason, rec.offset, out)
            elif self._went_back(rec):
                out.append(Rewind(rec.epoch, rec.step, rec.rank, rec.offset))
                self._resume_seen = False
            if main:
                self._after_reset = False
                self._learn_interval(rec)
            if rec.step is not None:
                self._last_step[rec.rank] = rec.step
            if rec.epoch is not None:
                self._last_epoch[rec.rank] = rec.epoch
        elif rec.kind == "summary" and main:
            self._summary_seen = True
        if rec.kind != "summary":
            last = self._seen.get(rec.rank, (None, None))
            self._seen[rec.rank] = (
                rec.step if rec.step is not None else last[0],
                rec.epoch if rec.epoch is not None else last[1],
            )
        self._run_has_records = True
        self._prev = rec
        self._accepted += 1
        self._recent = [*self._recent[-1:], [rec, False]]
        out.append(rec)

    # -- the batch form ---------------------------------------------------------------------

    def take_run(self, run: ColumnRun, out: Out) -> None:
        """A run of plain train records (rank ``None``, no step of their own): its first
        record through `take`, the others as one `Batch` when the scalar path would make no
        per-record decision for them (no echo, nothing held, every step agreeing with its
        epoch, no rewind); else the others through `take` too. Either way the items and the
        policy's state afterwards are those of the scalar path."""
        n = len(run)
        self.take(run.record(0), out)
        m = n - 1
        steps = self.steps
        plan = run.plan
        ei = plan.epoch_idx
        epochs = run.vals[1:, ei] if ei >= 0 else None
        # (A stream's first records and a two-writer log take the record path: a copy is
        # decided per record.)
        ok = not (
            steps.unsynced
            or steps.probation
            or self._burst
            or self._echo_mode
            or self._pending is not None
            or self._waiting
            or self._summary_seen
            or self._two_writers
        )
        ok = ok and not self._probe
        if ok and self._accepted == 1 and m:
            a, b = run.vals[0], run.vals[1]
            ok = not bool(((a == b) | (np.isnan(a) & np.isnan(b))).all())
        k = 0
        st: np.ndarray = np.empty(0, dtype=np.int64)
        spe = steps.steps_per_epoch
        if ok and steps.enabled:
            k = min(m, steps.queued)
            if k < m and steps.awaiting:
                ok = False  # records would be held for their redraw
            elif k:
                paired = steps.peek_batch(epochs, k)
                if paired is None:
                    ok = False  # a disagreement disables the tracker: the scalar path does that
                else:
                    st, spe = paired
        if ok and k < m and self._epoch_spe is not None:
            ok = False  # rows without a queued step take their epoch's step, one by one
        if ok and self._run_goes_back(st, epochs, k, m):
            ok = False
        if not ok:
            for i in range(1, n):
                self.take(run.record(i), out)
            return
        if k:
            steps.take_batch(k, spe)
            self._learn_batch_interval(st, None)
            self._last_step[None] = int(st[-1])
        if epochs is not None:
            self._learn_batch_interval(None, epochs)
            self._last_epoch[None] = float(epochs[-1])
        seen = self._seen.get(None, (None, None))
        self._seen[None] = (
            int(st[-1]) if k else seen[0],
            float(epochs[-1]) if epochs is not None else seen[1],
        )
        batch = Batch(plan.kind, plan.names, run.vals[1:, plan.idx], epochs, st, run.offsets[1:])
        self._prev = batch.record(m - 1)
        self._accepted += m
        self._recent = [[batch.record(i), False] for i in range(max(0, m - 2), m)]
        out.append(batch)

    def _learn_batch_interval(self, steps: np.ndarray | None, epochs: np.ndarray | None) -> None:
        """`_learn_interval` for the rows of a run (which never go back: `_run_goes_back`)."""
        if steps is not None:
            d = _smallest_forward(self._last_step.get(None), steps)
            if d is not None:
                self._step_interval = int(d) if self._step_interval is None else min(self._step_interval, int(d))
        if epochs is not None:
            e = _smallest_forward(self._last_epoch.get(None), epochs)
            if e is not None:
                self._epoch_interval = e if self._epoch_interval is None else min(self._epoch_interval, e)

    def _run_goes_back(self, st: np.ndarray, epochs: np.ndarray | None, k: int, m: int) -> bool:
        """The rewind rule (`_went_back`) for rows 1.. of a run: the first ``k`` have steps
        ``st``, the other ``m - k`` only epochs; any step or epoch going back is a rewind."""
        last_step = self._last_step.get(None)
        if k and ((last_step is not None and st[0] < last_step) or (k > 1 and bool((st[1:] < st[:-1]).any()))):
            return True
        if epochs is not None and k < m:
            prev0 = float(epochs[k - 1]) if k else self._last_epoch.get(None)
            cur = epochs[k:]
            if bool((cur[1:] < cur[:-1]).any()) or (prev0 is not None and cur[0] < prev0):
                return True
        return False


def _same_value(a: float, b: float, tol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tol + 5e-4 * abs(a)


def _same_rounded(prev: Record, rec: Record) -> bool:
    """``rec`` repeats ``prev`` to the digits a second logger prints (LLaMA-Factory: loss
    ``.4f``, learning rate ``.4e``, epoch ``.2f``): same kind and step, and every shared
    metric (at least one) equal within that rounding."""
    if prev.kind != rec.kind or (rec.step is not None and prev.step is not None and rec.step != prev.step):
        return False
    if (prev.epoch is None) != (rec.epoch is None):
        return False
    if prev.epoch is not None and rec.epoch is not None and not _same_value(prev.epoch, rec.epoch, 0.006):
        return False
    shared = [k for k in rec.metrics if k in prev.metrics]
    return bool(shared) and all(_same_value(prev.metrics[k], rec.metrics[k], 5e-5) for k in shared)


def _identical(a: Record, b: Record) -> bool:
    """Same kind, step, epoch, rank and exactly the same values (NaN equal to NaN)."""
    if (a.kind, a.step, a.epoch, a.rank) != (b.kind, b.step, b.epoch, b.rank) or a.metrics.keys() != b.metrics.keys():
        return False
    return all(_same_value(v, b.metrics[k], 0.0) and (v == b.metrics[k] or math.isnan(v)) for k, v in a.metrics.items())


def _smallest_forward(last: float | None, values: np.ndarray) -> float | None:
    """The smallest positive difference between consecutive ``values`` (after ``last``, when
    given), or ``None`` when nothing moves forward."""
    seq = np.concatenate([[last], values]) if last is not None else values
    d = np.diff(seq)
    d = d[d > 0]
    return float(d.min()) if d.size else None
