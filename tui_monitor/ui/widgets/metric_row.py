"""One metric's row: name, last value, status word with a symbol, details, and a sparkline."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui_monitor.core.text.fmt import fmt_num
from tui_monitor.core.text.inert import inert
from tui_monitor.core.text.words import label
from tui_monitor.ui.chart_model import NONFINITE_MARK, sparkline
from tui_monitor.ui.model import Fact, MetricRowModel
from tui_monitor.ui.widgets._style import MUTED, NAN_STYLE, SEVERITY_STYLE, SPARK_STYLE

NAME_W = 14
"""Default columns for the metric name in compact rows (the dashboard widens it to fit)."""

WORD_W = 17
"""Default columns for the status word in compact rows."""

MARKER = "▶"
"""Drawn before the focused row's name: the focus shows without colour (``NO_COLOR``)."""

FACT_SEP = "   "
"""Separates the facts of :attr:`MetricRowModel.facts` on screen; the last ones go first
when a row is short of room."""


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _progress_content(row: MetricRowModel, width: int) -> Content:
    """The epoch row's bar with its percentage and what it measures (``36 % of steps``)."""
    frac = min(max(row.progress or 0.0, 0.0), 1.0)
    suffix = f" {frac * 100:3.0f} %"
    if row.progress_label and width - len(suffix) - len(row.progress_label) - 1 >= 8:
        suffix += f" {row.progress_label}"
    bar_w = max(width - len(suffix), 1)
    full = int(round(frac * bar_w))
    return Content.assemble(("█" * full, SPARK_STYLE), ("░" * (bar_w - full), MUTED), (suffix, ""))


def _spark_content(row: MetricRowModel, width: int, lang: str) -> Content:
    """The sparkline (or epoch progress bar), with × markers and a non-finite count.

    A series shorter than the room is drawn one character per point, left-aligned: every
    block is a logged point, never a repeated one.
    """
    if width <= 0:
        return Content("")
    if row.progress is not None:
        return _progress_content(row, width)
    suffix = f" {NONFINITE_MARK}{row.nonfinite}" if row.nonfinite else ""
    room = max(width - len(suffix), 1)
    line = sparkline(row.y, room, agg=row.spark_agg)
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


def fact_text(fact: Fact, *, place: bool = True) -> str:
    """``peak 1.97e-04 at step 25`` (``peak 1.97e-04`` without the place)."""
    parts = (fact.label, fact.value, fact.place if place else "")
    return " ".join(p for p in parts if p)


def fit_facts(facts: Sequence[Fact], room: int) -> str:
    """Fit ``facts`` in ``room`` columns: all of them whole first; short of room, the last
    fact gives up its place, then goes, and so on; never a fact cut mid-word.

    Args:
        facts: the row's facts, most important first.
        room: columns available.

    Returns:
        The facts that fit, joined by :data:`FACT_SEP`; ``""`` when none does.
    """
    texts = [fact_text(f) for f in facts]
    kept = list(facts)
    while kept:
        line = FACT_SEP.join(texts)
        if len(line) <= room:
            return line
        short = fact_text(kept[-1], place=False)
        if short != texts[-1]:
            texts[-1] = short
        else:
            kept.pop()
            texts.pop()
    return ""


