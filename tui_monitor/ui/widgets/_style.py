"""Theme-variable styles shared by the widgets (resolved by Textual against the theme)."""

from __future__ import annotations

SEVERITY_STYLE: dict[str, str] = {
    "ok": "$text-success",
    "info": "$text-muted",
    "warning": "bold $text-warning",
    "critical": "bold $text-error",
}
"""Content style of a status word by severity; the word and symbol carry the meaning too."""

MUTED = "$text-muted"
"""Labels and axis text."""

NAN_STYLE = "bold $text-error"
"""The × marker of NaN/inf values."""

SPARK_STYLE = "$text-accent"
"""Sparkline blocks."""
