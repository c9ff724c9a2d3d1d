"""Every record's step, run by run, against what the Trainer recorded (real logs).

The truth files list each record the Trainer printed (``print_check_records``: its global
step, kind and the byte offset of its text in the log), per run for logs of several runs
(``runs[]``). A record read from the log must carry exactly that step, read whole or fed in
chunks of any size; a step trainmon cannot know is absent, never wrong.
"""

from __future__ import annotations

import json
import re

import pytest
from helpers import FIXTURES

from tui_monitor.core.parse import LogParser, Progress, Record
from tui_monitor.core.parse.items import Batch, RunStart

REAL = FIXTURES / "real"
STEPPED = [
    "disable_tqdm_banner",  # no bar: the banner's steps per epoch times each record's epoch
    "append_two_runs",
    "append_epochs",  # epoch-based runs: the second run's steps per epoch are its own
    "three_runs_append",
    "hf5_linear_warmup",
    "hf5_linear_warmup_unbuffered",
    "hf5_cosine_tee",
    "hf5_constant_lr",
    "hf5_resume_append",
    "killed_sigkill",
    "reuse_shorter",
    "tee_run",
    "tokens_checkpoints",
    "trl_sft",
    "unbuffered_killed_restart",
]


def truth_by_offset(name: str) -> dict[int, tuple[int, str, int]]:
    """``byte_offset -> (run index, kind, step)`` of every record whose text is whole in the log."""
    t = json.loads((REAL / f"{name}.truth.json").read_text())
    runs = t["runs"] if isinstance(t.get("runs"), list) else [t]
    out: dict[int, tuple[int, str, int]] = {}
    index = 0
    for run in runs:
        if not run.get("in_final_log", True):
            continue
        for r in run["print_check_records"]:
            if r["status"] == "intact":
                out[r["byte_offset"]] = (index, r["kind"], r["step"])
        index += 1
    return out


def read_records(data: bytes, chunk: int | None, start: int = 0) -> list[tuple[int, int, str, int | None]]:
    """``(offset, run index, kind, step)`` of every record the parser gives, whole or in chunks."""
    p = LogParser(start_offset=start)
    items = []
    if chunk is None:
        items += p.feed_columnar(data)
    else:
        for i in range(0, len(data), chunk):
            items += p.feed(data[i : i + chunk])
    items += p.flush()
    out: list[tuple[int, int, str, int | None]] = []
    run = 0
    for it in items:
        if isinstance(it, RunStart) and out:
            run += 1
        elif isinstance(it, Record):
            out.append((it.offset, run, it.kind, it.step))
        elif isinstance(it, Batch):
            for i in range(len(it.offsets)):
                r = it.record(i)
                out.append((r.offset, run, r.kind, r.step))
    return out


@pytest.mark.parametrize("chunk", [None, 1, 7, 1 << 20], ids=["whole", "1B", "7B", "1MiB"])
@pytest.mark.parametrize("name", STEPPED)
def test_every_record_has_its_true_step_in_its_run(name: str, chunk: int | None) -> None:
    # GIVEN a real Trainer log (one or several runs, buffered or not) and the Trainer's record of it
    truth = truth_by_offset(name)
    data = (REAL / f"{name}.log").read_bytes()
    # WHEN it is read whole or fed in chunks
    got = read_records(data, chunk)
    # THEN every record the Trainer printed whole is read, in its run, with its true step
    assert {off for off, *_ in got} >= set(truth)
    mismatched = [
        (off, run, kind, step, truth[off])
        for off, run, kind, step in got
        if off in truth and (run, kind, step) != truth[off]
    ]
    assert mismatched == []


def burst_ends(data: bytes) -> list[int]:
    """Offsets where a run of metric-dict lines ends and other output follows (on a
    block-buffered log, where one write of stdout's buffer ends)."""
    ends = []
    pos = data.find(b"{'")
    while pos >= 0:
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        if not data.startswith(b"{'", nl + 1):
            ends.append(nl + 1)
        pos = data.find(b"{'", nl + 1)
    return ends


