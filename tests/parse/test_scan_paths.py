"""The compiled scan (the optional C extension ``_scan``) and the pure-Python path give the
same results: the same runs (boundaries), the same values bit for bit (nan signs, -0.0,
overflow to inf, subnormals), the same items and parser state — on every fixture, on
generated logs of every kind, and on random logs and random run text (hypothesis).

The pure-Python path is the reference. Without the extension (no compiler at install time)
the compiled half of each test is skipped; CI builds it (``trainmon --version`` says which
path runs, ``TRAINMON_PURE_PYTHON=1`` forces pure Python).
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import math
import os
import random
import re
import struct
import subprocess
import sys

import gen_logs  # benchmarks/gen_logs.py (pyproject's pythonpath)
import numpy as np
import pytest
from helpers import FIXTURES as FIX
from helpers import scan_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_monitor.core.parse import Batch, LogParser, Record, accel, values
from tui_monitor.core.parse import columnar as columnar_mod
from tui_monitor.core.parse.steps import StepTracker

COMPILED = accel.scan
needs_compiled = pytest.mark.skipif(COMPILED is None, reason="the C extension is not built here")
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIXTURES = sorted(
    p
    for p in FIX.rglob("*")
    if p.suffix in (".log", ".jsonl", ".json")
    and p.name != "labels.json"
    and not p.name.endswith((".expect.json", ".truth.json"))
)


def _bits(v: object) -> object:
    return struct.pack("<d", v).hex() if isinstance(v, float) else v


def _items(items: list[object]) -> list[object]:
    """Items with every float by its bits; a batch by its columns' bytes."""
    out: list[object] = []
    for it in items:
        if isinstance(it, Batch):
            out.append(
                (
                    "batch",
                    it.kind,
                    tuple(it.names),
                    it.values.astype(np.float64).tobytes(),
                    None if it.epoch is None else it.epoch.tobytes(),
                    it.steps.tobytes(),
                    it.offsets.tobytes(),
                )
            )
        elif isinstance(it, Record):
            out.append(
                (
                    "record",
                    it.kind,
                    tuple((k, _bits(v)) for k, v in it.metrics.items()),
                    it.step,
                    _bits(it.epoch),
                    it.offset,
                    it.rank,
                )
            )
        else:
            out.append(repr(it))
    return out


def _parse(data: bytes, chunk: int, compiled: bool) -> tuple[list[object], object, int]:
    """``feed_columnar`` in ``chunk``-byte pieces on one path: (items, parser state, batches)."""
    with scan_path(compiled):
        p = LogParser()
        items: list[object] = []
        for i in range(0, len(data), chunk):
            items += p.feed_columnar(data[i : i + chunk])
        items += p.flush()
    return _items(items), p.policy_state(), sum(isinstance(i, Batch) for i in items)


def _same_both_ways(data: bytes, chunks: tuple[int, ...]) -> int:
    batches = 0
    for chunk in chunks:
        ref, ref_state, nb = _parse(data, chunk, compiled=False)
        got, state, nb2 = _parse(data, chunk, compiled=True)
        assert got == ref, f"items differ (chunk {chunk})"
        assert repr(state) == repr(ref_state), f"parser state differs (chunk {chunk})"
        assert nb2 == nb
        batches += nb
    return batches


@needs_compiled
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixtures_same_on_both_paths(path: object) -> None:
    data = path.read_bytes()
    _same_both_ways(data, (1 << 30, 4096 + 3))


def _gen(kind: str, size: int, seed: int, unbuffered: bool = False) -> bytes:
    out = io.BytesIO()
    gen_logs.generate(out, kind, size=size, seed=seed, unbuffered=unbuffered, eval_steps=200)
    return out.getvalue()


@needs_compiled
@pytest.mark.parametrize("kind", gen_logs.KINDS)
def test_generated_logs_same_on_both_paths(kind: str) -> None:
    data = _gen(kind, 300_000, 21)
    batches = _same_both_ways(data, (1 << 30, 65_536 + 7))
    if kind.startswith("dense"):
        assert batches > 0  # the compiled reader was used


# -- random run text: read_run itself, C against Python ------------------------------------

