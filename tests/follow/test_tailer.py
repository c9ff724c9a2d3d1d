"""Tailer against real writers on tmp_path: appends, bursts, splits, truncation, rotation,
deletion, missing paths, NUL holes, binary junk and huge lines; read-only and error cases."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    Collector,
    ThreadWriter,
    append,
    expected,
    record_line,
    records_bytes,
    run_unprivileged,
    start_writer_process,
    wait_for,
)

from tui_monitor.core.follow import (
    HEAD_FINGERPRINT_BYTES,
    Chunk,
    Reset,
    Tailer,
    TailError,
)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "train.log"


# -- 1, 2, 3: plain growth --------------------------------------------------------------


@pytest.mark.slow
def test_slow_appends_one_record_at_a_time(log: Path) -> None:
    """GIVEN a separate process appending 25 records 20 ms apart
    WHEN the tailer polls alongside it
    THEN every record arrives once, in order, with no Reset."""
    log.touch()
    c = Collector(Tailer(log))
    proc = start_writer_process(log, 0, 25, 0.02)
    try:
        c.pump_records(25)
    finally:
        proc.wait(timeout=10)
    c.pump()
    assert c.seen() == expected(0, 25)
    assert c.resets == []
    assert c.polls_with_data > 1  # it really was followed live, not read at the end
    assert c.tailer.state == "following"
    assert c.tailer.offset == c.tailer.size == log.stat().st_size


def test_burst_of_10000_records_is_returned_in_one_poll(log: Path) -> None:
    """GIVEN a followed file
    WHEN 10,000 records are appended in one go (as a block-buffered stdout flushes)
    THEN a single poll returns all of them, in chunks of at most chunk_size bytes."""
    log.write_bytes(b"")
    c = Collector(Tailer(log, chunk_size=64 * 1024))
    assert c.pump() == []
    with open(log, "ab") as f:
        f.writelines(record_line(i) for i in range(10_000))
    items = c.pump()
    assert all(isinstance(i, Chunk) for i in items)
    assert len(items) > 1 and c.max_data <= 64 * 1024
    assert c.seen() == expected(0, 10_000)
    assert b"".join(i.payload for i in items if isinstance(i, Chunk)) == log.read_bytes()
    assert c.tailer.behind is False


def test_record_split_across_two_writes_with_a_pause(log: Path) -> None:
    """GIVEN a writer that flushes half a record, pauses, then writes the rest
    WHEN the tailer polls during the pause
    THEN the half is held back by the parser and the record arrives whole, once."""
    log.write_bytes(record_line(0))
    c = Collector(Tailer(log))
    c.pump_records(1)
    line = record_line(1)
    w = ThreadWriter(log)
    try:
        w.write(line[:20])
        c.pump_until(lambda: c.tailer.offset == log.stat().st_size)
        assert len(c.records) == 1  # no half record
        polled_during_pause = threading.Event()

        def finish() -> None:
            polled_during_pause.wait(5)
            w.write(line[20:])

        t = threading.Thread(target=finish)
        t.start()
        c.pump()
        polled_during_pause.set()
        c.pump_records(2)
        t.join()
    finally:
        w.close()
    assert c.seen() == expected(0, 2)
    assert c.records[1].offset == len(record_line(0))


# -- 4: truncation ----------------------------------------------------------------------


@pytest.mark.slow
def test_restarted_run_truncates_and_rewrites(log: Path) -> None:
    """GIVEN 30 records read from a run's log
    WHEN a restarted run opens the log with `> train.log` and writes 5 new records
    THEN a Reset("truncated") comes first and exactly the new records follow."""
    log.write_bytes(records_bytes(0, 30))
    c = Collector(Tailer(log))
    c.pump_records(30)
    proc = start_writer_process(log, 100, 105, 0.01, mode="w")
    try:
        c.pump_until(lambda: len(c.records) >= 35)
    finally:
        proc.wait(timeout=10)
    c.pump()
    assert c.resets == ["truncated"]
    assert c.seen() == expected(0, 30) + expected(100, 105)


@pytest.mark.parametrize("new_count", [20, 40], ids=["same-size", "bigger"])
def test_truncate_and_rewrite_faster_than_one_poll(log: Path, new_count: int) -> None:
    """GIVEN 20 records read
    WHEN between two polls the file is truncated and rewritten to the same or a bigger size
    THEN the changed first bytes (fingerprint) give Reset("truncated") and all new records."""
    log.write_bytes(records_bytes(0, 20))
    c = Collector(Tailer(log))
    c.pump_records(20)
    old_size = log.stat().st_size
    with open(log, "wb") as f:  # truncate + rewrite in one go
        f.write(records_bytes(500, 500 + new_count))
    assert log.stat().st_size >= old_size
    c.pump()
    assert c.resets == ["truncated"]
    assert c.seen() == expected(0, 20) + expected(500, 500 + new_count)


def test_rewrite_with_identical_banner_is_caught_by_the_tail_fingerprint(log: Path) -> None:
    """GIVEN a log whose first 8 KiB are a banner a restarted run prints identically
    WHEN the run restarts (truncate) and writes more than before, all between two polls
    THEN the bytes before our offset differ, so Reset("truncated") still comes."""
    banner = b"***** Running training *****\n" + b"  Num examples = 100\n" * 400
    assert len(banner) > 2 * HEAD_FINGERPRINT_BYTES
    log.write_bytes(banner + records_bytes(0, 10))
    c = Collector(Tailer(log))
    c.pump_records(10)
    log.write_bytes(banner + records_bytes(200, 230))
    c.pump()
    assert c.resets == ["truncated"]
    assert c.seen() == expected(0, 10) + expected(200, 230)


# -- 5, 6: rotation ---------------------------------------------------------------------


def test_copytruncate_rotation(log: Path) -> None:
    """GIVEN a writer appending through its open O_APPEND handle, 10 records read
    WHEN logrotate's copytruncate copies the file and truncates it in place, and the writer
    goes on with 10 more records
    THEN Reset("truncated") and the 10 new records; the copy holds the first 10."""
    w = ThreadWriter(log)
    try:
        w.write(records_bytes(0, 10))
        c = Collector(Tailer(log))
        c.pump_records(10)
        shutil.copyfile(log, log.with_suffix(".log.1"))
        os.truncate(log, 0)
        w.write_records_slowly(10, 20, 0.005).join()
        c.pump_records(20)
    finally:
        w.close()
    assert c.resets == ["truncated"]
    assert c.seen() == expected(0, 20)
    assert log.with_suffix(".log.1").read_bytes() == records_bytes(0, 10)
    assert log.read_bytes() == records_bytes(10, 20)


def test_rename_rotation_drains_the_old_file_first(log: Path) -> None:
    """GIVEN 10 records read, then 5 more written but not yet polled
    WHEN `mv train.log train.log.1`, 3 last records land in the old file through the writer's
    handle, and the writer starts a new train.log with 10 records — all before one poll
    THEN that poll gives the old file's 8 remaining records, then Reset("rotated"), then the new
    file's 10 records from offset 0."""
    w = ThreadWriter(log)
    w.write(records_bytes(0, 10))
    c = Collector(Tailer(log))
    c.pump_records(10)
    w.write(records_bytes(10, 15))
    os.rename(log, log.with_suffix(".log.1"))
    w.write(records_bytes(15, 18))
    w.close()
    w2 = ThreadWriter(log)
    w2.write(records_bytes(18, 28))
    w2.close()
    items = c.pump()
    reset_at = next(i for i, it in enumerate(items) if isinstance(it, Reset))
    assert items[reset_at] == Reset("rotated")
    old = b"".join(it.payload for it in items[:reset_at] if isinstance(it, Chunk))
    new = items[reset_at + 1 :]
    assert old == records_bytes(10, 18)
    assert isinstance(new[0], Chunk) and new[0].offset == 0
    assert c.seen() == expected(0, 28)
    assert c.tailer.offset == log.stat().st_size


