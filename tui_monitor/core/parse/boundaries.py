"""Run boundaries, the record policy's run rules: a new run, a resume (a `Rewind`), the run's
logging interval, and the steps the banner's facts give.

One :class:`RunBoundaries` per `~tui_monitor.core.parse.policy.RecordPolicy`, fed every record
the policy accepts, in file order. Each rule has its scalar form (one `Record`) and, beside it,
its batch form for a run of plain train records (the columnar catch-up):

* **rewind**: a train record whose step (else epoch) is lower than the previous one of the same
  rank means the run was resumed into the same log: a `Rewind` goes out before it. After a
  summary record the run has ended: what follows is a new run, never a rewind. Scalar:
  `RunBoundaries.went_back`; batch: `RunBoundaries.accept_rows` (`row_moves`).
* **new run** (DESIGN.md, "Runs"): a `RunStart` goes out before the first item of a new run when
  the training banner appears after records were seen (`RunBoundaries.run_marker`), a
  main-writer train record follows the run's summary record, a step or epoch falls back to the
  start of the run (no later than two logging intervals) without a resume message, or, after the
  file was truncated or replaced (`RunBoundaries.new_stream`), the first train record does not
  continue the run. A fall back to a mid-run position (a checkpoint) is a resume: the same run, a
  `Rewind`. Everything learnt of the old run (last steps and epochs, logging interval, banner
  facts, the tracker's steps per epoch) is forgotten. Scalar: `RunBoundaries.starts_new_run`;
  a batch never holds one (the policy takes the record path when it could).
* **logging interval**: the smallest forward step and epoch between two main-writer train
  records, which tells a restart from a resume. Scalar: `RunBoundaries.accept`; batch:
  `RunBoundaries.accept_rows`, with the rewind rule in the same pass over the rows (`row_moves`;
  compiled: ``_scan.run_moves``).
* **epoch steps**: with the banner's steps per epoch (`RunBoundaries.run_info`), a main-writer
  record no bar gave a step takes ``epoch * steps per epoch`` (`RunBoundaries.epoch_step`); a
  batch whose rows would need it takes the record path (`RunBoundaries.has_epoch_steps`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tui_monitor.core.parse import accel
from tui_monitor.core.parse.items import (
    Batch,
    Out,
    Record,
    RecordKind,
    Rewind,
    RunInfo,
    RunMarker,
    RunStart,
    RunStartReason,
    is_main_rank,
)
from tui_monitor.core.parse.steps import StepTracker, banner_steps_per_epoch, epoch_step

__all__ = ["Moves", "RunBoundaries", "row_moves"]


class RunBoundaries:
    """Where runs start and resume, from the records the policy accepts (module docstring).

    Args:
        steps: the step tracker (a new run forgets the old run's steps per epoch).
        on_new_run: called with the reason just after a `RunStart` went out.

    Attributes:
        last_epoch / last_step: the latest epoch / step per rank of this run's train records.
        step_interval / epoch_interval: the run's logging interval, as learnt so far (steps /
            epochs), or ``None``.
        run_has_records: a record of this run was accepted.
        summary_seen: this run's summary record (``train_runtime``) was accepted.
        resume_seen: a resume message came and no `Rewind` has used it yet.
        after_reset: the file was reset and no main-writer train record has followed.
    """

    def __init__(self, steps: StepTracker, on_new_run: Callable[[RunStartReason], None]) -> None:
        self._steps = steps
        self._on_new_run = on_new_run
        self._forget_run()

    def _forget_run(self) -> None:
        """Know nothing of a run yet (at the start, and when a new run starts)."""
        self.run_has_records = False
        self.summary_seen = False
        self.resume_seen = False
        self.after_reset = False
        self.step_interval: int | None = None
        self.epoch_interval: float | None = None
        self.last_epoch: dict[str | None, float] = {}
        self.last_step: dict[str | None, int] = {}
        self._seen: dict[str | None, tuple[int | None, float | None]] = {}  # last (step, epoch) of any kind
        self._info: dict[str, int] = {}  # the run's banner facts
        self._epoch_spe: int | None = None  # steps per epoch the banner gives (epoch steps)

    @property
    def flags(self) -> tuple[bool, bool, bool, bool]:
        """(`run_has_records`, `summary_seen`, `resume_seen`, `after_reset`)."""
        return (self.run_has_records, self.summary_seen, self.resume_seen, self.after_reset)

    # -- what the readers report ------------------------------------------------------------

    def run_marker(self, marker: RunMarker, out: Out) -> None:
        """A training banner or a resume message (main writer only): a banner after records
        starts a new run; a resume message makes the next fall back a resume."""
        if not is_main_rank(marker.rank):
            return
        if marker.kind == "resume":
            self.resume_seen = True
        elif self.run_has_records:
            self._new_run("banner", marker.offset, out)

    def new_stream(self) -> None:
        """The file was truncated or replaced: the next train record tells whether the run
        goes on (a copytruncate) or a new one started."""
        self.after_reset = True

    def new_process(self, offset: int, out: Out) -> None:
        """After a file reset, a top-level train bar drawn anew (from 0): a new process writes
        the file (a copytruncate or a rotation goes on with its bar). When the old stream had
        records, a new run (``new_file``) starts here, at ``offset``: its bar's progress is the
        new run's at once, before its first record (stdout block-buffered: seconds later)."""
        if self.run_has_records or self.summary_seen:
            self._new_run("new_file", offset, out)

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

    # -- the scalar form --------------------------------------------------------------------

    def epoch_step(self, rec: Record) -> bool:
        """Give a main-writer record without a step ``epoch * steps per epoch`` when the banner
        gave the steps per epoch (no bar gave the step: ``disable_tqdm``, a read from
        mid-file, where the printed epoch is precise enough). True when it did."""
        if rec.step is None and self._epoch_spe is not None and rec.epoch is not None and is_main_rank(rec.rank):
            rec.step = epoch_step(rec.epoch, self._epoch_spe)
            return True
        return False

    def accept(self, rec: Record, out: Out) -> None:
        """A record goes out: a `RunStart` or a `Rewind` goes to ``out`` before it when it
        starts a new run or goes back, and what the run knows moves on (``rec`` itself is
        appended by the caller)."""
        if rec.kind == "summary":
            # The run ended: the next train record starts a new run (DESIGN.md, "Runs"), it
            # does not resume this one, so going back from here is no rewind.
            self.last_step.pop(rec.rank, None)
            self.last_epoch.pop(rec.rank, None)
        main = is_main_rank(rec.rank)
        if rec.kind == "train":
            reason = self.starts_new_run(rec) if main else None
            if reason is not None:
                self._new_run(reason, rec.offset, out)
            elif self.went_back(rec):
                out.append(Rewind(rec.epoch, rec.step, rec.rank, rec.offset))
                self.resume_seen = False
            if main:
                self.after_reset = False
                self._learn_interval(rec)
            if rec.step is not None:
                self.last_step[rec.rank] = rec.step
            if rec.epoch is not None:
                self.last_epoch[rec.rank] = rec.epoch
        elif rec.kind == "summary" and main:
            self.summary_seen = True
        if rec.kind != "summary":
            last = self._seen.get(rec.rank, (None, None))
            self._seen[rec.rank] = (
                rec.step if rec.step is not None else last[0],
                rec.epoch if rec.epoch is not None else last[1],
            )
        self.run_has_records = True

    def starts_new_run(self, rec: Record) -> RunStartReason | None:
        """Whether this main-writer train record is the first of a new run, and why (``None``:
        it is not). Reads only; `accept` acts on it."""
        if self.summary_seen:
            return "after_summary"
        if self.after_reset:
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
            return None if continues or not self.run_has_records else "new_file"
        if self.resume_seen or not self.went_back(rec):
            return None
        # Back at the start: within two logging intervals of step (epoch) 0. A resume goes back
        # to a checkpoint, further on (a log that starts mid-run has no start to go back to).
        if rec.step is not None and self.step_interval is not None:
            return "restart" if rec.step <= 2 * self.step_interval else None
        if rec.step is None and rec.epoch is not None and self.epoch_interval is not None:
            return "restart" if rec.epoch <= 2 * self.epoch_interval else None
        return None

    def went_back(self, rec: Record) -> bool:
        """The rewind rule for one train record: its step, else its epoch, is lower than the
        previous one of the same rank."""
        last_step = self.last_step.get(rec.rank)
        if rec.step is not None:
            return last_step is not None and rec.step < last_step
        last_epoch = self.last_epoch.get(rec.rank)
        return rec.epoch is not None and last_epoch is not None and rec.epoch < last_epoch

    def _learn_interval(self, rec: Record) -> None:
        """The logging interval (the smallest forward step and epoch between two main-writer
        train records), which tells a restart from a resume."""
        last_step, last_epoch = self.last_step.get(rec.rank), self.last_epoch.get(rec.rank)
        if rec.step is not None and last_step is not None and rec.step > last_step:
            d = rec.step - last_step
            self.step_interval = d if self.step_interval is None else min(self.step_interval, d)
        if rec.epoch is not None and last_epoch is not None and rec.epoch > last_epoch:
            e = rec.epoch - last_epoch
            self.epoch_interval = e if self.epoch_interval is None else min(self.epoch_interval, e)

    def _new_run(self, reason: RunStartReason, offset: int, out: Out) -> None:
        out.append(RunStart(reason, offset))
        self._forget_run()
        self._steps.forget_run()
        self._on_new_run(reason)

    # -- the batch form ---------------------------------------------------------------------

    @property
    def has_epoch_steps(self) -> bool:
        """The banner gave the steps per epoch: a row without a queued step would take its
        epoch's step (`epoch_step`), one by one."""
        return self._epoch_spe is not None

    def accept_rows(self, st: np.ndarray, epochs: np.ndarray | None, m: int, rows: Batch, s: int = 0) -> int | None:
        """`accept` for ``m`` rows of a run of rank ``None`` not yet accepted (the rows
        ``s:s + m`` of ``rows``: all of them, or those after its first), unless a train row
        goes back: the first ``k`` have steps ``st`` (``(k,) int64``, tqdm's counts: never
        negative), all ``m`` the epochs ``epochs`` (``(m,) float64``, or ``None``); eval rows
        neither rewind nor move the last step or epoch. In one pass (`row_moves`, compiled
        when the C extension is built): the rewind rule (`went_back`), and, when no row goes
        back, the logging interval (`_learn_interval`), the last step and epoch and the run's
        last step and epoch of any kind. The rows neither start a run (the policy takes the
        record path when one could) nor need their epoch's step (`has_epoch_steps`).

        Returns:
            The index (among the ``m``) of the first train row whose step (else epoch) goes
            back (nothing was accepted: its `take` decides), or ``None`` (every row was).
        """
        moves = _moves(st, epochs, m, rows, s, self.last_step.get(None), self.last_epoch.get(None))
        if moves[0] is not None:
            return moves[0]
        _, step_gap, epoch_gap, train_step, train_epoch, seen_step, seen_epoch = moves
        self.run_has_records = True
        seen = self._seen.get(None, (None, None))
        self._seen[None] = (
            seen_step if seen_step is not None else seen[0],
            seen_epoch if seen_epoch is not None else seen[1],
        )
        if step_gap is not None:
            self.step_interval = step_gap if self.step_interval is None else min(self.step_interval, step_gap)
        if train_step is not None:
            self.last_step[None] = train_step
        if epoch_gap is not None:
            self.epoch_interval = epoch_gap if self.epoch_interval is None else min(self.epoch_interval, epoch_gap)
        if train_epoch is not None:
            self.last_epoch[None] = train_epoch
        return None


