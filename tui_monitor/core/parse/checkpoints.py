"""Checkpoint lines in console output: the Trainer's ``Saving model checkpoint to DIR``."""

from __future__ import annotations

import re

from tui_monitor.core.parse.framing import clean_line, has_any
from tui_monitor.core.parse.items import Checkpoint, ParsedItem
from tui_monitor.core.parse.values import INT

__all__ = ["SAVING", "SAVING_WORDS", "checkpoint_step", "scan_checkpoints"]

SAVING = b"Saving model checkpoint to "
"""What ``Trainer._save_checkpoint`` logs (INFO) before writing ``output_dir/checkpoint-N``."""

_SAVING_RE = re.compile(re.escape(SAVING) + rb"([^\r\n]{1,4096})")
_STEP_RE = re.compile(r"checkpoint-(" + INT.decode() + r")/*$")
SAVING_WORDS = {b"S": (SAVING,)}
"""`SAVING` for `has_any` (a ``memchr`` of a rare capital instead of a substring search of the chunk)."""


def checkpoint_step(path: str) -> int | None:
    """The global step in a Trainer checkpoint directory's name (``out/checkpoint-500`` → 500),
    else ``None`` (a ``save_model`` to a plain directory names no step)."""
    m = _STEP_RE.search(path)
    return int(m.group(1)) if m else None


def scan_checkpoints(buf: bytes, base: int, order: int, may: bool = True) -> list[tuple[int, int, ParsedItem]]:
    """``Saving model checkpoint to`` lines of ``buf`` as ``(offset, order, Checkpoint)`` tuples,
    in file order (``order`` counts up from the given one, as `CrashScanner.scan`'s do).

    Args:
        buf: complete segments; base: stream offset of ``buf[0]``.
        may: False when the caller knows that `SAVING_WORDS` is not in ``buf`` (a `framing.Survey`).
    """
    found: list[tuple[int, int, ParsedItem]] = []
    if not (may and has_any(buf, SAVING_WORDS)):
        return found
    for m in _SAVING_RE.finditer(buf):
        path = clean_line(m.group(1))
        if not path:
            continue
        at = base + m.start()
        found.append((at, order, Checkpoint(path, checkpoint_step(path), "saved", None, at)))
        order += 1
    return found
