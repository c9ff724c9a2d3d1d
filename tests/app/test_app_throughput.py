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


async def test_eval_loss_drawn_on_the_loss_chart() -> None:
    """GIVEN the real log with four evaluations WHEN the loss chart is shown at 100x30 THEN its
    title names the ◆ eval_loss marks and each evaluation is one ◆ on the chart."""
    evals = [e for e in TRUTH["log_history"] if "eval_loss" in e]
    app = make_app([LOG], follow=False, bell=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_app(pilot, lambda: "◆ eval_loss" in screen_text(app), "the eval marks' legend")
        lines = screen_text(app).splitlines()
        title = next(i for i, x in enumerate(lines) if "◆ eval_loss" in x)
        chart = lines[title + 1 :]
        assert sum(x.count("◆") for x in chart) == len(evals)
        # the last evaluation (the lowest eval_loss) sits on the chart's bottom line, labelled with it
        bottom = next(x for x in chart if x.strip().startswith(fmt_num(evals[-1]["eval_loss"], 4)))
        assert bottom.rstrip().endswith("◆")