# Value tokens: every form the grammar takes, its edges, and near misses (which end a run).
TOKENS = [
    "1",
    "-0",
    "0.0",
    "-0.0",
    "1.",
    ".5",
    "+1.5e3",
    "1e-05",
    "5e-324",
    "2.4e-324",
    "1e999",
    "-1e999",
    "1.7976931348623157e308",
    "0.30000000000000004",
    "123456789012345678901234567890",
    "9" * 200,
    "0." + "1" * 150,
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "+Infinity",
    "'nan'",
    "'NAN'",
    "'-NaN'",
    "'INF'",
    "'-infinity'",
    "'1e-05'",
    "'2.511'",
    "'.5'",
]
NEAR_MISSES = [  # not in the grammar: the run ends before such a line
    "1e",
    "--1",
    "nan1",
    "'NaNa'",
    "INF",
    "1.5.2",
    "'1e5",
    "e5",
    ".",
    "''",
    "1 ",
    "0x10",
    "Inf",
    "'in'",
    "NAN",
]


def _token(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(TOKENS)) if draw(st.integers(0, 24)) else draw(st.sampled_from(NEAR_MISSES))


PREFIXES = [b"", b"", b"\r", b"\r" + b" " * 60 + b"\r", b"\r \r  \r", b"\r ", b" \r", b"\x1b[A", b"\r\r"]


OTHER = ("loss", "grad_norm", "learning_rate", "num_input_tokens_seen", "epoch")
"""A train shape that switches in now and then (``num_input_tokens_seen`` in one record of twenty)."""
EVAL = ("eval_loss", "eval_runtime", "epoch")
"""An eval record's shape, between train records."""
BETWEEN = [
    # Lines a run passes (`columnar.PASSABLE`: a blank line, a nested bar's draw), and near
    # misses of them, put between dict lines now and then.
    b"\n",
    b"\r  0%|          | 0/32 [00:00<?, ?it/s]\x1b[A\n",
    "\r 25%|██▌       | 8/32 [00:00<00:01, 22.24it/s]\x1b[A\n".encode(),
    b" 50%|#####     | 16/32 [01:02<1:00:01,  3.10s/it]\x1b[A\n",
    b"\r100%|##########| 123456789012345678/123456789012345678 [00:01<00:00, 1.0it/s]\x1b[A\n",
    b"\r100%|##########| 1234567890123456789/3 [00:01<00:00, 1.0it/s]\x1b[A\n",
    b"\r1000%|#| 8/32 [00:00<00:01, 22.24it/s]\x1b[A\n",
    b"\r 25%|##| 8/32 [00:00<00:01, 22.24it/s] \x1b[A\n",
    b"\r 25%|##| 8/32 [00:00<00:01, 22.24it/s, loss=1]\x1b[A\n",
    b"\rEval: 25%|##| 8/32 [00:00<00:01, 22.24it/s]\x1b[A\n",
    b"\r 25%|{#| 8/32 [00:00<00:01, 22.24it/s]\x1b[A\n",
    b"\r 25%|##| 8/32 [00:00<00:01, 22.24it/s]\n",
    b"\r 25%|##| 8/32 [00:00<00:01, 22.24it/s]\x1b[A",
    b"\r 25%|##| 8/32 [00:00<00:01, 22.24it/s]\x1b[A\r\n",
    b"\r 25%|##| 8/ [00:00<00:01, 22.24it/s]\x1b[A\n",
    b"\r 25%|##| 8/32 [<00:01, 22.24it/s]\x1b[A\n",
    b"\r 25%|##| 8/32 [00:00<, 22.24it/s]\x1b[A\n",
    b"\r 25%|##| 8/32 [00:00<00:01, it/s]\x1b[A\n",
    b"\r 25%|##| 8/32 [00:00<00:01, 2it/]\x1b[A\n",
]


