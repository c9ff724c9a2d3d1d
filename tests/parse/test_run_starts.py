"""Where a columnar run may start: at a dict that starts its segment, or at one glued after a
tqdm bar's ``]`` (block-buffered stdout: a burst of dicts flushed right after a redraw,
``… 5.60it/s]{'eval_loss': …}\\n{'loss': …}\\n…``), of kind train or eval; so a burst is one
run. Everywhere the items and the policy's state are the record path's (where the text before
the ``]`` names a rank, or a logger name stands before the dict, the record path reads a rank
or a logger and no run starts there), with the C reader and in pure Python, in every
chunking; and the C reader reads a run from a mid-line start as the Python one does.
"""

from __future__ import annotations

import random

import pytest
from helpers import scan_path
from hypothesis import given
from hypothesis import strategies as st
from test_columnar import _states_per_feed  # the pipeline's state after each feed
from test_passed_lines import COMPILED, _fed, _same_all_ways, _same_at_every_cut  # every path
from test_scan_paths import EVAL, OTHER, PROPS, _read_at, run_text

from tui_monitor.core.parse import columnar as columnar_mod

needs_compiled = pytest.mark.skipif(COMPILED is None, reason="the C extension is not built here")
TOTAL = 4000
CLEAR = b"\r" + b" " * 48 + b"\r"


def _bar(step: int) -> bytes:
    return f"\r  1%|          | {step}/{TOTAL} [00:01<13:00:00,  5.60it/s]".encode()


def _dict(d: dict[str, object], fmt: str) -> bytes:
    if fmt == "5":  # Transformers 5 quotes floats, not ints
        return (
            "{" + ", ".join(f"'{k}': " + (f"'{v}'" if isinstance(v, float) else str(v)) for k, v in d.items()) + "}"
        ).encode()
    return repr(d).encode()


HEADS = {
    # What a burst's first dict follows on its line (``step``: the train bar's last redraw).
    "glued": _bar,  # tqdm's: right after the "]" (a run starts there)
    "spaced": lambda step: _bar(step) + b"  ",  # "]" then spaces: no logger either (a run)
    "line": lambda step: _bar(step) + b"\n",  # its own line (a run, as before)
    "rank": lambda step: _bar(step) + b"\n[Rank:1]",  # a rank in the "]"'s text: the record path
    "srun": lambda step: b"\n0: " + _bar(step)[1:],  # a rank before the bar: the record path
    "bracket": lambda step: _bar(step) + b"\n[INFO|trainer.py:3010] ",  # no rank, no logger: a run
    "logger": lambda step: _bar(step) + b"\nINFO llamafactory.train.callbacks:143 >> ",  # a logger
}
FIRSTS = ("eval", "train", "eval_no_epoch")
"""A burst's first dict: an eval record (with an epoch, as the train records have: the run goes
on with them), a train record, an eval record without an epoch (no run with the train records:
a row's epoch is a column of the run)."""


def burst_log(
    seed: int,
    *,
    bursts: int = 24,
    per: int = 6,
    heads: tuple[str, ...] = tuple(HEADS),
    firsts: tuple[str, ...] = FIRSTS,
    banner: bool = True,
) -> bytes:
    """The shape of ``gen_logs`` tqdm5/tqdm4 (the train bar's redraws and log events, then the
    burst's dicts flushed at once), with the burst's first dict after one of ``heads`` and of
    one of ``firsts``; the summary glued after the last redraw. ``banner``: the train bar's
    total is known (its log events give the records steps)."""
    rng = random.Random(seed)
    fmt = "5" if seed % 2 else "4"
    out: list[bytes] = []
    if banner:
        out.append(f"***** Running training *****\n  Total optimization steps = {TOTAL:,}\n".encode())
    step = 0
    for _ in range(bursts):
        lines: list[bytes] = []
        for _ in range(per):
            step += 10
            out.append(_bar(step - 5) + CLEAR + _bar(step))
            d = {"loss": round(rng.gauss(2, 0.5), 4), "grad_norm": round(rng.random() * 3, 4)}
            lines.append(_dict({**d, "learning_rate": 1e-4, "epoch": step / 1000}, fmt))
        first = rng.choice(firsts)
        e: dict[str, object] = {"eval_loss": round(rng.gauss(2, 0.3), 4), "eval_runtime": 1.5, "eval_samples": 512}
        if first == "eval":
            e["epoch"] = step / 1000
        if first != "train":
            lines.insert(0, _dict(e, fmt))
        out.append(HEADS[rng.choice(heads)](step) + b"\n".join(lines) + b"\n")
    s = {"train_runtime": 100.0, "train_samples_per_second": 5.0, "train_loss": 2.0, "epoch": step / 1000}
    out.append(_bar(step) + _dict(s, "4") + b"\n")
    return b"".join(out)


@pytest.mark.parametrize("first", ["eval", "train"])
def test_a_burst_glued_after_a_bar_is_one_run(first: str) -> None:
    # GIVEN tqdm's shape: each burst's first dict glued after the train bar's "]" (an eval
    # record, or a train record when no evaluation came)
    data = burst_log(3, heads=("glued",), firsts=(first,))
    # THEN every path gives the record path's items and state, feed after feed
    batches, rows, records = _same_all_ways(data, 1 << 30)
    assert records == 24 * 6 + (24 if first == "eval" else 0) + 1
    # AND each burst is one run (a run's first row may go out alone, through the record path:
    # the stream's first burst when the eval record is that row): every train record but those
    # goes out in a batch. Before, the run began at the line after the glued dict, and its
    # first row went out alone too.
    assert batches in (23, 24)
    assert rows >= (23 * 6 if first == "eval" else 24 * 5)


