"""Incremental parser: bytes of a training log in, `Record`/`Progress`/`RunInfo`/`Event`/`Rewind` out.

Three formats, sniffed from the content (never from the file name):

* ``console``: what the Trainer prints (``{'loss': 2.51, ...}`` dicts anywhere on a line,
  tqdm ``\\r`` bar updates, ANSI escapes, logging / SLURM / rank / Rich prefixes, the
  training banner, tracebacks);
* ``jsonl``: one JSON object per line (LLaMA-Factory ``trainer_log.jsonl``, generic
  metric logs);
* ``trainer_state``: the Trainer's ``trainer_state.json`` (``log_history``), rewritten
  in place at each checkpoint.

The console path follows the measured decision in DESIGN.md: compiled regular
expressions over ``bytes`` for the whole chunk (C speed), Python work only per dict,
never per tqdm segment. ``\\r`` and ``\\n`` both end a segment; the partial last segment
is carried to the next ``feed`` (capped at :data:`MAX_CARRY` bytes).
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from itertools import islice

import numpy as np

from tui_monitor.core.records import Batch, Event, Item, Progress, Record, Rewind, RunInfo
from tui_monitor.core.steps import EPOCH_TOLERANCE, MAX_WAIT, StepTracker

MAX_CARRY = 1 << 20
"""Largest partial segment (bytes) held between feeds. tqdm can write ``\\r`` updates
for minutes with no ``\\n``; past this only the last :data:`KEEP_TAIL` bytes are kept."""
KEEP_TAIL = 64 << 10
"""Bytes of an over-long partial segment kept (a metric dict is far shorter)."""
MAX_DOC = 256 << 20
"""Largest trainer_state.json document (bytes) the parser will buffer."""
COLUMNAR_MIN = 256 << 10
"""Chunk size (bytes) from which `Pipeline` feeds with `LogParser.feed_columnar` (catch-up)."""
MIN_RUN = 4
"""Consecutive dict lines of one shape from which they are parsed as columns."""

# --- console: dicts -------------------------------------------------------------------

_DICT_RE = re.compile(rb"\{['\"][^{}\r\n]*\}")
_STR = rb"'(?:[^'\\\r\n]|\\.)*'|\"(?:[^\"\\\r\n]|\\.)*\""
_NUM = rb"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|[-+]?(?:nan|NaN|inf|Infinity)"
_PAIR_RE = re.compile(
    rb"\s*(" + _STR + rb")\s*:\s*(?:"
    rb"(" + _STR + rb")"  # 2: quoted string (5.x prints every value like this)
    rb"|(" + _NUM + rb")"  # 3: bare number, nan, inf
    rb"|np\.float(?:16|32|64)\(\s*(" + _NUM + rb")\s*\)"  # 4
    rb"|tensor\(\s*(" + _NUM + rb")\s*(?:,[^()]*)?\)"  # 5: tensor(0.75, device='cuda:0')
    rb"|(True|False|None|null|true|false)"  # 6
    rb")\s*(,|\})"
)
# Fast path: a flat dict printed by the Trainer (``'key': value`` pairs separated by
# ``, ``; values bare numbers or quoted numbers) is validated by one ``fullmatch`` and split
# by one ``findall``; anything else (spacing, strings, calls, escapes) takes `_parse_pairs`.
_FAST_KEY = rb"'[A-Za-z0-9_/.@-]+'"
_FAST_QNUM = (
    rb"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?"
    rb"|[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
)
_FAST_VAL = rb"(?:'" + _FAST_QNUM + rb"'|" + _NUM + rb")"
_FAST_DICT_RE = re.compile(
    rb"\{" + _FAST_KEY + rb": " + _FAST_VAL + rb"(?:, " + _FAST_KEY + rb": " + _FAST_VAL + rb")*\}"
)
_FAST_PAIR_RE = re.compile(rb"'([A-Za-z0-9_/.@-]+)': (?:'(" + _FAST_QNUM + rb")'|(" + _NUM + rb"))(?=,|\})")
_FLOAT_STR_RE = re.compile(r"\s*[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|infinity)\s*", re.I)
_SLASH_RE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")

_MARKER_KEYS = frozenset(
    {
        "loss",
        "learning_rate",
        "lr",
        "grad_norm",
        "epoch",
        "reward",
        "kl",
        "train_runtime",
        "train_loss",
        "global_step/max_steps",
    }
)
"""A dict is a metric record only if it has one of these keys (or a key ending in
``loss``, or an ``eval_`` / ``rewards/`` key); a tokenizer config or a dataset sample
printed to the console is not."""

_NON_METRIC_NUMERIC = frozenset({"epoch", "step", "current_steps", "total_steps", "percentage"})

# --- console: prefixes, bars, banner, crashes -------------------------------------------

_RANK_RES = (
    re.compile(rb"^\s*(\d{1,4}): "),  # srun -l
    re.compile(rb"\[rank(\d+)\]:", re.I),  # torchrun --tee / [rank0]:
    re.compile(rb"\[Rank:(\d+)\]"),  # FATE / Rich handler
)
_BAR_SEG_RE = re.compile(
    rb"([^\r\n|]{0,80}?)\s*\d{1,3}%\|[^|\r\n]*\|\s*(\d+)/(\d+)\s*\[([\d:]+)<[^,\]]*,\s*(?:([\d.]+)(it/s|s/it)|\?it/s)"
)
_ANSI_RE = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_BANNER_RE = re.compile(
    rb"(Total optimization steps|Num Epochs|Gradient Accumulation steps|Num examples"
    rb"|Total train batch size \(w\. parallel, distributed & accumulation\)) = ([\d,]+)"
)
_BANNER_FIELD = {
    b"Total optimization steps": "total_steps",
    b"Num Epochs": "num_epochs",
    b"Gradient Accumulation steps": "grad_accum",
    b"Num examples": "num_examples",
    b"Total train batch size (w. parallel, distributed & accumulation)": "batch_size",
}
_CRASH_RE = re.compile(
    rb"Traceback \(most recent call last\):"
    rb"|CUDA out of memory|OutOfMemoryError"
    rb"|(?:^|[\r\n]|\s)Killed(?:\s|$)"
    rb"|Watchdog caught collective operation timeout|NCCL[^\r\n]{0,200}?[Tt]imed? ?out"
)
_CRASH_WORDS = {
    b"T": (b"Traceback",),
    b"C": (b"CUDA out of memory",),
    b"O": (b"OutOfMemoryError",),
    b"K": (b"Killed",),
    b"N": (b"NCCL",),
    b"W": (b"Watchdog",),
}
"""A literal that every `_CRASH_RE` match contains, by first letter."""
_BANNER_WORDS = {
    b"T": (b"Total optimization steps = ", b"Total train batch size (w. parallel, distributed & accumulation) = "),
    b"N": (b"Num Epochs = ", b"Num examples = "),
    b"G": (b"Gradient Accumulation steps = ",),
}
"""A literal that every `_BANNER_RE` match contains, by first letter."""


def _has_any(buf: bytes, words: Mapping[bytes, tuple[bytes, ...]]) -> bool:
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


_EXC_LINE_RE = re.compile(
    rb"(?m)^(?:\[rank\d+\]: |\d{1,4}: )?((?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Interrupt|Exit)\b[^\r\n]*)"
)
_CTRL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_line(raw: bytes, limit: int = 500) -> str:
    """Decode a log line for display: UTF-8 with replacement, ANSI escapes and control
    characters removed, at most ``limit`` characters. The result is still *data*."""
    text = _ANSI_RE.sub(b"", raw).decode("utf-8", "replace")
    text = _CTRL_RE.sub("", text).strip()
    return text[:limit]


LINE_LOOKBACK = 4096
"""Bytes searched backwards for the start of a segment (a prefix longer than this is
not a logging / rank prefix)."""


def _segment_start(buf: bytes, pos: int) -> int:
    """Index just after the last ``\\r``/``\\n`` before ``pos`` (bounded look-back)."""
    lo = max(0, pos - LINE_LOOKBACK)
    start = max(buf.rfind(b"\n", lo, pos), buf.rfind(b"\r", lo, pos)) + 1
    return start if start > 0 else lo


def _to_float(text: str) -> float | None:
    """``float()`` of a quoted value when it is a number (``'2.511'``, ``'nan'``, ``'1e-05'``)."""
    if _FLOAT_STR_RE.fullmatch(text):
        return float(text)
    return None


def _unquote(raw: bytes) -> str:
    body = raw[1:-1]
    if b"\\" in body:
        try:
            # UTF-8 first (repr prints non-ASCII as is; unicode_escape alone reads it as
            # latin-1), then the escapes; a JSON surrogate pair is joined, a lone one replaced.
            text = (
                body.decode("utf-8", "replace")
                .encode("latin-1", "backslashreplace")
                .decode("unicode_escape", "replace")
            )
            return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        except Exception:  # pragma: no cover - decode with replace does not raise in practice
            pass
    return body.decode("utf-8", "replace")


def _parse_pairs(body: bytes) -> dict[str, object] | None:
    """Parse a flat dict literal ``{'k': v, ...}`` into ``{key: float|str|bool|None}``.

    Returns ``None`` when the text is not a flat dict of scalar values (a nested dict, a
    list, a call we do not know): such dicts are not metric records.
    """
    out: dict[str, object] = {}
    pos = 1
    end = len(body)
    match = _PAIR_RE.match
    while pos < end:
        m = match(body, pos)
        if m is None:
            return None
        key = _unquote(m.group(1))
        if m.group(2) is not None:
            s = _unquote(m.group(2))
            f = _to_float(s)
            out[key] = f if f is not None else s
        elif m.group(3) is not None:
            out[key] = float(m.group(3))
        elif m.group(4) is not None:
            out[key] = float(m.group(4))
        elif m.group(5) is not None:
            out[key] = float(m.group(5))
        else:
            word = m.group(6)
            out[key] = True if word in (b"True", b"true") else False if word in (b"False", b"false") else None
        pos = m.end()
        if m.group(7) == b"}":
            return out if pos == end else None
    return None


def _is_metric_dict(d: Mapping[str, object]) -> bool:
    for k in d:
        if k in _MARKER_KEYS or k.endswith("loss") or k.startswith(("eval_", "rewards/")):
            return True
    return False


def _parse_elapsed(text: bytes | str) -> float | None:
    """``"01:02"`` / ``"1:02:03"`` / ``"4 days, 5:06:09"`` -> seconds."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    days = 0
    if "day" in text:
        head, _, text = text.partition(",")
        try:
            days = int(head.split()[0])
        except ValueError:
            return None
    parts = text.strip().split(":")
    try:
        secs = 0.0
        for p in parts:
            secs = secs * 60 + float(p)
    except ValueError:
        return None
    return days * 86400 + secs


