"""The throughput row and the eval − train gap on the screen, through the real app."""

from __future__ import annotations

import json

from helpers import FIXTURES, screen_text, wait_for_app

from tui_monitor.core.pipeline import read_once
from tui_monitor.core.report import report_dict
from tui_monitor.core.text.fmt import fmt_num
from tui_monitor.ui.app import make_app

LOG = FIXTURES / "real" / "tokens_checkpoints.log"
TRUTH = json.loads((FIXTURES / "real" / "tokens_checkpoints.truth.json").read_text())


async def test_throughput_row_gap_and_checkpoint_on_screen() -> None:
    """GIVEN the real log with num_input_tokens_seen, checkpoints and evals WHEN shown at 160x48
    THEN the tokens/s row says the report's rates and the loss row the gap."""
    d = report_dict(read_once(LOG))
    tp, gap = d["throughput"], d["gap"]
    app = make_app([LOG], follow=False, bell=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for_app(pilot, lambda: "tokens/s" in screen_text(app), "the throughput row")
        lines = screen_text(app).splitlines()
        row = next(x for x in lines if "tokens/s" in x)
        assert f"tokens/s  {fmt_num(tp['tokens_per_second'])}" in row
        assert f"{fmt_num(tp['steps_per_second'])} steps/s" in row
        assert f"{fmt_num(tp['samples_per_second'])} samples/s" in row
        assert f"tokens {TRUTH['facts']['num_input_tokens_seen_last']}" in row
        loss_row = next(x for x in lines if "▶ loss" in x)
        assert f"gap {fmt_num(gap['gap'])} steady" in loss_row
