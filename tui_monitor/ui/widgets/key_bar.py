"""The footer: the keys, in the UI language, shortened to fit the width."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui_monitor.core.text.words import key_text

FOOTER_KEYS: tuple[tuple[str, str], ...] = (
    ("q", "quit"),
    ("?", "help"),
    ("g", "glossary"),
    ("↑↓", "metric"),
    ("l", "log"),
    ("s", "smooth"),
    ("w", "window"),
    ("p", "pause"),
)
"""(key, description key) in footer order."""

TAB_KEYS: tuple[tuple[str, str], ...] = (("[ ] 1-9", "tabs"),)
"""Shown after ``?`` when there are several files (tabs)."""

DROP_ORDER = ("log", "window", "smooth", "glossary", "pause", "metric")
"""Hints left out, in this order, when even the short words do not fit (``?`` lists all)."""


def footer_keys(tabs: bool) -> tuple[tuple[str, str], ...]:
    """The footer's (key, description key) pairs, with the tab keys when ``tabs``."""
    if not tabs:
        return FOOTER_KEYS
    return FOOTER_KEYS[:2] + TAB_KEYS + FOOTER_KEYS[2:]


def footer_content(lang: str, width: int, *, tabs: bool = False) -> Content:
    """The key hints that fit in ``width`` columns.

    Full words first; then the short words (``smooth``, ``window``); then hints are left
    out in :data:`DROP_ORDER`: ``q`` and ``?`` (and the tab keys) always stay.
    """
    keys = list(footer_keys(tabs))

    def build(short: bool) -> Content:
        return Content("").join(
            Content.assemble((f" {k} ", "bold $footer-key-foreground"), (f"{key_text(w, lang, short=short)} ", ""))
            for k, w in keys
        )

    content = build(False)
    if content.cell_length <= width:
        return content
    content = build(True)
    for what in DROP_ORDER:
        if content.cell_length <= width:
            break
        keys = [kw for kw in keys if kw[1] != what]
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
