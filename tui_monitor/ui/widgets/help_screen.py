"""The help screen (``?``): every key, in the UI language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_monitor.core.i18n import key_text, label

HELP_KEYS: tuple[tuple[str, str], ...] = (
    ("q", "quit"),
    ("?", "help"),
    ("g", "glossary"),
    ("↑ ↓ / tab", "metric"),
    ("l", "log"),
    ("s", "smooth"),
    ("w", "window"),
    ("p", "pause"),
)
"""(keys, description key in :data:`tui_monitor.core.i18n.KEYS`) shown by the help screen."""

_NOTES = {
    "en": "s cycles smoothing: off, 0.6, 0.9, 0.99 (TensorBoard's debiased EMA).\n"
    "w switches the chart between the whole run and the recent window.\n"
    "p freezes the display; reading the log goes on.\n"
    "Any key closes this help.",
    "ru": "s переключает сглаживание: выкл, 0.6, 0.9, 0.99 (EMA с поправкой, как в TensorBoard).\n"
    "w переключает график: весь запуск или последние точки.\n"
    "p замораживает экран; чтение лога продолжается.\n"
    "Любая клавиша закрывает справку.",
}


class HelpScreen(ModalScreen[None]):
    """A modal list of keys; any key or a click closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", show=False)]

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        """The key table and a few notes."""
        parts: list[str | tuple[str, str]] = []
        for keys, what in HELP_KEYS:
            parts += [(f"{keys:>10}", "bold $text-accent"), "  ", key_text(what, self.lang), "\n"]
        parts += ["\n", (_NOTES.get(self.lang, _NOTES["en"]), "$text-muted")]
        with Vertical(id="help-box") as box:
            box.border_title = Content(label("help_title", self.lang))
            yield Static(Content.assemble(*parts), id="help-text")

    def on_key(self) -> None:
        """Any key closes the help."""
        self.dismiss(None)

    def on_click(self) -> None:
        """A click closes the help."""
        self.dismiss(None)
