"""The Monitor (tailer -> parser -> tally/store -> analysis) following real files in a thread."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from helpers import FIXTURES, records_bytes, wait_for

from tui_monitor.core.monitor import Monitor, MonitorSnapshot
from tui_monitor.ui.facts import DisplayOptions, read_run
from tui_monitor.ui.lines import present_status


def snapshot_when(mon: Monitor, pred: Callable[[MonitorSnapshot], bool], what: str) -> MonitorSnapshot:
    """The first snapshot of ``mon`` for which ``pred`` holds (polled, 10 s deadline)."""
    return wait_for(
        lambda: snap if pred(snap := mon.snapshot()) else None,
        lambda: f"{what} (records so far: {mon.snapshot().run.records})",
        10.0,
    )


def test_trainer_state_rewritten_at_each_checkpoint(tmp_path: Path) -> None:
    # GIVEN trainmon following a trainer_state.json as the Trainer rewrites it
    state = tmp_path / "trainer_state.json"
    state.write_bytes(
        (FIXTURES / "real" / "trainer_state_hf5_resume_append.resumed_from_checkpoint-100.json").read_bytes()
    )
    resets: list[str] = []
    mon = Monitor(state, poll=0.05, on_reset=resets.append)
    stop = threading.Event()
    th = threading.Thread(target=mon.run, args=(stop,), daemon=True)
    th.start()
    try:
        snap = snapshot_when(mon, lambda s: s.run.records["train"] == 20, "checkpoint-100 state")
        assert snap.format == "trainer_state" and snap.run.progress.step == 100
        inode = state.stat().st_ino
        # WHEN the next checkpoint rewrites it in place (same inode, truncated and rewritten)
        with open(state, "r+b") as f:
            f.truncate(0)
            f.write((FIXTURES / "real" / "trainer_state_hf5_resume_append.json").read_bytes())
        assert state.stat().st_ino == inode
        # THEN the records already seen are not counted twice
        snap = snapshot_when(mon, lambda s: s.run.progress.step == 300, "checkpoint-300 state")
        assert snap.run.records == {"train": 60, "eval": 3, "summary": 0}
        assert snap.run.get("loss").count == 60
        # AND the same run growing is neither a truncation nor a restart
        assert resets == [] and [e.kind for e in snap.run.events] == [] and snap.run.rewinds == 0
    finally:
        stop.set()
        th.join(5)


def test_state_before_the_first_read_is_known_from_the_path(tmp_path: Path) -> None:
    # GIVEN a log that exists and one that does not, and their monitors not started yet
    log = tmp_path / "train.log"
    data = (FIXTURES / "real" / "hf5_linear_warmup.log").read_bytes()
    log.write_bytes(data)
    existing, missing = Monitor(log, poll=0.05), Monitor(tmp_path / "later.log", poll=0.05)
    # THEN the first snapshot (what the first frame is drawn from) says what is true
    first = existing.snapshot()
    assert first.file_state == "reading" and first.file_size == len(data) and first.bytes_read == 0
    assert missing.snapshot().file_state == "waiting"
    # WHEN the existing one runs THEN "reading" ends once what the file held is read
    stop = threading.Event()
    th = threading.Thread(target=existing.run, args=(stop,), daemon=True)
    th.start()
    try:
        snap = snapshot_when(existing, lambda s: s.file_state == "following", "following")
        assert snap.run.records["summary"] == 1 and snap.bytes_read == len(data)
    finally:
        stop.set()
        th.join(5)


def test_empty_and_from_end_files_are_not_left_reading(tmp_path: Path) -> None:
    # GIVEN an empty log, and a full one followed from its end
    empty, full = tmp_path / "empty.log", tmp_path / "full.log"
    empty.write_bytes(b"")
    full.write_bytes((FIXTURES / "real" / "hf5_linear_warmup.log").read_bytes())
    mons = [Monitor(empty, poll=0.05), Monitor(full, poll=0.05, from_end=True)]
    stop = threading.Event()
    threads = [threading.Thread(target=m.run, args=(stop,), daemon=True) for m in mons]
    for th in threads:
        th.start()
    try:
        # THEN both are "following" at once, though no batch of bytes ever comes
        for m in mons:
            snap = snapshot_when(m, lambda s: s.file_state == "following", f"{m.path} following")
            assert snap.run.records["train"] == 0 and snap.file_size - snap.bytes_read <= 0
    finally:
        stop.set()
        for th in threads:
            th.join(5)


def test_trainer_state_of_another_run_written_over_it_is_a_truncation(tmp_path: Path) -> None:
    # GIVEN trainmon following the final trainer_state.json of a run (step 300)
    state = tmp_path / "trainer_state.json"
    state.write_bytes((FIXTURES / "real" / "trainer_state_hf5_resume_append.json").read_bytes())
    resets: list[str] = []
    mon = Monitor(state, poll=0.05, on_reset=resets.append)
    stop = threading.Event()
    th = threading.Thread(target=mon.run, args=(stop,), daemon=True)
    th.start()
    try:
        snapshot_when(mon, lambda s: s.run.progress.step == 300, "checkpoint-300 state")
        # WHEN a document whose history does not start with the earlier one is written in
        # place (a run restarted from checkpoint-100: its state has 21 entries, not 63)
        with open(state, "r+b") as f:
            f.truncate(0)
            f.write(
                (FIXTURES / "real" / "trainer_state_hf5_resume_append.resumed_from_checkpoint-100.json").read_bytes()
            )
        # THEN it is announced as a truncation, as before
        snap = snapshot_when(mon, lambda s: s.run.progress.step == 100, "checkpoint-100 state")
        assert resets == ["truncated"]
        assert [e.kind for e in snap.run.events] == ["truncated"]
    finally:
        stop.set()
        th.join(5)


def test_from_end_on_a_large_file_is_not_catching_up(tmp_path: Path) -> None:
    # GIVEN a 3 MiB log followed from its end (--from-end)
    log = tmp_path / "train.log"
    log.write_bytes(b"x" * (3 << 20) + b"\n")
    mon = Monitor(log, poll=0.05, from_end=True)
    stop = threading.Event()
    th = threading.Thread(target=mon.run, args=(stop,), daemon=True)
    th.start()
    try:
        snapshot_when(mon, lambda s: s.file_state == "following", "following")
        # WHEN the training writes a record
        with open(log, "ab") as f:
            f.write(b"{'loss': 2.5, 'learning_rate': 1e-4, 'epoch': 0.5}\n")
        snap = snapshot_when(mon, lambda s: s.run.records["train"] == 1, "the new record")
        # THEN the skipped history counts as read: nothing is left to catch up
        assert snap.bytes_read == snap.file_size == log.stat().st_size
        assert not snap.catching_up
    finally:
        stop.set()
        th.join(5)


def test_a_nul_hole_over_1_mib_read_over_is_not_catching_up(tmp_path: Path) -> None:
    # GIVEN a run written with `> train.log` (no O_APPEND), followed live
    log = tmp_path / "train.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    mon = Monitor(log, poll=0.05)
    stop = threading.Event()
    th = threading.Thread(target=mon.run, args=(stop,), daemon=True)
    th.start()
    try:
        os.write(fd, records_bytes(0, 10))
        snapshot_when(mon, lambda s: s.run.records["train"] == 10, "the first records")
        # WHEN the log is truncated (copytruncate) while the writer goes on at its own offset,
        # 2 MiB further on: the file starts with a 2 MiB hole of NUL bytes
        os.truncate(log, 0)
        os.pwrite(fd, records_bytes(10, 20), 2 << 20)
        snap = snapshot_when(mon, lambda s: s.run.records["train"] == 20, "the records after the hole")
        # THEN everything counts as read: no "catching up", on the status line either
        assert snap.bytes_read == snap.file_size == log.stat().st_size
        assert not snap.catching_up
        assert present_status(read_run(snap), DisplayOptions(), snap.started).catching_up is None
    finally:
        os.close(fd)
        stop.set()
        th.join(5)


def test_snapshot_carries_the_verdict_and_position(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    mon = Monitor(log, poll=0.05)
    stop = threading.Event()
    th = threading.Thread(target=mon.run, args=(stop,), daemon=True)
    th.start()
    try:
        assert snapshot_when(mon, lambda s: s.mode == "poll", "start").file_state == "waiting"
        log.write_bytes((FIXTURES / "real" / "hf5_linear_warmup.log").read_bytes())
        snap = snapshot_when(mon, lambda s: s.run.records["summary"] == 1, "the whole run")
        assert snap.file_state == "following"
        assert snap.health.status == "healthy"
        assert snap.health.state.word == "finished"
        assert (snap.run.progress.step, snap.run.progress.total) == (300, 300)
        assert snap.run.get("loss").x_is_step and snap.run.get("loss").x[0] == 5.0
        assert snap.health.lr.warmup_end_x == 25.0
    finally:
        stop.set()
        th.join(5)


def test_directory_is_an_error_state_not_a_crash(tmp_path: Path) -> None:
    mon = Monitor(tmp_path)
    mon.run(threading.Event())
    snap = mon.snapshot()
    assert snap.file_state == "error" and "directory" in (snap.error or "")


def test_one_shot_read_cut_before_the_last_redraw_keeps_steps(tmp_path: Path) -> None:
    # GIVEN the first six records of a real unbuffered log, cut right after the sixth dict
    # (its tqdm redraw, which carries its step, is not written yet)
    data = (FIXTURES / "real" / "hf5_linear_warmup_unbuffered.log").read_bytes()
    cut = 0
    for _ in range(6):
        cut = data.index(b"{'loss'", cut + 1)
    cut = data.index(b"\n", cut) + 1
    log = tmp_path / "train.log"
    log.write_bytes(data[:cut])
    mon = Monitor(log)
    mon.feed_file_once()
    snap = mon.snapshot()
    # THEN the series stays in steps: no ordinal is mixed into the x values
    lr = snap.run.get("learning_rate")
    assert lr.x_is_step
    assert lr.x.tolist() == [5.0, 10.0, 15.0, 20.0, 25.0, 25.0]
    assert snap.health.lr.peak_x == 25.0
