"""The footer: the keys, in the UI language, shortened to fit the width."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui_monitor.core.i18n import key_text

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
"""(key, description key) in footer order; the ones that do not fit are dropped from the end."""


def footer_content(lang: str, width: int) -> Content:
    """The key hints that fit in ``width`` columns."""
    parts: list[Content] = []
    used = 0
    for key, what in FOOTER_KEYS:
        piece = Content.assemble((f" {key} ", "bold $footer-key-foreground"), (f"{key_text(what, lang)} ", ""))
        if used + piece.cell_length > width:
            break
        parts.append(piece)
        used += piece.cell_length
    return Content("").join(parts)


class KeyBar(Static):
    """One line of key hints at the bottom of the screen."""

    def __init__(self, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang

    def render(self) -> Content:
        """Fit the hints to the current width."""
        return footer_content(self.lang, self.size.width)
