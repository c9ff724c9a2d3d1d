"""The raw log screen (``t``) through the real app: around the crash, at the end following live,
the ``/`` filter as you type, inert text, every key from the keyboard at 80x24."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from helpers import FIXTURES, append, screen_text, wait_for_app

from tui_monitor.core.rawlog import RawLog
from tui_monitor.ui.app import make_app
from tui_monitor.ui.widgets.raw_log import RawLogScreen

REAL = FIXTURES / "real"


async def test_opens_around_the_traceback() -> None:
    """GIVEN a real log whose run crashed with a traceback (then was resumed) WHEN t is pressed
    THEN the raw lines around the traceback show; escape closes the screen."""
    log = REAL / "hf5_resume_append.log"
    app = make_app([log], follow=False, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_app(pilot, lambda: "loss" in screen_text(app), "the dashboard")
        await pilot.press("t")
        await wait_for_app(pilot, lambda: "Traceback (most recent call last):" in screen_text(app), "the traceback")
        assert "around the event" in screen_text(app)
        await pilot.press("escape")
        await wait_for_app(pilot, lambda: not isinstance(app.screen, RawLogScreen), "the screen closed")


async def test_filter_as_you_type_and_close(tmp_path: Path) -> None:
    """GIVEN the real tokens_checkpoints log WHEN t, / and "checkpoint-1" are typed THEN only the
    lines naming checkpoint-100 and -150 show, as many as a grep of the file finds."""
    log = REAL / "tokens_checkpoints.log"
    expected, _ = RawLog(log).grep(re.compile("checkpoint-1"))
    app = make_app([log], follow=False, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_app(pilot, lambda: "loss" in screen_text(app), "the dashboard")
        await pilot.press("t")
        await wait_for_app(pilot, lambda: "its end" in screen_text(app), "the end of the log")
        assert "train_runtime" in screen_text(app)  # the summary record, the log's last line
        await pilot.press("slash")
        for ch in "checkpoint-1":
            await pilot.press(ch if ch != "-" else "minus")
        await wait_for_app(pilot, lambda: f"{len(expected)} lines" in screen_text(app), "the filtered lines")
        text = screen_text(app)
        assert "out/checkpoint-100" in text and "out/checkpoint-150" in text and "checkpoint-200" not in text
        await pilot.press("escape", "escape")
        await wait_for_app(pilot, lambda: not isinstance(app.screen, RawLogScreen), "the screen closed")


async def test_follows_the_end_live_and_shows_escapes_inert(tmp_path: Path) -> None:
    """GIVEN a log being written WHEN the raw log is open at its end THEN a line appended later
    shows, with its escape sequence removed and its control characters as pictures."""
    log = tmp_path / "train.log"
    shutil.copy(REAL / "tokens_checkpoints.log", log)
    app = make_app([log], follow=True, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_app(pilot, lambda: "loss" in screen_text(app), "the dashboard")
        await pilot.press("t")
        await wait_for_app(pilot, lambda: "its end" in screen_text(app), "the end of the log")
        append(log, b"appended \x1b[31mred\x1b[0m line\x07 here\n")
        await wait_for_app(pilot, lambda: "appended red line␇ here" in screen_text(app), "the new line", 15)
