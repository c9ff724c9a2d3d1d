"""A columnar run goes on across the lines that carry nothing for the parser
(`columnar.PASSABLE`: blank lines, the draws of a nested tqdm bar such as the Trainer's eval
bar), so dicts with eval bars between them are read as a few runs, not one per stretch between
two evaluations; and the results stay those of the record path.

Logs of dict lines (``tqdm.write``'s clears or none, 4.x and 5.x values, shape switches) with
eval bars between them, drawn in the shapes a run passes and in near shapes it must not pass
(a label, padding, a postfix, a ``{``, a line of other text), with and without a known train
bar (whose total an eval bar may share: a step marker inside a run, which the parser then
takes record by record), are fed in many chunkings through `LogParser.feed` (the record path)
and `LogParser.feed_columnar` (runs), with the C reader and in pure Python: after every feed
the same records (values by their bits, steps, offsets), the same other items and the same
policy and step-tracker state. The reader's rule itself is the same in C and in Python
(hypothesis over lines built from bar pieces).
"""

from __future__ import annotations

import io
import random
import struct
import sys
from typing import Any

import gen_logs  # benchmarks/gen_logs.py (pyproject's pythonpath)
import numpy as np
import pytest
from helpers import scan_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_monitor.core.parse import Batch, LogParser, Record, accel
from tui_monitor.core.parse import columnar as columnar_mod

COMPILED = accel.scan
needs_compiled = pytest.mark.skipif(COMPILED is None, reason="the C extension is not built here")
TOTAL = 5000
CLEAR = b"\r" + b" " * 60 + b"\r"
UP = b"\x1b[A"


def _dict(d: dict[str, object], fmt: str) -> bytes:
    if fmt == "5":
        return ("{" + ", ".join(f"'{k}': '{v}'" for k, v in d.items()) + "}").encode()
    return repr(d).encode()