@pytest.mark.parametrize("chunk", [None, 1, 7, 1 << 20], ids=["whole", "1B", "7B", "1MiB"])
@pytest.mark.parametrize("name", STEPPED)
def test_a_read_from_mid_file_never_gives_a_wrong_step(name: str, chunk: int | None) -> None:
    # GIVEN a real Trainer log read from an offset in its middle (`--from-end`, the rest of a
    # file after a rotation), at 23 positions: inside dict lines, bars and bursts
    truth = truth_by_offset(name)
    data = (REAL / f"{name}.log").read_bytes()
    ends = burst_ends(data)
    starts = (
        [len(data) * i // 24 for i in range(1, 24)]
        if chunk in (None, 1 << 20)
        else [len(data) * i // 6 for i in range(1, 6)]
    )
    for start in starts:
        # WHEN the parser reads from there on
        got = read_records(data[start:], chunk, start)
        # THEN each record has its true step or none, never a wrong one ...
        wrong = [
            (off, step, truth[off][2])
            for off, _, _, step in got
            if off in truth and step is not None and step != truth[off][2]
        ]
        assert wrong == [], start
        # ... and, once two writes of stdout have ended after the start, every record has its
        # step (the pairing is resynchronised: the first burst's records may be anyone's)
        later = [e for e in ends if e > start]
        if len(later) >= 2 and name != "hf5_constant_lr":
            missing = [off for off, _, _, step in got if off > later[1] and off in truth and step is None]
            assert missing == [], start


@pytest.mark.parametrize("chunk", [None, 1, 7, 1 << 20], ids=["whole", "1B", "7B", "1MiB"])
def test_eval_bars_are_never_taken_for_the_train_bar(chunk: int | None) -> None:
    # GIVEN a real log whose train bar never reached the file: only the nested eval bars (total
    # 8) are left (made from hf5_linear_warmup.log by scripts/real_logs/strip_train_bar.py, so
    # its records are the Trainer's own, in order)
    source = json.loads((REAL / "hf5_linear_warmup.truth.json").read_text())
    steps = [r["step"] for r in source["log_history"]]
    data = (REAL / "eval_bars_only.log").read_bytes()
    assert b"/300 [" not in data and data.count(b"/8 [") > 0
    # WHEN it is read
    p = LogParser()
    items = []
    for i in range(0, len(data), chunk or len(data)):
        items += p.feed(data[i : i + (chunk or len(data))])
    items += p.flush()
    records = [x for x in items if isinstance(x, Record)]
    # THEN every record is read, none with an eval bar's count for its step, and no position
    # of the eval bar is reported as the run's (no "8/8")
    assert len(records) == len(steps)
    assert [r.step for r in records if r.step is not None and r.step != steps[records.index(r)]] == []
    assert [x for x in items if isinstance(x, Progress)] == []


@pytest.mark.parametrize("chunk", [None, 7])
def test_a_banner_without_steps_per_epoch_gives_steps_from_examples_and_batch_size(chunk: int | None) -> None:
    # GIVEN the disable_tqdm log's banner as transformers 4.x prints it (no "Num update steps per
    # epoch" line): Num examples = 1,600, Total train batch size = 16, Num Epochs = 3, Total
    # optimization steps = 300, no gradient accumulation
    truth = truth_by_offset("disable_tqdm_banner")
    data = (REAL / "disable_tqdm_banner.log").read_bytes()
    line = data.index(b"[transformers]   Num update steps per epoch")
    cut = data.index(b"\n", line) + 1 - line
    data = data[:line] + data[line + cut :]
    # WHEN it is read
    got = read_records(data, chunk)
    # THEN every record has its true step (ceil(1600 / 16) = 100 steps per epoch, which the
    # epochs and the total agree with)
    assert [step for *_, step in got] == [truth[off + cut][2] for off, *_ in got]
    assert len(got) == len(truth)


def test_without_bar_or_banner_no_step_is_made_up() -> None:
    # GIVEN a real log with disable_tqdm=True and no banner WHEN it is read
    got = read_records((REAL / "hf5_disable_tqdm.log").read_bytes(), None)
    # THEN no record has a step (the epoch is the x axis)
    assert len(got) == 105 and {step for *_, step in got} == {None}


def thinned(data: bytes, every: int) -> tuple[bytes, dict[int, int]]:
    """``data`` without every ``every``-th tqdm bar draw (a log whose bar redraws are incomplete:
    thinned by a collector, or cut by a terminal), and where each dict's offset moved to."""
    parts = re.split(rb"(\r|\n)", data)
    out: list[bytes] = []
    moved: dict[int, int] = {}
    pos = size = draws = 0
    for i in range(0, len(parts), 2):
        seg, sep = parts[i], parts[i + 1] if i + 1 < len(parts) else b""
        if b"{" not in seg and re.search(rb"\d+%\|[^|]*\|\s*\d+/\d+ \[", seg):
            draws += 1
            if draws % every == 0:
                pos += len(seg) + len(sep)
                continue
        for m in re.finditer(rb"\{'", seg):
            moved[pos + m.start()] = size + m.start()
        out.append(seg + sep)
        pos += len(seg) + len(sep)
        size += len(seg) + len(sep)
    return b"".join(out), moved


@pytest.mark.parametrize("every", [2, 3, 4, 5, 7])
@pytest.mark.parametrize(("name", "interval"), [("hf5_linear_warmup", 5), ("trl_sft", 10)])
def test_a_log_with_incomplete_bar_redraws_never_shifts_steps(name: str, interval: int, every: int) -> None:
    # GIVEN a real log (logging every `interval` steps) with every `every`-th bar draw missing:
    # some log events lose their redraw, and pairing events with records in order would shift
    # every later record by a logging interval (issue 11: steps 370-650 for a 1,677-step run)
    truth = truth_by_offset(name)
    data, moved = thinned((REAL / f"{name}.log").read_bytes(), every)
    true_step = {moved[off]: v[2] for off, v in truth.items() if off in moved}
    # WHEN it is read
    got = read_records(data, None)
    # THEN a step is the true one, or none, or at most a bar update off (the next draw taken for
    # a missing redraw): never a whole logging interval away
    errors = [step - true_step[off] for off, _, _, step in got if step is not None and off in true_step]
    assert all(abs(e) < interval for e in errors), sorted(set(errors))
