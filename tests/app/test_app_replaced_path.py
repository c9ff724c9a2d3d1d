"""The dashboard when the log's path is replaced by a directory while followed, then by the log
again (issue 17, item 4): the real app through ``App.run_test()``."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import FIXTURES, screen_text, wait_for_app

from tui_monitor.ui.app import make_app

SRC = FIXTURES / "real" / "hf5_linear_warmup.log"


async def test_the_dashboard_says_the_directory_and_picks_the_log_up(tmp_path: Path) -> None:
    # GIVEN the dashboard on a real finished run
    log = tmp_path / "train.log"
    log.write_bytes(SRC.read_bytes())
    app = make_app([log], bell=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_app(pilot, lambda: "finished" in screen_text(app).splitlines()[0], "the finished run")
        # WHEN the path is replaced by a directory
        os.unlink(log)
        log.mkdir()
        # THEN the status line says so (not "finished ✓ HEALTHY" frozen)
        await wait_for_app(
            pilot,
            lambda: "is now a directory; waiting for the file" in screen_text(app).splitlines()[0],
            "the directory on the status line",
        )
        # AND WHEN a log comes back at the path THEN it is followed again, as a new run
        log.rmdir()
        log.write_bytes(SRC.read_bytes()[:12000])
        await wait_for_app(
            pilot,
            lambda: "run 2/2" in (top := screen_text(app).splitlines()[0]) and "following" in top,
            "the log again",
        )
