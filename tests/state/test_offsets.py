"""Every stored point and event keeps the byte offset of its line in the file (where the raw
log opens for it); after a truncation the earlier ones say they are no longer in the file."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import FIXTURES, records_bytes

from tui_monitor.core.parse import Batch
from tui_monitor.core.pipeline import Pipeline, read_once

REAL = FIXTURES / "real"


def test_points_of_a_real_log_keep_their_records_offsets() -> None:
    # GIVEN a real log whose truth gives each record's text and byte offset as printed
    truth = json.loads((REAL / "tokens_checkpoints.truth.json").read_text())
    printed = [r for r in truth["runs"][0]["print_check_records"] if r["status"] == "intact"]
    # WHEN it is read once
    run = read_once(REAL / "tokens_checkpoints.log").run.snapshot()
    # THEN each train and eval point is at its record's offset
    loss, eval_loss = run.series["loss"], run.series["eval_loss"]
    want_train = {r["step"]: r["byte_offset"] for r in printed if r["kind"] == "train"}
    want_eval = {r["step"]: r["byte_offset"] for r in printed if r["kind"] == "eval"}
    assert len(want_train) == 20 and len(want_eval) == 4
    assert {int(x): int(o) for x, o in zip(loss.x, loss.offset)} == want_train
    assert {int(x): int(o) for x, o in zip(eval_loss.x, eval_loss.offset)} == want_eval


def test_points_of_the_columnar_path_keep_their_offsets() -> None:
    # GIVEN 30,000 plain dict lines (1.8 MB), read as columns (Batch items)
    data = records_bytes(0, 30_000)
    pipe = Pipeline()
    items = pipe.feed(data)
    pipe.finish()
    assert any(isinstance(it, Batch) for it in items)
    # THEN each point in the ring (the latest 4096) is at its line's first byte
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")][:-1]
    loss = pipe.run.snapshot().series["loss"]
    assert len(loss) == 4096 and loss.offset.tolist() == starts[-4096:]


def test_a_truncation_forgets_the_offsets_read_before_it(tmp_path: Path) -> None:
    # GIVEN a pipeline that read a real run with a traceback
    pipe = Pipeline()
    pipe.feed((REAL / "hf5_resume_append.log").read_bytes())
    before = pipe.run.snapshot()
    crash = [e for e in before.events if e.kind == "traceback"]
    assert crash and crash[0].in_file and crash[0].offset > 0 and before.start_in_file
    # WHEN the file is truncated
    pipe.reset("truncated")
    after = pipe.run.snapshot()
    # THEN the points say -1 and the events and the run's start say they are no longer in the
    # file (their offsets stay: they still order the run's stream), and the reset is at 0
    assert all(int(o) == -1 for s in after.series.values() for o in s.offset)
    old = [e for e in after.events if e.kind != "truncated"]
    assert old and not any(e.in_file for e in old) and [e.offset for e in old] == [e.offset for e in before.events]
    reset = [e for e in after.events if e.kind == "truncated"]
    assert len(reset) == 1 and reset[0].offset == 0 and reset[0].in_file
    assert not after.start_in_file
