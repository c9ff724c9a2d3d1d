"""The glossary pane (``g``): the focused metric explained in plain words."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui_monitor.core.text.glossary import LABELS, explain
from tui_monitor.core.text.inert import inert


def glossary_content(key: str, lang: str) -> Content:
    """What it is / healthy / worry when / why for metric ``key`` in ``lang``.

    Args:
        key: the metric key (log text; plain data, a ``@rankN`` suffix is ignored).
        lang: ``"en"`` or ``"ru"``.
    """
    base = key.split("@rank", 1)[0]
    e = explain(base, lang)
    parts: list[str | tuple[str, str]] = [(e.title, "bold $text-primary"), "\n"]
    for field in ("what", "healthy", "worry", "why"):
        parts += [(f"{LABELS[field][lang if lang in ('en', 'ru') else 'en']}: ", "bold"), getattr(e, field), "\n"]
    return Content.assemble(*parts).rstrip()


class GlossaryPane(VerticalScroll, can_focus=False):
    """Explains the focused metric; hidden until ``g``; its title names the metric. It scrolls
    (``J`` / ``K``) when the entry is longer than the pane (80x24)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        """The entry, in one static that the pane scrolls."""
        yield Static(id="glossary-text")

    def explain(self, key: str, lang: str, title: str) -> None:
        """Show the entry of ``key``; ``title`` is the pane's label in the UI language. Another
        metric's entry starts at its top; the same one keeps where it was scrolled to."""
        self.border_title = Content.assemble((f"{title} · ", ""), (inert(key), "bold"))
        if self._shown == (key, lang):
            return
        self._shown = (key, lang)
        self.query_one("#glossary-text", Static).update(glossary_content(key, lang))
        self.scroll_home(animate=False)
