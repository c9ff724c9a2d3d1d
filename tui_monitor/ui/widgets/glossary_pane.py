"""The glossary pane (``g``): the focused metric explained in plain words."""

from __future__ import annotations

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


class GlossaryPane(Static):
    """Explains the focused metric; hidden until ``g``; its title names the metric."""

    def explain(self, key: str, lang: str, title: str) -> None:
        """Show the entry of ``key``; ``title`` is the pane's label in the UI language."""
        self.border_title = Content.assemble((f"{title} · ", ""), (inert(key), "bold"))
        self.update(glossary_content(key, lang))
