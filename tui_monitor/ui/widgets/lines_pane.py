"""A bordered pane of severity lines: the verdict's reasons and the events use it."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui_monitor.ui.view import Line
from tui_monitor.ui.widgets._style import MUTED, SEVERITY_STYLE


def line_content(line: Line) -> Content:
    """``symbol where text``: the symbol coloured by severity, the text as plain data."""
    parts: list[str | tuple[str, str]] = [(line.symbol or " ", SEVERITY_STYLE.get(line.severity, MUTED)), " "]
    if line.where:
        parts += [(line.where, MUTED), "  "]
    parts.append((line.text, "bold" if line.severity == "critical" else ""))
    return Content.assemble(*parts)


class LinesPane(Static):
    """Shows a list of :class:`~tui_monitor.ui.view.Line`, or a placeholder when empty."""

    def show(self, lines: tuple[Line, ...], *, empty: str, newest_last: bool = True, limit: int = 200) -> None:
        """Replace the lines (the newest ``limit`` kept)."""
        if not lines:
            self.update(Content.assemble((empty, MUTED)))
            return
        shown = lines[-limit:]
        if not newest_last:
            shown = tuple(reversed(shown))
        self.update(Content("\n").join(line_content(x) for x in shown))


class VerdictPane(LinesPane):
    """The verdict's reasons, most severe first."""


class EventsPane(LinesPane):
    """Events, newest first so the latest is always visible in a short pane."""
