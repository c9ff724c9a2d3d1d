"""Throughput, slowdowns, checkpoints and the eval − train gap on a real Trainer log
(``tokens_checkpoints``: ``include_num_input_tokens_seen``, a checkpoint every 50 steps, evals
every 50), judged against what the Trainer itself recorded (its truth file)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES

from tui_monitor.core.analysis import analyse
from tui_monitor.core.analysis.checkpoints import CheckpointDisk, checkpoint_status
from tui_monitor.core.pipeline import read_once
from tui_monitor.core.report import report_dict
from tui_monitor.core.text import reason_text

REAL = FIXTURES / "real"
LOG = REAL / "tokens_checkpoints.log"
TRUTH = json.loads((REAL / "tokens_checkpoints.truth.json").read_text())
HISTORY = TRUTH["log_history"]
TRAIN = [e for e in HISTORY if "loss" in e]


def test_throughput_from_tokens_and_train_runtime() -> None:
    # GIVEN the real log, whose train records carry num_input_tokens_seen and train_runtime
    # WHEN reported as JSON
    d = report_dict(read_once(LOG))
    tp = d["throughput"]
    # THEN the rates are those of the Trainer's own last interval (steps 190 → 200)
    a, b = TRAIN[-2], TRAIN[-1]
    dt = b["train_runtime"] - a["train_runtime"]
    assert tp["source"] == "train_runtime"
    assert tp["tokens_key"] == "num_input_tokens_seen"
    assert tp["tokens_seen"] == TRUTH["facts"]["num_input_tokens_seen_last"]
    # (the log prints train_runtime with 4 significant digits: 11.33 / 11.59)
    assert tp["steps_per_second"] == pytest.approx((b["step"] - a["step"]) / dt, rel=0.02)
    tokens = b["num_input_tokens_seen"] - a["num_input_tokens_seen"]
    assert tp["tokens_per_second"] == pytest.approx(tokens / dt, rel=0.02)
    batch = TRUTH["run_info"]["train_batch_size"] * TRUTH["run_info"]["world_size"]
    assert tp["samples_per_second"] == pytest.approx(tp["steps_per_second"] * batch)
    assert tp["printed_tokens_per_second"] == pytest.approx(b["train_tokens_per_second"], rel=1e-3)
    whole = (b["step"] - TRAIN[0]["step"]) / (b["train_runtime"] - TRAIN[0]["train_runtime"])
    assert tp["mean_steps_per_second"] == pytest.approx(whole, rel=0.02)


def test_slowdown_found_where_the_trainer_slowed_and_evals_are_not_slowdowns() -> None:
    # GIVEN the real log: the machine was loaded around steps 110-130 (train_runtime grew 3.2 s
    # over steps 120 → 130 against ~0.3 s per 10 steps elsewhere)
    d = report_dict(read_once(LOG))
    sd = d["throughput"]["slowdown"]
    steps = [e["step"] for e in TRAIN]
    secs = [e["train_runtime"] for e in TRAIN]
    slowest = max(range(1, len(steps)), key=lambda i: secs[i] - secs[i - 1])
    # THEN the slowdown spans the Trainer's slowest interval, and the run recovered after it
    assert sd["since_step"] <= steps[slowest - 1] and sd["until_step"] >= steps[slowest]
    assert sd["until_step"] < steps[-1]
    assert sd["ratio"] < 0.5
    reason = next(r for r in d["verdict"]["reasons"] if r["code"] == "throughput_slowdown")
    assert reason["severity"] == "info"
    assert f"between steps {sd['since_step']} and {sd['until_step']}" in reason["text"]
    # AND no interval holding an evaluation or a checkpoint save starts the slowdown
    paused = {e["step"] for e in HISTORY if "eval_loss" in e}
    assert sd["since_step"] not in paused


def test_checkpoints_from_saving_lines() -> None:
    # GIVEN the real log's "Saving model checkpoint to out/checkpoint-N" lines
    d = report_dict(read_once(LOG))
    ck = d["checkpoints"]
    lines = TRUTH["log_file_stats"]["saving_checkpoint_lines"]
    # THEN every checkpoint is counted and the last is the Trainer's last
    assert ck["count"] == len(lines)
    assert ck["last"]["path"] == lines[-1]
    assert ck["last"]["step"] == TRUTH["facts"]["final_step"]
    assert ck["last"]["steps_since"] == 0
    assert ck["disk"] is None  # out/ is not beside the fixture


def test_crashed_run_says_what_to_redo_from_the_last_checkpoint(tmp_path: Path) -> None:
    # GIVEN the real log cut just before the record of step 140 (the process died there),
    # written an hour ago
    rec140 = next(r for r in TRUTH["runs"][0]["print_check_records"] if r["step"] == 140 and r["kind"] == "train")
    cut = tmp_path / "train.log"
    cut.write_bytes(LOG.read_bytes()[: rec140["byte_offset"]])
    hour_ago = os.stat(cut).st_mtime - 3600
    os.utime(cut, (hour_ago, hour_ago))
    d = report_dict(read_once(cut))
    # THEN the last checkpoint (step 100) and the 30 steps after it are said
    ck = d["checkpoints"]["last"]
    assert ck["step"] == 100
    assert ck["steps_since"] == 130 - 100
    assert ck["redo_seconds"] == pytest.approx(30 / d["throughput"]["mean_steps_per_second"])
    reason = next(r for r in d["verdict"]["reasons"] if r["code"] == "checkpoint_redo")
    assert reason["severity"] == "warning"
    assert reason["text"].startswith("last checkpoint at step 100: 30 steps, ~0:0")


def test_local_checkpoint_dir_size_age_and_best(tmp_path: Path) -> None:
    # GIVEN the log beside its output dir: out/checkpoint-200 holds the Trainer's
    # trainer_state.json (here naming a best checkpoint, as load_best_model_at_end does)
    shutil.copy(LOG, tmp_path / "train.log")
    ckpt = tmp_path / "out" / "checkpoint-200"
    ckpt.mkdir(parents=True)
    state = json.loads((REAL / "tokens_checkpoints.trainer_state.json").read_text())
    state["best_model_checkpoint"] = "out/checkpoint-150"
    state["best_metric"] = 3.686835289001465
    (ckpt / "trainer_state.json").write_text(json.dumps(state))
    (ckpt / "model.safetensors").write_bytes(b"\0" * 5000)
    size = sum(p.stat().st_size for p in ckpt.iterdir())
    d = report_dict(read_once(tmp_path / "train.log"))
    ck = d["checkpoints"]
    # THEN its size, free space and the best checkpoint are read from this machine
    assert ck["disk"]["path"] == str(ckpt.resolve())
    assert ck["disk"]["size_bytes"] == size
    assert ck["disk"]["free_bytes"] > 0
    assert ck["best"] == {"path": "out/checkpoint-150", "metric": 3.686835289001465}
    assert ck["last"]["age_seconds"] is not None and ck["last"]["age_seconds"] >= 0


def test_low_free_space_is_a_warning() -> None:
    # GIVEN the real run and a checkpoint dir whose filesystem has less room than one checkpoint
    pipe = read_once(LOG)
    h = pipe.health()
    snap = pipe.run.snapshot()
    disk = CheckpointDisk("/data/out/checkpoint-200", 5_000_000_000, 0.0, 1_000_000_000)
    ck = checkpoint_status(snap, h.throughput.mean_steps_per_s, disk, 60.0)
    # THEN it is low on space, and the verdict says so with both sizes
    assert ck.low_space and ck.age_s == 60.0
    h2 = analyse(snap, None, checkpoint_disk=disk)
    r = h2.reason("checkpoint_space")
    assert r is not None and r.severity == "warning"
    assert (
        reason_text(r)
        == "only 953.7 MiB free where checkpoints are saved (/data/out/checkpoint-200); the last one took 4.7 GiB"
    )


def test_best_checkpoint_from_trainer_state_input(tmp_path: Path) -> None:
    # GIVEN a trainer_state.json (the Trainer's own) that names the best checkpoint
    state = json.loads((REAL / "tokens_checkpoints.trainer_state.json").read_text())
    state["best_model_checkpoint"] = "out/checkpoint-150"
    state["best_metric"] = 3.6868
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps(state, indent=2))
    d = report_dict(read_once(path))
    # THEN report --json names it
    assert d["checkpoints"]["best"] == {"path": "out/checkpoint-150", "metric": 3.6868}


def test_gap_is_eval_minus_train_at_the_nearest_step() -> None:
    d = report_dict(read_once(LOG))
    evals = [e for e in HISTORY if "eval_loss" in e]
    by_step = {e["step"]: e["loss"] for e in TRAIN}
    gaps = [e["eval_loss"] - by_step[e["step"]] for e in evals]
    g = d["gap"]
    # THEN the latest gap and the first are the Trainer's (4-digit printing), over every eval
    assert g["n"] == len(evals)
    assert g["step"] == evals[-1]["step"]
    assert g["gap"] == pytest.approx(gaps[-1], abs=2e-3)
    assert g["first_gap"] == pytest.approx(gaps[0], abs=2e-3)
    assert g["trend"] == "steady"  # it moved by well under 2 % of the loss
