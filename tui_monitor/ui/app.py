"""The Textual app: ``TrainmonApp`` and the ``make_app`` / ``run_app`` / ``run_demo`` entry points.

One :class:`~tui_monitor.ui.dashboard.RunDashboard` per log file (tabs when there are several),
a key bar, the help screen and a "too small" notice. The CLI, the tests and the
screenshot script all build the app through :func:`make_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from textual.app import App, ComposeResult
from textual.content import Content
from textual.events import Resize
from textual.widgets import Static, TabbedContent, TabPane

from tui_monitor.core.analysis import Baseline
from tui_monitor.core.notify import Notifier
from tui_monitor.core.text.inert import inert
from tui_monitor.core.text.words import label, verdict_word
from tui_monitor.ui.dashboard import RunDashboard
from tui_monitor.ui.keys import BINDINGS as KEY_BINDINGS
from tui_monitor.ui.terminal_guard import TerminalGuard, keys_from_terminal
from tui_monitor.ui.widgets.help_screen import HelpScreen
from tui_monitor.ui.widgets.key_bar import KeyBar
from tui_monitor.ui.widgets.raw_log import RawLogScreen
from tui_monitor.ui.widgets.runs_screen import RunsScreen
from tui_monitor.ui.widgets.status_bar import clip_middle

_EVERYWHERE = frozenset({"quit", "interrupt", "help"})
"""Actions of the app's keys that act over any screen (`TrainmonApp.check_action`)."""

MIN_WIDTH = 60
"""Below this many columns the app shows the "too small" notice."""
MIN_HEIGHT = 16
"""Below this many lines the app shows the "too small" notice."""
INLINE_HEIGHT = 24
"""Lines the dashboard takes under the prompt with ``--inline`` (fewer on a shorter terminal)."""

_VERDICT_SYMBOL = {"healthy": "✓", "warning": "!", "critical": "✗", "unknown": "·", "no_data": "·"}


