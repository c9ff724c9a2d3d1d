"""A run's pace and checkpoints as the log shows them: the train bar's ``(step, elapsed)`` points
and the checkpoints saved, each bounded whatever the run's length."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from tui_monitor.core.parse.items import Checkpoint

__all__ = ["MAX_CHECKPOINTS", "MAX_PACE", "CheckpointLog", "PaceLog"]

MAX_PACE = 2048
"""``(step, elapsed)`` points kept; past this every other one is dropped (the stride doubles),
so a run of any length keeps its whole span at a coarser grain."""

MAX_CHECKPOINTS = 64
"""Checkpoints kept per run (the latest ones; `CheckpointLog.count` counts them all)."""


class PaceLog:
    """The train bar's position over its own clock: one ``(step, elapsed_s)`` point per new step.

    The bar's elapsed time (tqdm's ``[00:09<00:44, ...]``, whole seconds) is the run's clock
    while the log has no timestamps: steps/s over an interval is Δstep / Δelapsed.
    """

    def __init__(self, capacity: int = MAX_PACE) -> None:
        self._buf = np.zeros((capacity, 2))
        self._n = 0
        self._stride = 1
        self._skip = 0
        self._last_step = -1

    def add(self, step: int, elapsed_s: float) -> None:
        """A bar drawn at ``step`` after ``elapsed_s`` seconds (kept once per step; a step
        that goes back, a new bar, starts the log again)."""
        if step == self._last_step:
            return
        if step < self._last_step:
            self._n, self._stride, self._skip = 0, 1, 0
        self._last_step = step
        self._skip += 1
        if self._skip < self._stride:
            return
        self._skip = 0
        if self._n == self._buf.shape[0]:
            half = self._buf[::2].copy()
            self._n = half.shape[0]
            self._buf[: self._n] = half
            self._stride *= 2
        self._buf[self._n] = (step, elapsed_s)
        self._n += 1

    def snapshot(self) -> np.ndarray:
        """``(k, 2) float64`` rows ``[step, elapsed_s]``, oldest first (a copy)."""
        out: np.ndarray = self._buf[: self._n].copy()
        return out


@dataclass
class CheckpointLog:
    """The checkpoints a run's log names.

    Attributes:
        saved: the latest :data:`MAX_CHECKPOINTS` saved ones, oldest first.
        count: every checkpoint saved in the run.
        best: the best one a trainer_state.json names, else ``None``.
    """

    saved: deque[Checkpoint]
    count: int = 0
    best: Checkpoint | None = None

    @classmethod
    def empty(cls) -> CheckpointLog:
        """No checkpoint yet."""
        return cls(deque(maxlen=MAX_CHECKPOINTS))

    def forget_offsets(self) -> None:
        """The file was truncated or replaced: the checkpoint lines are no longer at their
        offsets (offset -1)."""
        self.saved = deque((replace(ck, offset=-1) for ck in self.saved), maxlen=MAX_CHECKPOINTS)
        if self.best is not None:
            self.best = replace(self.best, offset=-1)

    def add(self, ck: Checkpoint, step_now: int | None) -> None:
        """Account ``ck``; a checkpoint directory without ``checkpoint-N`` takes ``step_now``."""
        if ck.kind == "best":
            self.best = ck
            return
        if ck.step is None and step_now is not None:
            ck = Checkpoint(ck.path, step_now, ck.kind, ck.metric, ck.offset)
        self.saved.append(ck)
        self.count += 1
