"""The batch form of the run rules (`RunBoundaries.accept_rows`, one pass of `row_moves` over a
columnar run's rows) leaves the run boundaries as the record path does, record by record
(`RunBoundaries.went_back` and `RunBoundaries.accept`); the compiled ``_scan.run_moves`` gives
`row_moves`' very answer (bits included) or leaves the rows to it."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scan_path
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tui_monitor.core.parse import accel
from tui_monitor.core.parse.boundaries import RunBoundaries, row_moves
from tui_monitor.core.parse.items import Batch, Out, RecordKind
from tui_monitor.core.parse.steps import StepTracker

COMPILED = accel.scan


def _boundaries(
    last_step: int | None, last_epoch: float | None, intervals: tuple[int | None, float | None]
) -> RunBoundaries:
    runs = RunBoundaries(StepTracker(), lambda reason: None)
    if last_step is not None:
        runs.last_step[None] = last_step
    if last_epoch is not None:
        runs.last_epoch[None] = last_epoch
    runs.step_interval, runs.epoch_interval = intervals
    runs.run_has_records = last_step is not None or last_epoch is not None
    return runs


def _rows(kinds: list[RecordKind], shapes: list[int] | None, epochs: list[float] | None, n: int) -> Batch:
    """``n`` rows of a run (one metric per shape, so a row's kind is its shape's)."""
    names = [f"m{p}" for p in range(len(kinds))]
    return Batch(
        kinds[0],
        names,
        np.zeros((n, len(names))),
        np.array(epochs, dtype=np.float64) if epochs is not None else None,
        np.empty(0, dtype=np.int64),
        np.arange(n, dtype=np.int64),
        shapes=np.array(shapes, dtype=np.uint8) if shapes is not None else None,
        shape_cols=[[p] for p in range(len(kinds))],
        shape_kinds=kinds,
    )


def _state(runs: RunBoundaries) -> tuple[object, ...]:
    """What the run boundaries carry, NaN compared as NaN (by its repr)."""
    return tuple(
        repr(v)
        for v in (
            runs.last_step,
            runs.last_epoch,
            runs.step_interval,
            runs.epoch_interval,
            runs._seen,
            runs.run_has_records,
        )
    )


def _record_path(runs: RunBoundaries, rows: Batch, steps: list[int], s: int) -> int | None:
    """The rows ``s:`` one by one as the record path judges them: the first train record that
    goes back (nothing accepted), or ``None`` (each accepted)."""
    out: Out = []
    for i, rec in enumerate(rows.records()[s:]):
        rec.step = steps[i] if i < len(steps) else None
        if rec.kind == "train" and runs.went_back(rec):
            return i
        runs.accept(rec, out)
    assert out == []  # (no new run, no rewind: the batch form is never asked for one)
    return None


EPOCH = st.one_of(
    st.floats(min_value=0.0, max_value=50.0, allow_nan=False),
    st.sampled_from([float("nan"), float("inf"), 0.0, 1e-300, 5e-324, 1e300]),
)


@st.composite
def runs_of_rows(draw: st.DrawFn) -> tuple[object, ...]:
    """A run's rows: kinds of 1..4 shapes, the rows' shapes (a burst's eval row first, or
    mixed), steps mostly going forward (sometimes back, equal, or huge), epochs (or none), the
    run's last step and epoch before them, and the rows after the first ``s`` to judge."""
    kinds: list[RecordKind] = draw(st.lists(st.sampled_from(["train", "eval"]), min_size=1, max_size=4))
    n = draw(st.integers(min_value=0, max_value=40))
    how = draw(st.sampled_from(["none", "burst", "mixed"]))
    shapes = None
    if how == "burst" and n and len(kinds) > 1:
        shapes = [0] + [draw(st.integers(min_value=1, max_value=len(kinds) - 1))] * (n - 1)
    elif how == "mixed":
        shapes = draw(st.lists(st.integers(min_value=0, max_value=len(kinds) - 1), min_size=n, max_size=n))
    s = draw(st.integers(min_value=0, max_value=min(n, 2)))
    k = draw(st.integers(min_value=0, max_value=n - s))
    big = draw(st.booleans())
    base = draw(st.integers(min_value=0, max_value=10**17 if big else 10**6))
    moves = draw(st.lists(st.sampled_from([1, 1, 5, 5, 0, -3, 10**15]), min_size=k, max_size=k))
    steps = []
    for d in moves:
        base = max(0, base + d)
        steps.append(base)
    epochs = None
    if draw(st.booleans()):
        epochs = sorted(draw(st.lists(EPOCH, min_size=n, max_size=n)))
        if n and draw(st.booleans()):
            epochs[draw(st.integers(min_value=0, max_value=n - 1))] = draw(EPOCH)  # one out of order
    last_step = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=10**6)))
    last_epoch = draw(st.one_of(st.none(), EPOCH))
    intervals = (
        draw(st.one_of(st.none(), st.integers(1, 10))),
        draw(st.one_of(st.none(), st.sampled_from([0.01, 1.0]))),
    )
    return kinds, shapes, epochs, steps, s, last_step, last_epoch, intervals