def _draw(n: int, total: int, rate: str, *, cr: bool = True) -> bytes:
    pct = 100 * n // total
    fill = "█" * (10 * n // total)
    return (("\r" if cr else "") + f"{pct:3d}%|{fill:<10}| {n}/{total} [00:0{n % 10}<00:01, {rate}]").encode()


PASSED = {
    # How an eval bar's draws may stand between two dict lines: lines a run passes.
    "tqdm": lambda n, t: _draw(n, t, "22.24it/s") + UP + b"\n",
    "first": lambda n, t: f"\r  0%|          | 0/{t} [00:00<?, ?it/s]".encode() + UP + b"\n",
    "slow": lambda n, t: _draw(n, t, "3.10s/it") + UP + b"\n",
    "bare": lambda n, t: _draw(n, t, "9.9it/s", cr=False) + UP + b"\n",
    "blank": lambda n, t: b"\n",
}
KEPT = {
    # Near shapes a run does not pass (it ends before them; the parser reads them as before).
    "label": lambda n, t: b"\rEvaluating: " + _draw(n, t, "22.24it/s")[1:] + UP + b"\n",
    "padded": lambda n, t: _draw(n, t, "22.24it/s") + b"  " + UP + b"\n",
    "postfix": lambda n, t: _draw(n, t, "22.24it/s")[:-1] + b", loss=1.2]" + UP + b"\n",
    "top": lambda n, t: _draw(n, t, "22.24it/s") + b"\n",  # not nested: no ESC[A
    "brace": lambda n, t: b"\r 25%|{         | 8/32 [00:00<00:01, 22.24it/s]" + UP + b"\n",
    "text": lambda n, t: b"UserWarning: None of the inputs have requires_grad=True\n",
}


def write_log(
    seed: int,
    *,
    records: int = 900,
    every: int = 25,
    banner: bool = False,
    kept: float = 0.0,
    eval_total: int = 32,
    redraw: float = 0.0,
) -> bytes:
    """Train dicts (a clear before most, a shape switch in one of twenty), every ``every``
    of them an evaluation: its bar's draws in the shapes of `PASSED` (in a share ``kept`` of
    the evaluations one draw in a shape of `KEPT`), then the eval dict; the summary last. With
    ``banner`` the train bar's total is known (``TOTAL``), and the train bar redraws after a
    share ``redraw`` of the dicts."""
    rng = random.Random(seed)
    fmt = "5" if seed % 2 else "4"
    out: list[bytes] = []
    if banner:
        out.append(f"***** Running training *****\n  Total optimization steps = {TOTAL:,}\n".encode())
    step = 0
    for i in range(records):
        step += 5
        d: dict[str, object] = {"loss": round(rng.gauss(2, 0.5), 4), "grad_norm": rng.random() * 3}
        d["learning_rate"] = 1e-4 * (1 - step / (2 * TOTAL))
        if i % 20 == 7:
            d["num_input_tokens_seen"] = 512 * step
        d["epoch"] = round(step / 100, 2)
        out.append(rng.choice([CLEAR, CLEAR, b"\r", b""]) + _dict(d, fmt) + b"\n")
        if rng.random() < redraw:
            out.append(_draw(step, TOTAL, "5.60it/s"))
        if i % every == every - 1:
            shapes = [rng.choice(list(PASSED)) for _ in range(rng.randint(1, 6))]
            draws = [PASSED[s](8 * k, eval_total) for k, s in enumerate(shapes)]
            if rng.random() < kept:
                draws.insert(rng.randrange(len(draws) + 1), KEPT[rng.choice(list(KEPT))](8, eval_total))
            out += draws
            e = {"eval_loss": round(rng.gauss(2, 0.3), 4), "eval_runtime": 1.5, "epoch": d["epoch"]}
            out.append(rng.choice([CLEAR, b""]) + _dict(e, fmt) + b"\n")
    s = {"train_runtime": 100.0, "train_samples_per_second": 5.0, "train_loss": 2.0, "epoch": step / 100}
    out.append(CLEAR + _dict(s, "4") + b"\n")
    return b"".join(out)


def _bits(v: object) -> object:
    return struct.pack("<d", v).hex() if isinstance(v, float) else v


def _flat(items: list[object]) -> list[object]:
    """Records by kind, values' bits, step, epoch, offset and rank (a batch by its rows); other
    items by their repr."""
    out: list[object] = []
    for it in items:
        for x in it.records() if isinstance(it, Batch) else [it]:
            if isinstance(x, Record):
                metrics = tuple((k, _bits(v)) for k, v in x.metrics.items())
                out.append((x.kind, metrics, x.step, _bits(x.epoch), x.offset, x.rank))
            else:
                out.append(repr(x))
    return out


def _tracker(p: LogParser) -> tuple[object, ...]:
    steps = p._policy.steps  # the open events and skipped redraws are not in PolicyState
    return (steps._open, steps._skip, steps._armed, steps.enabled, steps.queued_steps())


def _fed(data: bytes, chunk: int, *, columnar: bool, compiled: bool) -> tuple[list[object], int, int]:
    """``data`` fed in ``chunk``-byte pieces: per feed, its items and the parser's state; the
    number of `Batch` items and of rows they held."""
    with scan_path(compiled):
        p = LogParser()
        per_feed: list[object] = []
        batches = rows = 0
        for i in range(0, len(data) + 1, chunk):
            piece = data[i : i + chunk]
            got = p.feed_columnar(piece) if columnar else p.feed(piece)
            if i + chunk > len(data):
                got += p.flush()
            batches += sum(isinstance(x, Batch) for x in got)
            rows += sum(len(x) for x in got if isinstance(x, Batch))
            per_feed.append((_flat(got), repr(p.policy_state()), _tracker(p)))
    return per_feed, batches, rows


def _same_all_ways(data: bytes, chunk: int) -> tuple[int, int, int]:
    """The record path and the columnar path, in pure Python and (when built) in C, feed after
    feed; returns (batches, batch rows, records) of the columnar path."""
    ref, nb, _ = _fed(data, chunk, columnar=False, compiled=False)
    assert nb == 0
    got, batches, rows = _fed(data, chunk, columnar=True, compiled=False)
    for k, (a, b) in enumerate(zip(ref, got)):
        assert a == b, f"feed {k} differs (chunk {chunk}, pure Python)"
    assert len(ref) == len(got)
    if COMPILED is not None:
        c, cb, cr = _fed(data, chunk, columnar=True, compiled=True)
        assert c == got, f"C and pure Python differ (chunk {chunk})"
        assert (cb, cr) == (batches, rows)
    records = sum(1 for feed in ref for x in feed[0] if isinstance(x, tuple))
    return batches, rows, records


CHUNKS = (1 << 30, 65_536 + 7, 4_099, 517, 61)
CASES: list[tuple[int, dict[str, Any]]] = [
    # (seed, options)
    (1, {}),  # no train bar known: nothing held, a run is a batch
    (2, {"kept": 0.5}),  # near shapes end runs half the time
    (3, {"banner": True}),  # the clears await the train bar's redraw: rows held as slices of runs
    (4, {"banner": True, "redraw": 0.3, "kept": 0.3}),  # redraws: step markers split runs
    (5, {"banner": True, "eval_total": TOTAL}),  # an eval bar as long as the train bar: markers in runs
    (6, {"every": 3}),  # an evaluation every three dicts
]


@pytest.mark.parametrize(("seed", "case"), CASES)
@pytest.mark.parametrize("chunk", CHUNKS)
def test_eval_bars_between_dicts_same_on_every_path(seed: int, case: dict[str, Any], chunk: int) -> None:
    data = write_log(seed, **case)
    batches, rows, records = _same_all_ways(data, chunk)
    evals = 900 // case.get("every", 25)
    assert records == 900 + evals + 1
    if chunk == 1 << 30 and not case:
        # One read: runs through every evaluation (before, a run ended at each of the 36 eval
        # bars); a run ends only where a key sequence is met for the first time (the shape of
        # `num_input_tokens_seen`, the eval dict's: a run goes on with known shapes only).
        assert batches == 3 and rows > records - 10
    if chunk >= 4_099 and set(case) <= {"banner", "every"}:
        # The safety net (`console._split_runs`) is not the common path: nearly every record
        # went out in a batch (a split run's records go out one by one). (With a near shape, an
        # unnested 8/32 draw is taken for the train bar: its total is the eval bar's, whose
        # draws are then step markers.)
        assert rows > 0.9 * records


def test_eval_bars_between_dicts_every_cut() -> None:
    # GIVEN a short log cut in two at every byte (a run begins, passes eval bars, and ends at
    # every place a feed can end) THEN every path gives the same items and state.
    _same_at_every_cut(write_log(7, records=24, every=4, kept=0.3))


def _same_at_every_cut(data: bytes) -> None:
    """``data`` fed in two pieces, cut at every byte: the record path, the pure-Python columnar
    path and the compiled one give the same items, policy state and tracker state."""
    for cut in range(1, len(data)):
        per_path = []
        for columnar, compiled in ((False, False), (True, False), (True, True)):
            if compiled and COMPILED is None:
                continue
            with scan_path(compiled):
                p = LogParser()
                feed = p.feed_columnar if columnar else p.feed
                items = feed(data[:cut]) + feed(data[cut:]) + p.flush()
                per_path.append((_flat(items), repr(p.policy_state()), _tracker(p)))
        assert all(x == per_path[0] for x in per_path), f"cut at {cut}"


@pytest.mark.parametrize("kind", ["write4", "write5"])
def test_write_logs_are_a_few_runs(kind: str) -> None:
    # GIVEN the benchmark's tqdm.write shape (a clear before every dict, eval bars and an eval
    # dict every 50 train dicts, the banner's total and no train bar) THEN both paths give the
    # record path's items, and a whole read hands over the records in batches of held rows
    # (`MAX_WAIT` + 1 each), far fewer than the evaluations (each ended a run before).
    out = io.BytesIO()
    counts = gen_logs.generate(out, kind, size=400_000, seed=2)
    data = out.getvalue()
    for chunk in (1 << 30, 65_536 + 7, 4_099):
        batches, rows, records = _same_all_ways(data, chunk)
        assert records == counts["train"] + counts["eval"] + 1
        assert rows > 0.9 * records  # (each feed takes its first record alone)
        if chunk == 1 << 30:
            # (Plus the runs that end where a key sequence is first met, as above.)
            assert counts["eval"] > 40 and batches <= records // 256 + 3


def _run_at(buf: bytes, compiled: bool) -> tuple[int, bytes, bytes, tuple[str, ...], bytes | None] | None:
    """`columnar.read_run` at ``buf[0]`` on one path: (end, offsets, values' bytes, names)."""
    plans: dict[tuple[bytes, ...], columnar_mod.ShapePlan | None] = {}
    first = columnar_mod.plan_for((b"loss", b"epoch"), plans)
    other = columnar_mod.plan_for((b"eval_loss", b"epoch"), plans)
    assert first is not None and other is not None
    with scan_path(compiled):
        run = columnar_mod.read_run(buf, 0, 100, columnar_mod.run_plans(first, plans.values()))
    if run is None:
        return None
    b = run.rows
    shapes = None if b.shapes is None else b.shapes.tobytes()
    return (run.end, b.offsets.tobytes(), np.ascontiguousarray(b.values).tobytes(), tuple(b.names), shapes)


def _lines(n: int, k: int = 0) -> bytes:
    return b"".join(b"{'loss': %d.5, 'epoch': %d.25}\n" % (k + i, k + i) for i in range(n))


def test_reader_passes_nested_bar_lines_and_ends_at_its_last_dict() -> None:
    bars = b"".join(PASSED[s](8, 32) for s in PASSED)
    ev = CLEAR + b"{'eval_loss': 0.5, 'epoch': 1.0}\n"
    for kept in KEPT:
        buf = _lines(3) + bars + ev + _lines(3, 10) + KEPT[kept](8, 32) + _lines(4, 20)
        runs = {compiled: _run_at(buf, compiled) for compiled in ((False, True) if COMPILED else (False,))}
        assert len(set(runs.values())) == 1, kept
        got = runs[False]
        assert got is not None
        # The run passed the eval bar's draws and ended at the dict line before the kept line.
        assert got[0] == 100 + buf.index(KEPT[kept](8, 32))
        offsets = np.frombuffer(got[1], dtype=np.int64)
        assert offsets.tolist() == [100 + i for i in range(len(buf)) if buf[i] == 123][:7]
        assert got[3] == ("loss", "eval_loss")
    # Passed lines with no dict line after them are not part of the run.
    buf = _lines(5) + bars + b"done\n"
    for compiled in (False, True) if COMPILED else (False,):
        got = _run_at(buf, compiled)
        assert got is not None and got[0] == 100 + len(_lines(5))


_PIECES = [
    b"\r",
    b" ",
    b"  ",
    b"7",
    b"25",
    b"100",
    b"1234",
    b"%|",
    b"%",
    b"|",
    b"\xe2\x96\x88",
    b"#",
    b"8/32",
    b"08/032",
    b"1" * 18 + b"/3",
    b"1" * 19 + b"/3",
    b"/",
    b" [",
    b"[",
    b"00:01",
    b"<",
    b"?",
    b", ",
    b",",
    b"22.24it/s",
    b"3.1s/it",
    b"?it/s",
    b"it/s",
    b"x",
    b"{",
    b"}",
    b"]",
    b"\x1b[A",
    b"\x1b",
    b"\n",
]
_BAR = b"\r 25%|\xe2\x96\x88\xe2\x96\x88\xe2\x96\x8c       | 8/32 [00:00<00:01, 22.24it/s]\x1b[A\n"


@needs_compiled
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(_PIECES), max_size=24),
    st.integers(0, len(_BAR)),
    st.integers(0, len(_BAR)),
    st.binary(max_size=3),
)
def test_passed_line_rule_same_in_c_and_python(pieces: list[bytes], a: int, b: int, junk: bytes) -> None:
    # Lines built from bar pieces, and a real draw with bytes cut out or put in: the C reader
    # passes exactly the lines the Python reader (the regex PASSABLE) passes.
    for line in (b"".join(pieces) + b"\n", _BAR[: min(a, b)] + junk + _BAR[max(a, b) :]):
        buf = _lines(2) + line + _lines(2, 5)
        py, c = _run_at(buf, False), _run_at(buf, True)
        assert py == c
        whole = not line or columnar_mod._PASSABLE.fullmatch(line) is not None  # (b"": no line between)
        if b"{" not in line:
            assert (py is not None and py[0] == 100 + len(buf)) == whole, line


@needs_compiled
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the guard page uses Linux mprotect")
def test_reader_never_reads_past_a_cut_line() -> None:
    # Every passed shape and near miss cut at every byte, as the end of the buffer: the same
    # run on both paths, and the C reader on the same bytes placed right before a page that may
    # not be read (an over-read by one byte faults at once, even where ASan cannot see).
    import fuzz_parser  # benchmarks/fuzz_parser.py: `guarded`

    assert COMPILED is not None
    spec = columnar_mod._RunSpec(tuple(map(columnar_mod.ShapePlan, ((b"loss", b"epoch"), (b"eval_loss", b"epoch")))))
    shapes = (spec.keys, spec.dest)
    for line in [f(8, 32) for f in (*PASSED.values(), *KEPT.values())]:
        for k in range(len(line) + 1):
            buf = _lines(2) + line[:k]
            for tail in (b"", _lines(2, 5)):
                want = COMPILED.read_run(buf + tail, 0, 0, *shapes, 1)
                assert COMPILED.read_run(fuzz_parser.guarded(buf + tail), 0, 0, *shapes, 1) == want
                assert _run_at(buf + tail, True) == _run_at(buf + tail, False)
