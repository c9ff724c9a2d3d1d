"""The help screen (``?``): every key and what it does, in the UI language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_monitor.core.text.words import help_text, label
from tui_monitor.ui.keys import help_keys

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
    """A modal list of keys; any key or a click closes it."""

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

    def on_key(self) -> None:
        """Any key closes the help."""
        self.dismiss(None)

    def on_click(self) -> None:
        """A click closes the help."""
        self.dismiss(None)
