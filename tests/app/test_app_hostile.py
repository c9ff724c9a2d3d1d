"""Hardening at the app level: hostile text on screen, frames under load, signals.

Hostile text and load go through ``App.run_test()`` (``make_app``, as the CLI builds it);
signals need a real terminal, so the app runs in a detached tmux session.
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
from helpers import ROOT, screen_text, wait_for, wait_for_app

from tui_monitor.ui.app import TrainmonApp, make_app

CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def segments(app: TrainmonApp) -> list[str]:
    """Every text segment the compositor would send to the terminal."""
    return [seg.text for strip in app.screen._compositor.render_strips() for seg in strip]


MARKUP_KEYS = [
    "[link=https://evil.example]click[/link]",
    "[/usr/bin/x]",
    "[bold red]x[/]",
    "loss 损失 ✓ with spaces",
    "k" * 400,
]
CONTROL_KEYS = [
    "osc52\x1b]52;c;aGVsbG8=\x07",
    "csi\x1b[2J\x1b[10;10Hmove",
    "bell\x07\x07 back\x08\x08space",
    "osc8 \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
]
HOSTILE_KEYS = MARKUP_KEYS + CONTROL_KEYS


def hostile_log(keys: list[str] = HOSTILE_KEYS) -> bytes:
    lines = []
    for i in range(30):
        d = {"loss": 2.5 - i / 100, "learning_rate": 1e-4, "epoch": i / 10}
        for j, k in enumerate(keys):
            d[k] = float(j + i)
        d["huge"] = 1e308
        lines.append(repr(d).encode() + b"\n")
    lines.append(b"\x1b[31m[rank0]: \x1b]52;c;ZXZpbA==\x07 Traceback (most recent call last):\n")
    lines.append(b"RuntimeError: [link=https://evil.example]boom[/link] \x1b[2J\x07\x08 " + b"x" * 2000 + b"\n")
    return b"".join(lines)


@pytest.mark.parametrize(
    "keys",
    [
        MARKUP_KEYS,
        HOSTILE_KEYS,
    ],
    ids=["markup-long-unicode-keys", "control-chars-in-keys"],
)
async def test_hostile_text_is_shown_inertly_and_the_app_keeps_running(tmp_path: Path, keys: list[str]) -> None:
    # GIVEN keys full of markup (and, second case, escape sequences, BEL, backspaces), very
    # long keys and values, spaces and unicode, and crash lines full of escapes
    log = tmp_path / "train.log"
    log.write_bytes(hostile_log(keys))
    app = make_app([log], poll=0.05, bell=False)
    async with app.run_test(size=(140, 50)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.model is not None and rv.model.row("loss") is not None)
        # the glossary / focus can move over every hostile row without a crash
        for _ in range(len(keys) + 4):
            await pilot.press("down")
        await pilot.press("g")
        await pilot.pause()
        await pilot.press("g")
        # THEN no control character reaches the terminal, markup is shown as written
        for seg in segments(app):
            assert not CTRL.search(seg), repr(seg)
        text = screen_text(app)
        assert "evil.example]click" in text or "[link=" in text  # shown, not turned into a link
        assert "boom" not in text or "[link=https://evil.example]boom[/link]" in text
        # and the app keeps following: a new record after the crash lines arrives
        with open(log, "ab") as f:
            f.write(b"{'loss': 0.125, 'learning_rate': 0.0001, 'epoch': 3.5}\n")
        await wait_for_app(pilot, lambda: rv.monitor.snapshot().run.records["train"] == 31)
        # The subject, not a synchronisation: the app keeps refreshing hostile rows for a second.
        await pilot.pause(1.0)
        for seg in segments(app):
            assert not CTRL.search(seg), repr(seg)
        assert app.is_running


@pytest.mark.slow
async def test_frames_keep_coming_under_10k_records_per_second(tmp_path: Path) -> None:
    # GIVEN the live app on an empty log
    log = tmp_path / "train.log"
    log.write_bytes(b"")
    app = make_app([log], bell=False)
    n = 20_000
    async with app.run_test(size=(120, 36)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.monitor.snapshot().file_state == "following", "following the log")

        def writer() -> None:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND)
            t0 = time.monotonic()
            for b in range(n // 100):
                os.write(
                    fd,
                    b"".join(
                        b"{'loss': %.6f, 'learning_rate': 0.0001, 'epoch': %.6f, 'seq': %d}\n"
                        % (5 - i * 1e-6, i * 1e-5, i)
                        for i in range(b * 100, b * 100 + 100)
                    ),
                )
                # the writer's pace is the subject: 100 records every 10 ms
                delay = t0 + (b + 1) / 100 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            os.close(fd)

        # WHEN a writer appends 10,000 records/s for 2 s
        th = threading.Thread(target=writer)
        th.start()
        versions: list[int] = []
        while th.is_alive():
            view = rv.model
            if view is not None and (not versions or view.version != versions[-1]):
                versions.append(view.version)
            await pilot.pause(0.1)  # a sampling interval while the writer runs, not a wait for an event
        th.join()
        # THEN the screen was redrawn while writing (how often per second is benchmarks/app_cpu.py's
        # and latency.py's business), and every record is counted
        await wait_for_app(pilot, lambda: rv.monitor.snapshot().run.records["train"] == n)
        assert len(versions) >= 2, f"{len(versions)} redraws while writing"
        await wait_for_app(pilot, lambda: "19999" in screen_text(app))


# -- signals: the real app in a terminal (tmux; Textual draws on stderr, so it is not
# redirected: a traceback would show in the pane) -----------------------------------------

EXPECTED = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def tmux_ok() -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux not installed")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_app_signal_restores_terminal(tmp_path: Path, tmux_ok: None, sig: int) -> None:
    # GIVEN the app running in a terminal on a log
    log = tmp_path / "train.log"
    log.write_bytes(hostile_log()[:4000].rsplit(b"\n", 1)[0] + b"\n")
    rc_file = tmp_path / "rc"
    session = f"trainmon-hard-{os.getpid()}-{int(sig)}"
    cmd = f"cd {ROOT} && {sys.executable} -m tui_monitor tail {log} ; echo $? > {rc_file}; sleep 30"
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36", cmd)
    try:
        wait_for(lambda: "train.log" in _tmux("capture-pane", "-p", "-t", session), "the app drew", 15.0)
        assert _tmux("display", "-p", "-t", session, "#{alternate_on}").strip() == "1"
        pid = int(
            subprocess.run(
                ["pgrep", "-f", f"^{sys.executable} -m tui_monitor tail {log}"], capture_output=True, text=True
            ).stdout.split()[0]
        )
        # WHEN the signal arrives
        os.kill(pid, sig)
        wait_for(lambda: rc_file.exists() and rc_file.read_text().strip(), "the app's exit", 15.0)
        # THEN the terminal is restored (normal screen, no mouse reporting), no traceback,
        # and the exit status is the documented one
        assert _tmux("display", "-p", "-t", session, "#{alternate_on}").strip() == "0"
        assert _tmux("display", "-p", "-t", session, "#{mouse_any_flag}").strip() == "0"
        assert "Traceback" not in _tmux("capture-pane", "-p", "-S", "-", "-t", session)
        assert int(rc_file.read_text()) == EXPECTED[sig]
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