def build_record(
    values: Mapping[str, object], *, offset: int = 0, rank: str | None = None
) -> tuple[Record | None, Progress | None]:
    """Turn one parsed dict (console, JSON line or ``log_history`` entry) into a `Record`.

    Args:
        values: key -> float | str | bool | None, as parsed.
        offset: byte offset of the dict in the stream.
        rank: rank label from the line's prefix, if any.

    Returns:
        ``(record, progress)``. ``record`` is ``None`` for a dict with no metric (e.g.
        LLaMA-Factory's final line, which has only progress fields). ``progress`` is set
        when the dict states its position (``global_step/max_steps``, ``current_steps`` /
        ``total_steps``).

    Classification (as transformers' Trainer logs them): ``summary`` if ``train_runtime``
    is present; ``eval`` if any ``eval_*`` key has a value; else ``train``.
    """
    metrics: dict[str, float] = {}
    text: dict[str, str] = {}
    step: int | None = None
    epoch: float | None = None
    progress: Progress | None = None
    for key, v in values.items():
        if v is None or isinstance(v, bool):
            continue
        if isinstance(v, str):
            if key == "global_step/max_steps":
                m = _SLASH_RE.fullmatch(v)
                if m:
                    step = int(m.group(1))
                    progress = Progress(step, int(m.group(2)), offset=offset, source="global_step")
                continue
            text[key] = v
            continue
        fv = float(v)  # type: ignore[arg-type]
        if key == "epoch":
            epoch = fv
        elif key in ("step", "current_steps", "global_step"):
            if math.isfinite(fv):
                step = int(fv)
        elif key in _NON_METRIC_NUMERIC:
            continue
        elif key == "lr":
            metrics["learning_rate"] = fv
        else:
            metrics[key] = fv
    if "current_steps" in values and isinstance(values.get("total_steps"), (int, float)) and step is not None:
        elapsed = values.get("elapsed_time")
        progress = Progress(
            step,
            int(values["total_steps"]),  # type: ignore[arg-type]
            elapsed_s=_parse_elapsed(elapsed) if isinstance(elapsed, str) else None,
            offset=offset,
            source="json",
        )
    if not metrics or not (_is_metric_dict(metrics) or any(k in _MARKER_KEYS or k.endswith("loss") for k in text)):
        # (a marker key whose value is text this time, 'loss': 'n/a', still makes a record)
        # e.g. LLaMA-Factory's last line: only throughput/progress, no metric.
        return None, progress
    if "train_runtime" in metrics:
        kind = "summary"
    elif any(k.startswith("eval_") for k in metrics):
        kind = "eval"
    else:
        kind = "train"
    return Record(kind, metrics, step, epoch, offset, rank, text), progress