class TrainmonApp(App[int]):
    """Live dashboard of one or more Trainer logs.

    Args:
        paths: log files to follow (one tab each when more than one).
        lang: ``"en"`` or ``"ru"``: status words, verdict, glossary, keys.
        follow: follow the files live (``False``: read once, a fixed state).
        poll: poll interval in seconds (forces polling), or ``None``.
        from_end: start at the end of each file.
        bell: ring the terminal bell when a verdict turns critical.
        clock: wall-clock source (tests pass a fixed one).
        on_exit: called once when the app shuts down (e.g. to stop a demo writer).
        notifier: sends ``--notify``/``--notify-cmd`` messages on the verdict's changes (each
            dashboard hands it its snapshots' changes), or None.
        baseline: another log's latest run every file's latest run is compared with
            (``--baseline``), or ``None``.
    """

    CSS_PATH = "trainmon.tcss"
    TITLE = "trainmon"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS = list(KEY_BINDINGS)  # described once, in ui/keys.py

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        lang: str = "en",
        follow: bool = True,
        poll: float | None = None,
        from_end: bool = False,
        bell: bool = True,
        clock: Callable[[], float] = time.time,
        on_exit: Callable[[], None] | None = None,
        notifier: Notifier | None = None,
        baseline: Baseline | None = None,
    ) -> None:
        super().__init__()
        self.baseline = baseline
        if not paths:
            raise ValueError("at least one path is needed")
        self.paths = [str(p) for p in paths]
        self.lang = "ru" if lang == "ru" else "en"
        self.follow = follow
        self.poll = poll
        self.from_end = from_end
        self.bell_on = bell
        self.clock = clock
        self._on_exit = on_exit
        self.notifier = notifier
        self._verdicts: dict[int, str] = {}
        self._running_loop: asyncio.AbstractEventLoop | None = None

    def _new_dashboard(self, path: str, i: int) -> RunDashboard:
        return RunDashboard(
            path,
            lang=self.lang,
            follow=self.follow,
            poll=self.poll,
            from_end=self.from_end,
            clock=self.clock,
            bell=self.bell_on,
            baseline=self.baseline,
            id=f"run-{i}",
            notifier=self.notifier,
            index=i,
        )

    def compose(self) -> ComposeResult:
        """One dashboard (or one tab per file), the key bar and the hidden size notice."""
        if len(self.paths) == 1:
            yield self._new_dashboard(self.paths[0], 0)
        else:
            with TabbedContent(id="tabs", initial="tab-0"):
                for i, p in enumerate(self.paths):
                    with TabPane(self._tab_title(i, "unknown"), id=f"tab-{i}"):
                        yield self._new_dashboard(p, i)
        yield KeyBar(self.lang, tabs=len(self.paths) > 1, id="keys")
        yield Static(id="too-small")

    def _tab_title(self, i: int, verdict: str) -> Content:
        """``1 train.log ✓ HEALTHY``: the number key, the file and its verdict; the file
        name is shortened in its middle so that every tab fits the width."""
        sev = {"healthy": "$text-success", "warning": "bold $text-warning", "critical": "bold $text-error"}
        badge = f"{_VERDICT_SYMBOL.get(verdict, '·')} {verdict_word(verdict, self.lang)}"
        width = self.size.width or 120
        name_w = max(width // len(self.paths) - 2 - len(f"{i + 1} ") - 1 - len(badge) - 1, 10)
        return Content.assemble(
            (f"{i + 1} ", "dim"),
            clip_middle(inert(Path(self.paths[i]).name), name_w),
            " ",
            (badge, sev.get(verdict, "dim")),
        )

    def _update_tab_titles(self) -> None:
        if len(self.paths) == 1:
            return
        with contextlib.suppress(Exception):  # tabs not mounted yet
            tabs = self.query_one(TabbedContent)
            for i in range(len(self.paths)):
                tabs.get_tab(f"tab-{i}").label = self._tab_title(i, self._verdicts.get(i, "unknown"))

    def on_run_dashboard_verdict_changed(self, event: RunDashboard.VerdictChanged) -> None:
        """Show a run's new verdict in its tab title, so trouble shows from any tab."""
        if len(self.paths) == 1 or event.dashboard.id is None:
            return
        self._verdicts[int(event.dashboard.id.removeprefix("run-"))] = event.verdict
        self._update_tab_titles()

    def on_mount(self) -> None:
        """Apply the size classes for the starting terminal size; note the loop for
        :meth:`exit_soon` (signals and a terminal that went away: ui/terminal_guard.py)."""
        self._apply_size(self.size.width, self.size.height)
        self._running_loop = asyncio.get_running_loop()

    def exit_soon(self, code: int) -> None:
        """Ask the app, from any thread, to leave its loop with status ``code``.

        Textual's normal exit restores the terminal (normal screen, cursor, no mouse
        reporting) and cancels the monitor workers. Nothing happens while the loop is blocked
        (a screen writer stuck on a terminal nobody reads): the terminal guard then ends the
        process itself.
        """
        loop = self._running_loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: self.exit(code, return_code=code))

    def action_interrupt(self) -> None:
        """Ctrl-C: quit now with status 130, as a shell expects."""
        self.exit(130, return_code=130)

    def on_resize(self, event: Resize) -> None:
        """Re-apply the size classes; fit the tab titles."""
        self._apply_size(event.size.width, event.size.height)
        self._update_tab_titles()

    def _apply_size(self, width: int, height: int) -> None:
        if self.is_inline:
            height = min(height, INLINE_HEIGHT)
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.screen.set_class(small, "-too-small")
        if small:
            text = label("too_small", self.lang).format(w=width, h=height, mw=MIN_WIDTH, mh=MIN_HEIGHT)
            self.query_one("#too-small", Static).update(Content(text))
        for rv in self.query(RunDashboard):
            rv.set_layout_classes(width, height)

    def on_unmount(self) -> None:
        """Run the exit hook once (the monitors stop with their workers)."""
        if self._on_exit is not None:
            hook, self._on_exit = self._on_exit, None
            hook()
        if self.notifier is not None:
            self.notifier.close(wait_s=2.0)

    # -- actions ------------------------------------------------------------------------------
    @property
    def dashboard(self) -> RunDashboard:
        """The dashboard on screen (the active tab's when there are several)."""
        if len(self.paths) == 1:
            return self.query_one(RunDashboard)
        tabs = self.query_one(TabbedContent)
        pane = tabs.active_pane
        assert pane is not None
        return pane.query_one(RunDashboard)

    def is_active_dashboard(self, rv: RunDashboard) -> bool:
        """Whether ``rv`` is the dashboard on screen (the only one, or the active tab's)."""
        if len(self.paths) == 1:
            return True
        return self.query_one(TabbedContent).active == f"tab-{(rv.id or 'run-0').removeprefix('run-')}"

    def action_tab(self, delta: int) -> None:
        """Show the previous (``-1``) or next (``+1``) file's tab."""
        if len(self.paths) > 1:
            tabs = self.query_one(TabbedContent)
            i = int((tabs.active or "tab-0").removeprefix("tab-"))
            tabs.active = f"tab-{(i + delta) % len(self.paths)}"
            self.call_after_refresh(self._focus_active_dashboard)

    def action_goto_tab(self, n: int) -> None:
        """Show the ``n``-th file's tab (1-based; ignored past the last file)."""
        if 1 <= n <= len(self.paths) and len(self.paths) > 1:
            self.query_one(TabbedContent).active = f"tab-{n - 1}"
            self.call_after_refresh(self._focus_active_dashboard)

    def on_tabbed_content_tab_activated(self) -> None:
        """A tab was clicked or switched to: its focused metric takes the keyboard."""
        self.call_after_refresh(self._focus_active_dashboard)

    def _focus_active_dashboard(self) -> None:
        rv = self.dashboard
        if rv.focused_key is not None:
            rv.focus_key(rv.focused_key)

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen(self.lang, tabs=len(self.paths) > 1))

    def action_glossary(self) -> None:
        """Open or close the glossary of the focused metric."""
        rv = self.dashboard
        rv.glossary_open = not rv.glossary_open

    def action_verdict_page(self, delta: int) -> None:
        """Scroll the verdict a page down (``+1``, wrapping to the top) or up (``-1``)."""
        self.dashboard.scroll_verdict(delta)

    def action_glossary_page(self, delta: int) -> None:
        """Scroll the glossary a page down (``+1``) or up (``-1``)."""
        self.dashboard.scroll_glossary(delta)

    def action_raw_log(self) -> None:
        """Open the raw log around the focused event (the one chosen with ``e``/``E``, else the
        crash line, the first NaN/inf, a reset), its line marked; else at the end, following."""
        rv = self.dashboard
        event = rv.focused_event()
        offset = event.offset if event is not None and event.offset >= 0 else None
        text = event.text if event is not None and offset is not None else ""
        self.push_screen(RawLogScreen(rv.path, self.lang, offset=offset, follow=self.follow, event=text))

    def action_event(self, delta: int) -> None:
        """Choose the next (``+1``) or previous (``-1``) event: the raw log opens at it."""
        self.dashboard.move_event(delta)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The dashboard's keys act only while the dashboard is on screen: over the raw log, the
        help or the runs list a key is theirs (the arrow keys are priority bindings here, and
        would move the metric behind instead of scrolling the lines in front). Quitting and the
        help work everywhere; the runs list takes the arrows through `action_move`."""
        if action in _EVERYWHERE or len(self.screen_stack) <= 1:
            return True
        return action == "move" and isinstance(self.screen, RunsScreen)

    def action_move(self, delta: int) -> None:
        """Focus the previous or next metric; in the runs list, move through the runs (the
        arrow keys are priority bindings of the app, so the list gets them from here)."""
        if isinstance(self.screen, RunsScreen):
            self.screen.move(delta)
            return
        self.dashboard.move_focus(delta)

    def action_log_scale(self) -> None:
        """Toggle the big chart's log y-axis."""
        rv = self.dashboard
        rv.log_scale = not rv.log_scale

    def action_smoothing(self) -> None:
        """Cycle the smoothing: off, 0.6, 0.9, 0.99."""
        self.dashboard.cycle_smoothing()

    def action_window(self) -> None:
        """Toggle whole run / recent window."""
        rv = self.dashboard
        rv.whole = not rv.whole

    def action_runs(self) -> None:
        """List the log's runs; the one chosen is shown (an earlier one read-only, the latest live)."""
        rv = self.dashboard
        if rv.snap is None:
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                rv.view_run = None if index >= len(rv.snap.runs if rv.snap is not None else ()) else index

        self.push_screen(RunsScreen(rv.runs_list(), self.lang), chosen)

    def action_pause(self) -> None:
        """Freeze or resume the display (reading continues)."""
        rv = self.dashboard
        rv.paused = not rv.paused


