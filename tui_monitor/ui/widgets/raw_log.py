"""The raw log screen: the log's own lines around an event or at its end, following the end
live, with a regular-expression filter as you type; read by offset on demand (core.rawlog)."""

from __future__ import annotations

import re
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static

from tui_monitor.core.rawlog import RawLine, RawLog
from tui_monitor.core.text.inert import inert
from tui_monitor.core.text.words import label

__all__ = ["FOLLOW_EVERY", "RawLogScreen"]

FOLLOW_EVERY = 1.0
"""Seconds between looks at the file's end while the view follows it."""


class RawLogScreen(Screen[None]):
    """The raw text of one log.

    Args:
        path: the log file.
        lang: ``"en"`` or ``"ru"``.
        offset: a byte offset to open around (an event's line), or ``None`` for the end.
        follow: re-read the end every :data:`FOLLOW_EVERY` seconds while the view is at it.
    """

    BINDINGS = [
        Binding("escape", "close", show=False),
        Binding("t", "close", show=False),
        Binding("q", "close", show=False),
        Binding("slash", "filter", show=False),
    ]

    def __init__(self, path: str, lang: str = "en", *, offset: int | None = None, follow: bool = True) -> None:
        super().__init__()
        self.raw = RawLog(path)
        self.path = path
        self.lang = lang
        self.start_offset = offset
        self.follow = follow
        self.pattern: re.Pattern[str] | None = None
        self._file_size = -1
        self._focus_line = 0

    def compose(self) -> ComposeResult:
        """A title line, the lines (scrolled by the keyboard), the filter (hidden until ``/``)."""
        yield Static(id="raw-title")
        with ScrollableContainer(id="raw-lines"):
            yield Static(id="raw-text")
        yield Input(placeholder=label("raw_filter_hint", self.lang), id="raw-filter")
        yield Static(Content(label("raw_keys", self.lang)), id="raw-keys")

    def on_mount(self) -> None:
        """Show the lines; start following the end."""
        self.query_one("#raw-filter", Input).display = False
        self._load()
        self.query_one("#raw-lines").focus()
        if self.follow:
            self.set_interval(FOLLOW_EVERY, self._follow_end)

    def _show(self, lines: list[RawLine], note: str) -> None:
        text = Content("\n").join(Content(ln.text) for ln in lines) if lines else Content(label("raw_empty", self.lang))
        self.query_one("#raw-text", Static).update(text)
        where = label("raw_title", self.lang).format(path=inert(Path(self.path).name), n=len(lines))
        self.query_one("#raw-title", Static).update(
            Content.assemble((where, "bold"), (f" · {note}" if note else "", "$text-muted"))
        )

    def _load(self) -> None:
        """Read what the view shows now: the filter's matches, the lines around the offset, or the end."""
        self._file_size = self.raw.size()
        scroll = self.query_one("#raw-lines", ScrollableContainer)
        if self.pattern is not None:
            lines, whole = self.raw.grep(self.pattern)
            self._show(lines, label("raw_matches" if whole else "raw_matches_recent", self.lang))
            self.call_after_refresh(scroll.scroll_end, animate=False)
        elif self.start_offset is not None:
            lines, i = self.raw.around(self.start_offset)
            self._show(lines, label("raw_around", self.lang))
            self._focus_line = i
            self.call_after_refresh(scroll.scroll_to, 0, max(i - 3, 0), animate=False)
        else:
            self._show(self.raw.tail(), label("raw_end", self.lang))
            self.call_after_refresh(scroll.scroll_end, animate=False)

    def _follow_end(self) -> None:
        """The file grew and the view shows its end: read the end again."""
        if self.pattern is not None or self.start_offset is not None:
            return
        scroll = self.query_one("#raw-lines", ScrollableContainer)
        if scroll.scroll_y < scroll.max_scroll_y:
            return  # scrolled up to read: stay there
        if self.raw.size() != self._file_size:
            self._load()

    def action_close(self) -> None:
        """Escape closes the filter first, then the screen."""
        box = self.query_one("#raw-filter", Input)
        if box.display and box.has_focus:
            box.display = False
            self.query_one("#raw-lines").focus()
            return
        self.dismiss(None)

    def action_filter(self) -> None:
        """``/``: type a regular expression; the lines are filtered as you type."""
        box = self.query_one("#raw-filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter by the expression typed so far (an invalid one says so and filters nothing)."""
        text = event.value
        if not text:
            self.pattern = None
            self.start_offset = None
            self._load()
            return
        try:
            self.pattern = re.compile(text)
        except re.error as e:
            self.pattern = None
            self.query_one("#raw-title", Static).update(
                Content.assemble((label("raw_bad_regex", self.lang).format(error=inert(str(e))), "$text-error"))
            )
            return
        self._load()

    def on_input_submitted(self) -> None:
        """Enter: back to scrolling the filtered lines."""
        self.query_one("#raw-lines").focus()
