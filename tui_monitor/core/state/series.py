"""SeriesStore: a run's numeric series, as numpy ring buffers plus a decimated whole-run history.

Part of one run's state (:class:`~tui_monitor.core.state.run.Run` owns one and feeds it through
:meth:`SeriesStore.apply`, its one write entry); readers get frozen copies through
:meth:`SeriesStore.snapshot`.

Series naming and ranks
    A metric is stored under its own key (``loss``, ``grad_norm``, ``eval_loss``,
    ``rewards/margins``...). Records of rank ``None`` or ``"0"`` form the main series; records of
    any other rank ``r`` go to ``"<metric>@rank<r>"`` (``loss@rank1``), so a host rank that
    always logs ``loss 0.0`` never mixes with the guest's curve. Summary records (``train_runtime``)
    are not series: the last summary of each rank is kept as a dict.

x values
    ``x`` is the global step when the record states it (``Record.step``), else the record's
    ordinal (0-based) among the records of the same kind and rank. ``SeriesSnapshot.x_is_step``
    says which: it is ``True`` when the series' points had stated steps from its first point
    on. A later point without a stated step (a read that stops between a Trainer dict and the
    tqdm redraw that gives its step) is placed at the last stated step, so x never mixes steps
    with ordinals.

Cost
    a record appends one tuple per metric to a Python list; the list is turned into numpy rows in
    blocks (``FLUSH_POINTS`` points) or when a snapshot/rewind needs it, so the per-point cost is a
    list append rather than five numpy scalar stores. A batch (catch-up) puts its rows in one
    wide block; each of its series notes where its points are in it (`PointQueue`) and takes
    them out with those of many other batches when it flushes. A catch-up's read reaches the
    store as one batch (`Run` joins its records and short batches: `core/state/joined.py`).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from tui_monitor.core.parse.items import Batch, Record, Rewind, is_main_rank, rank_suffix
from tui_monitor.core.state.columns import BatchColumns
from tui_monitor.core.state.queued import WE, WIDE, WO, WT, WX
from tui_monitor.core.state.ring import FLUSH_POINTS, RING_COLS, SeriesRing, SeriesSnapshot

__all__ = ["SeriesSet", "SeriesSnapshot", "SeriesStore"]

FLUSH_ROWS = 32 * FLUSH_POINTS
"""Rows a series' queue references before it flushes (~1.5 MiB of a tqdm log's blocks, shared
by the series of a read; a metric held by few rows queues a block of those rows only)."""

_ARRIVALS = 512
"""Arrival times kept for the main rank's train/eval records (stall detection)."""


@dataclass(frozen=True, slots=True)
class SeriesSet:
    """A frozen view of a run's series, safe to read from any thread (all arrays are copies).

    Attributes:
        version: the store's change counter when the view was taken.
        series: series by series key (see :func:`~tui_monitor.core.parse.items.series_key`).
        summaries: the last summary record's metrics per rank (``None`` = main writer; ``"0"``
            is folded into ``None``).
        summary_offset: byte offset of the last summary record of any rank, or ``None``.
        last_arrival: when the last record was read (seconds since the epoch), 0.0 if unknown.
        arrivals: ``(k,) float64`` when the main writer's last <= 512 train/eval records were read.
        undrawn_points: points not stored because ``max_metrics`` series already existed.
    """

    version: int = 0
    series: Mapping[str, SeriesSnapshot] = field(default_factory=dict)
    summaries: Mapping[str | None, Mapping[str, float]] = field(default_factory=dict)
    summary_offset: int | None = None
    last_arrival: float = 0.0
    arrivals: np.ndarray = field(default_factory=lambda: np.zeros(0))
    undrawn_points: int = 0