def row_lines(
    row: MetricRowModel,
    width: int,
    lang: str,
    *,
    compact: bool,
    marked: bool = False,
    name_w: int = NAME_W,
    word_w: int = WORD_W,
) -> list[Content]:
    """Draw a metric row at ``width`` columns: one line (compact) or two.

    Compact: ``▶ name  value  symbol word  sparkline``. Full: line 1 ``▶ name  value  symbol
    word  details``, line 2 the sparkline across the whole width. The name is what people
    read: the details give way first (the last facts, then "at step N"), then the
    sparkline (compact), and only then the name.

    Args:
        row: the row's data; its key is log text and stays plain text.
        width: columns available.
        lang: UI language.
        compact: one line instead of two.
        marked: the focused row (drawn with :data:`MARKER` before its name).
        name_w: columns for the name in compact rows (the dashboard fits it to its rows).
        word_w: columns for the status word in compact rows.

    Returns:
        One or two Content lines.
    """
    key = inert(row.key)
    value = fmt_num(row.last)
    value_style = NAN_STYLE if value in ("nan", "inf", "-inf") else "bold"
    sev_style = SEVERITY_STYLE.get(row.severity, MUTED)
    word = f"{row.symbol} {row.word}".strip() if (row.symbol or row.word) else ""
    mark = (f"{MARKER} ", "bold $text-accent") if marked else "  "
    if compact:
        name = _clip(key, name_w).ljust(name_w)
        head = Content.assemble(
            mark,
            (name, "bold"),
            " ",
            (value.rjust(9), value_style),
            " ",
            (_clip(word, word_w).ljust(word_w), sev_style),
            " ",
        )
        rest = width - head.cell_length
        return [head + _spark_content(row, rest, lang)]
    nan_txt = f"{NONFINITE_MARK} {row.nonfinite}" if row.nonfinite and row.progress is None else ""
    fixed = 2 + 2 + len(value) + (2 + len(word) if word else 0)
    name = _clip(key, max(width - fixed, min(len(key), 18)))
    used = fixed + len(name)
    parts: list[str | tuple[str, str]] = [mark, (name, "bold"), "  ", (value, value_style)]
    if word:
        parts += ["  ", (word, sev_style)]
    if nan_txt:
        long_nan = f"{nan_txt} {label('nonfinite', lang)}"
        nan_txt = long_nan if used + 3 + len(long_nan) + 3 + 8 <= width else nan_txt
        if used + 3 + len(nan_txt) <= width:
            parts += ["   ", (nan_txt, NAN_STYLE)]
            used += 3 + len(nan_txt)
    if row.facts:
        facts = fit_facts(row.facts, width - used - 3)
        if facts:
            parts += ["   ", (facts, MUTED)]
    head = Content.assemble(*parts)
    if head.cell_length > width:
        head = head.truncate(width, ellipsis=True)
    return [head, _spark_content(row, width, lang)]


class MetricRowWidget(Widget, can_focus=True):
    """A focusable metric row; the focused row drives the big chart and the glossary.

    The row's text is built from :class:`~tui_monitor.ui.model.MetricRowModel` data with
    :func:`row_lines`; its height (1 or 2) follows :attr:`compact` (`watch_compact`).
    """

    DEFAULT_CSS = """
    MetricRowWidget { height: 2; }
    """
    """Two lines unless the dashboard is compact; the app stylesheet does the rest."""

    compact: reactive[bool] = reactive(False, layout=True)
    """One line (narrow or short terminals) instead of two."""
    marked: reactive[bool] = reactive(False)
    """This row drives the big chart (drawn with :data:`MARKER`), focused or not."""

    def __init__(self, row: MetricRowModel, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.row = row
        self.lang = lang
        self.name_w = NAME_W
        self.word_w = WORD_W

    def set_columns(self, name_w: int, word_w: int) -> None:
        """Set the compact columns shared by every row of the list (repaints on change)."""
        if (name_w, word_w) != (self.name_w, self.word_w):
            self.name_w, self.word_w = name_w, word_w
            self.refresh()

    def set_row(self, row: MetricRowModel) -> None:
        """Replace the data and repaint."""
        self.row = row
        self.refresh()

    def watch_compact(self, compact: bool) -> None:
        """Follow the compact mode with the height."""
        self.styles.height = 1 if compact else 2

    def render(self) -> Content:
        """Draw the row at the widget's current width."""
        width = self.content_size.width or self.size.width
        lines = row_lines(
            self.row,
            width,
            self.lang,
            compact=self.compact,
            marked=self.marked,
            name_w=self.name_w,
            word_w=self.word_w,
        )
        return Content("\n").join(lines)
