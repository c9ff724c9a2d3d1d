"""Where each metric of a `Batch` sits: the per-batch facts the tally and the store both need.

A catch-up hands the state thousands of short batches (~50 rows between two tqdm bar segments),
so what costs is the fixed work per batch, not the rows: a numpy call on a 50-row array costs
about as much as on a 5,000-row one. `BatchColumns` works out, once per batch and in a constant
number of calls whatever the number of metrics, which rows hold each metric (its count, first and
last row) and which cells hold a value; `RecordStats.add_batch` and `SeriesStore` read it instead
of asking per metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tui_monitor.core.parse.items import Batch

__all__ = ["BatchColumns", "ShapeTable"]

_TABLES = 64
"""Shape tables kept per run (a log has a few sets of key shapes)."""


class ShapeTable:
    """Which shapes of a batch hold each metric, for one ``shape_cols`` list and its kinds.

    Attributes:
        partial: the metrics not held by every shape, by the set of shapes (indices into
            ``shape_cols``) that hold them: ``(holders, columns)`` pairs (a few: an occasional
            key, the eval keys); every other metric is in every row of a batch.
        held: ``(shapes, columns) bool``: ``held[p, j]`` when shape ``p`` holds column ``j``.
        kind: the kind of every shape when they have one, else ``None``.
        group: per column, its entry in ``partial`` (-1: every shape holds it).
    """

    __slots__ = ("partial", "held", "kind", "group")

    def __init__(self, shape_cols: Sequence[Sequence[int]], kinds: Sequence[str], columns: int) -> None:
        holders: list[list[int]] = [[] for _ in range(columns)]
        self.held = np.zeros((len(shape_cols), columns), dtype=bool)
        for p, cols in enumerate(shape_cols):
            for c in cols:
                holders[c].append(p)
            self.held[p, cols] = True
        groups: dict[tuple[int, ...], list[int]] = {}
        for c, h in enumerate(holders):
            if len(h) < len(shape_cols):
                groups.setdefault(tuple(h), []).append(c)
        self.partial = list(groups.items())
        self.group = [-1] * columns  # each column's entry in `partial`, -1 when every shape holds it
        for g, (_, cols_g) in enumerate(self.partial):
            for c in cols_g:
                self.group[c] = g
        self.kind = kinds[0] if len(set(kinds)) == 1 else None


class BatchColumns:
    """One batch and where each of its metrics is (see module docstring).

    Args:
        batch: the batch.
        tables: `ShapeTable` cache by the batch's metric count, ``shape_cols`` and kinds (the
            owner keeps it across batches: a log has a few shape sets).

    Attributes:
        batch: the batch.
        n: its rows.
        kinds: ``(kind, rows)`` of each record kind present, in order of the shapes.
        count: per metric column, the rows whose record holds the metric.
        first / last: per metric column, the first and last such row (-1 when none).
    """

    __slots__ = ("batch", "n", "kinds", "count", "first", "last", "_table", "_held")

    def __init__(self, batch: Batch, tables: dict[object, ShapeTable] | None = None) -> None:
        self.batch = batch
        n = self.n = batch.offsets.shape[0]
        c = len(batch.names)
        self.count = [n] * c
        self.first = [0 if n else -1] * c
        self.last = [n - 1] * c
        shapes = batch.shapes
        self._held: dict[int, Any] = {}  # `held` by entry of the table's ``partial``
        self.kinds: list[tuple[str, int]]
        if shapes is None:
            self.kinds = [(batch.kind, n)]
            self._table: ShapeTable | None = None
            return
        table = self._table = _table(batch, c, tables)
        if table.kind is not None and not table.partial:
            self.kinds = [(table.kind, n)]
            return
        order = shapes.tolist()
        # Rows per shape: list.count per shape for a short batch, one bincount for a long one.
        s = len(batch.shape_cols)
        per_shape = np.bincount(shapes, minlength=s).tolist() if n > 256 else [order.count(p) for p in range(s)]
        if table.kind is not None:
            self.kinds = [(table.kind, n)]
        else:
            by_kind: dict[str, int] = {}
            for kind, m in zip(batch.shape_kinds, per_shape):
                if m:
                    by_kind[kind] = by_kind.get(kind, 0) + m
            self.kinds = list(by_kind.items())
        back = order[::-1]
        count, first, last = self.count, self.first, self.last
        for holders, cols in table.partial:
            m, lo, hi = 0, n, -1
            for p in holders:
                if per_shape[p]:
                    m += per_shape[p]
                    lo = min(lo, order.index(p))
                    hi = max(hi, n - 1 - back.index(p))
            for j in cols:
                count[j], first[j], last[j] = m, (lo if m else -1), hi

    def held(self, j: int) -> Any:
        """The rows holding metric ``j``: ``(n,) bool``, or ``None`` when every row does."""
        if self.count[j] == self.n:
            return None
        table = self._table
        assert table is not None  # a batch of one shape holds every metric in every row
        g = table.group[j]  # the metrics of one set of shapes share their rows (the eval keys)
        held = self._held.get(g)
        if held is None:
            # `take`, not ``[shapes]``: indexing by a uint8 array casts it through a buffered
            # iterator, several times slower on a long batch.
            held = self._held[g] = table.held[:, j].take(self.batch.shapes)
        return held

    def held_rows(self, j: int) -> np.ndarray:
        """The rows holding metric ``j``, a metric not in every row (`held` is not ``None``):
        ``(m,) int64`` row indices, ascending."""
        table = self._table
        assert table is not None
        g = -1 - table.group[j]  # kept beside `held`'s masks (their keys are >= 0)
        rows = self._held.get(g)
        if rows is None:
            rows = self._held[g] = np.flatnonzero(self.held(j))
        return rows


def _table(batch: Batch, columns: int, tables: dict[object, ShapeTable] | None) -> ShapeTable:
    if tables is None:
        return ShapeTable(batch.shape_cols, batch.shape_kinds, columns)
    key = (columns, *batch.shape_kinds, *map(tuple, batch.shape_cols))
    t = tables.get(key)
    if t is None:
        if len(tables) >= _TABLES:
            tables.clear()
        t = tables[key] = ShapeTable(batch.shape_cols, batch.shape_kinds, columns)
    return t
