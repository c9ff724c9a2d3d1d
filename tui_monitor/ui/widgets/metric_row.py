"""One metric's row: name, last value, status word with a symbol, details, and a sparkline."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui_monitor.core.i18n import label
from tui_monitor.ui.chart_model import NONFINITE_MARK, fmt_num, sparkline
from tui_monitor.ui.view import MetricRow
from tui_monitor.ui.widgets._style import MUTED, NAN_STYLE, SEVERITY_STYLE, SPARK_STYLE

NAME_W = 14
"""Columns for the metric name in compact rows (longer names end in …)."""


MAX_STRETCH = 4
"""Most cells one point of a short series is widened to in a sparkline."""


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _spark_content(row: MetricRow, width: int, lang: str) -> Content:
    """The sparkline (or epoch progress bar), with × markers and a non-finite count."""
    if width <= 0:
        return Content("")
    if row.progress is not None:
        frac = min(max(row.progress, 0.0), 1.0)
        bar_w = max(width - 6, 1)
        full = int(round(frac * bar_w))
        return Content.assemble(("█" * full, SPARK_STYLE), ("░" * (bar_w - full), MUTED), f" {frac * 100:3.0f} %")
    suffix = f" {NONFINITE_MARK}{row.nonfinite}" if row.nonfinite else ""
    room = max(width - len(suffix), 1)
    line = sparkline(row.y, room, agg=row.spark_agg)
    if line and 2 * len(line) <= room:  # a short series: widen each point (≤ 4 cells) to read it
        k = min(room // len(line), MAX_STRETCH)
        line = "".join(ch * k for ch in line)
    parts: list[str | tuple[str, str]] = []
    run = ""
    for ch in line:
        if ch == NONFINITE_MARK:
            if run:
                parts.append((run, SPARK_STYLE))
                run = ""
            parts.append((ch, NAN_STYLE))
        else:
            run += ch
    if run:
        parts.append((run, SPARK_STYLE))
    if suffix:
        parts.append((suffix, NAN_STYLE))
    return Content.assemble(*parts)


def row_lines(row: MetricRow, width: int, lang: str, *, compact: bool) -> list[Content]:
    """Draw a metric row at ``width`` columns: one line (compact) or two.

    Compact: ``name  value  symbol word  sparkline``. Full: line 1 ``name  value  symbol
    word  details``, line 2 the sparkline across the whole width.

    Args:
        row: the row's data; its key is log text and stays plain text.
        width: columns available.
        lang: UI language.
        compact: one line instead of two.

    Returns:
        One or two Content lines.
    """
    value = fmt_num(row.last)
    value_style = NAN_STYLE if value in ("nan", "inf", "-inf") else "bold"
    sev_style = SEVERITY_STYLE.get(row.severity, MUTED)
    word = f"{row.symbol} {row.word}".strip() if (row.symbol or row.word) else ""
    if compact:
        name = _clip(row.key, NAME_W).ljust(NAME_W)
        word_w = 17 if width >= 76 else 13
        head = Content.assemble(
            (name, "bold"), " ", (value.rjust(9), value_style), " ", (_clip(word, word_w).ljust(word_w), sev_style), " "
        )
        rest = width - head.cell_length
        return [head + _spark_content(row, rest, lang)]
    parts: list[str | tuple[str, str]] = [
        (_clip(row.key, max(width // 3, 8)), "bold"),
        "  ",
        (value, value_style),
        "  ",
        (word, sev_style),
    ]
    if row.detail:
        parts += ["   ", (row.detail, MUTED)]
    if row.nonfinite and row.progress is None:
        parts += ["   ", (f"{NONFINITE_MARK} {row.nonfinite} {label('nonfinite', lang)}", NAN_STYLE)]
    head = Content.assemble(*parts)
    if head.cell_length > width:
        head = head.truncate(width, ellipsis=True)
    return [head, _spark_content(row, width, lang)]


class MetricRowWidget(Widget, can_focus=True):
    """A focusable metric row; the focused row drives the big chart and the glossary.

    The row's text is built from :class:`~tui_monitor.ui.view.MetricRow` data with
    :func:`row_lines`; its height (1 or 2) comes from the stylesheet (``.compact``).
    """

    DEFAULT_CSS = """
    MetricRowWidget { height: 2; }
    """
    """Two lines unless the run view is compact; the app stylesheet does the rest."""

    compact: reactive[bool] = reactive(False, layout=True)
    """One line (narrow or short terminals) instead of two."""

    def __init__(self, row: MetricRow, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.row = row
        self.lang = lang

    def set_row(self, row: MetricRow) -> None:
        """Replace the data and repaint."""
        self.row = row
        self.refresh()

    def watch_compact(self, compact: bool) -> None:
        """Follow the compact mode with the height."""
        self.styles.height = 1 if compact else 2

    def render(self) -> Content:
        """Draw the row at the widget's current width."""
        width = self.content_size.width or self.size.width
        return Content("\n").join(row_lines(self.row, width, self.lang, compact=self.compact))
