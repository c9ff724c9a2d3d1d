"""Exact counts and per-metric statistics of one run, in bounded memory.

`RecordStats` keeps what ``trainmon report`` prints under ``records`` and ``metrics``:
distinct record counts, and for every metric its count, first, last, min, max (over finite
values) and non-finite count. It keeps only running statistics plus a bounded window of recent
records (to undo a resume's superseded records), so a log of any size costs the same memory.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from tui_monitor.core.parse.items import Batch, Record, Rewind, is_main_rank, series_key
from tui_monitor.core.state.columns import BatchColumns

MAX_SERIES = 4096
"""Metric series tallied at most; values of further new keys are counted in
``RunTally.dropped_metrics`` (a real run has tens, a log with a new key per record would
otherwise grow without bound)."""

REWIND_WINDOW = 8192
"""Recent records kept to undo a resume's superseded records (a resume re-does at most
the steps since its checkpoint; 8192 logging steps is far more than ``save_steps``
usually covers)."""

_TRIM_SLACK = 2048
"""Records the window may hold beyond `REWIND_WINDOW` before it is cut back (once per this many
rather than at every record); whatever reads it cuts it to `REWIND_WINDOW` first."""


@dataclass
class MetricStats:
    """Running statistics of one metric series.

    Attributes:
        count: values seen (finite and not).
        first / last: the first and latest value (may be non-finite).
        min / max: over finite values only; ``None`` when there were none.
        nonfinite: NaN and ±inf values seen.
        last_step: step of the latest value when the log states it.
    """

    count: int = 0
    first: float | None = None
    last: float | None = None
    min: float | None = None
    max: float | None = None
    nonfinite: int = 0
    last_step: int | None = None


@dataclass
class RecordStats:
    """Exact counts and per-metric statistics of one run's records (see module docstring).

    Attributes:
        records: distinct records by kind (``train``/``eval``/``summary``); records
            superseded by a resume (`Rewind`) are subtracted.
        metrics: `MetricStats` by series key (see `series_key`).
        rewinds: how many resumes were applied.
        dropped_metrics: values not counted because `MAX_SERIES` series already existed.
        last_record_offset: byte offset of the latest record, -1 before any.
    """

    records: dict[str, int] = field(default_factory=lambda: {"train": 0, "eval": 0, "summary": 0})
    metrics: dict[str, MetricStats] = field(default_factory=dict)
    rewinds: int = 0
    dropped_metrics: int = 0
    last_record_offset: int = -1
    # The last REWIND_WINDOW non-summary records, oldest first: `Record` items, or
    # ``(batch, lo)`` for rows ``lo:`` of a `Batch` (kept as columns until a rewind).
    _recent: deque[Record | tuple[Batch, int]] = field(default_factory=deque)
    _recent_n: int = 0

    def add_record(self, rec: Record) -> None:
        """Count one record and its values."""
        self.records[rec.kind] += 1
        self.last_record_offset = rec.offset
        # Per-value accounting (see `MetricStats`), inline: it is the per-value cost of a catch-up.
        metrics = self.metrics
        step = rec.step
        main = is_main_rank(rec.rank)
        for k, v in rec.metrics.items():
            key = k if main else series_key(k, rec.rank)
            st = metrics.get(key)
            if st is None:
                if len(metrics) >= MAX_SERIES:
                    self.dropped_metrics += 1  # ever-new keys (a hostile log): memory stays bounded
                    continue
                st = metrics[key] = MetricStats()
            st.count += 1
            if st.first is None:
                st.first = v
            st.last = v
            st.last_step = step
            if v - v == 0.0:  # finite (nan - nan and inf - inf are nan)
                if st.min is None or v < st.min:
                    st.min = v
                if st.max is None or v > st.max:
                    st.max = v
            else:
                st.nonfinite += 1
        if rec.kind != "summary":
            self._recent.append(rec)
            self._recent_n += 1
            if self._recent_n > REWIND_WINDOW + _TRIM_SLACK:
                self._trim_recent()

    def _trim_recent(self) -> None:
        """Cut the window to the last `REWIND_WINDOW` records."""
        recent = self._recent
        while self._recent_n > REWIND_WINDOW:
            head = recent[0]
            excess = self._recent_n - REWIND_WINDOW
            if isinstance(head, Record):
                recent.popleft()
                self._recent_n -= 1
                continue
            batch, lo = head
            left = len(batch) - lo
            if left <= excess:
                recent.popleft()
                self._recent_n -= left
            else:
                recent[0] = (batch, lo + excess)
                self._recent_n -= excess

    def recent_records(self) -> list[Record]:
        """The records of the rewind window, oldest first (batches expanded)."""
        if self._recent_n > REWIND_WINDOW:
            self._trim_recent()
        out: list[Record] = []
        for entry in self._recent:
            if isinstance(entry, Record):
                out.append(entry)
            else:
                out.extend(entry[0].records()[entry[1] :])
        return out

    def add_batch(
        self, b: Batch, cols: BatchColumns | None = None, parts: Sequence[Record | Batch] | None = None
    ) -> None:
        """`add_record` for each row of ``b`` (train and eval records of the main writer),
        vectorised: a fixed number of numpy calls per batch, whatever its rows and metrics
        (catch-up hands over thousands of ~50-row batches, so the calls are what costs).

        Args:
            b: the batch.
            cols: where its metrics are (`BatchColumns` of ``b``), when the caller has it.
            parts: the records and batches ``b`` was joined from (`joined.join`), in order: the
                rewind window keeps them (a rewind gives back the records as they came).
        """
        if cols is None:
            cols = BatchColumns(b)
        n = cols.n
        if n == 0:
            return
        records = self.records
        for kind, m in cols.kinds:
            records[kind] += m
        offsets = b.offsets
        self.last_record_offset = offsets.item(n - 1)
        steps = b.steps
        k = steps.shape[0]
        values = b.values
        # Per metric: finite values, their min and max, one reduction each over all metrics, on
        # the columns made rows (numpy reduces an (n, metrics) array down its columns several
        # times slower). A cell of a shape without the metric is NaN (`Batch`), which fmin/fmax
        # skip like the NaN values; an infinity would win, so a metric with one is reduced again
        # over its finite values only (rare).
        cols_t = np.ascontiguousarray(values.T)  # a joined batch's values are its columns' rows already
        fin = np.isfinite(cols_t)
        finite = np.add.reduce(fin, axis=1).tolist()  # counts (bools add as integers)
        lows = np.fmin.reduce(cols_t, axis=1).tolist()
        highs = np.fmax.reduce(cols_t, axis=1).tolist()
        if math.inf in highs or -math.inf in lows:
            # Those metrics again with NaN for their non-finite cells (a masked reduction,
            # ``where=fin``, costs several times more).
            bad = [j for j, (lo, hi) in enumerate(zip(lows, highs)) if lo == -math.inf or hi == math.inf]
            fv = np.where(fin[bad], cols_t[bad], math.nan)
            for j, lo, hi in zip(bad, np.fmin.reduce(fv, axis=1).tolist(), np.fmax.reduce(fv, axis=1).tolist()):
                lows[j], highs[j] = lo, hi
        metrics = self.metrics
        count, first, last = cols.count, cols.first, cols.last
        for j, key in enumerate(b.names):
            m = count[j]
            if not m:
                continue  # only in a shape of rows before the batch
            st = metrics.get(key)
            if st is None:
                if len(metrics) >= MAX_SERIES:
                    self.dropped_metrics += m
                    continue
                st = metrics[key] = MetricStats()
            st.count += m
            if st.first is None:
                st.first = values.item(first[j], j)
            r = last[j]
            st.last = values.item(r, j)
            st.last_step = steps.item(r) if r < k else None
            nf = finite[j]
            st.nonfinite += m - nf
            if nf:
                lo, hi = lows[j], highs[j]
                if lo == 0.0 or hi == 0.0:
                    # 0.0 and -0.0 are equal: the record path keeps the first one seen, which a
                    # reduction does not say.
                    lo, hi = _first_extremes(cols_t[j], fin[j])
                if st.min is None or lo < st.min:
                    st.min = lo
                if st.max is None or hi > st.max:
                    st.max = hi
        if parts is None:
            self._recent.append((b, 0))
        else:
            self._recent.extend(it if isinstance(it, Record) else (it, 0) for it in parts)
        self._recent_n += n
        if self._recent_n > REWIND_WINDOW + _TRIM_SLACK:
            self._trim_recent()

    def rewind(self, rw: Rewind) -> None:
        """Drop the superseded records of ``rw.rank`` (those at or after the rewind point)."""
        self.rewinds += 1
        main = is_main_rank(rw.rank)
        kept: list[Record] = []
        dropped: list[Record] = []
        for rec in reversed(self.recent_records()):
            same = is_main_rank(rec.rank) if main else rec.rank == rw.rank
            if same and _at_or_after(rec, rw):
                dropped.append(rec)
            else:
                kept.append(rec)
        if not dropped:
            return
        self._recent = deque(reversed(kept))
        self._recent_n = len(kept)
        for rec in dropped:
            self.records[rec.kind] -= 1
            for k, v in rec.metrics.items():
                st = self.metrics.get(series_key(k, rec.rank))
                if st is None:
                    continue
                st.count -= 1
                if not math.isfinite(v):
                    st.nonfinite -= 1
        # `last` of each touched series is the latest surviving value; min/max keep the
        # superseded values (a deterministic resume re-prints the same numbers).
        touched = {series_key(k, r.rank) for r in dropped for k in r.metrics}
        for key in touched:
            st = self.metrics[key]
            st.last = None
            st.last_step = None
        for entry in self._recent:
            assert isinstance(entry, Record)  # the window was rebuilt from records just above
            rec = entry
            for k, v in rec.metrics.items():
                key = series_key(k, rec.rank)
                if key in touched:
                    self.metrics[key].last = v
                    self.metrics[key].last_step = rec.step
        for key in touched:
            if self.metrics[key].count <= 0:
                del self.metrics[key]


def _first_extremes(col: np.ndarray, fin: np.ndarray) -> tuple[float, float]:
    """The min and max of ``col``'s finite cells (``fin``), each the first of equal values."""
    fv = col[fin]
    return fv.item(int(fv.argmin())), fv.item(int(fv.argmax()))


