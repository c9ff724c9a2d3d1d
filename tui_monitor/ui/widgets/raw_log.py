"""The raw log screen: the log's own lines around an event (its line marked) or at its end,
following the end live, with a regular-expression filter as you type that also filters the
lines written while it is on; read by offset on demand (core.rawlog)."""

from __future__ import annotations

import re
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static

from tui_monitor.core.rawlog import SCAN_LIMIT, WINDOW, RawLine, RawLog
from tui_monitor.core.text.inert import inert
from tui_monitor.core.text.words import label

__all__ = ["FOLLOW_EVERY", "MAX_SHOWN", "RawLogScreen"]

FOLLOW_EVERY = 1.0
"""Seconds between looks at the file's end while the view follows it."""

MAX_SHOWN = 1000
"""Lines the view holds at most (the filter's latest matches; unfiltered, also no more than the
last :data:`~tui_monitor.core.rawlog.WINDOW` bytes): lines that arrive while following push the
oldest out."""


class RawLogScreen(Screen[None]):
    """The raw text of one log.

    The view holds a window of lines (see :data:`MAX_SHOWN`) and the offset just after the
    last complete one; while it shows the end of the file and is scrolled to its bottom, it reads
    what was written since that offset every :data:`FOLLOW_EVERY` seconds, through the filter
    when one is on.

    Args:
        path: the log file.
        lang: ``"en"`` or ``"ru"``.
        offset: a byte offset to open around (an event's line, which is marked), or ``None``
            for the end.
        follow: re-read the end every :data:`FOLLOW_EVERY` seconds while the view is at it.
        event: what the event at ``offset`` is, in words (the title says it), or ``""``.
    """

    BINDINGS = [
        Binding("escape", "close", show=False),
        Binding("t", "close", show=False),
        Binding("q", "close", show=False),
        Binding("slash", "filter", show=False),
        # A priority binding: the scrolled lines have focus and would take `end` for themselves.
        Binding("end", "to_end", show=False, priority=True),
    ]

    def __init__(
        self, path: str, lang: str = "en", *, offset: int | None = None, follow: bool = True, event: str = ""
    ) -> None:
        super().__init__()
        self.raw = RawLog(path)
        self.path = path
        self.lang = lang
        self.start_offset = offset
        self.event = event
        self.follow = follow
        self.pattern: re.Pattern[str] | None = None
        self._held: list[RawLine] = []
        self._held_partial: RawLine | None = None
        self._read_end = 0
        """Offset just after the last complete line read (where following reads on)."""
        self._reaches_end = False
        """The window reaches the end of the file (so following can append to it)."""
        self._file_size = -1
        self._end_y: float | None = None
        """Where the view's bottom was at the last look while following (a resize that only
        shortens the view leaves ``scroll_y`` there: still following), or ``None``."""
        self._marked_offset = -1
        """Offset of the event's line, marked wherever it shows (filtered too), or -1."""
        self._title_note = ""

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

    # -- what is shown ------------------------------------------------------------------------
    def shown(self) -> list[RawLine]:
        """The lines on screen, in file order (the line being written last)."""
        return self._held + ([self._held_partial] if self._held_partial is not None else [])

    def marked_line(self) -> RawLine | None:
        """The event's line, marked on screen, or ``None`` (opened at the end, or scrolled out)."""
        return next((ln for ln in self.shown() if ln.offset == self._marked_offset), None)

    def _render_lines(self) -> None:
        lines = self.shown()
        if lines:
            parts = []
            for ln in lines:
                c = Content(ln.text or " ")
                parts.append(c.stylize("reverse") if ln.offset == self._marked_offset else c)
            text = Content("\n").join(parts)
        else:
            text = Content(label("raw_empty", self.lang))
        self.query_one("#raw-text", Static).update(text)
        where = label("raw_title", self.lang).format(path=inert(Path(self.path).name), n=len(lines))
        self.query_one("#raw-title", Static).update(
            Content.assemble((where, "bold"), (f" · {self._title_note}" if self._title_note else "", "$text-muted"))
        )

    def _take(self, lines: list[RawLine], size: int) -> None:
        """Hold ``lines`` (read up to the file's end): the last one is split off as the line
        being written when no newline ends it yet."""
        self._read_end = self.raw.complete_end(size)
        self._held_partial = lines[-1] if lines and lines[-1].offset >= self._read_end else None
        self._held = lines[:-1] if self._held_partial is not None else lines
        self._reaches_end = True

    def _load(self) -> None:
        """Read what the view shows now: the filter's matches, the lines around the offset, or the end."""
        size = self._file_size = self.raw.size()
        if self.pattern is not None:
            lines, whole = self.raw.grep(self.pattern, limit=MAX_SHOWN)
            self._take(lines, size)
            # The expression stays in the title: Esc hides the box, the filter stays on.
            note = label("raw_matches" if whole else "raw_matches_recent", self.lang)
            self._title_note = note.format(pattern=inert(self.pattern.pattern))
            self._render_lines()
            self.call_after_refresh(self._to_end)
        elif self.start_offset is not None:
            lines, i = self.raw.around(self.start_offset)
            if lines:
                self._marked_offset = lines[i].offset
            if self.start_offset + WINDOW >= size:
                self._take(lines, size)
            else:
                self._held, self._held_partial, self._reaches_end = lines, None, False
            self._title_note = label("raw_around", self.lang).format(event=inert(self.event)) if self.event else ""
            self._render_lines()
            self.call_after_refresh(self._scroll_to_mark, i)
        else:
            self._take(self.raw.tail(), size)
            self._title_note = label("raw_end", self.lang)
            self._render_lines()
            self.call_after_refresh(self._to_end)

    def _scroll_to_mark(self, i: int) -> None:
        """The marked line a third of the way down the view."""
        scroll = self.query_one("#raw-lines", ScrollableContainer)
        height = scroll.scrollable_content_region.height
        scroll.scroll_to(0, max(i - height // 3, 0), animate=False)

    # -- following ----------------------------------------------------------------------------
    def _to_end(self) -> None:
        """Scroll to the last line and remember where that is (`_end_y`: a view still there
        at the next look follows, even when a smaller terminal moved the end below it)."""
        scroll = self.query_one("#raw-lines", ScrollableContainer)
        scroll.scroll_end(animate=False, immediate=True)
        self._end_y = scroll.max_scroll_y

    def _follow_end(self) -> None:
        """The view shows the file's end, scrolled to its bottom, and the file grew: read the
        lines written since (through the filter when one is on) and show them."""
        if not self._reaches_end:
            return
        scroll = self.query_one("#raw-lines", ScrollableContainer)
        if scroll.scroll_y < scroll.max_scroll_y:
            if scroll.scroll_y != self._end_y:
                self._end_y = None
                return  # scrolled up to read: stay there (what was written is read on coming back)
            # Still where the end was: the view got shorter (a smaller terminal), so the end
            # moved down under it. The reader did not scroll away: keep following.
            self._to_end()
        self._end_y = scroll.max_scroll_y
        size = self.raw.size()
        if size == self._file_size:
            return
        self._file_size = size
        grown = size - self._read_end
        if grown < 0 or grown > (SCAN_LIMIT if self.pattern is not None else WINDOW):
            # Truncated or replaced, or more was written than a view holds: read afresh.
            if grown < 0:
                self._marked_offset = -1  # the event's line is gone; its offset is another line's now
            self.start_offset = None
            self._load()
            return
        span = self.raw.read_from(self._read_end, self.pattern, limit=MAX_SHOWN)
        if not span.lines and span.partial == self._held_partial:
            self._read_end = span.end
            return
        held = self._held + span.lines
        if self.pattern is None:
            # As much as the end's window holds: each redraw costs what opening at the end does.
            floor = span.end - WINDOW
            held = [ln for ln in held if ln.offset >= floor]
        self._held = held[-MAX_SHOWN:]
        self._held_partial, self._read_end = span.partial, span.end
        self._render_lines()
        self.call_after_refresh(self._to_end)

    def action_to_end(self) -> None:
        """``end``: the file's end, following (from a window around an event that stops short
        of it, the end is read); in the filter box, the end of the expression."""
        box = self.query_one("#raw-filter", Input)
        if box.has_focus:
            box.action_end()
            return
        if not self._reaches_end:
            self.start_offset = None
            self._load()
            return
        self._to_end()

    # -- keys ---------------------------------------------------------------------------------
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
