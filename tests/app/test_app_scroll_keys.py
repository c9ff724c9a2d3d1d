"""Every pane reachable by keyboard at 80x24: the verdict's hidden lines (``v``/``V``) and the
glossary (``J``/``K``), through the real app."""

from __future__ import annotations

from helpers import FIXTURES, screen_text, wait_for_app

from tui_monitor.core.pipeline import read_once
from tui_monitor.core.text import reason_text
from tui_monitor.ui.app import make_app
from tui_monitor.ui.widgets.lines_pane import VerdictPane

LOG = FIXTURES / "real" / "tokens_checkpoints.log"


async def test_v_scrolls_the_verdict_to_its_hidden_lines_and_back() -> None:
    """GIVEN the real log at 80x24, whose verdict has more lines than its pane WHEN v is pressed
    until the end THEN the last reason shows and the "+N more" hint goes; one more v goes back
    to the top, and V goes up."""
    # (a long reason wraps: its first words are what a line shows)
    reasons = [reason_text(r)[:25] for r in read_once(LOG).health().reasons]
    app = make_app([LOG], follow=False, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_app(pilot, lambda: "more ↓" in screen_text(app), "the verdict's +N more hint")
        assert reasons[-1] not in screen_text(app)
        pane = app.query_one(VerdictPane)
        for _ in range(10):
            if pane.hidden_lines() == 0:
                break
            await pilot.press("v")
            await pilot.pause()
        await wait_for_app(pilot, lambda: reasons[-1] in screen_text(app), "the last reason")
        assert "more ↓" not in screen_text(app)
        await pilot.press("v")
        await wait_for_app(pilot, lambda: reasons[0] in screen_text(app), "the first reason again")
        assert pane.scroll_y == 0
        await pilot.press("v")
        await wait_for_app(pilot, lambda: pane.scroll_y > 0, "a page down")
        await pilot.press("V")
        await wait_for_app(pilot, lambda: pane.scroll_y == 0, "a page up")


async def test_glossary_scrolls_to_its_last_sentence_at_80x24() -> None:
    """GIVEN the loss glossary at 80x24, cut off at the bottom WHEN J is pressed THEN its last
    sentence shows; K goes back to its title."""
    app = make_app([LOG], follow=False, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_app(pilot, lambda: "loss" in screen_text(app), "the dashboard")
        await pilot.press("g")
        await wait_for_app(pilot, lambda: "Training loss" in screen_text(app), "the glossary")
        assert "means overfitting." not in screen_text(app)
        await pilot.press("J")
        await wait_for_app(pilot, lambda: "means overfitting." in screen_text(app), "the glossary's end")
        await pilot.press("K")
        await wait_for_app(pilot, lambda: "Training loss" in screen_text(app), "the glossary's title")
