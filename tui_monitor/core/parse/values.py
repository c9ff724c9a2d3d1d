"""Metric dicts as the Trainer prints them: find them, read their values, build records.

``{'loss': 2.51, ...}`` (4.x, bare floats and ``nan``), ``{'loss': '2.511', ...}`` (5.x, quoted
``.4g`` strings), ``np.float64(...)``/``tensor(...)`` values, JSON objects: all become
``key -> float | str | bool | None`` and then one :class:`~tui_monitor.core.parse.items.Record`
(:func:`build_record`). The measured decision of DESIGN.md applies: compiled regular expressions
over ``bytes``; ``float()`` accepts ``nan``, ``inf``, ``1e-05``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping

from tui_monitor.core.parse.items import Progress, Record, RecordKind

__all__ = [
    "DICT_RE",
    "FAST_DICT_RE",
    "FAST_PAIR_RE",
    "FAST_QNUM",
    "INT",
    "MAX_DIGITS",
    "MARKER_KEYS",
    "NON_METRIC_NUMERIC",
    "NUM",
    "SPECIAL_KEYS",
    "build_record",
    "has_metric",
    "is_metric_dict",
    "json_int",
    "log_int",
    "record_kind",
    "parse_elapsed",
    "parse_pairs",
    "to_float",
]

DICT_RE = re.compile(rb"\{['\"][^{}\r\n]*\}")
_STR = rb"'(?:[^'\\\r\n]|\\.)*'|\"(?:[^\"\\\r\n]|\\.)*\""
NUM = rb"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|[-+]?(?:nan|NaN|inf|Infinity)"
_PAIR_RE = re.compile(
    rb"\s*(" + _STR + rb")\s*:\s*(?:"
    rb"(" + _STR + rb")"  # 2: quoted string (5.x prints every value like this)
    rb"|(" + NUM + rb")"  # 3: bare number, nan, inf
    rb"|np\.float(?:16|32|64)\(\s*(" + NUM + rb")\s*\)"  # 4
    rb"|tensor\(\s*(" + NUM + rb")\s*(?:,[^()]*)?\)"  # 5: tensor(0.75, device='cuda:0')
    rb"|(True|False|None|null|true|false)"  # 6
    rb")\s*(,|\})"
)
# Fast path: a flat dict printed by the Trainer (``'key': value`` pairs separated by
# ``, ``; values bare numbers or quoted numbers) is validated by one ``fullmatch`` and split
# by one ``findall``; anything else (spacing, strings, calls, escapes) takes `parse_pairs`.
_FAST_KEY = rb"'[A-Za-z0-9_/.@-]+'"
FAST_QNUM = (
    rb"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?"
    rb"|[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
)
_FAST_VAL = rb"(?:'" + FAST_QNUM + rb"'|" + NUM + rb")"
FAST_DICT_RE = re.compile(
    rb"\{" + _FAST_KEY + rb": " + _FAST_VAL + rb"(?:, " + _FAST_KEY + rb": " + _FAST_VAL + rb")*\}"
)
FAST_PAIR_RE = re.compile(rb"'([A-Za-z0-9_/.@-]+)': (?:'(" + FAST_QNUM + rb")'|(" + NUM + rb"))(?=,|\})")
_FLOAT_STR_RE = re.compile(r"\s*[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|infinity)\s*", re.I)

MAX_DIGITS = 18
"""The most digits a count read from a log can have: a step, a bar's count or total, a banner
number (``Total optimization steps = N``), an epoch count. 18 digits is below int64's limit
(9.2e18), past any count a run can reach; a longer digit run is not such a number (it is
corrupt or hostile text, and past 4300 digits Python's ``int()`` raises ``ValueError``), so
the text holding it is not read as that shape: a bar segment with such a count is no bar (no
redraw, no position), a banner line with one gives no fact, a record keeps no such step. The
C scan (``_scan.c``, ``MAX_DIGITS``) applies the same bound."""

INT = rb"\d{1,%d}(?!\d)" % MAX_DIGITS
"""A count in a pattern: a whole run of at most `MAX_DIGITS` digits (a longer run does not
match; put it where no digit can stand just before it). ``int()`` of what it matched never
fails, so patterns built with it need no `log_int`."""

_SLASH_RE = re.compile(r"\s*(" + INT.decode() + r")\s*/\s*(" + INT.decode() + r")\s*")


def log_int(value: bytes | str | float) -> int | None:
    """A count read from a log as an ``int``, or ``None`` when it cannot be one.

    Args:
        value: its decimal digits (``bytes`` or ``str``, surrounding whitespace allowed), or
            a number read from a dict value (``'step': 500`` arrives as a ``float`` or ``int``).

    Returns:
        the ``int`` (a float is truncated, as ``int()`` does); ``None`` for more than
        `MAX_DIGITS` digits, a number of magnitude ``10**MAX_DIGITS`` or more, ``nan`` or
        ``inf`` (see `MAX_DIGITS`: no step or count a log can mean).

    Raises:
        ValueError: text that is not digits (as ``int()``; callers that read a digits-only
            match never see it).
    """
    if isinstance(value, (bytes, str)):
        digits = value.strip()
        return int(digits) if len(digits) <= MAX_DIGITS else None
    if math.isfinite(value) and abs(value) < 10**MAX_DIGITS:
        return int(value)
    return None


def json_int(digits: str) -> int | float:
    """``json.loads``'s ``parse_int``: a JSON integer as an ``int`` when it has at most
    `MAX_DIGITS` digits (its sign aside), else as the ``float`` it reads as (``inf`` past
    float's range), as the console reader's ``float()`` reads a dict's value. A longer one is no
    step or count (`log_int` gives ``None`` for it) and a metric of it stays a number; without
    this, ``json.loads`` raised ``ValueError`` past 4300 digits and ``float()`` of a long one
    ``OverflowError``."""
    return int(digits) if len(digits.lstrip("-")) <= MAX_DIGITS else float(digits)


MARKER_KEYS = frozenset(
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
printed to the console is not. The learning rate is a marker only beside a position
(see :func:`has_metric`)."""

_LR_KEYS = frozenset({"learning_rate", "lr"})
_WHEN_KEYS = frozenset({"epoch", "step", "current_steps", "global_step", "global_step/max_steps"})
"""Keys that place a record in the run: a learning rate logged beside one of them is a
trainer's record; a learning rate alone is a hyper-parameter (an Optuna trial's parameters,
``{'learning_rate': 0.012, 'num_leaves': 91}``, or a config)."""

_SUMMARY_KEYS = frozenset({"train_loss", "train_samples_per_second", "train_steps_per_second"})
_STEP_KEYS = frozenset({"loss", "grad_norm", "learning_rate"})

NON_METRIC_NUMERIC = frozenset({"epoch", "step", "current_steps", "total_steps", "percentage"})

SPECIAL_KEYS = frozenset(
    {"global_step/max_steps", "step", "current_steps", "global_step", "total_steps", "elapsed_time"}
)
"""Keys `build_record` treats specially (progress, stated steps): dicts with them take the
general path."""


def to_float(text: str) -> float | None:
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


def parse_pairs(body: bytes) -> dict[str, object] | None:
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
            f = to_float(s)
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


def has_metric(names: Iterable[str], timed: bool) -> bool:
    """Whether keys ``names`` are those a trainer logs together.

    Args:
        names: the dict's keys (or a record's metric names).
        timed: the dict places itself in the run (an epoch or a step beside its metrics).

    A loss (any key ending in ``loss``), an ``eval_``/``rewards/`` key or another training
    marker (:data:`MARKER_KEYS`) is enough; a learning rate counts only when ``timed``: a
    hyper-parameter search prints trial parameters with a learning rate and no epoch.
    """
    lr = False
    for k in names:
        if k in _LR_KEYS:
            lr = True
        elif k in MARKER_KEYS or k.endswith("loss") or k.startswith(("eval_", "rewards/")):
            return True
    return lr and timed


def is_metric_dict(d: Mapping[str, object]) -> bool:
    """Whether a parsed dict's keys mark a metric record (:func:`has_metric`, timed by its
    own epoch/step keys)."""
    return has_metric(d, any(k in _WHEN_KEYS for k in d))


def record_kind(metrics: Collection[str]) -> RecordKind:
    """The kind of a record with metric names ``metrics``.

    ``summary``: ``train_runtime`` with the train-level keys the Trainer's last record has
    (``train_loss``, ``train_samples_per_second``...) and none of a step's (``loss``,
    ``grad_norm``, ``learning_rate``): frameworks that log the runtime at every step print
    train records, not summaries. ``eval``: any ``eval_*`` key. Else ``train``.
    """
    if "train_runtime" in metrics:
        if not _STEP_KEYS.intersection(metrics) and (
            _SUMMARY_KEYS.intersection(metrics) or not any(k != "train_runtime" for k in metrics)
        ):
            return "summary"
    if any(k.startswith("eval_") for k in metrics):
        return "eval"
    return "train"


def parse_elapsed(text: bytes | str) -> float | None:
    """``"01:02"`` / ``"1:02:03"`` / ``"4 days, 5:06:09"`` -> seconds."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    days: int | None = 0
    if "day" in text:
        head, _, text = text.partition(",")
        try:
            days = log_int(head.split()[0])
        except (ValueError, IndexError):
            return None
    if days is None:
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

    Classification (as transformers' Trainer logs them): :func:`record_kind`. A dict whose
    only metric is a learning rate, with no epoch or step, is no record (:func:`has_metric`).
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
            step = log_int(fv)
        elif key in NON_METRIC_NUMERIC:
            continue
        elif key == "lr":
            metrics["learning_rate"] = fv
        else:
            metrics[key] = fv
    total_steps = values.get("total_steps")
    # A line that states its step and the run's total (LLaMA-Factory's ``current_steps``/
    # ``total_steps``, trainmon.jsonl's ``step``/``total_steps``) is a position too.
    total = None
    if isinstance(total_steps, (int, float)) and not isinstance(total_steps, bool):
        total = log_int(total_steps)
    if total is not None and step is not None:
        elapsed = values.get("elapsed_time")
        progress = Progress(
            step,
            total,
            elapsed_s=parse_elapsed(elapsed) if isinstance(elapsed, str) else None,
            offset=offset,
            source="json",
        )
    timed = epoch is not None or step is not None
    if not metrics or not (has_metric(metrics, timed) or any(k in MARKER_KEYS or k.endswith("loss") for k in text)):
        # (a marker key whose value is text this time, 'loss': 'n/a', still makes a record)
        # e.g. LLaMA-Factory's last line: only throughput/progress, no metric.
        return None, progress
    return Record(record_kind(metrics), metrics, step, epoch, offset, rank, text), progress
