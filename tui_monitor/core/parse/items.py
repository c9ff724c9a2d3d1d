"""The items the parser produces: metric records, progress, run facts, events, rewinds.

Everything downstream (state, analysis, report, app) consumes these and nothing else, so
they are small, typed and free of any parsing detail. The one rule for naming a writer's
series (:func:`series_key`) lives here too, beside the :class:`Record` it applies to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

RecordKind = Literal["train", "eval", "summary"]
"""``train``: a logging-step record (``loss``, ``grad_norm``, ``learning_rate``, ...);
``eval``: any record with an ``eval_*`` key; ``summary``: the train-end record with
``train_runtime`` (see ``Trainer.train`` in transformers/trainer.py)."""


@dataclass(slots=True)
class Record:
    """One metric record, as the Trainer logged it (one entry of ``state.log_history``).

    Attributes:
        kind: ``"train"``, ``"eval"`` or ``"summary"``.
        metrics: numeric values by the log's own key (``loss``, ``learning_rate``,
            ``rewards/margins``...), as Python floats; non-finite values are kept as
            ``nan``/``inf``. ``epoch`` and ``step`` are *not* in here. The LLaMA-Factory
            alias ``lr`` is stored as ``learning_rate``.
        step: the global (optimizer) step when the log states it (``step`` in
            trainer_state.json or a logging handler's dict, ``current_steps`` in JSON lines,
            ``global_step/max_steps``); ``None`` when the log does not say. Never guessed.
        epoch: the ``epoch`` value (float, passes over the data), or ``None``.
        offset: byte offset of the record's first byte in the stream fed to the parser.
        rank: the writer's rank label when a prefix names it (``"0"`` for ``0: {...}``,
            ``[rank1]:``, ``[Rank:1]``), else ``None``.
        text: non-numeric string values (``elapsed_time: '3m 53s'``), by key.
        arrival: wall-clock time (seconds since the epoch) when the record was read;
            set by the monitor, 0.0 when unknown.
        logger: the logging handler's name when the line's prefix names one before the
            dict (``llamafactory.train.callbacks``), else ``None``: evidence that the
            record may be a second logger's copy of the Trainer's dict.
    """

    kind: RecordKind
    metrics: dict[str, float]
    step: int | None = None
    epoch: float | None = None
    offset: int = 0
    rank: str | None = None
    text: dict[str, str] = field(default_factory=dict)
    arrival: float = 0.0
    logger: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """Where training is, from a progress indicator rather than a metric record.

    Sources: the Trainer's train tqdm bar (``50/300 [00:09<00:44,  5.68it/s]``), the
    ``global_step/max_steps: '50/60'`` field some frameworks print, or JSON lines
    (``current_steps``/``total_steps``).

    Attributes:
        step: global step shown (int, steps).
        total: total optimization steps, or ``None``.
        elapsed_s: elapsed time in seconds as the bar prints it, or ``None``.
        rate: steps per second (a bar's ``s/it`` is inverted), or ``None``.
        offset: byte offset of the segment that carried it.
        source: ``"bar"`` (a tqdm bar, or a notebook bar drawn without ``|``),
            ``"global_step"``, ``"json"`` or ``"deepspeed"`` (``[Rank 0] step=…, skipped=…``).
        skipped: optimizer steps skipped so far (fp16 overflow), when the line says
            (DeepSpeed's ``skipped=``), else ``None``.
    """

    step: int
    total: int | None
    elapsed_s: float | None = None
    rate: float | None = None
    offset: int = 0
    source: str = "bar"
    skipped: int | None = None


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Facts from the Trainer's ``***** Running training *****`` banner.

    One item per banner line read; only the field that line states is set.

    Attributes:
        total_steps: ``Total optimization steps = 300``.
        num_epochs: ``Num Epochs = 3``.
        grad_accum: ``Gradient Accumulation steps = 4``.
        num_examples: ``Num examples = 100,000``.
        batch_size: ``Total train batch size (w. parallel, distributed & accumulation) = 1,024``.
        steps_per_epoch: ``Num update steps per epoch = 100`` (transformers 5.x).
        offset: byte offset of the line.
    """

    total_steps: int | None = None
    num_epochs: int | None = None
    grad_accum: int | None = None
    num_examples: int | None = None
    batch_size: int | None = None
    steps_per_epoch: int | None = None
    offset: int = 0


EventKind = Literal[
    "finished",
    "traceback",
    "oom",
    "killed",
    "nccl_timeout",
    "error",
    "truncated",
    "rotated",
    "deleted",
    "recreated",
]


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to the run or to the file, with the line that says so.

    Attributes:
        kind: ``finished`` (the Trainer's ``Training completed.`` line: train() returned),
            ``traceback`` (``Traceback (most recent call last):``), ``oom`` (CUDA out of
            memory / ``OutOfMemoryError``), ``killed`` (a ``Killed`` line from the OOM
            killer or the shell), ``nccl_timeout``, ``error`` (the exception line that
            closes a traceback, e.g. ``KeyboardInterrupt``); from the tailer:
            ``truncated``, ``rotated``, ``deleted``, ``recreated``.
        line: the log line (decoded with replacement, control characters removed, at most
            500 characters). It is data: never render it as markup.
        offset: byte offset of the line in its stream; 0 for a reset (``truncated``,
            ``rotated``, ``recreated``: the new file from its first byte), -1 for the other
            tailer events.
        arrival: wall-clock seconds when read; set by the monitor.
        time: the log's own timestamp at the start of the line (seconds since the epoch,
            :func:`~tui_monitor.core.parse.stamps.line_time`), or ``None`` when it has none.
        in_file: the line is still at ``offset`` in the file; False once the file was
            truncated or replaced after it was read (where the raw log must not open).
    """

    kind: EventKind
    line: str
    offset: int = -1
    arrival: float = 0.0
    time: float | None = None
    in_file: bool = True


@dataclass(frozen=True, slots=True)
class Rewind:
    """A resumed run starts printing again from an earlier point in the same log.

    Evidence: the epoch (or step) of a train record went backwards for the same rank,
    as when a run is resumed from ``checkpoint-N`` and appended with ``>>``. The Trainer
    restores ``log_history`` up to the checkpoint and logs the later steps again, so
    every earlier record of this rank at or after this point is superseded.

    Attributes:
        epoch: records of ``rank`` with ``epoch >= epoch`` (train, eval) are superseded.
        step: when known, records with ``step >= step`` are superseded (preferred).
        rank: the rank the rewind applies to (``None`` = unlabelled writer).
        offset: byte offset of the first re-done record.
    """

    epoch: float | None
    step: int | None
    rank: str | None = None
    offset: int = 0


RunStartReason = Literal["banner", "after_summary", "restart", "new_file"]
"""Why a new run starts (DESIGN.md, "Runs"): the Trainer's training banner after records were
seen; a train record after the run's summary record; step or epoch falling back to the start
without a resume; the file was truncated or replaced and the first record does not continue."""


@dataclass(frozen=True, slots=True)
class RunStart:
    """A new run starts here: everything after this item belongs to it.

    Attributes:
        reason: see :data:`RunStartReason`.
        offset: byte offset of the evidence (the banner line or the new run's first record).
    """

    reason: RunStartReason
    offset: int = 0


@dataclass(frozen=True, slots=True)
class RunMarker:
    """A line that tells where a run stands: the Trainer's ``***** Running training *****``
    banner (``kind="start"``) or a resume message (``kind="resume"``: "Continuing training from
    checkpoint", "Resuming training from checkpoint"). Read by the record policy, which decides
    on it (a start after records is a new run; a resume makes the next rewind a resume).

    Attributes:
        kind: ``"start"`` or ``"resume"``.
        offset: byte offset of the line.
        rank: the writer's rank label when a prefix names it, else ``None``.
    """

    kind: Literal["start", "resume"]
    offset: int = 0
    rank: str | None = None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint the log names.

    ``kind="saved"``: the Trainer's ``Saving model checkpoint to out/checkpoint-500`` line
    (``Trainer._save_checkpoint``, logged at INFO). ``kind="best"``: ``best_model_checkpoint``
    / ``best_metric`` of a trainer_state.json (set when ``load_best_model_at_end`` or
    ``metric_for_best_model`` is used).

    Attributes:
        path: the checkpoint directory as the log writes it (relative to the training
            process's working directory, unknown to us). It is data: never markup.
        step: the global step from the directory's ``checkpoint-N`` name, else ``None`` (the
            state stamps the run's step then).
        kind: ``"saved"`` or ``"best"``.
        metric: ``best_metric`` for a ``"best"`` checkpoint, else ``None``.
        offset: byte offset of the line (of the document for ``"best"``).
    """

    path: str
    step: int | None
    kind: Literal["saved", "best"] = "saved"
    metric: float | None = None
    offset: int = 0


ParsedItem = Union[Record, Progress, RunInfo, Event, Rewind, RunStart, Checkpoint]
"""What ``LogParser.feed`` returns, in file order."""

MAIN_RANKS: tuple[str | None, ...] = (None, "0")
"""Writers whose records form the main series: an unlabelled writer and rank 0."""


def is_main_rank(rank: str | None) -> bool:
    """Whether records of ``rank`` belong to the main series (see :data:`MAIN_RANKS`)."""
    return rank is None or rank == "0"


def series_key(metric: str, rank: str | None) -> str:
    """Name of a metric's series: ``loss`` for the main writer, ``loss@rank1`` for rank 1.

    The one place the rank suffix is spelt: counts, statistics, series and outputs all use it.
    """
    return metric if rank is None or rank == "0" else f"{metric}@rank{rank}"


def rank_suffix(rank: str | None) -> str:
    """The suffix :func:`series_key` appends for ``rank`` (``""`` for the main writer)."""
    return "" if rank is None or rank == "0" else f"@rank{rank}"


class Batch:
    """Consecutive records of the main writer (rank ``None``, no stated step of their own), train
    or eval, of one or more key sequences, as columns (the catch-up path).

    Produced only by ``LogParser.feed_columnar`` for runs of flat numeric dict lines that need
    no per-record decision (no rewind, no echo, no held step); stands for exactly the `Record`
    items `records` returns, in order. A log's train records switch key sequence now and then
    (``num_input_tokens_seen`` in one record of twenty) and its eval records come between them:
    each row has a *shape* (its key sequence), and a row's record holds the metrics of its
    shape only, in its shape's order.

    Attributes:
        kind: the kind of every row when all rows have one shape; else the first row's kind
            (``shape_kinds[shapes[i]]`` is row ``i``'s).
        names: metric names of all shapes (record ``metrics`` keys), in order of first
            appearance (row by row, each dict in its order).
        values: ``(n, len(names)) float64`` metric values; NaN where a row's shape has no such
            metric (see `present`).
        epoch: ``(n,) float64`` epochs, or ``None`` when the records have no epoch.
        steps: ``(k,) int64`` steps of the first ``k <= n`` records (the others have none).
        offsets: ``(n,) int64`` byte offset of each record.
        shapes: ``(n,) uint8`` each row's shape (an index into `shape_cols`), or ``None`` when
            every row has the one shape ``names`` in that order, of kind `kind`.
        shape_cols: per shape, the columns of ``names`` its records hold, in its dict's order.
        shape_kinds: per shape, the kind of its records (``train`` or ``eval``).
        arrival: wall-clock seconds when read (set by the monitor).
    """

    __slots__ = (
        "kind",
        "names",
        "values",
        "epoch",
        "steps",
        "offsets",
        "arrival",
        "shapes",
        "shape_cols",
        "shape_kinds",
        "_rows",
    )

    def __init__(
        self,
        kind: RecordKind,
        names: list[str],
        values: Any,
        epoch: Any,
        steps: Any,
        offsets: Any,
        arrival: float = 0.0,
        *,
        shapes: Any = None,
        shape_cols: list[list[int]] | None = None,
        shape_kinds: list[RecordKind] | None = None,
    ) -> None:
        self.kind = kind
        self.names = names
        self.values = values
        self.epoch = epoch
        self.steps = steps
        self.offsets = offsets
        self.arrival = arrival
        self.shapes = shapes
        self.shape_cols = shape_cols if shape_cols is not None else _one_shape(len(names))
        self.shape_kinds = shape_kinds if shape_kinds is not None else [kind]
        self._rows: dict[tuple[int, ...], Any] | None = None  # `rows_of` by the shapes holding a metric

    def __len__(self) -> int:
        n: int = self.offsets.shape[0]
        return n

    def rows_of(self, j: int) -> Any:
        """The rows whose records hold metric ``names[j]``: ``(m,) int64`` row indices in order,
        or ``None`` when every row does."""
        if self.shapes is None:
            return None
        holders = tuple(p for p, cols in enumerate(self.shape_cols) if j in cols)
        if self._rows is None:
            self._rows = {}
        rows = self._rows.get(holders, False)
        if rows is False:
            import numpy as np  # items stays importable without numpy's cost until a batch exists

            mask = np.zeros(len(self.shape_cols), dtype=bool)
            mask[list(holders)] = True
            held = mask[self.shapes]
            rows = None if held.all() else np.flatnonzero(held)
            self._rows[holders] = rows
        return rows

    @property
    def has_train(self) -> bool:
        """Whether a row is a train record."""
        if self.shapes is None or len(set(self.shape_kinds)) == 1:
            return self.shape_kinds[0] == "train"
        import numpy as np

        return any(self.shape_kinds[int(p)] == "train" for p in np.unique(self.shapes).tolist())

    def part(self, start: int, stop: int, steps: Any = None) -> Batch:
        """Rows ``start:stop`` as a batch whose first ``len(steps)`` rows have ``steps``
        (``None``: the steps of these rows here). Rows all of one shape are a batch of that
        shape alone (``shapes`` None: a burst's train rows after the eval row that began its
        run cost the state what a run of one shape does); its values are a view of these
        (columns ``start:stop`` of a slice where the shape's columns are consecutive)."""
        if steps is None:
            steps = self.steps[start:stop]
        epoch = self.epoch[start:stop] if self.epoch is not None else None
        if self.shapes is None:
            values = self.values[start:stop]
            return Batch(self.kind, self.names, values, epoch, steps, self.offsets[start:stop], self.arrival)
        shapes = self.shapes[start:stop]
        b = shapes.tobytes()  # (one shape: every byte the first; bytes' count runs in C)
        if b and b.count(b[:1]) == len(b):
            p = b[0]
            cols = self.shape_cols[p]
            c0 = cols[0] if cols else 0
            ix = slice(c0, c0 + len(cols)) if cols == list(range(c0, c0 + len(cols))) else cols
            return Batch(
                self.shape_kinds[p],
                [self.names[c] for c in cols],
                self.values[start:stop, ix],
                epoch,
                steps,
                self.offsets[start:stop],
                self.arrival,
            )
        return Batch(
            self.shape_kinds[b[0]] if b else self.kind,
            self.names,
            self.values[start:stop],
            epoch,
            steps,
            self.offsets[start:stop],
            self.arrival,
            shapes=shapes,
            shape_cols=self.shape_cols,
            shape_kinds=self.shape_kinds,
        )

    def record(self, i: int) -> Record:
        """Row ``i`` as a `Record` (Python floats and ints, like the record path's)."""
        step = self.steps.item(i) if i < self.steps.shape[0] else None
        epoch = self.epoch.item(i) if self.epoch is not None else None
        row = self.values[i].tolist()
        offset = self.offsets.item(i)
        if self.shapes is None:
            return Record(self.kind, dict(zip(self.names, row)), step, epoch, offset, None, {}, self.arrival)
        p = self.shapes.item(i)
        names = self.names
        metrics = {names[c]: row[c] for c in self.shape_cols[p]}
        return Record(self.shape_kinds[p], metrics, step, epoch, offset, None, {}, self.arrival)

    def records(self) -> list[Record]:
        """All rows as `Record` items, in order."""
        n = len(self)
        k = self.steps.shape[0]
        steps = self.steps.tolist() + [None] * (n - k)
        epochs = self.epoch.tolist() if self.epoch is not None else [None] * n
        names, kind, arrival = self.names, self.kind, self.arrival
        if self.shapes is None:
            return [
                Record(kind, dict(zip(names, row)), st, ep, off, None, {}, arrival)
                for row, st, ep, off in zip(self.values.tolist(), steps, epochs, self.offsets.tolist())
            ]
        per_shape = [([names[c] for c in cols], cols) for cols in self.shape_cols]
        kinds = self.shape_kinds
        out = []
        for row, p, st, ep, off in zip(
            self.values.tolist(), self.shapes.tolist(), steps, epochs, self.offsets.tolist()
        ):
            keys, cols = per_shape[p]
            out.append(Record(kinds[p], dict(zip(keys, [row[c] for c in cols])), st, ep, off, None, {}, arrival))
        return out


_ONE_SHAPE: dict[int, list[list[int]]] = {}


def _one_shape(n: int) -> list[list[int]]:
    """``shape_cols`` of a batch of one shape of ``n`` metrics (``[[0, ..., n - 1]]``), one list
    per width (read only, as every batch's ``shape_cols``)."""
    got = _ONE_SHAPE.get(n)
    if got is None:
        got = [list(range(n))]
        if n < 1024:
            _ONE_SHAPE[n] = got
    return got


Out = list[ParsedItem | Batch]
"""Where the parse stage's readers and the record policy append what goes out, in order."""
