"""The log's writer process (Linux /proc): found, and its exit without a summary said at once."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import wait_for

from tui_monitor.core.follow.writer import PROC, find_writers
from tui_monitor.core.headless import run_headless

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PROC.is_dir(), reason="no /proc: writers cannot be seen on this system"),
]

WRITER = """
import sys, time
f = open(sys.argv[1], "a", buffering=1)
for i in range(1, 100000):
    f.write("{'loss': %.4f, 'learning_rate': 0.0001, 'epoch': %.3f}\\n" % (5 - i * 0.01, i / 100))
    time.sleep(0.05)
"""


def _writer(log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(log)])


def test_the_process_writing_the_log_is_found(tmp_path: Path) -> None:
    # GIVEN a training process appending to its log, and a reader of the same file
    log = tmp_path / "train.log"
    log.write_bytes(b"")
    proc = _writer(log)
    try:
        with open(log, "rb"):  # our own read-only handle is not a writer
            found = wait_for(lambda: find_writers(log), "the writer")
        # THEN it is the writer, by pid, with its command line
        assert [w.pid for w in found] == [proc.pid]
        assert "import sys, time" in found[0].command
    finally:
        proc.kill()
        proc.wait()
    # AND once it has exited there is none
    assert find_writers(log) == []


@pytest.mark.parametrize("poll", [None, 0.5])
def test_a_writer_killed_with_sigkill_is_said_ended(tmp_path: Path, poll: float | None) -> None:
    # GIVEN the headless `tail --json` following a log while its writer appends records
    log = tmp_path / "train.log"
    log.write_bytes(b"")
    proc = _writer(log)
    out = io.StringIO()
    stop = threading.Event()
    th = threading.Thread(
        target=run_headless,
        args=([str(log)],),
        kwargs={"as_json": True, "poll": poll, "from_end": False, "out": out, "stop_event": stop},
        daemon=True,
    )
    th.start()

    def objs() -> list[dict[str, object]]:
        return [json.loads(s) for s in out.getvalue().splitlines()]

    try:
        wait_for(lambda: sum(o["type"] == "record" for o in objs()) >= 10, "records", 20)
        # WHEN the writer is killed with SIGKILL (no summary, no traceback)
        proc.kill()
        proc.wait()
        # THEN within 5 s (+ the poll interval) a status line says the run ended without finishing
        ended = wait_for(
            lambda: next((o for o in objs() if o["type"] == "status" and o.get("state") == "ended"), None),
            lambda: f"run_ended; statuses: {[o for o in objs() if o['type'] == 'status']}",
            5 + (poll or 0),
        )
        assert ended["verdict"] == "warning"
        assert str(ended.get("state_reason") or ended["reason"]).startswith("ended without finishing")
    finally:
        if proc.poll() is None:
            proc.kill()
        stop.set()
        th.join(5)


async def test_the_app_shows_the_writer_and_its_end(tmp_path: Path) -> None:
    # GIVEN the dashboard on a log while its writer appends records
    from helpers import screen_text, wait_for_app

    from tui_monitor.ui.app import make_app

    log = tmp_path / "train.log"
    log.write_bytes(b"")
    proc = _writer(log)
    app = make_app([log], poll=0.1, bell=False)
    try:
        async with app.run_test(size=(160, 30)) as pilot:
            # THEN the top line names the process writing the log
            await wait_for_app(pilot, lambda: f"pid {proc.pid}" in screen_text(app).splitlines()[0], "the writer")
            # WHEN it is killed with SIGKILL THEN the run ended without finishing, said at once
            proc.kill()
            proc.wait()
            await wait_for_app(
                pilot, lambda: "ended without finishing" in screen_text(app).splitlines()[0], "the end of the run"
            )
            assert "WARNING" in screen_text(app).splitlines()[0]
    finally:
        if proc.poll() is None:
            proc.kill()
