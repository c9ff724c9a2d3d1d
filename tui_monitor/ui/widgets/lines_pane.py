"""The verdict and events panes: lines with a coloured symbol and plain text."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui_monitor.core.text.inert import inert
from tui_monitor.core.text.words import label
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

    def show(self, lines: tuple[Line, ...], *, empty: str, newest_last: bool = True, limit: int = 200) -> None:
        """Replace the lines (the newest ``limit`` kept)."""
        if not lines:
            self.update(Content.assemble((empty, MUTED)))
            return
        shown = lines[-limit:]
        if not newest_last:
            shown = tuple(reversed(shown))
        self.update(Content("\n").join(line_content(x) for x in shown))


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


class EventsPane(LinesPane):
    """Events, newest first so the latest is always visible in a short pane."""