def test_rename_rotation_with_a_poll_before_the_new_file_exists(log: Path) -> None:
    """GIVEN a log renamed away while its writer keeps appending, polled before a new file
    appears
    WHEN the new train.log is created
    THEN no Reset while only the renamed file exists (its new bytes are read), then
    Reset("rotated") when the new file appears."""
    w = ThreadWriter(log)
    w.write(records_bytes(0, 5))
    c = Collector(Tailer(log))
    c.pump_records(5)
    os.rename(log, log.with_suffix(".log.1"))
    w.write(records_bytes(5, 8))
    c.pump_records(8)
    assert c.resets == [] and c.tailer.state == "following"
    w.close()
    append(log, records_bytes(8, 12))
    c.pump_records(12)
    assert c.resets == ["rotated"]
    assert c.seen() == expected(0, 12)


# -- 7, 8: deletion ---------------------------------------------------------------------


def test_deleted_while_writer_keeps_writing(log: Path) -> None:
    """GIVEN a writer holding the log open, 5 records read and half a record written
    WHEN the path is deleted and the writer keeps writing (the rest of the half record, 5 more)
    THEN Reset("deleted") (not a new stream), state "deleted", and all 6 later records arrive
    through the open handle, including the one split across the deletion."""
    w = ThreadWriter(log)
    try:
        w.write(records_bytes(0, 5) + record_line(5)[:15])
        c = Collector(Tailer(log))
        c.pump_records(5)
        os.unlink(log)
        c.pump()
        assert c.resets == ["deleted"] and c.tailer.state == "deleted"
        assert Reset("deleted").new_stream is False
        w.write(record_line(5)[15:])
        w.write_records_slowly(6, 11, 0.005).join()
        c.pump_records(11)
    finally:
        w.close()
    assert c.seen() == expected(0, 11)
    assert c.resets == ["deleted"]
    assert c.tailer.state == "deleted"


