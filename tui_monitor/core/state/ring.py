"""One series' storage: a numpy ring of its latest points and a decimated whole-run history.

`SeriesStore` (core/state/series.py) keeps one `SeriesRing` per metric and hands out its frozen
`SeriesSnapshot`; this module holds the ring itself, its flushes and rewinds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tui_monitor.core.state.queued import WE, WIDE, WO, WT, WX, PointQueue

__all__ = ["FLUSH_POINTS", "RING_COLS", "SeriesRing", "SeriesSnapshot"]

FLUSH_POINTS = 512
"""Pending points per series before they are written into the numpy ring."""

_X, _Y, _E, _T, _O = 0, 1, 2, 3, 4
RING_COLS = 5
"""Columns of a ring row: x, y, epoch, arrival time, byte offset of the record (-1: unknown)."""
_NAN = math.nan

_FROM_POINTS = [WX, WIDE, WE, WT, WO]
"""Ring columns from record points (`PointQueue` layout: x, epoch, t, offset, value)."""


@dataclass(frozen=True, slots=True)
class SeriesSnapshot:
    """A frozen copy of one metric series.

    Attributes:
        name: store key (``loss``, ``eval_loss``, ``loss@rank1``).
        metric: the log's key without the rank suffix.
        rank: ``None`` for the main writer, else the rank label.
        kind: ``"train"`` or ``"eval"`` (kind of the record that created the series).
        x: ``(n,) float64`` global step, or record ordinal when ``x_is_step`` is False.
        y: ``(n,) float64`` values as logged, NaN/inf kept.
        epoch: ``(n,) float64`` epoch of each point, NaN when the record had none.
        t: ``(n,) float64`` arrival time of each point (seconds since the epoch, 0 if unknown).
        offset: ``(n,) int64`` byte offset of each point's record in the file (where the raw log
            opens for an event at that point); -1 when unknown or no longer in the file (read
            before the file was truncated or replaced).
        x_is_step: whether ``x`` holds global steps (every point had ``Record.step``).
        count: points stored over the whole run (after rewinds), >= ``len(y)``.
        hist_x: ``(m,) float64`` x of the decimated whole-run history (every ``hist_stride``-th point).
        hist_y: ``(m,) float64`` values of that history.
        hist_stride: decimation factor of the history (a power of two).
    """

    name: str
    metric: str
    rank: str | None
    kind: str
    x: np.ndarray
    y: np.ndarray
    epoch: np.ndarray
    t: np.ndarray
    offset: np.ndarray
    x_is_step: bool
    count: int
    hist_x: np.ndarray
    hist_y: np.ndarray
    hist_stride: int

    def __len__(self) -> int:
        return int(self.y.shape[0])


class SeriesRing:
    """One metric: a ring of the last ``capacity`` points plus a decimated history.

    Args:
        name: store key (``loss``, ``loss@rank1``); metric, rank, kind: as in `SeriesSnapshot`.
        capacity: points kept in the ring (rows of ``RING_COLS`` float64).
        history: points kept in the decimated whole-run history (every ``stride``-th point).

    Points come through ``pending`` (record points, flat) and ``queue`` (batches' pieces) and
    enter the ring at `flush` (owner: `SeriesStore`, which holds the lock).
    """

    __slots__ = (
        "name",
        "metric",
        "rank",
        "kind",
        "cap",
        "buf",
        "start",
        "end",
        "pending",
        "queue",
        "x_is_step",
        "last_x",
        "count",
        "hist",
        "hist_n",
        "hist_cap",
        "stride",
        "ver",
    )

    def __init__(self, name: str, metric: str, rank: str | None, kind: str, capacity: int, history: int) -> None:
        self.name = name
        self.metric = metric
        self.rank = rank
        self.kind = kind
        self.cap = capacity
        # Twice the capacity: appends slide forward and the live window is compacted to the
        # front only when the end is reached, so each point is copied O(1) times on average.
        self.buf = np.empty((min(64, 2 * capacity), RING_COLS), dtype=np.float64)
        self.start = 0
        self.end = 0
        # Flat x, epoch, t, offset, y of points not yet in the ring (a record point's layout in
        # `PointQueue`); earlier points wait in `queue` (a catch-up's batches).
        self.pending: list[float] = []
        self.queue = PointQueue()
        self.x_is_step = True
        self.last_x = _NAN  # x of the latest point added
        self.count = 0
        self.hist_cap = history
        self.hist = np.empty((min(64, history), 3), dtype=np.float64)
        self.hist_n = 0
        self.stride = 1
        self.ver = 0

    # -- writing ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write the pending record points and queued batch rows into the ring (rows of
        `RING_COLS` floats) and the decimated history; a no-op when none wait."""
        if self.queue:
            if self.pending:
                self.queue.add_points(self.pending)
                self.pending.clear()
            if self.queue.is_long():  # only the points kept are built (see `push_picked`)
                hist, tail, m = self.queue.take_kept(-self.count % self.stride, self.stride, self.cap)
                self._add_hist(hist, m)
                self._push_ring(tail)
                self.ver += 1
                return
            block = self.queue.take()
        elif not self.pending:
            return
        else:  # flat list: C-speed conversion
            block = np.array(self.pending, dtype=np.float64).reshape(-1, RING_COLS)[:, _FROM_POINTS]
            self.pending.clear()
        self._push_hist(block)
        self._push_ring(block)
        self.ver += 1

    def push(self, block: np.ndarray) -> None:
        """Put ``(m, RING_COLS)`` ring rows in, after the points waiting."""
        self.flush()
        self._push_hist(block)
        self._push_ring(block)
        self.ver += 1

    def push_picked(
        self, rows: np.ndarray, y: np.ndarray, idx: np.ndarray | None, x_from: int = -1, x: float = 0.0
    ) -> None:
        """`push` of a long batch's points without building them all: the points are
        ``rows[idx]`` (``(n, RING_COLS)`` ring rows whose y column is unset; ``idx``: the rows
        holding the metric, ``None``: all) with y ``y[idx]``, and x ``x`` from the ``x_from``-th
        point on (``-1``: none). Only the points the history and the ring keep are built: every
        ``stride``-th and the last ``capacity`` (a dense read's 12,000 rows keep ~4,100), the
        same rows `push` of the whole block would store."""
        self.flush()
        m = rows.shape[0] if idx is None else idx.shape[0]
        if m == 0:
            return
        self._add_hist(self._picked(rows, y, idx, slice(-self.count % self.stride, m, self.stride), x_from, x), m)
        self._push_ring(self._picked(rows, y, idx, slice(max(0, m - self.cap), m), x_from, x))
        self.ver += 1

    @staticmethod
    def _picked(
        rows: np.ndarray, y: np.ndarray, idx: np.ndarray | None, points: slice, x_from: int, x: float
    ) -> np.ndarray:
        """Ring rows of the points ``points`` (a slice of the points, step > 0) for `push_picked`."""
        src = points if idx is None else idx[points]
        out = rows[src]
        if idx is None:
            out = out.copy()  # a slice is a view of the shared rows
        out[:, _Y] = y[src]
        if x_from >= 0:
            a, step = points.start, points.step or 1
            first = max(0, -(-(x_from - a) // step))  # the first picked point at or after x_from
            out[first:, _X] = x
        return out

    def _push_ring(self, block: np.ndarray) -> None:
        cap = self.cap
        if block.shape[0] > cap:
            block = block[-cap:]
        m = block.shape[0]
        if self.end + m > self.buf.shape[0]:
            if self.buf.shape[0] < 2 * cap:
                live = self.end - self.start
                new_rows = min(2 * cap, max(2 * self.buf.shape[0], live + m))
                nb = np.empty((new_rows, RING_COLS), dtype=np.float64)
                nb[:live] = self.buf[self.start : self.end]
                self.buf, self.start, self.end = nb, 0, live
            if self.end + m > self.buf.shape[0]:
                keep = min(self.end - self.start, cap - m)
                self.buf[:keep] = self.buf[self.end - keep : self.end]
                self.start, self.end = 0, keep
        self.buf[self.end : self.end + m] = block
        self.end += m
        if self.end - self.start > cap:
            self.start = self.end - cap

    def _push_hist(self, block: np.ndarray) -> None:
        # Points count, count+1, ... whose number is a multiple of the stride: every stride-th
        # row from the first such one (a slice, not a mask of the rows' numbers).
        self._add_hist(block[-self.count % self.stride :: self.stride], block.shape[0])

    def _add_hist(self, picked: np.ndarray, m: int) -> None:
        """The history's part of ``m`` new points: ``picked``, the ring rows of those whose number
        (``count`` on) is a multiple of the stride."""
        sel = picked[:, :3]
        self.count += m
        if sel.shape[0] == 0:
            return
        rows = self.hist_n + sel.shape[0]
        if rows > self.hist.shape[0] and self.hist.shape[0] < self.hist_cap:
            nh = np.empty((min(self.hist_cap, max(2 * self.hist.shape[0], rows)), 3))
            nh[: self.hist_n] = self.hist[: self.hist_n]
            self.hist = nh
        if rows <= self.hist.shape[0]:
            self.hist[self.hist_n : rows] = sel
            self.hist_n = rows
            return
        # Full: keep every other point and double the stride until the new points fit.
        # Entry j of the history is point j*stride, so keeping even entries keeps the
        # multiples of 2*stride: the rule "every stride-th point" still holds afterwards.
        allp = np.concatenate([self.hist[: self.hist_n], sel])
        while allp.shape[0] > self.hist_cap:
            allp = allp[::2]
            self.stride *= 2
        self.hist[: allp.shape[0]] = allp
        self.hist_n = allp.shape[0]

    # -- rewinding ----------------------------------------------------------------------------
    def rewind(self, epoch: float | None, step: int | None) -> tuple[int, float]:
        """Drop points at or after (step | epoch); return (points dropped, min dropped x)."""
        self.flush()
        live = self.buf[self.start : self.end]
        mask = self._mask(live, epoch, step)
        if mask is None or not mask.any():
            return 0, math.inf
        dropped = int(mask.sum())
        min_x = float(live[mask, _X].min())
        kept = live[~mask]
        n = kept.shape[0]
        self.buf[:n] = kept
        self.start, self.end = 0, n
        hist = self.hist[: self.hist_n]
        hmask = self._mask(hist, epoch, step)
        self.count -= dropped
        if hmask is not None and hmask.any():
            first = int(np.argmax(hmask))
            self.hist_n = first
            if n == 0:
                # The ring held none of the surviving points: the history knows better,
                # entry j being point j*stride.
                self.count = min(self.count, first * self.stride)
        self.count = max(self.count, n)
        self.ver += 1
        return dropped, min_x

    def _mask(self, rows: np.ndarray, epoch: float | None, step: int | None) -> np.ndarray | None:
        if step is not None and self.x_is_step:
            return rows[:, _X] >= step
        if epoch is not None:
            with np.errstate(invalid="ignore"):
                return rows[:, _E] >= epoch
        return None

    def forget_offsets(self) -> None:
        """The file was truncated or replaced: the stored points' records are no longer at
        their offsets (offset -1)."""
        self.flush()
        self.buf[self.start : self.end, _O] = -1.0
        self.ver += 1

    def snapshot(self) -> SeriesSnapshot:
        """The series now, frozen (flushes first): its latest points and its history as
        copies, so later writes never change a snapshot already handed out."""
        self.flush()
        live = self.buf[self.start : self.end]
        hist = self.hist[: self.hist_n]
        return SeriesSnapshot(
            name=self.name,
            metric=self.metric,
            rank=self.rank,
            kind=self.kind,
            x=live[:, _X].copy(),
            y=live[:, _Y].copy(),
            epoch=live[:, _E].copy(),
            t=live[:, _T].copy(),
            offset=live[:, _O].astype(np.int64),
            x_is_step=self.x_is_step,
            count=self.count,
            hist_x=hist[:, 0].copy(),
            hist_y=hist[:, 1].copy(),
            hist_stride=self.stride,
        )
