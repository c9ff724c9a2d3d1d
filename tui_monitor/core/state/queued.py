"""Points waiting to enter a series' ring: batches' blocks and record points, taken out together.

During catch-up a series gets its points in short pieces (a batch of ~50 rows, then the records
on the record path before the next batch). Copying each piece out of its batch costs a few numpy
calls per series per batch, more than the points themselves; so a series only notes where its
points are (`PointQueue.add`) and takes them all out at once when it flushes (`PointQueue.take`),
in a fixed number of numpy calls whatever the number of pieces. Long pieces (a catch-up's joined
reads) are taken one by one, and only the points the ring keeps are built (`take_kept`: every
stride-th for the history, the last ``capacity``), so a flush costs about the same however many
reads it takes.

Layout of a *wide block* (one per batch, shared by all its series): ``(n, WIDE + metrics)``
float64 rows ``x, epoch, arrival, offset`` then one column per metric. A record's point is a wide
row of one metric: ``x, epoch, arrival, offset, value``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["WE", "WIDE", "WO", "WT", "WX", "PointQueue"]

WX, WE, WT, WO, WIDE = 0, 1, 2, 3, 4
"""Columns of a wide block: x, epoch, arrival time, byte offset; metrics from ``WIDE`` on."""

_FEW = 4
"""Pieces taken one by one (long ones, a dense log's); more are gathered at once."""

_LONG = 256
"""Rows per piece, on average, from which pieces are taken one by one however many (gathering
them at once would first copy their blocks whole)."""

_RING = np.array([WX, 0, WE, WT, WO])
"""A ring row (x, y, epoch, arrival, offset) from a wide row: y's column is added per piece."""


class PointQueue:
    """The pieces of one series' points not yet in its ring, in order.

    Attributes:
        rows: rows of the blocks referenced (held in memory until `take`), for the owner's bound.
    """

    __slots__ = (
        "_blocks",
        "_points",
        "_starts",
        "_in_points",
        "_lens",
        "_widths",
        "_cols",
        "_masks",
        "_xs",
        "_size",
        "rows",
    )

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self._blocks: list[np.ndarray] = []  # the wide blocks' ravel()
        self._points: list[float] = []  # the record points, flat
        # Per piece: where its flat rows start (in the blocks, or in the points when
        # `_in_points`), its rows, width and metric column.
        self._starts: list[int] = []
        self._in_points: list[bool] = []
        self._lens: list[int] = []
        self._widths: list[int] = []
        self._cols: list[int] = []
        self._masks: list[tuple[int, np.ndarray]] = []  # (first row, rows holding the metric)
        self._xs: list[tuple[int, int, float]] = []  # rows [a, b) whose x is the value
        self._size = 0  # length of the blocks, flat
        self.rows = 0

    def __bool__(self) -> bool:
        return bool(self._lens)

    def add(
        self,
        flat: np.ndarray,
        n: int,
        width: int,
        col: int,
        held: np.ndarray | None = None,
        x_from: int = -1,
        x: float = 0.0,
    ) -> None:
        """Queue metric ``col`` of a wide block of ``n`` rows and ``width`` columns, given flat
        (``block.ravel()``); ``held``: ``(n,) bool`` the rows whose record holds the metric
        (``None``: all); ``x_from`` >= 0: rows from there on take ``x`` as their x (rows without
        a step in a series in steps stay at its last step)."""
        if held is not None:
            self._masks.append((self.rows, held))
        if x_from >= 0:
            self._xs.append((self.rows + x_from, self.rows + n, x))
        self._blocks.append(flat)
        self._starts.append(self._size)
        self._in_points.append(False)
        self._size += flat.shape[0]
        self._lens.append(n)
        self._widths.append(width)
        self._cols.append(col)
        self.rows += n

    def add_points(self, points: list[float]) -> None:
        """Queue record points: a flat list of ``x, epoch, arrival, offset, value``."""
        n = len(points) // (WIDE + 1)
        self._starts.append(len(self._points))
        self._in_points.append(True)
        self._points += points
        self._lens.append(n)
        self._widths.append(WIDE + 1)
        self._cols.append(0)
        self.rows += n

    def take(self) -> np.ndarray:
        """All queued points as ``(m, 5)`` ring rows (x, y, epoch, arrival, offset), in order, for
        many short pieces (long ones: `take_kept`); the queue is empty afterwards. The blocks
        and then the points are read as one flat array: row ``r`` of a piece of width ``w``
        starting at flat position ``f`` starts at ``f + r * w``, so one gather reads every piece."""
        parts = self._blocks
        if self._points:  # record points: one conversion for all of them, after the blocks
            parts = [*parts, np.array(self._points, dtype=np.float64)]
        consts = len(parts)
        if self._xs:  # the x values some rows take, read from after everything else
            parts = [*parts, np.array([v for _, _, v in self._xs], dtype=np.float64)]
        data = parts[0] if len(parts) == 1 else np.concatenate(parts)
        lens = np.array(self._lens)
        widths = np.array(self._widths)
        starts = np.array(self._starts)
        if self._points:
            starts[np.array(self._in_points)] += self._size
        first_rows = np.cumsum(lens) - lens
        row_w = np.repeat(widths, lens)
        base = np.repeat(starts - first_rows * widths, lens) + np.arange(row_w.shape[0]) * row_w
        y_col = np.repeat(np.array(self._cols) + WIDE, lens)
        x_at = base + WX  # where each row's x is read
        if self._xs:
            at = sum(p.shape[0] for p in parts[:consts])
            for i, (a, b, _) in enumerate(self._xs):
                x_at[a:b] = at + i
        if self._masks:  # the rows held, before the columns (a rare metric's few of each block)
            keep = np.ones(row_w.shape[0], dtype=bool)
            for f, held in self._masks:
                keep[f : f + held.shape[0]] = held
            base, y_col, x_at = base[keep], y_col[keep], x_at[keep]
        idx = base[:, None] + _RING
        idx[:, 0] = x_at
        idx[:, 1] += y_col
        self._clear()
        out: np.ndarray = data[idx]
        return out

    def is_long(self) -> bool:
        """The queue holds a few pieces, or long ones (a joined read's, a dense log's): taken piece
        by piece (`take_kept`), not gathered at once."""
        return len(self._lens) <= _FEW or self.rows >= _LONG * len(self._lens)

    def take_kept(self, first: int, stride: int, last: int) -> tuple[np.ndarray, np.ndarray, int]:
        """`take` of long pieces (`is_long`), building only the points a ring keeps.

        Args:
            first: the first point the history keeps (0-based among the queued points), then
                every ``stride``-th (``stride`` >= 1).
            last: how many of the last points the ring keeps.

        Returns:
            ``(hist, tail, m)``: the ring rows of the points ``first, first + stride, ...``, those
            of the last ``last`` points, and the number of points queued; the same rows as those
            positions of `take`'s block. The queue is empty afterwards.
        """
        points = np.array(self._points, dtype=np.float64) if self._points else None
        masks = dict(self._masks)
        blocks = iter(self._blocks)
        pieces: list[tuple[np.ndarray, int, int, np.ndarray | None]] = []  # rows, column, first row, held
        m = 0
        row = 0
        for start, in_points, n, width, col in zip(self._starts, self._in_points, self._lens, self._widths, self._cols):
            if in_points:
                assert points is not None
                wide = points[start : start + n * width].reshape(n, width)
            else:
                wide = next(blocks).reshape(n, width)
            held = masks.get(row)
            if held is not None:
                wide = wide.take(np.flatnonzero(held), axis=0)
            pieces.append((wide, col, row, held))
            m += wide.shape[0]
            row += n
        tail_from = max(0, m - last)
        hist_parts: list[np.ndarray] = []
        tail_parts: list[np.ndarray] = []
        p0 = 0  # the piece's first point among all
        for wide, col, row, held in pieces:
            k = wide.shape[0]
            # The history's points in [p0, p0 + k): first + j * stride for j >= 0.
            a = first if first >= p0 else first + -((p0 - first) // -stride) * stride
            if a < p0 + k:
                hist_parts.append(self._rows(wide, col, row, held, slice(a - p0, k, stride)))
            if p0 + k > tail_from:
                tail_parts.append(self._rows(wide, col, row, held, slice(max(0, tail_from - p0), k, 1)))
            p0 += k
        self._clear()
        return _joined_rows(hist_parts), _joined_rows(tail_parts), m

    def _rows(self, wide: np.ndarray, col: int, row: int, held: np.ndarray | None, at: slice) -> np.ndarray:
        """Ring rows of a piece's points ``at`` (a slice of its points: rows held): ``wide`` its
        rows held, ``col`` its metric, ``row`` its first row in the queue."""
        rows: np.ndarray = wide[at].take([WX, WIDE + col, WE, WT, WO], axis=1)
        n = wide.shape[0] if held is None else held.shape[0]
        for a, _, x in self._xs:
            if row <= a < row + n:  # points from a to the piece's end, among those held
                q = a - row if held is None else int(np.count_nonzero(held[: a - row]))
                # the first of the slice's points at or after q
                rows[max(0, -((q - at.start) // -at.step)) :, 0] = x
        return rows


def _joined_rows(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.empty((0, 5))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
