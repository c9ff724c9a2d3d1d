"""The help screen (``?``): every key and what it does, in the UI language."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_monitor.core.text.words import help_text, label
from tui_monitor.ui.keys import help_keys

_SCROLL_KEYS = {
    "up": "scroll_up",
    "down": "scroll_down",
    "pageup": "page_up",
    "pagedown": "page_down",
    "home": "scroll_home",
    "end": "scroll_end",
}
"""Keys that scroll the help box (on a short screen it does not fit) instead of closing it."""

_KEY_W = 10
"""Columns of the key column."""


def help_content(lang: str, *, tabs: bool = False) -> Content:
    """The key table (every key and its meaning) and a few notes, in ``lang``.

    Args:
        lang: ``"en"`` or ``"ru"``.
        tabs: several files are open: add the tab keys.
    """
    parts: list[str | tuple[str, str]] = []
    for c in help_keys(tabs):
        parts += [(f"{c.help:>{_KEY_W}}", "bold $text-accent"), "  ", help_text(c.word, lang), "\n"]
    parts += ["\n", (label("help_note", lang), "$text-muted")]
    return Content.assemble(*parts)


class HelpScreen(ModalScreen[None]):
    """A modal list of keys; the scroll keys scroll it, any other key or a click closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", show=False)]

    def __init__(self, lang: str, *, tabs: bool = False) -> None:
        super().__init__()
        self.lang = lang
        self.tabs = tabs

    def compose(self) -> ComposeResult:
        """The key table and a few notes in a bordered box (scrolls on a short screen)."""
        with VerticalScroll(id="help-box") as box:
            box.border_title = Content(label("help_title", self.lang))
            yield Static(help_content(self.lang, tabs=self.tabs), id="help-text")

    def on_key(self, event: events.Key) -> None:
        """↑↓, PgUp/PgDn, Home/End scroll the help; any other key closes it."""
        scroll = _SCROLL_KEYS.get(event.key)
        if scroll is None:
            self.dismiss(None)
            return
        event.stop()
        getattr(self.query_one("#help-box", VerticalScroll), f"action_{scroll}")()

    def on_click(self) -> None:
        """A click closes the help."""
        self.dismiss(None)
