"""Wakers and the follow loop against real writers; filesystem-type detection from mountinfo."""

from __future__ import annotations

import os
import threading
import time
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
    wait_for,
)

from tui_monitor.core.follow import (
    Follower,
    InotifyWaker,
    PollWaker,
    TailError,
    follow,
    fs_type,
    fs_type_from_mountinfo,
    make_waker,
    needs_polling,
    parse_mountinfo,
)
from tui_monitor.core.follow import wake as watch

SAMPLE_MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
40 22 0:35 / /mnt/data rw,relatime shared:20 - nfs4 fs1:/export/data rw,vers=4.2
41 22 8:17 / /mnt/database rw,relatime shared:21 - xfs /dev/sdb1 rw
42 40 0:36 / /mnt/data/scratch rw,relatime shared:22 - lustre 10.0.0.1@o2ib:/scratch rw
43 22 0:37 / /home/me/remote\040box rw,nosuid,nodev,relatime shared:23 - fuse.sshfs me@box:/ rw,user_id=0
44 22 0:38 / /tmp rw,nosuid,nodev shared:24 - tmpfs tmpfs rw
45 22 0:39 / /tmp rw,relatime shared:25 master:3 - overlay overlay rw,lowerdir=/a
46 22 0:40 / /gpfs/proj rw,relatime - gpfs proj rw
this line is garbage
"""


# -- filesystem detection ---------------------------------------------------------------


def test_parse_mountinfo_reads_mount_points_and_types() -> None:
    """GIVEN a mountinfo sample with optional fields and an escaped blank
    WHEN parsed
    THEN (mount point, fs type) pairs in order, the garbage line skipped."""
    mounts = parse_mountinfo(SAMPLE_MOUNTINFO)
    assert mounts[0] == ("/", "ext4")
    assert ("/mnt/data", "nfs4") in mounts
    assert ("/home/me/remote box", "fuse.sshfs") in mounts
    assert len(mounts) == 9


@pytest.mark.parametrize(
    ("path", "fstype"),
    [
        ("/work/run/train.log", "ext4"),
        ("/mnt/data/run/train.log", "nfs4"),
        ("/mnt/data", "nfs4"),
        ("/mnt/database/train.log", "xfs"),  # a prefix by characters, not by components
        ("/mnt/data/scratch/job/train.log", "lustre"),  # the longest mount point wins
        ("/home/me/remote box/log.txt", "fuse.sshfs"),
        ("/tmp/x.log", "overlay"),  # a later mount at the same point shadows the earlier
        ("/gpfs/proj/a/b.log", "gpfs"),
    ],
)
def test_fs_type_from_mountinfo_longest_prefix(path: str, fstype: str) -> None:
    """GIVEN the sample mount table WHEN a path is looked up THEN its filesystem's type."""
    assert fs_type_from_mountinfo(path, SAMPLE_MOUNTINFO) == fstype


def test_fs_type_of_a_missing_path_on_this_machine(tmp_path: Path) -> None:
    """GIVEN a path that does not exist yet WHEN its fs type is asked THEN its would-be
    filesystem's type (non-empty), the same as its existing directory's."""
    assert fs_type(tmp_path / "no" / "such.log") == fs_type(tmp_path) != ""


def test_fs_type_without_mountinfo_is_unknown(tmp_path: Path) -> None:
    """GIVEN no readable mountinfo WHEN asked THEN "" (unknown), not an exception."""
    assert fs_type(tmp_path, mountinfo=str(tmp_path / "missing")) == ""


@pytest.mark.parametrize(
    ("fstype", "poll"),
    [
        ("nfs", True),
        ("nfs4", True),
        ("cifs", True),
        ("smb3", True),
        ("smbfs", True),
        ("lustre", True),
        ("gpfs", True),
        ("beegfs", True),
        ("fuse.sshfs", True),
        ("fuse.s3fs", True),
        ("9p", True),
        ("ext4", False),
        ("xfs", False),
        ("btrfs", False),
        ("tmpfs", False),
        ("overlay", False),
        ("fuseblk", False),
        ("", False),
    ],
)
def test_needs_polling(fstype: str, poll: bool) -> None:
    """GIVEN a filesystem type WHEN asked THEN poll exactly on network / FUSE filesystems."""
    assert needs_polling(fstype) is poll


# -- choosing a waker -------------------------------------------------------------------


