"""The notification decision (pure, time given): one message per change, flapping held and said, ends never held."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FIXTURES

from tui_monitor.core.analysis.verdict import Reason
from tui_monitor.core.changes import Change, ChangeDetector
from tui_monitor.core.monitor import Monitor, MonitorSnapshot
from tui_monitor.core.notify import NotifyPolicy

SPIKE = Reason("loss_spike", "warning", 40, params={"at": None, "before": 2.0, "after": 9.0})
FELL = Reason("loss_decreasing", "ok", None, params={"start": 6.0, "end": 4.0, "change": -0.33})
NAN = Reason("grad_nonfinite", "critical", 60, "now", {"value": float("nan"), "at": None, "count": 1})
DONE = Reason("run_finished", "ok", 300, "summary", {"step": 300, "total": 300, "fraction": 1.0, "runtime": 56.0})


@pytest.fixture(scope="module")
def snap() -> MonitorSnapshot:
    """A real followed-state snapshot (a finished healthy run read whole)."""
    mon = Monitor(FIXTURES / "real/hf5_linear_warmup.log")
    mon.feed_file_once()
    return mon.snapshot()


def verdict(status: str, reason: Reason, previous: str | None = None) -> Change:
    return Change("verdict", 1, status, previous, "running", reason, 100, 300)


def test_a_flapping_verdict_is_said_once_as_flapping_then_held_until_it_settles(snap: MonitorSnapshot) -> None:
    """GIVEN a verdict flipping between warning and healthy every 10 s WHEN decided THEN three messages, then
    one `flapping`, then nothing while it flaps; a turn to critical breaks through; once steady for the
    window, where it settled is said once."""
    policy = NotifyPolicy("train.log", "gpu1", flap_max=3, flap_window_s=600)
    assert policy.decide([], snap, 0.0, 0.0) == []  # the baseline: a healthy run, nothing to say
    said: list[str] = []
    t = 0.0
    for i in range(8):
        t += 10
        c = verdict("warning", SPIKE) if i % 2 == 0 else verdict("healthy", FELL)
        said += [e.event for e in policy.decide([c], snap, t, t)]
    assert said == ["warning", "recovered", "warning", "flapping"]
    flap = [e for e in policy.decide([verdict("warning", SPIKE)], snap, t + 1, t + 1)]
    assert flap == []
    (crit,) = policy.decide([verdict("critical", NAN)], snap, t + 2, t + 2)
    assert (crit.event, crit.status, crit.code) == ("critical", "critical", "grad_nonfinite")
    # flapping again below critical: held
    assert policy.decide([verdict("warning", SPIKE)], snap, t + 3, t + 3) == []
    assert policy.decide([], snap, t + 3 + 599, t + 602) == []  # not steady for a whole window yet
    (settled,) = policy.decide([], snap, t + 3 + 601, t + 604)
    assert (settled.event, settled.status) == ("settled", "warning")
    assert policy.decide([], snap, t + 3 + 1200, t + 1203) == []


def test_the_end_of_a_run_is_never_held_and_one_change_is_one_message(snap: MonitorSnapshot) -> None:
    """GIVEN a held (flapping) verdict WHEN the run finishes THEN `finished` goes out at once, as one message."""
    policy = NotifyPolicy("train.log", "gpu1", flap_max=1, flap_window_s=600)
    policy.decide([], snap, 0.0, 0.0)
    assert [e.event for e in policy.decide([verdict("warning", SPIKE)], snap, 1, 1)] == ["warning"]
    assert [e.event for e in policy.decide([verdict("healthy", FELL)], snap, 2, 2)] == ["flapping"]
    end = Change("run_end", 1, "healthy", "healthy", "finished", DONE, 300, 300)
    (fin,) = policy.decide([end], snap, 3, 3)
    assert (fin.event, fin.step, fin.total) == ("finished", 300, 300)
    assert fin.title == "trainmon@gpu1: finished · HEALTHY train.log"
    assert fin.body.splitlines() == [
        "train.log, run 1: finished · HEALTHY",
        "finished (summary record, train_runtime 0:56): step 300/300 (100 %)",
    ]


def test_history_read_at_start_is_not_news_unless_it_is_already_bad(tmp_path: Path) -> None:
    """GIVEN trainmon started on a finished healthy log and on a critical one WHEN their first snapshots are
    decided THEN nothing for the finished run, one CRITICAL message for the critical one (in Russian, too)."""
    for name, lang, expect in [
        ("real/hf5_linear_warmup.log", "en", []),
        ("public/glm4_gradnorm_nan_trailing_ws.log", "ru", ["critical"]),
    ]:
        mon = Monitor(FIXTURES / name)
        mon.feed_file_once()
        snap = mon.snapshot()
        changes = ChangeDetector().update(snap)
        events = NotifyPolicy(str(FIXTURES / name), "gpu1", lang).decide(changes, snap, 0.0, 0.0)
        assert [e.event for e in events] == expect
        if events:
            assert events[0].body.startswith(
                "glm4_gradnorm_nan_trailing_ws.log, запуск 1: КРИТИЧНО\ngrad_norm равен nan"
            )
            assert events[0].action is not None and "`bf16=True`" in events[0].action
