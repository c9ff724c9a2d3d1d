"""A chunk's items applied at once (records and short batches joined into one batch, `join`) leave
exactly the state they leave applied one by one: counts, statistics (to the bit), series, progress,
the rewind window; on real logs, on generated ones of every kind, and on random mixes of what can
end a stretch (summaries, other ranks, rewinds, stepless rows, other arrival times, long batches).
Each runs with the join's weight threshold as shipped and at 1 (every stretch of two items or more
joined: the joining of small reads exercised too)."""

from __future__ import annotations

import io
import math
import os
import struct
from pathlib import Path

import gen_logs  # benchmarks/gen_logs.py (pyproject's pythonpath)
import numpy as np
import pytest

from tui_monitor.core.parse import COLUMNAR_MIN, Batch, Record, Rewind
from tui_monitor.core.pipeline import Pipeline
from tui_monitor.core.state import Run, joined
from tui_monitor.core.state.joined import BATCH_WEIGHT, JOIN_ROWS, JOIN_WEIGHT, join
from tui_monitor.core.state.ring import FLUSH_POINTS

REAL = Path(__file__).parent.parent / "fixtures" / "real"
NAMES = ["loss", "grad_norm", "learning_rate", "num_input_tokens_seen", "eval_loss"]
SHAPE_COLS = [[0, 1, 2], [0, 1, 2, 3], [4]]
KINDS: list = ["train", "train", "eval"]


def _bits(v: object) -> object:
    return struct.pack("<d", v).hex() if isinstance(v, float) else v


def _state(run: Run) -> dict[str, object]:
    """Everything a run's snapshot says (floats to the bit, arrays as bytes) and its rewind window."""
    snap = run.snapshot()
    fields = ("count", "first", "last", "min", "max", "nonfinite", "last_step")
    return {
        "records": dict(snap.records),
        "metrics": {k: tuple(_bits(getattr(st, f)) for f in fields) for k, st in snap.metrics.items()},
        "series": {
            k: (
                s.kind,
                s.rank,
                s.x_is_step,
                s.count,
                s.hist_stride,
                *(a.tobytes() for a in (s.x, s.y, s.epoch, s.t, s.offset, s.hist_x, s.hist_y)),
            )
            for k, s in snap.series.items()
        },
        "summaries": {k: dict(v) for k, v in snap.summaries.items()},
        "other": repr(
            (
                snap.progress,
                dict(snap.run_info),
                snap.events,
                snap.rewinds,
                snap.version,
                snap.summary_offset,
                snap.last_record_offset,
                snap.last_arrival,
                snap.dropped_metrics,
                snap.undrawn_points,
                snap.pace.tobytes(),
                snap.arrivals.tobytes(),
            )
        ),
        "recent": [repr(r) for r in run.recent_records()],
    }


def _chunks(path: Path, chunk: int) -> list[list[object]]:
    """The items of each read of ``path`` in ``chunk``-byte reads, as the pipeline gets them."""
    chunks: list[list[object]] = []
    pipe = Pipeline(on_items=lambda items: chunks.append(list(items)), batches=True, clock=lambda: 1.0e9)
    fd = os.open(path, os.O_RDONLY)
    try:
        offset = 0
        while data := os.pread(fd, chunk, offset):
            offset += len(data)
            pipe.feed(data)
    finally:
        os.close(fd)
    pipe.finish()
    return chunks


def _pipelines(chunks: list[list[object]]) -> tuple[Pipeline, Pipeline]:
    """Pipelines fed each chunk's items at once, and one item at a time."""
    at_once, one_by_one = Pipeline(clock=lambda: 1.0e9), Pipeline(clock=lambda: 1.0e9)
    for items in chunks:
        at_once._apply(items)  # type: ignore[arg-type]  # the accounting step alone
        for it in items:
            one_by_one._apply([it])  # type: ignore[list-item]
    return at_once, one_by_one


def _joined_rows(chunks: list[list[object]]) -> int:
    """Records standing in joined batches."""
    return sum(len(it) for items in chunks for it, parts in join(items) if parts)  # type: ignore[arg-type]