_SPECIAL_KEYS = frozenset(
    {"global_step/max_steps", "step", "current_steps", "global_step", "total_steps", "elapsed_time"}
)
"""Keys `build_record` treats specially (progress, stated steps): dicts with them take the
general path."""


class _Plan:
    """What `build_record` does with a flat all-numeric dict of a given key sequence,
    worked out once per key sequence (a log has a handful)."""

    __slots__ = ("is_metric", "record", "kind", "names", "idx", "epoch_idx", "shape", "keys", "_run", "repl")

    def __init__(self, keys: tuple[bytes, ...]) -> None:
        names = [k.decode() for k in keys]
        self.keys = keys
        self._run: re.Pattern[bytes] | None = None
        # Key text between values: replacing it by spaces leaves a run's values only.
        self.repl = (
            [(b"{'" + keys[0] + b"': ", b"")] + [(b", '" + k + b"': ", b" ") for k in keys[1:]] + [(b"}\n", b" ")]
        )
        # The whole dict of this key sequence as one regex: one ``fullmatch`` validates it
        # and captures every value (quoted in even groups, bare in odd ones).
        self.shape = re.compile(
            rb"\{"
            + rb", ".join(
                re.escape(b"'" + k + b"': ") + rb"(?:'(" + _FAST_QNUM + rb")'|(" + _NUM + rb"))" for k in keys
            )
            + rb"\}"
        )
        self.is_metric = _is_metric_dict(dict.fromkeys(names))
        self.epoch_idx = -1
        self.names: list[str] = []
        self.idx: list[int] = []
        for i, key in enumerate(names):
            if key == "epoch":
                self.epoch_idx = i
            elif key in _NON_METRIC_NUMERIC:
                continue
            else:
                self.names.append("learning_rate" if key == "lr" else key)
                self.idx.append(i)
        metrics = dict.fromkeys(self.names)
        self.record = bool(metrics) and _is_metric_dict(metrics)
        if "train_runtime" in metrics:
            self.kind = "summary"
        elif any(k.startswith("eval_") for k in metrics):
            self.kind = "eval"
        else:
            self.kind = "train"

    @property
    def run(self) -> re.Pattern[bytes]:
        """Consecutive whole lines of exactly this shape (``{...}\\n`` each), no captures."""
        if self._run is None:
            one = rb", ".join(
                re.escape(b"'" + k + b"': ") + rb"(?:'" + _FAST_QNUM + rb"'|(?:" + _NUM + rb"))" for k in self.keys
            )
            self._run = re.compile(rb"(?:\{" + one + rb"\}\n)+")
        return self._run


class _Run:
    """Consecutive dict lines of one `_Plan` (train records, rank ``None``), parsed as columns."""

    __slots__ = ("plan", "vals", "offsets", "end")

    def __init__(self, plan: _Plan, vals: np.ndarray, offsets: np.ndarray, end: int) -> None:
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
            plan.kind,  # type: ignore[arg-type]
            dict(zip(plan.names, [vals[j] for j in plan.idx])),
            None,
            vals[ei] if ei >= 0 else None,
            int(self.offsets[i]),
            None,
            {},
        )


def _read_run(buf: bytes, s: int, base: int, plan: _Plan) -> _Run | None:
    """The run of whole dict lines of ``plan``'s shape starting at ``buf[s]`` (a line start),
    its values parsed with ``float`` (as the record path does), or None when shorter than
    :data:`MIN_RUN`."""
    m = plan.run.match(buf, s)
    if m is None:
        return None
    e = m.end()
    region = buf[s:e]
    n = region.count(b"\n")
    if n < MIN_RUN:
        return None
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
    nl = np.flatnonzero(np.frombuffer(region, dtype=np.uint8) == 10)
    offsets = np.empty(n, dtype=np.int64)
    offsets[0] = base + s
    offsets[1:] = nl[:-1] + (base + s + 1)
    return _Run(plan, vals, offsets, base + e)


