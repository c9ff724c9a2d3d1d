"""Columnar catch-up: runs of same-shape dict lines parsed as numpy columns.

A Trainer log printed without bars is mostly lines of one key sequence (``{'loss': ...,
'grad_norm': ..., 'learning_rate': ..., 'epoch': ...}``). For each key sequence a
:class:`ShapePlan` is worked out once: what :func:`~tui_monitor.core.parse.values.build_record`
would do with such a dict (kind, metric names, epoch position, the ``lr`` alias) and one regex
that validates a whole dict and captures its values. :func:`read_run` then turns a run of such
lines into a :class:`ColumnRun` (an ``(n, k)`` float64 array) with one regex match, one split
and one ``float`` map.
"""

from __future__ import annotations

import re

import numpy as np

from tui_monitor.core.parse import accel
from tui_monitor.core.parse.items import Record, RecordKind
from tui_monitor.core.parse.values import (
    FAST_QNUM,
    NON_METRIC_NUMERIC,
    NUM,
    SPECIAL_KEYS,
    has_metric,
    is_metric_dict,
    record_kind,
)

__all__ = ["CLEAR_PREFIX", "COLUMNAR_MIN", "MIN_RUN", "ColumnRun", "ShapePlan", "plan_for", "read_run"]

COLUMNAR_MIN = 256 << 10
"""Chunk size (bytes) from which `Pipeline` feeds with `LogParser.feed_columnar` (catch-up)."""
MIN_RUN = 4
"""Consecutive dict lines of one shape from which they are parsed as columns."""
CLEAR_PREFIX = rb"(?:\r(?:[ \r]*\r)?)?"
"""What may come before a run's dict on its line: ``tqdm.write`` clears the open bars first
(``\\r`` + spaces + ``\\r``, once per bar position), so its lines read ``\\r<spaces>\\r{...}``.
The dict still starts its segment (right after a ``\\r``), so the record path reads it with no
rank or logger prefix, as a run does; the clears' step markers split a run (see the parser)."""


class ShapePlan:
    """What `build_record` does with a flat all-numeric dict of a given key sequence,
    worked out once per key sequence (a log has a handful).

    Attributes:
        keys: the dict's keys as bytes, in order.
        shape: regex whose ``fullmatch`` validates a whole dict of this key sequence and
            captures each value (quoted values in even groups, bare ones in odd groups).
        names: the record's metric names (``lr`` stored as ``learning_rate``).
        idx: position in ``keys`` of each of ``names``.
        epoch_idx: position of ``epoch`` in ``keys``, or -1.
        kind: the record kind of such a dict (``train``, ``eval``, ``summary``).
        record: whether such a dict makes a record (it has metrics).
        is_metric: whether its keys mark a metric record (see ``is_metric_dict``).
        repl: key texts to blank out of a run's bytes, leaving its values only.
    """

    __slots__ = (
        "is_metric",
        "record",
        "kind",
        "names",
        "idx",
        "epoch_idx",
        "shape",
        "keys",
        "_run",
        "_run_cleared",
        "repl",
    )

    def __init__(self, keys: tuple[bytes, ...]) -> None:
        names = [k.decode() for k in keys]
        self.keys = keys
        self._run: re.Pattern[bytes] | None = None
        self._run_cleared: re.Pattern[bytes] | None = None
        # Key text between values: replacing it by spaces leaves a run's values only.
        self.repl = (
            [(b"{'" + keys[0] + b"': ", b"")] + [(b", '" + k + b"': ", b" ") for k in keys[1:]] + [(b"}\n", b" ")]
        )
        # The whole dict of this key sequence as one regex: one ``fullmatch`` validates it
        # and captures every value (quoted in even groups, bare in odd ones).
        self.shape = re.compile(
            rb"\{"
            + rb", ".join(re.escape(b"'" + k + b"': ") + rb"(?:'(" + FAST_QNUM + rb")'|(" + NUM + rb"))" for k in keys)
            + rb"\}"
        )
        self.is_metric = is_metric_dict(dict.fromkeys(names))
        self.epoch_idx = -1
        self.names: list[str] = []
        self.idx: list[int] = []
        for i, key in enumerate(names):
            if key == "epoch":
                self.epoch_idx = i
            elif key in NON_METRIC_NUMERIC:
                continue
            else:
                self.names.append("learning_rate" if key == "lr" else key)
                self.idx.append(i)
        metrics = dict.fromkeys(self.names)
        # The rules of build_record, once per key sequence (a plan has no step keys).
        self.record = bool(metrics) and has_metric(metrics, self.epoch_idx >= 0)
        self.kind: RecordKind = record_kind(metrics)

    @property
    def run(self) -> re.Pattern[bytes]:
        """Consecutive whole lines of exactly this shape (``{...}\\n`` each), no captures."""
        if self._run is None:
            self._run = re.compile(rb"(?:\{" + self._one() + rb"\}\n)+")
        return self._run

    @property
    def run_cleared(self) -> re.Pattern[bytes]:
        """`run` where each line may start with a `CLEAR_PREFIX` (tried only where a line
        starts with ``\\r``: the optional group costs the regex engine on every line)."""
        if self._run_cleared is None:
            self._run_cleared = re.compile(rb"(?:" + CLEAR_PREFIX + rb"\{" + self._one() + rb"\}\n)+")
        return self._run_cleared

    def _one(self) -> bytes:
        return rb", ".join(
            re.escape(b"'" + k + b"': ") + rb"(?:'" + FAST_QNUM + rb"'|(?:" + NUM + rb"))" for k in self.keys
        )


