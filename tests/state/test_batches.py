"""A `Batch` (the catch-up's columns) and its records give the same tally, series and progress,
whatever mix of shapes, kinds and values it holds, and whatever records come between batches;
where a batch's metrics are (`BatchColumns`) is worked out right."""

from __future__ import annotations

import math
import struct

import numpy as np

from tui_monitor.core.parse import Batch, Record, Rewind
from tui_monitor.core.state import Run
from tui_monitor.core.state.columns import BatchColumns
from tui_monitor.core.state.stats import _TRIM_SLACK, REWIND_WINDOW

NAN = math.nan
NAMES = ["loss", "grad_norm", "learning_rate", "num_input_tokens_seen", "eval_loss"]
# shape 0: a train record; 1: a train record with the occasional key; 2: an eval record
SHAPE_COLS = [[0, 1, 2], [0, 1, 2, 3], [4]]
KINDS: list = ["train", "train", "eval"]


def _batch(rows: list[tuple[int, list[float]]], first_offset: int, steps: list[int] | None = None) -> Batch:
    """Rows ``(shape, values in the shape's order)`` as a batch (NaN where a shape lacks a key)."""
    n = len(rows)
    values = np.full((n, len(NAMES)), NAN)
    for i, (p, vals) in enumerate(rows):
        values[i, SHAPE_COLS[p]] = vals
    shapes = np.array([p for p, _ in rows], dtype=np.uint8)
    return Batch(
        KINDS[rows[0][0]],
        NAMES,
        values,
        np.arange(n, dtype=np.float64) / 100 + first_offset / 1e6,
        np.array(steps if steps is not None else [], dtype=np.int64),
        np.arange(first_offset, first_offset + 10 * n, 10, dtype=np.int64),
        shapes=shapes,
        shape_cols=SHAPE_COLS,
        shape_kinds=KINDS,
    )


def _bits(v: object) -> object:
    return struct.pack("<d", v).hex() if isinstance(v, float) else v


def _state(run: Run) -> dict[str, object]:
    snap = run.snapshot()
    return {
        "records": dict(snap.records),
        "metrics": {
            k: tuple(_bits(getattr(st, f)) for f in ("count", "first", "last", "min", "max", "nonfinite", "last_step"))
            for k, st in snap.metrics.items()
        },
        "series": {
            k: (
                s.kind,
                s.x_is_step,
                s.count,
                s.hist_stride,
                *(a.tobytes() for a in (s.x, s.y, s.epoch, s.t, s.offset, s.hist_x, s.hist_y)),
            )
            for k, s in snap.series.items()
        },
        "progress": repr(snap.progress),
        "recent": [repr(r) for r in run.recent_records()],
    }


def _rows(seed: int, n: int) -> list[tuple[int, list[float]]]:
    rng = np.random.default_rng(seed)
    specials = [NAN, math.inf, -math.inf, 0.0, -0.0]
    out = []
    for _ in range(n):
        p = int(rng.choice(3, p=[0.8, 0.1, 0.1]))
        vals = [float(v) for v in rng.normal(size=len(SHAPE_COLS[p]))]
        if rng.random() < 0.2:
            vals[int(rng.integers(len(vals)))] = specials[int(rng.integers(len(specials)))]
        out.append((p, vals))
    return out


def _feed(items: list[object], *, as_records: bool, look: bool = False) -> Run:
    """A run fed ``items`` one by one (``look``: a snapshot after each, as the app takes them)."""
    run = Run(capacity=64, history=32)
    for item in items:
        run.apply(item.records() if as_records and isinstance(item, Batch) else [item], 1000.0)
        if look:
            run.snapshot()
    return run


def test_batches_between_records_match_their_records() -> None:
    """Short batches of every shape mix (specials: NaN, ±inf, 0.0 and -0.0) with records between
    them, many flushes of the series: the same state as the records alone."""
    items: list[object] = []
    offset = 0
    for i in range(300):
        rows = _rows(i, 1 + i % 47)
        items.append(_batch(rows, offset))
        offset += 10 * len(rows)
        items.append(Record("eval", {"eval_loss": 2.0 - i / 1000}, None, i / 100, offset))
        offset += 10
    by_batch, by_record = _feed(items, as_records=False), _feed(items, as_records=True)
    assert _state(by_batch) == _state(by_record)
    assert _state(_feed(items, as_records=False, look=True)) == _state(by_record)
    snap = by_batch.snapshot()
    rows_total = sum(len(b) for b in items if isinstance(b, Batch))
    train = sum(1 for b in items if isinstance(b, Batch) for p in b.shapes.tolist() if p < 2)
    assert snap.records["train"] == train and snap.records["eval"] == rows_total - train + 300
    assert snap.series["loss"].count == train and len(snap.series["loss"]) == 64