@st.composite
def run_text(draw: st.DrawFn) -> tuple[bytes, tuple[bytes, ...]]:
    keys = draw(st.sampled_from([("loss", "grad_norm", "learning_rate", "epoch"), ("loss", "epoch"), ("eval_loss",)]))
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=30))):
        r = draw(st.integers(0, 9))
        ks = OTHER if r == 0 else EVAL if r == 1 else keys
        vals = [_token(draw) for _ in ks]
        body = "{" + ", ".join(f"'{k}': {v}" for k, v in zip(ks, vals)) + "}"
        end = "\n" if draw(st.integers(0, 19)) else draw(st.sampled_from(["\r\n", "", "}\n", " \n"]))
        lines.append(draw(st.sampled_from(PREFIXES)) + body.encode() + end.encode())
        if not draw(st.integers(0, 7)):
            lines.append(b"".join(draw(st.lists(st.sampled_from(BETWEEN), min_size=1, max_size=3))))
    text = b"".join(lines)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # cut anywhere
    return text, tuple(k.encode() for k in keys)


def _read(buf: bytes, keys: tuple[bytes, ...], compiled: bool) -> object:
    return _read_at(buf, 0, keys, compiled)


def _read_at(buf: bytes, start: int, keys: tuple[bytes, ...], compiled: bool, *others: tuple[bytes, ...]) -> object:
    """`read_run` at ``buf[start]`` (stream offset 1000 for ``buf[0]``) on one path, the run
    starting with a line of ``keys`` and going on over lines of ``keys`` or ``others``:
    ``(end, names, values' bytes, epochs' bytes, offsets, row shapes)`` or ``None``."""
    first = columnar_mod.ShapePlan(keys)
    plans = columnar_mod.run_plans(first, [columnar_mod.ShapePlan(k) for k in others])
    with scan_path(compiled):
        run = columnar_mod.read_run(buf, start, 1000, plans)
    if run is None:
        return None
    rows = run.rows
    return (
        run.end,
        rows.names,
        rows.values.shape,
        rows.values.tobytes(),
        None if rows.epoch is None else rows.epoch.tobytes(),
        rows.offsets.tolist(),
        None if rows.shapes is None else (rows.shapes.tolist(), rows.shape_cols, rows.shape_kinds),
    )


@needs_compiled
@PROPS
@given(case=run_text(), min_run=st.integers(min_value=1, max_value=4))
def test_read_run_same_on_both_paths(case: tuple[bytes, tuple[bytes, ...]], min_run: int) -> None:
    buf, keys = case
    saved = columnar_mod.MIN_RUN
    columnar_mod.MIN_RUN = min_run
    try:
        assert _read(buf, keys, compiled=True) == _read(buf, keys, compiled=False)
    finally:
        columnar_mod.MIN_RUN = saved


@needs_compiled
@PROPS
@given(case=run_text(), min_run=st.integers(min_value=1, max_value=4))
def test_read_run_across_shapes_same_on_both_paths(case: tuple[bytes, tuple[bytes, ...]], min_run: int) -> None:
    # The run goes on over lines of the other known shapes (another train key sequence, eval
    # records): the same rows, shapes and values on both paths.
    buf, keys = case
    others = tuple(tuple(k.encode() for k in ks) for ks in (OTHER, EVAL))
    saved = columnar_mod.MIN_RUN
    columnar_mod.MIN_RUN = min_run
    try:
        assert _read_at(buf, 0, keys, True, *others) == _read_at(buf, 0, keys, False, *others)
    finally:
        columnar_mod.MIN_RUN = saved


@needs_compiled
def test_read_run_values_are_floats_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    # A hand-checked run: each value is float()'s, bit for bit (nan sign, -0.0, inf, subnormal);
    # the run ends before the line of another shape.
    monkeypatch.setattr(columnar_mod, "MIN_RUN", 2)
    buf = b"{'loss': -nan, 'epoch': '-0'}\n\r   \r{'loss': 1e999, 'epoch': 5e-324}\n{'loss': 'NaN'}\n"
    got = _read(buf, (b"loss", b"epoch"), compiled=True)
    assert got is not None
    end, names, shape, raw, epochs, offsets, shapes = got  # type: ignore[misc]
    assert (end, names, shape, offsets, shapes) == (1000 + 68, ["loss"], (2, 1), [1000, 1000 + 35], None)
    assert raw == struct.pack("<2d", float(b"-nan"), float(b"1e999"))
    assert epochs == struct.pack("<2d", float(b"-0"), float(b"5e-324"))
    assert math.copysign(1.0, struct.unpack("<2d", raw)[0]) == -1.0


