"""The footer: the keys, in the UI language, shortened to fit the width."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui_monitor.core.text.words import key_text
from tui_monitor.ui.keys import footer_keys


def footer_content(lang: str, width: int, *, tabs: bool = False) -> Content:
    """The key hints that fit in ``width`` columns.

    Full words first; then the short words (``smooth``, ``window``); then hints are left out,
    the highest ``Command.drop`` first: ``q`` and ``?`` (and the tab keys) always stay.
    """
    keys = footer_keys(tabs)

    def build(short: bool) -> Content:
        return Content("").join(
            Content.assemble(
                (f" {c.footer} ", "bold $footer-key-foreground"), (f"{key_text(c.word, lang, short=short)} ", "")
            )
            for c in keys
        )

    content = build(False)
    if content.cell_length <= width:
        return content
    content = build(True)
    for drop in sorted({c.drop for c in keys if c.drop}, reverse=True):
        if content.cell_length <= width:
            break
        keys = [c for c in keys if c.drop != drop]
        content = build(True)
    return content


class KeyBar(Static):
    """One line of key hints at the bottom of the screen."""

    def __init__(self, lang: str, *, tabs: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.tabs = tabs

    def render(self) -> Content:
        """Fit the hints to the current width."""
        return footer_content(self.lang, self.size.width, tabs=self.tabs)
