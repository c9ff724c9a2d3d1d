"""Stage 3, state: what is known about each run, fed by the parser's items.

- :mod:`~tui_monitor.core.state.run`: :class:`Run`, one run's state with its one
  ``apply(items)``, and its frozen :class:`RunSnapshot`.
- :mod:`~tui_monitor.core.state.stats`: exact record counts and per-metric statistics.
- :mod:`~tui_monitor.core.state.series`: numeric series (numpy rings + decimated history).
- :mod:`~tui_monitor.core.state.progress`: the one progress fold (step, total, epoch, rate).
"""

from __future__ import annotations

from tui_monitor.core.state.progress import ProgressState
from tui_monitor.core.state.run import Run, RunSnapshot
from tui_monitor.core.state.series import SeriesSet, SeriesSnapshot, SeriesStore
from tui_monitor.core.state.stats import MetricStats, RecordStats, merge_stats

__all__ = [
    "MetricStats",
    "ProgressState",
    "RecordStats",
    "Run",
    "RunSnapshot",
    "SeriesSet",
    "SeriesSnapshot",
    "SeriesStore",
    "merge_stats",
]
