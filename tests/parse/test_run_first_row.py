"""A columnar run's first row goes out in the run's batch when its `take` would make no
per-record decision, and through `take` when one applies (`RecordPolicy.take_run`).

Block-buffered tqdm logs (each burst of dicts after its clear -> redraw pairs) put the record
policy in the states a run's first row meets: the steps queued for it, a rewind or a new run
at it, a summary or a file reset before it, a bare record before it that it may echo, a record
held for its redraw, the stream's first records. Each log is fed through `LogParser.feed` (the
record path) and `LogParser.feed_columnar` in several chunkings, with the C reader and in pure
Python: the same records (steps, values by their bits, offsets, in order among the other
items) and the same policy state after every feed; and whole, the columnar items say which
rows went out in a batch. Runs whose first row is an eval record (a burst that begins with
the eval dict) are taken by the policy directly, against the same records through `take`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from helpers import COMPILED_SCAN, scan_path

from tui_monitor.core.parse import Batch, LogParser, Record, Rewind, RunStart
from tui_monitor.core.parse.columnar import ColumnRun, plan_for, read_run, run_plans
from tui_monitor.core.parse.items import Out

TOTAL = 1000
"""The train bar's total (optimization steps)."""
SPE = 100
"""Steps per epoch (a record's epoch is its step / SPE)."""
BANNER = f"***** Running training *****\n  Num examples = 3,200\n  Total optimization steps = {TOTAL:,}\n".encode()
CLEAR = b"\r" + b" " * 40 + b"\r"
"""tqdm.write's clear of the train bar."""
PATHS = [False, True] if COMPILED_SCAN is not None else [False]


def _train(step: int, loss: float | None = None) -> dict[str, float]:
    return {
        "loss": loss if loss is not None else round(2.0 + (step % 70) / 100, 4),
        "grad_norm": 0.5 + (step % 13) / 10,
        "learning_rate": 1e-4 * (1 - step / TOTAL),
        "epoch": step / SPE,
    }


def _eval(step: int) -> dict[str, float]:
    return {"eval_loss": 2.5 - step / 10_000, "eval_runtime": 1.5, "epoch": step / SPE}


SUMMARY = {"train_runtime": 100.0, "train_samples_per_second": 5.0, "train_loss": 2.0, "epoch": 1.0}


def _redraw(step: int) -> bytes:
    """The train bar drawn at ``step``."""
    return f"\r  1%|          | {step}/{TOTAL} [00:01<00:10,  5.60it/s]".encode()


def _events(steps: list[int]) -> bytes:
    """The log events of ``steps`` as stderr writes them: tqdm.write's clear, then the train
    bar's redraw at the step."""
    return b"".join(CLEAR + _redraw(s) for s in steps)


def _dicts(recs: list[dict[str, float]]) -> bytes:
    """A burst of stdout: the dict lines after a newline."""
    return b"\n" + b"".join(repr(d).encode() + b"\n" for d in recs)


def _burst(steps: list[int], first: dict[str, float] | None = None) -> bytes:
    """The events of ``steps``, then one train dict per step (``first`` instead of the first)."""
    recs = [_train(s) for s in steps]
    if first is not None:
        recs[0] = first
    return _events(steps) + _dicts(recs)


def _steps(a: int, b: int) -> list[int]:
    return list(range(a, b + 1, 10))


def _bits(v: object) -> object:
    return struct.pack("<d", v).hex() if isinstance(v, float) else v


def _rec(r: Record) -> tuple[object, ...]:
    return (r.kind, tuple((k, _bits(v)) for k, v in r.metrics.items()), r.step, _bits(r.epoch), r.offset, r.rank)


def _flat(items: list[object]) -> list[object]:
    return [
        _rec(x) if isinstance(x, Record) else repr(x)
        for it in items
        for x in (it.records() if isinstance(it, Batch) else [it])
    ]


def _tracker(p: LogParser) -> tuple[object, ...]:
    steps = p._policy.steps  # the open events, skipped redraws and bounds are not in PolicyState
    return (steps._open, steps._skip, steps._armed, steps.enabled, steps._lo, steps._hi)


def _shape(items: list[object]) -> list[str]:
    """The record items as the columnar path hands them out: ``B<n>`` for a batch of n rows,
    ``R`` for a lone record, the class name of a run boundary."""
    out = []
    for it in items:
        if isinstance(it, Batch):
            out.append(f"B{len(it)}")
        elif isinstance(it, Record):
            out.append("R")
        elif isinstance(it, (Rewind, RunStart)):
            out.append(type(it).__name__)
    return out