@needs_compiled
def test_read_run_columns_of_shapes_met_out_of_order() -> None:
    # The compiled reader lays the run out as its Batch holds it: the columns of the shapes in
    # order of their first line (here the third known shape before the second), one column for
    # `lr` and `learning_rate` (one metric), none for a key that is no metric (`percentage`),
    # NaN where a row's shape lacks a metric; the row shapes index the shapes met. Both paths.
    ev = (b"eval_loss", b"percentage", b"epoch")
    lr = (b"loss", b"lr", b"epoch")
    tr = (b"loss", b"learning_rate", b"grad_norm", b"epoch")
    buf = (
        b"{'eval_loss': 2.5, 'percentage': 10, 'epoch': 0.5}\n"
        b"{'loss': 1.5, 'learning_rate': 0.001, 'grad_norm': 3.0, 'epoch': 0.6}\n"
        b"{'loss': 1.25, 'lr': 0.002, 'epoch': 0.7}\n"
        b"{'loss': 1.0, 'learning_rate': 0.003, 'grad_norm': 2.0, 'epoch': 0.8}\n"
    )
    got = _read_at(buf, 0, ev, True, lr, tr)
    assert got == _read_at(buf, 0, ev, False, lr, tr)
    end, names, shape, raw, epochs, offsets, shapes = got  # type: ignore[misc]
    assert (end, names, shape) == (1000 + len(buf), ["eval_loss", "loss", "learning_rate", "grad_norm"], (4, 4))
    nan = math.nan
    want = [[2.5, nan, nan, nan], [nan, 1.5, 0.001, 3.0], [nan, 1.25, 0.002, nan], [nan, 1.0, 0.003, 2.0]]
    assert raw == np.array(want).tobytes()
    assert epochs == struct.pack("<4d", 0.5, 0.6, 0.7, 0.8)
    assert offsets == [1000, 1051, 1121, 1163]
    assert shapes == ([0, 1, 2, 1], [[0], [1, 2, 3], [1, 2]], ["eval", "train", "train"])


@needs_compiled
def test_fast_conversion_edges_are_floats_bits() -> None:
    # The compiled reader converts short decimals itself (Clinger's fast path: an exact integer
    # of at most 2^53 times or over an exact power of ten up to 10^22) and hands every other
    # token to the conversion behind float(): on both sides of each edge, every bit is float()'s.
    edges = ["9007199254740992", "9007199254740993", "-9007199254740992e22", "9007199254740991e-22"]
    edges += ["1e22", "1e23", "1e-22", "1e-23", "4.35", "0.1e-21", "0.30000000000000004", "2.2250738585072014e-308"]
    edges += ["1234567890123456789", "12345678901234567890", "0." + "0" * 30 + "1", "1." + "0" * 25, "-0", "+0.0"]
    edges += ["5.399999999999999e-06", "0.7611976633545976", "123.456e-3", ".5e1", "7.e0", "1e+05", "00012"]
    rng = random.Random(16)
    edges += [repr(rng.random() * 10 ** rng.randint(-30, 30)) for _ in range(3000)]
    edges += [f"{rng.random():.{rng.randint(1, 19)}f}" for _ in range(3000)]
    buf = b"".join(b"{'loss': " + t.encode() + b"}\n" for t in edges)
    spec = columnar_mod._RunSpec((columnar_mod.ShapePlan((b"loss",)),))
    got = COMPILED.read_run(buf, 0, 0, spec.keys, spec.dest, 1)
    assert got is not None and got[0] == len(buf)
    want = struct.pack(f"<{len(edges)}d", *map(float, edges))
    assert bytes(got[2]) == want


# -- random logs: whole parser, C against Python --------------------------------------------

NOISE = [
    b"\r  5%|\xe2\x96\x8c         | 5/100 [00:01<00:10,  5.00it/s]",
    b"\r 50%|\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88     | 16/32 [00:01<00:01, 20.00it/s]\x1b[A",
    b"\n\x1b[A",
    b"\r" + b" " * 48 + b"\r",
    b"\n",
    b"  Total optimization steps = 100\n",
    b"***** Running training *****\n",
    b"Traceback (most recent call last):\n",
    b"[rank1]: ",
    b"[Rank:1]",
    b"0: ",
    b"{'a': {'b': 1}}\n",
]


