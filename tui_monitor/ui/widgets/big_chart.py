"""The focused metric drawn large: a braille line chart with y labels and steps below."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from tui_monitor.ui.chart_model import EVAL_MARK, NONFINITE_MARK, UNDER_MARK, braille_chart
from tui_monitor.ui.model import MetricRowModel
from tui_monitor.ui.widgets._style import MUTED, NAN_STYLE

RAW_STYLE = "$text-muted"
"""The raw series when a smoothed line is drawn over it."""
LINE_STYLE = "$text-accent"
"""The raw series alone."""
SMOOTH_STYLE = "bold $text-accent"
"""The smoothed overlay."""
MARK_STYLE = "bold $text-primary"
"""The evaluations (``eval_loss`` on the loss chart): another colour, and their own glyph."""
UNDER_STYLE = "$text-disabled"
"""The run underneath (previous run, ``--baseline``): faint; its own mark says it without colour."""


def chart_lines(
    row: MetricRowModel | None, width: int, height: int, *, log: bool, message: str, lang: str = "en"
) -> list[Content]:
    """Draw ``row`` as ``height`` lines of braille (one of them the x-axis) at ``width``.

    With a smoothed overlay the raw series is dotted and muted and the smoothed line solid,
    bold and in the accent colour: they read apart with colour and without (``NO_COLOR``).
    The run compared with (``row.under_x/under_y``) is drawn beneath in faint ``·`` cells; the
    evaluations (``row.marks_x/marks_y``) on top as ``◆`` in another colour.

    Args:
        row: the metric, or ``None`` before the first record.
        width: columns.
        height: lines in all (plot lines + 1 axis line).
        log: log-scale y-axis.
        message: what to show without a row.
        lang: the language of an empty chart's message.

    Returns:
        ``height`` Content lines.
    """
    if row is None or height < 3 or width < 10:
        lines = [Content("")] * max(height, 1)
        lines[len(lines) // 2] = Content.assemble((message.center(width), MUTED))
        return lines
    chart = braille_chart(
        row.y,
        width,
        height - 1,
        steps=row.x,
        smoothed=row.smoothed,
        log=log,
        dotted_raw=True,
        lang=lang,
        under=(row.under_x, row.under_y) if row.under_x is not None and row.under_y is not None else None,
        marks=(row.marks_x, row.marks_y) if row.marks_x is not None and row.marks_y is not None else None,
    )
    out: list[Content] = []
    has_smooth = row.smoothed is not None
    for r, text in enumerate(chart.lines):
        if r >= len(chart.raw):
            out.append(Content.assemble((text, MUTED)))
            continue
        parts: list[str | tuple[str, str]] = [(text[: chart.gutter], MUTED)]
        run, run_style = "", ""
        for c, ch in enumerate(text[chart.gutter :]):
            if ch == NONFINITE_MARK:
                style = NAN_STYLE
            elif ch == EVAL_MARK:
                style = MARK_STYLE
            elif ch == UNDER_MARK:
                style = UNDER_STYLE
            elif has_smooth and chart.smooth[r][c]:
                style = SMOOTH_STYLE
            else:
                style = RAW_STYLE if has_smooth else LINE_STYLE
            if style != run_style and run:
                parts.append((run, run_style))
                run = ""
            run_style = style
            run += ch
        if run:
            parts.append((run, run_style))
        out.append(Content.assemble(*parts))
    return out


class BigChart(Widget):
    """A large chart of the focused metric; titles carry the metric and the display options."""

    DEFAULT_CSS = """
    BigChart { height: 1fr; }
    """
    """Fills what the layout leaves; the app stylesheet sets borders and minimums."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.row: MetricRowModel | None = None
        self.log_scale = False
        self.message = ""
        self.lang = "en"

    def show(
        self,
        row: MetricRowModel | None,
        *,
        log: bool,
        title: Content,
        subtitle: Content,
        message: str,
        lang: str = "en",
    ) -> None:
        """Set what to draw and repaint."""
        self.row = row
        self.log_scale = log
        self.message = message
        self.lang = lang
        self.border_title = title
        self.border_subtitle = subtitle
        self.refresh()

    def render(self) -> Content:
        """Draw the chart at the current content size."""
        size = self.content_size
        lines = chart_lines(self.row, size.width, size.height, log=self.log_scale, message=self.message, lang=self.lang)
        return Content("\n").join(lines)
