"""``trainmon report --check``: one line and an exit code in the Nagios plugin convention.

Monitoring systems (Nagios, Icinga, Zabbix's and Prometheus' script checks), cron and schedulers
read a plugin's exit status as 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, and its first output
line as ``SERVICE STATUS - text | perfdata`` (Nagios Plugin Development Guidelines,
https://nagios-plugins.org/doc/guidelines.html: "Plugin Return Codes", "Performance data").
The perfdata after ``|`` is ``label=value`` pairs; a value that is not a number is ``U``.
"""

from __future__ import annotations

import math

from tui_monitor.core.analysis import Health
from tui_monitor.core.text import inert, reason_text

__all__ = ["CHECK_CODES", "PERF_KEYS", "check_line", "check_unknown"]

CHECK_CODES: dict[str, tuple[int, str]] = {
    "healthy": (0, "OK"),
    "warning": (1, "WARNING"),
    "critical": (2, "CRITICAL"),
    "no_data": (3, "UNKNOWN"),
}
"""Verdict status → (exit status, the plugin's status word)."""

PERF_KEYS = ("loss", "grad_norm", "learning_rate", "eval_loss")
"""Metrics given as perfdata (their latest value), when the run has them, then ``step``."""


def _perf_value(v: float) -> str:
    """A perfdata value: ``6.2``, ``0.0002``; ``U`` for NaN/inf (the guidelines' "undetermined")."""
    return f"{v:.6g}" if math.isfinite(v) else "U"


def check_line(health: Health, last: dict[str, float], lang: str = "en") -> tuple[int, str]:
    """The check's exit status and line for a judged run.

    Args:
        health: the verdict on the latest run.
        last: the latest value of each metric of that run (perfdata; missing keys are left out).
        lang: the language of the reason (the status words stay the convention's English).

    Returns:
        ``(2, "TRAINMON CRITICAL - grad_norm is nan at step 175 ... | loss=6.2 step=175")``.
    """
    code, word = CHECK_CODES.get(health.status, (3, "UNKNOWN"))
    top = health.reasons[0] if health.reasons else None
    text = " ".join(inert(reason_text(top, lang)).split()) if top is not None else ""
    perf = [f"{k}={_perf_value(last[k])}" for k in PERF_KEYS if k in last]
    if health.progress.step is not None:
        perf.append(f"step={health.progress.step}")
    # '|' starts the perfdata: one in the text would cut it short.
    line = f"TRAINMON {word} - {text.replace('|', '/')}".rstrip(" -")
    return code, line + (" | " + " ".join(perf) if perf else "")


def check_unknown(message: str) -> tuple[int, str]:
    """Exit status 3 and ``TRAINMON UNKNOWN - <message>`` (no data, unreadable file)."""
    return 3, f"TRAINMON UNKNOWN - {' '.join(inert(message).split()).replace('|', '/')}"
