"""Columnar catch-up: runs of dict lines of known shapes parsed as numpy columns.

A Trainer log printed without bars is mostly lines of one key sequence (``{'loss': ...,
'grad_norm': ..., 'learning_rate': ..., 'epoch': ...}``), switching now and then to another
(``num_input_tokens_seen`` in one record of twenty) and to the eval records' between them. For
each key sequence a :class:`ShapePlan` is worked out once: what
:func:`~tui_monitor.core.parse.values.build_record` would do with such a dict (kind, metric
names, epoch position, the ``lr`` alias) and one regex that validates a whole dict and captures
its values. :func:`read_run` then turns a run of such lines, starting with a train or eval
record (at a line start, or glued after a tqdm bar's ``]``: a burst's eval dict) and going on
across shape switches and across lines that carry nothing for the parser (`PASSABLE`: blank
lines, the draws of a nested tqdm bar such as the eval bar), into a :class:`ColumnRun`: one
:class:`~tui_monitor.core.parse.items.Batch` of all its rows (each row with its shape), with one
regex match, one split and one ``float`` map per stretch of one shape (or one call of the
compiled reader for the whole run).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Sequence

import numpy as np

from tui_monitor.core.parse import accel
from tui_monitor.core.parse.items import Batch, Record, RecordKind
from tui_monitor.core.parse.values import (
    FAST_QNUM,
    INT,
    NON_METRIC_NUMERIC,
    NUM,
    SPECIAL_KEYS,
    has_metric,
    is_metric_dict,
    record_kind,
)

__all__ = [
    "CLEAR_PREFIX",
    "COLUMNAR_MIN",
    "MIN_RUN",
    "NESTED_BAR_DRAW",
    "PASSABLE",
    "ColumnRun",
    "ShapePlan",
    "plan_for",
    "read_run",
    "run_plans",
]

COLUMNAR_MIN = 256 << 10
"""Chunk size (bytes) from which `Pipeline` feeds with `LogParser.feed_columnar` (catch-up)."""
MIN_RUN = 4
"""Consecutive dict lines (of known shapes) from which they are parsed as columns."""
CLEAR_PREFIX = rb"(?:\r(?:[ \r]*\r)?)?"
"""What may come before a run's dict on its line: ``tqdm.write`` clears the open bars first
(``\\r`` + spaces + ``\\r``, once per bar position), so its lines read ``\\r<spaces>\\r{...}``.
The dict still starts its segment (right after a ``\\r``), so the record path reads it with no
rank or logger prefix, as a run does; the clears' step markers split a run (see the parser)."""


NESTED_BAR_DRAW = (
    rb"\r? *\d{1,3}%\|[^A-Za-z|\r\n\x1b{}]*\| *"
    + INT
    + rb"/"
    + INT
    + rb" *\[[\d:]+<(?:[\d:]+|\?), *(?:[\d.]+(?:it/s|s/it)|\?it/s)\]\x1b\[A"
)
"""One draw of an unlabelled tqdm bar drawn below another (``position >= 1``: the Trainer's
eval bar under its train bar), as tqdm writes it on a line of its own: ``\r`` (or nothing) +
the bar + ``ESC[A`` (the cursor back up), with no padding after the ``]`` and no letter in the
bar."""
PASSABLE = rb"(?:\n|" + NESTED_BAR_DRAW + rb"\n)+"
"""Whole lines a run goes on across (when a dict line of the run follows them): blank lines and
`NESTED_BAR_DRAW` lines. Nothing the console reader scans for can be found in them:

- no ``{`` (no dict, closed or wrapped); no letter but those of ``it/s`` / ``s/it`` (no banner,
  run marker, crash, exception, checkpoint, table header or DeepSpeed line); a bar's ``<``
  makes an open text table's reader skip it as HTML, a blank line ends such a table, with no
  row either way; the bar's ``%|`` means no notebook-style bar is read in its span, whether or
  not a run passes it;
- no train-bar position and no total learnt (`bars.TrainBar.last`, `closing_cut`,
  `fresh_after_reset` skip a bar with ``ESC[A`` right after its ``]``);
- no clear (a segment of spaces ended by ``\r``); to a clear that awaits its redraw
  (`steps.StepTracker._walk`), a blank segment is skipped and the bar is another bar's redraw,
  passed over, unless its total is the train bar's: that ``step`` marker (an eval bar as long
  as the train bar), like every item or marker found inside a run, makes the parser take the
  run's records one by one (`console._split_runs`), so the rule decides speed, never results.

The C reader (`_scan.c` ``passable``) reads the same lines."""

