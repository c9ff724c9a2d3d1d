"""Snapshot tests (pytest-textual-snapshot) of fixed states: they guard the layout.

Every app here reads a real or bundled log once (``follow=False``: no monitor thread, no
wall-clock times in the events), at a fixed terminal size. Update the pictures with
``make snapshots-update`` after a deliberate layout change,
and look at them (``snapshot_report.html``) before committing.
"""

from __future__ import annotations

from pathlib import Path

from helpers import FIXTURES

from tui_monitor.core.demo import load_demo
from tui_monitor.ui.app import make_app

FIX = FIXTURES
HEALTHY = FIX / "real" / "hf5_linear_warmup_unbuffered.log"


def _exploding(tmp_path: Path) -> Path:
    """The bundled exploding-gradients log, written to ``tmp_path`` (stable file name)."""
    demo = load_demo("exploding")
    path = tmp_path / demo.filename
    path.write_bytes(demo.data)
    return path


class TestHealthyRun:
    """A real finished run: status, rows, verdict, events and the loss chart."""

    def test_120x36(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """Two-line rows beside verdict and events, the loss chart below: the main layout."""
        assert snap_compare(make_app([HEALTHY], follow=False, bell=False), terminal_size=(120, 36))

    def test_80x24(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """The narrow layout: one-line rows, verdict, events and chart stacked, nothing scrolled."""
        assert snap_compare(make_app([HEALTHY], follow=False, bell=False), terminal_size=(80, 24))

    def test_glossary_open_on_grad_norm(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """g on the third row: the glossary takes the chart's place and explains grad_norm."""
        app = make_app([HEALTHY], follow=False, bell=False)
        assert snap_compare(app, terminal_size=(120, 36), press=["down", "down", "g"])


class TestExplodingRun:
    """The bundled exploding run: CRITICAL, × markers and the NaN count on grad_norm."""

    def test_grad_norm_focused(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """The grad_norm chart with NaN markers in its top line, in Russian at 100x30."""
        app = make_app([_exploding(tmp_path)], follow=False, bell=False, lang="ru")
        assert snap_compare(app, terminal_size=(100, 30), press=["down", "down"])


class TestRawLog:
    """The raw log (``t``): the log's own lines at the focused event, and the live filter."""

    def test_opened_at_the_first_nan(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """t on the exploding run with no event chosen: the title names the first NaN of
        grad_norm and its record's line is drawn in reverse video (low on the screen: the
        window ends at the file's end, nine records later)."""
        app = make_app([_exploding(tmp_path)], follow=False, bell=False)
        assert snap_compare(app, terminal_size=(100, 30), press=["t"])

    def test_filtered_at_80x24(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """/ then "nan" at 80x24: only the records with a NaN, the first still marked as the
        event's line, the filter box and the keys line."""
        app = make_app([_exploding(tmp_path)], follow=False, bell=False)
        assert snap_compare(app, terminal_size=(80, 24), press=["t", "slash", "n", "a", "n"])
