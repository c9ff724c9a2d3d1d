"""A stretch of whole clear/redraw pairs with nothing held is taken at once (`StepPairing.markers`
queues its steps in one go): the same records, steps and tracker state as the reference loop
taking the same markers one by one, in sync, mid-stream (the stale steps dropped at the first
pair) and on probation (the burst paired at the first pair)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tui_monitor.core.parse import Record
from tui_monitor.core.parse.items import Out
from tui_monitor.core.parse.policy import RecordPolicy
from tui_monitor.core.parse.steps import StepTracker


def rec(i: int, step: int) -> Record:
    """The ``i``-th record, whose epoch is that of ``step`` (100 steps per epoch)."""
    return Record("train", {"loss": 2.0 - i / 100}, None, step / 100, 1000 * i)


def pairs(first: int, n: int, at: int) -> list[tuple[int, str, int, int]]:
    """``n`` pair markers (clear at ``at + 100 j``, its redraw 50 bytes on) of steps ``first``,
    ``first + 10``, ..."""
    return [(at + 100 * j, "pair", first + 10 * j, at + 100 * j + 50) for j in range(n)]


def in_sync(policy: RecordPolicy, out: Out) -> None:
    policy.markers(pairs(10, 3, 0), 0, 3, out)
    policy.take(rec(1, 10), out)


def mid_stream(policy: RecordPolicy, out: Out) -> None:
    # A read from mid-file: steps queued for records before the start, then a record of the
    # first burst; the next log event syncs the tracker (the stale steps are dropped).
    policy.steps.begin_mid_stream()
    policy.markers(pairs(10, 2, 0), 0, 2, out)
    policy.take(rec(1, 30), out)


def on_probation(policy: RecordPolicy, out: Out) -> None:
    # Synced mid-stream, then a burst of two records read after two events: the next event
    # ends the burst, which is paired from its end.
    mid_stream(policy, out)
    policy.markers(pairs(30, 2, 500), 0, 2, out)
    policy.take(rec(2, 30), out)
    policy.take(rec(3, 40), out)


def run(
    setup: Callable[[RecordPolicy, Out], None], one_by_one: bool, after: tuple[int, ...] = (20, 30, 100)
) -> tuple[list[object], object, bool, bool]:
    """``setup``, then a stretch of 45 pairs (steps 100, 110, ...) in one call or one by one,
    then three records whose epochs are those of steps ``after``, then the end of input."""
    policy = RecordPolicy(StepTracker())
    out: Out = []
    setup(policy, out)
    stretch = pairs(100, 45, 10_000)
    if one_by_one:
        for i in range(len(stretch)):
            policy.markers(stretch, i, i + 1, out)  # one marker a call: the reference loop
    else:
        policy.markers(stretch, 0, len(stretch), out)
    for i, step in zip(range(4, 7), after):
        policy.take(rec(i, step), out)
    policy.flush(out)
    items = [(r.offset, r.step) if isinstance(r, Record) else repr(r) for r in out]
    return items, policy.state(), policy.steps.unsynced, policy.steps.probation


@pytest.mark.parametrize("setup", [in_sync, mid_stream, on_probation])
def test_a_stretch_of_pairs_at_once_is_the_loop_marker_by_marker(setup: Callable[[RecordPolicy, Out], None]) -> None:
    # GIVEN a policy in a given state, WHEN 45 pairs come in one call or one by one
    at_once, reference = run(setup, one_by_one=False), run(setup, one_by_one=True)
    # THEN the same records with the same steps, and the same state after
    assert at_once == reference


def test_a_stretch_queues_its_steps_in_order() -> None:
    # GIVEN a synced policy with two steps still queued (20, 30), WHEN a stretch of 45 pairs is
    # taken and three records follow
    items, state, unsynced, probation = run(in_sync, one_by_one=False)
    # THEN the records take the steps in order: the two queued before, then the stretch's first
    assert items == [(1000, 10), (4000, 20), (5000, 30), (6000, 100)]
    assert (unsynced, probation) == (False, False)


def test_mid_stream_stretch_drops_the_stale_steps_and_goes_on_probation() -> None:
    # GIVEN a read from mid-file (two stale steps, then a record of the first burst)
    # WHEN the stretch comes and three records follow (a burst on probation, paired at the end)
    items, _, unsynced, probation = run(mid_stream, one_by_one=False, after=(100, 110, 120))
    # THEN the first record gets no step, the stale steps are dropped, and the burst of three
    # takes the stretch's first three steps
    assert items == [(1000, None), (4000, 100), (5000, 110), (6000, 120)]
    assert not unsynced and probation


def test_probation_burst_is_paired_when_the_stretch_begins() -> None:
    # GIVEN a burst of two records on probation after two events (steps 30 and 40 queued)
    # WHEN the stretch's first pair ends the burst
    items, _, unsynced, probation = run(on_probation, one_by_one=False, after=(100, 110, 120))
    # THEN the burst takes 30 and 40 (as many records as steps: probation ends), the records
    # after take 100, 110, 120
    assert items == [(1000, None), (2000, 30), (3000, 40), (4000, 100), (5000, 110), (6000, 120)]
    assert not unsynced and not probation
