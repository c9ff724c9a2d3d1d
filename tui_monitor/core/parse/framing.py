"""Framing of console bytes: segments end at ``\\r`` or ``\\n``; format sniffing; display lines.

A partial last segment is carried to the next feed (at most :data:`MAX_CARRY` bytes: tqdm can
write ``\\r`` updates for minutes with no ``\\n``). :func:`clean_line` turns a log line into
text for display; the result is still *data* (callers never render it as markup).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

from tui_monitor.core.parse import accel

__all__ = [
    "ANSI_RE",
    "KEEP_TAIL",
    "LINE_LOOKBACK",
    "MAX_CARRY",
    "Format",
    "Survey",
    "Surveyor",
    "WordGroup",
    "clean_line",
    "has_any",
    "segment_start",
    "sniff_format",
]

MAX_CARRY = 1 << 20
"""Largest partial segment (bytes) held between feeds. tqdm can write ``\\r`` updates
for minutes with no ``\\n``; past this only the last :data:`KEEP_TAIL` bytes are kept."""
KEEP_TAIL = 64 << 10
"""Bytes of an over-long partial segment kept (a metric dict is far shorter)."""

ANSI_RE = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CTRL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_line(raw: bytes, limit: int = 500) -> str:
    """Decode a log line for display: UTF-8 with replacement, ANSI escapes and control
    characters removed, at most ``limit`` characters. The result is still *data*."""
    text = ANSI_RE.sub(b"", raw).decode("utf-8", "replace")
    text = _CTRL_RE.sub("", text).strip()
    return text[:limit]


LINE_LOOKBACK = 4096
"""Bytes searched backwards for the start of a segment (a prefix longer than this is
not a logging / rank prefix)."""


def segment_start(buf: bytes, pos: int) -> int:
    """Index just after the last ``\\r``/``\\n`` before ``pos`` (bounded look-back)."""
    lo = max(0, pos - LINE_LOOKBACK)
    start = max(buf.rfind(b"\n", lo, pos), buf.rfind(b"\r", lo, pos)) + 1
    return start if start > 0 else lo


def has_any(buf: bytes, words: Mapping[bytes, tuple[bytes, ...]]) -> bool:
    """Does ``buf`` contain one of ``words`` (keyed by their first byte)?

    A prefilter for regexes that cannot match without one of these literals. Each absent
    first letter costs a ``memchr`` (~0.01 ms per MiB): ``word in buf`` per word scanned
    the chunk ~0.5 ms per MiB each, and one alternation regex was slower still. Capital
    letters are rare in tqdm bars and metric dicts, so the letters' occurrences are few."""
    find, startswith = buf.find, buf.startswith
    for letter, group in words.items():
        i = find(letter)
        n = 0
        while i >= 0:
            if startswith(group, i):
                return True
            n += 1
            if n == 32:  # a common letter here: one substring search per word from here
                if any(find(w, i) >= 0 for w in group):
                    return True
                break
            i = find(letter, i + 1)
    return False


WordGroup = Mapping[bytes, tuple[bytes, ...]]
"""Literals keyed by their first byte, as `has_any` takes them (each word starts with its key)."""


class Survey:
    """Which of a `Surveyor`'s word groups occur in one buffer, and how many ``{`` it holds.

    With the C extension (`accel`) one pass over the buffer answers every question at once
    (``_scan.survey``); in pure Python each group is looked for with `has_any` when first asked
    (a group not asked costs nothing) and `braces` is ``-1`` (the caller counts them its own way).
    Either way `has` answers exactly ``has_any(buf, groups[i])``.

    Attributes:
        braces: ``buf.count(b"{")`` when the compiled pass counted them, else ``-1``.
    """

    __slots__ = ("_asked", "_buf", "_found", "_groups", "braces")

    def __init__(self, buf: bytes, groups: tuple[WordGroup, ...], found: int | None, braces: int) -> None:
        self._buf = buf
        self._groups = groups
        self._found = found or 0
        self._asked = -1 if found is not None else 0  # a bit per group already answered
        self.braces = braces

    def has(self, i: int) -> bool:
        """Whether a word of group ``i`` (an index into the surveyor's groups) is in the buffer."""
        bit = 1 << i
        if not self._asked & bit:
            self._asked |= bit
            if has_any(self._buf, self._groups[i]):
                self._found |= bit
        return bool(self._found & bit)


