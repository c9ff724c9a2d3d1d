"""Checkpoints: the last one saved, the best one, what a crash would cost, room on the disk."""

from __future__ import annotations

from dataclasses import dataclass

from tui_monitor.core.parse.items import Checkpoint
from tui_monitor.core.state import RunSnapshot

__all__ = ["REDO_STATES", "CheckpointDisk", "CheckpointStatus", "checkpoint_status"]

REDO_STATES = ("crashed", "ended", "superseded", "stalled")
"""Run states after which the steps since the last checkpoint are training to redo."""


@dataclass(frozen=True, slots=True)
class CheckpointDisk:
    """What this machine shows of a checkpoint directory the log names (read by
    ``core.checkpoint_files``; the analysis does no I/O).

    Attributes:
        path: the directory as found (resolved against the log's directory when relative).
        size_bytes: bytes of its files (its immediate files and one level below).
        mtime: when it was last written (seconds since the epoch).
        free_bytes: free space of its filesystem for an unprivileged writer (``statvfs``
            ``f_bavail × f_frsize``).
        best_path: ``best_model_checkpoint`` of its ``trainer_state.json``, else ``None``.
        best_metric: ``best_metric`` there, else ``None``.
    """

    path: str
    size_bytes: int
    mtime: float
    free_bytes: int
    best_path: str | None = None
    best_metric: float | None = None


@dataclass(frozen=True, slots=True)
class CheckpointStatus:
    """Where the run's checkpoints stand.

    Attributes:
        count: checkpoints saved in the run (0: none the log names; the Trainer logs the
            ``Saving model checkpoint`` line at INFO, so a quieter log may still have some).
        last: the latest saved, or ``None``.
        steps_since: steps trained after it (the run's step − its step), or ``None``.
        redo_s: seconds those steps took at the run's mean steps/s, or ``None``.
        age_s: seconds since its directory was written (when it is on this machine), or ``None``.
        best_path / best_metric: the best checkpoint (trainer_state.json), when named.
        disk: the last checkpoint's directory on this machine, or ``None``.
        low_space: its filesystem has less free space than the last checkpoint takes.
    """

    count: int = 0
    last: Checkpoint | None = None
    steps_since: int | None = None
    redo_s: float | None = None
    age_s: float | None = None
    best_path: str | None = None
    best_metric: float | None = None
    disk: CheckpointDisk | None = None
    low_space: bool = False


def checkpoint_status(
    snap: RunSnapshot,
    steps_per_s: float | None,
    disk: CheckpointDisk | None = None,
    now: float | None = None,
) -> CheckpointStatus:
    """The run's checkpoints.

    Args:
        snap: the run (its ``checkpoints``, ``best_checkpoint`` and progress).
        steps_per_s: the run's mean steps/s (for the time to redo), or ``None``.
        disk: the last checkpoint's directory as this machine sees it, or ``None``.
        now: wall-clock seconds (for the age), or ``None``.
    """
    last = snap.checkpoints[-1] if snap.checkpoints else None
    best = snap.best_checkpoint
    best_path = best.path if best is not None else (disk.best_path if disk is not None else None)
    best_metric = best.metric if best is not None else (disk.best_metric if disk is not None else None)
    if last is None:
        return CheckpointStatus(best_path=best_path, best_metric=best_metric)
    step = snap.progress.step
    since = step - last.step if step is not None and last.step is not None and step >= last.step else None
    redo = since / steps_per_s if since is not None and steps_per_s else None
    age = max(0.0, now - disk.mtime) if disk is not None and now is not None else None
    low = disk is not None and disk.size_bytes > 0 and disk.free_bytes < disk.size_bytes
    return CheckpointStatus(snap.checkpoint_count, last, since, redo, age, best_path, best_metric, disk, low)