@pytest.mark.slow
def test_deleted_and_created_again(log: Path) -> None:
    """GIVEN 5 records read, then the log deleted (seen by a poll)
    WHEN a new train.log is created with 3 records
    THEN Reset("deleted") then Reset("recreated"), and the 3 new records from offset 0."""
    append(log, records_bytes(0, 5))
    c = Collector(Tailer(log))
    c.pump_records(5)
    os.unlink(log)
    assert c.pump() == [Reset("deleted")]
    assert c.pump() == []
    proc = start_writer_process(log, 50, 53, 0.005)
    proc.wait(timeout=10)
    c.pump_records(8)
    assert c.resets == ["deleted", "recreated"]
    assert c.seen() == expected(0, 5) + expected(50, 53)
    assert c.tailer.state == "following"


def test_deleted_and_created_again_between_two_polls(log: Path) -> None:
    """GIVEN 5 records read
    WHEN the log is deleted and a new one written before the next poll
    THEN one Reset("recreated") (the old inode has no links left) and the new records."""
    append(log, records_bytes(0, 5))
    c = Collector(Tailer(log))
    c.pump_records(5)
    os.unlink(log)
    append(log, records_bytes(60, 64))
    c.pump()
    assert c.resets == ["recreated"]
    assert c.seen() == expected(0, 5) + expected(60, 64)


# -- 9: missing path --------------------------------------------------------------------


@pytest.mark.slow
def test_missing_file_and_directory_are_waited_for(tmp_path: Path) -> None:
    """GIVEN a path whose directory does not exist yet
    WHEN the run creates the directory and starts writing
    THEN the tailer waits ("waiting", no items), then reads from offset 0 without a Reset."""
    log = tmp_path / "out" / "run1" / "train.log"
    c = Collector(Tailer(log, from_end=True))  # from_end only applies to a file present at start
    assert c.tailer.state == "waiting"
    assert c.pump() == [] and c.pump() == []
    log.parent.mkdir(parents=True)
    assert c.pump() == [] and c.tailer.state == "waiting"
    proc = start_writer_process(log, 0, 6, 0.01)
    try:
        c.pump_records(6)
    finally:
        proc.wait(timeout=10)
    assert c.resets == []
    assert c.seen() == expected(0, 6)
    assert c.tailer.state == "following"