def test_make_waker_choices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a local path, then --poll, then a path on NFS
    WHEN make_waker chooses
    THEN inotify, poll at the given interval, poll at the default 1 s."""
    log = tmp_path / "train.log"
    w = make_waker(log, None)
    try:
        assert isinstance(w, InotifyWaker) and w.mode == "inotify"
    finally:
        w.close()
    p = make_waker(log, 0.25)
    assert isinstance(p, PollWaker) and p.mode == "poll" and p.interval == 0.25
    monkeypatch.setattr(watch, "fs_type", lambda path: "nfs4")
    n = make_waker(log, None)
    assert isinstance(n, PollWaker) and n.interval == 1.0


# -- inotify waker ----------------------------------------------------------------------


@pytest.fixture
def inotify(tmp_path: Path) -> Iterator[InotifyWaker]:
    w = InotifyWaker(tmp_path / "run" / "train.log")
    yield w
    w.close()
    assert not w._thread.is_alive()


def _settle(w: InotifyWaker) -> None:
    """Wait until the watch thread has set up its first watch, and swallow start-up events."""
    wait_for(w.settled.is_set, "the watch thread's first watch")
    w.wait(0)


def test_inotify_wakes_on_appends_and_not_for_other_files(tmp_path: Path, inotify: InotifyWaker) -> None:
    """GIVEN an inotify waker on run/train.log, its directory existing
    WHEN another file in the directory changes, then our file is appended to
    THEN no wake-up for the other file; a wake-up (True) for ours."""
    (tmp_path / "run").mkdir()
    # The watch moves down to run/, and a new watch wakes once (for what happened while it
    # was being set up) at its first yield.
    wait_for(lambda: inotify.watched_dir == tmp_path / "run" and inotify.settled.is_set())
    inotify.wait(0)
    append(tmp_path / "run" / "other.txt", b"x")
    assert inotify.wait(0.3) is False  # the subject: no wake-up within 0.3 s
    append(tmp_path / "run" / "train.log", record_line(0))
    assert inotify.wait(5) is True


def test_inotify_follows_directory_creation(tmp_path: Path, inotify: InotifyWaker) -> None:
    """GIVEN an inotify waker whose run/ directory does not exist
    WHEN run/ is created and then run/train.log
    THEN the waker wakes for the file's creation."""
    _settle(inotify)
    (tmp_path / "run").mkdir()
    assert inotify.wait(5) is True  # the directory appeared: the watch moves down
    append(tmp_path / "run" / "train.log", record_line(0))
    assert wait_for(lambda: inotify.wait(0.5), "a wake-up for the file's creation", 5.0)


def test_inotify_close_stops_the_thread_promptly(tmp_path: Path) -> None:
    """GIVEN a running inotify waker WHEN closed THEN its thread is gone within a second,
    and wait() returns False at once."""
    w = InotifyWaker(tmp_path / "train.log")
    wait_for(w.settled.is_set, "the watch thread's first watch")
    w.close()
    assert not w._thread.is_alive()
    t0 = time.monotonic()
    assert w.wait(5) is False
    # not a speed check: a wait that ran its 5 s timeout would take 5 s, "at once" is far below it
    assert time.monotonic() - t0 < 1.0


def test_external_stop_event_wakes_a_waiting_inotify_waker(tmp_path: Path) -> None:
    """GIVEN an inotify waker sharing the follower's stop event, a wait in progress
    WHEN the stop event is set THEN the wait returns well before its timeout, False."""
    stop = threading.Event()
    w = InotifyWaker(tmp_path / "train.log", stop_event=stop)
    try:
        threading.Timer(0.1, stop.set).start()
        t0 = time.monotonic()
        assert w.wait(10) is False
        assert time.monotonic() - t0 < 5  # woken by the event, not by the 10 s timeout
    finally:
        w.close()


def test_poll_waker_sleeps_its_interval_and_honours_stop() -> None:
    """GIVEN a 50 ms poll waker WHEN waited on THEN it returns False (no event); a set stop
    event makes a long wait return early."""
    stop = threading.Event()
    p = PollWaker(0.05, stop_event=stop)
    assert p.wait(10) is False
    p.interval = 30
    threading.Timer(0.05, stop.set).start()
    t0 = time.monotonic()
    p.wait(30)
    assert time.monotonic() - t0 < 5  # woken by the event, not by the 30 s interval
    with pytest.raises(ValueError):
        PollWaker(0)


# -- the follow loop --------------------------------------------------------------------


class Consumer:
    """Iterates a Follower in a thread (as the app's worker does), feeding a Collector."""

    def __init__(self, follower: Follower) -> None:
        self.follower = follower
        self.collector = Collector(follower.tailer)
        self.batches = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for batch in self.follower:
                assert batch, "Follower must not yield empty batches"
                self.batches += 1
                self.collector.feed(batch)
        except BaseException as e:  # noqa: BLE001 - surfaced by the test
            self.error = e

    def wait_records(self, n: int) -> None:
        wait_for(lambda: len(self.collector.records) >= n or self.error is not None)
        assert self.error is None, self.error

    def stop(self) -> None:
        self.follower.stop_event.set()
        self.thread.join(5)
        assert not self.thread.is_alive()
        assert self.error is None, self.error


