"""The last checkpoint's directory on this machine: its size, age, free space, best checkpoint.

The log names a checkpoint relative to the training process's working directory, which the log
does not state; the log's own directory is the usual one (``python train.py > train.log`` run
where ``output_dir`` is), so a relative path is looked for there. Only reads (``stat``,
``statvfs``, one small JSON file); looked at again at most every :data:`LOOK_EVERY` seconds.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from tui_monitor.core.analysis.checkpoints import CheckpointDisk
from tui_monitor.core.parse.values import json_int

__all__ = ["LOOK_EVERY", "CheckpointLook", "look_at"]

LOOK_EVERY = 30.0
"""Seconds between looks at the same checkpoint directory (free space changes slowly)."""

MAX_FILES = 10_000
"""Files counted for a directory's size (a checkpoint has tens)."""


def look_at(log_path: str | Path, ckpt_path: str) -> CheckpointDisk | None:
    """The checkpoint directory ``ckpt_path`` (as the log names it) on this machine, or ``None``
    when it is not here (another node, deleted by ``save_total_limit``, unreadable)."""
    p = Path(ckpt_path)
    if not p.is_absolute():
        p = Path(log_path).resolve().parent / p
    try:
        st = p.stat()
        if not p.is_dir():
            return None
        vfs = os.statvfs(p)
        size, seen = 0, 0
        for entry in os.scandir(p):
            for e in [entry] if not entry.is_dir(follow_symlinks=False) else list(os.scandir(entry.path)):
                seen += 1
                if seen > MAX_FILES:
                    break
                if e.is_file(follow_symlinks=False):
                    size += e.stat(follow_symlinks=False).st_size
    except OSError:
        return None
    best_path, best_metric = None, None
    try:
        with open(p / "trainer_state.json", "rb") as f:
            doc = json.loads(f.read(1 << 24), parse_int=json_int)
        if isinstance(doc, dict):
            bp, bm = doc.get("best_model_checkpoint"), doc.get("best_metric")
            best_path = bp if isinstance(bp, str) and bp else None
            best_metric = float(bm) if isinstance(bm, (int, float)) else None
    except (OSError, ValueError):
        pass
    return CheckpointDisk(str(p), size, st.st_mtime, vfs.f_bavail * vfs.f_frsize, best_path, best_metric)


class CheckpointLook:
    """`look_at` with a memory: the same checkpoint is looked at again only after
    :data:`LOOK_EVERY` seconds (the app asks at every refresh).

    Args:
        log_path: the log file (relative checkpoint paths are looked for beside it).
        clock: monotonic seconds.
    """

    def __init__(self, log_path: str | Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.log_path = log_path
        self._clock = clock
        self._key: str | None = None
        self._at = 0.0
        self._disk: CheckpointDisk | None = None

    def __call__(self, ckpt_path: str | None) -> CheckpointDisk | None:
        """The directory of ``ckpt_path`` (``None``: no checkpoint yet)."""
        if ckpt_path is None:
            return None
        t = self._clock()
        if ckpt_path != self._key or t - self._at >= LOOK_EVERY:
            self._key, self._at = ckpt_path, t
            self._disk = look_at(self.log_path, ckpt_path)
        return self._disk
