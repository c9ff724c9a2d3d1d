"""Which scan runs: the compiled one (the optional C extension ``_scan``) or pure Python.

The extension (``_scan.c``, built by setup.py where a C compiler is present) reads columnar runs
(:func:`~tui_monitor.core.parse.columnar.read_run`) and finds tqdm's log events
(:meth:`~tui_monitor.core.parse.steps.StepTracker.scan`) and answers the console reader's per-chunk
prefilters in one pass (:class:`~tui_monitor.core.parse.framing.Surveyor`) and checks a columnar
run's steps and epochs for the record policy (:func:`~tui_monitor.core.parse.boundaries.row_moves`)
with the same results as the pure-Python path, bit for bit; the Python code stays the reference for
every rule. Setting the environment variable :data:`PURE_PYTHON_ENV` (to anything but ``""`` or
``"0"``) forces pure Python, for tests and bug reports; ``trainmon --version`` says which path runs
(:func:`describe`).
"""

from __future__ import annotations

import os
from types import ModuleType

from tui_monitor.core.parse.values import MAX_DIGITS

__all__ = ["PURE_PYTHON_ENV", "RUN_FORM", "describe", "is_current", "scan"]

PURE_PYTHON_ENV = "TRAINMON_PURE_PYTHON"
"""Environment variable that forces the pure-Python path."""
FUNCTIONS = ("read_run", "scan_steps", "spe_span", "survey", "run_moves")
"""What the extension must provide (``columnar.read_run``, ``steps.StepTracker.scan``,
``steps.StepTracker.peek_batch``'s common case, ``framing.Surveyor``, ``boundaries.row_moves``)."""
RUN_FORM = 2
"""The form of the extension's ``read_run`` (its arguments and answer) this code calls: 2, the
run's columns laid out as its `Batch` holds them (see ``_scan.c``)."""


def is_current(module: ModuleType) -> bool:
    """Whether the built extension ``module`` is the one this _scan.c makes: it has every one of
    `FUNCTIONS` and bounds a bar's count as the Python path does (its ``MAX_DIGITS`` is
    ``values.MAX_DIGITS``; a build from before it had none and raised on a count past ``int()``'s
    4300 digits), and its ``read_run`` has the form `RUN_FORM`."""
    return (
        all(hasattr(module, name) for name in FUNCTIONS)
        and getattr(module, "MAX_DIGITS", None) == MAX_DIGITS
        and getattr(module, "RUN_FORM", None) == RUN_FORM
    )


def _load() -> tuple[ModuleType | None, str]:
    if os.environ.get(PURE_PYTHON_ENV, "") not in ("", "0"):
        return None, f"pure Python ({PURE_PYTHON_ENV} is set)"
    try:
        from tui_monitor.core.parse import _scan
    except ImportError:
        return None, "pure Python (the C extension is not built)"
    if not is_current(_scan):
        # Built from an older _scan.c (an editable install not rebuilt since): it lacks a
        # function the parser calls or reads counts otherwise, so the whole compiled path is
        # off, never half of it.
        return None, "pure Python (the C extension is out of date: reinstall to rebuild it)"
    return _scan, "compiled C extension"


scan, _how = _load()
"""The compiled module, or ``None`` when the pure-Python path runs (tests set it to ``None``
to run that path in the same process)."""


def describe() -> str:
    """Which path reads logs in this process, for ``trainmon --version``: ``"compiled C
    extension"`` or ``"pure Python (…why…)"``."""
    if scan is None and _how == "compiled C extension":
        return "pure Python (switched off in this process)"
    return _how
