"""Records next to a file reset: randomised replays of real Trainer logs through a truncation,
a copytruncate, a rename-rotation or a restart into the same log at a random byte position, in
every chunking, through the real follower and monitor (issue 17, item 5).

The rule for what must come out (and what "exact step" means for a record cut by the reset) is
the module docstring of ``reset_replay.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reset_replay import REAL, compare, run_replay

SEEDS = range(60)


@pytest.mark.parametrize("seed", SEEDS)
def test_records_and_steps_survive_a_reset(seed: int, tmp_path: Path) -> None:
    # GIVEN a real log written piece by piece, reset at a random byte position (seeded)
    # WHEN trainmon follows it (the real Follower and Monitor, batch by batch)
    rp = run_replay(seed, tmp_path)
    # THEN every readable record comes out once, in its run, with the Trainer's step
    problems = compare(rp)
    assert not problems, rp.describe() + "\n" + "\n".join(problems[:8])


@pytest.mark.parametrize("name", ["unbuffered_killed_restart", "reuse_shorter"])
def test_a_run_restarted_into_its_log_keeps_both_runs_steps(name: str, tmp_path: Path) -> None:
    # GIVEN a real run (python -u killed right after its step-60 record; or a finished one)
    # and the run started again with `> train.log`, replayed as they were written
    rp = run_replay(0, tmp_path, as_written=name)
    # THEN the old run keeps its last record with its own step, and the new run's records
    # are its own, each with the Trainer's step
    truth = json.loads((REAL / f"{name}.truth.json").read_text())["runs"]
    want = [(i + 1, e["step"]) for i, r in enumerate(truth) for e in r["log_history"]]
    assert [(run, rec.step) for run, rec in rp.got] == want
    assert not compare(rp)