def make_app(
    paths: Sequence[str | Path],
    *,
    lang: str = "en",
    follow: bool = True,
    poll: float | None = None,
    from_end: bool = False,
    bell: bool = True,
    clock: Callable[[], float] = time.time,
    on_exit: Callable[[], None] | None = None,
    notifier: Notifier | None = None,
    baseline: Baseline | None = None,
) -> TrainmonApp:
    """Build the app (the CLI, the tests and the screenshot script all call this).

    Args:
        paths: one or more log files (they need not exist yet: they are waited for).
        lang: ``"en"`` or ``"ru"``.
        follow: follow live (``False`` = read once, a fixed state for tests/screenshots).
        poll: poll interval in seconds (forces polling), or ``None`` for inotify.
        from_end: skip the existing content.
        bell: bell when a verdict turns critical.
        clock: wall-clock source.
        on_exit: hook run when the app shuts down.
        notifier: ``--notify``/``--notify-cmd`` messages, or None.
        baseline: another log's latest run to compare with (``--baseline``; ``core.pipeline.read_baseline``).

    Returns:
        A :class:`TrainmonApp`, not yet running.
    """
    return TrainmonApp(
        paths,
        lang=lang,
        follow=follow,
        poll=poll,
        from_end=from_end,
        bell=bell,
        clock=clock,
        on_exit=on_exit,
        notifier=notifier,
        baseline=baseline,
    )