class Surveyor:
    """The prefilters of a chunk in one pass: which of ``groups`` occur in it (`Survey`).

    A scan whose regex cannot match without one of its literals is skipped on a chunk that holds
    none: on a chunk of tqdm bars and metric dicts every group is absent, and one compiled pass
    (~0.07 ms per MiB) answered what six `has_any` calls (about 15 ``memchr`` over the chunk,
    ~0.25 ms per MiB) and a numpy count of its ``{`` (~0.1 ms) did. The answer for a buffer
    holds for any part of it too when it is "absent".

    Args:
        groups: at most 32 word groups (each keyed by first byte; at most 64 words in all).

    Raises:
        ValueError: more groups or words than that, or an empty word or key, or a word that
            does not start with its key.
    """

    def __init__(self, groups: Sequence[WordGroup]) -> None:
        self.groups = tuple(groups)
        words = [w for g in self.groups for ws in g.values() for w in ws]
        if len(self.groups) > 32 or len(words) > 64:
            raise ValueError("Surveyor: at most 32 groups and 64 words")
        for g in self.groups:
            for key, ws in g.items():
                if len(key) != 1 or any(not w.startswith(key) for w in ws):
                    raise ValueError(f"Surveyor: every word of {key!r} starts with it")
        self._table = tuple(tuple(w for ws in g.values() for w in ws) for g in self.groups)

    def __call__(self, buf: bytes) -> Survey:
        """The survey of ``buf``."""
        scan = accel.scan
        if scan is not None:
            found, braces = scan.survey(buf, self._table)
            return Survey(buf, self.groups, found, braces)
        return Survey(buf, self.groups, None, -1)


Format = Literal["console", "jsonl", "trainer_state"]
"""The three input formats (sniffed from the content, never from the file name)."""


def sniff_format(head: bytes, final: bool = False) -> Format | None:
    """The format of a stream from its first bytes.

    Args:
        head: the stream's first bytes (any amount; 64 KiB is plenty).
        final: no more bytes will come (end of file): decide with what there is.

    Returns:
        ``"trainer_state"`` for a pretty-printed JSON document (a lone ``{`` first line),
        ``"jsonl"`` for a first line that opens a JSON object (``{"``), else ``"console"``;
        ``None`` while the first line is still incomplete (and not ``final``).
    """
    head = head.lstrip()
    if not head:
        return "console" if final else None
    if head[:1] != b"{":
        return "console"
    nl = head.find(b"\n")
    if nl < 0 and not final and len(head) < 4096:
        return None
    first = head[: nl if nl >= 0 else len(head)].strip()
    if first == b"{":
        return "trainer_state"
    if first.startswith(b'{"'):
        return "jsonl"
    return "console"


_RANK_PREFIX_RES = (
    (re.compile(rb"^\s*(\d{1,4}): "), b""),  # srun -l
    (re.compile(rb"\[rank(\d+)\]:", re.I), b"]:"),  # torchrun --tee / [rank0]:
    (re.compile(rb"\[Rank:(\d+)\]"), b"Rank:"),  # FATE / Rich handler
)
"""The rank prefixes, tried in order, each with a literal its every match holds: a prefix
without it is not searched (a tqdm bar before a glued dict, ``… 5.60it/s]{…``, holds neither:
two regex searches of the bar per burst of a tqdm log were ~1.5 % of its parse)."""


def rank_of_prefix(prefix: bytes) -> str | None:
    """The writer's rank a line's prefix names (``0: `` from ``srun -l``, ``[rank1]:`` from
    ``torchrun --tee``, ``[Rank:1]`` from FATE's Rich handler), else ``None``."""
    for rx, literal in _RANK_PREFIX_RES:
        if literal in prefix:
            m = rx.search(prefix)
            if m:
                return m.group(1).decode()
    return None