@pytest.mark.parametrize("poll", [None, 0.05], ids=["inotify", "poll"])
def test_follow_through_appends_truncation_rotation_and_deletion(tmp_path: Path, poll: float | None) -> None:
    """GIVEN follow() on a log that does not exist yet (inotify, or polling every 50 ms)
    WHEN a writer creates it and appends slowly, a restarted run truncates and rewrites it, it
    is rotated by rename, then deleted and created again
    THEN every record is seen exactly once and in order, with the Resets where the file was
    restarted, and setting the stop event ends the iteration."""
    log = tmp_path / "train.log"
    stop = threading.Event()
    f = follow(log, stop_event=stop, poll=poll)
    assert f.mode == ("poll" if poll else "inotify")
    assert f.tailer.state == "waiting"
    con = Consumer(f)
    c = con.collector
    try:
        w = ThreadWriter(log)
        w.write_records_slowly(0, 10, 0.01).join()
        con.wait_records(10)
        w.close()

        log.write_bytes(records_bytes(100, 105))  # `> train.log` by a restarted run
        con.wait_records(15)

        w = ThreadWriter(log)
        os.rename(log, tmp_path / "train.log.1")
        w.write(records_bytes(105, 108))  # still into the renamed file
        w.close()
        append(log, records_bytes(200, 204))
        con.wait_records(22)

        os.unlink(log)
        wait_for(lambda: f.tailer.state == "deleted")
        append(log, records_bytes(300, 302))
        con.wait_records(24)
    finally:
        con.stop()
    assert c.seen() == expected(0, 10) + expected(100, 108) + expected(200, 204) + expected(300, 302)
    assert c.resets == ["truncated", "rotated", "deleted", "recreated"]


def test_polling_sees_two_writes_within_the_same_second(tmp_path: Path) -> None:
    """GIVEN follow() with polling every 50 ms on a log whose mtime is pinned after each write
    WHEN two records are written within the same second, then the file is rewritten to the
    same size with the same mtime
    THEN both records and the rewrite are seen (size and fingerprint, not mtime)."""
    log = tmp_path / "train.log"
    pinned = (1_700_000_000, 1_700_000_000)
    append(log, record_line(0))
    os.utime(log, pinned)
    stop = threading.Event()
    con = Consumer(follow(log, stop_event=stop, poll=0.05))
    try:
        con.wait_records(1)
        append(log, record_line(1))
        os.utime(log, pinned)
        append(log, record_line(2))
        os.utime(log, pinned)
        con.wait_records(3)
        size = log.stat().st_size
        log.write_bytes(records_bytes(50, 53))
        os.utime(log, pinned)
        assert log.stat().st_size == size
        con.wait_records(6)
    finally:
        con.stop()
    assert con.collector.seen() == expected(0, 3) + expected(50, 53)
    assert con.collector.resets == ["truncated"]


def test_follow_from_end_and_stop_before_any_data(tmp_path: Path) -> None:
    """GIVEN follow(from_end=True) on a log with history
    WHEN 2 records are appended, then stop is set
    THEN only the 2 new records, and iteration ends."""
    log = tmp_path / "train.log"
    append(log, records_bytes(0, 50))
    stop = threading.Event()
    con = Consumer(follow(log, stop_event=stop, from_end=True))
    try:
        append(log, records_bytes(50, 52))
        con.wait_records(2)
    finally:
        con.stop()
    assert con.collector.seen() == expected(50, 52)


def test_follow_a_directory_raises_tail_error(tmp_path: Path) -> None:
    """GIVEN a directory WHEN followed THEN TailError at once, before any thread starts."""
    before = threading.active_count()
    with pytest.raises(TailError):
        follow(tmp_path, stop_event=threading.Event())
    assert threading.active_count() == before


@pytest.mark.slow
def test_follower_keeps_up_with_a_large_backlog(tmp_path: Path) -> None:
    """GIVEN a 3 MB log followed with a small per-poll budget
    WHEN iterated THEN all records arrive without waiting a safety interval per batch."""
    log = tmp_path / "train.log"
    append(log, records_bytes(0, 50_000))
    stop = threading.Event()
    f = Follower(log, stop_event=stop, poll=30.0, chunk_size=64 * 1024)
    f.tailer._max_poll_bytes = 256 * 1024  # force several polls in a row
    con = Consumer(f)
    try:
        con.wait_records(50_000)  # with a 30 s poll, this only passes if "behind" skips waits
    finally:
        con.stop()
    assert len(con.collector.records) == 50_000
    assert con.batches > 5
