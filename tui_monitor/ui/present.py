"""Present a monitor snapshot as a :class:`~tui_monitor.ui.model.DashboardModel`.

The monitor's analysis (``snapshot.health``) decides every verdict and core computes every
fact about the run (:mod:`tui_monitor.core.analysis.series`); this module only chooses
which points to draw (whole run or recent window, smoothed or not), orders the rows and
puts the findings into words of the UI language. Each kind of row has its presenter in
:data:`PRESENTERS`. No textual here.

Everything read from the snapshot is read in :func:`~tui_monitor.ui.facts.read_run`: when
the snapshot changes shape, that is the one place to follow it. The rows are presented in
:mod:`~tui_monitor.ui.rows`, the status line, reasons and events in :mod:`~tui_monitor.ui.lines`.
"""

from __future__ import annotations

import time

from tui_monitor.core.analysis import Health
from tui_monitor.core.monitor import MonitorSnapshot
from tui_monitor.core.text.words import label
from tui_monitor.ui.facts import DisplayOptions, read_run
from tui_monitor.ui.lines import present_events, present_reasons, present_status
from tui_monitor.ui.model import DashboardModel
from tui_monitor.ui.rows import PRESENTERS, SMOOTHING_WEIGHTS, present_rows

__all__ = ["PRESENTERS", "SMOOTHING_WEIGHTS", "DisplayOptions", "build_dashboard"]


def build_dashboard(
    snap: MonitorSnapshot,
    opts: DisplayOptions,
    *,
    now: float | None = None,
    index: int | None = None,
    health: Health | None = None,
) -> DashboardModel:
    """Build the dashboard for one run.

    Args:
        snap: the monitor's snapshot.
        opts: the user's display options.
        now: wall-clock seconds for "time since" texts (default ``time.time()``).
        index: the run to show (1-based), ``None`` for the latest.
        health: that run's verdict when it is an earlier one (else judged here through
            ``MonitorSnapshot.judge``).

    Returns:
        The frozen :class:`DashboardModel`.
    """
    lang = opts.lang
    now = time.time() if now is None else now
    run = read_run(snap, index, health)
    rows = present_rows(run, opts)
    status = present_status(run, opts, now)
    reasons = present_reasons(run.health, lang)
    events = present_events(run, run.health, opts)
    under = ""
    if run.baseline_file is not None:
        under = label("under_file", lang).format(file=run.baseline_file)
    elif run.baseline_run is not None:
        under = label("under_run", lang).format(n=run.baseline_run)
    return DashboardModel(run.version, status, tuple(rows), reasons, events, lang, under)