def test_from_end_skips_existing_content(log: Path) -> None:
    """GIVEN a log with 10 records
    WHEN followed with from_end=True and 2 records are appended
    THEN only those 2 arrive."""
    append(log, records_bytes(0, 10))
    c = Collector(Tailer(log, from_end=True))
    assert c.tailer.offset == log.stat().st_size
    assert c.pump() == []
    append(log, records_bytes(10, 12))
    c.pump_records(2)
    assert c.seen() == expected(10, 12)


# -- 10: NUL holes ----------------------------------------------------------------------


@pytest.mark.parametrize("poll_between", [False, True], ids=["hole-before-poll", "poll-sees-shrink"])
def test_nul_hole_after_truncation_by_a_writer_without_o_append(log: Path, poll_between: bool) -> None:
    """GIVEN a writer that opened the log without O_APPEND, 10 records read
    WHEN the file is truncated to 0 under it and it writes 5 more at its old offset, leaving
    a NUL-filled hole (optionally with a poll in between that sees the shrink)
    THEN Reset("truncated"), no NUL byte reaches the consumer, and the 5 records arrive."""
    w = ThreadWriter(log, append_mode=False)
    try:
        w.write(records_bytes(0, 10))
        c = Collector(Tailer(log))
        c.pump_records(10)
        hole = log.stat().st_size
        os.truncate(log, 0)
        if poll_between:
            c.pump()
        w.write(records_bytes(10, 15))
        assert log.read_bytes()[:hole] == b"\x00" * hole
        c.pump_records(15)
    finally:
        w.close()
    assert c.resets == ["truncated"]
    assert c.seen() == expected(0, 15)
    assert all(b"\x00" not in it.payload for it in c.items if isinstance(it, Chunk))


# -- 11: binary junk, huge lines --------------------------------------------------------


def test_invalid_utf8_bytes_are_passed_on_verbatim(log: Path) -> None:
    """GIVEN a log with invalid UTF-8 and control bytes between records
    WHEN it is followed
    THEN the bytes handed on equal the file's bytes, and every record is parsed."""
    junk = b"\xff\xfe\x80 broken \xc3\x28 bytes\x1b[31m\r\n"
    body = records_bytes(0, 3) + junk + records_bytes(3, 6) + b"\xe2\x82" + b"\n" + record_line(6)
    append(log, body)
    c = Collector(Tailer(log, chunk_size=7))  # odd chunk size cuts through multi-byte sequences
    c.pump_records(7)
    assert b"".join(it.payload for it in c.items if isinstance(it, Chunk)) == body
    assert c.seen() == expected(0, 7)


@pytest.mark.slow
def test_50_mb_without_a_line_break_is_handed_on_in_bounded_chunks(log: Path) -> None:
    """GIVEN a followed log
    WHEN a 50 MB run of bytes with no line break is written, then a newline and a record
    THEN every Chunk is at most chunk_size, every poll at most max_poll_bytes (the tailer says
    it is behind in between), all 50 MB pass, and the record after it is parsed."""
    chunk = 1 << 20
    per_poll = 8 << 20
    total = 50 * 1000 * 1000
    c = Collector(Tailer(log, chunk_size=chunk, max_poll_bytes=per_poll))
    block = b"x" * (1 << 20)
    with open(log, "ab") as f:
        left = total
        while left:
            f.write(block[: min(left, len(block))])
            left -= min(left, len(block))
        f.write(b"\n" + record_line(0))
    behind_seen = 0
    c.pump()
    while c.tailer.behind:
        behind_seen += 1
        c.pump()
    c.pump_records(1)
    assert c.max_data <= chunk
    assert c.max_poll_bytes <= per_poll
    assert behind_seen >= total // per_poll
    assert sum(len(it.payload) for it in c.items if isinstance(it, Chunk)) == total + 1 + len(record_line(0))
    assert c.seen() == expected(0, 1)


# -- same mtime: detection by size and fingerprint --------------------------------------


