"""Progressive loading of a large existing log (core/monitor.py): the provisional view of
the file's last bytes first, then the whole file, which replaces it."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import gen_logs  # benchmarks/gen_logs.py (pyproject's pythonpath)
import pytest
from helpers import wait_for

from tui_monitor.core import monitor as monitor_mod
from tui_monitor.core.monitor import Monitor
from tui_monitor.core.parse import LogParser, Record
from tui_monitor.core.pipeline import read_once


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = io.BytesIO()
    gen_logs.generate(out, "tqdm5", size=3 << 20, seed=1)
    path = tmp_path_factory.mktemp("prog") / "train.log"
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture(autouse=True)
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same logic on a 3 MiB file (8 MiB / 4 MiB in use): a 1 MiB window.
    monkeypatch.setattr(monitor_mod, "PROGRESSIVE_MIN", 2 << 20)
    monkeypatch.setattr(monitor_mod, "PROVISIONAL_WINDOW", 1 << 20)


def _steps_by_offset(path: Path) -> dict[int, int | None]:
    p = LogParser()
    items = p.feed(path.read_bytes()) + p.flush()
    return {r.offset: r.step for r in items if isinstance(r, Record)}


def _run_until_caught_up(mon: Monitor, size: int) -> list[object]:
    stop = threading.Event()
    th = threading.Thread(target=mon.run, args=(stop,), daemon=True)
    seen = []
    th.start()

    def caught_up() -> bool:
        snap = mon.snapshot()
        seen.append((snap.provisional, snap.bytes_read))
        return not snap.provisional and snap.bytes_read >= size and mon.pipeline.parser.idle

    try:
        wait_for(caught_up, "the monitor caught up", 60.0)
    finally:
        stop.set()
        th.join(5)
    return seen


def test_provisional_view_has_the_latest_values_and_true_steps(big_log: Path) -> None:
    # GIVEN a large log, WHEN only the provisional pass has run
    mon = Monitor(big_log, poll=0.05)
    mon._load_provisional(threading.Event())
    snap = mon.snapshot()
    full = read_once(big_log)
    # THEN the snapshot says so, and shows the run's latest position and values
    assert snap.provisional and mon.provisional
    assert snap.provisional_from and snap.provisional_from > big_log.stat().st_size - (1 << 20)
    assert snap.run.progress.step == full.run.snapshot().progress.step
    assert snap.run.progress.epoch == full.run.snapshot().progress.epoch
    for name in ("loss", "grad_norm", "learning_rate"):
        st = snap.run.metrics[name]
        want = full.run.snapshot().metrics[name]
        assert st.last == want.last or (st.last != st.last and want.last != want.last)
        assert 0 < st.count < want.count
    assert snap.bytes_read == 0 and snap.catching_up  # the whole file is still to be read
    # AND every step it claims is the step the whole-file parse gives that record
    truth = _steps_by_offset(big_log)
    prov = mon._provisional
    assert prov is not None
    recs = prov.run.recent_records()
    assert recs
    claimed = [(r.offset, r.step) for r in recs if r.step is not None]
    assert claimed, "a tail window of a tqdm log has clear/redraw pairs of its own"
    assert all(truth[o] == s for o, s in claimed)


def test_whole_file_replaces_the_provisional_view(big_log: Path) -> None:
    mon = Monitor(big_log, poll=0.05)
    seen = _run_until_caught_up(mon, big_log.stat().st_size)
    snap = mon.snapshot()
    full = read_once(big_log)
    # THEN the final state is the whole file's, exactly as a one-shot read gives it
    assert not snap.provisional and snap.provisional_from is None
    assert snap.run.records == dict(full.run.snapshot().records)
    assert {k: (v.count, v.last_step) for k, v in snap.run.metrics.items()} == {
        k: (v.count, v.last_step) for k, v in full.run.snapshot().metrics.items()
    }
    assert snap.run.rewinds == 0  # nothing of the provisional parser leaked into the real one
    # AND the provisional view was shown while reading, never after the switch
    flags = [p for p, _ in seen]
    if True in flags:
        first_real = flags.index(False, flags.index(True))
        assert True not in flags[first_real:]


def test_printer_gets_every_record_once(big_log: Path) -> None:
    # GIVEN a headless printer (on_items) with progressive loading forced on
    got: list[Record] = []
    mon = Monitor(
        big_log,
        poll=0.05,
        progressive=True,
        on_items=lambda items: got.extend(r for r in items if isinstance(r, Record)),
    )
    _run_until_caught_up(mon, big_log.stat().st_size)
    truth = _steps_by_offset(big_log)
    # THEN only the whole-file pass printed: each record once, in file order
    assert [r.offset for r in got] == list(truth)
    assert [r.step for r in got] == list(truth.values())


def test_printer_default_is_not_progressive(big_log: Path) -> None:
    assert not Monitor(big_log, on_items=lambda items: None).progressive
    assert Monitor(big_log).progressive


def test_small_file_and_from_end_are_not_progressive(tmp_path: Path, big_log: Path) -> None:
    small = tmp_path / "small.log"
    small.write_bytes(big_log.read_bytes()[: 1 << 20])
    mon = Monitor(small)
    mon._load_provisional(threading.Event())
    assert not mon.provisional
    mon = Monitor(big_log, from_end=True, poll=0.05)
    stop = threading.Event()
    th = threading.Thread(target=mon.run, args=(stop,), daemon=True)
    th.start()
    snap = wait_for(
        lambda: s if (s := mon.snapshot()).mode is not None and s.file_state == "following" else None,
        "following from the end",
    )
    assert not snap.provisional
    assert not mon.snapshot().provisional
    stop.set()
    th.join(5)
