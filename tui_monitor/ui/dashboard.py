"""One followed log on screen: its monitor thread, the pulled refresh, and its panes.

A :class:`RunDashboard` owns one :class:`~tui_monitor.core.monitor.Monitor`. The monitor runs
in a thread worker (``monitor.run(worker.cancelled_event)``: wake-ups → tail → parse →
store); a UI timer at :data:`REFRESH_S` reads ``monitor.version`` and, only when it
changed (or every :data:`CLOCK_REFRESH_S` for time-based states such as *stalled*),
takes a snapshot, builds a :class:`~tui_monitor.ui.model.DashboardModel` and applies it
inside ``app.batch_update()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import DescendantFocus
from textual.message import Message
from textual.reactive import reactive
from textual.worker import get_current_worker

from tui_monitor.core.analysis import Baseline, Health
from tui_monitor.core.changes import ChangeDetector
from tui_monitor.core.monitor import Monitor, MonitorSnapshot
from tui_monitor.core.notify import Notifier
from tui_monitor.core.text.inert import inert
from tui_monitor.core.text.words import label
from tui_monitor.ui.chart_model import EVAL_MARK, UNDER_MARK
from tui_monitor.ui.lines import present_runs
from tui_monitor.ui.model import DashboardModel, Line, MetricRowModel, RunLine
from tui_monitor.ui.present import SMOOTHING_WEIGHTS, DisplayOptions, build_dashboard
from tui_monitor.ui.widgets.big_chart import BigChart
from tui_monitor.ui.widgets.glossary_pane import GlossaryPane
from tui_monitor.ui.widgets.lines_pane import EventsPane, VerdictPane
from tui_monitor.ui.widgets.metric_row import WORD_W, MetricRowWidget
from tui_monitor.ui.widgets.status_bar import StatusBar

REFRESH_S = 0.5
"""UI pull period in seconds (≤ 2 Hz, DESIGN.md "UI refresh is pulled")."""

CLOCK_REFRESH_S = 5.0
"""Re-snapshot at least this often even without new data, so *stalled* and ETA move."""


class MetricList(VerticalScroll, can_focus=False):
    """The scrolling column of metric rows (the rows take the focus, not the list)."""


NAME_MIN_WIDE = 18
"""Columns a metric name always keeps in compact rows on a screen ≥ 100 wide."""
NAME_MIN_NARROW = 13
"""... and on a narrower screen."""
SPARK_MIN = 10
"""Columns the compact sparkline keeps before the name columns grow into it."""


class RunDashboard(Vertical):
    """The dashboard of one log file.

    Args:
        path: the log to follow.
        lang: ``"en"`` or ``"ru"``.
        follow: run the monitor in a thread and refresh live; ``False`` reads the file
            once (tests, screenshots: a fixed state, no clock).
        poll: poll interval (forces polling) or ``None``.
        from_end: skip what the file already holds.
        clock: wall-clock source for stall detection and event times (``time.time``).
        bell: ring the terminal bell when the verdict turns critical.
        notifier: told the changes of every snapshot taken (``--notify``), or None.
        index: this log's index among the followed files (for the notifier).
        baseline: another log's latest run the latest run is compared with (``--baseline``).
    """

    paused: reactive[bool] = reactive(False)
    """Freeze the display; the monitor keeps reading."""
    log_scale: reactive[bool] = reactive(False)
    """Log-scale y-axis in the big chart."""
    smoothing: reactive[float] = reactive(0.6)
    """EMA weight of the smoothed overlay (0 = off)."""
    whole: reactive[bool] = reactive(True)
    """Draw the whole run (decimated) rather than the recent window."""
    glossary_open: reactive[bool] = reactive(False)
    """The glossary pane is shown."""
    view_run: reactive[int | None] = reactive(None)
    """The run shown (1-based) when it is an earlier one (read-only); ``None``: the latest, live."""

    class VerdictChanged(Message):
        """The run's verdict changed (the app shows it in the tab title).

        Attributes:
            dashboard: the dashboard whose verdict changed.
            verdict: ``healthy`` / ``warning`` / ``critical`` / ``unknown``.
        """

        def __init__(self, dashboard: RunDashboard, verdict: str) -> None:
            super().__init__()
            self.dashboard = dashboard
            self.verdict = verdict

    def __init__(
        self,
        path: str,
        *,
        lang: str = "en",
        follow: bool = True,
        poll: float | None = None,
        from_end: bool = False,
        clock: Callable[[], float] = time.time,
        bell: bool = True,
        baseline: Baseline | None = None,
        id: str | None = None,
        notifier: Notifier | None = None,
        index: int = 0,
    ) -> None:
        super().__init__(id=id)
        self.path = path
        self.lang = lang
        self.follow = follow
        self.clock = clock
        self.bell_on = bell
        self.monitor = Monitor(path, poll=poll, from_end=from_end, baseline=baseline)
        self._judged: dict[int, tuple[int, Health]] = {}
        self.model: DashboardModel | None = None
        self.snap: MonitorSnapshot | None = None
        self.focused_key: str | None = None
        self._moving_to: str | None = None
        """The row ↑/↓ last gave the focus to, until it has it (focus moves after the key
        is handled: a second key arriving before that moves on from here, not again from
        the old row, so every key of a quick burst or a held key counts)."""
        self._rows: dict[str, MetricRowWidget] = {}
        self._seen_version = -1
        self._last_snap_time = 0.0
        self._last_verdict = "unknown"
        self._verdict_posted: str | None = None
        self.notifier = notifier
        self.index = index
        self._changes = ChangeDetector()
        self._notice = ""
        """A notifier's failure, said on the status line (once it happened, it stays)."""

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        """Status line, metric rows beside verdict and events, the big chart (or the glossary) below."""
        yield StatusBar(id="status")
        with Horizontal(id="body"):
            yield MetricList(id="metrics")
            with Vertical(id="side"):
                yield VerdictPane(id="verdict")
                yield EventsPane(id="events")
        yield BigChart(id="chart")
        yield GlossaryPane(id="glossary")

    def on_mount(self) -> None:
        """Label the panes, start the monitor (or read once) and the pull timer."""
        verdict = self.query_one(VerdictPane)
        verdict.title_text, verdict.lang = label("verdict", self.lang), self.lang
        verdict.border_title = Content(verdict.title_text)
        self.query_one("#events").border_title = Content(label("events", self.lang))
        self.query_one("#metrics").border_title = Content(label("metrics", self.lang))
        if self.follow:
            self._follow()
            self.set_interval(REFRESH_S, self.pull, name="trainmon-pull")
        else:
            self.monitor.feed_file_once()
        self.pull(force=True)

    @work(thread=True, exclusive=True, group="monitor", exit_on_error=False)
    def _follow(self) -> None:
        """Thread worker: the monitor's blocking loop, stopped by the worker's cancel event."""
        self.monitor.run(get_current_worker().cancelled_event)

    def on_unmount(self) -> None:
        """Stop the monitor thread (watchfiles returns when the event is set)."""
        self.workers.cancel_group(self, "monitor")

    # -- refresh ------------------------------------------------------------------------------
    def options(self) -> DisplayOptions:
        """The current display options."""
        return DisplayOptions(self.lang, self.smoothing, self.whole, self.paused, times=self.follow)

    def pull(self, force: bool = False) -> None:
        """Timer tick: snapshot and redraw only when the monitor changed (or the clock matters).

        While paused the display stays, but a notifier is still told (the run goes on)."""
        if self.paused and not force and self.notifier is None:
            return
        if self.follow:
            self.monitor.check_liveness()
        if self.notifier is not None:
            self._say_notify_failures()  # it fails on its own thread, whenever: looked at every tick
        now = self.clock()
        version = self.monitor.version
        recent = time.monotonic() - self._last_snap_time < CLOCK_REFRESH_S
        if not force and version == self._seen_version and (recent or not self._clock_matters()):
            return
        self._seen_version = version
        self._last_snap_time = time.monotonic()
        snap = self.monitor.snapshot(now=now)
        if self.notifier is not None and self.follow:
            self._notify(snap)
        if self.paused and not force:
            return
        self.snap = snap
        self.redraw()

    def _notify(self, snap: MonitorSnapshot) -> None:
        """Hand the snapshot's changes to the notifier (it sends from its own thread)."""
        assert self.notifier is not None
        self.notifier.observe(self.index, self._changes.update(snap), snap)

    def _say_notify_failures(self) -> None:
        """A sender's first failure, said once as a toast, and from then on on the status line."""
        assert self.notifier is not None
        failures = self.notifier.take_failures()
        for failure in failures:
            self._notice = label("notify_failed", self.lang)
            self.app.notify(inert(failure), title=self._notice, severity="error", markup=False)
        if failures and not self.paused:
            self.redraw()

    def _clock_matters(self) -> bool:
        """Whether time alone can change the screen: a run still going can become
        *stalled* and its ETA moves; a finished or crashed run's screen is final."""
        snap = self.snap
        if snap is None or snap.health is None:
            return True
        return snap.health.state.word not in ("finished", "crashed", "ended")

    def judged(self, index: int) -> Health:
        """The verdict on run ``index`` (1-based) of the last snapshot; an earlier run's is kept
        while the run does not change (it has ended), so showing it costs one analysis."""
        snap = self.snap
        assert snap is not None
        if index >= len(snap.runs) and snap.health is not None:
            return snap.health
        version = snap.runs[index - 1].version
        kept = self._judged.get(index)
        if kept is None or kept[0] != version:
            kept = self._judged[index] = (version, snap.judge(index))
        return kept[1]

    def shown_run(self) -> int:
        """The index (1-based) of the run on screen."""
        count = len(self.snap.runs) if self.snap is not None else 1
        return self.view_run if self.view_run is not None and 1 <= self.view_run < count else count

    def runs_list(self) -> list[RunLine]:
        """The log's runs for the runs list (``r``)."""
        count = len(self.snap.runs) if self.snap is not None else 0
        return present_runs([self.judged(i) for i in range(1, count + 1)], self.shown_run(), self.lang)

    def redraw(self) -> None:
        """Rebuild the dashboard model from the last snapshot with the current options and apply it."""
        if self.snap is None:
            return
        index = self.shown_run()
        earlier = index < len(self.snap.runs)
        model = build_dashboard(
            self.snap,
            self.options(),
            now=self.clock(),
            index=index if earlier else None,
            health=self.judged(index) if earlier else None,
        )
        if self._notice:
            model = replace(model, status=replace(model.status, notice=self._notice))
        with self.app.batch_update():
            self.apply(model)
        if earlier:
            return  # the bell and the tab title follow the latest run, not the one looked at
        if model.status.verdict == "critical" and self._last_verdict != "critical" and self.bell_on:
            self.app.bell()
        self._last_verdict = model.status.verdict
        if model.status.verdict != self._verdict_posted:
            self._verdict_posted = model.status.verdict
            self.post_message(self.VerdictChanged(self, model.status.verdict))

    def apply(self, model: DashboardModel) -> None:
        """Draw ``model`` into the panes (call inside ``batch_update``)."""
        self.model = model
        narrow = self.has_class("narrow")
        self.query_one(StatusBar).show(model.status, self.lang, narrow=narrow)
        self._sync_rows(model.rows)
        self._fit_columns(model.rows)
        self.query_one(VerdictPane).show(model.reasons, empty=label("no_reasons", self.lang))
        self._draw_events()
        self._draw_focus()

    def _sync_rows(self, rows: tuple[MetricRowModel, ...]) -> None:
        """Create, update, reorder or remove row widgets to match ``rows``."""
        box = self.query_one(MetricList)
        keys = [r.key for r in rows]
        for key in list(self._rows):
            if key not in keys:
                self._rows.pop(key).remove()
        compact = self.has_class("compact")
        order = [w for w in box.children if isinstance(w, MetricRowWidget)]
        for i, row in enumerate(rows):
            w = self._rows.get(row.key)
            if w is None:
                w = MetricRowWidget(row, self.lang)
                w.compact = compact
                self._rows[row.key] = w
                before = order[i] if i < len(order) else None
                if before is not None:
                    box.mount(w, before=before)
                    order.insert(i, w)
                else:
                    box.mount(w)
                    order.append(w)
            else:
                w.set_row(row)
        if self.focused_key is None and rows:
            self.focused_key = rows[0].key
            # Only the dashboard on screen takes the focus: a hidden tab's row taking it
            # would switch the tabs to that file.
            active = getattr(self.app, "is_active_dashboard", lambda _rv: True)(self)
            if active and (self.app.focused is None or not isinstance(self.app.focused, MetricRowWidget)):
                self.call_after_refresh(self.focus_key, rows[0].key)

    def on_resize(self) -> None:
        """The row columns follow the width (after the new layout)."""
        if self.model is not None:
            self.call_after_refresh(self._fit_columns, self.model.rows)

    def _fit_columns(self, rows: tuple[MetricRowModel, ...]) -> None:
        """Share the compact name and word columns between the rows: as wide as the
        longest name needs, taken from the sparkline first, never below
        :data:`NAME_MIN_WIDE` columns on a screen ≥ 100 wide."""
        if not rows:
            return
        screen_w = self.app.size.width
        box = self.query_one(MetricList)
        row_w = box.scrollable_content_region.width - 1  # a row's padding
        if row_w <= 10:
            row_w = screen_w - 3 if self.has_class("narrow") else screen_w - 52 - 5
        longest_word = max(len(f"{r.symbol} {r.word}".strip()) for r in rows)
        word_w = max(min(longest_word, WORD_W + 3), 8)
        floor = NAME_MIN_WIDE if screen_w >= 100 else NAME_MIN_NARROW
        room = row_w - 2 - 10 - (word_w + 1) - SPARK_MIN
        longest = max(len(r.key) for r in rows)
        name_w = max(min(longest, max(room, floor)), 4)
        for w in self._rows.values():
            w.set_columns(name_w, word_w)

    def focus_key(self, key: str) -> None:
        """Give the focus to the row of ``key`` (if it exists)."""
        w = self._rows.get(key)
        if w is not None and w.is_attached:
            w.focus()

    def focused_event(self) -> Line | None:
        """The event the raw log opens at (see :meth:`EventsPane.focused`), or ``None``."""
        return self.query_one(EventsPane).focused(self.model.events if self.model is not None else ())

    def move_event(self, delta: int) -> None:
        """Choose the next (``+1``: down the list, older) or previous (``-1``) event."""
        if self.model is not None:
            self.query_one(EventsPane).move(self.model.events, delta)
            self._draw_events()

    def _draw_events(self) -> None:
        if self.model is not None:
            self.query_one(EventsPane).show(self.model.events, empty=label("no_events", self.lang))

    def scroll_verdict(self, delta: int) -> None:
        """Scroll the verdict's reasons a page down (``+1``; past the end, back to the top) or up
        (``-1``): its hidden lines ("+N more ↓") are reachable without a mouse."""
        pane = self.query_one(VerdictPane)
        if delta > 0 and pane.scroll_y >= pane.max_scroll_y:
            pane.scroll_home(animate=False)
        elif delta > 0:
            pane.scroll_page_down(animate=False)
        else:
            pane.scroll_page_up(animate=False)

    def scroll_glossary(self, delta: int) -> None:
        """Scroll the glossary a page down (``+1``) or up (``-1``), opening it first if closed."""
        if not self.glossary_open:
            self.glossary_open = True
            return
        pane = self.query_one(GlossaryPane)
        if delta > 0:
            pane.scroll_page_down(animate=False)
        else:
            pane.scroll_page_up(animate=False)

    def move_focus(self, delta: int) -> None:
        """Focus the previous (``-1``) or next (``+1``) metric row."""
        if self.model is None or not self.model.rows:
            return
        keys = [r.key for r in self.model.rows]
        cur = self._moving_to if self._moving_to in keys else self.focused_key
        i = keys.index(cur) if cur in keys else 0
        self._moving_to = keys[(i + delta) % len(keys)]
        self.focus_key(self._moving_to)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        """A row got the focus: the chart and the glossary follow it."""
        if not getattr(self.app, "is_active_dashboard", lambda _rv: True)(self):
            return  # a tab being hidden hands its focus on: not the user's choice
        for key, w in self._rows.items():
            if w is event.widget:
                self.focused_key = key
                if key == self._moving_to:
                    self._moving_to = None
                self._draw_focus()
                break

    def _draw_focus(self) -> None:
        """Redraw the big chart and the glossary for the focused metric; mark its row."""
        model = self.model
        row = model.row(self.focused_key) if model is not None and self.focused_key else None
        for key, w in self._rows.items():
            w.marked = key == self.focused_key
        lang = self.lang
        opts: list[str] = []
        if row is not None:
            if row.smoothed is not None:
                opts.append(f"{label('raw', lang)} + {label('smoothed', lang)} {self.smoothing:g}")
            else:  # smoothing off, or a series that is not smoothed (LR, eval, few points)
                opts.append(label("raw_only", lang))
            opts.append(label("log_y" if self.log_scale else "linear_y", lang))
            opts.append(label("whole" if self.whole else "recent", lang))
            opts.append(label("steps" if row.x_is_step else "records", lang))
            if row.under_x is not None and model is not None and model.under:
                opts.append(f"{model.under} {UNDER_MARK * 3}")  # its mark is its legend
            if row.marks_label:
                opts.append(f"{EVAL_MARK} {row.marks_label}")
        name = inert(row.key) if row is not None else ""
        title = Content.assemble((name, "bold"), ("  " + " · ".join(opts), "$text-muted"))
        sub = Content("")
        if row is not None and row.nonfinite:
            sub = Content.assemble((f"× {row.nonfinite} NaN/inf", "bold $text-error"))
        self.query_one(BigChart).show(
            row, log=self.log_scale, title=title, subtitle=sub, message=label("no_metrics", lang), lang=lang
        )
        if self.glossary_open:
            self.query_one(GlossaryPane).explain(self.focused_key or "loss", lang, label("glossary", lang))

    # -- options ------------------------------------------------------------------------------
    def watch_glossary_open(self, open_: bool) -> None:
        """Show or hide the glossary pane."""
        self.set_class(open_, "-glossary")
        if open_:
            self.query_one(GlossaryPane).explain(self.focused_key or "loss", self.lang, label("glossary", self.lang))

    def _options_changed(self) -> None:
        if self.is_mounted:
            self.redraw()

    def watch_log_scale(self) -> None:
        """Redraw with the new y scale."""
        self._options_changed()

    def watch_smoothing(self) -> None:
        """Redraw with the new smoothing."""
        self._options_changed()

    def watch_view_run(self) -> None:
        """Show the chosen run (an earlier run's rows, verdict and events, or the latest)."""
        self._options_changed()

    def watch_whole(self) -> None:
        """Redraw with the new window."""
        self._options_changed()

    def watch_paused(self, paused: bool) -> None:
        """Redraw the status line (paused shows there); resume pulls at once."""
        if not self.is_mounted:
            return
        if paused:
            self.redraw()
        else:
            self.pull(force=True)

    def cycle_smoothing(self) -> None:
        """Next smoothing weight: off → 0.6 → 0.9 → 0.99 → off."""
        ws = SMOOTHING_WEIGHTS
        i = ws.index(self.smoothing) if self.smoothing in ws else 0
        self.smoothing = ws[(i + 1) % len(ws)]

    def set_layout_classes(self, width: int, height: int) -> None:
        """``narrow`` below 110 columns, ``compact`` rows when narrow or under 32 lines,
        ``short`` under 28 lines (the verdict gets fewer lines and says how many more)."""
        narrow = width < 110
        compact = narrow or height < 32
        changed = narrow != self.has_class("narrow") or compact != self.has_class("compact")
        self.set_class(narrow, "narrow")
        self.set_class(compact, "compact")
        self.set_class(height < 28, "short")
        if changed:
            for w in self._rows.values():
                w.compact = compact
            if self.model is not None:
                self.redraw()


__all__ = ["CLOCK_REFRESH_S", "REFRESH_S", "MetricList", "RunDashboard"]
