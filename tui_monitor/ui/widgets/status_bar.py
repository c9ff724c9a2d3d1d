"""The status line: file, run state, step/total, epoch, speed, elapsed, ETA and the verdict."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from tui_monitor.core.i18n import label, word
from tui_monitor.ui.chart_model import fmt_num
from tui_monitor.ui.view import Status, fmt_duration
from tui_monitor.ui.widgets._style import MUTED, SEVERITY_STYLE

_VERDICT_SEVERITY = {"healthy": "ok", "warning": "warning", "critical": "critical", "unknown": "info"}
_VERDICT_SYMBOL = {"healthy": "✓", "warning": "!", "critical": "✗", "unknown": "·"}


def _clip_middle(text: str, width: int) -> str:
    """Shorten ``text`` to ``width`` by cutting its middle (keeps the run name and extension)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def status_content(s: Status, lang: str, *, narrow: bool, width: int = 200) -> Content:
    """Build the left part of the status line (everything but the verdict badge).

    Args:
        s: the status.
        lang: UI language.
        narrow: drop the app name and elapsed time to fit 80 columns.
        width: columns available; the app name is dropped below 150.

    Returns:
        Content; the file name is plain text, never markup.
    """
    parts: list[str | tuple[str, str]] = []
    if not narrow and width >= 150:
        parts.append(("trainmon ", "bold $text-primary"))
    parts.append((_clip_middle(s.file, 24 if narrow else 48), "bold"))
    parts.append("  ")
    state_style = SEVERITY_STYLE.get(s.state_severity, MUTED)
    if s.paused:
        parts.append((f"⏸ {word('paused', lang)}", "bold $text-warning"))
        parts.append("  ")
    if s.catching_up is not None:
        parts.append((f"{word('catching_up', lang)} {s.catching_up * 100:.0f}%", "bold $text-warning"))
        parts.append("  ")
    parts.append((s.state_text or word(s.state, lang), state_style))
    if s.step is not None:
        step_txt = f"{s.step}/{s.total}" if s.total else f"{s.step}"
        parts.append("  ")
        parts.append((f"{label('step', lang)} ", MUTED))
        parts.append(step_txt)
        if s.total and not narrow and s.step < s.total:
            parts.append((f" ({100 * s.step / s.total:.0f}%)", MUTED))
    if s.epoch is not None and not (narrow and s.step is not None):  # narrow: the epoch row has it
        parts.append("  ")
        parts.append((f"{'ep' if narrow else label('epoch', lang)} ", MUTED))
        ep = fmt_num(s.epoch, 3)
        if s.total_epochs and not narrow:
            ep += f"/{fmt_num(s.total_epochs, 3)}"
        parts.append(ep)
    if s.eta_s is not None and s.state not in ("finished", "crashed"):
        parts.append("  ")
        parts.append((f"{label('eta', lang)} ", MUTED))
        parts.append(fmt_duration(s.eta_s))
    if s.rate and not narrow:
        parts.append("  ")
        parts.append(f"{s.rate:.2g} " if s.rate < 10 else f"{s.rate:.0f} ")
        parts.append((label("it_s", lang), MUTED))
    if s.elapsed_s is not None and not narrow:
        parts.append("  ")
        parts.append((f"{label('elapsed', lang)} ", MUTED))
        parts.append(fmt_duration(s.elapsed_s))
    return Content.assemble(*parts)


def verdict_content(s: Status, lang: str) -> Content:
    """Build the verdict badge: a symbol and the verdict word in capitals."""
    sev = _VERDICT_SEVERITY.get(s.verdict, "info")
    text = s.verdict_text or word(s.verdict, lang).upper()
    return Content.assemble((f"{_VERDICT_SYMBOL.get(s.verdict, '·')} {text}", SEVERITY_STYLE[sev]))


class StatusBar(Horizontal):
    """One line at the top: the run's status on the left, the verdict badge on the right."""

    def compose(self) -> ComposeResult:
        """Two statics: ``#status-text`` and ``#verdict-badge``."""
        yield Static(id="status-text")
        yield Static(id="verdict-badge")

    def show(self, status: Status, lang: str, *, narrow: bool) -> None:
        """Draw ``status``; the badge gets the CSS class ``-<verdict>`` for its background."""
        self.query_one("#status-text", Static).update(
            status_content(status, lang, narrow=narrow, width=self.size.width or self.app.size.width)
        )
        badge = self.query_one("#verdict-badge", Static)
        badge.update(verdict_content(status, lang))
        for v in ("healthy", "warning", "critical", "unknown"):
            badge.set_class(status.verdict == v, f"-{v}")
