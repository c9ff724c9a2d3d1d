"""The status line: file, run state, step/total, epoch, speed, elapsed, ETA and the verdict."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from tui_monitor.core.text.fmt import fmt_duration, fmt_num
from tui_monitor.core.text.inert import inert
from tui_monitor.core.text.words import label, verdict_word, word
from tui_monitor.ui.model import StatusModel
from tui_monitor.ui.widgets._style import MUTED, SEVERITY_STYLE

_VERDICT_SEVERITY = {"healthy": "ok", "warning": "warning", "critical": "critical", "unknown": "info"}
_VERDICT_SYMBOL = {"healthy": "✓", "warning": "!", "critical": "✗", "unknown": "·"}


def clip_middle(text: str, width: int) -> str:
    """Shorten ``text`` to ``width`` by cutting its middle (keeps the run name and extension)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


_PID_PRIO = 7
"""Priority of the writer's shortened ``pid N`` (the whole command line has 1)."""
PID_COLUMNS = 100
"""From this many columns the top line keeps the writer's ``pid N`` while a run goes on."""


def status_content(s: StatusModel, lang: str, *, narrow: bool, width: int = 200, keep_pid: bool = False) -> Content:
    """Build the left part of the status line (everything but the verdict badge).

    Pieces are dropped, least useful first (the app name and the writer's command line,
    elapsed time, speed, the step percentage, the epoch total, the epoch, from 100 columns
    the writer's pid), until the line fits ``width``: a piece is shown whole or not at all,
    never cut to ``прошло …``.

    Args:
        s: the status.
        lang: UI language.
        narrow: a narrow screen: the file name gets fewer columns and the epoch yields
            to the epoch row.
        width: columns available.
        keep_pid: keep the writer's ``pid N`` over the speed and the epoch (a screen of 100
            columns or more: the pid is how a user finds the process to stop).

    Returns:
        Content; the file name is plain text, never markup.
    """
    # (priority, pieces): lower priority numbers are dropped first
    groups: list[tuple[int, list[str | tuple[str, str]]]] = []
    whole_writer: tuple[int, list[str | tuple[str, str]]] | None = None
    groups.append((1, [("trainmon ", "bold $text-primary")]))
    groups.append((99, [(clip_middle(inert(s.file), 24 if narrow else 48), "bold")]))
    state_style = SEVERITY_STYLE.get(s.state_severity, MUTED)
    if s.paused:
        groups.append((98, ["  ", (f"⏸ {word('paused', lang)}", "bold $text-warning")]))
    if s.catching_up is not None:
        text = f"{word('catching_up', lang)} {s.catching_up * 100:.0f}%"
        if s.provisional:
            # Until the whole file is read, what is shown is its recent end only.
            text = f"{word('recent_window', lang)} · {text}"
        groups.append((97, ["  ", (text, "bold $text-warning")]))
    if s.run_count > 1:
        # Which run of the log is shown (a reused log, a sweep): the screen never mixes two.
        groups.append((97, ["  ", (label("run_of", lang).format(n=s.run_index, total=s.run_count), "bold")]))
    if s.earlier:
        # An earlier run is on screen: said beside its number, so it is never taken for the live one.
        groups.append((97, [" ", (f"({label('run_earlier', lang)})", "bold $text-warning")]))
    groups.append((96, ["  ", (inert(s.state_text or word(s.state, lang)), state_style)]))
    if s.notice:
        groups.append((93, ["  ", (f"⚠ {s.notice}", "bold $text-error")]))
    if s.step is not None:
        step_txt = f"{s.step}/{s.total}" if s.total else f"{s.step}"
        groups.append((95, ["  ", (f"{label('step', lang)} ", MUTED), step_txt]))
        if s.total and s.step < s.total:
            groups.append((4, [(f" ({100 * s.step / s.total:.0f}%)", MUTED)]))
    epoch_prio = 3 if narrow else 6
    if s.epoch is not None:
        groups.append((epoch_prio, ["  ", (f"{label('epoch', lang)} ", MUTED), fmt_num(s.epoch, 3)]))
        if s.total_epochs:
            total = f"/{'≈' if s.total_epochs_estimated else ''}{fmt_num(s.total_epochs, 3)}"
            groups.append((5, [total]))
    if s.eta_s is not None and s.state not in ("finished", "crashed", "stalled", "superseded"):
        groups.append((94, ["  ", (f"{label('eta', lang)} ", MUTED), fmt_duration(s.eta_s)]))
    if s.rate:
        groups.append((3, ["  ", f"{s.rate:.2g} " if s.rate < 10 else f"{s.rate:.0f} ", (label("it_s", lang), MUTED)]))
    if s.elapsed_s is not None:
        groups.append((2, ["  ", (f"{label('elapsed', lang)} ", MUTED), fmt_duration(s.elapsed_s)]))
    if s.writer:
        # The process writing the log (Linux /proc): its command line is the first thing to
        # give way; with keep_pid its pid stays, kept over the epoch and the speed.
        whole_writer = (1, ["  ", (clip_middle(inert(s.writer), 36), MUTED)])
        groups.append(whole_writer)
        if keep_pid:
            groups.append((_PID_PRIO, ["  ", (" ".join(inert(s.writer).split()[:2]), MUTED)]))

    def build(keep: list[tuple[int, list[str | tuple[str, str]]]]) -> Content:
        whole = s.writer and whole_writer in keep
        return Content.assemble(*(p for prio, pieces in keep if not (whole and prio == _PID_PRIO) for p in pieces))

    keep = list(groups)
    content = build(keep)
    for prio in sorted({p for p, _ in groups}):
        if content.cell_length <= width or prio >= 90:
            break
        keep = [g for g in keep if g[0] != prio]
        if prio == epoch_prio:  # the epoch total means nothing without the epoch
            keep = [g for g in keep if g[0] != 5]
        content = build(keep)
    return content


def verdict_content(s: StatusModel, lang: str) -> Content:
    """Build the verdict badge: a symbol and the verdict word in capitals."""
    sev = _VERDICT_SEVERITY.get(s.verdict, "info")
    text = s.verdict_text or verdict_word(s.verdict, lang)
    return Content.assemble((f"{_VERDICT_SYMBOL.get(s.verdict, '·')} {text}", SEVERITY_STYLE[sev]))


class StatusBar(Horizontal):
    """One line at the top: the run's status on the left, the verdict badge on the right."""

    def compose(self) -> ComposeResult:
        """Two statics: ``#status-text`` and ``#verdict-badge``."""
        yield Static(id="status-text")
        yield Static(id="verdict-badge")

    def show(self, status: StatusModel, lang: str, *, narrow: bool) -> None:
        """Draw ``status``; the badge gets the CSS class ``-<verdict>`` for its background."""
        badge = self.query_one("#verdict-badge", Static)
        verdict = verdict_content(status, lang)
        badge.update(verdict)
        width = (self.size.width or self.app.size.width) - verdict.cell_length - 4  # two paddings of 1
        columns = self.size.width or self.app.size.width
        content = status_content(status, lang, narrow=narrow, width=width, keep_pid=columns >= PID_COLUMNS)
        self.query_one("#status-text", Static).update(content)
        for v in ("healthy", "warning", "critical", "unknown"):
            badge.set_class(status.verdict == v, f"-{v}")