@settings(max_examples=600, deadline=None)
@given(runs_of_rows(), st.booleans())
def test_batch_form_leaves_the_run_as_the_record_path(case: tuple[object, ...], compiled: bool) -> None:
    kinds, shapes, epochs, steps, s, last_step, last_epoch, intervals = case
    assert isinstance(steps, list) and isinstance(s, int) and isinstance(kinds, list)
    n = len(shapes) if isinstance(shapes, list) else len(epochs) if isinstance(epochs, list) else len(steps) + s
    assume(n > s)  # (the policy never hands over no rows)
    if compiled and COMPILED is None:
        pytest.skip("the C extension is not built here")
    # GIVEN a run's rows after its first s, and the run boundaries before them
    rows = _rows(kinds, shapes, epochs, n)  # type: ignore[arg-type]
    batch_runs = _boundaries(last_step, last_epoch, intervals)  # type: ignore[arg-type]
    record_runs = _boundaries(last_step, last_epoch, intervals)  # type: ignore[arg-type]
    ep = rows.epoch[s:] if rows.epoch is not None else None
    # WHEN the batch form takes them in one pass, and the record path one by one
    with scan_path(compiled):
        back = batch_runs.accept_rows(np.array(steps, dtype=np.int64), ep, n - s, rows, s)
    want = _record_path(record_runs, rows, steps, s)
    # THEN the same first train row going back, and, when none does, the same run state after
    assert back == want
    if back is None:
        assert _state(batch_runs) == _state(record_runs)
    else:
        assert _state(batch_runs) == _state(_boundaries(last_step, last_epoch, intervals))  # type: ignore[arg-type]


def test_a_burst_eval_row_moves_only_what_the_run_has_seen() -> None:
    # GIVEN a burst: an eval row (step 1000, epoch 0.2) before train rows at steps 1001..1003,
    # the run's last train step 950 (every 50: a logging interval not learnt yet)
    rows = _rows(["eval", "train"], [0, 1, 1, 1], [0.2, 0.204, 0.208, 0.212], 4)
    for compiled in (False, True) if COMPILED is not None else (False,):
        runs = _boundaries(950, 0.19, (None, None))
        with scan_path(compiled):
            # WHEN the rows are accepted
            back = runs.accept_rows(np.array([1000, 1001, 1002, 1003]), rows.epoch, 4, rows)
        # THEN none goes back; the interval is the train rows' (1001 - 950 = 51 is not the
        # smallest: 1), the last train step 1003, the run's last seen step 1003
        assert back is None
        assert (runs.step_interval, runs.last_step[None], runs._seen[None][0]) == (1, 1003, 1003)
        assert runs.epoch_interval == pytest.approx(0.004)
        # AND an eval row's step below the last train step is no rewind (only train rows go back)
        runs = _boundaries(2000, None, (None, None))
        with scan_path(compiled):
            assert runs.accept_rows(np.array([1000, 2001, 2002, 2003]), None, 4, rows) is None
            # while a train row's is: the first train row (index 1)
            runs = _boundaries(2000, None, (None, None))
            assert runs.accept_rows(np.array([2000, 1001, 1002, 1003]), None, 4, rows) == 1


