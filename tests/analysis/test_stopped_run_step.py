"""A stopped run's verdict names the step of its last record, and the bar's when it got further.

A block-buffered run killed by SIGKILL loses the records still in its stdout buffer while its
tqdm bar (written by tqdm's own flushes) reached a later step: the real ``killed_sigkill.log``
has records up to step 100 and a bar at 150. What the verdict says a checkpoint resumes from,
the status's step and the chart's "stalled" event must agree on the record's step.
"""

from __future__ import annotations

import json

import pytest
from helpers import FIXTURES

from tui_monitor.core.analysis import analyse
from tui_monitor.core.pipeline import read_once
from tui_monitor.core.text.actions import action_text

REAL = FIXTURES / "real"
TRUTH = json.loads((REAL / "killed_sigkill.truth.json").read_text())
IN_FILE = [r for r in TRUTH["runs"][0]["print_check_records"] if r["status"] == "intact"]
LAST_RECORD = max(r["step"] for r in IN_FILE)


@pytest.mark.parametrize("code", ["run_stalled", "run_ended"])
def test_a_stopped_runs_verdict_names_its_last_records_step_and_the_bars(code: str) -> None:
    """GIVEN the killed run's log read whole WHEN judged an hour after its last write (stalled)
    or with its writer gone (ended) THEN the finding's step is the last record's, and its action
    says the bar reached the bar's step."""
    pipe = read_once(REAL / "killed_sigkill.log")
    snap = pipe.run.snapshot()
    bar = snap.progress.step
    assert LAST_RECORD == 100 and bar is not None and bar > LAST_RECORD  # the shape of this log
    assert pipe.last_write is not None
    health = analyse(snap, pipe.last_write + 3600, pipe.last_write, writer_gone=code == "run_ended")
    reason = next(r for r in health.reasons if r.code == code)
    assert reason.step == LAST_RECORD
    text = action_text(reason)
    assert text is not None and f"last record is at step {LAST_RECORD} (the bar reached step {bar})" in text
