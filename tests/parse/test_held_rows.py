"""The batch form of holding records for their redraw (`StepPairing.hold_rows`,
`RecordPolicy._emit_rows`) is the record path's holding, row for row.

``tqdm.write`` clears the bars before every dict (``\\r<spaces>\\r{...}``); when the train bar
never redraws in the file (drawn on another stream), the first clear stays open and every
record is held for a redraw that does not come, ``MAX_WAIT + 1`` at a time, then let out
without a step. Logs of that shape, with the train bar redrawing after none, a few, half or
all of the dicts, eval bars, shape switches, warnings that end the wait, a rewind and a second
run, are fed in many chunkings through `LogParser.feed` (the record path) and
`LogParser.feed_columnar` (runs as batches): after every feed the two give the same records
(steps, values by their bits, offsets, in the same order among the other items) and the same
policy and step-tracker state.
"""

from __future__ import annotations

import io
import random
import struct
from typing import Any

import gen_logs  # benchmarks/gen_logs.py (pyproject's pythonpath)
import pytest

from tui_monitor.core.parse import Batch, LogParser, Record
from tui_monitor.core.parse.steps import MAX_WAIT

TOTAL = 5000
STEPS_PER_EPOCH = 100
CLEAR = b"\r" + b" " * 60 + b"\r"


def _dict(d: dict[str, object], fmt: str) -> bytes:
    if fmt == "5":
        return ("{" + ", ".join(f"'{k}': '{v}'" for k, v in d.items()) + "}").encode()
    return repr(d).encode()


def _bar(step: int) -> bytes:
    pct = 100 * step // TOTAL
    return f"\r {pct:3d}%|▏         | {step}/{TOTAL} [00:10<03:20, 23.70it/s]".encode()


def _eval_bars(rng: random.Random) -> bytes:
    segs = [b" 0%|          | 0/32 [00:00<?, ?it/s]\x1b[A"]
    for n in (8, 16, 24, 31):
        segs.append(
            f"\n {100 * n // 32}%|###       | {n}/32 [00:0{n % 7}<00:01, {rng.uniform(20, 30):.2f}it/s]".encode()
        )
        segs[-1] += b"\x1b[A"
    return b"".join(segs) + b"\n"


