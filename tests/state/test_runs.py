"""Runs: a log is split into runs on real Trainer logs (appended runs, a reused log), each run
counted apart, the latest judged; records held for a redraw go out when the log goes quiet."""

from __future__ import annotations

import io
import json
import os
import threading
from collections import Counter
from pathlib import Path

import pytest
from helpers import FIXTURES, wait_for

from tui_monitor.core.headless import HeadlessPrinter
from tui_monitor.core.monitor import Monitor, MonitorSnapshot
from tui_monitor.core.pipeline import Pipeline, read_once
from tui_monitor.core.report import report_dict

REAL = FIXTURES / "real"


def _truth_counts(history: list[dict[str, object]]) -> dict[str, int]:
    """train / eval / summary records of a Trainer ``log_history``, as the Trainer logged them."""
    kinds = Counter(
        "summary"
        if "train_runtime" in e and "train_loss" in e
        else "eval"
        if any(k.startswith("eval_") for k in e)
        else "train"
        for e in history
    )
    return {k: kinds.get(k, 0) for k in ("train", "eval", "summary")}


@pytest.mark.parametrize("name", ["append_two_runs", "three_runs_append"])
def test_runs_appended_to_one_log_are_counted_apart(name: str) -> None:
    # GIVEN a real log holding several Trainer runs appended with `>>`, and each run's log_history
    truth = json.loads((REAL / f"{name}.truth.json").read_text())
    want = [_truth_counts(r["log_history"]) for r in truth["runs"]]
    # WHEN it is read whole, as `trainmon report --json` does
    d = report_dict(read_once(REAL / f"{name}.log"))
    # THEN there is one run per process, each with its own records, the last one judged,
    # and the top-level counts are the whole file's
    assert [r["records"] for r in d["runs"]] == want
    assert [r["start_reason"] for r in d["runs"]] == ["first"] + ["after_summary"] * (len(want) - 1)
    assert d["run"] == len(want)
    assert d["records"] == {k: sum(w[k] for w in want) for k in ("train", "eval", "summary")}
    assert all(r["state"] == "finished" for r in d["runs"])
    assert d["metrics"]["loss"]["count"] == sum(w["train"] for w in want)
    last_loss = [e["loss"] for e in truth["runs"][-1]["log_history"] if "loss" in e][-1]
    assert d["metrics"]["loss"]["last"] == pytest.approx(last_loss, rel=1e-3)


def test_one_run_with_a_resume_stays_one_run() -> None:
    # GIVEN a run killed and resumed from checkpoint-100 into the same log (steps 105.. re-done)
    pipe = read_once(REAL / "hf5_resume_append.log")
    # THEN it is one run, resumed once, with the Trainer's final counts
    assert len(pipe.runs) == 1
    snap = pipe.run.snapshot()
    assert snap.rewinds == 1 and dict(snap.records) == {"train": 60, "eval": 3, "summary": 1}


def _follow(path: Path) -> tuple[Monitor, threading.Event, threading.Thread]:
    mon = Monitor(str(path), poll=0.05)
    stop = threading.Event()
    th = threading.Thread(target=mon.run, args=(stop,), daemon=True)
    th.start()
    return mon, stop, th


def test_a_shorter_run_into_a_reused_log_is_a_new_run_live(tmp_path: Path) -> None:
    # GIVEN `trainmon tail` following a finished 300-step run
    log = tmp_path / "train.log"
    log.write_bytes((REAL / "reuse_shorter.part1.log").read_bytes())
    mon, stop, th = _follow(log)
    try:
        wait_for(lambda: mon.snapshot().run.records["summary"] == 1, "the first run's summary")
        # WHEN `python train.py --max_steps 100 > train.log` truncates it and writes a new run
        with open(log, "r+b") as f:
            f.truncate(0)
        wait_for(lambda: any(e.kind == "truncated" for e in mon.snapshot().run.events), "the truncation")
        data = (REAL / "reuse_shorter.log").read_bytes()
        for i in range(0, len(data), 4096):
            with open(log, "ab") as f:
                f.write(data[i : i + 4096])
        snap: MonitorSnapshot = wait_for(
            lambda: (s := mon.snapshot()).run.records["summary"] == 1 and len(s.runs) == 2 and s, "the second run"
        )
    finally:
        stop.set()
        th.join(5)
    # THEN the screen's run is the new one: its own records, steps 5..100 of 100, healthy
    run = snap.run
    assert snap.runs[0].superseded and snap.runs[0].records["train"] == 60
    assert dict(run.records) == {"train": 20, "eval": 2, "summary": 1}
    assert (run.progress.step, run.progress.total) == (100, 100)
    loss = run.get("loss")
    assert loss is not None and loss.x_is_step and loss.x[0] == 5.0 and loss.x[-1] == 100.0
    assert snap.health is not None and snap.health.status == "healthy" and snap.health.state.word == "finished"
    assert any(e.kind == "truncated" for e in run.events)


