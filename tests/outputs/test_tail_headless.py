"""`trainmon tail --plain/--json` as a user runs it, with a real writer replaying a real log."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import FIXTURES, TailProcess

pytestmark = pytest.mark.slow  # trainmon tail in a subprocess


def replay(src: Path, dst: Path, speed: float = 40.0) -> threading.Thread:
    """Append ``src`` to ``dst`` in the byte pieces and at the pace it was really written
    (its .chunks.tsv), ``speed`` times faster."""
    chunks = [line.split("\t") for line in src.with_suffix(".chunks.tsv").read_text().splitlines()[1:]]
    data = src.read_bytes()

    def run() -> None:
        start = time.monotonic()
        with open(dst, "ab", buffering=0) as f:
            for t, off, n in chunks:
                delay = float(t) / speed - (time.monotonic() - start)
                if delay > 0:
                    time.sleep(delay)
                f.write(data[int(off) : int(off) + int(n)])

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def records(lines: list[str]) -> list[dict]:
    return [o for o in map(json.loads, lines) if o["type"] == "record"]


def test_json_tail_sees_every_record_of_a_live_real_run(tmp_path: Path) -> None:
    # GIVEN trainmon tail --json started before the training log exists
    log = tmp_path / "train.log"
    tail = TailProcess("--json", str(log))
    try:
        tail.wait_for(lambda ls: any('"waiting"' in s for s in ls), "waiting status")
        # WHEN a real Trainer run's log is written at (40x) its real pace
        writer = replay(FIXTURES / "real" / "hf5_linear_warmup_unbuffered.log", log)
        lines = tail.wait_for(lambda ls: sum('"summary"' in s for s in ls) >= 1, "the summary record")
        writer.join()
        # THEN every record the Trainer logged arrives, once, with its values
        recs = records(lines)
        truth = json.loads((FIXTURES / "real" / "hf5_linear_warmup_unbuffered.truth.json").read_text())["log_history"]
        assert [r["kind"] for r in recs].count("train") == 60
        assert [r["kind"] for r in recs].count("eval") == 6
        train = [r for r in recs if r["kind"] == "train"]
        want = [h["loss"] for h in truth if "loss" in h and "train_runtime" not in h]
        assert all(abs(r["metrics"]["loss"] - w) / w < 6e-4 for r, w in zip(train, want))
        assert train[0]["metrics"]["loss"] == 6.191 and train[-1]["epoch"] == 2.344
    finally:
        status, _ = tail.stop()
    # Ctrl-C ends it with 130, as documented
    assert status == 130


def test_plain_tail_reports_truncation_and_restart(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(b"{'loss': 2.5, 'learning_rate': 1e-4, 'epoch': 0.5}\n")
    tail = TailProcess("--plain", str(log))
    try:
        tail.wait_for(lambda ls: any("loss 2.5" in s for s in ls), "first record")
        # WHEN the run is restarted with `> train.log`
        with open(log, "wb") as f:
            f.write(b"{'loss': 3.75, 'learning_rate': 0.0, 'epoch': 0.01}\n")
        lines = tail.wait_for(lambda ls: any("loss 3.75" in s for s in ls), "record after restart")
        # THEN the reset and the new run (epoch back at the start: not a resume) are said,
        # then the new record
        assert "-- file truncated" in lines
        assert sum("file truncated" in s for s in lines) == 1  # said once, not as event + reset
        assert "-- run 2 starts: the log was truncated or replaced and the steps do not go on" in lines
        assert not any(s.startswith("-- run restarted or resumed") for s in lines)
        assert lines[-1] == "train    epoch 0.01  loss 3.75  learning_rate 0"
    finally:
        assert tail.stop(signal.SIGTERM)[0] == 143


def test_from_end_skips_history(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(b"{'loss': 9.0, 'epoch': 0.1}\n" * 50)
    tail = TailProcess("--json", "--from-end", "--poll", "0.05", str(log))
    try:
        tail.wait_for(lambda ls: any('"poll"' in s for s in ls), "status with poll mode")
        with open(log, "ab") as f:
            f.write(b"{'loss': 1.25, 'epoch': 0.2}\n")
        lines = tail.wait_for(lambda ls: len(records(ls)) >= 1, "the appended record")
        assert [r["metrics"]["loss"] for r in records(lines)] == [1.25]
    finally:
        tail.stop()


@pytest.mark.parametrize("make", ["dir", "noperm"])
def test_unreadable_path_is_one_line_and_exit_1(tmp_path: Path, make: str) -> None:
    if make == "dir":
        target = tmp_path
    else:
        if os.geteuid() == 0:
            pytest.skip("root reads files whatever their mode")
        target = tmp_path / "x.log"
        target.write_text("x")
        target.chmod(0)
    out = subprocess.run(
        [sys.executable, "-m", "tui_monitor", "tail", "--plain", str(target)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("trainmon: ")


@pytest.mark.parametrize("label", [None, "run/train.log"])
def test_json_lines_of_columnar_batches_equal_per_record_json(label: str | None) -> None:
    import io

    from tui_monitor.core.headless import HeadlessPrinter
    from tui_monitor.core.pipeline import Pipeline

    # GIVEN a catch-up chunk big enough for the columnar path, with nan, inf, -0.0 and ints
    rows = []
    for i in range(6000):
        loss = ["nan", "inf", "-inf", "-0.0", "3"][i % 5] if i % 97 == 0 else f"{5 - i / 3000:.4f}"
        rows.append(
            f"{{'loss': {loss}, 'grad_norm': {0.5 + (i % 7) / 10}, 'learning_rate': {2e-4 * (1 - i / 6000):.6g}, 'epoch': {i / 1000:.2f}}}\n"
        )
    data = "".join(rows).encode()
    outs = []
    for batches in (False, True):
        buf = io.StringIO()
        printer = HeadlessPrinter(buf, as_json=True, label=label)
        pipe = Pipeline(on_items=printer.items, batches=batches)
        pipe.feed(data)
        pipe.finish()
        outs.append(buf.getvalue())
    # THEN the printed lines are identical, whichever path printed them
    assert outs[0].count("\n") == 6000
    assert outs[1] == outs[0]
    assert all(json.loads(line)["type"] == "record" for line in outs[1].splitlines())


@pytest.mark.parametrize("label", [None, "a b/ü.log"])
def test_record_json_lines_are_exactly_json_dumps(label: str | None) -> None:
    import io
    import math

    from tui_monitor.core.headless import HeadlessPrinter, record_json
    from tui_monitor.core.parse import Record

    recs = [
        Record("train", {"loss": 2.5, "grad_norm": math.nan, 'we"ird\\key': -math.inf, "kl": -0.0}, 5, 0.01, 10),
        Record("eval", {"eval_loss": 1e300}, None, None, 99, "1"),
        Record("summary", {"train_runtime": 56.28}, 300, 2.344, 1234),
    ]
    buf = io.StringIO()
    HeadlessPrinter(buf, as_json=True, label=label).items(recs)
    want = [
        json.dumps(({"file": label} if label else {}) | record_json(r), allow_nan=False, ensure_ascii=False)
        for r in recs
    ]
    assert buf.getvalue().splitlines() == want


def test_verdict_changes_are_said(tmp_path: Path) -> None:
    # GIVEN a run that is fine, followed headless
    log = tmp_path / "train.log"
    log.write_bytes(
        b"".join(
            b"{'loss': %.2f, 'grad_norm': 1.0, 'learning_rate': 1e-4, 'epoch': %.2f}\n" % (3 - i / 10, i / 100)
            for i in range(10)
        )
    )
    tail = TailProcess("--json", str(log))
    try:
        lines = tail.wait_for(lambda ls: any('"verdict"' in s for s in ls), "the first verdict")
        first = [json.loads(s) for s in lines if '"verdict"' in s]
        assert first[0]["verdict"] == "healthy"
        # WHEN grad_norm turns NaN while the loss still looks finite
        with open(log, "ab") as f:
            f.write(b"{'loss': 2.0, 'grad_norm': nan, 'learning_rate': 1e-4, 'epoch': 0.11}\n")
        lines = tail.wait_for(lambda ls: any('"critical"' in s for s in ls), "the critical verdict")
        # THEN one status object says so, with the reason's code
        crit = [json.loads(s) for s in lines if '"critical"' in s]
        assert crit[0]["type"] == "status" and crit[0]["code"] == "grad_nonfinite"
    finally:
        tail.stop()


def test_each_record_of_a_live_unbuffered_run_shows_with_its_step_at_once(tmp_path: Path) -> None:
    """A record's step is read from the train bar's redraw that follows it (python -u): it is
    shown as soon as that redraw's ``N/T [`` is in the file, not once the next bar update ends
    the redraw's segment (one training step later; never, for a run that dies right after
    logging)."""
    # GIVEN trainmon tail --json following a log, and a real python -u run's pieces
    real = FIXTURES / "real"
    data = (real / "hf5_linear_warmup_unbuffered.log").read_bytes()
    chunks = [
        line.split("\t") for line in (real / "hf5_linear_warmup_unbuffered.chunks.tsv").read_text().splitlines()[1:]
    ]
    truth = json.loads((real / "hf5_linear_warmup_unbuffered.truth.json").read_text())["print_check_records"]
    redraw = re.compile(rb"\d+/300\s*\[")
    # (where each record's redraw has been written up to its "N/T [")
    ready_at = []
    for t in truth:
        m = redraw.search(data, t["byte_offset"] + len(t["text"].encode()))
        assert m is not None
        ready_at.append(m.end())
    log = tmp_path / "train.log"
    log.touch()
    tail = TailProcess("--json", str(log))
    try:
        tail.wait_for(lambda ls: any('"following"' in s for s in ls), "following status")
        shown = 0
        with open(log, "ab", buffering=0) as f:
            for _, off, n in chunks:
                # WHEN the run writes its next piece
                f.write(data[int(off) : int(off) + int(n)])
                end = int(off) + int(n)
                due = sum(1 for r in ready_at if r <= end)
                if due > shown:
                    # THEN every record whose redraw is readable is shown, with the Trainer's
                    # step, before the run writes anything more
                    lines = tail.wait_for(lambda ls, due=due: len(records(ls)) >= due, f"record {due}")
                    got = [(r["kind"], r["step"]) for r in records(lines)[:due]]
                    assert got == [(t["kind"], t["step"]) for t in truth[:due]]
                    shown = due
        assert shown == len(truth) == 67
    finally:
        tail.stop()
