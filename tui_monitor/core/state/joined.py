"""A chunk's records and short batches joined into one `Batch`: the state's fixed cost paid per chunk.

A catch-up of a tqdm-laden log hands the state, per 1 MiB chunk, ~23 bursts of a few items each:
an eval `Record` (glued after a bar), sometimes a train `Record` (a run's first row, when it took
the record path) and a `Batch` of ~49 train rows. The tally (`RecordStats`) and the store
(`SeriesStore`) pay a fixed cost per item, a few µs per record and a few numpy calls per batch
and series, more than the rows themselves. `join` turns each stretch of such items into one
`Batch` that stands for the same records in the same order, so that cost is paid once per
stretch; what the state ends up holding is the same (the tests apply a chunk's items joined and
one by one and compare every number).

A stretch holds only what a `Batch` can stand for: train and eval records of the main writer
(rank ``None`` or ``"0"``), of one arrival time, whose stated steps come first (a `Batch` states
the steps of its first rows only). Summaries, other ranks and rewinds end a stretch and go on as
they are; so do long batches (a dense log's: their fixed cost is small beside their rows, and
joining would copy them). A stretch is joined when it weighs enough to pay for the joining
(`JOIN_WEIGHT`); a lighter one goes on item by item.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tui_monitor.core.parse.items import Batch, Record, is_main_rank

__all__ = ["BATCH_WEIGHT", "JOIN_ROWS", "JOIN_WEIGHT", "Parts", "join"]

JOIN_WEIGHT = 64
"""Weight a stretch needs to be joined (a record weighs 1, a batch `BATCH_WEIGHT`). Joining has
a fixed cost of its own (the joined batch's columns, its tally, its series' pieces taken out
later): measured (CPU time of `Run.apply` per read), joining pays from ~64 lone records (128:
−13 %) or ~7 bursts of a tqdm log (an eval record, a train record, a ~49-row batch; 8: −12 %,
23, a 1 MiB read's: −45 %), and costs more below; a live tail's read of a few records goes on
as it is."""

BATCH_WEIGHT = 8
"""A batch's weight in a stretch: what joining it saves, in records (see `JOIN_WEIGHT`)."""

JOIN_ROWS = 1024
"""A batch of this many rows or more is not joined (its own fixed cost is small beside its rows)."""

_INT64 = 1 << 63

_SHAPES = 256
"""Shapes a `Batch` can tell apart (``shapes`` is ``uint8``)."""

Parts = tuple[Record | Batch, ...]
"""The items a joined batch stands for, in order."""


def join(items: Sequence[object], min_weight: int | None = None) -> list[tuple[object, Parts | None]]:
    """``items`` in order, with each stretch of two or more joinable records and batches (see
    module docstring) of at least ``min_weight`` (`JOIN_WEIGHT`) replaced by one `Batch` of all
    their rows.

    Args:
        items: parser items in file order (`Record`, `Batch`, `Rewind`, ...).
        min_weight: the weight a stretch needs (records 1, batches `BATCH_WEIGHT`); ``None``:
            `JOIN_WEIGHT`.

    Returns:
        ``(item, None)`` for an item as it was; ``(batch, parts)`` for a joined stretch:
        ``parts`` are its items (the rewind window keeps them, not the joined batch).
    """
    if min_weight is None:
        min_weight = JOIN_WEIGHT
    out: list[tuple[object, Parts | None]] = []
    run: list[Record | Batch] = []
    stepless = False  # a row of the stretch has no stated step: later rows must have none
    arrival = 0.0
    shapes = 0  # shapes the stretch may hold at most (a record's one, a batch's all)
    weight = 0  # records + BATCH_WEIGHT * batches
    for it in items:
        ok = False
        if isinstance(it, Record):
            step = it.step
            # A step beyond int64 (a hostile log) stays on the record path, which keeps it exact.
            ok = it.kind != "summary" and is_main_rank(it.rank) and (step is None or -_INT64 <= step < _INT64)
            has_step = all_steps = step is not None
            more = 1
        elif isinstance(it, Batch) and 0 < it.offsets.shape[0] < JOIN_ROWS:
            # (An empty batch names metrics no row holds: joined, it would put them first.)
            ok = True
            k = it.steps.shape[0]
            has_step, all_steps = k > 0, k == it.offsets.shape[0]
            more = len(it.shape_cols)
        if ok and run and ((stepless and has_step) or it.arrival != arrival or shapes + more >= _SHAPES):  # type: ignore[attr-defined]
            # The item cannot go on the stretch (its stated steps would come after rows
            # without one, it was read at another time, or the shapes would not fit): a new
            # stretch starts with it.
            _end(run, weight, min_weight, out)
            run, shapes, stepless, weight = [], 0, False, 0
        if not ok:
            if run:
                _end(run, weight, min_weight, out)
                run, shapes, stepless, weight = [], 0, False, 0
            out.append((it, None))
            continue
        if not run:
            arrival = it.arrival  # type: ignore[attr-defined]  # ok: a Record or a Batch
        run.append(it)  # type: ignore[arg-type]
        shapes += more
        weight += 1 if isinstance(it, Record) else BATCH_WEIGHT
        stepless = stepless or not all_steps
    if run:
        _end(run, weight, min_weight, out)
    return out


def _end(run: list[Record | Batch], weight: int, min_weight: int, out: list[tuple[object, Parts | None]]) -> None:
    if len(run) < 2 or weight < min_weight:
        out.extend((it, None) for it in run)
    else:
        out.append((_joined(run), tuple(run)))


def _joined(run: list[Record | Batch]) -> Batch:
    """One `Batch` of the rows of ``run`` (records and batches whose stated steps come first).

    The batches' columns are joined in one call each and put in their rows in one more; the
    records' values in one call per shape and their scalars in one call per column: a fixed
    number of numpy calls whatever the stretch holds."""
    names: dict[str, int] = {}
    shape_of: dict[tuple[object, ...], int] = {}
    shape_cols: list[list[int]] = []
    shape_kinds: list[str] = []
    rec_rows: list[int] = []
    rec_off: list[int] = []
    rec_ep: list[float] = []
    rec_sh: list[int] = []
    by_shape: dict[int, tuple[list[int], list[list[float]]]] = {}  # a shape's records: rows, values
    batches: list[Batch] = []
    b_shape: list[int] = []  # a batch's one shape here, -1 for a batch of several
    b_map: list[list[int]] = []  # its shapes' here
    blocks: dict[tuple[int, ...], tuple[list[int], list[int], list[int]]] = {}  # batches, src, dst
    step_pieces: list[Any] = []  # stated steps in order: a record's as a 1-tuple, a batch's array
    rec_steps: list[int] = []
    k = 0  # rows with a stated step (the first k)
    layouts: dict[tuple[str, ...], tuple[int, tuple[list[int], list[int], list[int]]]] = {}  # one-shape batches'
    has_epoch = False
    r = 0
    for it in run:
        if isinstance(it, Record):
            m = it.metrics
            key = (it.kind, *m)
            p = shape_of.get(key)
            if p is None:
                p = shape_of[key] = len(shape_cols)
                shape_cols.append([names.setdefault(name, len(names)) for name in m])
                shape_kinds.append(it.kind)
                by_shape[p] = ([], [])
            at, cells = by_shape[p]
            at.append(r)
            cells.append(list(m.values()))
            rec_rows.append(r)
            rec_off.append(it.offset)
            if it.epoch is None:
                rec_ep.append(math.nan)
            else:
                has_epoch = True
                rec_ep.append(it.epoch)
            if it.step is not None:
                step_pieces.append((it.step,))
                rec_steps.append(it.step)
                k += 1
            rec_sh.append(p)
            r += 1
            continue
        b = it
        lkey: tuple[str, ...] = (b.kind, *b.names)
        if b.shapes is None:  # a layout met before in this stretch: its shape and block as then
            seen = layouts.get(lkey)
            if seen is not None:
                p, block = seen
                block[0].append(len(batches))
                batches.append(b)
                b_shape.append(p)
                b_map.append([p])
                has_epoch = has_epoch or b.epoch is not None
                if b.steps.shape[0]:
                    step_pieces.append(b.steps)
                    k += b.steps.shape[0]
                r += b.offsets.shape[0]
                continue
        # The columns its rows hold, in its order (a batch cut from a longer one may name
        # metrics only rows before it held): the order the tally and store meet them in.
        if b.shapes is None:
            held_shapes: Sequence[int] = (0,)
            present: Sequence[int] = range(len(b.names))
        else:
            held_shapes = np.flatnonzero(np.bincount(b.shapes, minlength=len(b.shape_cols))).tolist()
            held_cols = {c for q in held_shapes for c in b.shape_cols[q]}
            present = [c for c in range(len(b.names)) if c in held_cols]
        colmap = [-1] * len(b.names)
        bnames = b.names
        for c in present:
            colmap[c] = names.setdefault(bnames[c], len(names))
        smap = [0] * len(b.shape_cols)
        for q in held_shapes:
            cols = [colmap[c] for c in b.shape_cols[q]]
            key = (b.shape_kinds[q], *cols)  # type: ignore[arg-type]
            p = shape_of.get(key)
            if p is None:
                p = shape_of[key] = len(shape_cols)
                shape_cols.append(cols)
                shape_kinds.append(b.shape_kinds[q])
            smap[q] = p
        dst = [colmap[c] for c in present]
        bkey = (len(bnames), *present, -1, *dst)
        block = blocks.get(bkey) or blocks.setdefault(bkey, ([], list(present), dst))
        block[0].append(len(batches))
        if b.shapes is None:
            layouts[lkey] = (smap[0], block)
        batches.append(b)
        b_shape.append(smap[0] if b.shapes is None else -1)
        b_map.append(smap)
        has_epoch = has_epoch or b.epoch is not None
        if b.steps.shape[0]:
            step_pieces.append(b.steps)
            k += b.steps.shape[0]
        r += b.offsets.shape[0]
    n = r
    # Column-major: each metric's rows are one 1-D array, filled by 1-D assignments (a 2-D
    # row-masked assignment costs several times more); the batch holds its transpose.
    by_col = np.full((len(names), n), math.nan)
    offsets = np.empty(n, dtype=np.int64)
    shapes = np.empty(n, dtype=np.uint8)
    epoch = np.empty(n) if has_epoch else None
    steps = np.empty(k, dtype=np.int64)
    rec_at = np.array(rec_rows, dtype=np.intp)  # the records' rows, converted once for every column
    if batches:
        # The batches' rows: every row but the records'.
        bsel: Any = slice(None)
        if rec_rows:
            bsel = np.ones(n, dtype=bool)
            bsel[rec_at] = False
        lens = [b.offsets.shape[0] for b in batches]
        for idx, src, dst in blocks.values():
            parts = [batches[i].values for i in idx]
            block_vals = parts[0] if len(parts) == 1 else np.concatenate(parts)
            if src != list(range(block_vals.shape[1])):
                block_vals = block_vals[:, src]
            where: Any = bsel
            if len(blocks) > 1:  # rows of these batches only
                starts = np.cumsum(lens) - lens
                brows = np.flatnonzero(bsel) if rec_rows else np.arange(n)
                where = brows[np.concatenate([np.arange(starts[i], starts[i] + lens[i]) for i in idx])]
            _put(by_col, where, dst, block_vals)
        offsets[bsel] = np.concatenate([b.offsets for b in batches])
        if min(b_shape) == max(b_shape) >= 0:  # one layout (a tqdm log's train rows)
            shapes[bsel] = b_shape[0]
        elif min(b_shape) >= 0:
            shapes[bsel] = np.repeat(b_shape, lens)
        else:
            shapes[bsel] = np.concatenate(
                [
                    np.full(len(b), p, dtype=np.uint8) if p >= 0 else np.array(smap, dtype=np.uint8).take(b.shapes)
                    for b, p, smap in zip(batches, b_shape, b_map)
                ]
            )
        if epoch is not None:
            epoch[bsel] = np.concatenate([np.full(len(b), math.nan) if b.epoch is None else b.epoch for b in batches])
        if k == n:
            steps[bsel] = np.concatenate([b.steps for b in batches])
    if rec_rows:
        for p, (at, cells) in by_shape.items():
            rows = rec_at if len(by_shape) == 1 else np.array(at, dtype=np.intp)
            _put(by_col, rows, shape_cols[p], np.array(cells, dtype=np.float64))
        offsets[rec_at] = rec_off
        shapes[rec_at] = rec_sh
        if epoch is not None:
            epoch[rec_at] = rec_ep
        if k == n:
            steps[rec_at] = rec_steps
    if 0 < k < n or (k == n and not batches):
        steps = np.concatenate(step_pieces, dtype=np.int64, casting="unsafe")
    return Batch(
        shape_kinds[shapes.item(0)],  # type: ignore[arg-type]  # the kinds of records
        list(names),
        by_col.T,
        epoch,
        steps,
        offsets,
        run[0].arrival,
        shapes=shapes,
        shape_cols=shape_cols,
        shape_kinds=shape_kinds,  # type: ignore[arg-type]
    )


def _put(by_col: np.ndarray, rows: Any, cols: list[int], vals: np.ndarray) -> None:
    """``by_col.T[rows, cols] = vals`` for rows (a mask, indices or a slice) and columns, one
    column at a time (``by_col``: ``(metrics, rows)``; ``vals``: ``(rows, len(cols))``)."""
    for i, c in enumerate(cols):
        by_col[c][rows] = vals[:, i]
