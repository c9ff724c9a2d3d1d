"""`tail --from-end` says that it skipped the file's history until records arrive (a real log)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES, TailProcess, append, screen_text, wait_for_app

from tui_monitor.ui.app import make_app

LOG = FIXTURES / "real" / "hf5_linear_warmup.log"


@pytest.mark.slow
def test_headless_from_end_says_the_history_was_skipped(tmp_path: Path) -> None:
    """GIVEN a real finished log WHEN `tail --json --from-end` follows it THEN its following status
    says `history: skipped` (and no verdict line: nothing was read)."""
    log = tmp_path / "train.log"
    shutil.copyfile(LOG, log)
    tail = TailProcess("--json", "--from-end", str(log), decode=json.loads)
    seen = tail.wait_for(lambda ls: any(o.get("state") == "following" for o in ls), "following")
    tail.stop()
    (following,) = [o for o in seen if o.get("state") == "following"]
    assert following.get("history") == "skipped"


async def test_the_app_from_end_says_the_history_was_skipped_until_a_record_arrives(tmp_path: Path) -> None:
    """GIVEN a real log followed with --from-end THEN the status line says the history was skipped;
    WHEN a record of the same run is appended THEN the hint goes and the record shows."""
    log = tmp_path / "train.log"
    data = LOG.read_bytes()
    last = data.rindex(b"{'loss'")
    log.write_bytes(data[:last])
    app = make_app([log], from_end=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_app(pilot, lambda: "history skipped (--from-end)" in screen_text(app), "the hint")
        append(log, data[last : data.index(b"\n", last) + 1])
        await wait_for_app(pilot, lambda: "history skipped" not in screen_text(app), "the hint gone")
