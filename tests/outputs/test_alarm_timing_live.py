"""Alarms on the record that shows them, live (issue 12, item 9).

A real exploding Trainer run is written into a log piece by piece, the way the Trainer wrote it
(its .chunks.tsv), while ``trainmon tail --json`` follows it. After each piece the test waits
until trainmon has put out every record the piece completed, so the place of the first
critical status line among the records is exactly the record on which trainmon sounded it.
That place must be the record that first shows the problem, found by judging the same log one
record at a time through the real parser, run state and verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import TailProcess

from tui_monitor.core.analysis import analyse
from tui_monitor.core.parse import LogParser, Record
from tui_monitor.core.state import Run

pytestmark = pytest.mark.slow  # trainmon tail in a subprocess

DATA = Path(__file__).resolve().parents[2] / "tui_monitor" / "data"


def first_critical_record(log: bytes) -> tuple[int, float]:
    """(index among train records, its grad_norm) of the record on which the verdict first
    turns critical, judging ``log`` one record at a time."""
    p, run = LogParser(), Run()
    n = 0
    for item in p.feed(log) + p.flush():
        run.apply([item])
        if isinstance(item, Record) and item.kind == "train":
            n += 1
            if analyse(run.snapshot(), None).status == "critical":
                return n - 1, float(item.metrics["grad_norm"])
    raise AssertionError("the log never turns critical")


def test_verdict_turns_critical_live_on_the_record_that_shows_it(tmp_path: Path) -> None:
    src = DATA / "hf4_exploding_nan.log"
    data = src.read_bytes()
    chunks = [tuple(map(int, ln.split("\t")[1:])) for ln in src.with_suffix(".chunks.tsv").read_text().splitlines()[1:]]
    want_index, want_grad = first_critical_record(data)
    # The record that turns it is the first whose grad_norm is far above its usual level (not
    # the onset, not a record later); the usual level of this run is below 2.
    assert want_grad > 10 * 2.0
    # GIVEN trainmon tail --json following a log that a real Trainer writes
    log = tmp_path / "train.log"
    log.write_bytes(b"")
    tail = TailProcess("--json", str(log))
    try:
        tail.wait_for(lambda ls: any('"following"' in s for s in ls), "following status")
        written = 0
        with open(log, "ab", buffering=0) as f:
            for off, n in chunks:
                # WHEN each piece is written and trainmon has read it
                f.write(data[off : off + n])
                written = off + n
                p = LogParser()
                done = sum(isinstance(i, Record) and i.kind == "train" for i in p.feed(data[:written]) + p.flush())
                tail.wait_for(
                    lambda ls, done=done: sum('"kind": "train"' in s for s in ls) >= done,
                    f"{done} train records",
                )
        objs = [json.loads(s) for s in tail.seen]
    finally:
        tail.stop()
    # THEN the first critical status follows exactly the record that first shows the problem
    trains = 0
    at = None
    for o in objs:
        if o["type"] == "record" and o["kind"] == "train":
            trains += 1
        elif o["type"] == "status" and o.get("verdict") == "critical":
            at = trains
            break
    assert at is not None, "never said critical"
    assert at == want_index + 1