class ColumnRun:
    """Consecutive dict lines of one `ShapePlan` (train records, rank ``None``), parsed as columns.

    Attributes:
        plan: the lines' shape.
        vals: ``(n, len(plan.keys)) float64``, every key of every dict.
        offsets: ``(n,) int64`` stream offset of each dict.
        end: stream offset just past the run (bytes).
    """

    __slots__ = ("plan", "vals", "offsets", "end")

    def __init__(self, plan: ShapePlan, vals: np.ndarray, offsets: np.ndarray, end: int) -> None:
        self.plan = plan
        self.vals = vals  # (n, len(plan.keys)) float64, every key of the dict
        self.offsets = offsets  # (n,) int64 stream offsets
        self.end = end  # stream offset just past the run

    def __len__(self) -> int:
        return int(self.offsets.shape[0])

    def record(self, i: int) -> Record:
        """Row ``i`` as the record path builds it."""
        plan = self.plan
        vals = self.vals[i].tolist()
        ei = plan.epoch_idx
        return Record(
            plan.kind,
            dict(zip(plan.names, [vals[j] for j in plan.idx])),
            None,
            vals[ei] if ei >= 0 else None,
            int(self.offsets[i]),
            None,
            {},
        )


def read_run(buf: bytes, s: int, base: int, plan: ShapePlan) -> ColumnRun | None:
    """The run of whole dict lines of ``plan``'s shape starting at ``buf[s]`` (a line start),
    its values parsed with ``float`` (as the record path does), or None when shorter than
    :data:`MIN_RUN`. With the C extension (`accel.scan`) the same run is read in C, with the
    same values bit for bit (``PyOS_string_to_double``, the function behind ``float``)."""
    fast = accel.scan
    if fast is not None:
        got = fast.read_run(buf, s, plan.keys, MIN_RUN)
        if got is None:
            return None
        e, raw_vals, raw_offsets = got
        offsets = np.frombuffer(raw_offsets, dtype=np.int64) + base
        vals = np.frombuffer(raw_vals, dtype=np.float64).reshape(len(offsets), len(plan.keys))
        return ColumnRun(plan, vals, offsets, base + e)
    m = plan.run.match(buf, s)
    if m is None:
        return None
    e = m.end()
    if buf.startswith(b"\r", e):
        # The run goes on over lines that start with tqdm.write's clears.
        m = plan.run_cleared.match(buf, e)
        if m is not None:
            e = m.end()
    region = buf[s:e]
    n = region.count(b"\n")
    if n < MIN_RUN:
        return None
    return _columns(region, n, s, base, plan)


def _columns(region: bytes, n: int, s: int, base: int, plan: ShapePlan) -> ColumnRun | None:
    """The values and offsets of a validated run ``region`` (``buf[s:e]``) of ``n`` lines."""
    text = region
    for old, new in plan.repl:
        text = text.replace(old, new)
    if b"'" in text:
        text = text.translate(None, b"'")
    toks = text.split()
    k = len(plan.keys)
    if len(toks) != n * k:  # pragma: no cover - the run regex validated every line
        return None
    vals = np.array(list(map(float, toks)), dtype=np.float64).reshape(n, k)
    # Each line holds one "{" (keys and values have none): its offset is the record's.
    offsets = np.flatnonzero(np.frombuffer(region, dtype=np.uint8) == 123).astype(np.int64)
    offsets += base + s
    return ColumnRun(plan, vals, offsets, base + s + len(region))


def plan_for(keys: tuple[bytes, ...], cache: dict[tuple[bytes, ...], ShapePlan | None]) -> ShapePlan | None:
    """The cached `ShapePlan` of ``keys``, or ``None`` when the general path must run
    (special keys, a key twice, ``lr`` next to ``learning_rate``)."""
    plan = cache.get(keys, False)
    if plan is False:
        if len(cache) >= 64:
            # Ever-new key sequences (a hostile or odd log): the general path, instead of
            # compiling a regex per dict (~5 ms each: 200 records/s).
            return None
        names = [k.decode() for k in keys]
        if len(set(names)) != len(names) or SPECIAL_KEYS.intersection(names):
            plan = None
        else:
            plan = ShapePlan(keys)
            if len(set(plan.names)) != len(plan.names):
                plan = None
        if len(cache) < 4096:
            cache[keys] = plan
    return plan  # type: ignore[return-value]
