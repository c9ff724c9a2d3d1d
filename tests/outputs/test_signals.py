"""Hardening: signals and a vanished reader on the headless `trainmon tail --json`.

SIGINT, SIGTERM and SIGHUP while catching up on a big file and while idle: exit status
130 / 143 / 129 (128 + signal), nothing on stderr (no traceback). A reader that goes away
(`trainmon tail --json log | head -1`) ends the run like `tail -f` does.
"""

from __future__ import annotations

import fcntl
import os
import platform
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from helpers import records_bytes, start_writer_process, wait_for

pytestmark = pytest.mark.slow  # trainmon in subprocesses, signals

EXPECTED = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}
F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)  # Linux; named in fcntl from Python 3.10


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~30 MB of records: far more than is printed before the signal arrives."""
    p = tmp_path_factory.mktemp("sig") / "big.log"
    block = b"".join(
        b"{'loss': %.4f, 'grad_norm': 0.5, 'learning_rate': 0.0001, 'epoch': %.4f}\n" % (5 - i / 1e5, i / 1e4)
        for i in range(10_000)
    )
    p.write_bytes(block * 40)
    return p


def start(path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_monitor", "tail", "--json", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(p: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes]:
    """communicate(); a child that does not exit is killed (no stray process) and fails the test."""
    try:
        return p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError(f"trainmon did not exit within {timeout} s after the signal") from None


@pytest.mark.parametrize("sig", list(EXPECTED), ids=lambda s: signal.Signals(s).name)
def test_signal_while_catching_up(big_log: Path, sig: int) -> None:
    # GIVEN tail catching up on a big file (its stdout pipe full: the writer blocked mid-batch)
    p = start(big_log)
    assert p.stdout is not None
    for _ in range(20):
        assert p.stdout.readline()
    # The subject, not a synchronisation: left unread, the pipe fills and the writer blocks mid-batch
    # (nothing outside the process says when; 0.3 s is far more than filling 64 KiB takes).
    time.sleep(0.3)
    # WHEN the signal arrives
    p.send_signal(sig)
    out, err = finish(p, 20)
    # THEN it ends (within finish's deadline) with 128 + signal and no traceback, without having printed it all
    assert p.returncode == EXPECTED[sig]
    assert err == b""
    assert out.count(b'"record"') < 400_000


@pytest.mark.parametrize("sig", list(EXPECTED), ids=lambda s: signal.Signals(s).name)
def test_signal_while_idle(tmp_path: Path, sig: int) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(b"{'loss': 1.5, 'epoch': 0.1}\n")
    p = start(log)
    assert p.stdout is not None
    lines = [p.stdout.readline() for _ in range(2)]
    assert any(b'"record"' in x for x in lines)
    time.sleep(0.5)  # the subject, not a synchronisation: the signal lands after a while of idling
    p.send_signal(sig)
    out, err = finish(p, 10)
    assert p.returncode == EXPECTED[sig]
    assert err == b""


def test_reader_gone_ends_the_run(big_log: Path, tmp_path: Path) -> None:
    # GIVEN `trainmon tail --json log | head -1` (before: trainmon kept following forever,
    # writing into a broken pipe)
    p = start(big_log)
    assert p.stdout is not None
    p.stdout.readline()
    # WHEN the reader closes its end
    p.stdout.close()
    # THEN trainmon ends by itself, status 0, nothing on stderr
    assert p.wait(timeout=10) == 0
    assert p.stderr is not None and p.stderr.read() == b""
    # and so it does when following an idle file (the next line written finds the pipe gone)
    log = tmp_path / "idle.log"
    log.write_bytes(b"{'loss': 1.5, 'epoch': 0.1}\n")
    p = start(log)
    assert p.stdout is not None
    p.stdout.readline()
    p.stdout.close()
    with open(log, "ab") as f:
        f.write(b"{'loss': 1.25, 'epoch': 0.2}\n")
    assert p.wait(timeout=10) == 0


TRAP = r"""
import os, signal, sys, threading, time
from tui_monitor.core import headless

class TrapEvent(threading.Event):
    fired = False

    def wait(self, timeout=None):
        if threading.current_thread() is threading.main_thread() and not TrapEvent.fired:
            TrapEvent.fired = True
            with self._cond:  # held, as Event.wait holds it when it re-acquires after a wake-up
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)  # the handler runs here, in this thread, lock held
        return super().wait(timeout)

rc = headless.run_headless([sys.argv[1]], as_json=True, poll=None, from_end=False, stop_event=TrapEvent())
sys.stdout.flush()
os._exit(rc)
"""


def test_signal_inside_stop_wait_does_not_deadlock(tmp_path: Path) -> None:
    # GIVEN the signal landing while the main loop holds its stop event's lock (found as a
    # `trainmon tail` that never exited after SIGINT: the handler's stop.set() waited for
    # the lock its own thread held inside stop.wait())
    log = tmp_path / "train.log"
    log.write_bytes(b"{'loss': 1.5, 'epoch': 0.1}\n")
    # WHEN it runs THEN it exits with 130, not hangs
    out = subprocess.run([sys.executable, "-c", TRAP, str(log)], capture_output=True, timeout=20)
    assert out.returncode == 130, out.stderr


_WRITE = {"x86_64": "1", "aarch64": "64"}.get(platform.machine())
"""write(2)'s system call number, to see a thread blocked in it (/proc/PID/task/TID/syscall)."""


def _pipe_full(r: int, pid: int) -> bool:
    """Whether the pipe whose read end is ``r`` is full and a thread of ``pid`` is blocked
    writing to its stdout. "Full" for that write: the pipe holds most of its capacity and the
    write waits (each page of a pipe keeps the slack a write that did not fit left, so a
    batch of several KiB can block with a few KiB still free)."""
    size = fcntl.fcntl(r, F_GETPIPE_SZ)
    held = struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD, b"\0\0\0\0"))[0]
    if held < size // 2 or (_WRITE is None and held < size - 4096):
        return False
    if _WRITE is None:
        return True  # only the fill level can be seen here
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            call = Path(f"/proc/{pid}/task/{tid}/syscall").read_text().split()
        except OSError:
            continue
        if call[:2] == [_WRITE, "0x1"]:
            return True
    return False


@pytest.mark.parametrize("live", [False, True], ids=["catching-up", "following"])
def test_sigterm_into_a_full_pipe_nobody_reads(big_log: Path, tmp_path: Path, live: bool) -> None:
    # GIVEN `trainmon tail --json` writing into a pipe whose reader never reads, until the
    # pipe is full and trainmon's write blocks (catching up on a big file, or following a
    # file a writer keeps appending to)
    if live:
        log = tmp_path / "train.log"
        log.write_bytes(records_bytes(0, 100))
        writer = start_writer_process(log, 100, 100_000, 0.001)
    else:
        log, writer = big_log, None
    r, w = os.pipe()
    p = subprocess.Popen(
        [sys.executable, "-m", "tui_monitor", "tail", "--json", str(log)], stdout=w, stderr=subprocess.PIPE
    )
    os.close(w)
    try:
        wait_for(lambda: _pipe_full(r, p.pid), "the pipe full and trainmon blocked writing", 30.0)
        # WHEN SIGTERM arrives
        p.send_signal(signal.SIGTERM)
        # THEN trainmon ends with 143 and says nothing on stderr, the pipe still unread (before:
        # only once the reader drained it, never if it hangs; the bar is a second, the deadline
        # is wider for a loaded machine)
        assert p.wait(timeout=10) == 143
        assert p.stderr is not None and p.stderr.read() == b""
    finally:
        if writer is not None:
            writer.kill()
            writer.wait()
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(r)