def run_app(
    paths: Sequence[str | Path],
    *,
    lang: str = "en",
    mouse: bool = True,
    bell: bool = True,
    poll: float | None = None,
    from_end: bool = False,
    inline: bool = False,
    on_exit: Callable[[], None] | None = None,
    notifier: Notifier | None = None,
    baseline: Baseline | None = None,
) -> int:
    """Run the app in the terminal until the user quits; return the exit status.

    0 when the user quits; Ctrl-C (the key or SIGINT) 130, SIGTERM 143, SIGHUP 129, and 129
    when the terminal goes away without a signal (a dropped SSH connection whose shell traps
    HUP). Each ends Textual's loop, so the terminal is restored; the monitor threads stop with
    their workers. When the loop cannot end (its screen writer blocked on a terminal nobody
    reads, or dead), the process is ended within a second or two all the same: see
    :class:`~tui_monitor.ui.terminal_guard.TerminalGuard`.

    Args:
        paths: log files to follow.
        lang: ``"en"`` or ``"ru"``.
        mouse: ``False`` turns mouse reporting off (``--no-mouse``).
        bell: ``False`` silences the critical bell (``--no-bell``).
        poll: poll interval (``--poll``) or ``None``.
        from_end: ``--from-end``.
        inline: run inline under the prompt (``--inline``) instead of the alternate screen.
        on_exit: hook run when the app shuts down.
        notifier: ``--notify``/``--notify-cmd`` messages, or None.
        baseline: another log's latest run to compare with (``--baseline``).
    """
    hook = _once(on_exit) if on_exit is not None else None
    app = make_app(
        paths,
        lang=lang,
        bell=bell,
        poll=poll,
        from_end=from_end,
        on_exit=hook,
        notifier=notifier,
        baseline=baseline,
    )
    keys_from_terminal()
    guard = TerminalGuard(app.exit_soon, on_exit=hook)
    guard.start()
    try:
        result = app.run(mouse=mouse, inline=inline)
    finally:
        guard.stop()
    return int(app.return_code or result or 0)


def _once(hook: Callable[[], None]) -> Callable[[], None]:
    """``hook`` run at most once, whichever thread calls first (the app's unmount or the
    terminal guard's forced exit); a second caller does not wait for the first."""
    lock = threading.Lock()

    def run() -> None:
        if lock.acquire(blocking=False):
            hook()

    return run


def run_demo(
    name: str = "healthy",
    *,
    speed: float = 1.0,
    lang: str = "en",
    mouse: bool = True,
    bell: bool = True,
    inline: bool = False,
    notifier: Notifier | None = None,
) -> int:
    """``trainmon demo``: replay a bundled log into a temporary file and tail it.

    Args:
        name: ``"healthy"`` (a real transformers 5.x run) or ``"exploding"`` (gradients
            explode into NaN); see :data:`tui_monitor.core.demo.DEMOS`.
        speed: pace factor (``2`` = twice as fast).
        lang / mouse / bell / inline / notifier: as for :func:`run_app`.

    Returns:
        The exit status, as :func:`run_app`. The temporary directory is removed on exit.
    """
    import shutil

    from tui_monitor.core.demo import start_demo

    path, writer = start_demo(name, speed=speed)

    def stop() -> None:
        writer.stop()
        writer.join(2)
        shutil.rmtree(path.parent, ignore_errors=True)

    try:
        return run_app([path], lang=lang, mouse=mouse, bell=bell, inline=inline, on_exit=stop, notifier=notifier)
    finally:
        stop()
