"""The verdict and events panes: lines with a coloured symbol and plain text."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui_monitor.core.text.inert import inert
from tui_monitor.core.text.words import label
from tui_monitor.ui.lines import raw_log_event
from tui_monitor.ui.model import Line
from tui_monitor.ui.widgets._style import MUTED, SEVERITY_STYLE


def line_content(line: Line) -> Content:
    """``symbol where text``: the symbol coloured by severity, the text as plain data
    (control characters shown as pictures, see :func:`~tui_monitor.core.text.inert.inert`)."""
    parts: list[str | tuple[str, str]] = [(line.symbol or " ", SEVERITY_STYLE.get(line.severity, MUTED)), " "]
    if line.where:
        parts += [(inert(line.where), MUTED), "  "]
    style = MUTED if line.note else "bold" if line.severity == "critical" else ""
    parts.append((inert(line.text), style))
    return Content.assemble(*parts)


class LinesPane(Static):
    """Shows a list of :class:`~tui_monitor.ui.model.Line`, or a placeholder when empty."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.parts: list[Content] = []
        """The lines as drawn, in screen order (one may take several screen lines)."""

    def screen_rows(self, i: int) -> tuple[int, int]:
        """``(first, count)``: the screen lines that line ``i`` takes at the current width."""
        width = self.content_region.width
        if width <= 0:
            return i, 1
        first = sum(len(p.wrap(width)) for p in self.parts[:i])
        return first, len(self.parts[i].wrap(width))

    def show(
        self,
        lines: tuple[Line, ...],
        *,
        empty: str,
        newest_last: bool = True,
        limit: int = 200,
        marked: Line | None = None,
    ) -> int:
        """Replace the lines (the newest ``limit`` kept), ``marked`` drawn in reverse video.

        Returns:
            The screen line of ``marked`` (0-based), or -1 when it is not shown.
        """
        if not lines:
            self.parts = []
            self.update(Content.assemble((empty, MUTED)))
            return -1
        shown = shown_order(lines, newest_last=newest_last, limit=limit)
        at = shown.index(marked) if marked is not None and marked in shown else -1
        parts = [line_content(x) for x in shown]
        if at >= 0:
            parts[at] = parts[at].stylize("reverse")
        self.parts = parts
        self.update(Content("\n").join(parts))
        return at


def shown_order(lines: tuple[Line, ...], *, newest_last: bool = True, limit: int = 200) -> tuple[Line, ...]:
    """The lines in the order a pane shows them: the newest ``limit``, newest last or first."""
    shown = lines[-limit:]
    return shown if newest_last else tuple(reversed(shown))


class VerdictPane(VerticalScroll, can_focus=False):
    """The verdict's reasons, most severe first; scrolls when they do not fit, and its
    title says how many lines are below the fold (``verdict · +2 more ↓``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title_text = "verdict"
        self.lang = "en"

    def compose(self) -> ComposeResult:
        """The lines, in one static that the pane scrolls."""
        yield LinesPane(id="verdict-lines")

    def show(self, lines: tuple[Line, ...], *, empty: str) -> None:
        """Replace the reasons, then update the "+N more" hint once laid out."""
        self.query_one(LinesPane).show(lines, empty=empty)
        self.call_after_refresh(self.update_hint)

    def hidden_lines(self) -> int:
        """Screen lines below the visible part (0 when everything shows)."""
        visible = self.scrollable_content_region.height
        if visible <= 0:
            return 0
        return max(self.virtual_size.height - visible - round(self.scroll_y), 0)

    def update_hint(self) -> None:
        """Title: ``verdict``, or ``verdict · +N more ↓`` when lines are cut off."""
        n = self.hidden_lines()
        title = Content(self.title_text)
        if n:
            more = label("more", self.lang).format(n=n)
            title = Content.assemble(self.title_text, (f" · {more} ↓", "bold $text-warning"))
        self.border_title = title

    def on_resize(self) -> None:
        """The fold moves with the size."""
        self.call_after_refresh(self.update_hint)

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Scrolling uncovers lines: recount them."""
        super().watch_scroll_y(old, new)
        self.update_hint()


class EventsPane(VerticalScroll, can_focus=False):
    """Events, newest first so the latest is always visible in a short pane; the event the
    raw log opens at (chosen with ``e``/``E``, else the run's landmark) is drawn in reverse
    video and scrolled into view."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chosen: Line | None = None
        """The event chosen with ``e``/``E``, or ``None``."""

    def compose(self) -> ComposeResult:
        """The lines, in one static that the pane scrolls."""
        yield LinesPane(id="events-lines")

    def focused(self, events: tuple[Line, ...]) -> Line | None:
        """The event the raw log opens at: the one chosen with ``e``/``E`` while it is still
        listed, else the run's landmark (:func:`~tui_monitor.ui.lines.raw_log_event`: the crash
        line, the first NaN/inf, a reset), else ``None`` (the raw log opens at the end)."""
        chosen = self.chosen
        if chosen is not None:
            if chosen in events:
                return chosen
            # The same event with words that moved on ("stalled: no record for 5 min").
            for e in events:
                if chosen.offset >= 0 and (e.offset, e.symbol) == (chosen.offset, chosen.symbol):
                    return e
        return raw_log_event(events)

    def move(self, events: tuple[Line, ...], delta: int) -> None:
        """Choose the next (``+1``: down the list, older) or previous (``-1``) event, wrapping;
        the first press starts from the event marked now (or the top of the list)."""
        if not events:
            return
        shown = shown_order(events, newest_last=False)
        now = self.focused(events)
        i = shown.index(now) + delta if now in shown else 0
        self.chosen = shown[i % len(shown)]

    def show(self, lines: tuple[Line, ...], *, empty: str) -> None:
        """Replace the events (newest first), mark the focused one and keep it in view."""
        at = self.query_one(LinesPane).show(lines, empty=empty, newest_last=False, marked=self.focused(lines))
        if at < 0:
            self.call_after_refresh(self.scroll_home, animate=False, force=True)
        else:
            self.call_after_refresh(self._reveal, at)

    def _reveal(self, at: int) -> None:
        """Scroll so that event ``at`` ends the view (its wrapped lines counted), so that the
        newer events above it stay in view as far as the pane's height allows."""
        if at >= len(self.query_one(LinesPane).parts):
            return
        first, count = self.query_one(LinesPane).screen_rows(at)
        height = self.scrollable_content_region.height
        y = min(max(first + count - height, 0), first)
        if round(self.scroll_y) != y:
            self.scroll_to(0, y, animate=False, force=True)  # no scrollbar: the pane is scrolled for it