def _at_or_after(rec: Record, rw: Rewind) -> bool:
    if rw.step is not None and rec.step is not None:
        return rec.step >= rw.step
    if rw.epoch is not None and rec.epoch is not None:
        return rec.epoch >= rw.epoch
    return False


def merge_stats(parts: Sequence[Mapping[str, MetricStats]]) -> dict[str, MetricStats]:
    """Whole-file statistics from per-run ones, in run order: counts and non-finite counts
    add up, ``first`` is the first run's, ``last`` (and ``last_step``) the latest run's,
    ``min``/``max`` over all.

    Args:
        parts: each run's statistics by series key, oldest run first.

    Returns:
        A new dict by series key, in order of first appearance.
    """
    out: dict[str, MetricStats] = {}
    for stats in parts:
        for key, st in stats.items():
            cur = out.get(key)
            if cur is None:
                out[key] = MetricStats(st.count, st.first, st.last, st.min, st.max, st.nonfinite, st.last_step)
                continue
            cur.count += st.count
            cur.nonfinite += st.nonfinite
            if st.last is not None:
                cur.last, cur.last_step = st.last, st.last_step
            if st.min is not None and (cur.min is None or st.min < cur.min):
                cur.min = st.min
            if st.max is not None and (cur.max is None or st.max > cur.max):
                cur.max = st.max
    return out