def write_log(
    seed: int,
    *,
    redraw: float,
    records: int = 1200,
    banner: bool = True,
    warn: float = 0.0,
    rewind_at: int | None = None,
    second_run: bool = False,
    window: tuple[int, int] = (0, 1 << 30),
) -> bytes:
    """A log as ``tqdm.write`` leaves it: a clear (once or twice) before every dict, the train
    bar redrawn after a share ``redraw`` of the dicts (numbered within ``window``), eval bars and an eval dict now and then,
    a shape switch in one train dict of twenty, a warning line after a share ``warn`` of them,
    the epochs going back at record ``rewind_at``, the summary, and maybe a second run."""
    rng = random.Random(seed)
    out: list[bytes] = []

    def run(n: int) -> None:
        if banner:
            out.append(
                f"***** Running training *****\n  Num examples = 1,000\n  Total optimization steps = {TOTAL:,}\n".encode()
            )
        step = 0
        for i in range(n):
            step += 10
            if rewind_at is not None and i == rewind_at:
                step -= 400
            d: dict[str, object] = {"loss": round(rng.gauss(2, 0.5), 4), "grad_norm": rng.random() * 3}
            if rng.random() < 0.003:
                d["grad_norm"] = float("nan")
            d["learning_rate"] = 1e-4 * (1 - step / TOTAL)
            if i % 20 == 7:
                d["num_input_tokens_seen"] = 512 * step
            d["epoch"] = round(step / STEPS_PER_EPOCH, 2)
            clear = CLEAR + (b" " * 30 + b"\r" if rng.random() < 0.2 else b"")
            fmt = "5" if seed % 2 else "4"
            out.append(clear + _dict(d, fmt) + b"\n")
            if rng.random() < redraw and window[0] <= i < window[1]:
                out.append(_bar(step))
            if i % 97 == 50:
                out.append(_eval_bars(rng))
                e = {"eval_loss": round(rng.gauss(2, 0.3), 4), "eval_runtime": 1.5, "epoch": d["epoch"]}
                out.append(CLEAR + _dict(e, fmt) + b"\n")
            if rng.random() < warn:
                out.append(b"UserWarning: None of the inputs have requires_grad=True\n")
        s = {"train_runtime": 100.0, "train_samples_per_second": 5.0, "train_loss": 2.0, "epoch": step / 100}
        out.append(CLEAR + _dict(s, "4") + b"\n")

    run(records)
    if second_run:
        run(records // 3)
    return b"".join(out)


def _bits(v: object) -> object:
    return struct.pack("<d", v).hex() if isinstance(v, float) else v


def _rec(r: Record) -> tuple[object, ...]:
    return (r.kind, tuple((k, _bits(v)) for k, v in r.metrics.items()), r.step, _bits(r.epoch), r.offset, r.rank)


def _flat(items: list[object]) -> list[object]:
    out: list[object] = []
    for it in items:
        for x in it.records() if isinstance(it, Batch) else [it]:
            out.append(_rec(x) if isinstance(x, Record) else repr(x))
    return out


def _tracker(p: LogParser) -> tuple[object, ...]:
    steps = p._policy.steps  # the open events and skipped redraws are not in PolicyState
    return (steps._open, steps._skip, steps._armed, steps.enabled)


def _same_both_ways(data: bytes, chunk: int, start: int = 0) -> tuple[int, int]:
    """Feeds ``data[start:]`` (a read from mid-file when ``start``) in ``chunk``-byte pieces
    both ways, comparing after every feed; returns (batches without steps, records)."""
    ref, got = LogParser(start_offset=start), LogParser(start_offset=start)
    data = data[start:]
    held_batches = records = 0
    for i in range(0, len(data) + 1, chunk):
        piece = data[i : i + chunk]
        last = i + chunk > len(data)
        a = ref.feed(piece) + (ref.flush() if last else [])
        b = got.feed_columnar(piece) + (got.flush() if last else [])
        assert _flat(a) == _flat(b), f"items differ at byte {i} (chunk {chunk})"
        assert repr(ref.policy_state()) == repr(got.policy_state()), f"policy state differs at byte {i}"
        assert _tracker(ref) == _tracker(got)
        held_batches += sum(isinstance(x, Batch) and x.steps.shape[0] == 0 for x in b)
        records += sum(isinstance(x, Record) for x in _unbatched(a))
    return held_batches, records


def _unbatched(items: list[object]) -> list[object]:
    return [x for it in items for x in (it.records() if isinstance(it, Batch) else [it])]


CHUNKS = (1 << 30, 65_536 + 7, 4_099, 517, 61)
CASES = [
    # (seed, redraw share, options)
    (1, 0.0, {}),  # the train bar never redraws: every record held, let out MAX_WAIT + 1 at a time
    (2, 0.0, {"rewind_at": 700, "second_run": True}),
    (3, 0.01, {}),  # a rare redraw closes the open clear: held records take its step
    (4, 0.5, {}),
    (5, 1.0, {}),  # redrawn after every dict (the unbuffered shape): every record has its step
    (6, 0.0, {"warn": 0.02}),  # a warning ends the wait (cancel): held records go out
    (7, 0.0, {"banner": False}),  # no train bar known: nothing is held
    (8, 1.0, {"window": (0, 600)}),  # the bar redraws, then no more (held from then on)
    (9, 1.0, {"window": (600, 1 << 30)}),  # held, then the bar redraws (its first step ends the wait)
    (10, 0.0, {"start": 40_001}),  # a read from mid-file (unsynced: the record path)
]


@pytest.mark.parametrize(("seed", "redraw", "case"), CASES)
@pytest.mark.parametrize("chunk", CHUNKS)
def test_held_rows_same_as_record_path(seed: int, redraw: float, case: dict[str, Any], chunk: int) -> None:
    opts = dict(case)
    start = opts.pop("start", 0)
    data = write_log(seed, redraw=redraw, **opts)
    held_batches, records = _same_both_ways(data, chunk, start)
    assert records > (900 if start else 1200)
    if redraw == 0.0 and opts.get("banner", True) and not start and chunk >= 4_099:
        # The rows were held as slices of their run and went out as batches.
        assert held_batches > 0


def test_held_rows_go_out_without_steps_max_wait_plus_one_at_a_time() -> None:
    # The rule reproduced: with the clear open for good, records go out in groups of
    # MAX_WAIT + 1 (the hold that is one too many lets them all out), without a step; the
    # rest stay held until the end of input.
    data = write_log(1, redraw=0.0, records=1000)
    p = LogParser()
    items = p.feed_columnar(data)
    recs = [x for x in _unbatched(items) if isinstance(x, Record)]
    held = p.policy_state().waiting
    assert len(recs) % (MAX_WAIT + 1) == 0 and len(recs) > 0
    assert 0 < held <= MAX_WAIT
    assert all(r.step is None for r in recs)
    tail = [x for x in _unbatched(p.flush()) if isinstance(x, Record)]
    assert len(tail) == held
    evals = sum(1 for i in range(1000) if i % 97 == 50)
    assert len(recs) + len(tail) == 1000 + evals + 1  # the train records, the evals, the summary


@pytest.mark.parametrize("chunk", CHUNKS)
def test_bursts_of_dicts_after_a_clear_take_their_steps_as_batches(chunk: int) -> None:
    """GIVEN a block-buffered tqdm log with no evaluation (several logging steps' dicts arrive in
    one burst after a clear, their redraws after them: benchmarks/vs_tensorboard.py's log) WHEN
    fed both ways THEN the same items and state after every feed, and, read in large pieces, the
    rows with a queued step go out as batches with steps (not one record at a time)."""
    buf = io.BytesIO()
    gen_logs.generate(buf, "tqdm5", steps=20_000, logging_steps=10, eval_steps=10**12, seed=3)
    data = buf.getvalue()
    _, records = _same_both_ways(data, chunk)
    assert records == 2000 + 1  # every logging step's record and the summary
    whole = LogParser()
    items = whole.feed_columnar(data) + whole.flush()
    stepped = sum(len(x) for x in items if isinstance(x, Batch) and x.steps.shape[0] > 0)
    assert stepped > 1500
