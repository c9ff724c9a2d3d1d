"""`tail --plain/--json` say a stall, and the writer's end, without new data (issue 17, item 3).

A real Trainer log with two runs appended (`append_two_runs`) is replayed live by a writer
process in the byte pieces it was written in: the first run to its summary, then the second
to half way, where the writer hangs with the log open. The monitors' clock is moved on an
hour instead of waiting for the stall threshold.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import FIXTURES, wait_for

from tui_monitor.core.headless import RECHECK_EVERY, run_headless

pytestmark = pytest.mark.slow  # a writer process, and waits of a few seconds without data

SRC = FIXTURES / "real" / "append_two_runs.log"

WRITER = r"""
import sys, time
path, pieces = sys.argv[1], sys.argv[2]
data = open(sys.argv[3], "rb").read()
parts = [[tuple(map(int, p.split(":"))) for p in part.split(",")] for part in pieces.split("/")]
with open(path, "ab", buffering=0) as f:
    for i, part in enumerate(parts):
        if i:
            sys.stdin.readline()  # the test says when to go on
        for off, n in part:
            f.write(data[off : off + n])
            time.sleep(0.002)
        print("written", flush=True)
    time.sleep(600)  # hung, with the log open
"""


def _pieces() -> tuple[str, int]:
    """The writes of run 1 (to its summary) and of run 2 up to the bar's 75/150, as the
    writer's argument ``off:n,...`` per part; and how many train records run 2 wrote by then."""
    data = SRC.read_bytes()
    rows = [
        tuple(map(int, line.split("\t")[1:])) for line in SRC.with_suffix(".chunks.tsv").read_text().splitlines()[1:]
    ]
    run2 = data.index(b"0/150")
    end1 = data.rindex(b"\n", 0, run2) + 1  # after run 1's summary line
    half = data.index(b"75/150", run2)
    cut = min(off + n for off, n in rows if off + n > half)
    first = [f"{off}:{n}" for off, n in rows if off + n <= end1]
    second = [f"{off}:{n}" for off, n in rows if end1 <= off and off + n <= cut]
    return ",".join(first) + "/" + ",".join(second), data[end1:cut].count(b"{'loss'")


def _run2_train(lines: list[str], as_json: bool) -> int:
    """Train records printed for run 2."""
    if as_json:
        objs = [json.loads(s) for s in lines]
        return sum(o["type"] == "record" and o["run"] == 2 and o["kind"] == "train" for o in objs)
    start = next((i for i, s in enumerate(lines) if s.startswith("-- run 2 starts")), len(lines))
    return sum(s.startswith("train ") for s in lines[start:])


class _Clock:
    """Wall-clock seconds that a test can move on."""

    def __init__(self) -> None:
        self.skew = 0.0

    def __call__(self) -> float:
        return time.time() + self.skew


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "plain"])
def test_a_run_appended_after_a_finished_one_that_hangs_is_said_stalled_then_ended(
    tmp_path: Path, as_json: bool
) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(b"")
    pieces, run2_train = _pieces()
    clock = _Clock()
    out = io.StringIO()
    stop = threading.Event()
    tail = threading.Thread(
        target=run_headless,
        args=([str(log)],),
        kwargs={"as_json": as_json, "poll": None, "from_end": False, "out": out, "stop_event": stop, "clock": clock},
        daemon=True,
    )
    tail.start()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(log), pieces, str(SRC)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdin is not None and writer.stdout is not None

    def lines() -> list[str]:
        return out.getvalue().splitlines()

    def said(state: str, plain: str) -> list[str]:
        if as_json:
            return [s for s in lines() if json.loads(s).get("state") == state]
        return [s for s in lines() if s.startswith("-- verdict ") and plain in s]

    try:
        # GIVEN `tail` following a log whose first run finished while it watched
        assert writer.stdout.readline() == "written\n"
        # Which of its two ends is said depends on how the writer's pieces fall into reads:
        # step 200/200 read alone is "finished (last step reached)", and the summary after it
        # does not change the run's state, so nothing more is said; read together, the summary
        # is the reason. Either is the run said finished.
        wait_for(lambda: said("finished", " · finished ("), lambda: f"run 1 said finished: {lines()[-6:]}")
        # WHEN a second run is appended and hangs at 75/150 with the log open
        writer.stdin.write("go\n")
        writer.stdin.flush()
        assert writer.stdout.readline() == "written\n"
        wait_for(lambda: _run2_train(lines(), as_json) == run2_train, lambda: f"run 2's records: {lines()[-5:]}")
        assert not said("stalled", "stalled: no new record")
        # AND an hour passes with no new byte (the monitors' clock moves on)
        clock.skew = 3600.0
        # THEN, without new data, a status line says the run is stalled
        stalled = wait_for(lambda: said("stalled", "stalled: no new record"), "the stall", RECHECK_EVERY + 10)
        if as_json:
            obj = json.loads(stalled[0])
            assert obj["verdict"] == "warning" and obj["reason"].startswith("stalled: no new record for 1:00:")
        else:
            assert stalled[0].startswith("-- verdict WARNING: stalled: no new record for 1:00:")
        # AND WHEN the hung writer is killed, its end is said too (no new data either)
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
        ended = wait_for(
            lambda: said("ended", "ended without finishing"), lambda: f"the writer's end: {lines()[-4:]}", 20.0
        )
        assert "ended without finishing" in ended[0]
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(10)
        stop.set()
        tail.join(10)
