"""Where each metric of a `Batch` sits: the per-batch facts the tally and the store both need.

A catch-up hands the state thousands of short batches (~50 rows between two tqdm bar segments),
so what costs is the fixed work per batch, not the rows: a numpy call on a 50-row array costs
about as much as on a 5,000-row one. `BatchColumns` works out, once per batch and in a constant
number of calls whatever the number of metrics, which rows hold each metric (its count, first and
last row) and which cells hold a value; `RecordStats.add_batch` and `SeriesStore` read it instead
of asking per metric.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tui_monitor.core.parse.items import Batch

__all__ = ["BatchColumns", "ShapeTable"]

_TABLES = 64
"""Shape tables kept per run (a log has a few sets of key shapes)."""


class ShapeTable:
    """Which shapes of a batch hold each metric, for one ``shape_cols`` list.

    Attributes:
        groups: the distinct sets of shapes (indices into ``shape_cols``) that hold a metric
            (a few: the train keys, an occasional key, the eval keys).
        group_of: per metric column, its set's index in ``groups``.
        held: ``(shapes, columns) bool``: ``held[p, j]`` when shape ``p`` holds column ``j``.
    """

    __slots__ = ("groups", "group_of", "held")

    def __init__(self, shape_cols: list[list[int]], columns: int) -> None:
        holders: list[list[int]] = [[] for _ in range(columns)]
        self.held = np.zeros((len(shape_cols), columns), dtype=bool)
        for p, cols in enumerate(shape_cols):
            for c in cols:
                holders[c].append(p)
            self.held[p, cols] = True
        index: dict[tuple[int, ...], int] = {}
        self.group_of = [index.setdefault(tuple(h), len(index)) for h in holders]
        self.groups = list(index)


class BatchColumns:
    """One batch and where each of its metrics is (see module docstring).

    Args:
        batch: the batch.
        tables: `ShapeTable` cache by the batch's metric count and ``shape_cols`` (the owner
            keeps it across batches: a log has a few shape sets).

    Attributes:
        batch: the batch.
        n: its rows.
        per_shape: per shape, its rows (``[n]`` for a batch of one shape).
        count: per metric column, the rows whose record holds the metric.
        first / last: per metric column, the first and last such row (-1 when none).
        held: ``(n, len(names)) bool`` cells that hold a value, or ``None`` when every row holds
            every metric (one shape).
    """

    __slots__ = ("batch", "n", "per_shape", "count", "first", "last", "held")

    def __init__(self, batch: Batch, tables: dict[object, ShapeTable] | None = None) -> None:
        self.batch = batch
        n = self.n = len(batch)
        c = len(batch.names)
        shapes = batch.shapes
        if shapes is None:
            self.per_shape = [n]
            self.count = [n] * c
            self.first = [0 if n else -1] * c
            self.last = [n - 1] * c
            self.held: Any = None
            return
        table = _table(batch.shape_cols, c, tables)
        order = shapes.tolist()
        s = len(batch.shape_cols)
        per_shape = np.bincount(shapes, minlength=s).tolist() if s > 4 else [order.count(p) for p in range(s)]
        self.per_shape = per_shape
        back = order[::-1]
        first = [order.index(p) if m else -1 for p, m in enumerate(per_shape)]
        last = [n - 1 - back.index(p) if m else -1 for p, m in enumerate(per_shape)]
        count, lo, hi = [], [], []
        for holders in table.groups:
            count.append(sum([per_shape[p] for p in holders]))
            rows = [first[p] for p in holders if per_shape[p]]
            lo.append(min(rows) if rows else -1)
            hi.append(max([last[p] for p in holders]) if rows else -1)
        group_of = table.group_of
        self.count = [count[g] for g in group_of]
        self.first = [lo[g] for g in group_of]
        self.last = [hi[g] for g in group_of]
        self.held = table.held[shapes]


def _table(shape_cols: list[list[int]], columns: int, tables: dict[object, ShapeTable] | None) -> ShapeTable:
    if tables is None:
        return ShapeTable(shape_cols, columns)
    key = (columns, *map(tuple, shape_cols))
    t = tables.get(key)
    if t is None:
        if len(tables) >= _TABLES:
            tables.clear()
        t = tables[key] = ShapeTable(shape_cols, columns)
    return t
