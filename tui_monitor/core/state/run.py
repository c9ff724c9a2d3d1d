"""One run's state: exact counts and statistics, progress, events and numeric series, fed by one
``apply(items)``, read through one frozen :class:`RunSnapshot`.

A *run* is one training process's output, from its start to its end (DESIGN.md, "Runs"). Today
a log is read as one run; the split of a stream into several runs builds on this object.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from tui_monitor.core.parse.items import Batch, Checkpoint, Event, Progress, Record, Rewind, RunInfo, rank_suffix
from tui_monitor.core.state.columns import BatchColumns, ShapeTable
from tui_monitor.core.state.joined import join
from tui_monitor.core.state.pace import CheckpointLog, PaceLog
from tui_monitor.core.state.progress import ProgressState
from tui_monitor.core.state.series import SeriesSet, SeriesSnapshot, SeriesStore
from tui_monitor.core.state.stats import MetricStats, RecordStats

__all__ = ["MAX_EVENTS", "Run", "RunSnapshot"]

MAX_EVENTS = 200
"""Events kept per run (the latest ones)."""

_RUN_INFO_FIELDS = ("total_steps", "num_epochs", "grad_accum", "num_examples", "batch_size")


@dataclass(frozen=True)
class RunSnapshot:
    """Everything known about one run, frozen (safe to read from any thread), each fact once.

    Attributes:
        index: the run's number in its log (1-based).
        start_offset: byte offset where the run starts in the stream.
        start_in_file: the run's start is still at ``start_offset`` in the file (False once the
            file was truncated or replaced after it).
        start_reason: why the run is a new one (``"first"`` for the log's first run, else a
            :data:`~tui_monitor.core.parse.items.RunStartReason`).
        superseded: a later run started after this one (it no longer runs).
        version: the run's change counter when the snapshot was taken.
        records: distinct records by kind (``train``, ``eval``, ``summary``), all writers,
            after resumes replaced superseded records.
        metrics: exact whole-run statistics per series key (`MetricStats`).
        series: numeric series for charts and detectors, by series key.
        summaries: the last summary record's metrics per rank (``None`` = main writer).
        summary_offset: byte offset of the last summary record, or ``None``.
        progress: the run's position (see :class:`ProgressState` for the precedence).
        run_info: facts of the Trainer's banner (``total_steps``, ``num_epochs``, ...).
        events: crash evidence and file events, oldest first (the latest :data:`MAX_EVENTS`).
        rewinds: resumes applied (records re-done from a checkpoint).
        last_record_offset: byte offset of the latest record, -1 before any.
        last_arrival: when the latest record was read (seconds since the epoch), 0.0 if unknown.
        arrivals: ``(k,) float64`` when the main writer's latest train/eval records were read.
        dropped_metrics: values not counted because too many series existed (a hostile log).
        undrawn_points: values counted but not drawn because too many series existed.
        pace: ``(k, 2) float64`` rows ``[step, elapsed_s]`` of the train bar (see `PaceLog`).
        checkpoints: the latest checkpoints saved, oldest first.
        checkpoint_count: every checkpoint saved in the run.
        best_checkpoint: the best checkpoint a trainer_state.json names, else ``None``.
    """

    index: int = 1
    start_offset: int = 0
    start_in_file: bool = True
    start_reason: str = "first"
    superseded: bool = False
    version: int = 0
    records: Mapping[str, int] = field(default_factory=lambda: {"train": 0, "eval": 0, "summary": 0})
    metrics: Mapping[str, MetricStats] = field(default_factory=dict)
    series: Mapping[str, SeriesSnapshot] = field(default_factory=dict)
    summaries: Mapping[str | None, Mapping[str, float]] = field(default_factory=dict)
    summary_offset: int | None = None
    progress: ProgressState = field(default_factory=ProgressState)
    run_info: Mapping[str, int] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    rewinds: int = 0
    last_record_offset: int = -1
    last_arrival: float = 0.0
    arrivals: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dropped_metrics: int = 0
    undrawn_points: int = 0
    pace: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    checkpoints: tuple[Checkpoint, ...] = ()
    checkpoint_count: int = 0
    best_checkpoint: Checkpoint | None = None

    @property
    def record_count(self) -> int:
        """All records of the run (train + eval + summary)."""
        return sum(self.records.values())

    def get(self, name: str) -> SeriesSnapshot | None:
        """The series stored under ``name`` (a series key), or ``None``."""
        return self.series.get(name)

    def metric_names(self, rank: str | None = None) -> list[str]:
        """The metric keys (without rank suffix) of ``rank``'s series, in order of appearance."""
        suffix = rank_suffix(rank)
        return [s.metric for s in self.series.values() if s.name == s.metric + suffix]


