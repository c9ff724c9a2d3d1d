"""``trainer_state.json``: the Trainer's own ``log_history``, rewritten whole at each checkpoint.

The document is read when it is complete (balanced braces, valid JSON); records already read
from an earlier version of the document are not emitted again, so a rewrite at a checkpoint
adds only the new entries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Literal

from tui_monitor.core.parse.checkpoints import checkpoint_step
from tui_monitor.core.parse.console import ParseCounts
from tui_monitor.core.parse.framing import MAX_CARRY, sniff_format
from tui_monitor.core.parse.items import Checkpoint, ParsedItem, Progress, RunInfo
from tui_monitor.core.parse.policy import Out, RecordPolicy
from tui_monitor.core.parse.values import build_record, json_int

__all__ = ["MAX_DOC", "HistoryMark", "StateRead", "TrainerStateReader", "keeps_history"]

MAX_DOC = 256 << 20
"""Largest trainer_state.json document (bytes) the parser will buffer."""

StateRead = Literal["items", "incomplete", "not_state", "too_large"]
"""What `TrainerStateReader.read` made of the bytes held so far."""

HistoryMark = tuple[int, str]
"""``(n, digest)``: how many ``log_history`` entries a document had, and a digest of them."""


def _history_digest(history: list[object]) -> str:
    # json.dumps writes NaN as NaN, so a NaN entry digests equal to itself (NaN != NaN).
    text = json.dumps(history, sort_keys=True, allow_nan=True, default=str)
    import hashlib  # here: a console log's reading never needs it (~11 M instructions of start-up)

    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _document(buf: bytes) -> tuple[StateRead, dict[str, object] | None]:
    """The trainer_state.json document held in ``buf`` (every byte since the stream started),
    if it is complete: see `TrainerStateReader.read` for the outcomes."""
    if len(buf) > MAX_DOC:
        return "too_large", None
    tail = buf.rstrip()
    close = buf.find(b"\n}")
    if (close >= 0 and buf[close + 2 :].strip()) or len(buf) - buf.rfind(b"\n") > MAX_CARRY:
        # A pretty-printed JSON document followed by more text, or a line longer than any
        # of an indented trainer_state.json: not a trainer_state.json, never buffered whole.
        return "not_state", None
    if not tail.endswith(b"}") or buf.count(b"{") != buf.count(b"}"):
        return "incomplete", None
    try:
        # json accepts the bare NaN / Infinity the Trainer writes; json_int: no integer too long to read
        doc = json.loads(buf, parse_int=json_int)
    except ValueError:
        return "incomplete", None
    if not isinstance(doc, dict) or not isinstance(doc.get("log_history"), list):
        return "not_state", None
    return "items", doc


def keeps_history(mark: HistoryMark, data: bytes) -> bool | None:
    """Whether the file content ``data`` is a trainer_state.json whose ``log_history`` starts
    with the entries that ``mark`` was taken of (`TrainerStateReader.history`).

    That is what a checkpoint writes: the same run's state, rewritten whole in place, its
    history kept and grown. A new run's state (a history that does not start with the
    earlier one), or a file that is no trainer_state.json any more, does not keep it.

    Returns:
        True or False; ``None`` while ``data`` is not a whole document yet (the file was
        truncated and is still being written).
    """
    fmt = sniff_format(data)
    if fmt is None:  # nothing, or not even a first line yet
        return None
    if fmt != "trainer_state":
        return False
    what, doc = _document(data)
    if what == "incomplete":
        return None
    if doc is None:
        return False
    history = doc["log_history"]
    assert isinstance(history, list)
    n, digest = mark
    return len(history) >= n and _history_digest(history[:n]) == digest


class TrainerStateReader:
    """Reads whole ``trainer_state.json`` documents into items.

    Args:
        policy: the record policy (echo and rewind rules apply to log_history entries too).
        counts: shared counters (skipped entries).
    """

    def __init__(self, policy: RecordPolicy, counts: ParseCounts) -> None:
        self.policy = policy
        self.counts = counts
        self._seen: set[tuple[str, int | None, float | None]] = set()
        self.history: HistoryMark | None = None
        """The mark of the last whole document read (see `keeps_history`), else ``None``."""

    def read(self, buf: bytes, base: int) -> tuple[StateRead, Out]:
        """Read the document held in ``buf`` (every byte since the stream started).

        Returns:
            ``("items", items)`` for a complete document; ``("incomplete", [])`` while it is
            still being written (hold the bytes); ``("not_state", [])`` when the bytes are not a
            trainer_state.json after all (a pretty-printed config at the top of a console log:
            read them as console output); ``("too_large", [])`` past :data:`MAX_DOC` (counted
            as skipped; drop the bytes).
        """
        what, doc = _document(buf)
        if doc is None:
            if what == "too_large":
                self.counts.skipped += 1
            return what, []
        history = doc["log_history"]
        assert isinstance(history, list)
        self.history = (len(history), _history_digest(history))
        return "items", list(self._items(doc, base))

    def _items(self, doc: dict[str, object], base: int) -> Iterator[ParsedItem]:
        max_steps = doc.get("max_steps")
        if isinstance(max_steps, int) and max_steps > 0:
            yield RunInfo(total_steps=max_steps, offset=base)
        n_epochs = doc.get("num_train_epochs")
        if isinstance(n_epochs, int) and n_epochs > 0:
            yield RunInfo(num_epochs=n_epochs, offset=base)
        out: Out = []
        history = doc["log_history"]
        assert isinstance(history, list)
        for entry in history:
            if not isinstance(entry, dict):
                self.counts.skipped += 1
                continue
            flat = {k: v for k, v in entry.items() if isinstance(v, (int, float, str, type(None)))}
            rec, _ = build_record(flat, offset=base)
            if rec is None:
                continue
            key = (rec.kind, rec.step, rec.epoch)
            if key in self._seen:
                continue
            self._seen.add(key)
            self.policy.emit(rec, out)
        yield from out  # type: ignore[misc]
        gs = doc.get("global_step")
        if isinstance(gs, int):
            total = max_steps if isinstance(max_steps, int) and max_steps > 0 else None
            yield Progress(gs, total, offset=base, source="json")
        best = doc.get("best_model_checkpoint")
        if isinstance(best, str) and best:
            metric = doc.get("best_metric")
            value = float(metric) if isinstance(metric, (int, float)) else None
            yield Checkpoint(best[:500], checkpoint_step(best), "best", value, base)