def _moves_both(*args: object) -> tuple[object, object]:
    assert COMPILED is not None
    return COMPILED.run_moves(*args), row_moves(*args)  # type: ignore[arg-type]


def _bits(moves: object) -> object:
    """The fields with floats by their bits (NaN, -0.0 and every last digit count)."""
    assert isinstance(moves, tuple)
    return tuple(np.float64(v).tobytes() if isinstance(v, float) else (type(v), v) for v in moves)


@pytest.mark.skipif(COMPILED is None, reason="the C extension is not built here")
@settings(max_examples=800, deadline=None)
@given(runs_of_rows(), st.integers(min_value=0, max_value=3))
def test_compiled_moves_equal_python_moves(case: tuple[object, ...], pad: int) -> None:
    kinds, shapes, epochs, steps, s, last_step, last_epoch, _ = case
    assert isinstance(steps, list) and isinstance(s, int)
    n = len(shapes) if isinstance(shapes, list) else len(epochs) if isinstance(epochs, list) else len(steps) + s
    m = n - s
    # GIVEN a run's rows (its shapes with ``pad`` rows before them: `start`)
    sh = np.array([0] * pad + shapes, dtype=np.uint8) if isinstance(shapes, list) else None
    ep = np.array(epochs[s:], dtype=np.float64) if isinstance(epochs, list) else None
    args = (np.array(steps, dtype=np.int64), ep, m, sh, pad + s if sh is not None else 0, kinds, last_step, last_epoch)
    # WHEN the compiled and the Python form judge them
    got, want = _moves_both(*args)
    # THEN the very same answer, floats bit for bit (the compiled one leaves none of these
    # to Python)
    assert got is not None
    assert _bits(got) == _bits(want)


@pytest.mark.skipif(COMPILED is None, reason="the C extension is not built here")
def test_compiled_moves_leave_what_they_do_not_read_to_python() -> None:
    train: list[RecordKind] = ["train"]
    steps = np.array([5, 6, 7], dtype=np.int64)
    epochs = np.array([0.1, 0.2, 0.3])
    assert COMPILED is not None
    run_moves = COMPILED.run_moves
    # GIVEN what the compiled form does not read: a negative step, a last step past int64 or
    # negative, a last epoch that is an int, steps as floats, epochs not contiguous, a shape
    # past the kinds, more steps than rows
    cases = [
        (np.array([5, -1, 7], dtype=np.int64), epochs, 3, None, 0, train, None, None),
        (steps, epochs, 3, None, 0, train, 2**63, None),
        (steps, epochs, 3, None, 0, train, -1, None),
        (steps, epochs, 3, None, 0, train, None, 1),
        (steps.astype(np.float64), epochs, 3, None, 0, train, None, None),
        (steps, np.array([0.1, 9, 0.2, 9, 0.3, 9])[::2], 3, None, 0, train, None, None),
        (steps, epochs, 3, np.array([0, 1, 0], dtype=np.uint8), 0, train, None, None),
        (steps, epochs, 2, None, 0, train, None, None),
    ]
    for args in cases:
        # WHEN it is asked, THEN it answers None (Python decides), and Python answers
        assert run_moves(*args) is None, args
    assert row_moves(*cases[1])[0] == 0  # type: ignore[arg-type]  (step 5 is back from 2**63)
    assert row_moves(*cases[2])[:2] == (None, 1)  # type: ignore[arg-type]
    assert row_moves(*cases[5])[3:] == (7, 0.3, 7, 0.3)  # type: ignore[arg-type]
    # AND the common case is answered: steps 5, 6, 7 after 4, epochs 0.1 apart
    got = run_moves(steps, epochs, 3, None, 0, train, 4, 0.0)
    assert got is not None and (got[0], got[1], got[3], got[5]) == (None, 1, 7, 7)
    assert got[2] == 0.3 - 0.2 and got[4] == got[6] == 0.3  # (the smallest gap: 0.09999999999999998)