_CLEARS = re.compile(rb"\r(?:[ \r]*\r)?")
"""`CLEAR_PREFIX` where one is (a line that starts with ``\r``)."""
_PASSABLE = re.compile(PASSABLE)


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
        head: the bytes a line of this shape starts with (``{'`` and its first key).
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
        "head",
        "idx_ix",
        "_layouts",
    )

    def __init__(self, keys: tuple[bytes, ...]) -> None:
        names = [k.decode() for k in keys]
        self.keys = keys
        self.head = b"{'" + keys[0] + b"': "  # how a line of this shape starts
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
        self.idx_ix = _ix(self.idx)
        self._layouts: dict[tuple[ShapePlan, ...], _Layout] = {}
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

    def layout(self, plans: tuple[ShapePlan, ...]) -> _Layout:
        """The columns of a run whose rows have the shapes ``plans`` (this one first, the others
        in order of first appearance): ``(names, shape_cols, cols)``, the metric names of all
        shapes in that order, each shape's columns of them, and those as a slice where they are
        consecutive (cached: a log's runs have a few such combinations)."""
        got = self._layouts.get(plans)
        if got is None:
            names: list[str] = []
            col: dict[str, int] = {}
            shape_cols: list[list[int]] = []
            for p in plans:
                for name in p.names:
                    if name not in col:
                        col[name] = len(names)
                        names.append(name)
                shape_cols.append([col[name] for name in p.names])
            got = (names, shape_cols, [_ix(c) for c in shape_cols])
            if len(self._layouts) < 64:
                self._layouts[plans] = got
        return got

    def _one(self) -> bytes:
        return rb", ".join(
            re.escape(b"'" + k + b"': ") + rb"(?:'" + FAST_QNUM + rb"'|(?:" + NUM + rb"))" for k in self.keys
        )


class ColumnRun:
    """Consecutive dict lines of known shapes (`ShapePlan`: train or eval records, rank
    ``None``), parsed as columns.

    Attributes:
        rows: the lines' records as one `Batch` (no steps yet: the policy pairs them).
        end: stream offset just past the run (bytes).
    """

    __slots__ = ("rows", "end")

    def __init__(self, rows: Batch, end: int) -> None:
        self.rows = rows
        self.end = end

    def __len__(self) -> int:
        return len(self.rows)

    def record(self, i: int) -> Record:
        """Row ``i`` as the record path builds it."""
        return self.rows.record(i)


def run_plans(first: ShapePlan, plans: Iterable[ShapePlan | None]) -> list[ShapePlan]:
    """The shapes a run that starts with a line of ``first`` may go on with, ``first`` first:
    metric records of kind ``train`` or ``eval`` (a summary ends a run: a new run may follow it)
    with an epoch exactly when ``first`` has one (a row's epoch is a column of the run)."""
    has_epoch = first.epoch_idx >= 0
    out = [first]
    for p in plans:
        if (
            p is not None
            and p is not first
            and p.record
            and p.is_metric
            and p.kind != "summary"
            and (p.epoch_idx >= 0) == has_epoch
        ):
            out.append(p)
    return out[:255]


def read_run(buf: bytes, s: int, base: int, plans: Sequence[ShapePlan]) -> ColumnRun | None:
    """The run of whole dict lines starting at ``buf[s]`` (the ``{`` of a dict of ``plans[0]``'s
    shape that ends its line; at a line start, or after other text of its line such as a tqdm
    bar, which is not part of the run): each next line of any of ``plans``' shapes, maybe after
    `CLEAR_PREFIX`, maybe after `PASSABLE` lines (not part of the rows; the run ends at its last
    dict line); its values
    parsed with ``float`` (as the record path does), or None when shorter than
    :data:`MIN_RUN`. With the C extension (`accel.scan`) the same run is read in C, with the
    same values bit for bit (``PyOS_string_to_double``, the function behind ``float``)."""
    fast = accel.scan
    if fast is not None:
        key = tuple(plans)
        spec = _SPECS.get(key) or _RunSpec.of(key)
        got = fast.read_run(buf, s, base, spec.keys, spec.dest, MIN_RUN)
        if got is None:
            return None
        # The C reader laid the run out as its `Batch` holds it: one frombuffer per column set.
        e, used, raw_vals, raw_epoch, raw_offsets, raw_shapes = got
        names, shape_cols, kinds = spec.forms.get(used) or spec.form(used)
        offsets = np.frombuffer(raw_offsets, dtype=np.int64)
        values = np.frombuffer(raw_vals, dtype=np.float64).reshape(offsets.shape[0], len(names))
        epoch = None if raw_epoch is None else np.frombuffer(raw_epoch, dtype=np.float64)
        if not raw_shapes:
            return ColumnRun(Batch(kinds[0], names, values, epoch, _NO_STEPS, offsets), e)
        shapes = np.frombuffer(raw_shapes, dtype=np.uint8)
        batch = Batch(
            kinds[0], names, values, epoch, _NO_STEPS, offsets, shapes=shapes, shape_cols=shape_cols, shape_kinds=kinds
        )
        return ColumnRun(batch, e)
    return _read_run_py(buf, s, base, plans)


class _RunSpec:
    """What the C reader needs of a run's shapes (``plans``, the first one first), worked out once
    per combination (a log has a few): their keys, each key's column as a name id (``dest``: one
    int32 per key, -1 for a key that is no metric, -2 for the epoch), and per combination of the
    shapes a run has lines of (``used``, in order of their first line) the `Batch` form:
    ``(names, shape_cols, shape_kinds)``, as `ShapePlan.layout` makes it."""

    __slots__ = ("plans", "keys", "dest", "forms")

    def __init__(self, plans: tuple[ShapePlan, ...]) -> None:
        self.plans = plans
        self.keys = tuple(p.keys for p in plans)
        ids: dict[str, int] = {}
        dest: list[int] = []
        for p in plans:
            col = dict(zip(p.idx, p.names))
            for i in range(len(p.keys)):
                name = col.get(i)
                dest.append(-2 if i == p.epoch_idx else -1 if name is None else ids.setdefault(name, len(ids)))
        self.dest = array("i", dest).tobytes()
        self.forms: dict[bytes, tuple[list[str], list[list[int]], list[RecordKind]]] = {}

    @staticmethod
    def of(plans: tuple[ShapePlan, ...]) -> _RunSpec:
        """The cached spec of ``plans`` (a new one when not cached)."""
        if len(_SPECS) >= 256:
            _SPECS.clear()  # (ever-new combinations: a hostile log; the cache stays small)
        spec = _SPECS[plans] = _RunSpec(plans)
        return spec

    def form(self, used: bytes) -> tuple[list[str], list[list[int]], list[RecordKind]]:
        """``(names, shape_cols, shape_kinds)`` of a run with lines of the shapes ``used``
        (indices into ``plans``, in order of their first line)."""
        got = self.forms.get(used)
        if got is None:
            plans = tuple(self.plans[q] for q in used)
            names, shape_cols, _ = plans[0].layout(plans)
            got = self.forms[used] = (names, shape_cols, [p.kind for p in plans])
        return got


_SPECS: dict[tuple[ShapePlan, ...], _RunSpec] = {}


def _read_run_py(buf: bytes, s: int, base: int, plans: Sequence[ShapePlan]) -> ColumnRun | None:
    """`read_run` in pure Python: regex matches of whole same-shape stretches, one `_values`
    per shape (its stretches joined)."""
    plan = plans[0]
    m = plan.run.match(buf, s)
    if m is None:
        return None
    stretches: list[tuple[int, int, int]] = []  # (plan index, start, end)
    cur, at, e = 0, s, m.end()
    passed = False  # whether the run went on across `PASSABLE` lines
    while True:
        if buf.startswith(b"\r", e):
            # The run goes on over lines that start with tqdm.write's clears.
            m = plans[cur].run_cleared.match(buf, e)
            if m is not None:
                e = m.end()
        stretches.append((cur, at, e))
        if e >= len(buf):
            break
        # Lines that carry nothing for the parser (an eval bar's draws) are passed when a line
        # of the run follows them; else the run ends before them.
        p = _PASSABLE.match(buf, e)
        nxt = p.end() if p is not None else e
        if (len(plans) == 1 and nxt == e) or nxt >= len(buf):
            break
        # A line of a known shape (another one, or any after passed lines) goes on with the
        # run. (Only a shape whose first key opens the line is tried: its regex is compiled
        # when first needed.)
        cleared = buf[nxt] == 13
        brace = nxt
        if cleared:
            c = _CLEARS.match(buf, nxt)
            brace = c.end() if c is not None else nxt
        if not buf.startswith(b"{'", brace):
            break
        for j, other in enumerate(plans):
            if (j != cur or nxt != e) and buf.startswith(other.head, brace):
                m = (other.run_cleared if cleared else other.run).match(buf, nxt)
                if m is not None:
                    passed = passed or nxt != e
                    cur, at, e = j, nxt, m.end()
                    break
        else:
            break
    counts = [buf.count(b"\n", a, b) for _, a, b in stretches]
    if sum(counts) < MIN_RUN:
        return None
    e = stretches[-1][2]
    region = buf[s:e]
    # Each dict line holds one "{" (keys and values have none, passed lines none): its offset
    # is the record's.
    offsets = np.flatnonzero(np.frombuffer(region, dtype=np.uint8) == 123).astype(np.int64)
    offsets += base + s
    used = list(dict.fromkeys(j for j, _, _ in stretches))
    if len(used) == 1 and not passed:
        return _assemble([plans[used[0]]], None, [_values(region, plans[used[0]])], offsets, base + e)
    # The lines of each shape converted at once (one stretch of a line or two is common).
    vals = [_shape_values(buf, stretches, counts, j, plans[j]) for j in used]
    if len(used) == 1:
        return _assemble([plans[used[0]]], None, vals, offsets, base + e)
    pos = {j: q for q, j in enumerate(used)}
    shape_of = [pos[j] for j, _, _ in stretches]
    shapes = np.repeat(np.array(shape_of, dtype=np.uint8), counts)
    return _assemble([plans[j] for j in used], shapes, vals, offsets, base + e, list(zip(shape_of, counts)))


def _shape_values(
    buf: bytes, stretches: list[tuple[int, int, int]], counts: list[int], j: int, plan: ShapePlan
) -> np.ndarray:
    """`_values` of the lines of ``plans[j]`` among ``stretches`` (``(plan index, start, end)``
    each, ``counts`` their lines); a shape's single line (a burst's eval row) by its dict's regex,
    whose groups are the values (as on the record path), instead of the key-blanking passes."""
    spans = [(a, b, n) for (i, a, b), n in zip(stretches, counts) if i == j]
    if len(spans) == 1 and spans[0][2] == 1:
        m = plan.shape.match(buf, buf.find(b"{", spans[0][0]))
        if m is not None:
            return np.array([list(map(float, filter(None, m.groups())))], dtype=np.float64)
    return _values(b"".join([buf[a:b] for a, b, _ in spans]), plan)


def _values(region: bytes, plan: ShapePlan) -> np.ndarray:
    """The values ``(n, len(plan.keys))`` of validated lines of ``plan``'s shape (``region``,
    their bytes, maybe after tqdm.write's clears)."""
    text = region
    for old, new in plan.repl:
        text = text.replace(old, new)
    if b"'" in text:
        text = text.translate(None, b"'")
    return np.array(list(map(float, text.split())), dtype=np.float64).reshape(-1, len(plan.keys))


def _assemble(
    plans: list[ShapePlan],
    shapes: np.ndarray | None,
    vals: list[np.ndarray],
    offsets: np.ndarray,
    end: int,
    stretches: list[tuple[int, int]] | None = None,
) -> ColumnRun:
    """A run of the rows ``vals[p]`` (every key of each line of ``plans[p]``, in row order), the
    rows' shapes ``shapes`` (``None``: all of ``plans[0]``), as one `Batch` over the metric names
    of all shapes in order of first appearance (``plans`` are in that order). ``stretches``: the
    rows' consecutive stretches as ``(shape, rows)``, when known (else found in ``shapes``)."""
    first = plans[0]
    if shapes is None:
        v = vals[0]
        epoch = v[:, first.epoch_idx].copy() if first.epoch_idx >= 0 else None
        return ColumnRun(Batch(first.kind, first.names, v[:, first.idx], epoch, _NO_STEPS, offsets), end)
    names, shape_cols, cols = first.layout(tuple(plans))
    n = len(offsets)
    values = np.full((n, len(names)), np.nan)
    epoch = np.empty(n) if first.epoch_idx >= 0 else None
    # Where the shape changes: a run is mostly a few stretches of one shape (a burst's eval row,
    # then its train rows), each copied as slices; many stretches are copied per shape at once.
    if stretches is None:
        cuts = np.flatnonzero(shapes[1:] != shapes[:-1])
        if len(cuts) < 16:
            bounds = [0, *(cuts + 1).tolist(), n]
            stretches = [(int(shapes[a]), b - a) for a, b in zip(bounds, bounds[1:])]
    if stretches is not None and len(stretches) <= 16:
        taken = [0] * len(plans)  # rows of each shape's values copied so far
        a = 0
        for q, size in stretches:
            b = a + size
            p, i = plans[q], taken[q]
            taken[q] = i + b - a
            block = vals[q][i : taken[q]]
            values[a:b, cols[q]] = block[:, p.idx_ix]
            if epoch is not None:
                epoch[a:b] = block[:, p.epoch_idx]
            a = b
    else:
        for q, p in enumerate(plans):
            rows = np.flatnonzero(shapes == q)
            values[rows[:, None], shape_cols[q]] = vals[q][:, p.idx]
            if epoch is not None:
                epoch[rows] = vals[q][:, p.epoch_idx]
    batch = Batch(
        first.kind,
        names,
        values,
        epoch,
        _NO_STEPS,
        offsets,
        shapes=shapes,
        shape_cols=shape_cols,
        shape_kinds=[p.kind for p in plans],
    )
    return ColumnRun(batch, end)


_NO_STEPS = np.empty(0, dtype=np.int64)

_Layout = tuple[list[str], list[list[int]], list[slice | list[int]]]


def _ix(cols: list[int]) -> slice | list[int]:
    """``cols`` as a slice where they are consecutive (numpy copies a slice faster than it
    gathers a list of indices), else as they are."""
    if cols and cols == list(range(cols[0], cols[0] + len(cols))):
        return slice(cols[0], cols[0] + len(cols))
    return cols


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
