"""Steps of console records from tqdm's clear/redraw log events (core/steps.py)."""

from __future__ import annotations

import json

import pytest
from helpers import FIXTURES

from tui_monitor.core.parse import LogParser, Record

FIX = FIXTURES / "real"


def bar(n: int, total: int) -> str:
    return f"\r {n * 100 // total:2d}%|#    | {n}/{total} [00:01<00:10,  5.00it/s]"


def unbuffered_log(total: int, every: int, epoch_per_step: float) -> str:
    """What the Trainer writes with python -u: bar updates, then per log call a clear,
    the dict, and the redraw at the current step."""
    out = []
    for step in range(1, total + 1):
        out.append(bar(step, total))
        if step % every == 0:
            out.append("\r" + " " * 40 + "\r")
            out.append(f"{{'loss': {10 - step / total:.4f}, 'epoch': {step * epoch_per_step:.4g}}}\n")
            out.append(bar(step, total))
    return "".join(out)


@pytest.mark.parametrize(
    "name",
    [
        "hf5_linear_warmup",
        "hf5_linear_warmup_unbuffered",
        "hf5_cosine_tee",
        "hf5_constant_lr",
        "hf5_resume_append",
        "trl_sft",
    ],
)
def test_steps_equal_the_trainers_own(name: str) -> None:
    # GIVEN a real log and the steps the Trainer stored for each printed record
    truth = json.loads((FIX / f"{name}.truth.json").read_text())
    want = [r["step"] for r in truth.get("printed_sequence") or truth["log_history"]]
    # WHEN parsed THEN every record (train, eval, summary) has exactly that step
    p = LogParser()
    items = p.feed((FIX / f"{name}.log").read_bytes()) + p.flush()
    assert [r.step for r in items if isinstance(r, Record)] == want


def test_log_without_bar_claims_no_step() -> None:
    p = LogParser()
    items = p.feed((FIX / "hf5_disable_tqdm.log").read_bytes()) + p.flush()
    assert {r.step for r in items if isinstance(r, Record)} == {None}


def test_restart_with_other_steps_per_epoch_keeps_steps() -> None:
    # GIVEN a run followed to its end, then the file truncated and a new run with
    # another dataset size (steps per epoch 100 -> 40)
    p = LogParser()
    first = p.feed(unbuffered_log(50, 10, 0.01).encode() + b"\n")
    assert [r.step for r in first if isinstance(r, Record)] == [10, 20, 30, 40, 50]
    p.reset()
    second = p.feed(unbuffered_log(60, 10, 0.025).encode()) + p.flush()
    # THEN the new run's records still get their steps
    assert [r.step for r in second if isinstance(r, Record)] == [10, 20, 30, 40, 50, 60]


def test_foreign_tqdm_write_disables_steps_instead_of_shifting_them() -> None:
    # GIVEN a log where user code also calls tqdm.write (an extra clear/redraw with no dict)
    text = unbuffered_log(30, 10, 0.01)
    extra = "\r" + " " * 40 + "\r" + "my own message\n" + bar(5, 30)
    text = text.replace(bar(5, 30), bar(5, 30) + extra, 1)
    p = LogParser()
    recs = [r for r in p.feed(text.encode()) + p.flush() if isinstance(r, Record)]
    # THEN no record carries a wrong step: either the right one or none
    assert all(r.step in (None, s) for r, s in zip(recs, [10, 20, 30], strict=True))