class Run:
    """The state of one run, fed in file order by :meth:`apply` (not thread-safe: the owner
    serialises `apply` and `snapshot`).

    Args:
        index: the run's number in its log (1-based).
        start_offset: byte offset where the run starts in the stream.
        start_reason: why it is a new run (``"first"`` for a log's first run).
        capacity: points kept per series at full resolution (see `SeriesStore`).
        history: points kept per series in the decimated whole-run history.

    Attributes:
        superseded: a later run started (set by the owner).
    """

    def __init__(
        self,
        index: int = 1,
        start_offset: int = 0,
        start_reason: str = "first",
        *,
        capacity: int = 4096,
        history: int = 2048,
    ) -> None:
        self.index = index
        self.start_offset = start_offset
        self.start_in_file = True
        self.start_reason = start_reason
        self.superseded = False
        self.version = 0
        self._stats = RecordStats()
        self._series = SeriesStore(capacity=capacity, history=history)
        self._progress = ProgressState()
        self._run_info: dict[str, int] = {}
        self._events: deque[Event] = deque(maxlen=MAX_EVENTS)
        self._pace = PaceLog()
        self._checkpoints = CheckpointLog.empty()
        self._snap: RunSnapshot | None = None
        self._shape_tables: dict[object, ShapeTable] = {}

    @property
    def progress(self) -> ProgressState:
        """The run's position now."""
        return self._progress

    @property
    def records(self) -> Mapping[str, int]:
        """Distinct records by kind now (read-only view)."""
        return MappingProxyType(self._stats.records)

    def apply(self, items: Iterable[object], arrival: float = 0.0) -> None:
        """Account parser items (and `Batch` items of the columnar catch-up) in file order.

        Args:
            items: `Record`, `Batch`, `Progress`, `RunInfo`, `Event`, `Rewind` items; anything
                else is ignored.
            arrival: when the items were read (seconds since the epoch; 0.0 when unknown): it
                is stamped on records, batches and events without one, and is the time of the
                latest progress.

        The records and batches move the progress once per stretch between progress items
        (`ProgressState.with_records`), and go into the tally and the series after the loop,
        a read's stretches of them joined into one batch where that pays (`joined.join`): the
        same state as item by item, at a fixed cost per read rather than per item.
        """
        progress = self._progress
        tallied: list[object] = []  # records, batches and rewinds, for the tally and the store
        movers: list[Record | Batch] = []  # what moves the progress on since it was last read
        for it in items:
            if isinstance(it, (Record, Batch)):
                if arrival:
                    it.arrival = arrival
                tallied.append(it)
                movers.append(it)
            elif isinstance(it, (Progress, RunInfo)):
                progress = progress.with_records(movers).with_item(it, arrival)
                movers = []
                if isinstance(it, Progress) and it.source == "bar" and it.elapsed_s is not None:
                    self._pace.add(it.step, it.elapsed_s)
                if isinstance(it, RunInfo):
                    for name in _RUN_INFO_FIELDS:
                        v = getattr(it, name)
                        if v is not None:
                            self._run_info[name] = v
            elif isinstance(it, Event):
                # Stamped like records: when it was read (the parser does not know).
                self._events.append(replace(it, arrival=arrival) if arrival and not it.arrival else it)
            elif isinstance(it, Checkpoint):
                progress = progress.with_records(movers)
                movers = []
                self._checkpoints.add(it, progress.step)
            elif isinstance(it, Rewind):
                tallied.append(it)
            else:
                continue
            self.version += 1
        self._progress = progress.with_records(movers)
        if tallied:
            self._tally(tallied)

    def _tally(self, items: list[object]) -> None:
        """Records, batches and rewinds into the tally and the store, in order; a chunk's stretch
        of records and short batches as one joined batch (`join`: its fixed cost once)."""
        stats = self._stats
        store_items: list[object] = []
        # A live tail's read of a record goes on as it is (nothing to join).
        for it, parts in join(items) if len(items) > 1 else [(items[0], None)]:
            if isinstance(it, Record):
                stats.add_record(it)
                store_items.append(it)
            elif isinstance(it, Batch):
                cols = BatchColumns(it, self._shape_tables)  # once, for the tally and the store
                stats.add_batch(it, cols, parts)
                store_items.append(cols)
            elif isinstance(it, Rewind):
                stats.rewind(it)
                store_items.append(it)
        self._series.apply(store_items)

    def drop_events(self, events: Iterable[Event]) -> None:
        """Remove ``events`` (the same objects `apply` was given) from the run: file events
        that turned out to belong to the next run (it began with them)."""
        gone = {id(e) for e in events}
        kept = [e for e in self._events if id(e) not in gone]
        if len(kept) != len(self._events):
            self._events = deque(kept, maxlen=MAX_EVENTS)
            self.version += 1

    def forget_offsets(self) -> dict[int, Event]:
        """The file was truncated or replaced: the lines read so far are no longer at their
        byte offsets, so the run's points say offset -1 and its events and start say they are
        no longer in the file (the raw log must not open at whatever the new file holds there;
        the events keep their offsets, which order them within the run's stream; checkpoint
        lines say offset -1).

        Returns:
            The events replaced, by the ``id`` of the event they replace (an owner holding
            events to hand to `drop_events` later swaps them).
        """
        self._series.forget_offsets()
        self._checkpoints.forget_offsets()
        swapped = {id(e): replace(e, in_file=False) for e in self._events if e.in_file}
        self._events = deque((swapped.get(id(e), e) for e in self._events), maxlen=MAX_EVENTS)
        self.start_in_file = False
        self.version += 1
        return swapped

    def drop_series(self) -> None:
        """Free the numeric series (an old run of a long log): counts, statistics, progress
        and events stay."""
        self._series = SeriesStore(capacity=2, history=2)

    def recent_records(self) -> list[Record]:
        """The records of the rewind window, oldest first (for equality checks in tests)."""
        return self._stats.recent_records()

    def snapshot(self) -> RunSnapshot:
        """A frozen copy of the run (unchanged series reuse their previous copies; an unchanged
        run returns its previous snapshot)."""
        cached = self._snap
        if cached is not None and cached.version == self.version and cached.superseded == self.superseded:
            return cached
        self._snap = self._take_snapshot()
        return self._snap

    def _take_snapshot(self) -> RunSnapshot:
        st = self._stats
        series: SeriesSet = self._series.snapshot()
        return RunSnapshot(
            index=self.index,
            start_offset=self.start_offset,
            start_in_file=self.start_in_file,
            start_reason=self.start_reason,
            superseded=self.superseded,
            version=self.version,
            records=MappingProxyType(dict(st.records)),
            metrics=MappingProxyType({k: replace(v) for k, v in st.metrics.items()}),
            series=series.series,
            summaries=series.summaries,
            summary_offset=series.summary_offset,
            progress=self._progress,
            run_info=MappingProxyType(dict(self._run_info)),
            events=tuple(self._events),
            rewinds=st.rewinds,
            last_record_offset=st.last_record_offset,
            last_arrival=series.last_arrival,
            arrivals=series.arrivals,
            dropped_metrics=st.dropped_metrics,
            undrawn_points=series.undrawn_points,
            pace=self._pace.snapshot(),
            checkpoints=tuple(self._checkpoints.saved),
            checkpoint_count=self._checkpoints.count,
            best_checkpoint=self._checkpoints.best,
        )