def _both_ways(pieces: list[bytes | None], chunk: int) -> tuple[list[object], list[object]]:
    """``pieces`` fed through `LogParser.feed` and `LogParser.feed_columnar` in ``chunk``-byte
    feeds (``None``: a file reset, `LogParser.reset`), compared after every feed; returns the
    record path's and the columnar path's items."""
    ref, got = LogParser(), LogParser()
    ref_items: list[object] = []
    got_items: list[object] = []
    for piece in pieces:
        if piece is None:
            ref.reset()
            got.reset()
            continue
        for i in range(0, len(piece), chunk):
            a = ref.feed(piece[i : i + chunk])
            b = got.feed_columnar(piece[i : i + chunk])
            assert _flat(a) == _flat(b), f"items differ at byte {i} (chunk {chunk})"
            assert repr(ref.policy_state()) == repr(got.policy_state()), f"policy state differs at byte {i}"
            assert _tracker(ref) == _tracker(got)
            ref_items += a
            got_items += b
    a, b = ref.flush(), got.flush()
    assert _flat(a) == _flat(b)
    assert repr(ref.policy_state()) == repr(got.policy_state())
    return ref_items + a, got_items + b


def _check(pieces: list[bytes | None]) -> tuple[list[object], list[object]]:
    """`_both_ways` in every chunking on both scan paths; returns the items of the whole feed
    (record path, columnar path) on the last."""
    whole: tuple[list[object], list[object]] = ([], [])
    for compiled in PATHS:
        with scan_path(compiled):
            for chunk in (1 << 30, 4_099, 517, 61):
                got = _both_ways(pieces, chunk)
                if chunk == 1 << 30:
                    whole = got
    return whole


def _records(items: list[object]) -> list[Record]:
    return [x for it in items for x in (it.records() if isinstance(it, Batch) else [it]) if isinstance(x, Record)]


def test_first_row_in_the_batch_when_its_steps_are_queued() -> None:
    # GIVEN three bursts of 10 dicts, each after its 10 log events
    log = BANNER + _burst(_steps(10, 100)) + _burst(_steps(110, 200)) + _burst(_steps(210, 300))
    ref, got = _check([log])
    # THEN every record has its bar's step; the stream's first record decides alone (the
    # two-writer evidence opens at a stream's first records), then every row of every later
    # burst goes out in its burst's batch, the first included
    assert [r.step for r in _records(ref)] == _steps(10, 300)
    assert _shape(got) == ["R", "B9", "B10", "B10"]
    assert got[-1].steps.tolist() == _steps(210, 300)


def test_first_row_that_goes_back_rewinds_then_the_next_burst_is_one_batch() -> None:
    # GIVEN a run resumed from a checkpoint into the same log: the second burst starts again at
    # step 110 (mid-run: a resume, not a restart), then a burst right after that rewind
    log = (
        BANNER
        + _burst(_steps(10, 100))
        + _burst(_steps(110, 200))
        + _burst(_steps(110, 200))
        + _burst(_steps(210, 300))
    )
    ref, got = _check([log])
    rewinds = [it for it in ref if isinstance(it, Rewind)]
    # THEN the first row that goes back takes the record path, with a Rewind to step 110
    # before it; the rows after it and the next burst (after the rewind) go out as batches
    assert [(w.step, w.epoch) for w in rewinds] == [(110, 1.1)]
    assert _shape(got) == ["R", "B9", "B10", "Rewind", "R", "B9", "B10"]
    assert [r.step for r in _records(got)] == _steps(10, 200) + _steps(110, 300)


def test_first_row_after_a_summary_starts_the_new_run() -> None:
    # GIVEN a run's summary record (with its log event), then a second run's bursts (no banner)
    log = (
        BANNER
        + _burst(_steps(10, 100))
        + _events([100])
        + _dicts([SUMMARY])
        + _burst(_steps(10, 100))
        + _burst(_steps(110, 200))
    )
    ref, got = _check([log])
    # THEN the new run's first record decides (a RunStart after the summary), the rows after
    # it go out as a batch, and so does the next burst
    starts = [it.reason for it in ref if isinstance(it, RunStart)]
    assert starts == ["after_summary"]
    assert _shape(got) == ["R", "B9", "R", "RunStart", "R", "B9", "B10"]
    assert [r.step for r in _records(got) if r.kind == "train"] == _steps(10, 100) + _steps(10, 200)


