"""Stage 2, parse: bytes of a training log in, typed items out (records, progress, run facts,
events, rewinds), in file order.

`LogParser` is the facade (:mod:`~tui_monitor.core.parse.parser`); behind it, one module per
concern: framing and format sniffing (``framing``), metric dicts and their values (``values``),
console output (``console``), dicts wrapped or pretty-printed over lines (``wrapped``), notebook
tables (``tables``), columnar runs of dict lines of known shapes (``columnar``), tqdm and notebook bars,
DeepSpeed step lines and the banner (``bars``), steps from the bars' log events (``steps``),
crash evidence (``crash``), JSON lines (``jsonl``), ``trainer_state.json`` (``trainer_state``)
and the one per-record policy (``policy``, the facade of its rules: steps paired with records in
``pairing``; echo and copies of a second logger or process in ``copies``; new runs and rewinds in
``boundaries``). The items are in ``items``.
"""

from __future__ import annotations

from tui_monitor.core.parse.columnar import COLUMNAR_MIN
from tui_monitor.core.parse.framing import MAX_CARRY, Format, clean_line, sniff_format
from tui_monitor.core.parse.items import (
    MAIN_RANKS,
    Batch,
    Checkpoint,
    Event,
    EventKind,
    ParsedItem,
    Progress,
    Record,
    RecordKind,
    Rewind,
    RunInfo,
    RunMarker,
    RunStart,
    RunStartReason,
    is_main_rank,
    rank_suffix,
    series_key,
)
from tui_monitor.core.parse.parser import LogParser
from tui_monitor.core.parse.policy import PolicyState
from tui_monitor.core.parse.trainer_state import HistoryMark, keeps_history

__all__ = [
    "COLUMNAR_MIN",
    "MAIN_RANKS",
    "MAX_CARRY",
    "Batch",
    "Checkpoint",
    "Event",
    "EventKind",
    "Format",
    "HistoryMark",
    "LogParser",
    "ParsedItem",
    "PolicyState",
    "Progress",
    "Record",
    "RecordKind",
    "Rewind",
    "RunInfo",
    "RunMarker",
    "RunStart",
    "RunStartReason",
    "clean_line",
    "is_main_rank",
    "keeps_history",
    "rank_suffix",
    "series_key",
    "sniff_format",
]