@pytest.fixture(params=["shipped", "all"])
def weight(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """The join's weight threshold: as shipped, or 1 (every stretch joined)."""
    if request.param == "all":
        monkeypatch.setattr(joined, "JOIN_WEIGHT", 1)
    return joined.JOIN_WEIGHT


def _assert_same(chunks: list[list[object]]) -> Pipeline:
    at_once, one_by_one = _pipelines(chunks)
    assert len(at_once.runs) == len(one_by_one.runs)
    for a, b in zip(at_once.runs, one_by_one.runs):
        assert _state(a) == _state(b)
    return at_once


@pytest.mark.parametrize("kind", ["tqdm5", "tqdm4", "write5", "write4", "dense5", "dense4"])
def test_generated_logs_joined_and_one_by_one(kind: str, tmp_path: Path, weight: int) -> None:
    """GIVEN a 2 MiB log of each generated kind, read in 1 MiB chunks (the catch-up's batches)
    and in 8 KiB ones (the record path: many lone records per read)
    WHEN each read's items are applied at once, and one by one
    THEN the runs' states are identical; in 1 MiB reads most records went through joined
    batches, but for a dense log's long batches (they go on as they are)."""
    out = io.BytesIO()
    truth = gen_logs.generate(out, kind, size=2 << 20, seed=3)
    path = tmp_path / "train.log"
    path.write_bytes(out.getvalue())
    for chunk in (1 << 20, 8 << 10):
        chunks = _chunks(path, chunk)
        pipe = _assert_same(chunks)
        snap = pipe.run.snapshot()
        assert snap.records["train"] == truth["train"] and snap.records["eval"] == truth["eval"]
        n_joined = _joined_rows(chunks)
        if kind.startswith("dense") and chunk > COLUMNAR_MIN // 2:
            longest = max(len(it) for items in chunks for it in items if isinstance(it, Batch))
            assert longest >= JOIN_ROWS and n_joined < (truth["train"] + truth["eval"]) // 10, (chunk, n_joined)
        elif chunk > COLUMNAR_MIN // 2 or weight == 1:
            assert n_joined > (truth["train"] + truth["eval"]) // 2, (chunk, n_joined)
        else:  # a stretch of 8 KiB is joined only when it weighs enough (many short lines)
            weights = [
                sum(1 if isinstance(p, Record) else BATCH_WEIGHT for p in parts)
                for items in chunks
                for _, parts in join(items)
                if parts
            ]
            assert min(weights, default=JOIN_WEIGHT) >= JOIN_WEIGHT


@pytest.mark.parametrize("log", sorted(p.name for p in REAL.glob("*.log")))
def test_real_logs_joined_and_one_by_one(log: str, weight: int) -> None:
    """GIVEN each real Trainer log, read whole, in 4 KiB reads and in 300-byte reads (a live
    tail's); WHEN each read's items are applied at once and one by one; THEN the same state."""
    path = REAL / log
    for chunk in (1 << 20, 4096, 300):
        _assert_same(_chunks(path, chunk))


def test_a_catch_up_joins_its_bursts() -> None:
    """A real log read whole: its records reach the state through joined batches."""
    path = REAL / "hf5_linear_warmup.log"
    chunks = _chunks(path, 1 << 20)
    pipe = _assert_same(chunks)
    records = pipe.run.snapshot().records
    assert _joined_rows(chunks) >= records["train"] + records["eval"] - JOIN_WEIGHT


def _record(rng: np.random.Generator, step: int | None, offset: int) -> Record:
    """A random record: mostly main-writer train/eval ones, now and then a summary or rank 1."""
    kind = str(rng.choice(["train", "eval", "summary"], p=[0.7, 0.25, 0.05]))
    rank = None if rng.random() < 0.9 else str(rng.choice(["0", "1"]))
    keys = {"train": ["loss", "grad_norm", "learning_rate"], "eval": ["eval_loss"], "summary": ["train_runtime"]}[kind]
    if kind == "train" and rng.random() < 0.1:
        keys = [*keys, "num_input_tokens_seen"]
    specials = [math.nan, math.inf, -math.inf, 0.0, -0.0]
    vals = [float(v) for v in rng.normal(size=len(keys))]
    if rng.random() < 0.2:
        vals[int(rng.integers(len(vals)))] = specials[int(rng.integers(len(specials)))]
    epoch = None if rng.random() < 0.2 else float(offset) / 1e4
    return Record(kind, dict(zip(keys, vals)), step, epoch, offset, rank)  # type: ignore[arg-type]


def _batch(rng: np.random.Generator, n: int, steps: list[int], offset: int) -> Batch:
    """A random batch of ``n`` rows: one shape (train), or mixed shapes (train, occasional key, eval)."""
    if rng.random() < 0.5:
        values = rng.normal(size=(n, 3))
        return Batch(
            "train",
            NAMES[:3],
            values,
            None if rng.random() < 0.2 else np.arange(n) / 100 + offset / 1e4,
            np.array(steps, dtype=np.int64),
            np.arange(offset, offset + 10 * n, 10, dtype=np.int64),
        )
    shapes = rng.choice(3, size=n, p=[0.8, 0.1, 0.1]).astype(np.uint8)
    values = np.full((n, len(NAMES)), math.nan)
    for i, p in enumerate(shapes.tolist()):
        values[i, SHAPE_COLS[p]] = rng.normal(size=len(SHAPE_COLS[p]))
    if rng.random() < 0.3:
        values[int(rng.integers(n)), 0] = [math.inf, -0.0, math.nan][int(rng.integers(3))]
    return Batch(
        KINDS[int(shapes[0])],
        NAMES,
        values,
        np.arange(n) / 100 + offset / 1e4,
        np.array(steps, dtype=np.int64),
        np.arange(offset, offset + 10 * n, 10, dtype=np.int64),
        shapes=shapes,
        shape_cols=SHAPE_COLS,
        shape_kinds=KINDS,
    )


def _mix(seed: int) -> list[list[object]]:
    """Reads of random items: records and batches with and without stated steps (a batch states
    those of its first rows), summaries, rank 1, rewinds, now and then another arrival time or
    a long batch."""
    rng = np.random.default_rng(seed)
    reads: list[list[object]] = []
    step, offset = 0, 0
    for _ in range(12):
        items: list[object] = []
        for _ in range(int(rng.integers(1, 40))):
            u = rng.random()
            stated = rng.random() < 0.7
            if u < 0.5:
                step += 10
                it: object = _record(rng, step if stated else None, offset)
                offset += 10
            elif u < 0.95:
                n = int(rng.integers(1, 60)) if rng.random() < 0.95 else JOIN_ROWS + 5
                k = n if stated else int(rng.integers(0, n + 1))
                steps = list(range(step + 10, step + 10 * k + 1, 10))
                step += 10 * n
                it = _batch(rng, n, steps, offset)
                offset += 10 * n
            else:
                step = max(0, step - int(rng.integers(1, 200)))
                it = Rewind(epoch=None, step=step, offset=offset)
            if rng.random() < 0.05 and not isinstance(it, Rewind):
                it.arrival = 2.0e9  # type: ignore[union-attr]  # another read's time
            items.append(it)
        reads.append(items)
    return reads


@pytest.mark.parametrize("seed", range(20))
def test_random_mixes_joined_and_one_by_one(seed: int, weight: int) -> None:
    """GIVEN random reads (see `_mix`); WHEN each is applied to a run at once and one item at a
    time (items keep their own arrival times); THEN the same state, to the bit."""
    reads = _mix(seed)
    at_once, one_by_one = Run(capacity=64, history=32), Run(capacity=64, history=32)
    for items in reads:
        at_once.apply(items)
        for it in items:
            one_by_one.apply([it])
        assert _state(at_once) == _state(one_by_one)
    assert sum(1 for items in reads for _, parts in join(items, 1) if parts) > 0


def _burst_read(
    rng: np.random.Generator, bursts: int, rows: tuple[int, int], partial: bool, step: int, offset: int
) -> tuple[list[object], int, int]:
    """A read of ``bursts`` tqdm bursts from ``step`` and ``offset`` on: each a main-writer eval
    record, then a `_batch` of ``rows[0]`` to ``rows[1] - 1`` rows 10 steps apart; the read's last
    rows without their step yet when ``partial``. Returns the items, the next step and offset."""
    items: list[object] = []
    for burst in range(bursts):
        items.append(Record("eval", {"eval_loss": float(rng.normal())}, step, None, offset))
        offset += 10
        n = int(rng.integers(*rows))
        k = int(rng.integers(0, n)) if partial and burst == bursts - 1 else n
        items.append(_batch(rng, n, list(range(step + 10, step + 10 * k + 1, 10)), offset))
        step += 10 * n
        offset += 10 * n
    return items, step, offset


@pytest.mark.parametrize("seed", range(4))
def test_long_joined_reads_fill_the_rings_at_once(seed: int) -> None:
    """GIVEN reads of 60 bursts (a main-writer eval record, then a batch of ~80 rows, some of
    mixed shapes; a read's last rows now and then without their step yet), each joined into a
    batch of more than ``8 * FLUSH_POINTS`` rows (the rings filled at once, only the points
    kept built); WHEN applied at once and one item at a time to runs whose rings and histories
    are small (the history's stride grows); THEN the same state, to the bit."""
    rng = np.random.default_rng(100 + seed)
    at_once, one_by_one = Run(capacity=64, history=32), Run(capacity=64, history=32)
    step, offset = 0, 0
    for read in range(4):
        items, step, offset = _burst_read(rng, 60, (70, 91), read % 2 == 1, step, offset)
        assert [len(it) >= 8 * FLUSH_POINTS for it, parts in join(items) if parts] == [True]  # one stretch
        at_once.apply(items)
        for it in items:
            one_by_one.apply([it])
        assert _state(at_once) == _state(one_by_one)
    assert at_once.snapshot().series["loss"].hist_stride > 1


@pytest.mark.parametrize("seed", range(4))
def test_joined_reads_queued_and_taken_at_once(seed: int) -> None:
    """GIVEN 24 reads of 20 bursts (an eval record, a batch of ~50 rows, some of mixed shapes; a
    read's last rows now and then without their step yet), each joined into one batch of ~1,000
    rows that the series queue; WHEN applied at once and one item at a time, with one look at
    the end (a flush of many long pieces, of which only the points kept are built, against one
    of many short ones), to runs whose rings and histories are small; THEN the same state, to
    the bit."""
    rng = np.random.default_rng(200 + seed)
    at_once, one_by_one = Run(capacity=64, history=32), Run(capacity=64, history=32)
    step, offset = 0, 0
    for read in range(24):
        items, step, offset = _burst_read(rng, 20, (40, 61), read % 3 == 0, step, offset)
        assert [len(it) < 8 * FLUSH_POINTS for it, parts in join(items) if parts] == [True]
        at_once.apply(items)
        for it in items:
            one_by_one.apply([it])
    assert _state(at_once) == _state(one_by_one)
    assert at_once.snapshot().series["loss"].hist_stride > 1


def test_what_ends_a_stretch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stretch ends at a summary, another rank's record, a rewind, a long batch, another arrival
    time, and a stated step after a row without one; each part of two items or more is joined
    when it weighs enough; a step beyond int64 stays on the record path."""

    def rec(step: int | None, kind: str = "train", rank: str | None = None, arrival: float = 0.0) -> Record:
        return Record(kind, {"loss": 1.0}, step, 0.5, 0, rank, {}, arrival)  # type: ignore[arg-type]

    def sizes(items: list[object], min_weight: int = 1) -> list[int]:
        return [len(parts) if parts else 0 for _, parts in join(items, min_weight)]

    four = [rec(1), rec(2), rec(3), rec(4)]
    assert sizes(four) == [4]
    assert sizes([*four, rec(5, "summary"), *four]) == [4, 0, 4]
    assert sizes([*four, rec(5, rank="1"), *four]) == [4, 0, 4]
    assert sizes([*four, Rewind(None, 2, 0), *four]) == [4, 0, 4]
    long = _batch(np.random.default_rng(0), JOIN_ROWS, list(range(JOIN_ROWS)), 0)
    assert sizes([*four, long, *four]) == [4, 0, 4]
    assert sizes([*four, *[rec(9, arrival=5.0)] * 4]) == [4, 4]
    assert sizes([rec(None), rec(None), rec(None), rec(4), rec(5), rec(6), rec(7)]) == [3, 4]
    assert sizes([rec(None), rec(4), rec(5)]) == [0, 2]
    assert sizes([*four[:3], rec(None), rec(None)]) == [5]
    assert sizes([*four, rec(1 << 70), *four]) == [4, 0, 4]
    assert sizes([rec(None)]) == [0] and sizes([rec(None)] * 2) == [2]
    empty = _batch(np.random.default_rng(2), 0, [], 0)
    assert sizes([*four, empty, *four]) == [4, 0, 4]
    # The weight: records count 1, batches BATCH_WEIGHT.
    assert sizes([rec(None)] * (JOIN_WEIGHT - 1), JOIN_WEIGHT) == [0] * (JOIN_WEIGHT - 1)
    assert sizes([rec(None)] * JOIN_WEIGHT, JOIN_WEIGHT) == [JOIN_WEIGHT]
    small = _batch(np.random.default_rng(1), 10, [], 0)
    burst = [rec(None), rec(None), small]
    light = burst * ((JOIN_WEIGHT - 1) // (2 + BATCH_WEIGHT))
    assert sizes(light, JOIN_WEIGHT) == [0] * len(light)
    assert sizes(light + burst, JOIN_WEIGHT) == [len(light) + 3]
    monkeypatch.setattr(joined, "JOIN_WEIGHT", 1)
    run, alone = Run(), Run()
    items = [*four, rec(1 << 70), *four]
    run.apply(items)
    for it in items:
        alone.apply([it])
    assert _state(run) == _state(alone) and run.snapshot().metrics["loss"].last_step == 4