@st.composite
def noisy_logs(draw: st.DrawFn) -> bytes:
    out = []
    epoch = 0.0
    for _ in range(draw(st.integers(min_value=0, max_value=60))):
        r = draw(st.integers(0, 9))
        if r < 3:
            out.append(draw(st.sampled_from(NOISE)))
            continue
        epoch += draw(st.sampled_from([0.01, 0.01, 0.01, -0.5, 0.0]))
        # (An eval record may start a run too, after a bar's "]" as well as at a line start.)
        keys = ["loss", "grad_norm", "learning_rate"] if r < 8 else ["loss", "learning_rate", "num_input_tokens_seen"]
        keys = ["eval_loss", "eval_runtime"] if r == 9 and draw(st.booleans()) else keys
        vals = [_token(draw) for _ in keys]
        body = ", ".join(f"'{k}': {v}" for k, v in zip(keys, vals))
        out.append(draw(st.sampled_from(PREFIXES[:5])) + ("{" + body + f", 'epoch': {epoch:.2f}}}\n").encode())
    return b"".join(out)


@needs_compiled
@PROPS
@given(data=noisy_logs(), chunk=st.sampled_from([1 << 30, 97, 1024, 4099]))
def test_random_logs_same_on_both_paths(data: bytes, chunk: int) -> None:
    ref, ref_state, _ = _parse(data, chunk, compiled=False)
    got, state, _ = _parse(data, chunk, compiled=True)
    assert got == ref
    assert repr(state) == repr(ref_state)


# -- tqdm log events: StepTracker.scan, C against Python -------------------------------------

# Pieces of tqdm-laden console text: clears of every length around the 4097-space limit and
# after "\r", "\n" or at a buffer's start, train-bar redraws (total 100) and other bars', with
# ESC[A inside, over-long prefixes, 4-digit percentages, a "{" in the bar, whitespace of
# every kind; messages (glued dicts, JSON, after ESC[A), escapes alone or cut, other text.
STEP_PIECES = [
    *(b"\r" + b" " * k + b"\r" for k in (1, 2, 40, 4096, 4097, 4098)),
    b"\n" + b" " * 30 + b"\r",
    b" " * 5 + b"\r",
    b" \r",
    b"\r 5%|\xe2\x96\x8c     | 5/100 [00:01<00:10,  5.00it/s]",
    b"\r 42%|####      | 42/100 [00:10<00:14,  4.00it/s]\n",
    b"\r100%|##########| 100/100 [00:25<00:00,  4.00it/s]",
    b"\r 50%|#####     | 16/32 [00:01<00:01, 20.00it/s]\x1b[A",
    b"\x1b[A\r 60%|######    | 60/100 [00:01<00:01]",
    b"\r 7\x1b[A%|#| 7/100 [",
    b"\rEpoch 1:  3%|#| 3/100 [",
    b"\r" + b"x" * 78 + b" 4%|#| 4/100 [",
    b"\r" + b"x" * 81 + b" 4%|#| 4/100 [",
    b"\r" + b"x" * 79 + b"\t\x0b 12%|#| 8/100\t[",
    b"\r1234%|#| 9/100 [",
    b"\r 9%|{#| 9/37 [",
    b"\r 9%|#| 9/37 [{",
    b"\r 9%|#| 0009/0100 [",
    b"\r 9%|#| 9/" + b"1" * 30 + b" [",
    b"\r 9%|#| " + b"9" * 25 + b"/100 [",
    # Counts and totals around values.MAX_DIGITS (18 digits: a count; 19: no bar) and far past
    # Python's int() limit of 4300 digits (a 5000-digit count and total: no bar, no crash).
    b"\r 9%|#| 9/" + b"0" * 15 + b"100 [",
    b"\r 9%|#| 9/" + b"0" * 16 + b"100 [",
    b"\r 9%|#| " + b"0" * 17 + b"9/100 [",
    b"\r 9%|#| " + b"0" * 18 + b"9/100 [",
    b"\r 9%|#| " + b"9" * 5000 + b"/" + b"9" * 5000 + b" [",
    b"\r 9%|#| 9/" + b"9" * 5000 + b" [",
    b"\r 9%|#|9/100[",
    b"\r 9%|#| 9/100 ]",
    b"\r 9%|#| 9/100",
    b"\r 9%| 9/100 [",
    b"\r%|#| 9/100 [",
    b"{'loss': 1.5, 'epoch': 0.5}\n",
    b"{'loss': 1.5}{'eval_loss': 2.0}\n",
    b'{"loss": 1.5}\n',
    b"\x1b[A{'loss': 2.5}\n",
    b"[A{'loss': 2.5}",
    b"\x1b[A",
    b"\x1b[2K\x1b[?25l",
    b"\x1b[",
    b"\x1b",
    b"\n",
    b"\r",
    b"\r\n",
    b"some text\n",
    b" ",
    b"{",
    b"|",
    b"|%",
    b"A",
    b"[",
]