@pytest.mark.parametrize("restart", [False, True])
def test_first_row_after_a_file_reset(restart: bool) -> None:
    # GIVEN a file reset (a copytruncate that goes on, or a run restarted into the file)
    first = BANNER + _burst(_steps(10, 100)) + _burst(_steps(110, 200))
    after = _burst(_steps(10, 100)) if restart else _burst(_steps(210, 300))
    ref, got = _check([first, None, after])
    # THEN the first train record after it decides whether the run goes on, then the burst's
    # other rows go out as a batch
    starts = [it.reason for it in ref if isinstance(it, RunStart)]
    assert starts == (["new_file"] if restart else [])
    assert _shape(got) == ["R", "B9", "B10", *(["RunStart"] if restart else []), "R", "B9"]
    assert [r.step for r in _records(got)][-10:] == (_steps(10, 100) if restart else _steps(210, 300))


def test_first_row_that_echoes_the_bare_record_before_it() -> None:
    # GIVEN a dict printed with no log event (no step: it goes out bare), then a burst whose
    # first dict is the same record again, with its step (a second handler's echo)
    bare = _train(150)
    log = (
        BANNER
        + _burst(_steps(10, 100))
        + _dicts([bare])
        + _burst(_steps(150, 240), first=bare)
        + _burst(_steps(250, 340))
    )
    ref, got = _check([log])
    # THEN the echo counts once (the bare record goes out, the echo is dropped) and echo mode
    # is on: only the record path decides that, for the burst's first row and from then on
    # (the bare dict went on the first burst's run, after its blank line)
    assert [r.step for r in _records(got)] == [*_steps(10, 100), None, *_steps(160, 340)]
    assert _shape(got) == ["R", "B10"] + ["R"] * 19


def test_rows_after_a_held_record_are_held_with_it() -> None:
    # GIVEN a clear whose redraw is still to come (a record read after it is held), a dict,
    # then a burst of dicts, then the redraws
    log = BANNER + _burst(_steps(10, 100)) + CLEAR + _dicts([_train(s) for s in _steps(110, 200)])
    redraws = b"".join(_redraw(s) for s in _steps(110, 200))
    ref, got = _check([log, redraws + b"\n"])
    # THEN the held dict and the burst's rows (first included) wait for the redraw: the first
    # takes its step, the others none
    recs = _records(ref)
    assert [r.step for r in recs[10:]] == [110] + [None] * 9
    assert len(recs) == 20


# -- runs whose first row is an eval record (taken by the policy directly) ------------------


def _run(recs: list[dict[str, float]], base: int) -> ColumnRun:
    """The run the console reader reads from these dict lines at stream offset ``base``."""
    buf = b"".join(repr(d).encode() + b"\n" for d in recs)
    cache: dict[tuple[bytes, ...], object] = {}
    plans = [plan_for(tuple(k.encode() for k in d), cache) for d in recs]  # type: ignore[arg-type]
    run = read_run(buf, 0, base, run_plans(plans[0], plans))  # type: ignore[arg-type]
    assert run is not None and len(run) == len(recs)
    return run


def _policy_both_ways(
    prefix: list[bytes | None], run: Callable[[int], ColumnRun], suffix: bytes
) -> tuple[list[object], list[object]]:
    """Two parsers fed ``prefix`` (``None``: a file reset); then the run's records through the
    policy's `take` in one and the run through `take_run` in the other, then ``suffix``
    through both: the same items and state after each. Returns the items of the run (record
    path, batch path)."""
    ref, got = LogParser(), LogParser()
    for piece in prefix:
        if piece is None:
            ref.reset()
            got.reset()
        else:
            assert _flat(ref.feed(piece)) == _flat(got.feed(piece))
    rows = run(ref.offset)
    a: Out = []
    b: Out = []
    for rec in rows.rows.records():
        ref._policy.take(rec, a)
    got._policy.take_run(rows, b)
    assert _flat(a) == _flat(b)
    assert repr(ref.policy_state()) == repr(got.policy_state())
    assert _tracker(ref) == _tracker(got)
    assert _flat(ref.feed(suffix) + ref.flush()) == _flat(got.feed(suffix) + got.flush())
    assert repr(ref.policy_state()) == repr(got.policy_state())
    return list(a), list(b)