def test_changes_within_the_same_mtime_are_seen(log: Path) -> None:
    """GIVEN a followed log whose mtime is pinned after every write
    WHEN two appends land within the same second, then a same-size rewrite
    THEN both appends and the rewrite are detected (size and fingerprint, never mtime)."""
    append(log, record_line(0))
    pinned = (1_700_000_000, 1_700_000_000)
    os.utime(log, pinned)
    c = Collector(Tailer(log))
    c.pump_records(1)
    append(log, record_line(1))
    os.utime(log, pinned)
    c.pump_records(2)
    append(log, record_line(2))
    os.utime(log, pinned)
    c.pump_records(3)
    size = log.stat().st_size
    log.write_bytes(records_bytes(300, 303))
    os.utime(log, pinned)
    assert log.stat().st_size == size
    c.pump()
    assert c.resets == ["truncated"]
    assert c.seen() == expected(0, 3) + expected(300, 303)


# -- read-only guarantee, errors --------------------------------------------------------


def test_tailer_only_opens_read_only(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a 0o444 log
    WHEN it is followed through appends, a truncation and a rotation
    THEN every os.open the tailer makes is O_RDONLY, and mode and content are untouched."""
    append(log, records_bytes(0, 3))
    os.chmod(log, 0o444)
    flags_seen: list[int] = []
    real_open = os.open

    def spy_open(path: object, flags: int, *args: object, **kw: object) -> int:
        flags_seen.append(flags)
        return real_open(path, flags, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", spy_open)
    c = Collector(Tailer(log))
    c.pump_records(3)
    monkeypatch.setattr(os, "open", real_open)
    os.chmod(log, 0o644)
    log.write_bytes(records_bytes(10, 12))
    os.chmod(log, 0o444)
    os.rename(log, log.with_suffix(".log.1"))
    append(log, records_bytes(20, 21))
    os.chmod(log, 0o444)
    monkeypatch.setattr(os, "open", spy_open)
    c.pump_records(6)
    assert c.resets == ["truncated", "rotated"]
    assert flags_seen and all(f & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC) == 0 for f in flags_seen)
    assert stat.S_IMODE(log.stat().st_mode) == 0o444
    assert log.read_bytes() == record_line(20)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory an unprivileged user can enter (pytest's tmp_path is 0700 root's)."""
    d = Path(tempfile.mkdtemp(prefix="trainmon-tail-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_read_only_file_works_for_a_user_without_write_permission(shared_dir: Path) -> None:
    """GIVEN a root-owned 0o444 log in a root-owned 0o755 directory
    WHEN an unprivileged user (nobody) follows it
    THEN it reads all records: nothing needs write access."""
    log = shared_dir / "train.log"
    log.write_bytes(records_bytes(0, 4))
    os.chmod(log, 0o444)

    def follow_as_nobody() -> list[tuple[float, float | None]]:
        c = Collector(Tailer(log))
        c.pump_records(4)
        return c.seen()

    assert run_unprivileged(follow_as_nobody) == expected(0, 4)


def test_unreadable_file_raises_tail_error(shared_dir: Path) -> None:
    """GIVEN a 0o000 log (read as an unprivileged user: root reads anything)
    WHEN a Tailer is made for it
    THEN TailError with a one-line message naming the file."""
    log = shared_dir / "train.log"
    log.write_bytes(records_bytes(0, 1))
    os.chmod(log, 0o000)

    def make_tailer() -> str:
        try:
            Tailer(log)
        except TailError as e:
            return str(e)
        return "no error"

    message = run_unprivileged(make_tailer)
    assert message == f"cannot read {log}: permission denied"


def test_permission_lost_on_rotation_is_retried(shared_dir: Path) -> None:
    """GIVEN an unprivileged follower, 2 records read
    WHEN the log is rotated to a new file it may not read, and later made readable
    THEN no crash: state "unreadable" meanwhile (old file still drained), then the new file's
    records after Reset("rotated")."""
    log = shared_dir / "train.log"
    log.write_bytes(records_bytes(0, 2))
    os.chmod(log, 0o644)
    go = shared_dir / "go"

    def follow_as_nobody() -> tuple[list[str], list[str], list[tuple[float, float | None]]]:
        states: list[str] = []
        c = Collector(Tailer(log))
        c.pump_records(2)
        (shared_dir / "ready").touch()  # tell the parent (a lone file: the dir is root's)
        c.pump_until(lambda: c.tailer.state == "unreadable")
        states.append(c.tailer.state)
        c.pump_records(3)  # the last record of the old file is still drained
        (shared_dir / "saw_unreadable").touch()
        wait_for(go.exists, "the parent's go")
        c.pump_records(5)
        states.append(c.tailer.state)
        return states, c.resets, c.seen()

    def parent_side() -> None:
        wait_for((shared_dir / "ready").exists, "the child's first two records")
        rotated = log.with_suffix(".log.1")
        os.rename(log, rotated)
        append(rotated, record_line(2))
        fd = os.open(log, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, records_bytes(3, 5))
        os.close(fd)
        # made readable only once the child has seen it unreadable
        wait_for((shared_dir / "saw_unreadable").exists, "the child's 'unreadable' state")
        os.chmod(log, 0o644)
        go.touch()

    if os.geteuid() == 0:
        os.chmod(shared_dir, 0o777)  # the child creates the "ready" marker
    t = threading.Thread(target=parent_side)
    t.start()
    try:
        states, resets, seen = run_unprivileged(follow_as_nobody)
    finally:
        t.join()
    assert states == ["unreadable", "following"]
    assert resets == ["rotated"]
    assert seen == expected(0, 5)


def test_directory_raises_tail_error(tmp_path: Path) -> None:
    """GIVEN a directory path
    WHEN a Tailer is made for it
    THEN TailError with a one-line message."""
    with pytest.raises(TailError) as info:
        Tailer(tmp_path)
    assert str(info.value) == f"{tmp_path} is a directory, not a log file"
    assert "\n" not in str(info.value)


def test_fifo_raises_tail_error(tmp_path: Path) -> None:
    """GIVEN a named pipe
    WHEN a Tailer is made for it
    THEN TailError instead of a blocking open."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(TailError, match="not a regular file"):
        Tailer(fifo)


def test_bad_arguments() -> None:
    """GIVEN a non-positive chunk size THEN ValueError."""
    with pytest.raises(ValueError):
        Tailer("x.log", chunk_size=0)


def test_close_is_idempotent_and_poll_reopens(log: Path) -> None:
    """GIVEN a tailer that read 2 records
    WHEN closed twice and polled again after an append
    THEN the same file continues at its offset, no Reset."""
    append(log, records_bytes(0, 2))
    c = Collector(Tailer(log))
    c.pump_records(2)
    c.tailer.close()
    c.tailer.close()
    append(log, records_bytes(2, 3))
    c.pump_records(3)
    assert c.resets == []
    assert c.seen() == expected(0, 3)


def test_nul_bytes_at_the_end_are_left_unread_until_filled(log: Path) -> None:
    """GIVEN 3 records followed by 200 NUL bytes at the end of the file (pages whose data has
    not landed yet, as an NFS client may show them)
    WHEN polled, then the NULs are overwritten in place by a record
    THEN the offset stops before the NULs, and the record that fills them is read, no Reset."""
    line = record_line(3)
    append(log, records_bytes(0, 3) + b"\x00" * len(line))
    c = Collector(Tailer(log))
    c.pump_records(3)
    assert c.tailer.offset == len(records_bytes(0, 3))
    assert c.pump() == []  # not re-emitted, not mistaken for a truncation
    fd = os.open(log, os.O_WRONLY)
    try:
        os.pwrite(fd, line, len(records_bytes(0, 3)))
    finally:
        os.close(fd)
    c.pump_records(4)
    assert c.resets == []
    assert c.seen() == expected(0, 4)


def test_long_nul_run_at_the_end_is_consumed(log: Path) -> None:
    """GIVEN a record followed by a 1 MiB NUL run (a `truncate -s` extension)
    WHEN polled twice THEN the run is consumed once (offset at the end), nothing re-read."""
    append(log, record_line(0))
    os.truncate(log, len(record_line(0)) + (1 << 20))
    c = Collector(Tailer(log))
    c.pump_records(1)
    assert c.tailer.offset == log.stat().st_size
    assert c.pump() == []