@st.composite
def tqdm_text(draw: st.DrawFn) -> bytes:
    return b"".join(draw(st.lists(st.sampled_from(STEP_PIECES), min_size=0, max_size=40)))


def _scan_all(data: bytes, cuts: list[int], total: int, armed: bool, compiled: bool) -> list[object]:
    """`StepTracker.scan` over ``data`` cut at ``cuts`` on one path: per piece, its markers and
    the tracker's ``_armed`` after it."""
    with scan_path(compiled):
        t = StepTracker()
        t._armed = armed
        got: list[object] = []
        at = 0
        for end in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
            if end < at:
                continue
            got.append((t.scan(data[at:end], 1000 + at, total), t._armed))
            at = end
    return got


def _same_steps(data: bytes, cuts: list[int], total: int, armed: bool) -> list[object]:
    want = _scan_all(data, cuts, total, armed, compiled=False)
    assert _scan_all(data, cuts, total, armed, compiled=True) == want
    return want


@needs_compiled
@PROPS
@given(
    data=tqdm_text(),
    cuts=st.lists(st.integers(min_value=0, max_value=1 << 20), max_size=6),
    total=st.sampled_from([100, 37, 32, 10**30 + 7]),
    armed=st.booleans(),
)
def test_step_markers_same_on_both_paths(data: bytes, cuts: list[int], total: int, armed: bool) -> None:
    _same_steps(data, cuts, total, armed)


@needs_compiled
def test_step_markers_cover_every_kind_on_both_paths() -> None:
    # One text with each kind of marker, read whole and cut at every byte: both paths agree,
    # and the markers are what the rules say.
    data = (
        b"\r 1%|#| 1/100 [\r" + b" " * 20 + b"\r{'loss': 1.0}\n\r 2%|#| 2/100 [x]\n"  # pair at 2
        b"\r" + b" " * 20 + b"\r{'loss': 2.0}\n\r 5%|#| 1/20 [\r\x1b[A 3%|#| 3/100 [\n"  # open, step 3
        b"\r" + b" " * 20 + b"\rTraceback\n"  # open, cancel
        b"\r" + b" " * 4098 + b"\r\r 4%|#| 4/100 [\n"  # too long for a clear
        b"\r" + b" " * 20 + b"\r{'loss': 2.5}\n\r 5%|#| " + b"9" * 5000 + b"/" + b"9" * 5000 + b" [\n"  # open, cancel
        b"\r" + b" " * 20 + b"\r\r 5%|#| 5/" + b"0" * 16 + b"100 [\n"  # open, cancel (19 digits)
        b"\r" + b" " * 20 + b"\r\r 6%|#| 6/" + b"0" * 15 + b"100 [\n"  # pair at 6 (18 digits)
        b"\r" + b" " * 20 + b"\r{'loss': 3.0}\n"  # open, still armed
    )
    whole = _same_steps(data, [], 100, False)
    markers, armed = whole[0]  # type: ignore[misc]
    assert [(k, n) for _, k, n, _ in markers] == [
        ("pair", 2),
        ("open", 0),
        ("step", 3),
        ("open", 0),
        ("cancel", 0),
        ("open", 0),
        ("cancel", 0),
        ("open", 0),
        ("cancel", 0),
        ("pair", 6),
        ("open", 0),
    ]
    assert armed is True
    for cut in range(len(data) + 1):
        if cut % 97 and data[max(0, cut - 20) : cut + 20].isdigit():
            continue  # deep inside a 5000-digit run: one cut in 97
        _same_steps(data, [cut], 100, False)


