"""Copies, the record policy's dedupe rules: a record printed twice counts once, on evidence only.

One :class:`CopyFilter` per `~tui_monitor.core.parse.policy.RecordPolicy`; every record the
policy lets out passes through `CopyFilter.emit`, in file order, and what it keeps goes on to
the policy's accept callback. Three readings, each decided only by evidence (equal consecutive
records are *not* duplicates by themselves):

* **echo**: a bare dict followed at once by the same values logged again with a step or a rank
  prefix (a second logging handler, e.g. FATE's Rich handler) counts once; from then on (echo
  mode) each bare copy is held back until its logged copy, which knows its rank, is kept.
* **second logger**: a line whose prefix names a logging handler (LLaMA-Factory's
  ``llamafactory.train.callbacks``) right after the Trainer's dict with the same values to the
  digits it prints is dropped.
* **two writers**: two processes that both print every record (the stream's first two distinct
  records each printed twice in a row, or the banner printed twice before any record) make each
  record's identical copy among the last two accepted dropped.

Each reading taken is noted in `CopyFilter.readings` (the report says it). The rules are scalar
only: a run of records the columnar catch-up reads takes the record path whenever one of them
may apply (`CopyFilter.batch_ok`; for held rows let out without steps, `CopyFilter.rows_ok`;
for a run's first row, `CopyFilter.rows_ok` and `CopyFilter.may_echo`);
`CopyFilter.accepted_batch` notes a batch that went out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from tui_monitor.core.parse.items import Batch, Out, Record

__all__ = ["CopyFilter"]


class CopyFilter:
    """Drops the copies of records (module docstring) before they are accepted.

    Args:
        accept: called with each record that goes out (not a copy), in order; it must call
            `accepted` for it.

    Attributes:
        readings: the readings taken on evidence (``second_logger``, ``two_writers``).
        prev: the last record that went out (or was kept as an echo's logged copy).
        pending: in echo mode, the bare copy held back until its logged copy comes.
        echo_mode: a second logger repeats every record (bare copies are held back).
        two_writers: two processes print every record (their copies are dropped).
    """

    def __init__(self, accept: Callable[[Record, Out], None]) -> None:
        self._accept = accept
        self.readings: set[str] = set()
        self._prev: Record | None = None
        self._last_of: Batch | None = None  # a batch whose last row is `prev`, not built yet
        self.pending: Record | None = None
        self.echo_mode = False
        self.two_writers = False
        self._epoch_stepped: Record | None = None  # the last record given its epoch's step
        self._accepted = 0  # records accepted in this stream
        self._banners = 0  # banners read before the first record
        self._recent: list[list[object]] = []  # [record, matched] of the last two accepted
        self._probe: list[Record] = []  # copies held while the two-writer evidence is open
        self._probe_expect: Record | None = None  # whose copy decides (one behind), or None

    @property
    def prev(self) -> Record | None:
        """The last record that went out (or was kept as an echo's logged copy); after a batch,
        its last row, built when first asked for (most batches are followed by another batch,
        whose first row `may_echo` judges without it)."""
        if self._last_of is not None:
            batch, self._last_of = self._last_of, None
            self._prev = batch.record(len(batch) - 1)
        return self._prev

    @prev.setter
    def prev(self, rec: Record | None) -> None:
        self._prev = rec
        self._last_of = None

    @property
    def held(self) -> int:
        """Copies held while the two-writer evidence is open."""
        return len(self._probe)

    def banner(self) -> None:
        """The Trainer's banner (its total steps) was read: twice before any record means two
        processes that each believe they are the main one."""
        if self._accepted == 0:
            self._banners += 1
            if self._banners >= 2:
                self.two_writers = True

    # -- the scalar form --------------------------------------------------------------------

    def emit(self, rec: Record, out: Out) -> None:
        """Drop ``rec`` when it is a copy, hold it while the evidence is open, else (after the
        echo rule) pass it to the accept callback."""
        if self._probe_writers(rec, out) or self._is_copy(rec):
            return
        self._emit(rec, out)

    def accepted(self, rec: Record, *, epoch_stepped: bool) -> None:
        """``rec`` went out (the accept callback's note); ``epoch_stepped``: its step is its
        epoch's (`~tui_monitor.core.parse.boundaries.RunBoundaries.epoch_step`), not one the
        log stated, so the echo rule ignores it."""
        if epoch_stepped:
            self._epoch_stepped = rec
        self.prev = rec
        self._accepted += 1
        self._recent = [*self._recent[-1:], [rec, False]]

    def flush(self, out: Out) -> None:
        """End of input: copies held for the two-writer evidence and a held bare copy go out."""
        if self._probe:
            held, self._probe = self._probe, []
            for h in held:
                self._emit(h, out)
        if self.pending is not None:
            out.append(self.pending)
            self.pending = None

    def _is_copy(self, rec: Record) -> bool:
        """A second logger's or (in two-writer mode) a second process's copy of a record
        already out; notes the reading taken."""
        prev = self.prev
        if rec.logger is not None and prev is not None and prev.logger is None and _same_rounded(prev, rec):
            self.readings.add("second_logger")
            return True
        if rec.kind == "summary" or not self.two_writers:
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
        each printed twice, the copies in step (r1 r1 r2 r2) or one record behind (r1 r2 r1
        r3 r2: the second process started a moment later). The copies and any new record
        between them are held until the copy of r2 decides; True when ``rec`` was taken
        (held or dropped)."""
        probe = self._probe
        if not probe and not 1 <= self._accepted <= 2:
            return False  # (the evidence opens only at a stream's second or third record)
        recent = [e[0] for e in self._recent if isinstance(e[0], Record)]
        if not probe:
            if self.two_writers or rec.kind == "summary" or not recent or not _identical(recent[0], rec):
                return False
            if self._accepted == 1:
                self._probe_expect = None  # in step: r2 then its copy
            elif self._accepted == 2 and not _identical(recent[0], recent[1]):
                self._probe_expect = recent[1]  # one behind: r2's copy next, maybe after r3
            else:
                return False
            probe.append(rec)
            return True
        expect = self._probe_expect
        if expect is None and len(probe) == 1 and not _identical(probe[0], rec):
            probe.append(rec)  # r2, whose copy decides
            return True
        if expect is not None and len(probe) == 1 and not _identical(expect, rec) and not _identical(probe[0], rec):
            probe.append(rec)  # r3, printed by the first process before the second's copy of r2
            return True
        held, self._probe = probe, []
        if expect is None and len(held) == 2 and _identical(held[1], rec):
            # Confirmed, in step: r1's copy is dropped, r2 goes out, this copy of r2 is dropped.
            self._confirm_two_writers()
            self._emit(held[1], out)
            self._recent[-1][1] = True
            return True
        if expect is not None and len(held) == 2 and _identical(expect, rec):
            # Confirmed, one behind: r1's copy and this copy of r2 are dropped; r3 goes out.
            # (r3 between the copies is the evidence: a run restarted into the log with the
            # same seed prints r1 r2 again back to back, and that is a new run, not a copy.)
            self._confirm_two_writers()
            self._recent[-1][1] = True
            for h in held[1:]:
                self._emit(h, out)
            return True
        for h in held:
            self._emit(h, out)
        return False

    def _confirm_two_writers(self) -> None:
        """Every record comes twice: from now on each copy among the last two is dropped (the
        stream's first record's copy already was)."""
        self.two_writers = True
        self.readings.add("two_writers")
        self._recent[0][1] = True

    def _emit(self, rec: Record, out: Out) -> None:
        """The echo rule, then the accept callback."""
        prev = self.pending or self.prev
        if prev is not None and prev is self._epoch_stepped:
            prev = replace(prev, step=None)  # its step is the epoch's, not one the log stated
        if prev is not None and _is_echo(prev, rec):
            # The same record logged a second time by another handler, with its step
            # and rank: keep one. In echo mode the bare copy was held back, so the
            # logged copy (which knows its rank) is the one kept.
            self.echo_mode = True
            if self.pending is not None:
                self.pending = None
                self._accept(rec, out)
            else:
                self.prev = rec
            return
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self._accept(pending, out)
        if self.echo_mode and rec.step is None and rec.rank is None:
            self.pending = rec
            return
        self._accept(rec, out)

    # -- the batch form ---------------------------------------------------------------------

    def batch_ok(self, rows: Batch) -> bool:
        """Whether the rows of a run (`ColumnRun.rows`) after its first (already through
        `emit`) may go out as one batch: no echo pending or possible, no two-writer evidence
        open or taken, and not the stream's first two records printed identically (the
        evidence's start)."""
        if self.echo_mode or self.pending is not None or self.two_writers or self._probe:
            return False
        if self._accepted == 1 and len(rows) > 1:
            a, b = rows.values[0], rows.values[1]
            same = bool(((a == b) | (np.isnan(a) & np.isnan(b))).all())
            if rows.epoch is not None:
                same = same and (rows.epoch[0] == rows.epoch[1] or bool(np.isnan(rows.epoch[:2]).all()))
            if rows.shapes is not None:
                # (Absent metrics are NaN in both rows only when the two records hold the same ones.)
                p, q = int(rows.shapes[0]), int(rows.shapes[1])
                same = same and set(rows.shape_cols[p]) == set(rows.shape_cols[q])
                same = same and rows.shape_kinds[p] == rows.shape_kinds[q]
            return not same
        return True

    def rows_ok(self) -> bool:
        """Whether plain rows (rank ``None``, no step, no logger) may go out as one batch now:
        no echo pending or possible (a bare row is no echo of anything), no two-writer
        evidence open or taken, and three records accepted in the stream (before that, a row
        equal to an earlier one opens that evidence, `_probe_writers`)."""
        if self.echo_mode or self.pending is not None or self.two_writers or self._probe:
            return False
        return self._accepted >= 3

    def may_echo(self, rows: Batch, stepped: bool) -> bool:
        """Whether the first row of a run (`ColumnRun.rows`), with a step when ``stepped``, may
        be an echo of the record before it (`_emit`'s echo rule), for a row that would go out
        in the run's batch instead of through `emit` (the caller checked `rows_ok`). A row
        without a step is no echo; one with a step may be only when the record before it has
        no stated step and no rank, and has the row's kind and epoch. (Its values are not compared:
        such a row takes the record path, which decides.)"""
        if not stepped:
            return False
        last_of = self._last_of
        if last_of is not None and len(last_of) <= last_of.steps.shape[0]:
            return False  # (the batch's last row has a stated step, and no rank)
        prev = self.prev
        if prev is None or prev.rank is not None:
            return False
        if prev.step is not None and prev is not self._epoch_stepped:
            return False
        kind = rows.shape_kinds[int(rows.shapes[0])] if rows.shapes is not None else rows.kind
        epoch = float(rows.epoch[0]) if rows.epoch is not None else None
        return prev.kind == kind and prev.epoch == epoch

    def accepted_batch(self, batch: Batch) -> None:
        """`accepted` for every row of ``batch`` (a batch has no epoch steps: `batch_ok`'s
        caller makes such rows take the record path)."""
        m = len(batch)
        self._accepted += m
        if m > 1 and self._accepted > 3:
            # The last two records are read only by the two-writer rules, which no longer apply
            # once three records are accepted with no two writers known (a batch of several
            # rows goes out only then): not built for every batch; `prev` is built when asked.
            self._prev, self._last_of = None, batch
            self._recent = []
            return
        last = batch.record(m - 1)  # (one record for both, as `accepted` keeps one)
        self.prev = last
        if m == 1:
            self._recent = [*self._recent[-1:], [last, False]]  # (as `accepted` keeps them)
        else:
            self._recent = [[batch.record(m - 2), False], [last, False]]


def _is_echo(prev: Record, rec: Record) -> bool:
    """``rec`` is ``prev`` (a bare dict) logged again by another handler with a step or a
    rank: same kind and epoch, every metric of ``prev`` equal (NaN equal to NaN), and nothing
    more but ``total_flos``."""
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
