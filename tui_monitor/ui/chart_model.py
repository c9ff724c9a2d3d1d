"""Pure chart models: numpy series → bucketed summaries → rows of plain strings.

No terminal, no Textual: every function here takes arrays and returns strings (or small
frozen dataclasses), so the charts are tested as text. The widgets in
:mod:`tui_monitor.ui.widgets` only colour what these functions draw.

- :func:`bucket` — a series reduced to ``width`` buckets (min / max / mean per bucket),
  non-finite points skipped and counted, by index or by x (steps).
- :func:`sparkline` — one row of block characters, ``×`` where a bucket held NaN/inf.
- :func:`braille_chart` — a line chart in braille dots (2×4 dots per cell) with y-axis
  min/max labels, step labels on the x-axis, optional log scale and a smoothed overlay.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tui_monitor.core.text.fmt import fmt_num
from tui_monitor.core.text.words import label

FloatArray = npt.NDArray[np.float64]

BLOCKS = "▁▂▃▄▅▆▇█"
"""Sparkline levels, lowest to highest."""

NONFINITE_MARK = "×"
"""Drawn where a bucket held a NaN or an infinity (in sparklines and the chart's top row)."""

UNDER_MARK = "·"
"""Drawn where only the run underneath (the previous run, ``--baseline``) passes: a dotted line
of its own character, so it reads apart from the braille of the current run without colour."""

EVAL_MARK = "◆"
"""Drawn at each evaluation's point (``eval_loss`` on the loss chart): a glyph of its own, so the
points read apart from the train line without colour (``NO_COLOR``)."""

_BRAILLE_BASE = 0x2800
# Dot bits of a braille cell by (column 0..1, row 0..3 from the top); Unicode's order.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_LEFT_DOTS = 0x01 | 0x02 | 0x04 | 0x40
"""The left dot column of a braille cell: a raw series drawn with only these is dotted."""


@dataclass(frozen=True, slots=True)
class Buckets:
    """A series reduced to ``width`` buckets.

    Attributes:
        lo: ``(width,) float64`` minimum of the finite points per bucket, NaN if none.
        hi: ``(width,) float64`` maximum of the finite points per bucket, NaN if none.
        mean: ``(width,) float64`` mean of the finite points per bucket, NaN if none.
        last: ``(width,) float64`` the last finite point per bucket, NaN if none (lines
            are drawn from one bucket's last point to the next bucket's points).
        bad: ``(width,) bool`` the bucket held at least one NaN/inf point.
        nonfinite: how many NaN/inf points were skipped in all.
        count: how many points went in (finite or not).
    """

    lo: FloatArray
    hi: FloatArray
    mean: FloatArray
    last: FloatArray
    bad: npt.NDArray[np.bool_]
    nonfinite: int
    count: int

    @property
    def width(self) -> int:
        """The number of buckets."""
        return int(self.lo.shape[0])


def bucket(
    values: npt.ArrayLike,
    width: int,
    x: npt.ArrayLike | None = None,
    x_range: tuple[float, float] | None = None,
) -> Buckets:
    """Reduce a series to ``width`` buckets: min/max/mean/last of the finite points in each.

    Without ``x``, points are split by index into ``min(width, n)`` contiguous groups
    (a short series is not stretched). With ``x`` (e.g. steps, ``(n,)``), bucket ``i``
    covers ``[x0 + i·dx, x0 + (i+1)·dx)`` of ``x_range`` (default: min/max of ``x``), so
    uneven spacing shows as gaps and a short series spans the full width.

    Args:
        values: ``(n,)`` floats; NaN/inf are skipped and counted in ``nonfinite``.
        width: number of buckets wanted (≥ 1).
        x: optional ``(n,)`` x positions, same length as ``values``.
        x_range: optional ``(x0, x1)`` the buckets span (points outside are clipped in).

    Returns:
        :class:`Buckets`; all NaN when ``values`` is empty.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    n = int(v.shape[0])
    width = max(int(width), 1)
    if x is None:
        w = min(width, n) if n else width
        idx = (np.arange(n, dtype=np.int64) * w) // max(n, 1)
    else:
        w = width
        xs = np.asarray(x, dtype=np.float64).ravel()
        if xs.shape[0] != n:
            raise ValueError(f"x has {xs.shape[0]} points, values {n}")
        if x_range is None:
            fin = xs[np.isfinite(xs)]
            x0, x1 = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
        else:
            x0, x1 = x_range
        span = x1 - x0
        if span <= 0:
            idx = np.zeros(n, dtype=np.int64)
        else:
            rel = np.nan_to_num((xs - x0) / span, nan=0.0)
            idx = np.clip(np.floor(rel * w).astype(np.int64), 0, w - 1)
    finite = np.isfinite(v)
    lo = np.full(w, np.inf)
    hi = np.full(w, -np.inf)
    sums = np.zeros(w)
    counts = np.zeros(w, dtype=np.int64)
    last = np.full(w, np.nan)
    bad = np.zeros(w, dtype=bool)
    fi, fv = idx[finite], v[finite]
    np.minimum.at(lo, fi, fv)
    np.maximum.at(hi, fi, fv)
    np.add.at(sums, fi, fv)
    np.add.at(counts, fi, 1)
    last[fi] = fv  # fancy assignment keeps the last write per index (points are in order)
    bad[idx[~finite]] = True
    empty = counts == 0
    lo[empty] = np.nan
    hi[empty] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(empty, np.nan, sums / np.maximum(counts, 1))
    return Buckets(lo, hi, mean, last, bad, int((~finite).sum()), n)


def _log_or_nan(v: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)


_FLAT = 1e-9
"""Relative spread below which a series counts as constant."""


def sparkline(values: npt.ArrayLike, width: int, *, log: bool = False, agg: str = "mean") -> str:
    """Draw a series as one row of block characters, at most ``width`` long.

    A series shorter than ``width`` is drawn one character per point (not stretched).
    Buckets that held a NaN/inf point show :data:`NONFINITE_MARK`, so a NaN is never
    hidden by averaging; empty buckets (only possible with log scale) show a space.

    Args:
        values: ``(n,)`` floats.
        width: the most characters to draw.
        log: log10 scale (non-positive points are skipped like non-finite ones, but
            not marked).
        agg: ``"mean"`` or ``"max"`` per bucket (``max`` keeps spikes visible).

    Returns:
        The row, ``min(width, n)`` characters; ``""`` for an empty series or width < 1.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0 or width < 1:
        return ""
    bad_in = ~np.isfinite(v)
    if log:
        v = _log_or_nan(np.where(bad_in, 1.0, v))
        v[bad_in] = np.nan
    b = bucket(v, width)
    level = b.hi if agg == "max" else b.mean
    bad = bucket(bad_in.astype(np.float64), b.width).hi > 0
    fin = level[np.isfinite(level)]
    out = []
    if fin.size:
        lo, hi = float(fin.min()), float(fin.max())
    for i in range(b.width):
        if bad[i]:
            out.append(NONFINITE_MARK)
        elif not math.isfinite(level[i]):
            out.append(" ")
        elif hi - lo <= _FLAT * max(abs(hi), abs(lo)):
            # Equal values (up to float noise from bucket means) draw a flat line.
            out.append(BLOCKS[3])
        else:
            k = int(round((level[i] - lo) / (hi - lo) * (len(BLOCKS) - 1)))
            out.append(BLOCKS[k])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered braille chart: plain-string lines plus what the widget needs to colour them.

    Attributes:
        lines: ``height`` plot lines then one x-axis line, each exactly ``width`` chars.
        gutter: characters of y-axis labels at the left of every line (the plot starts there).
        raw: per plot line, per plot column, the braille bits of the raw series.
        smooth: the same for the smoothed overlay (all zeros without one).
        bad_cols: plot columns (0-based, after the gutter) that held NaN/inf points.
        y_min: the value at the bottom of the plot (in data units, after any log un-doing).
        y_max: the value at the top.
        nonfinite: NaN/inf points skipped.
        skipped_nonpositive: points left out because the log scale cannot show them.
        under: per plot line, per plot column, the braille bits of the run underneath (all
            zeros without one); its cells show :data:`UNDER_MARK` where the current run has no dot.
        marks: ``(line, column)`` plot cells (column after the gutter) of the marked points
            (evaluations), drawn as :data:`EVAL_MARK` over everything else.
    """

    lines: list[str]
    gutter: int
    raw: list[list[int]]
    smooth: list[list[int]]
    bad_cols: list[int] = field(default_factory=list)
    y_min: float | None = None
    y_max: float | None = None
    nonfinite: int = 0
    skipped_nonpositive: int = 0
    under: list[list[int]] = field(default_factory=list)
    marks: list[tuple[int, int]] = field(default_factory=list)


def _set_span(grid: list[list[int]], px: int, y0: int, y1: int, height_px: int) -> None:
    """Light the pixels of column ``px`` from pixel row ``y0`` to ``y1`` (inclusive)."""
    if y0 > y1:
        y0, y1 = y1, y0
    y0 = max(y0, 0)
    y1 = min(y1, height_px - 1)
    col, sub = divmod(px, 2)
    for y in range(y0, y1 + 1):
        row, dot = divmod(y, 4)
        grid[row][col] |= _DOTS[sub][dot]


def _draw(
    grid: list[list[int]],
    b: Buckets,
    to_px: Callable[[float], int],
    height_px: int,
    *,
    span: bool,
) -> None:
    """Draw one series into ``grid``.

    With ``span`` (the raw series) each dot column lights its bucket's min..max and is
    joined to the previous bucket's last point; without (the smoothed overlay) a one-dot
    line runs through the bucket means. Empty columns between buckets are interpolated.
    """
    prev: tuple[int, int] | None = None
    for px in range(b.width):
        if not math.isfinite(b.mean[px]):
            continue
        if span:
            top, bottom = to_px(float(b.hi[px])), to_px(float(b.lo[px]))
            _set_span(grid, px, top, bottom, height_px)
            entry = top if prev is None or prev[1] >= top else bottom
            entry = min(max(prev[1], top), bottom) if prev is not None else entry
            leave = to_px(float(b.last[px]))
        else:
            entry = leave = to_px(float(b.mean[px]))
            _set_span(grid, px, entry, entry, height_px)
        if prev is not None:
            ppx, py = prev
            gap = px - ppx
            last_y = py
            for k in range(1, gap + 1):
                y = int(round(py + (entry - py) * k / gap))
                _set_span(grid, ppx + k, last_y, y, height_px)
                last_y = y
        prev = (px, leave)


def braille_chart(
    values: npt.ArrayLike,
    width: int,
    height: int,
    *,
    steps: npt.ArrayLike | None = None,
    smoothed: npt.ArrayLike | None = None,
    log: bool = False,
    dotted_raw: bool = False,
    lang: str = "en",
    under: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    marks: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
) -> Chart:
    """Draw a line chart in braille characters with y labels at the left and steps below.

    The plot area is ``width - gutter`` cells × ``height`` lines = twice as many dot
    columns and four times as many dot rows. Each dot column is a :func:`bucket` of the
    points by step; its min..max is drawn as a vertical span (so spikes survive
    down-sampling) and consecutive columns are joined. The smoothed overlay, when given,
    is drawn as a one-dot line through bucket means. NaN/inf points are skipped, counted,
    and marked with :data:`NONFINITE_MARK` in the top line above where they happened.

    Args:
        values: ``(n,)`` the raw series.
        width: total characters per line (labels included), ≥ 8.
        height: plot lines (≥ 2); one x-axis line is added below.
        steps: ``(n,)`` x positions (global steps); default the index 0..n-1.
        smoothed: ``(n,)`` optional smoothed series on the same x positions.
        log: log10 y-axis; non-positive points are left out and counted.
        dotted_raw: with a smoothed overlay, draw the raw series with every other dot
            column only (a dotted line under the solid smoothed one), so the two read
            apart without colour (``NO_COLOR``). ``Chart.raw`` keeps every dot.
        lang: the language of the message an empty chart shows.
        under: ``(x, y)`` another run's points on the same x axis (the previous run at the
            same steps), drawn beneath as a thin line of :data:`UNDER_MARK` cells; only its
            points within this series' x range are drawn, and they count in the y range.
        marks: ``(x, y)`` points drawn as :data:`EVAL_MARK` cells on the same axes (the
            evaluations on the loss chart); those within the x range count in the y range.

    Returns:
        A :class:`Chart`; for an empty or all-non-finite series the lines are blank with
        a message in the middle.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    n = int(v.size)
    xs = np.arange(n, dtype=np.float64) if steps is None else np.asarray(steps, dtype=np.float64).ravel()
    sm = None if smoothed is None else np.asarray(smoothed, dtype=np.float64).ravel()
    height = max(int(height), 2)
    width = max(int(width), 8)
    nonfinite_mask = ~np.isfinite(v)
    nonfinite = int(nonfinite_mask.sum())
    skipped_nonpos = 0
    pv, psm = v.copy(), None if sm is None else sm.copy()
    if log:
        nonpos = np.isfinite(v) & (v <= 0)
        skipped_nonpos = int(nonpos.sum())
        pv = _log_or_nan(np.where(nonfinite_mask, np.nan, v))
        pv[nonfinite_mask] = np.nan
        if psm is not None:
            psm = _log_or_nan(psm)
    pool = pv[np.isfinite(pv)]
    if psm is not None:
        pool = np.concatenate([pool, psm[np.isfinite(psm)]])
    fin_x = xs[np.isfinite(xs)]
    x0, x1 = (float(fin_x.min()), float(fin_x.max())) if fin_x.size else (0.0, 1.0)
    ux, uy = _under_points(under, x0, x1, log) if pool.size else (np.zeros(0), np.zeros(0))
    mx, my = _under_points(marks, x0, x1, log) if pool.size else (np.zeros(0), np.zeros(0))
    pool = np.concatenate([pool, uy, my])
    if pool.size == 0:
        blank = " " * width
        msg = label("chart_no_finite" if n else "chart_no_values", lang)
        empty = [blank] * height
        empty[height // 2] = msg.center(width)[:width]
        return Chart(
            empty + [blank],
            0,
            [[0] * width for _ in range(height)],
            [[0] * width for _ in range(height)],
            [],
            None,
            None,
            nonfinite,
            skipped_nonpos,
        )
    ymin, ymax = float(pool.min()), float(pool.max())
    unlog: Callable[[float], float] = (lambda t: 10.0**t) if log else (lambda t: t)
    top_label = fmt_num(unlog(ymax))
    bot_label = fmt_num(unlog(ymin))
    gutter = max(len(top_label), len(bot_label)) + 1
    cols = width - gutter
    height_px = height * 4
    width_px = cols * 2
    flat = ymax - ymin <= _FLAT * max(abs(ymax), abs(ymin))  # float noise of an EMA is not a trend
    scale = 0.0 if flat else (height_px - 1) / (ymax - ymin)

    def to_px(val: float) -> int:
        """Value → dot row (0 = top); a flat series sits in the middle."""
        if scale == 0.0:
            return height_px // 2
        return int(round((ymax - val) * scale))

    raw = [[0] * cols for _ in range(height)]
    smooth = [[0] * cols for _ in range(height)]
    b = bucket(pv, width_px, xs, (x0, x1))
    _draw(raw, b, to_px, height_px, span=True)
    if psm is not None:
        bs = bucket(psm, width_px, xs, (x0, x1))
        _draw(smooth, bs, to_px, height_px, span=False)
    below = [[0] * cols for _ in range(height)]
    if uy.size:
        _draw(below, bucket(uy, width_px, ux, (x0, x1)), to_px, height_px, span=False)
    bad_cols: list[int] = []
    if nonfinite:
        badb = bucket(nonfinite_mask.astype(np.float64), width_px, xs, (x0, x1))
        bad_cols = sorted({int(px) // 2 for px in np.nonzero(badb.hi > 0)[0]})
    lines: list[str] = []
    raw_mask = _LEFT_DOTS if dotted_raw and psm is not None else 0xFF
    for r in range(height):
        y_label = top_label if r == 0 else bot_label if r == height - 1 else ""
        bits = [(raw[r][c] & raw_mask) | smooth[r][c] for c in range(cols)]
        cells = [chr(_BRAILLE_BASE + b) if b else UNDER_MARK if below[r][c] else " " for b, c in zip(bits, range(cols))]
        if r == 0:
            for c in bad_cols:
                cells[c] = NONFINITE_MARK
        lines.append(y_label.rjust(gutter - 1) + " " + "".join(cells))
    cells_marked: list[tuple[int, int]] = []
    if mx.size:
        span = (x1 - x0) or 1.0
        for xv, yv in zip(mx.tolist(), my.tolist()):
            col = min(int(round((xv - x0) / span * (width_px - 1))) // 2, cols - 1)
            row = min(max(to_px(yv) // 4, 0), height - 1)
            cells_marked.append((row, col))
        for row, col in cells_marked:
            line = lines[row]
            at = gutter + col
            lines[row] = line[:at] + EVAL_MARK + line[at + 1 :]
    lines.append(" " * gutter + _x_axis(x0, x1, cols))
    return Chart(
        lines, gutter, raw, smooth, bad_cols, unlog(ymin), unlog(ymax), nonfinite, skipped_nonpos, below, cells_marked
    )


def _under_points(
    under: tuple[npt.ArrayLike, npt.ArrayLike] | None, x0: float, x1: float, log: bool
) -> tuple[FloatArray, FloatArray]:
    """The run underneath within ``[x0, x1]``, finite, log10 when ``log`` (non-positive left out)."""
    if under is None:
        return np.zeros(0), np.zeros(0)
    ux = np.asarray(under[0], dtype=np.float64).ravel()
    uy = np.asarray(under[1], dtype=np.float64).ravel()
    if log:
        uy = _log_or_nan(uy)
    keep = np.isfinite(ux) & np.isfinite(uy) & (ux >= x0) & (ux <= x1)
    return ux[keep], uy[keep]


def _x_axis(x0: float, x1: float, cols: int) -> str:
    """Step labels: the first at the left edge, the last at the right, a middle one if room."""
    left = fmt_num(x0) if not float(x0).is_integer() else str(int(x0))
    right = fmt_num(x1) if not float(x1).is_integer() else str(int(x1))
    line = [" "] * cols
    if cols <= 0:
        return ""

    def put(text: str, start: int) -> None:
        for i, ch in enumerate(text):
            if 0 <= start + i < cols:
                line[start + i] = ch

    put(left, 0)
    if x1 != x0 and len(left) + len(right) + 1 <= cols:
        put(right, cols - len(right))
        mid_v = (x0 + x1) / 2
        mid = str(int(round(mid_v))) if abs(x1 - x0) >= 10 else fmt_num(mid_v)
        start = cols // 2 - len(mid) // 2
        if start > len(left) + 1 and start + len(mid) < cols - len(right) - 1 and cols >= 30:
            put(mid, start)
    return "".join(line)
