"""What the screen shows, as plain frozen data: the status line, metric rows, reasons, events.

The app's timer turns a monitor snapshot into a :class:`DashboardModel` (see
:mod:`tui_monitor.ui.present`) and hands it to the widgets, which only draw it. Tests
and the screenshot script can build these directly. No textual or rich here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

Severity = Literal["ok", "info", "warning", "critical"]
"""How a word or a line is coloured (and which symbol it carries)."""

SYMBOLS: dict[str, str] = {"ok": "✓", "info": "·", "warning": "!", "critical": "✗"}
"""The symbol that goes with each severity, so no status depends on colour alone."""


class Fact(NamedTuple):
    """One fact of a row's details: ``min 4.79``, ``peak 1.97e-04 at step 25``, ``cosine``.

    The parts stay apart so that a row short of room can drop the place, then the
    whole fact, without reading its words back.

    Attributes:
        label: what the value is (``min``, ``peak``), already in the UI language; alone
            when the fact is a single word (a schedule's name).
        value: the formatted value (``1.97e-04``, ``≈2.34``), or ``""``.
        place: where the value was seen (``at step 25``, ``на шаге 25``), or ``""``.
    """

    label: str
    value: str = ""
    place: str = ""


@dataclass(frozen=True, slots=True)
class MetricRowModel:
    """One metric's row.

    Attributes:
        key: the store key (``loss``, ``eval_loss``, ``loss@rank1``); log text, never markup.
        x: ``(n,) float64`` steps (or record ordinals when ``x_is_step`` is False).
        y: ``(n,) float64`` values as logged (NaN/inf kept).
        smoothed: ``(n,)`` the smoothed series at the current weight, or ``None``.
        x_is_step: whether ``x`` holds global steps.
        last: latest value (may be non-finite), ``None`` if no points.
        word: the status word, already in the UI language (``decreasing``, ``DECAY``...).
        symbol: a one-character symbol in front of the word (``▼``, ``★``, ``✗``).
        severity: colour class of the word.
        facts: short extra facts (``min 4.79``, ``peak 1.97e-04 at step 25``), most
            important first; the widget drops the last ones when short of room.
        nonfinite: NaN/inf points in ``y``.
        progress: ``0..1`` for rows drawn as a progress bar (epoch), else ``None``.
        progress_label: what the bar measures (``of steps``), shown after its percentage.
        spark_agg: ``"mean"`` or ``"max"`` per sparkline bucket (``max`` keeps spikes).
        under_x / under_y: ``(m,) float64`` the same metric of the run compared with (the
            previous run, or ``--baseline``'s), placed on this row's x axis, drawn faintly
            under the chart; ``None`` without one.
        marks_x / marks_y: ``(k,) float64`` points drawn on the same axes as marks (the
            ``eval_loss`` evaluations on the loss row, at their steps), else ``None``.
        marks_label: what the marks are (``eval_loss``), for the chart's legend.
    """

    key: str
    x: np.ndarray
    y: np.ndarray
    smoothed: np.ndarray | None = None
    x_is_step: bool = True
    last: float | None = None
    word: str = ""
    symbol: str = ""
    severity: Severity = "info"
    facts: tuple[Fact, ...] = ()
    nonfinite: int = 0
    progress: float | None = None
    progress_label: str = ""
    spark_agg: str = "mean"
    under_x: np.ndarray | None = None
    under_y: np.ndarray | None = None
    marks_x: np.ndarray | None = None
    marks_y: np.ndarray | None = None
    marks_label: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    """A reason or an event line: severity, a symbol, and text (log text is data).

    Attributes:
        severity: colour class.
        symbol: ``✓``, ``!``, ``✗``, ``★``...
        text: the sentence, already in the UI language.
        where: ``"step 150"`` / ``"12:03:11"`` prefix, or ``""``.
        note: a line that belongs to the one above (what to try for a reason), drawn muted.
        offset: byte offset in the log file of the line that shows the event (where the raw
            log opens for it), or -1 when there is none (or it is no longer in the file).
        landmark: how strongly the raw log should open here when no event is chosen (0: not a
            landmark; higher first: a crash line, the first NaN/inf, a reset of the file or an
            earlier run's start; see :func:`~tui_monitor.ui.lines.raw_log_event`).
    """

    severity: Severity
    symbol: str
    text: str
    where: str = ""
    note: bool = False
    offset: int = -1
    landmark: int = 0


@dataclass(frozen=True, slots=True)
class StatusModel:
    """The status line.

    Attributes:
        file: the log's file name (data, not markup).
        state: run/file state key (``following``, ``waiting``, ``stalled``, ``finished``,
            ``crashed``, ``polling``, ``deleted``, ``unreadable``).
        state_text: the state in the UI language, with any detail (``stalled 4 min``).
        state_severity: colour class of the state.
        step: global step or ``None``.
        total: total steps or ``None``.
        epoch: latest epoch or ``None``.
        total_epochs: planned epochs (for ``1.41/≈2.34``) or ``None``.
        total_epochs_estimated: ``total_epochs`` is extrapolated from the steps (shown ``≈``).
        rate: steps per second or ``None``.
        elapsed_s: seconds since the run started, or ``None``.
        eta_s: seconds to the end, or ``None``.
        verdict: ``healthy`` / ``warning`` / ``critical`` / ``unknown``.
        verdict_text: the verdict word in the UI language, upper case.
        catching_up: ``0..1`` while the first read of a large file is under way, else ``None``.
        provisional: the rows and verdict show only the file's last megabytes (a large
            file's quick first view) while the whole history is being read.
        paused: the display is paused (reading continues).
        run_index / run_count: which run of the log is shown (1-based), of how many.
        writer: the process writing the log (``pid 1234 python train.py``), or ``""``.
        notice: a problem beside the run to say on the line (``notify failed``), or ``""``.
        earlier: the run shown is an earlier run of the log (read-only), not the latest.
    """

    file: str
    state: str = "waiting"
    state_text: str = ""
    state_severity: Severity = "info"
    step: int | None = None
    total: int | None = None
    epoch: float | None = None
    total_epochs: float | None = None
    total_epochs_estimated: bool = False
    rate: float | None = None
    elapsed_s: float | None = None
    eta_s: float | None = None
    verdict: str = "unknown"
    verdict_text: str = ""
    catching_up: float | None = None
    provisional: bool = False
    paused: bool = False
    run_index: int = 1
    run_count: int = 1
    writer: str = ""
    notice: str = ""
    earlier: bool = False


@dataclass(frozen=True, slots=True)
class RunLine:
    """One run of the log in the runs list (``r``).

    Attributes:
        index: the run's number in its log (1-based).
        steps: where it got, already in words (``step 80/80``), or ``""``.
        state: how it ended or what it is doing, in words (``finished``, ``ended without finishing``).
        verdict: ``healthy`` / ``warning`` / ``critical`` / ``no_data``.
        verdict_text: the verdict word in capitals, in the UI language.
        symbol: the verdict's symbol (``✓``, ``!``, ``✗``, ``·``).
        latest: it is the latest run (followed live).
        shown: it is the run on screen.
    """

    index: int
    steps: str
    state: str
    verdict: str
    verdict_text: str
    symbol: str
    latest: bool
    shown: bool


@dataclass(frozen=True, slots=True)
class DashboardModel:
    """Everything one run's screen shows, frozen.

    Attributes:
        version: the monitor version this model was built from.
        status: the status line.
        rows: metric rows in display order (loss, learning_rate, grad_norm, eval_*, epoch,
            then the rest in order of appearance).
        reasons: the verdict's reasons, most severe first.
        events: events, oldest first.
        lang: ``"en"`` or ``"ru"``.
        under: what the chart draws faintly under the current run (``run 1 under it``), or ``""``.
    """

    version: int
    status: StatusModel
    rows: tuple[MetricRowModel, ...] = ()
    reasons: tuple[Line, ...] = ()
    events: tuple[Line, ...] = ()
    lang: str = "en"
    under: str = ""

    def row(self, key: str) -> MetricRowModel | None:
        """Return the row of ``key``, or ``None``."""
        for r in self.rows:
            if r.key == key:
                return r
        return None
