"""SeriesStore (a run's series): rings, history decimation, ranks, summaries, rewinds, snapshots."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from tui_monitor.core.parse import Record, Rewind, series_key
from tui_monitor.core.state import Run, SeriesStore


def _train(
    i: int, loss: float, *, step: int | None = None, rank: str | None = None, epoch: float | None = None, t: float = 0.0
) -> Record:
    return Record(
        "train", {"loss": loss, "grad_norm": 1.0}, step=step, epoch=epoch, rank=rank, offset=i * 100, arrival=t
    )


def test_points_keep_x_value_epoch_and_arrival() -> None:
    st = SeriesStore()
    st.apply([_train(0, 3.5, step=10, epoch=0.1, t=100.0)])
    st.apply([_train(1, math.nan, step=20, t=101.0)])
    snap = st.snapshot()
    s = snap.series["loss"]
    assert s.x.tolist() == [10.0, 20.0] and s.x_is_step
    assert s.y[0] == 3.5 and math.isnan(s.y[1])
    assert s.epoch[0] == 0.1 and math.isnan(s.epoch[1])
    assert s.t.tolist() == [100.0, 101.0]
    run = Run()
    run.apply([_train(0, 3.5, step=10, epoch=0.1, t=100.0), _train(1, math.nan, step=20, t=101.0)])
    assert run.snapshot().progress.step == 20 and run.snapshot().records["train"] == 2


def test_ordinals_when_no_step_per_kind() -> None:
    st = SeriesStore()
    for i in range(3):
        st.apply([_train(i, 1.0)])
    st.apply([Record("eval", {"eval_loss": 2.0}, offset=999)])
    snap = st.snapshot()
    assert snap.series["loss"].x.tolist() == [0.0, 1.0, 2.0]
    assert not snap.series["loss"].x_is_step
    assert snap.series["eval_loss"].x.tolist() == [0.0]
    assert snap.series["eval_loss"].kind == "eval"


def test_ring_keeps_last_capacity_and_history_is_bounded_and_decimated() -> None:
    st = SeriesStore(capacity=100, history=16)
    for i in range(1000):
        st.apply([_train(i, float(i), step=i)])
    s = st.snapshot().series["loss"]
    assert s.x[0] == 900 and s.x[-1] == 999 and len(s) == 100
    assert s.count == 1000
    assert s.hist_x.shape[0] <= 16
    assert np.all(s.hist_x % s.hist_stride == 0) and s.hist_x[0] == 0


def test_ranks_summaries_and_metric_cap() -> None:
    st = SeriesStore(max_metrics=3)
    st.apply([_train(0, 0.7, rank="0")])
    st.apply([_train(1, 0.0, rank="1")])
    st.apply([Record("summary", {"train_runtime": 58.5, "train_loss": 0.6}, rank="0", offset=500)])
    st.apply([Record("summary", {"train_runtime": 58.6, "train_loss": 0.0}, rank="1", offset=600)])
    st.apply([Record("train", {"extra": 1.0}, offset=700)])
    snap = st.snapshot()
    assert set(snap.series) == {"loss", "grad_norm", "loss@rank1"}
    assert series_key("loss", "1") == "loss@rank1" and series_key("loss", "0") == "loss"
    assert snap.summaries[None]["train_runtime"] == 58.5 and snap.summaries["1"]["train_loss"] == 0.0
    assert snap.summary_offset == 600
    assert snap.undrawn_points == 2  # grad_norm@rank1 and extra
    assert [s.metric for s in snap.series.values() if s.rank is None] == ["loss", "grad_norm"]


def test_rewind_by_step_drops_superseded_points() -> None:
    # GIVEN a run killed after step 135 and resumed from checkpoint 100 (steps 105.. re-printed)
    st = SeriesStore()
    for s in range(5, 140, 5):
        st.apply([_train(s, 6.0 - s / 100, step=s)])
    # WHEN the parser's Rewind arrives, then the re-done records
    st.apply([Rewind(epoch=None, step=105)])
    for s in range(105, 305, 5):
        st.apply([_train(s, 6.0 - s / 100, step=s)])
    s = st.snapshot().series["loss"]
    # THEN each step appears once, in order
    assert s.x.tolist() == list(map(float, range(5, 305, 5)))
    assert s.count == len(s)


def test_rewind_by_epoch_with_ordinals_continues_ordinals() -> None:
    st = SeriesStore()
    for i in range(10):
        st.apply([_train(i, 1.0, epoch=i / 10)])
    st.apply([Rewind(epoch=0.5, step=None)])
    snap = st.snapshot()
    assert snap.series["loss"].x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    st.apply([_train(11, 1.0, epoch=0.5)])
    assert st.snapshot().series["loss"].x[-1] == 5.0


def test_snapshot_is_a_copy_and_version() -> None:
    st = SeriesStore()
    v0 = st.version
    st.apply([_train(0, 1.0, step=1)])
    snap = st.snapshot()
    assert st.version == v0 + 1 and snap.version == st.version
    assert st.snapshot() is snap  # unchanged: the same frozen object
    snap.series["loss"].y[0] = 42.0
    st.apply([_train(1, 2.0, step=2)])
    assert st.snapshot().series["loss"].y.tolist() == [1.0, 2.0]


def test_concurrent_add_and_snapshot() -> None:
    st = SeriesStore(capacity=64)
    stop = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            s = st.snapshot().series.get("loss")
            if s is not None:
                assert np.all(np.diff(s.x) > 0)
                seen.append(len(s))

    th = threading.Thread(target=reader)
    th.start()
    for lo in range(0, 20000, 100):
        st.apply([_train(i, 1.0, step=i) for i in range(lo, lo + 100)])
    stop.set()
    th.join()
    assert st.snapshot().series["loss"].x[-1] == 19999


def test_bad_sizes_raise() -> None:
    with pytest.raises(ValueError):
        SeriesStore(capacity=1)
