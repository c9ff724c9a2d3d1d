"""trainmon: a terminal monitor for Hugging Face Trainer training runs.

``from tui_monitor import load`` reads a log in Python (see :mod:`tui_monitor.api`); it is
imported on first use, so the command line starts without the analysis loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_monitor.api import load

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def __getattr__(name: str) -> Any:
    # PEP 562: `load` (and numpy behind it) is imported only when asked for.
    if name == "load":
        from tui_monitor.api import load

        return load
    raise AttributeError(f"module 'tui_monitor' has no attribute {name!r}")
