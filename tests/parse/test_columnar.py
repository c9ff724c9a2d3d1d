"""The columnar catch-up path (``LogParser.feed_columnar`` -> `Batch` -> `Run`) is
strictly equivalent to the record path: same run state (counts, statistics, progress: every
field, bit for bit), same series (every array), same verdict, same items for ``on_items``,
same parser state —
on every fixture, on generated logs of both formats, and on hand-made edge cases, for
several chunk sizes.
"""

from __future__ import annotations

import io
import math
import random
import struct
from dataclasses import replace
from pathlib import Path

import gen_logs  # benchmarks/gen_logs.py (pyproject's pythonpath)
import numpy as np
import pytest
from helpers import FIXTURES as FIX

from tui_monitor.core import pipeline as pipeline_mod
from tui_monitor.core.analysis import analyse
from tui_monitor.core.parse import Batch, LogParser, PolicyState, Record
from tui_monitor.core.parse import columnar as parser_mod
from tui_monitor.core.pipeline import Pipeline

FIXTURES = sorted(
    p
    for p in FIX.rglob("*")
    if p.suffix in (".log", ".jsonl", ".json")
    and p.name != "labels.json"
    and not p.name.endswith((".expect.json", ".truth.json"))
)


def _gen(kind: str, size: int, seed: int = 0, unbuffered: bool = False, **kw: int) -> bytes:
    out = io.BytesIO()
    gen_logs.generate(out, kind, size=size, seed=seed, unbuffered=unbuffered, **kw)
    return out.getvalue()


def _f(v: object) -> object:
    """A float by its bits (nan sign and -0.0 included); other values as they are."""
    if isinstance(v, float):
        return ("f", struct.pack("<d", v).hex())
    assert not isinstance(v, np.generic), f"numpy scalar leaked: {v!r}"
    return v


def _arr(a: np.ndarray) -> tuple[str, tuple[int, ...], bytes]:
    return (str(a.dtype), a.shape, np.ascontiguousarray(a).tobytes())


def _norm(rec: Record | None) -> str:
    return repr(rec if rec is None else replace(rec, arrival=0.0))


def _state(pipe: Pipeline, *, health: bool = True) -> dict[str, object]:
    snap = pipe.run.snapshot()
    series = {
        name: (
            s.name,
            s.metric,
            s.rank,
            s.kind,
            _arr(s.x),
            _arr(s.y),
            _arr(s.epoch),
            _arr(s.t),
            s.x_is_step,
            s.count,
            _arr(s.hist_x),
            _arr(s.hist_y),
            s.hist_stride,
        )
        for name, s in snap.series.items()
    }
    metrics = {
        k: tuple(_f(getattr(st, f)) for f in ("count", "first", "last", "min", "max", "nonfinite", "last_step"))
        for k, st in snap.metrics.items()
    }
    recent = [
        (r.kind, {k: _f(v) for k, v in r.metrics.items()}, r.step, _f(r.epoch), r.offset, r.rank)
        for r in pipe.run.recent_records()
    ]
    p = pipe.parser
    health = analyse(snap, None) if health else None
    return {
        "records": dict(snap.records),
        "metrics": metrics,
        "metric_order": list(snap.metrics),
        "counts": (snap.rewinds, snap.dropped_metrics, snap.undrawn_points, snap.last_record_offset),
        "run_info": dict(snap.run_info),
        "events": list(snap.events),
        "recent": recent,
        "series": series,
        "series_order": list(snap.series),
        "store": (
            dict(snap.summaries),
            snap.summary_offset,
            snap.last_arrival,
            _arr(snap.arrivals),
        ),
        "health": repr(replace(health, version=0)) if health else None,  # the version depends on chunking
        "progress": repr(replace(snap.progress, epoch=_f(snap.progress.epoch))),
        "parser": (
            p.format,
            p.skipped,
            p.offset,
            _policy(p.policy_state()),
        ),
    }


def _policy(st: PolicyState) -> tuple[object, ...]:
    """The record policy's state, NaN-safe and without arrival stamps (the monitor's)."""
    return (
        {k: _f(v) for k, v in st.last_epoch.items()},
        st.last_step,
        _f(st.steps_per_epoch),
        st.steps_enabled,
        st.queued_steps,
        st.echo_mode,
        _norm(st.prev),
        _norm(st.pending),
        st.waiting,
        st.step_interval,
        _f(st.epoch_interval),
        st.run_flags,
    )