@pytest.mark.parametrize(
    ("path", "train", "step"),
    [
        (Path(__file__).parents[2] / "tui_monitor" / "data" / "hf4_exploding_nan.log", 36, 180),
        (REAL / "killed_sigkill.log", 20, 150),
    ],
)
def test_the_last_record_of_a_killed_run_is_shown_live(path: Path, train: int, step: int) -> None:
    # GIVEN a log that ends right after a record whose tqdm redraw never came (a killed run)
    mon, stop, th = _follow(path)
    try:
        # WHEN it is followed live THEN once the file is quiet the last record is there too,
        # as a whole-file read finds it
        snap = wait_for(lambda: (s := mon.snapshot()).run.records["train"] == train and s, "the last record")
    finally:
        stop.set()
        th.join(5)
    assert snap.run.progress.step == step
    assert read_once(path).run.snapshot().records["train"] == train


def test_tail_json_says_which_run_each_record_belongs_to() -> None:
    # GIVEN three runs in one log WHEN printed as `tail --json` does
    out = io.StringIO()
    printer = HeadlessPrinter(out, as_json=True)
    pipe = Pipeline(on_items=printer.items, batches=True)
    data = (REAL / "three_runs_append.log").read_bytes()
    for i in range(0, len(data), 1000):
        pipe.feed(data[i : i + 1000])
    pipe.finish()
    lines = [json.loads(s) for s in out.getvalue().splitlines()]
    # THEN a run line starts runs 2 and 3, and every record carries its run
    assert [(o["run"], o["reason"]) for o in lines if o["type"] == "run"] == [
        (2, "after_summary"),
        (3, "after_summary"),
    ]
    per_run = Counter(o["run"] for o in lines if o["type"] == "record" and o["kind"] == "train")
    assert per_run == {1: 12, 2: 16, 3: 8}


def test_a_killed_run_read_two_days_later_is_stalled_not_running(tmp_path: Path) -> None:
    # GIVEN a copy of a run killed with SIGKILL (no summary, no traceback), last written 2 days ago
    log = tmp_path / "train.log"
    log.write_bytes((REAL / "killed_sigkill.log").read_bytes())
    two_days = 2 * 86400
    old = log.stat().st_mtime - two_days
    os.utime(log, (old, old))
    # WHEN reported THEN stalled for as long as the file is silent, no ETA, never running
    d = report_dict(read_once(log))
    assert d["state"] == "stalled" and d["verdict"]["status"] == "warning"
    stalled = next(r for r in d["verdict"]["reasons"] if r["code"] == "run_stalled")
    assert stalled["text"].startswith("stalled: no new record for 48:00:")
    assert not any(r["code"] == "run_running" for r in d["verdict"]["reasons"])
    # AND followed live, the first verdict after reading it says the same (the file's clock,
    # not the time trainmon started)
    mon, stop, th = _follow(log)
    try:
        snap = wait_for(lambda: (s := mon.snapshot()).run.records["train"] == 20 and s, "the records")
    finally:
        stop.set()
        th.join(5)
    assert snap.health is not None and snap.health.state.word == "stalled"
    assert snap.health.state.silence_s is not None and snap.health.state.silence_s >= two_days


def test_a_run_written_just_now_without_summary_is_running(tmp_path: Path) -> None:
    # GIVEN the same log, written just now (a live run between two records)
    log = tmp_path / "train.log"
    log.write_bytes((REAL / "killed_sigkill.log").read_bytes())
    # WHEN reported THEN it is running, with its position
    d = report_dict(read_once(log))
    assert d["state"] == "running" and d["progress"]["global_step"] == 150