Moves = tuple[int | None, int | None, float | None, int | None, float | None, int | None, float | None]
"""What `row_moves` finds in a run's rows: ``(back, step_gap, epoch_gap, train_step, train_epoch,
seen_step, seen_epoch)``."""


def _moves(
    st: np.ndarray,
    epochs: np.ndarray | None,
    m: int,
    rows: Batch,
    s: int,
    last_step: int | None,
    last_epoch: float | None,
) -> Moves:
    """`row_moves` for the rows ``s:s + m`` of ``rows``, compiled when the extension is built
    (it answers ``None`` for what it leaves to Python: an array not of its dtype or not
    contiguous, a negative step, a last step or epoch that is no int64 / float)."""
    fast = accel.scan
    if fast is not None:
        got: Moves | None = fast.run_moves(st, epochs, m, rows.shapes, s, rows.shape_kinds, last_step, last_epoch)
        if got is not None:
            return got
    return row_moves(st, epochs, m, rows.shapes, s, rows.shape_kinds, last_step, last_epoch)


def row_moves(
    st: np.ndarray,
    epochs: np.ndarray | None,
    m: int,
    shapes: np.ndarray | None,
    start: int,
    kinds: list[RecordKind],
    last_step: int | None,
    last_epoch: float | None,
) -> Moves:
    """The rewind rule and the logging interval over ``m`` rows of a run of rank ``None``, in
    order, for `RunBoundaries.accept_rows` (the reference of ``_scan.run_moves``).

    Args:
        st: ``(k,) int64`` steps of the first ``k <= m`` rows (the others have none).
        epochs: ``(m,) float64`` epochs of the rows, or ``None``.
        m: how many rows.
        shapes: ``uint8`` shapes of the rows ``start:start + m`` (indices into ``kinds``), or
            ``None`` (every row of ``kinds[0]``'s).
        start: where the rows begin in ``shapes``.
        kinds: each shape's kind: only ``"train"`` rows go back or move the last step / epoch.
        last_step / last_epoch: the run's last train step and epoch before the rows, or ``None``.

    Returns:
        ``(back, step_gap, epoch_gap, train_step, train_epoch, seen_step, seen_epoch)``:
        ``back`` the index of the first train row whose step (else epoch) is lower than the
        train row's before it (or than ``last_step`` / ``last_epoch``; a row with a step is
        judged by its step, one without by its epoch): then every other field is ``None``.
        Else ``back`` is ``None``, ``step_gap`` / ``epoch_gap`` the smallest forward step /
        epoch between consecutive train rows (from ``last_step`` / ``last_epoch`` on) or
        ``None`` when none moves forward, ``train_step`` / ``train_epoch`` the last train
        row's step / epoch (``None``: no train row has one), ``seen_step`` / ``seen_epoch``
        the last row's of any kind (``None``: no row has one).
    """
    k = len(st)
    seen_step = int(st[k - 1]) if k else None
    seen_epoch = float(epochs[m - 1]) if epochs is not None and m else None
    where = None  # the train rows' indices, when some rows are not train rows
    skip = 0  # leading rows that are no train rows (the others all are)
    if shapes is None or len(kinds) == 1:
        if kinds[0] != "train":
            return None, None, None, None, None, seen_step, seen_epoch
    else:
        trains = bytes([p for p, kind in enumerate(kinds) if kind == "train"])
        b = shapes[start : start + m].tobytes()
        others = b.translate(None, trains)
        if len(others) == m:
            return None, None, None, None, None, seen_step, seen_epoch
        if len(others) == 1 and b[0] not in trains:
            # A burst's eval row before its train rows: the train rows are the others, no mask.
            skip = 1
            st, k, m = st[1:], max(k - 1, 0), m - 1
            epochs = epochs[1:] if epochs is not None else None
        elif others:
            train = np.array([kind == "train" for kind in kinds])[shapes[start : start + m]]
            where = np.flatnonzero(train)
            st = st[train[:k]]
            k, m = len(st), len(where)
            epochs = epochs[: len(train)][train] if epochs is not None else None
    back, step_gap, epoch_gap = _train_moves(st, epochs, k, m, last_step, last_epoch)
    if back is not None:
        return (back + skip if where is None else int(where[back])), None, None, None, None, None, None
    return (
        None,
        step_gap,
        epoch_gap,
        int(st[k - 1]) if k else None,
        float(epochs[m - 1]) if epochs is not None and m else None,
        seen_step,
        seen_epoch,
    )


