"""A log reused by a second run (``> train.log``), followed live by ``trainmon tail --json``.

The real 300-step run of ``reuse_shorter.part1.log`` is written piece by piece (its
.chunks.tsv), then the file is truncated and the real 100-step run of ``reuse_shorter.log`` is
written the same way. Its stdout was block-buffered: its tqdm bar is in the file seconds before
its first record, so the new run must be announced from its bar, with every record in it at
the Trainer's own step.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import FIXTURES, TailProcess

pytestmark = pytest.mark.slow  # trainmon tail in a subprocess

REAL = FIXTURES / "real"
TRUTH = json.loads((REAL / "reuse_shorter.truth.json").read_text())


def _pieces(stem: str) -> list[bytes]:
    data = (REAL / f"{stem}.log").read_bytes()
    rows = (REAL / f"{stem}.chunks.tsv").read_text().splitlines()[1:]
    return [data[int(off) : int(off) + int(n)] for _, off, n in (row.split("\t") for row in rows)]


def _objs(lines: list[str]) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(s) for s in lines]


def test_reused_log_starts_the_new_run_at_its_bar_and_keeps_its_steps(tmp_path: Path) -> None:
    """GIVEN trainmon tail --json following a log whose 300-step run finished WHEN the file is
    truncated and a new run's bar (no record yet) is written THEN run 2 is announced (a new
    file), and once the new run is written whole every record of it has the Trainer's step and
    no verdict takes an eval bar's total for the run's length."""
    log = tmp_path / "train.log"
    log.write_bytes(b"")
    tail = TailProcess("--json", str(log))
    try:
        tail.wait_for(lambda ls: any('"following"' in s for s in ls), "following status")
        with open(log, "ab", buffering=0) as f:
            for piece in _pieces("reuse_shorter.part1"):
                f.write(piece)
        tail.wait_for(lambda ls: any('"kind": "summary"' in s for s in ls), "run 1's summary")
        # WHEN the shell's `> train.log` truncates it and the new run writes its bar
        with open(log, "r+b") as f:
            f.truncate(0)
        tail.wait_for(lambda ls: any('"type": "reset"' in s for s in ls), "the truncation")
        run2 = _pieces("reuse_shorter")
        first_record = next(i for i, p in enumerate(run2) if b"{'loss'" in p)
        assert first_record > 0 and b"/100 [" in b"".join(run2[:first_record])
        with open(log, "ab", buffering=0) as f:
            for piece in run2[:first_record]:
                f.write(piece)
            # THEN the new run is announced before any record of it was written
            tail.wait_for(lambda ls: any('"type": "run"' in s for s in ls), "run 2 announced")
            runs = [o for o in _objs(tail.seen) if o["type"] == "run"]
            assert runs == [{"type": "run", "run": 2, "reason": "new_file"}]
            for piece in run2[first_record:]:
                f.write(piece)
        tail.wait_for(lambda ls: sum('"kind": "summary"' in s for s in ls) == 2, "run 2's summary")
        tail.wait_for(
            lambda ls: '"state": "finished"' in "".join(ls[ls.index(next(s for s in ls if '"type": "run"' in s)) :]),
            "run 2 finished",
        )
        objs = _objs(tail.seen)
    finally:
        tail.stop()
    # THEN run 2's records are the Trainer's, at its steps, and nothing of run 2 went to run 1
    at = next(i for i, o in enumerate(objs) if o["type"] == "run")
    got = [(o["kind"], o["step"]) for o in objs[at:] if o["type"] == "record"]
    want = [
        ("summary" if "train_runtime" in h else "eval" if "eval_loss" in h else "train", h["step"])
        for h in TRUTH["runs"][1]["log_history"]
    ]
    assert got == want
    assert all(o["run"] == 2 for o in objs[at:] if o["type"] == "record")
    assert sum(o["type"] == "record" and o["run"] == 1 for o in objs) == len(TRUTH["runs"][0]["log_history"])
    # (the run's end is said beside the verdict's top reason: `state` and `state_reason`)
    statuses = [o for o in objs[at:] if o["type"] == "status" and o.get("state") == "finished"]
    assert statuses and all("step 100/100" in o.get("state_reason", o["reason"]) for o in statuses)
