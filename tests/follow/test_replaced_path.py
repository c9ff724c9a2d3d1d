"""The followed path replaced by a directory (or a FIFO) while followed, then by a file again
(issue 17, item 4): said, waited out, and the file picked up as a new stream."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from helpers import FIXTURES, Collector, append, expected, records_bytes, wait_for

from tui_monitor.core.follow import Follower, Reset, Tailer
from tui_monitor.core.monitor import Monitor


def test_path_replaced_by_a_directory_is_waited_out_and_the_file_read_again(tmp_path: Path) -> None:
    """GIVEN 5 records read from train.log
    WHEN the file is removed and a directory takes its name, then the directory goes and a new
    train.log is written
    THEN no error: the state says "directory" while it is one, and the new file is a new stream
    read from offset 0 (Reset("recreated"), its 3 records)."""
    log = tmp_path / "train.log"
    append(log, records_bytes(0, 5))
    c = Collector(Tailer(log))
    c.pump_records(5)
    os.unlink(log)
    log.mkdir()
    assert c.pump() == []
    assert c.tailer.state == "directory"
    assert c.pump() == [] and c.tailer.state == "directory"  # still waiting, quietly
    log.rmdir()
    append(log, records_bytes(40, 43))
    c.pump_records(8)
    assert c.resets == ["recreated"]
    assert c.seen() == expected(0, 5) + expected(40, 43)
    assert c.tailer.state == "following"


def test_records_written_to_the_moved_file_before_the_directory_are_not_lost(tmp_path: Path) -> None:
    """GIVEN a writer holding train.log open, 3 records read
    WHEN the file is renamed away, a directory takes the name, and the writer writes 2 more
    THEN those 2 are read from the old handle; a new file at the path is a rotation."""
    log = tmp_path / "train.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, records_bytes(0, 3))
        c = Collector(Tailer(log))
        c.pump_records(3)
        os.rename(log, tmp_path / "train.log.1")
        log.mkdir()
        os.write(fd, records_bytes(3, 5))
        c.pump_records(5)
        assert c.tailer.state == "directory"
        log.rmdir()
        append(log, records_bytes(20, 22))
        c.pump_records(7)
        assert c.resets == ["rotated"]
        assert c.seen() == expected(0, 5) + expected(20, 22)
    finally:
        os.close(fd)


def test_a_fifo_at_the_path_is_waited_out(tmp_path: Path) -> None:
    """GIVEN a tailer waiting for train.log
    WHEN a named pipe appears at the path (it would block an open), then a regular file
    THEN the state says "not_regular", nothing blocks, and the file is read."""
    log = tmp_path / "train.log"
    c = Collector(Tailer(log))
    assert c.pump() == [] and c.tailer.state == "waiting"
    os.mkfifo(log)
    assert c.pump() == [] and c.tailer.state == "not_regular"
    os.unlink(log)
    append(log, records_bytes(0, 2))
    c.pump_records(2)
    assert c.seen() == expected(0, 2) and c.tailer.state == "following"


def test_the_real_follower_and_monitor_say_it_and_pick_the_file_up(tmp_path: Path) -> None:
    """GIVEN a Monitor (the real Follower, inotify) on a real finished run
    WHEN the path becomes a directory, then the run's log comes back
    THEN its state and version show the directory at once (no byte to read), then a new run
    from the new file with all its records; the monitor thread never dies."""
    src = FIXTURES / "real" / "hf5_linear_warmup.log"
    log = tmp_path / "train.log"
    log.write_bytes(src.read_bytes())
    mon = Monitor(log)
    stop = threading.Event()
    worker = threading.Thread(target=mon.run, args=(stop,), daemon=True)
    worker.start()
    try:
        wait_for(lambda: mon.snapshot().run.record_count == 67, "the 67 records")
        wait_for(lambda: mon.live_state == "following", "following")
        version = mon.version
        os.unlink(log)
        log.mkdir()
        wait_for(lambda: mon.live_state == "directory", lambda: f"the directory state (now {mon.live_state})")
        assert mon.version > version and mon.snapshot().file_state == "directory"
        log.rmdir()
        log.write_bytes(src.read_bytes())
        snap = wait_for(
            lambda: (
                (s := mon.snapshot()).file_state == "following" and len(s.runs) == 2 and s.run.record_count == 67 and s
            ),
            lambda: f"the file again (state {mon.live_state}, runs {len(mon.snapshot().runs)})",
        )
        assert snap.error is None and worker.is_alive()
        assert [e.kind for e in snap.run.events if e.kind in ("deleted", "recreated", "truncated", "rotated")] == [
            "recreated"
        ]
    finally:
        stop.set()
        worker.join(5)


def test_follower_does_not_raise_when_the_path_becomes_a_directory(tmp_path: Path) -> None:
    """GIVEN the real Follower on a log
    WHEN the path becomes a directory and then a file again
    THEN it goes on yielding: the reset and the new bytes, no exception."""
    log = tmp_path / "train.log"
    append(log, records_bytes(0, 2))
    stop = threading.Event()
    follower = Follower(log, stop_event=stop, poll=0.02)
    got: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for batch in follower:
                got.extend(batch)
        except BaseException as e:  # noqa: BLE001 - the test asserts there is none
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        wait_for(lambda: got, "the first bytes")
        os.unlink(log)
        log.mkdir()
        wait_for(lambda: follower.tailer.state == "directory", "the directory")
        log.rmdir()
        append(log, records_bytes(5, 6))
        wait_for(lambda: Reset("recreated") in got, "the reset")
        assert errors == [] and t.is_alive()
    finally:
        stop.set()
        t.join(5)
