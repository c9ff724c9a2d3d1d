"""Hardening: trainmon never opens the log for writing, never locks it, never writes beside it.

Three proofs: every ``openat`` of the log by ``trainmon report`` and ``trainmon tail --json``
under ``strace -f`` (threads and the Rust watcher included) is ``O_RDONLY`` and no lock call
is made; an audit hook on ``open`` in an in-process pipeline and Monitor; and a 0444 log in a
0555 directory read as an unprivileged user (see test_hardening_fs.py) — here as root, with
the directory listing and the file's bytes and mtime unchanged.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import wait_for

from tui_monitor.core.monitor import Monitor
from tui_monitor.core.pipeline import read_once

pytestmark = pytest.mark.slow  # trainmon under strace, in subprocesses

LOG = b"".join(b"{'loss': %.3f, 'learning_rate': 0.0001, 'epoch': %.2f}\n" % (2 - i / 100, i / 10) for i in range(50))
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")


def _strace(args: list[str], tmp_path: Path, interrupt: bool = False) -> list[str]:
    """The file-touching syscalls of ``trainmon ARGS`` under strace; with ``interrupt``, trainmon is
    sent SIGINT once it has printed its first line (it has opened and read the log by then)."""
    trace = tmp_path / "trace.txt"
    cmd = [
        "strace",
        "-f",
        "-qq",
        "-e",
        "trace=open,openat,openat2,creat,truncate,ftruncate,flock,fcntl,rename,renameat,"
        "renameat2,unlink,unlinkat,mkdir,mkdirat",
        "-o",
        str(trace),
        sys.executable,
        "-m",
        "tui_monitor",
        *args,
    ]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if interrupt:
        assert p.stdout is not None
        assert p.stdout.readline()
        # signal trainmon itself (strace's child), not strace
        kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
        for k in kids:
            os.kill(int(k), signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert b"Traceback" not in err, err
    return trace.read_text().splitlines()


@pytest.fixture
def strace_ok() -> None:
    if shutil.which("strace") is None:
        pytest.skip("strace not installed (apt-get install -y strace)")
    probe = subprocess.run(["strace", "-qq", "-e", "trace=none", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here: {probe.stderr.decode().strip()[:200]}")


def _check(lines: list[str], log: Path) -> int:
    """Assert the trace shows only read-only opens of ``log`` and no locks; return how many opens."""
    name = str(log)
    opens = [ln for ln in lines if re.search(r"\bopen(at2?)?\(", ln) and f'"{name}"' in ln]
    for ln in opens:
        assert "O_RDONLY" in ln and not any(f in ln for f in WRITE_FLAGS), ln
    assert not [ln for ln in lines if "flock(" in ln], "a lock was taken"
    assert not [ln for ln in lines if re.search(r"fcntl\([^)]*F_(SETLK|SETLKW|OFD_SETLK)", ln)], "a lock was taken"
    for ln in lines:  # nothing created, renamed, truncated or removed beside the log
        if re.search(r"\b(creat|truncate|ftruncate|rename(at2?)?|unlink(at)?|mkdir(at)?)\(", ln):
            assert str(log.parent) not in ln, ln
    return len(opens)


def test_report_opens_log_read_only_under_strace(tmp_path: Path, strace_ok: None) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(LOG)
    lines = _strace(["report", "--json", str(log)], tmp_path)
    assert _check(lines, log) >= 1


def test_tail_opens_log_read_only_under_strace(tmp_path: Path, strace_ok: None) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(LOG)
    lines = _strace(["tail", "--json", str(log)], tmp_path, interrupt=True)
    assert _check(lines, log) >= 1


def test_audit_hook_sees_only_read_only_opens(tmp_path: Path) -> None:
    # GIVEN an audit hook recording every open of the log in this process
    log = tmp_path / "train.log"
    log.write_bytes(LOG)
    target = os.fsencode(str(log))
    seen: list[tuple[object, object]] = []
    recording = [True]

    def hook(event: str, args: tuple) -> None:
        if recording[0] and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            if os.fsencode(os.fspath(args[0])) == target:
                seen.append((args[1], args[2]))

    sys.addaudithook(hook)  # (cannot be removed; it only looks at this test's path)
    # WHEN the report pipeline and a following Monitor read it (with an append while following)
    read_once(log)
    mon = Monitor(log, poll=0.05)
    stop = threading.Event()
    th = threading.Thread(target=mon.run, args=(stop,))
    th.start()
    try:
        wait_for(lambda: mon.snapshot().run.records["train"] >= 50, "50 records read", 10.0)
        recording[0] = False  # the trainer appends: this open is not trainmon's
        with open(log, "ab") as f:
            f.write(b"{'loss': 0.5, 'epoch': 9.9}\n")
        recording[0] = True
        wait_for(lambda: mon.snapshot().run.records["train"] >= 51, "the appended record", 10.0)
    finally:
        stop.set()
        th.join(5)
    # THEN every open by trainmon was read-only (os.open flags, or an "r" mode)
    assert len(seen) >= 2, "no open of the log was audited"
    for mode, flags in seen:
        if isinstance(flags, int) and mode is None:
            assert flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND) == 0, (mode, flags)
        else:
            assert isinstance(mode, str) and "r" in mode and not set(mode) & set("wax+"), (mode, flags)


def test_no_write_permission_anywhere_file_unchanged(tmp_path: Path) -> None:
    # GIVEN a 0444 log in a 0555 directory
    d = tmp_path / "ro"
    d.mkdir()
    log = d / "train.log"
    log.write_bytes(LOG)
    log.chmod(0o444)
    d.chmod(0o555)
    before = (sorted(os.listdir(d)), log.read_bytes(), log.stat().st_mtime_ns, log.stat().st_mode)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "tui_monitor", "report", "--json", str(log)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0 and out.stderr == ""
        p = subprocess.Popen(
            [sys.executable, "-m", "tui_monitor", "tail", "--json", str(log)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert p.stdout is not None
        assert p.stdout.readline()
        time.sleep(0.5)  # the subject, not a synchronisation: trainmon follows the log a while
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 130
        # THEN nothing changed: no file beside it, same bytes, mtime and mode
        after = (sorted(os.listdir(d)), log.read_bytes(), log.stat().st_mtime_ns, log.stat().st_mode)
        assert after == before
    finally:
        d.chmod(0o755)