@needs_compiled
def test_compiled_scan_bounds_counts_as_python_does() -> None:
    # The one bound on a bar's count and total: the C scan's is values.MAX_DIGITS.
    assert COMPILED is not None and COMPILED.MAX_DIGITS == values.MAX_DIGITS == 18
    assert accel.is_current(COMPILED)
    # A build from before the bound (both functions, no MAX_DIGITS) is out of date: not run.
    old = type(COMPILED)("_scan")
    old.read_run, old.scan_steps = COMPILED.read_run, COMPILED.scan_steps
    assert not accel.is_current(old)


@needs_compiled
@pytest.mark.parametrize("kind", [k for k in gen_logs.KINDS if "dense" not in k])
@pytest.mark.parametrize("unbuffered", [False, True])
def test_step_markers_of_generated_logs_same_on_both_paths(kind: str, unbuffered: bool) -> None:
    data = _gen(kind, 200_000, 5, unbuffered=unbuffered)
    rng = random.Random(kind)
    for cuts in ([], [rng.randrange(len(data)) for _ in range(40)]):
        got = _same_steps(data, cuts, _bar_total(data), False)
        assert sum(len(m) for m, _ in got) > 100  # type: ignore[misc]


@needs_compiled
@pytest.mark.parametrize("path", [p for p in FIXTURES if p.suffix == ".log"], ids=lambda p: p.name)
def test_step_markers_of_fixtures_same_on_both_paths(path: object) -> None:
    # Every fixture, with the train-bar total its banner or first bar gives (else 100).
    data = path.read_bytes()
    rng = random.Random(str(path))
    for cuts in ([], [rng.randrange(len(data) + 1) for _ in range(20)]):
        _same_steps(data, cuts, _bar_total(data), False)


def _bar_total(data: bytes) -> int:
    """The total of the last tqdm bar in ``data`` (the train bar in a finished log), else 100."""
    totals = re.findall(rb"\| *\d+/(\d+) \[", data)
    return int(totals[-1]) if totals else 100


# -- which path runs ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("force", ["1", ""])
def test_version_says_which_path_runs(force: str) -> None:
    env = {**os.environ, accel.PURE_PYTHON_ENV: force}
    out = subprocess.run(
        [sys.executable, "-m", "tui_monitor", "--version"], env=env, capture_output=True, text=True, check=True
    ).stdout
    if force:
        assert "log scan: pure Python (TRAINMON_PURE_PYTHON is set)" in out
    elif importlib.util.find_spec("tui_monitor.core.parse._scan") is not None:  # built, maybe forced off here
        built = importlib.import_module("tui_monitor.core.parse._scan")
        if accel.is_current(built):
            assert "log scan: compiled C extension" in out
        else:  # built from an older _scan.c
            assert "log scan: pure Python (the C extension is out of date: reinstall to rebuild it)" in out
    else:
        assert "log scan: pure Python" in out


@needs_compiled
@pytest.mark.parametrize("bad", NEAR_MISSES)
@pytest.mark.parametrize("prefix", PREFIXES[1:5])
def test_run_ends_at_a_near_miss_on_both_paths(bad: str, prefix: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two good lines, then one whose value is not in the grammar: both paths end the run there.
    monkeypatch.setattr(columnar_mod, "MIN_RUN", 2)
    good = b"{'loss': 1.5, 'epoch': '0.25'}\n"
    buf = good + prefix + good + prefix + f"{{'loss': {bad}, 'epoch': '0.5'}}\n".encode() + good
    want = _read(buf, (b"loss", b"epoch"), compiled=False)
    assert want is not None and want[0] == 1000 + 2 * len(good) + len(prefix)  # type: ignore[index]
    assert _read(buf, (b"loss", b"epoch"), compiled=True) == want
