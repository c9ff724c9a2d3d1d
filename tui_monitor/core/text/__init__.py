"""Every word and number a person reads: the bilingual catalogue, the glossary, one formatter.

- :mod:`~tui_monitor.core.text.fmt`: the one number format (``fmt_num``) and duration
  format (``fmt_duration``), with ``fmt_change`` and ``fmt_percent``.
- :mod:`~tui_monitor.core.text.words`: status words, labels, key descriptions, verdict words.
- :mod:`~tui_monitor.core.text.reasons`: the reason sentences as templates by reason code,
  and ``reason_text(reason, lang)``, the one place a finding becomes words.
- :mod:`~tui_monitor.core.text.inert`: ``inert(text)``, log text made safe for a terminal
  (every text output uses it).
- :mod:`~tui_monitor.core.text.charset`: what the output encoding can show, and plain
  fallbacks for the rest (``prepare_stream``: every output works in any locale).
- :mod:`~tui_monitor.core.text.glossary`: the metrics explained in plain words (data).

Stdlib only: the analysis gives codes and typed parameters, this package gives the words.
"""

from __future__ import annotations

from tui_monitor.core.text.fmt import fmt_change, fmt_duration, fmt_num, fmt_percent
from tui_monitor.core.text.inert import inert
from tui_monitor.core.text.reasons import place_text, reason_text
from tui_monitor.core.text.words import LANGS, help_text, key_text, label, verdict_word, word

__all__ = [
    "LANGS",
    "fmt_change",
    "fmt_duration",
    "fmt_num",
    "fmt_percent",
    "help_text",
    "inert",
    "key_text",
    "label",
    "place_text",
    "reason_text",
    "verdict_word",
    "word",
]