@pytest.mark.parametrize("seed", [1, 2, 5])
@pytest.mark.parametrize("banner", [True, False])
@pytest.mark.parametrize("chunk", [1 << 30, 65_536 + 7, 4_099, 517, 61])
def test_every_start_same_on_every_path(seed: int, banner: bool, chunk: int) -> None:
    # GIVEN bursts whose first dict follows every kind of text (a bar's "]", spaces after it,
    # a rank, a logger name, a line start) and is of every kind (eval with and without epoch,
    # train), with and without a known train bar
    data = burst_log(seed, banner=banner)
    # THEN the record path, the columnar path in Python and in C agree after every feed
    batches, rows, records = _same_all_ways(data, chunk)
    assert records == 24 * 6 + data.count(b"{'eval_loss") + 1
    if chunk == 1 << 30:
        assert batches > 12 and rows > records // 2


@pytest.mark.parametrize("chunk", [1 << 30, 20_000 + 1, 4_099, 517])
def test_every_start_same_pipeline_state(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The monitor's state (series, statistics, progress, the policy's) after every feed is the
    # record path's, with runs down to two lines.
    monkeypatch.setattr(columnar_mod, "MIN_RUN", 2)
    data = burst_log(8, bursts=16, per=3)
    cuts = list(range(chunk, len(data), chunk))
    ref = _states_per_feed(data, cuts, columnar=False, monkeypatch=monkeypatch)
    got = _states_per_feed(data, cuts, columnar=True, monkeypatch=monkeypatch)
    assert got == ref


@PROPS
@given(
    seed=st.integers(0, 10**6),
    heads=st.lists(st.sampled_from(sorted(HEADS)), min_size=1, max_size=4, unique=True),
    firsts=st.lists(st.sampled_from(FIRSTS), min_size=1, max_size=3, unique=True),
    banner=st.booleans(),
    chunk=st.sampled_from([1 << 30, 4_099, 517, 97]),
    min_run=st.integers(1, 4),
)
def test_random_starts_same_on_every_path(
    seed: int, heads: list[str], firsts: list[str], banner: bool, chunk: int, min_run: int
) -> None:
    data = burst_log(seed, bursts=6, per=4, heads=tuple(heads), firsts=tuple(firsts), banner=banner)
    saved = columnar_mod.MIN_RUN
    columnar_mod.MIN_RUN = min_run
    try:
        _same_all_ways(data, chunk)
    finally:
        columnar_mod.MIN_RUN = saved


def test_every_start_every_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a short log cut in two at every byte (a feed ends inside the bar before a glued
    # dict, inside the dict, between it and the next line) THEN every path gives the same
    # items and state.
    monkeypatch.setattr(columnar_mod, "MIN_RUN", 2)
    data = burst_log(4, bursts=5, per=3, heads=("glued", "spaced", "rank", "line"), firsts=("eval", "train"))
    assert _fed(data, 1 << 30, columnar=True, compiled=False)[1] >= 3  # runs were read
    _same_at_every_cut(data)


_MID_LINE = [
    b"",
    b"\r  1%|          | 1000/262144 [02:58<12:57:12,  5.60it/s]",
    b"\r  1%|          | 1000/262144 [02:58<12:57:12,  5.60it/s]  ",
    b"[Rank:1]",
    b"some text ",
    b"\n",
]


@needs_compiled
@PROPS
@given(case=run_text(), head=st.sampled_from(_MID_LINE), first=st.sampled_from(["keys", "eval"]))
def test_read_run_from_mid_line_same_on_both_paths(
    case: tuple[bytes, tuple[bytes, ...]], head: bytes, first: str
) -> None:
    # The run reader started at a dict after other text of its line (a bar), the first line
    # of an eval shape or of a train shape: the same rows, shapes, values and end in C and in
    # Python (the text before the start is never part of the run).
    buf, keys = case
    first_keys = tuple(k.encode() for k in EVAL) if first == "eval" else keys
    others = [keys, *(tuple(k.encode() for k in ks) for ks in (OTHER, EVAL))]
    others = [k for k in others if k != first_keys]
    got = _read_at(head + buf, len(head), first_keys, True, *others)
    assert got == _read_at(head + buf, len(head), first_keys, False, *others)
    if got is not None:
        assert got[5][0] == 1000 + len(head)  # the first row is the dict at the start


def test_part_of_one_shape_is_a_plain_batch() -> None:
    # GIVEN a run that starts at a burst's eval dict glued after the bar, then train dicts
    data = burst_log(6, bursts=2, per=5, heads=("glued",), firsts=("eval",), banner=False)
    s = data.rfind(b"{'eval_loss")
    plans: dict[tuple[bytes, ...], columnar_mod.ShapePlan | None] = {}
    ev = columnar_mod.plan_for((b"eval_loss", b"eval_runtime", b"eval_samples", b"epoch"), plans)
    tr = columnar_mod.plan_for((b"loss", b"grad_norm", b"learning_rate", b"epoch"), plans)
    assert ev is not None and tr is not None
    for compiled in (False, True) if COMPILED is not None else (False,):
        with scan_path(compiled):
            run = columnar_mod.read_run(data, s, 0, columnar_mod.run_plans(ev, plans.values()))
        assert run is not None and len(run) == 6 and run.rows.shapes is not None
        # THEN its rows after the eval row are a batch of the train shape alone, with the same
        # records; a part that holds the eval row keeps both shapes
        train = run.rows.part(1, 6)
        assert (train.kind, train.names, train.shapes) == ("train", ["loss", "grad_norm", "learning_rate"], None)
        assert [repr(r) for r in train.records()] == [repr(r) for r in run.rows.records()[1:]]
        both = run.rows.part(0, 3)
        assert both.shapes is not None and [r.kind for r in both.records()] == ["eval", "train", "train"]