def _run(
    data: bytes, chunk: int, *, columnar: bool, monkeypatch: pytest.MonkeyPatch, min_run: int = parser_mod.MIN_RUN
) -> tuple[dict[str, object], list[str], int]:
    monkeypatch.setattr(parser_mod, "MIN_RUN", min_run)
    if columnar:
        monkeypatch.setattr(pipeline_mod, "COLUMNAR_MIN", 0)
    else:
        monkeypatch.setattr(pipeline_mod, "COLUMNAR_MIN", 1 << 62)
    printed: list[str] = []
    batches = [0]

    def on_items(items: list[object]) -> None:
        for it in items:
            assert not isinstance(it, Batch)
            printed.append(repr(it))

    pipe = Pipeline(on_items=on_items, clock=lambda: 1_700_000_000.0)
    for i in range(0, len(data), chunk):
        got = pipe.feed(data[i : i + chunk])
        batches[0] += sum(isinstance(it, Batch) for it in got)
    pipe.finish()
    return _state(pipe), printed, batches[0]


def _check(
    data: bytes,
    monkeypatch: pytest.MonkeyPatch,
    chunks: tuple[int, ...],
    *,
    min_run: int = 2,
    expect_batches: bool = False,
) -> None:
    for chunk in chunks:
        # The reference: the record path fed the same chunks (progress items are coalesced per feed).
        ref, ref_printed, nb = _run(data, chunk, columnar=False, monkeypatch=monkeypatch)
        assert nb == 0
        got, printed, nb = _run(data, chunk, columnar=True, monkeypatch=monkeypatch, min_run=min_run)
        for key in ref:
            assert got[key] == ref[key], f"{key} differs (chunk {chunk})"
        assert printed == ref_printed, f"on_items differ (chunk {chunk})"
        if expect_batches and chunk >= 1 << 16:
            assert nb > 0, "the columnar path was not taken"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixtures_same_as_record_path(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()
    _check(data, monkeypatch, (1 << 30, 4096 + 3, 517))


GEN_CASES = [
    ("dense4", 400_000, 0, False),
    ("dense5", 400_000, 1, False),
    ("tqdm5", 600_000, 2, False),
    ("tqdm4", 600_000, 3, False),
    ("tqdm5", 300_000, 4, True),
    ("tqdm4", 300_000, 5, True),
    # tqdm.write's clears before every dict, a shape switch in one train record of twenty.
    ("write4", 400_000, 6, False),
    ("write5", 400_000, 7, False),
]


@pytest.mark.parametrize(("kind", "size", "seed", "unbuffered"), GEN_CASES)
def test_generated_logs_same_as_record_path(
    kind: str, size: int, seed: int, unbuffered: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _gen(kind, size, seed, unbuffered, eval_steps=200)
    # write kinds: the banner names a train bar that never redraws, so the first clear stays
    # open and the policy holds records for it: the runs' rows are held as batches.
    batches = not unbuffered
    _check(data, monkeypatch, (1 << 30, 300_000, 65_536 + 7, 9_999), expect_batches=batches)


@pytest.mark.parametrize("kind", ["dense4", "dense5", "tqdm5", "tqdm4"])
def test_resumed_runs_same_as_record_path(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A run, then the same run resumed from an earlier point appended to the same file
    # (epochs and steps go back: Rewind), then a third start from scratch.
    a = _gen(kind, 250_000, 7, eval_steps=200)
    cut = a.find(b"{'", len(a) // 2)
    data = a + a[cut:] + a[: len(a) // 3] + b"\n"
    _check(data, monkeypatch, (1 << 30, 100_000 + 1, 7_777), expect_batches=True)


def _lines(recs: list[dict[str, object]], fmt: str = "4") -> bytes:
    out = []
    for d in recs:
        if fmt == "5":
            out.append("{" + ", ".join(f"'{k}': '{v}'" for k, v in d.items()) + "}")
        else:
            out.append(repr(d))
    return ("\n".join(out) + "\n").encode()


def test_edge_values_and_interruptions(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    specials = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-05, 5e-324, 1.7976931348623157e308, 3, -7, 10**20]
    recs: list[dict[str, object]] = []
    epoch = 0.0
    for i in range(3000):
        epoch += 0.01
        v = rng.choice(specials) if rng.random() < 0.2 else rng.gauss(2, 1)
        recs.append({"loss": v, "grad_norm": rng.choice(specials), "learning_rate": 1e-4, "epoch": round(epoch, 2)})
        if i % 500 == 250:
            epoch -= 1.0  # a rewind inside a run
    parts = [
        _lines(recs[:800]),
        b"Traceback (most recent call last):\n",
        _lines(recs[800:1000], "5"),
        b"[rank1]: " + _lines(recs[1000:1003]),
        _lines(recs[1003:1500]),
        b"{'eval_loss': 2.0, 'epoch': 3.0}\n",
        _lines(recs[1500:1700]),
        b"{'loss': {'a': 1}, 'epoch': 2}\n",
        b"  Total optimization steps = 1,000\n",
        _lines(recs[1700:2000]),
        b"{'loss': 1.0, 'step': 5, 'epoch': 9.0}\n",
        _lines(recs[2000:2500]),
        b"{'loss': 'NaN', 'grad_norm': 'inf', 'learning_rate': '-Infinity', 'epoch': '5.0'}\n" * 9,
        b"{'loss': nan, 'grad_norm': -inf, 'learning_rate': +1.5e3, 'epoch': 5.0}\n" * 9,
        b"{'loss': 1., 'grad_norm': .5, 'learning_rate': -0, 'epoch': 5.5}\n" * 9,
        _lines(recs[2500:]),
    ]
    data = b"".join(parts)
    _check(data, monkeypatch, (1 << 30, 20_000 + 1, 4_099), expect_batches=True)


def test_tqdm_write_clears_before_dicts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Dict lines as tqdm.write leaves them (``\r<spaces>\r`` first, once per open bar), a shape
    # switch in one line of twenty, then the same lines under a known train bar whose clears
    # are step markers inside the run's bytes (the run is taken record by record there).
    rng = random.Random(5)
    lines = []
    for i in range(1500):
        d: dict[str, object] = {"loss": rng.gauss(2, 1), "grad_norm": rng.random() * 3, "learning_rate": 1e-4}
        if i % 20 == 7:
            d["num_input_tokens_seen"] = 512 * i
        d["epoch"] = i / 100
        clear = rng.choice([b"\r" + b" " * 60 + b"\r", b"\r" + b" " * 60 + b"\r" + b" " * 30 + b"\r", b"\r"])
        lines.append(clear + _lines([d], rng.choice("45")))
    data = b"".join(lines)
    _check(data, monkeypatch, (1 << 30, 20_000 + 1, 4_099), expect_batches=True)
    bar = b"\r  1%|          | 10/5000 [00:01<00:10,  5.60it/s]"
    _check(bar + b"\n" + data + bar, monkeypatch, (1 << 30, 20_000 + 1, 4_099))


def test_echo_and_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each record printed bare and again by a rank-labelled handler (echo mode), then plain runs.
    recs = [{"loss": 1.0 + i / 100, "learning_rate": 1e-3, "epoch": i / 50} for i in range(400)]
    echo = b"".join(_lines([d]) + b"[Rank:0] " + _lines([d]) for d in recs[50:150])
    data = _lines(recs[:50]) + echo + _lines(recs[150:]) + b"0: " + _lines(recs[-1:])
    _check(data, monkeypatch, (1 << 30, 3_001, 1_000), expect_batches=True)


def test_steps_from_bars_with_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    # tqdm log events (clear, dicts, redraw) whose counts disagree with the epochs halfway
    # (a script calling tqdm.write): the tracker disables itself at the same record.
    total = 10_000
    out = [f"  Total optimization steps = {total:,}\n"]
    step = 0
    for burst in range(60):
        for _ in range(20):
            step += 10
            jump = 500 if burst == 30 else 0
            out.append(" " * 40 + "\r" + f"\r  1%|          | {step + jump}/{total} [00:01<00:10,  5.60it/s]")
        out.append("\n")
        for j in range(20):
            s = step - 190 + 10 * j
            out.append(repr({"loss": 1.0, "learning_rate": 1e-3, "epoch": s / 1000}) + "\n")
    data = "".join(out).encode()
    _check(data, monkeypatch, (1 << 30, 12_345, 2_000), expect_batches=True)


def test_batch_records_match_record_path() -> None:
    # LogParser.feed_columnar's batches expand to exactly LogParser.feed's records.
    data = _gen("tqdm4", 500_000, 11)
    a, b = LogParser(), LogParser()
    ref = a.feed(data) + a.flush()
    got: list[object] = []
    for it in b.feed_columnar(data) + b.flush():
        got.extend(it.records() if isinstance(it, Batch) else [it])
    assert any(isinstance(it, Batch) for it in LogParser().feed_columnar(data))
    assert [repr(x) for x in got] == [repr(x) for x in ref]
    assert all(type(r.metrics[k]) is float for r in got if isinstance(r, Record) for k in r.metrics)


def _mixed_log(seed: int, lines: int, *, bars: bool = False) -> bytes:
    """Train dicts whose key sequence switches now and then (``num_input_tokens_seen`` in one
    record of five), eval records between them, a rewind (a resume), tqdm.write's clears
    before some lines, 4.x and 5.x value forms, NaN and inf values; with ``bars``, stdout is
    block-buffered: each burst of 20 log events' bar redraws comes before its dicts, and the
    redraws give the records their steps."""
    rng = random.Random(seed)
    out: list[bytes] = []
    total = 10 * lines
    if bars:
        out.append(f"  Total optimization steps = {total:,}\n".encode())
    step = 0
    burst: list[bytes] = []
    for i in range(lines):
        step += 10
        if i == lines // 2:
            step -= min(150, step // 2)  # a resume from a checkpoint: steps and epochs go back
        d: dict[str, object] = {"loss": rng.choice([rng.gauss(2, 1), math.nan]), "grad_norm": rng.random() * 3}
        d["learning_rate"] = 1e-4
        if i % 5 == 2:
            d["num_input_tokens_seen"] = 512 * i
        d["epoch"] = step / 1000
        recs = [d]
        if i % 7 == 6:
            recs.append(
                {"eval_loss": rng.gauss(2, 0.1), "eval_runtime": rng.choice([12.5, math.inf]), "epoch": step / 1000}
            )
        for r in recs:
            if bars:
                clear = b"\r" + b" " * 40 + b"\r"  # tqdm.write's clear, then the redraw at the new step
                out.append(clear + f"\r  1%|          | {step}/{total} [00:01<00:10,  5.60it/s]".encode())
                burst.append(_lines([r], rng.choice("45")))
            else:
                clear = rng.choice([b"", b"", b"\r", b"\r" + b" " * 60 + b"\r"])
                out.append(clear + _lines([r], rng.choice("45")))
        if bars and (i % 20 == 19 or i == lines - 1):
            out.append(b"\n" + b"".join(burst))
            burst = []
    return b"".join(out) + b"\n"


_FEED_KEYS = ("records", "metrics", "metric_order", "counts", "recent", "series", "series_order", "progress", "parser")
"""What `_state` compares after every feed (the verdict, once at the end)."""


def _states_per_feed(
    data: bytes, cuts: list[int], *, columnar: bool, monkeypatch: pytest.MonkeyPatch, per_feed: bool = True
) -> list[object]:
    """The pipeline fed ``data`` cut at ``cuts``: its state after each feed and its verdict
    (``per_feed``), its state at the end, and its printed items."""
    monkeypatch.setattr(pipeline_mod, "COLUMNAR_MIN", 0 if columnar else 1 << 62)
    printed: list[str] = []
    pipe = Pipeline(on_items=lambda items: printed.extend(repr(it) for it in items), clock=lambda: 1_700_000_000.0)
    states: list[object] = []
    for a, b in zip([0, *cuts], [*cuts, len(data)]):
        pipe.feed(data[a:b])
        if per_feed:
            got = _state(pipe, health=False)
            states.append({key: got[key] for key in _FEED_KEYS})
    pipe.finish()
    states.append(_state(pipe, health=per_feed))
    return [states, printed]


@pytest.mark.parametrize("bars", [False, True])
def test_runs_across_shape_switches_in_every_chunking(bars: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a log whose train records switch key sequence and whose eval records come between
    # them (a run of lines goes on across such switches and is one batch per feed)
    data = _mixed_log(9, 400, bars=bars)
    big = LogParser()
    items = big.feed_columnar(data) + big.flush()
    batches = [it for it in items if isinstance(it, Batch)]
    # THEN the whole-file read hands most records over as a few batches that mix shapes and kinds
    assert sum(len(b) for b in batches) > 300
    assert any(b.shapes is not None and set(b.shape_kinds) == {"train", "eval"} for b in batches)
    assert len(batches) <= (400 // 20 + 2 if bars else 4)  # one per burst of dicts between bars
    # AND every chunking (whole, odd sizes down to a cut inside nearly every line) gives exactly
    # the record path's items and state after every feed: counts, statistics, series, rewinds,
    # steps, progress, the policy.
    monkeypatch.setattr(parser_mod, "MIN_RUN", 2)
    for chunk in (1 << 30, 20_000 + 1, 4_099, 1_000, 517):
        cuts = list(range(chunk, len(data), chunk))
        ref = _states_per_feed(data, cuts, columnar=False, monkeypatch=monkeypatch)
        got = _states_per_feed(data, cuts, columnar=True, monkeypatch=monkeypatch)
        assert got == ref, f"chunk {chunk}"


def test_runs_across_shape_switches_every_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a short mixed log, cut in two at every byte (a run begins, breaks and resumes at
    # every place a feed can end), THEN the columnar path equals the record path each time.
    monkeypatch.setattr(parser_mod, "MIN_RUN", 2)
    for bars in (False, True):
        data = _mixed_log(4, 8, bars=bars)
        for cut in range(1, len(data)):
            ref = _states_per_feed(data, [cut], columnar=False, monkeypatch=monkeypatch, per_feed=False)
            got = _states_per_feed(data, [cut], columnar=True, monkeypatch=monkeypatch, per_feed=False)
            assert got == ref, f"cut at {cut} (bars: {bars})"
