"""The status lines of `trainmon tail --json/--plain`, run in-process on real files."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

from helpers import FIXTURES, wait_for

from tui_monitor.core.headless import run_headless


class _Tail:
    """`run_headless` on ``paths`` in a thread, writing into a string buffer."""

    def __init__(self, paths: list[Path], *, as_json: bool = True) -> None:
        self.out = io.StringIO()
        self.stop = threading.Event()
        self.status: list[int] = []

        def run() -> None:
            code = run_headless(
                [str(p) for p in paths], as_json=as_json, poll=0.05, from_end=False, out=self.out, stop_event=self.stop
            )
            self.status.append(code)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def objects(self) -> list[dict]:
        return [json.loads(line) for line in self.out.getvalue().splitlines() if line]

    def states(self) -> list[str]:
        # The file's states (a verdict line's `state` is the run's: finished, stalled...)
        return [o["state"] for o in self.objects() if o["type"] == "status" and "state" in o and "verdict" not in o]

    def close(self) -> int:
        self.stop.set()
        self.thread.join(10)
        return self.status[0]


def test_first_status_of_an_existing_file_is_not_waiting(tmp_path: Path) -> None:
    # GIVEN a finished run's log on disk
    log = tmp_path / "train.log"
    log.write_bytes((FIXTURES / "real" / "hf5_linear_warmup.log").read_bytes())
    # WHEN `trainmon tail --json` starts on it
    tail = _Tail([log])
    try:
        wait_for(lambda: "following" in tail.states(), "the following status")
        # THEN its one status says it follows the file, after the history's records
        objs = tail.objects()
        assert tail.states() == ["following"]
        status_at = next(i for i, o in enumerate(objs) if o["type"] == "status" and "state" in o)
        assert sum(o["type"] == "record" for o in objs[:status_at]) == 67
    finally:
        assert tail.close() == 0


def test_first_status_of_a_missing_file_is_waiting(tmp_path: Path) -> None:
    # GIVEN a log the training has not created yet
    log = tmp_path / "train.log"
    tail = _Tail([log])
    try:
        wait_for(lambda: tail.states(), "a status line")
        assert tail.states()[0] == "waiting"
        # WHEN it is written THEN it is followed
        log.write_bytes((FIXTURES / "real" / "hf5_linear_warmup.log").read_bytes())
        wait_for(lambda: tail.states()[-1] == "following", "the following status")
    finally:
        assert tail.close() == 0


def test_a_path_whose_directory_does_not_exist_says_so_in_json(tmp_path: Path) -> None:
    # GIVEN a mistyped path: its directory does not exist
    log = tmp_path / "logz" / "train.log"
    tail = _Tail([log])
    try:
        # WHEN followed THEN the first status says waiting, and that the directory is missing
        first = wait_for(lambda: next((o for o in tail.objects() if o["type"] == "status"), None), "a status line")
        assert first["state"] == "waiting" and first["directory"] == "missing"
    finally:
        assert tail.close() == 0


def test_checkpoint_rewrite_of_trainer_state_prints_no_reset(tmp_path: Path) -> None:
    # GIVEN `trainmon tail --json` on a real trainer_state.json saved at checkpoint-100
    state = tmp_path / "trainer_state.json"
    state.write_bytes(
        (FIXTURES / "real" / "trainer_state_hf5_resume_append.resumed_from_checkpoint-100.json").read_bytes()
    )
    tail = _Tail([state])
    try:
        records = lambda: [o for o in tail.objects() if o["type"] == "record"]  # noqa: E731
        wait_for(lambda: len(records()) == 21, "the 21 records of checkpoint-100")
        # WHEN the run's next checkpoint rewrites it in place with its grown log_history
        with open(state, "r+b") as f:
            f.truncate(0)
            f.write((FIXTURES / "real" / "trainer_state_hf5_resume_append.json").read_bytes())
        # THEN only the new records are printed, with no reset and no rewind
        wait_for(lambda: len(records()) == 63, "the 63 records of checkpoint-300")
        assert [r["step"] for r in records()][-1] == 300
        assert [o["type"] for o in tail.objects() if o["type"] in ("reset", "rewind")] == []
    finally:
        assert tail.close() == 0


def test_truncated_console_log_still_prints_a_reset(tmp_path: Path) -> None:
    # GIVEN `trainmon tail --json` on a console log
    log = tmp_path / "train.log"
    log.write_bytes(b"{'loss': 2.5, 'learning_rate': 1e-4, 'epoch': 0.5}\n")
    tail = _Tail([log])
    try:
        wait_for(lambda: any(o["type"] == "record" for o in tail.objects()), "the first record")
        # WHEN it is truncated in place and rewritten (`> train.log`)
        with open(log, "r+b") as f:
            f.truncate(0)
            f.write(b"{'loss': 3.75, 'learning_rate': 0.0, 'epoch': 0.01}\n")
        # THEN the reset is printed before the new record
        wait_for(lambda: sum(o["type"] == "record" for o in tail.objects()) == 2, "the record after the reset")
        kinds = [o["type"] for o in tail.objects() if o["type"] in ("reset", "record")]
        assert kinds == ["record", "reset", "record"]
        assert {"type": "reset", "reason": "truncated"} in tail.objects()
    finally:
        assert tail.close() == 0


def test_a_run_that_goes_silent_is_said_stalled_without_new_data(tmp_path: Path) -> None:
    # GIVEN `trainmon tail --json` following a run without a summary (no writer process)
    log = tmp_path / "train.log"
    log.write_bytes((FIXTURES / "real" / "killed_sigkill.log").read_bytes())
    tail = _Tail([log])
    try:
        wait_for(lambda: any(o["type"] == "status" and o.get("code") for o in tail.objects()), "a verdict")
        assert not any(o.get("code") == "run_stalled" for o in tail.objects())
        # WHEN nothing more is written and the file's last write is an hour old
        old = log.stat().st_mtime - 3600
        os.utime(log, (old, old))
        # THEN, with no new data, a status line says the run is stalled
        stalled = wait_for(
            lambda: next((o for o in tail.objects() if o.get("code") == "run_stalled"), None), "the stall", 15
        )
        assert stalled["type"] == "status" and str(stalled["reason"]).startswith("stalled: no new record for 1:00:")
    finally:
        assert tail.close() == 0
