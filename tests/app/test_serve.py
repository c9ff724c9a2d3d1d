"""``trainmon serve``: the app in a real browser (headless Chromium driven by Playwright).

What the page shows is read from the very bytes the page's terminal (xterm.js) is sent over the
websocket, replayed into a terminal emulator (pyte) of the size the page asked for; the page
draws on a canvas, so its text is not in the DOM. A screenshot shows the same page.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from helpers import FIXTURES, ROOT, wait_for

from tui_monitor import load
from tui_monitor.core.text import fmt_num, verdict_word
from tui_monitor.core.text.glossary import explain

pytestmark = pytest.mark.slow  # a server, a browser and the app in subprocesses

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
"""Headless, offline and quiet: no GPU, no background fetches, no first-run or update traffic."""

LOG = FIXTURES / "real" / "hf5_linear_warmup.log"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class PageTerminal:
    """The page's terminal screen, rebuilt from the websocket frames the page received."""

    def __init__(self, pyte: Any) -> None:
        self.pyte = pyte
        self.screen: Any = None
        self.stream: Any = None

    def open(self, url: str) -> None:
        q = parse_qs(urlparse(url).query)
        self.screen = self.pyte.Screen(int(q["width"][0]), int(q["height"][0]))
        self.stream = self.pyte.ByteStream(self.screen)

    def sent(self, payload: str | bytes) -> None:
        if isinstance(payload, str) and payload.startswith('["resize"'):
            size = json.loads(payload)[1]
            self.screen.resize(size["height"], size["width"])

    def received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):  # the app's output; text frames are pongs and meta
            self.stream.feed(payload)

    def text(self) -> str:
        return "\n".join(self.screen.display) if self.screen is not None else ""


@pytest.fixture
def served() -> Any:
    """`trainmon serve LOG --port P` running; yields the port, stops it after."""
    pytest.importorskip("textual_serve", reason="trainmon serve needs the serve extra (.ci/run installs it)")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_monitor", "serve", str(LOG), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: _connects(port) or proc.poll() is not None, "the server listening", deadline_s=30)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_page_shows_the_verdict_the_loss_and_the_glossary(served: Any, tmp_path: Path) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run tries)")
    playwright = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package drives Chromium")
    pyte = pytest.importorskip("pyte", reason="pyte replays the page's terminal bytes")
    port, proc = served
    run = load(LOG).latest
    word = verdict_word(run.verdict.status)
    loss = fmt_num(float(run.series("loss").values[-1]))
    term = PageTerminal(pyte)
    # GIVEN a fresh Chromium profile (no state from any earlier run)
    profile = tempfile.mkdtemp(prefix="trainmon-chromium-")
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1200, "height": 720},
            )
            try:
                page = browser.new_page()

                def on_websocket(ws: Any) -> None:
                    term.open(ws.url)
                    ws.on("framesent", term.sent)
                    ws.on("framereceived", term.received)

                page.on("websocket", on_websocket)
                # WHEN the page is opened
                page.goto(f"http://127.0.0.1:{port}/")

                # THEN it shows the verdict word and the latest loss
                def shown(*words: str) -> bool:
                    page.wait_for_timeout(50)  # lets Playwright deliver the frames received
                    return all(w in term.text() for w in words)

                wait_for(lambda: shown(word, "loss", loss), lambda: f"{word} and loss {loss} on the page", 60)
                # WHEN g is pressed THEN the glossary explains the selected metric (loss)
                page.focus(".xterm-helper-textarea")
                page.keyboard.press("g")
                title = explain("loss").title
                wait_for(lambda: shown("glossary", title), lambda: f"the glossary on the page:\n{term.text()}", 30)
                shot = tmp_path / "serve_browser.png"
                page.screenshot(path=str(shot))
                assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                if os.environ.get("TRAINMON_SAVE_SCREENSHOTS"):
                    shutil.copy(shot, ROOT / "screenshots" / "serve_browser_1200x720.png")
            finally:
                browser.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.poll() is None  # the server is still serving


def test_another_address_is_warned_about_in_one_line() -> None:
    pytest.importorskip("textual_serve", reason="trainmon serve needs the serve extra (.ci/run installs it)")
    # GIVEN a port already taken WHEN serving on 0.0.0.0 there THEN one warning line, then one error line
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tui_monitor", "serve", str(LOG), "--host", "0.0.0.0", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1
    assert lines[0] == (
        f"trainmon: warning: serving on 0.0.0.0:{port}: anyone who can reach this port can read the log"
    )
    assert lines[1].startswith(f"trainmon: cannot serve on 0.0.0.0:{port}: ")
    assert len(lines) == 2


def test_without_the_extra_serve_names_it(tmp_path: Path) -> None:
    # GIVEN a Python where textual_serve cannot be imported (a module of that name that fails)
    (tmp_path / "textual_serve").mkdir()
    (tmp_path / "textual_serve" / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-m", "tui_monitor", "serve", str(LOG)], capture_output=True, text=True, env=env, timeout=60
    )
    # THEN one line naming the extra, exit 1
    assert done.returncode == 1
    assert done.stderr == "trainmon: trainmon serve needs the serve extra: pip install 'trainmon[serve]'\n"
