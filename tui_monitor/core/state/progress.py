"""The one progress fold of a run: where training is, how far it goes, how fast it moves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from tui_monitor.core.parse.items import Batch, Progress, Record, RunInfo, is_main_rank

__all__ = ["ProgressState"]

_STATED = ("banner", "json", "global_step")
"""Sources of a total that state the run's length (a bar's total may be an eval bar's)."""


@dataclass(frozen=True, slots=True)
class ProgressState:
    """Where a run is, folded from progress items, banner facts and records, in file order.

    Precedence (the one rule, used by every output):

    * ``step``: the latest position a progress indicator printed (train bar, JSON line,
      ``global_step/max_steps``); a main-writer record with a stated step moves it too when
      it is a train record or does not go back (an eval record repeats the step it ran at).
    * ``total``: the first total that states the run's length (``Total optimization steps``
      in the banner, ``max_steps`` of trainer_state.json, a JSON line's ``total_steps``,
      ``global_step/max_steps``) and each later one of those; a train bar's total only
      while no such total is known.
    * ``epoch``: the latest epoch of a main-writer record (train, eval or summary), and
      ``epoch_step`` the step of that same record: in a block-buffered log the bar runs
      ahead of the records, so epochs per step is ``epoch / epoch_step``, never ``epoch / step``.
    * ``rate`` / ``elapsed_s``: the latest the bar or JSON line printed.

    Attributes:
        step: global step (steps), or ``None``.
        total: total optimization steps, or ``None``.
        total_source: ``"banner"``, ``"json"``, ``"global_step"``, ``"bar"`` or ``""``.
        epoch: latest epoch (passes over the data), or ``None``.
        epoch_step: global step of the record that stated ``epoch`` (the next bar's step
            when the record states none), or ``None``.
        rate: steps per second as the bar prints it (``s/it`` inverted), or ``None``.
        elapsed_s: elapsed seconds as the bar prints it, or ``None``.
        last_activity: when the latest progress item was read (seconds since the epoch),
            0.0 if unknown.
        skipped: optimizer steps skipped so far as the latest DeepSpeed line says, or ``None``.
    """

    step: int | None = None
    total: int | None = None
    total_source: str = ""
    epoch: float | None = None
    epoch_step: int | None = None
    rate: float | None = None
    elapsed_s: float | None = None
    last_activity: float = 0.0
    skipped: int | None = None

    def with_item(self, item: Progress | RunInfo, arrival: float = 0.0) -> ProgressState:
        """A copy moved on by a parser `Progress` or `RunInfo` item read at ``arrival``."""
        if isinstance(item, RunInfo):
            if item.total_steps:
                return replace(self, total=item.total_steps, total_source="banner")
            return self
        total, source = self.total, self.total_source
        if item.total and (source in ("", "bar") or item.source in ("json", "global_step")):
            total, source = item.total, item.source
        return replace(
            self,
            step=item.step,
            epoch_step=item.step if self.epoch_step is None and self.epoch is not None else self.epoch_step,
            total=total,
            total_source=source,
            rate=item.rate if item.rate else self.rate,
            elapsed_s=item.elapsed_s if item.elapsed_s is not None else self.elapsed_s,
            last_activity=arrival or self.last_activity,
            skipped=item.skipped if item.skipped is not None else self.skipped,
        )

    def with_record(self, rec: Record) -> ProgressState:
        """A copy moved on by a record (its epoch, and its step when it states one)."""
        return self.with_records((rec,))

    def with_records(self, items: Sequence[Record | Batch]) -> ProgressState:
        """A copy moved on by records and batches in turn (`with_batch` for a batch): one copy
        for them all, however many (a catch-up's chunk hands over ~70)."""
        if not items:
            return self
        step, epoch, epoch_step = self.step, self.epoch, self.epoch_step
        for it in items[_last_setting(items) :]:
            if isinstance(it, Batch):
                step, epoch, epoch_step = _batch_moves(it, step, epoch, epoch_step)
                continue
            if it.rank is not None and not is_main_rank(it.rank):
                continue
            rs = it.step
            if it.epoch is not None:
                # A record whose step is not known yet takes the next bar's (the step the
                # policy gives it; the columnar path states it at once).
                epoch, epoch_step = it.epoch, rs
            if rs is not None and (step is None or rs >= step or it.kind == "train"):
                step = rs
        if step == self.step and epoch == self.epoch and epoch_step == self.epoch_step:
            return self
        return self._moved(step, epoch, epoch_step)

    def _moved(self, step: int | None, epoch: float | None, epoch_step: int | None) -> ProgressState:
        # Built directly: `dataclasses.replace` costs ~3 µs, paid per record of a catch-up.
        return ProgressState(
            step,
            self.total,
            self.total_source,
            epoch,
            epoch_step,
            self.rate,
            self.elapsed_s,
            self.last_activity,
            self.skipped,
        )

    def with_batch(self, b: Batch) -> ProgressState:
        """A copy moved on by a batch of main-writer records, as `with_record` would be by each
        of its rows in turn."""
        return self.with_records((b,))


def _last_setting(items: Sequence[Record | Batch]) -> int:
    """Where to start folding ``items``: the last one that sets the step, the epoch and its step
    whatever came before (a main-writer train record stating both; a train batch stating its
    rows' steps and epochs), else 0."""
    for i in range(len(items) - 1, -1, -1):
        it = items[i]
        if isinstance(it, Batch):
            n = it.offsets.shape[0]
            if it.shapes is None and it.kind == "train" and it.epoch is not None and n and it.steps.shape[0] == n:
                return i
        elif it.kind == "train" and it.step is not None and it.epoch is not None and is_main_rank(it.rank):
            return i
    return 0


def _batch_moves(
    b: Batch, step: int | None, epoch: float | None, epoch_step: int | None
) -> tuple[int | None, float | None, int | None]:
    """``(step, epoch, epoch_step)`` moved on by the rows of a batch (see `with_record`)."""
    n, k = b.offsets.shape[0], b.steps.shape[0]
    if b.epoch is not None:
        epoch, epoch_step = b.epoch.item(-1), b.steps.item(-1) if k == n else None
    if k:
        steps = b.steps
        if b.shapes is None and b.kind == "train":
            step = steps.item(-1)
        else:
            # A train record's step is taken; an eval record's only when it does not go back.
            train = np.array([kind == "train" for kind in b.shape_kinds])[
                b.shapes[:k] if b.shapes is not None else np.zeros(k, dtype=np.uint8)
            ]
            last_train = int(np.flatnonzero(train)[-1]) if train.any() else -1
            if last_train >= 0:
                step = int(steps[last_train])
            after = steps[last_train + 1 :]
            if len(after):
                top = int(after.max())
                step = top if step is None or top >= step else step
    return step, epoch, epoch_step