def test_zero_signs_and_infinities_in_one_batch() -> None:
    """-0.0 before 0.0 stays the min (the first seen of equal values); infinities are counted
    but never a min or max."""
    rows = [(0, [-0.0, math.inf, 0.0]), (0, [0.0, 1.5, -math.inf]), (1, [2.0, 0.5, 0.0, 7.0])]
    run = _feed([_batch(rows, 0, steps=[10, 20, 30])], as_records=False)
    m = run.snapshot().metrics
    assert _bits(m["loss"].min) == _bits(-0.0) and m["loss"].max == 2.0
    assert (m["grad_norm"].min, m["grad_norm"].max, m["grad_norm"].nonfinite) == (0.5, 1.5, 1)
    assert _bits(m["learning_rate"].min) == _bits(0.0) and m["learning_rate"].nonfinite == 1
    assert (m["num_input_tokens_seen"].count, m["num_input_tokens_seen"].last_step) == (1, 30)
    assert _state(run) == _state(_feed([_batch(rows, 0, steps=[10, 20, 30])], as_records=True))


def test_batch_columns_of_mixed_shapes() -> None:
    rows = [(2, [3.0]), (0, [1.0, 1.0, 1.0]), (1, [1.0, 1.0, 1.0, 5.0]), (0, [1.0, 1.0, 1.0]), (2, [2.5])]
    tables: dict[object, object] = {}
    cols = BatchColumns(_batch(rows, 0), tables)  # type: ignore[arg-type]
    assert cols.n == 5 and cols.kinds == [("train", 3), ("eval", 2)]
    assert cols.count == [3, 3, 3, 1, 2]
    assert cols.first == [1, 1, 1, 2, 0] and cols.last == [3, 3, 3, 2, 4]
    assert cols.held(0).tolist() == [False, True, True, True, False] and cols.held(4).tolist()[0] is True
    train_only = BatchColumns(_batch([(0, [1.0, 2.0, 3.0]), (0, [4.0, 5.0, 6.0])], 0), tables)  # type: ignore[arg-type]
    assert train_only.kinds == [("train", 2)] and train_only.count == [2, 2, 2, 0, 0]
    assert train_only.first[3] == -1 and train_only.held(0) is None
    assert len(tables) == 1  # one table for the shape set


def test_rewind_window_is_exact_however_late_it_is_cut() -> None:
    """The window is cut back only every `_TRIM_SLACK` records, yet a reader sees exactly the last
    `REWIND_WINDOW` records, and a resume drops only the records from its step on."""
    n = REWIND_WINDOW + _TRIM_SLACK // 2
    rows = [(0, [float(i), 1.0, 1e-4]) for i in range(n)]
    run = Run()
    run.apply([_batch(rows[: n // 2], 0, steps=list(range(n // 2)))])
    run.apply([Record("train", {"loss": float(i)}, i, None, 10 * i) for i in range(n // 2, n)])
    recent = run.recent_records()
    assert len(recent) == REWIND_WINDOW and recent[0].step == n - REWIND_WINDOW and recent[-1].step == n - 1
    run.apply([Rewind(epoch=None, step=n - 100, offset=10 * n)])
    snap = run.snapshot()
    assert snap.records["train"] == n - 100 and snap.metrics["loss"].count == n - 100
    assert snap.metrics["loss"].last == float(n - 101) and len(run.recent_records()) == REWIND_WINDOW - 100


def test_rows_waiting_for_their_step_stay_at_the_last_step() -> None:
    """The last rows of a batch have no step yet (their bar's redraw comes later): in a series in
    steps they stay at the last stated step, as on the record path, also when the row with the
    last step lacks the metric (the occasional key)."""
    items: list[object] = []
    step, offset = 0, 0
    for i in range(120):
        rows = _rows(1000 + i, 2 + i % 9)
        stated = len(rows) - 1 - i % 2
        steps = list(range(step + 5, step + 5 * stated + 1, 5))
        step = steps[-1] if steps else step
        items.append(_batch(rows, offset, steps=steps))
        offset += 10 * len(rows)
    by_batch = _feed(items, as_records=False)
    assert _state(by_batch) == _state(_feed(items, as_records=True))
    assert _state(_feed(items, as_records=False, look=True)) == _state(by_batch)  # taken piece by piece
    loss = by_batch.snapshot().series["loss"]
    assert loss.x_is_step and loss.x[-1] == step and loss.x.max() == step


def test_a_long_batch_goes_into_the_rings_as_its_records() -> None:
    """A dense log's read (thousands of rows: the rings are filled at once), with records before
    it and rows at its end still waiting for their step."""
    rows = _rows(7, 5000)
    steps = list(range(10, 10 * 4990 + 1, 10))
    items: list[object] = [Record("train", {"loss": 9.0, "grad_norm": 1.0, "learning_rate": 0.0}, 5, 0.0, 0)]
    items += [_batch(rows, 10, steps=steps), _batch(_rows(8, 30), 60_000)]
    by_batch = _feed(items, as_records=False)
    assert _state(by_batch) == _state(_feed(items, as_records=True))
    loss = by_batch.snapshot().series["loss"]
    assert loss.x_is_step and loss.count == 1 + sum(1 for p, _ in rows if p < 2) + sum(
        1 for p, _ in _rows(8, 30) if p < 2
    )
    assert loss.x[-1] == steps[-1]