def _train_moves(
    st: np.ndarray, epochs: np.ndarray | None, k: int, m: int, last_step: int | None, last_epoch: float | None
) -> tuple[int | None, int | None, float | None]:
    """`row_moves` for ``m`` train rows (the first ``k`` with steps ``st``; ``epochs``
    ``(m,)`` or ``None``): ``(back, None, None)`` when one goes back, else ``(None,
    step_gap, epoch_gap)``."""
    d = None
    if k:
        if last_step is not None and st[0] < last_step:
            return 0, None, None
        if k > 1:
            d = st[1:] - st[:-1]  # (steps are tqdm's counts, never negative: no overflow)
            if _MIN(d) < 0:
                return int((d < 0).argmax()) + 1, None, None
    if epochs is not None and k < m:
        prev0 = float(epochs[k - 1]) if k else last_epoch
        cur = epochs[k:m]
        if prev0 is not None and cur[0] < prev0:
            return k, None, None
        if m - k > 1:
            bad = cur[1:] < cur[:-1]
            if bad.any():
                return k + int(bad.argmax()) + 1, None, None
    step_gap = _smallest_forward(last_step, st[:k], d) if k else None
    epoch_gap = _smallest_forward(last_epoch, epochs[:m]) if epochs is not None and m else None
    return None, (int(step_gap) if step_gap is not None else None), epoch_gap


def _smallest_forward(last: float | None, values: np.ndarray, diffs: np.ndarray | None = None) -> float | None:
    """The smallest positive difference between consecutive ``values`` (after ``last``, when
    given), or ``None`` when nothing moves forward (``diffs``: ``values[1:] - values[:-1]``
    when already worked out). Steps give an int (exact), epochs a float."""
    best = None
    n = len(values)
    if last is not None and n and values[0] > last:
        best = values[0] - last
    if n > 1:
        d = diffs if diffs is not None else values[1:] - values[:-1]
        lo = _MIN(d)
        if not lo > 0:
            # Some rows do not move forward (or a NaN): the smallest of those that do. (When
            # every row moves forward, the common case, that is the minimum itself.)
            d = d[d > 0]
            lo = _MIN(d) if d.size else None
        if lo is not None:
            best = lo if best is None or lo < best else best
    return best.item() if best is not None else None


_MIN = np.minimum.reduce
"""``a.min()`` without the Python wrapper numpy's method goes through (per run, twice)."""