def _eval_burst(step: int, n: int) -> Callable[[int], ColumnRun]:
    """The eval record at ``step`` then the train records of the ``n`` steps after it."""
    return lambda base: _run([_eval(step)] + [_train(step + 10 * i) for i in range(1, n + 1)], base)


def test_eval_first_row_in_the_batch() -> None:
    # GIVEN the eval record's and 10 train records' steps queued (stdout buffered)
    prefix = BANNER + _burst(_steps(10, 100)) + _events(_steps(100, 200))
    ref, got = _policy_both_ways([prefix], _eval_burst(100, 10), _burst(_steps(210, 300)))
    # THEN the run goes out in one decision, with its steps: the eval record first, as a record
    # (alone of its shape), then the train records as one batch
    assert _shape(got) == ["R", "B10"]
    assert got[1].steps.tolist() == _steps(110, 200)
    assert [(r.kind, r.step) for r in _records(ref)] == [("eval", 100)] + [("train", s) for s in _steps(110, 200)]


def test_eval_first_row_after_a_summary() -> None:
    # GIVEN a summary record, then a run whose eval record comes before the new run's first
    # train record
    prefix = BANNER + _burst(_steps(10, 100)) + _events([100]) + _dicts([SUMMARY]) + _events(_steps(10, 110))
    ref, got = _policy_both_ways([prefix], _eval_burst(10, 10), b"")
    # THEN the eval record and the first train record take the record path (that one starts
    # the new run), the other rows go out as a batch
    assert _shape(got) == ["R", "RunStart", "R", "B9"]
    assert [it.reason for it in ref if isinstance(it, RunStart)] == ["after_summary"]


@pytest.mark.parametrize("restart", [False, True])
def test_eval_first_row_after_a_file_reset(restart: bool) -> None:
    # GIVEN a file reset, then a run whose eval record comes before its first train record
    first = BANNER + _burst(_steps(10, 100)) + _burst(_steps(110, 200))
    at = 10 if restart else 200
    after = _events(_steps(at, at + 100))
    ref, got = _policy_both_ways([first, None, after], _eval_burst(at, 10), b"")
    # THEN the eval record goes out alone, the first train record decides whether the run goes
    # on (against the last record of any kind: after the eval record at epoch 0.1, step 20 goes
    # on; back from step 200 it is a Rewind), the rows after it go out as a batch
    assert _shape(got) == (["R", "Rewind", "R", "B9"] if restart else ["R", "R", "B9"])
    assert [r.step for r in _records(got)] == _steps(at, at + 100)


def test_eval_first_row_echo_of_a_bare_eval_record() -> None:
    # GIVEN a bare eval record (no log event), then the same eval record first in a run, with
    # a step: an echo, which the record path decides
    prefix = BANNER + _burst(_steps(10, 100)) + _dicts([_eval(100)]) + _events(_steps(100, 200))
    ref, got = _policy_both_ways([prefix], _eval_burst(100, 10), b"")
    # THEN the echo counts once (the bare eval record went out before the run) and echo mode
    # is on: the run's records go out one by one, each with its step
    assert [(r.kind, r.step) for r in _records(got)] == [("train", s) for s in _steps(110, 200)]
    assert _shape(got) == ["R"] * 10


def test_rows_held_until_a_release_lets_a_summary_out_last() -> None:
    # GIVEN a clear that stays open (the train bar drawn elsewhere: every record is held for
    # it), 245 train records and the run's summary held, then a run of 11 eval records and 5
    # train records: holding its 11th row lets MAX_WAIT + 1 records out, the summary last but
    # for eval records
    held = b"".join(CLEAR + repr(_train(s)).encode() + b"\n" for s in range(110, 2560, 10))
    prefix = BANNER + _burst(_steps(10, 100)) + held + CLEAR + repr(SUMMARY).encode() + b"\n"

    def run(base: int) -> ColumnRun:
        return _run([_eval(2550)] * 11 + [_train(s) for s in _steps(10, 50)], base)

    ref, got = _policy_both_ways([prefix], run, b"")
    # THEN the rows up to it are let out with them, without steps; the train records after it
    # are each `take`n (the first learns the new run's steps per epoch afresh) and held
    recs = _records(ref)
    assert len(recs) == 245 + 1 + 11 and recs[-1].kind == "eval" and all(r.step is None for r in recs)
    assert _shape(got) == ["R"] * 257  # (after a summary, held rows go out one by one)
