"""The dashboard never outlives its terminal, and a signal always ends it.

The real `trainmon tail` runs on a real pseudo-terminal (``pty.openpty``); the test holds the
master side, as sshd or a terminal emulator does. Closing it hangs the terminal up. No SIGHUP
reaches trainmon: it runs in a session of its own (``setsid``: it has no controlling terminal
the kernel could signal for), or under a shell that traps HUP (the kernel signals only the
session leader, and that shell does not pass it on). Before the terminal guard, trainmon stayed
behind at 100 % of a core (Textual's input thread looping on end-of-file) and, once its screen
writer was blocked, ignored SIGTERM too.
"""

from __future__ import annotations

import fcntl
import os
import platform
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from helpers import ROOT, record_line, start_writer_process, wait_for

pytestmark = pytest.mark.slow  # trainmon in a terminal, in subprocesses, signals

GONE_WITHIN_S = 10.0
"""The issue's bar: no trainmon process left this long after its terminal went away."""


def trainmon_pids(log: Path) -> list[int]:
    """Pids of the `python -m tui_monitor tail LOG` processes (what `ps` would show)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0] == sys.executable.encode() and b"tui_monitor" in argv and str(log).encode() in argv:
            pids.append(int(entry))
    return pids


def kill_left(log: Path) -> None:
    """End whatever a failing test left behind (SIGKILL: nothing else ended it)."""
    for pid in trainmon_pids(log):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Terminal:
    """A pseudo-terminal of 100x30 with the real `trainmon tail LOG` on its slave side.

    Args:
        log: the log to tail.
        how: ``"setsid"`` (trainmon alone in a new session, no controlling terminal) or
            ``"trap-hup"`` (a bash that traps HUP is the session leader, trainmon its child;
            bash writes trainmon's exit status to ``rc``).
        rc: where ``trap-hup`` writes the status.
        stdin_null: trainmon's stdin is /dev/null instead of the terminal (``setsid`` only).
    """

    def __init__(self, log: Path, how: str, rc: Path, *, stdin_null: bool = False) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        cmd = [sys.executable, "-m", "tui_monitor", "tail", str(log)]
        env = {**os.environ, "TERM": "xterm-256color"}
        if how == "setsid":
            stdin = subprocess.DEVNULL if stdin_null else slave
            self.proc = subprocess.Popen(
                cmd, stdin=stdin, stdout=slave, stderr=slave, start_new_session=True, cwd=ROOT, env=env
            )
        else:
            # setsid -c: bash leads a new session with this terminal as its controlling one.
            script = f'trap "echo hup" HUP; "$@"; echo $? > {rc}'
            self.proc = subprocess.Popen(
                ["setsid", "-c", "bash", "-c", script, "bash", *cmd],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=ROOT,
                env=env,
            )
        os.close(slave)
        self.screen = b""

    def read_until(self, text: bytes, deadline_s: float = 20.0) -> None:
        """Read the terminal's output until ``text`` was drawn."""
        end = time.monotonic() + deadline_s
        while text not in self.screen:
            assert time.monotonic() < end, f"{text!r} not drawn: {self.screen[-300:]!r}"
            if select.select([self.master], [], [], 0.2)[0]:
                self.screen += os.read(self.master, 65536)

    def hang_up(self) -> None:
        """Close the master side, as sshd does when the connection drops."""
        os.close(self.master)


def small_log(tmp_path: Path) -> Path:
    log = tmp_path / "train.log"
    log.write_bytes(b"".join(record_line(i) for i in range(40)))
    return log


@pytest.mark.parametrize("how", ["setsid", "trap-hup"])
def test_terminal_gone_without_sighup_leaves_no_trainmon(tmp_path: Path, how: str) -> None:
    # GIVEN the dashboard drawn on a terminal, with no SIGHUP to come for trainmon
    log = small_log(tmp_path)
    term = Terminal(log, how, tmp_path / "rc")
    try:
        term.read_until(b"train.log")
        assert trainmon_pids(log)
        # WHEN the terminal's other end goes away
        term.hang_up()
        # THEN no trainmon is left within 10 s, and it said 129 (terminal gone, as SIGHUP)
        wait_for(lambda: not trainmon_pids(log), "trainmon gone after the hang-up", GONE_WITHIN_S)
        if how == "setsid":
            assert term.proc.wait(timeout=5) == 129
        else:
            term.proc.wait(timeout=5)
            assert (tmp_path / "rc").read_text().strip() == "129"
    finally:
        kill_left(log)


def test_terminal_frozen_a_minute_then_dropped_leaves_no_trainmon(tmp_path: Path) -> None:
    # GIVEN the dashboard on a terminal under a shell that traps HUP, the training writing
    log = small_log(tmp_path)
    writer = start_writer_process(log, 40, 4000, 0.05)
    term = Terminal(log, "trap-hup", tmp_path / "rc")
    try:
        term.read_until(b"train.log")
        # WHEN nobody reads the terminal for a minute (a client frozen: a laptop asleep, a
        # stalled network; the screen's output backs up and its writer blocks) ...
        time.sleep(60)  # the subject of the test: the freeze itself
        assert trainmon_pids(log), "trainmon ended while the terminal was only frozen"
        # ... and then the connection drops
        term.hang_up()
        # THEN no trainmon is left within 10 s
        wait_for(lambda: not trainmon_pids(log), "trainmon gone after the freeze and the drop", GONE_WITHIN_S)
        term.proc.wait(timeout=5)
        assert (tmp_path / "rc").read_text().strip() == "129"
    finally:
        writer.kill()
        writer.wait()
        kill_left(log)


# Syscall numbers, to see a thread blocked writing to the terminal and the loop waiting on it.
_SYSCALLS = {"x86_64": {"write": 1, "futex": 202}, "aarch64": {"write": 64, "futex": 98}}


def _syscalls(pid: int) -> dict[int, list[str]]:
    """tid -> ``/proc/PID/task/TID/syscall`` fields (the system call each thread is in)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out[int(tid)] = Path(f"/proc/{pid}/task/{tid}/syscall").read_text().split()
        except OSError:
            continue
    return out


def screen_writer_blocked(pid: int) -> bool:
    """A thread is inside write(2) on fd 2 (where Textual draws) and the main thread waits on a
    lock (the writer's full queue), i.e. the app's loop is stuck behind the terminal."""
    nums = _SYSCALLS[platform.machine()]
    calls = _syscalls(pid)
    main = calls.get(pid, [])
    writing = any(c[:2] == [str(nums["write"]), "0x2"] for c in calls.values())
    return writing and bool(main) and main[0] == str(nums["futex"])


@pytest.mark.skipif(platform.machine() not in _SYSCALLS, reason="syscall numbers known for x86_64 and aarch64")
def test_sigterm_ends_trainmon_while_its_screen_writer_is_blocked(tmp_path: Path) -> None:
    # GIVEN the dashboard on a terminal nobody reads, the training writing, until the
    # screen writer is blocked in write(2) and the app's loop waits behind it
    log = small_log(tmp_path)
    writer = start_writer_process(log, 40, 40000, 0.01)
    term = Terminal(log, "setsid", tmp_path / "rc")
    try:
        term.read_until(b"train.log")
        if not Path(f"/proc/{term.proc.pid}/task/{term.proc.pid}/syscall").exists():
            pytest.skip("no /proc/PID/task/TID/syscall here")
        wait_for(lambda: screen_writer_blocked(term.proc.pid), "the screen writer blocked", 60.0)
        # WHEN SIGTERM arrives
        term.proc.send_signal(signal.SIGTERM)
        # THEN trainmon ends with 143 without anyone reading the terminal (the bar is a second
        # or two; the deadline is wider for a loaded machine, the old code never ended)
        assert term.proc.wait(timeout=GONE_WITHIN_S) == 143
        term.hang_up()
    finally:
        writer.kill()
        writer.wait()
        kill_left(log)


STUCK = r"""
import sys
from tui_monitor.ui import app, terminal_guard
terminal_guard.OUTPUT_STUCK_S = float(sys.argv[2])
sys.exit(app.run_app([sys.argv[1]]))
"""


def test_terminal_refusing_output_too_long_counts_as_gone(tmp_path: Path) -> None:
    # GIVEN the dashboard on a terminal nobody reads (and that never hangs up), with the
    # refused-output limit at 5 s instead of OUTPUT_STUCK_S (10 min) so the test is short
    log = small_log(tmp_path)
    writer = start_writer_process(log, 40, 40000, 0.01)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK, str(log), "5"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        cwd=ROOT,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    os.close(slave)
    try:
        # WHEN its output stays blocked past the limit
        # THEN trainmon ends by itself with 129, the terminal still open and unread
        assert proc.wait(timeout=60) == 129
    finally:
        writer.kill()
        writer.wait()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_keys_come_from_the_terminal_when_stdin_is_not_one(tmp_path: Path) -> None:
    # GIVEN `trainmon tail log < /dev/null` drawn on a terminal (before: Textual's input thread
    # spun on stdin's end-of-file, a core at 100 %, and no key ever reached the app)
    log = small_log(tmp_path)
    term = Terminal(log, "setsid", tmp_path / "rc", stdin_null=True)
    try:
        term.read_until(b"train.log")
        # WHEN q is typed on the terminal
        os.write(term.master, b"q")
        # THEN the app quits with 0
        assert term.proc.wait(timeout=GONE_WITHIN_S) == 0
        term.hang_up()
    finally:
        kill_left(log)