class SeriesStore:
    """Per-metric ring buffers of the last points, a decimated whole-run history, and summaries.

    Args:
        capacity: points kept per series in the ring (the detectors' window), >= 2.
        history: points kept per series in the decimated whole-run history, >= 2 (even).
        max_metrics: series created at most; points of further metrics are counted in
            ``undrawn_points`` and discarded.

    Raises:
        ValueError: a size below 2.

    Thread-safety: `apply` and `snapshot` take ``self.lock``; ``snapshot()`` returns copies.
    ``version`` grows by one on every change.
    """

    def __init__(self, capacity: int = 4096, history: int = 2048, max_metrics: int = 256) -> None:
        if capacity < 2 or history < 2 or max_metrics < 1:
            raise ValueError("capacity and history must be >= 2, max_metrics >= 1")
        self.capacity = capacity
        self.history = history - (history % 2)
        self.max_metrics = max_metrics
        self.lock = threading.Lock()
        self.version = 0
        self._reset()
        self._cache: dict[str, tuple[int, SeriesSnapshot]] = {}
        self._snap: SeriesSet | None = None

    def _reset(self) -> None:
        self._series: dict[str, SeriesRing] = {}
        self._counts: dict[str, int] = {}
        self._summaries: dict[str | None, dict[str, float]] = {}
        self._summary_offset: int | None = None
        self._last_arrival = 0.0
        self._arrivals: deque[float] = deque(maxlen=_ARRIVALS)
        self._dropped = 0

    def _add(self, record: Record) -> None:
        rank = record.rank
        main = is_main_rank(rank)
        suffix = rank_suffix(rank)
        kind = record.kind
        ckey = kind + suffix
        ordinal = self._counts.get(ckey, 0)
        self._counts[ckey] = ordinal + 1
        if record.arrival:
            self._last_arrival = record.arrival
        if kind == "summary":
            self._summaries[None if main else rank] = dict(record.metrics)
            if self._summary_offset is None or record.offset >= self._summary_offset:
                self._summary_offset = record.offset
            return
        step = record.step
        x = float(step) if step is not None else float(ordinal)
        ep = record.epoch if record.epoch is not None else math.nan
        t = record.arrival
        off = float(record.offset)
        if main:
            self._arrivals.append(t)
        series = self._series
        for name, v in record.metrics.items():
            key = name + suffix if suffix else name
            s = series.get(key)
            if s is None:
                if len(series) >= self.max_metrics:
                    self._dropped += 1
                    continue
                s = SeriesRing(key, name, None if main else rank, kind, self.capacity, self.history)
                series[key] = s
            xs = x
            if step is None:
                if s.x_is_step and s.last_x == s.last_x:
                    # A series in steps whose newest record has no stated step yet (a
                    # one-shot read that stops between a dict and its tqdm redraw): keep the
                    # series in steps and put the point at the last stated step, rather
                    # than mixing an ordinal into step x values.
                    xs = s.last_x
                else:
                    s.x_is_step = False
            s.last_x = xs
            pend = s.pending
            pend += (xs, ep, t, off, v)
            if len(pend) >= RING_COLS * FLUSH_POINTS:
                s.flush()

    # -- writing ------------------------------------------------------------------------------
    def apply(self, items: Iterable[object]) -> None:
        """The one write entry: store records and batches and apply rewinds, in order, under
        one lock acquisition (other items are ignored); ``version`` grows once if anything was
        stored or rewound. A batch may come as its `BatchColumns` (the owner worked them out).

        A record's metrics become points of its series (x: its step, else its ordinal among
        the records of its kind and rank); a summary record becomes its rank's summary. A rewind
        drops its rank's points at or after its step (a series whose x are steps) or else its
        epoch (points without an epoch are kept); ordinal x of later records continue from the
        first dropped ordinal, so re-printed records take the places of those they supersede."""
        with self.lock:
            n = 0
            for it in items:
                if isinstance(it, Record):
                    self._add(it)
                elif isinstance(it, BatchColumns):
                    self._add_batch(it)
                elif isinstance(it, Batch):
                    self._add_batch(BatchColumns(it))
                elif isinstance(it, Rewind):
                    self._rewind(it.epoch, it.step, it.rank)
                else:
                    continue
                n += 1
            if n:
                self.version += 1

    def _add_batch(self, cols: BatchColumns) -> None:
        """`_add` for each row of a batch (train and eval records of the main writer), given
        where its metrics are (`BatchColumns`).

        The rows' x, epoch, arrival and offset and all metric values go into one wide block per
        batch; each series queues a reference to it (its column, and which rows hold the metric)
        and takes its points out when it flushes, many batches at once: a catch-up's batches are
        short (~50 rows), and a few numpy calls per series per batch cost more than the points.
        A batch of ``8 * FLUSH_POINTS`` rows or more goes into the rings at once.
        """
        b = cols.batch
        n = cols.n
        if n == 0:
            return
        shapes = b.shapes
        steps = b.steps
        k = steps.shape[0]
        width = WIDE + len(b.names)
        # A long batch (a dense log's read) fills the rings at once from one block of ring rows
        # (x, y, epoch, arrival, offset), of which each series builds the rows it keeps; short
        # ones go into one wide block that the series queue and take out later, many at once.
        big: np.ndarray | None = None
        if n >= 8 * FLUSH_POINTS:
            big = np.empty((n, 5), dtype=np.float64)
            xs = big[:, 0]
        else:
            wide = np.empty((n, width), dtype=np.float64)
            xs = wide[:, WX]
        counts = self._counts
        if len(cols.kinds) == 1:
            kind = cols.kinds[0][0]
            ordinal = counts.get(kind, 0)
            counts[kind] = ordinal + n
            if k < n:  # x of a row without a step: its ordinal among the records of its kind
                xs[k:] = np.arange(ordinal + k, ordinal + n, dtype=np.float64)
        elif k < n:
            self._batch_ordinals(b, xs)
        else:  # every row states its step: only the counts by kind move on
            for kind, m in cols.kinds:
                counts[kind] = counts.get(kind, 0) + m
        if k:
            xs[:k] = steps
        t = b.arrival
        if t:
            self._last_arrival = t
        epoch = b.epoch if b.epoch is not None else math.nan
        if big is not None:
            big[:, 2] = epoch
            big[:, 3] = t
            big[:, 4] = b.offsets
        else:
            wide[:, WE] = epoch
            wide[:, WT] = t
            wide[:, WO] = b.offsets
            wide[:, WIDE:] = b.values
            flat = wide.ravel()
        self._arrivals.extend([t] * min(n, _ARRIVALS))
        series = self._series
        count, first, last = cols.count, cols.first, cols.last
        subs: dict[int, np.ndarray] = {}  # held rows' blocks, by `held_rows` array
        for j, name in enumerate(b.names):
            m = count[j]
            if not m:
                continue  # only in a shape of rows before the batch
            s = series.get(name)
            if s is None:
                if len(series) >= self.max_metrics:
                    self._dropped += m
                    continue
                kind = b.kind if shapes is None else b.shape_kinds[shapes.item(first[j])]
                s = SeriesRing(name, name, None, kind, self.capacity, self.history)
                series[name] = s
            if s.pending:  # the records' points before the batch's
                s.queue.add_points(s.pending)
                s.pending.clear()
            r = last[j]
            held = None if m == n else cols.held(j)
            x_from, x = -1, 0.0
            if r >= k and s.x_is_step:
                # Rows without a step in a series in steps: as in `_add`, they stay at the last
                # stated step (the x of the last held row with one, else the series' last x), or
                # the series leaves steps when there is none.
                below = k if held is None else int(np.count_nonzero(held[:k]))
                if below:
                    prev = xs.item(k - 1 if held is None else int(np.flatnonzero(held[:k])[-1]))
                else:
                    prev = s.last_x
                if prev == prev:
                    x_from, x = k, prev
                else:
                    s.x_is_step = False
            s.last_x = x if x_from >= 0 else xs.item(r)
            if big is not None:  # a long batch: its points go into the ring at once
                if x_from >= 0 and held is not None:  # the first such point among those held
                    x_from = int(np.count_nonzero(held[:x_from]))
                s.push_picked(big, b.values[:, j], None if held is None else cols.held_rows(j), x_from, x)
                continue
            if held is None:
                s.queue.add(flat, n, width, j, None, x_from, x)
            else:
                # The rows holding the metric (a joined read's eval rows: 2 % of its block) are
                # gathered once for all the metrics they hold, and queued as a block of their own.
                at = cols.held_rows(j)
                sub = subs.get(id(at))
                if sub is None:
                    sub = subs[id(at)] = wide.take(at, axis=0).ravel()
                if x_from >= 0:  # the first such row among those held
                    x_from = int(np.searchsorted(at, x_from))
                s.queue.add(sub, at.shape[0], width, j, None, x_from, x)
            # Rows referenced (their blocks held): a flush of long pieces costs about the same
            # however many it takes (it builds only the points kept), so it waits for more.
            if s.queue.rows >= FLUSH_ROWS:
                s.flush()

    def _batch_ordinals(self, b: Batch, xs: np.ndarray) -> None:
        """Count the rows of a batch of several kinds by kind, and put each row's ordinal among
        the records of its kind in ``xs`` (its rows' x)."""
        counts = self._counts
        kinds: list[str] = list(dict.fromkeys(b.shape_kinds))
        code = np.array([kinds.index(kd) for kd in b.shape_kinds], dtype=np.uint8).take(b.shapes)
        for c, kind in enumerate(kinds):
            idx = np.flatnonzero(code == c)
            ordinal = counts.get(kind, 0)
            counts[kind] = ordinal + len(idx)
            xs[idx] = np.arange(ordinal, ordinal + len(idx), dtype=np.float64)

    def forget_offsets(self) -> None:
        """The file was truncated or replaced: every stored point's offset becomes -1 (its
        bytes are no longer in the file; offsets of later records are the new stream's)."""
        with self.lock:
            for s in self._series.values():
                s.forget_offsets()
            self.version += 1

    def _rewind(self, epoch: float | None, step: int | None, rank: str | None) -> None:
        main = is_main_rank(rank)
        want = None if main else rank
        lost: dict[str, int] = {}
        min_ord: dict[str, float] = {}
        for s in self._series.values():
            if s.rank != want:
                continue
            dropped, min_x = s.rewind(epoch, step)
            if dropped:
                lost[s.kind] = max(lost.get(s.kind, 0), dropped)
                if not s.x_is_step:
                    min_ord[s.kind] = min(min_ord.get(s.kind, math.inf), min_x)
        suffix = rank_suffix(rank)
        for kind, n in lost.items():
            ckey = kind + suffix
            cur = self._counts.get(ckey, 0)
            new = cur - n
            if kind in min_ord:
                new = int(min_ord[kind])
            self._counts[ckey] = max(0, new)

    # -- reading ------------------------------------------------------------------------------
    def snapshot(self) -> SeriesSet:
        """Return a frozen copy of the store; unchanged series reuse their previous copy."""
        with self.lock:
            if self._snap is not None and self._snap.version == self.version:
                return self._snap
            out: dict[str, SeriesSnapshot] = {}
            for key, s in self._series.items():
                s.flush()
                cached = self._cache.get(key)
                if cached is not None and cached[0] == s.ver and cached[1].x_is_step == s.x_is_step:
                    out[key] = cached[1]
                    continue
                snap = s.snapshot()
                self._cache[key] = (s.ver, snap)
                out[key] = snap
            for key in [k for k in self._cache if k not in self._series]:
                del self._cache[key]
            self._snap = SeriesSet(
                version=self.version,
                series=MappingProxyType(out),
                summaries=MappingProxyType({k: dict(v) for k, v in self._summaries.items()}),
                summary_offset=self._summary_offset,
                last_arrival=self._last_arrival,
                arrivals=np.fromiter(self._arrivals, dtype=np.float64, count=len(self._arrivals)),
                undrawn_points=self._dropped,
            )
            return self._snap
