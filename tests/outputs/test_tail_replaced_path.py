"""`trainmon tail --json/--plain` when the log's path is replaced by a directory
while followed, then by the log again (issue 17, item 4)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from helpers import FIXTURES, TailProcess

SRC = FIXTURES / "real" / "hf5_linear_warmup.log"


@pytest.mark.slow
def test_tail_json_says_the_directory_and_reads_the_log_when_it_returns(tmp_path: Path) -> None:
    # GIVEN `trainmon tail --json` on a real finished run
    log = tmp_path / "train.log"
    log.write_bytes(SRC.read_bytes())
    tail = TailProcess("--json", str(log), decode=json.loads)
    try:
        tail.wait_for(lambda objs: any(o.get("state") == "finished" for o in objs), "the run's end")
        # WHEN the path is replaced by a directory
        os.unlink(log)
        log.mkdir()
        # THEN a status line says so, and that it waits for the file
        objs = tail.wait_for(lambda objs: any(o.get("state") == "directory" for o in objs), "the directory status")
        status = next(o for o in objs if o.get("state") == "directory")
        assert status["type"] == "status"
        assert status["reason"] == f"{log} is now a directory; waiting for the file"
        # AND WHEN the log comes back THEN it is read again from its start as a new stream
        log.rmdir()
        log.write_bytes(SRC.read_bytes())

        def back(objs: list[dict]) -> bool:
            after = objs[objs.index(status) + 1 :]
            return sum(o["type"] == "record" for o in after) == 67 and any(o.get("state") == "following" for o in after)

        objs = tail.wait_for(back, "the log's 67 records again, and following")
        after = objs[objs.index(status) + 1 :]
        # (A poll between the rmdir and the new file's creation sees the path gone while the
        # old handle is still open: a "deleted" reset and status in between are legitimate.)
        resets = [o["reason"] for o in after if o["type"] == "reset"]
        assert resets in (["recreated"], ["deleted", "recreated"])
        recreated = after.index({"type": "reset", "reason": "recreated"})
        assert sum(o["type"] == "record" for o in after[recreated + 1 :]) == 67
        states = [o["state"] for o in after if o["type"] == "status" and "state" in o]
        assert states in (["following"], ["deleted", "following"])
    finally:
        rc, err = tail.stop(signal.SIGINT)
    # and it never printed a traceback
    assert rc == 130 and err == ""


@pytest.mark.slow
def test_tail_plain_says_it_in_words(tmp_path: Path) -> None:
    # GIVEN `trainmon tail --plain` on a log WHEN its path becomes a directory
    log = tmp_path / "train.log"
    log.write_bytes(SRC.read_bytes())
    tail = TailProcess("--plain", str(log))
    try:
        tail.wait_for(lambda ls: "-- state following  mode inotify" in ls, "following")
        os.unlink(log)
        log.mkdir()
        # THEN the line says what happened
        tail.wait_for(lambda ls: f"-- {log} is now a directory; waiting for the file" in ls, "the directory line")
    finally:
        rc, err = tail.stop(signal.SIGTERM)
    assert rc == 143 and err == ""
