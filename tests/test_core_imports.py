"""The core never imports textual or rich: each module is imported in a fresh interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import tui_monitor.core as core

MODULES = sorted(m.name for m in pkgutil.walk_packages(core.__path__, prefix="tui_monitor.core."))
# The Python API and the Trainer callback run in notebooks and training scripts: no UI library either.
MODULES += ["tui_monitor", "tui_monitor.api", "tui_monitor.callback"]


def test_there_are_core_modules() -> None:
    # every stage's package and its modules are walked (a new module is checked without a list)
    for stage in ("follow", "parse", "state", "analysis", "text"):
        assert f"tui_monitor.core.{stage}" in MODULES
    assert {"tui_monitor.core.parse.policy", "tui_monitor.core.state.run", "tui_monitor.core.follow.writer"} <= set(
        MODULES
    )


@pytest.mark.parametrize("module", MODULES)
def test_core_module_does_not_import_textual_or_rich(module: str) -> None:
    # GIVEN a fresh interpreter WHEN the module is imported THEN no UI library is loaded
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
