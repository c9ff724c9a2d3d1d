"""The runs list (``r``): every run of the log with its steps, how it ended and its verdict; the
one chosen is shown (an earlier run read-only), the latest is followed live."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui_monitor.core.text.words import label
from tui_monitor.ui.model import RunLine
from tui_monitor.ui.widgets._style import MUTED, SEVERITY_STYLE

_VERDICT_SEVERITY = {"healthy": "ok", "warning": "warning", "critical": "critical"}


def run_option(line: RunLine, count: int, lang: str, widths: tuple[int, int] = (16, 26)) -> Content:
    """One run as a list entry: ``▶ run 2/3  step 80/80  finished  ✓ HEALTHY  latest``.

    Args:
        line: the run's presented facts.
        count: how many runs the log has.
        lang: ``"en"`` or ``"ru"``.
        widths: columns of the steps and the state (the longest of the list's, plus a gap).
    """
    sev = _VERDICT_SEVERITY.get(line.verdict, "info")
    run_w = len(label("run_of", lang).format(n=count, total=count)) + 2
    return Content.assemble(
        ("▶ " if line.shown else "  ", "bold"),
        (f"{label('run_of', lang).format(n=line.index, total=count):<{run_w}}", "bold"),
        (f"{line.steps:<{widths[0]}}", ""),
        (f"{line.state:<{widths[1]}}", MUTED),
        (f"{line.symbol} {line.verdict_text}", SEVERITY_STYLE[sev]),
        (f"  {label('runs_latest', lang)}" if line.latest else "", MUTED),
    )


class RunsScreen(ModalScreen[int | None]):
    """A modal list of the log's runs; Enter shows the highlighted run, ``r``/Esc closes.

    Dismissed with the chosen run's index (1-based), or ``None`` when closed without a choice.

    Args:
        lines: the runs, oldest first.
        lang: ``"en"`` or ``"ru"``.
    """

    BINDINGS = [Binding("escape,r,q", "dismiss_none", show=False)]

    def __init__(self, lines: list[RunLine], lang: str) -> None:
        super().__init__()
        self.lines = lines
        self.lang = lang

    def compose(self) -> ComposeResult:
        """The runs in a bordered box, the shown one highlighted, and how to use it."""
        with Vertical(id="runs-box") as box:
            box.border_title = Content(label("runs_title", self.lang))
            widths = (
                max((len(r.steps) for r in self.lines), default=0) + 2,
                max((len(r.state) for r in self.lines), default=0) + 2,
            )
            options = [Option(run_option(r, len(self.lines), self.lang, widths), id=str(r.index)) for r in self.lines]
            yield OptionList(*options, id="runs-list")
            yield Static(Content.assemble((label("runs_hint", self.lang), MUTED)), id="runs-hint")

    def on_mount(self) -> None:
        """Highlight the run on screen."""
        ol = self.query_one(OptionList)
        shown = next((i for i, r in enumerate(self.lines) if r.shown), len(self.lines) - 1)
        ol.highlighted = shown
        ol.focus()

    def move(self, delta: int) -> None:
        """Highlight the previous (``-1``) or next (``+1``) run."""
        ol = self.query_one(OptionList)
        if delta < 0:
            ol.action_cursor_up()
        else:
            ol.action_cursor_down()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter (or a click) on a run: show it."""
        self.dismiss(int(event.option.id or "0") or None)

    def action_dismiss_none(self) -> None:
        """Close without changing the run shown."""
        self.dismiss(None)