def _plan_for(keys: tuple[bytes, ...], cache: dict[tuple[bytes, ...], _Plan | None]) -> _Plan | None:
    """The cached `_Plan` of ``keys``, or ``None`` when the general path must run
    (special keys, a key twice, ``lr`` next to ``learning_rate``)."""
    plan = cache.get(keys, False)
    if plan is False:
        if len(cache) >= 64:
            # Ever-new key sequences (a hostile or odd log): the general path, instead of
            # compiling a regex per dict (~5 ms each: 200 records/s).
            return None
        names = [k.decode() for k in keys]
        if len(set(names)) != len(names) or _SPECIAL_KEYS.intersection(names):
            plan = None
        else:
            plan = _Plan(keys)
            if len(set(plan.names)) != len(plan.names):
                plan = None
        if len(cache) < 4096:
            cache[keys] = plan
    return plan  # type: ignore[return-value]


class LogParser:
    """Incremental parser of a training log's bytes.

    ``feed(data)`` returns the items that became complete, in file order; a partial
    last segment (after the last ``\\r``/``\\n``) is held until the rest arrives, so
    feeding a file in chunks of any size gives exactly the items of feeding it whole
    (``flush()`` at the end parses what is still held).

    Attributes:
        format: ``"console"``, ``"jsonl"``, ``"trainer_state"`` or ``None`` until sniffed.
        skipped: count of malformed metric-looking inputs that were skipped (a dict
            with a ``loss`` key whose values do not parse, a JSON line that is not JSON).
        offset: bytes consumed so far in the current stream.

    Duplicate and resume handling (decided on evidence only):

    * a bare dict followed at once by the same values logged again with a ``step`` or a
      rank prefix (a second logging handler, e.g. FATE's Rich handler) counts once;
    * a train record whose epoch (or step) is lower than the previous one of the same
      rank means the run was resumed/restarted into the same log: a `Rewind` is emitted
      before it. Equal consecutive records are *not* duplicates by themselves.
    """

    def __init__(self) -> None:
        self.format: str | None = None
        self.skipped = 0
        self.offset = 0
        self._carry = b""
        self._carry_offset = 0
        self._train_total: int | None = None
        self._banner_total: int | None = None
        self._last_epoch: dict[str | None, float] = {}
        self._last_step: dict[str | None, int] = {}
        self._prev: Record | None = None
        self._pending: Record | None = None
        self._echo_mode = False
        self._in_traceback = False
        self._seen_state: set[tuple[str, int | None, float | None]] = set()
        self._plans: dict[tuple[bytes, ...], _Plan | None] = {}
        self._last_plan: _Plan | None = None
        self._steps = StepTracker()
        self._waiting: list[Record] = []  # records between a tqdm clear and its redraw
        self._columnar = False

    # -- public -------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """True when no partial input is held (the last document or line was complete)."""
        return not self._carry

    def reset(self) -> None:
        """Start a new byte stream (the file was truncated, rotated or re-created).

        Framing state is cleared; what the parser learnt about the run (last epoch per
        rank, the train bar's total, trainer_state records already emitted) is kept, so
        a restarted run shows up as a `Rewind` and a rewritten trainer_state.json does
        not duplicate records.
        """
        self._carry = b""
        self._carry_offset = 0
        self.offset = 0
        self._in_traceback = False
        self._steps.reset()
        if self.format == "trainer_state":
            self.format = None

    def feed(self, data: bytes) -> list[Item]:
        """Parse the next bytes of the stream.

        Args:
            data: any number of bytes (may split a line, a dict or a UTF-8 sequence).

        Returns:
            Items completed by these bytes, in file order.

        Never raises on malformed input: bad pieces are skipped (and counted in
        ``skipped`` when they looked like metrics).
        """
        if not data:
            return []
        buf = self._carry + data if self._carry else data
        base = self._carry_offset
        self.offset += len(data)
        if self.format is None:
            fmt = self._sniff(buf)
            if fmt is None:
                self._hold(buf, base)  # bounded: a file of blanks only must not grow the carry
                return []
            self.format = fmt
        if self.format == "trainer_state":
            return self._feed_state(buf, base)
        cut = max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1
        if cut == 0:
            self._hold(buf, base)
            return []
        complete = buf[:cut]
        self._hold(buf[cut:], base + cut)
        if self.format == "jsonl":
            return self._parse_jsonl(complete, base)
        return self._parse_console(complete, base)

    def feed_columnar(self, data: bytes) -> list[Item | Batch]:
        """`feed`, with runs of plain train records returned as `Batch` items (catch-up).

        Same records, in the same order, with the same steps, epochs and offsets as `feed`
        would return (each `Batch` stands for its `Batch.records`); the parser's state
        afterwards is the same too. Runs are consecutive whole lines of console output
        that are flat numeric dicts of one key sequence, with no rank prefix. A run that would need
        a per-record decision (a rewind, an echo, a held or disagreeing step) takes the
        record path.
        """
        self._columnar = True
        try:
            return self.feed(data)  # type: ignore[return-value]
        finally:
            self._columnar = False

    def flush(self) -> list[Item]:
        """Parse whatever partial segment is still held (call at end of file).

        A dict cut off mid-way (a line still being written) yields nothing.
        """
        buf, base = self._carry, self._carry_offset
        self._carry = b""
        out: list[Item] = []
        if buf:
            if self.format is None:
                self.format = self._sniff(buf, final=True)
            if self.format == "jsonl":
                out = self._parse_jsonl(buf + b"\n", base)
            elif self.format == "console":
                out = self._parse_console(buf + b"\n", base)
            self._carry_offset = base + len(buf)
        if self._waiting:
            self._release(out, with_steps=False)
        if self._pending is not None:
            out.append(self._pending)
            self._pending = None
        return out

    # -- sniffing -------------------------------------------------------------------------

    def _sniff(self, buf: bytes, final: bool = False) -> str | None:
        head = buf.lstrip()
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

    def _hold(self, rest: bytes, offset: int) -> None:
        if len(rest) > MAX_CARRY:
            # An endless \r-less line: nothing before its last KEEP_TAIL bytes can still
            # complete a dict that starts in the kept part.
            drop = len(rest) - KEEP_TAIL
            rest = rest[drop:]
            offset += drop
        self._carry, self._carry_offset = rest, offset

    # -- console --------------------------------------------------------------------------

    def _rank_of(self, buf: bytes, start: int, pos: int) -> str | None:
        if start == pos:
            return None
        prefix = buf[start:pos]
        for rx in _RANK_RES:
            m = rx.search(prefix)
            if m:
                return m.group(1).decode()
        return None

    def _parse_console(self, buf: bytes, base: int) -> list[Item]:
        found: list[tuple[int, int, Item]] = []  # (offset, order, item)
        order = 0
        runs = 0
        if b"{" in buf:
            columnar = self._columnar
            pos = 0
            while pos < len(buf):
                start, pos = pos, len(buf)
                # A run of same-shape dict lines (columnar) ends this scan; it resumes after it.
                for m in _DICT_RE.finditer(buf, start):
                    s = m.start()
                    body = m.group()
                    if s == 0 or buf[s - 1] in (10, 13):
                        seg = s  # the common case: the dict starts its segment
                    else:
                        seg = _segment_start(buf, s)
                        # A dict nested in another literal ({'a': {'b': 1}}) is not a record.
                        if buf.rfind(b"{", seg, s) > buf.rfind(b"}", seg, s):
                            continue
                    plan = self._last_plan
                    sm = plan.shape.fullmatch(body) if plan is not None else None
                    if sm is None and _FAST_DICT_RE.fullmatch(body) is not None:
                        plan = _plan_for(tuple([p[0] for p in _FAST_PAIR_RE.findall(body)]), self._plans)
                        if plan is not None:
                            self._last_plan = plan
                            sm = plan.shape.fullmatch(body)
                    if sm is not None:
                        if plan.record and plan.is_metric:  # type: ignore[union-attr]
                            if (
                                columnar
                                and seg == s
                                and plan.kind == "train"  # type: ignore[union-attr]
                                and buf[m.end() : m.end() + 2] == b"\n{"
                            ):
                                run = _read_run(buf, s, base, plan)  # type: ignore[arg-type]
                                if run is not None:
                                    found.append((base + s, order, run))  # type: ignore[arg-type]
                                    order += 1
                                    runs += 1
                                    pos = run.end - base
                                    break
                            vals = list(map(float, filter(None, sm.groups())))
                            ei = plan.epoch_idx  # type: ignore[union-attr]
                            rec = Record(
                                plan.kind,  # type: ignore[union-attr,arg-type]
                                dict(zip(plan.names, [vals[i] for i in plan.idx])),  # type: ignore[union-attr]
                                None,
                                vals[ei] if ei >= 0 else None,
                                base + s,
                                self._rank_of(buf, seg, s),
                                {},
                            )
                            found.append((base + s, order, rec))
                            order += 1
                        continue
                    values = _parse_pairs(body)
                    if values is None:
                        if b"loss" in body or b"learning_rate" in body:
                            self.skipped += 1
                        continue
                    if not _is_metric_dict(values):
                        continue
                    rank = self._rank_of(buf, seg, s)
                    rec, prog = build_record(values, offset=base + s, rank=rank)
                    if prog is not None:
                        found.append((base + s, order, prog))
                        order += 1
                    if rec is not None:
                        found.append((base + s, order, rec))
                        order += 1
        if b"|" in buf and b"/" in buf:
            prog = self._last_train_bar(buf, base)
            if prog is not None:
                found.append((prog.offset, order, prog))
                order += 1
        if _has_any(buf, _BANNER_WORDS):
            for m in _BANNER_RE.finditer(buf):
                field = _BANNER_FIELD[m.group(1)]
                value = int(m.group(2).replace(b",", b""))
                if field == "total_steps":
                    self._banner_total = value
                found.append((base + m.start(), order, RunInfo(**{field: value, "offset": base + m.start()})))
                order += 1
        found.extend(self._crash_events(buf, base, order))
        order += len(found)
        markers = self._steps.scan(buf, base, self._banner_total or self._train_total)
        found.sort(key=lambda t: (t[0], t[1]))
        if runs:
            # (Markers are never inside a run's bytes: its lines are all dict lines.)
            found = self._split_runs(found)
        out: list[Item] = []
        steps = self._steps
        # The markers are merged in offset order: before an item, those at a lower offset
        # (at an equal offset the item comes first, as it was found first).
        moffs = [t[0] for t in markers]
        mi, nm = 0, len(markers)
        for off, _, item in found:
            if mi < nm and moffs[mi] < off:
                j = bisect_left(moffs, off, mi)
                last = markers[j - 1]
                if last[3] >= off and last[1] == "pair":
                    # The item lies between a clear and its redraw: the pair's open now,
                    # its step after the item.
                    self._markers(markers, mi, j - 1, out)
                    self._marker("open", 0, out)
                    markers[j - 1] = (last[3], "step", last[2], last[3])
                    moffs[j - 1] = last[3]
                    mi = j - 1
                else:
                    self._markers(markers, mi, j, out)
                    mi = j
            if isinstance(item, Record):
                if item.step is None and item.rank in (None, "0") and steps.enabled:
                    self._step_record(item, out)
                else:
                    self._emit_record(item, out)
            elif isinstance(item, _Run):
                self._emit_run(item, out)
            else:
                out.append(item)
        if mi < nm:
            self._markers(markers, mi, nm, out)
        if self._waiting and not steps.awaiting:
            self._release(out, with_steps=True)
        return out

    def _marker(self, kind: str, n: int, out: list[Item]) -> None:
        """One tqdm log-event marker (see `StepTracker.scan`): held records may go out."""
        steps = self._steps
        steps.on_marker(kind, n)
        if self._waiting:
            if kind == "step":
                self._release(out, with_steps=True)
            elif not steps.awaiting:
                self._release(out, with_steps=False)

    def _markers(self, markers: list[tuple[int, str, int, int]], a: int, b: int, out: list[Item]) -> None:
        """``markers[a:b]`` in order. A ``"pair"`` (open, then step) with no record held is
        just its step queued: the open and the step cancel out in the open count."""
        queue = self._steps._steps
        marker = self._marker
        for i in range(a, b):
            _, kind, n, _ = markers[i]
            if kind == "pair":
                if not self._waiting:
                    queue.append(n)
                    continue
                marker("open", 0, out)
                marker("step", n, out)
            else:
                marker(kind, n, out)

    @staticmethod
    def _split_runs(found: list[tuple[int, int, Item]]) -> list[tuple[int, int, Item]]:
        """Runs with another item inside their bytes (cannot happen with a validated run;
        a safety net) become their records again."""
        bad = [
            i
            for i, (_, _, it) in enumerate(found)
            if isinstance(it, _Run) and i + 1 < len(found) and found[i + 1][0] < it.end
        ]
        if not bad:
            return found
        for i in bad:
            _, order, run = found[i]
            found[i] = None  # type: ignore[call-overload]
            for j in range(len(run)):  # type: ignore[arg-type]
                rec = run.record(j)  # type: ignore[union-attr]
                found.append((rec.offset, order, rec))
        found = [t for t in found if t is not None]
        found.sort(key=lambda t: (t[0], t[1]))
        return found

    def _dispatch(self, rec: Record, out: list[Item]) -> None:
        """One record of a run through the record path (as the merge loop does)."""
        if self._steps.enabled:
            self._step_record(rec, out)
        else:
            self._emit_record(rec, out)

    def _emit_run(self, run: _Run, out: list[Item]) -> None:
        """A run of plain train records (rank ``None``, no step of their own): its first
        record through the record path, the others as one `Batch` when the record path
        would make no per-record decision for them (else through the record path too)."""
        n = len(run)
        self._dispatch(run.record(0), out)
        m = n - 1
        steps = self._steps
        queue = steps._steps
        plan = run.plan
        ei = plan.epoch_idx
        epochs = run.vals[1:, ei] if ei >= 0 else None
        ok = not (self._echo_mode or self._pending is not None or self._waiting)
        k = 0
        st: np.ndarray = np.empty(0, dtype=np.int64)
        spe = steps._spe
        if ok and steps.enabled:
            k = min(m, len(queue))
            if k < m and steps.awaiting:
                ok = False  # records would be held for their redraw
            elif k:
                st = np.fromiter(islice(queue, k), dtype=np.int64, count=k)
                if epochs is not None:
                    # StepTracker.check for each pairing, vectorised (a disagreement
                    # disables the tracker: the record path handles that run).
                    ep = epochs[:k]
                    fst = st.astype(np.float64)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        qual = ~(ep < 0.05) & (st > 0)
                        ratio = fst / ep
                        if spe is None and qual.any():
                            spe = float(ratio[int(np.argmax(qual))])
                        if spe is not None and (qual & (np.abs(ratio - spe) > EPOCH_TOLERANCE * spe)).any():
                            ok = False
        if ok:
            # Rewind detection (`_accept`), vectorised: steps of the stepped prefix must
            # not go back; epochs of the rest must not go back either.
            last_step = self._last_step.get(None)
            if k:
                if (last_step is not None and st[0] < last_step) or (k > 1 and bool((st[1:] < st[:-1]).any())):
                    ok = False
            if ok and epochs is not None and k < m:
                prev0 = float(epochs[k - 1]) if k else self._last_epoch.get(None)
                cur = epochs[k:]
                back = cur[1:] < cur[:-1]
                if back.any() or (prev0 is not None and cur[0] < prev0):
                    ok = False
        if not ok:
            for i in range(1, n):
                self._dispatch(run.record(i), out)
            return
        if k:
            for _ in range(k):
                queue.popleft()
            steps._spe = spe
            self._last_step[None] = int(st[-1])
        if epochs is not None:
            self._last_epoch[None] = float(epochs[-1])
        batch = Batch(
            plan.kind,  # type: ignore[arg-type]
            plan.names,
            run.vals[1:, plan.idx],
            epochs,
            st,
            run.offsets[1:],
        )
        last = batch.record(m - 1)
        self._prev = last
        out.append(batch)  # type: ignore[arg-type]

    def _step_record(self, rec: Record, out: list[Item]) -> None:
        """Give a console record its step from the tqdm log events (see core/steps.py),
        holding it while its redraw has not been read yet."""
        steps = self._steps
        if self._waiting:
            self._waiting.append(rec)
            if len(self._waiting) > MAX_WAIT:
                self._release(out, with_steps=False)
            return
        step = steps.take()
        if step is not None:
            if steps.check(step, rec.epoch):
                rec.step = step
            self._emit_record(rec, out)
        elif steps.awaiting:
            self._waiting.append(rec)
        else:
            self._emit_record(rec, out)

    def _release(self, out: list[Item], *, with_steps: bool) -> None:
        """Emit held records in order, each with the next queued step when there is one."""
        steps = self._steps
        while self._waiting:
            step = steps.take() if with_steps else None
            if step is None and with_steps and steps.awaiting:
                return  # the next redraw is still to come
            rec = self._waiting.pop(0)
            if step is not None and steps.check(step, rec.epoch):
                rec.step = step
            self._emit_record(rec, out)

    def _crash_events(self, buf: bytes, base: int, order: int) -> list[tuple[int, int, Item]]:
        found: list[tuple[int, int, Item]] = []
        if not (self._in_traceback or _has_any(buf, _CRASH_WORDS)):
            return found
        line_start, line_end, line_kinds = 0, -1, set()
        for m in _CRASH_RE.finditer(buf):
            tok = m.group().strip()
            if tok.startswith(b"Traceback"):
                kind = "traceback"
                self._in_traceback = True
            elif tok in (b"CUDA out of memory", b"OutOfMemoryError"):
                kind = "oom"
            elif tok == b"Killed":
                kind = "killed"
            else:
                kind = "nccl_timeout"
            if m.start() < line_end:
                # Same line as the previous match: one event per kind and line (a line
                # repeating "Killed" made an event per word, each re-scanning the line: O(n²)).
                if kind in line_kinds:
                    continue
                line_kinds.add(kind)
                ls, le = line_start, line_end
            else:
                ls = _segment_start(buf, m.start() + 1)
                if buf[m.start() : m.start() + 1] in (b"\n", b"\r"):
                    ls = m.start() + 1
                le = len(buf)
                for sep in (b"\n", b"\r"):
                    i = buf.find(sep, m.end())
                    if 0 <= i < le:
                        le = i
                line_start, line_end, line_kinds = ls, le, {kind}
            if kind == "oom" and found and found[-1][2].kind == "oom" and found[-1][0] == base + ls:  # type: ignore[union-attr]
                continue
            found.append((base + ls, order, Event(kind, clean_line(buf[ls : min(le, ls + 8192)]), base + ls)))  # type: ignore[arg-type]
            order += 1
        if self._in_traceback:
            for m in _EXC_LINE_RE.finditer(buf):
                tb = [f for f in found if f[2].kind == "traceback"]  # type: ignore[union-attr]
                if tb and base + m.start() < tb[0][0]:
                    continue
                self._in_traceback = False
                if any(f[0] == base + m.start() for f in found):
                    break  # the closing line is already an event (an OOM line): say it once
                found.append((base + m.start(), order, Event("error", clean_line(m.group(1)), base + m.start())))
                order += 1
                break
        return found

    def _last_train_bar(self, buf: bytes, base: int) -> Progress | None:
        """The last train-bar position in ``buf``, found by scanning backwards.

        The train bar is the unlabelled (or ``Train``-labelled) tqdm bar whose total is
        the banner's total steps, or the largest total seen: eval bars (``/8``) are
        shorter, labelled bars (``Tokenizing``, ``Writing model shards``) are not ours.
        Only the last few bars of a chunk are looked at (progress is coalesced per feed),
        so a 100 MiB run of bar updates costs a handful of regex matches.
        """
        if self._train_total is None and self._banner_total is None:
            # First bars ever seen: learn the train total from all of them (the chunk may
            # end inside an eval bar, whose total must not be taken for the train total).
            # Only segments holding "%|" are matched: finditer over the whole buffer tried
            # the bar's free-text prefix at every byte (0.2 MiB/s on logs without a train bar).
            i = buf.find(b"%|")
            while i >= 0:
                r, n = buf.find(b"\r", i), buf.find(b"\n", i)
                stop = min(r, n) if r >= 0 and n >= 0 else max(r, n) if max(r, n) >= 0 else len(buf)
                if buf.find(b"it/s", i, stop) < 0 and buf.find(b"s/it", i, stop) < 0:
                    i = buf.find(b"%|", stop)  # not a bar the regex can match ("examples/s")
                    continue
                for m in _BAR_SEG_RE.finditer(buf, _segment_start(buf, i), stop):
                    desc = _ANSI_RE.sub(b"", m.group(1)).strip().rstrip(b":").strip().lower()
                    if not desc or desc in (b"train", b"training"):
                        total = int(m.group(3))
                        if self._train_total is None or total > self._train_total:
                            self._train_total = total
                i = buf.find(b"%|", stop)
        pos = len(buf)
        for _ in range(64):
            i = max(buf.rfind(b"it/s", 0, pos), buf.rfind(b"s/it", 0, pos))
            if i < 0:
                return None
            start = _segment_start(buf, i)
            m = _BAR_SEG_RE.match(buf, start, min(len(buf), i + 8))
            pos = start
            if m is None:
                continue
            desc = _ANSI_RE.sub(b"", m.group(1)).strip().rstrip(b":").strip().lower()
            if desc and desc not in (b"train", b"training"):
                continue
            n, total = int(m.group(2)), int(m.group(3))
            ref = self._banner_total or self._train_total
            if ref is None or (total > ref and self._banner_total is None):
                self._train_total = ref = total
            if total != ref:
                continue
            rate = None
            if m.group(5):
                r = float(m.group(5))
                rate = r if m.group(6) == b"it/s" else (1.0 / r if r > 0 else None)
            return Progress(n, total, _parse_elapsed(m.group(4)), rate, base + m.start(2), "bar")
        return None

    def _emit_record(self, rec: Record, out: list[Item]) -> None:
        """Apply echo-dedup and rewind detection, then append ``rec`` to ``out``."""
        prev = self._pending or self._prev
        if prev is not None and self._is_echo(prev, rec):
            # The same record logged a second time by another handler, with its step
            # and rank: keep one. In echo mode the bare copy was held back, so the
            # logged copy (which knows its rank) is the one kept.
            self._echo_mode = True
            if self._pending is not None:
                self._pending = None
                self._accept(rec, out)
            else:
                self._prev = rec
            return
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._accept(pending, out)
        if self._echo_mode and rec.step is None and rec.rank is None:
            self._pending = rec
            return
        self._accept(rec, out)

    @staticmethod
    def _is_echo(prev: Record, rec: Record) -> bool:
        if prev.kind != rec.kind or prev.step is not None or prev.rank is not None:
            return False
        if rec.step is None and rec.rank is None:
            return False
        if prev.epoch != rec.epoch:
            return False
        pm, rm = prev.metrics, rec.metrics
        if len(rm) < len(pm):
            return False
        for k, v in pm.items():
            w = rm.get(k)
            if w is None or not (w == v or (math.isnan(v) and math.isnan(w))):
                return False
        return all(k in pm or k == "total_flos" for k in rm)

    def _accept(self, rec: Record, out: list[Item]) -> None:
        if rec.kind == "train":
            rank = rec.rank
            last_step = self._last_step.get(rank)
            last_epoch = self._last_epoch.get(rank)
            went_back = (rec.step is not None and last_step is not None and rec.step < last_step) or (
                rec.step is None and rec.epoch is not None and last_epoch is not None and rec.epoch < last_epoch
            )
            if went_back:
                out.append(Rewind(rec.epoch, rec.step, rank, rec.offset))
            if rec.step is not None:
                self._last_step[rank] = rec.step
            if rec.epoch is not None:
                self._last_epoch[rank] = rec.epoch
        self._prev = rec
        out.append(rec)

    # -- JSON lines -----------------------------------------------------------------------

    def _parse_jsonl(self, buf: bytes, base: int) -> list[Item]:
        out: list[Item] = []
        pos = 0
        for line in buf.splitlines(keepends=True):
            start = pos
            pos += len(line)
            text = line.strip()
            if not text:
                continue
            if not text.startswith(b"{"):
                # A console line in a JSON-lines file (a rank-prefixed dict, a crash): read
                # it as console output, so a log sniffed from a JSON first line loses nothing.
                out.extend(self._parse_console(line, base + start))
                continue
            try:
                obj = json.loads(text)
            except ValueError:
                # Not JSON: a Python dict literal the Trainer printed, or a broken line.
                got = self._parse_console(line, base + start)
                if not any(isinstance(it, Record) for it in got):
                    self.skipped += 1
                out.extend(got)
                continue
            if not isinstance(obj, dict):
                self.skipped += 1
                continue
            flat = {k: v for k, v in obj.items() if isinstance(v, (int, float, str, type(None)))}
            for k, v in list(flat.items()):
                if isinstance(v, str) and k not in ("global_step/max_steps",):
                    f = _to_float(v)
                    if f is not None:
                        flat[k] = f
            rec, prog = build_record(flat, offset=base + start)
            if prog is not None:
                out.append(prog)
            if rec is not None:
                self._emit_record(rec, out)
        return out

    # -- trainer_state.json ---------------------------------------------------------------

    def _feed_state(self, buf: bytes, base: int) -> list[Item]:
        if len(buf) > MAX_DOC:
            self.skipped += 1
            self._carry = b""
            return []
        tail = buf.rstrip()
        close = buf.find(b"\n}")
        if (close >= 0 and buf[close + 2 :].strip()) or len(buf) - buf.rfind(b"\n") > MAX_CARRY:
            # A pretty-printed JSON document followed by more text (a config printed at the
            # top of a console log), or a line longer than any of an indented
            # trainer_state.json: not a trainer_state.json, and never buffered whole.
            return self._state_is_console(buf, base)
        if not tail.endswith(b"}") or buf.count(b"{") != buf.count(b"}"):
            self._carry, self._carry_offset = buf, base
            return []
        try:
            doc = json.loads(buf)  # json accepts the bare NaN / Infinity the Trainer writes
        except ValueError:
            self._carry, self._carry_offset = buf, base
            return []
        if not isinstance(doc, dict) or not isinstance(doc.get("log_history"), list):
            return self._state_is_console(buf, base)
        self._carry = b""
        self._carry_offset = base + len(buf)
        return list(self._state_items(doc, base))

    def _state_is_console(self, buf: bytes, base: int) -> list[Item]:
        """Sniffed as trainer_state.json (a lone ``{`` first line) but it is not one: read
        the stream, from ``buf`` (all held bytes) on, as console output."""
        self.format = "console"
        self._carry, self._carry_offset = b"", base
        self.offset -= len(buf)  # feed() counts them again
        return self.feed(buf)

    def _state_items(self, doc: object, base: int) -> Iterable[Item]:
        if not isinstance(doc, dict) or not isinstance(doc.get("log_history"), list):
            self.skipped += 1
            return
        max_steps = doc.get("max_steps")
        if isinstance(max_steps, int) and max_steps > 0:
            yield RunInfo(total_steps=max_steps, offset=base)
        n_epochs = doc.get("num_train_epochs")
        if isinstance(n_epochs, int) and n_epochs > 0:
            yield RunInfo(num_epochs=n_epochs, offset=base)
        out: list[Item] = []
        for entry in doc["log_history"]:
            if not isinstance(entry, dict):
                self.skipped += 1
                continue
            flat = {k: v for k, v in entry.items() if isinstance(v, (int, float, str, type(None)))}
            rec, _ = build_record(flat, offset=base)
            if rec is None:
                continue
            key = (rec.kind, rec.step, rec.epoch)
            if key in self._seen_state:
                continue
            self._seen_state.add(key)
            self._emit_record(rec, out)
        yield from out
        gs = doc.get("global_step")
        if isinstance(gs, int):
            yield Progress(
                gs, max_steps if isinstance(max_steps, int) and max_steps > 0 else None, offset=base, source="json"
            )
