"""`trainmon report` as a user runs it: the real console script in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES

pytestmark = pytest.mark.slow  # trainmon report in a subprocess

FIX = FIXTURES


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui_monitor", *args], capture_output=True, text=True, timeout=60)


def test_report_json_is_strict_and_has_stable_keys() -> None:
    # GIVEN a log whose last grad_norm is nan WHEN reported as JSON
    out = run("report", "--json", str(FIX / "public" / "glm4_gradnorm_nan_trailing_ws.log"))
    assert out.returncode == 0
    d = json.loads(out.stdout, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    # THEN non-finite values are strings and the documented keys are there
    assert d["format"] == "console"
    assert d["records"] == {"train": 6, "eval": 0, "summary": 0}
    assert d["metrics"]["grad_norm"]["last"] == "nan"
    assert d["metrics"]["grad_norm"]["nonfinite"] == 1
    assert d["metrics"]["grad_norm"]["max"] == 5.625
    assert d["progress"] == {"global_step": None, "total_steps": None, "epoch": 5.38}
    assert d["skipped"] == 0


def test_report_text_is_readable() -> None:
    out = run("report", str(FIX / "real" / "hf5_linear_warmup.log"))
    assert out.returncode == 0
    assert "60 train, 6 eval, 1 summary records" in out.stdout
    assert "step 300/300" in out.stdout
    loss_line = next(line for line in out.stdout.splitlines() if line.startswith("loss "))
    assert loss_line.split()[1:4] == ["60", "6.191", "4.273"]


def test_missing_file_one_line_exit_1(tmp_path: Path) -> None:
    out = run("report", str(tmp_path / "nope.log"))
    assert out.returncode == 1
    assert out.stderr.strip() == f"trainmon: {tmp_path / 'nope.log'}: no such file"
    assert "Traceback" not in out.stderr


def test_directory_one_line_exit_1(tmp_path: Path) -> None:
    out = run("report", str(tmp_path))
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "is a directory" in out.stderr


def test_read_only_file_is_read(tmp_path: Path) -> None:
    # trainmon opens logs O_RDONLY: a file nobody may write to is read fine and unchanged
    log = tmp_path / "ro.log"
    log.write_bytes(b"{'loss': 1.5, 'epoch': 0.1}\n")
    log.chmod(0o444)
    before = log.stat()
    out = run("report", "--json", str(log))
    assert json.loads(out.stdout)["records"]["train"] == 1
    after = log.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_three_line_example_is_healthy_with_its_reasons(tmp_path: Path) -> None:
    # GIVEN the three records from the brief
    log = tmp_path / "train.log"
    log.write_text(
        "{'loss': 3.8214, 'learning_rate': 0.0, 'epoch': 0.0}\n"
        "{'loss': 3.1959, 'learning_rate': 0.0002, 'epoch': 0.0}\n"
        "{'loss': 2.3571, 'learning_rate': 0.000199, 'epoch': 0.01}\n"
    )
    # WHEN reported as JSON
    d = json.loads(run("report", "--json", str(log)).stdout)
    # THEN healthy, loss fell 3.821 -> 2.357, LR warmed up and decays, epoch advancing
    assert d["verdict"]["status"] == "healthy"
    codes = [r["code"] for r in d["verdict"]["reasons"]]
    assert "loss_decreasing" in codes and "epoch_advancing" in codes
    assert "lr_decay" in codes or "lr_warmup" in codes
    loss_text = next(r["text"] for r in d["verdict"]["reasons"] if r["code"] == "loss_decreasing")
    assert "3.821 → 2.357" in loss_text
    assert d["lr"]["peak"] == 0.0002
    assert d["state"] == "running"


def test_text_report_leads_with_verdict_in_russian() -> None:
    out = run("report", "--lang", "ru", str(FIX / "public" / "glm4_gradnorm_nan_trailing_ws.log"))
    lines = out.stdout.splitlines()
    assert lines[2] == "КРИТИЧНО"  # the same words as the app (text.verdict_word)
    assert lines[3].startswith("  ✗ grad_norm")


def test_report_json_verdict_keys_on_a_finished_run() -> None:
    d = json.loads(run("report", "--json", str(FIX / "real" / "hf5_cosine_tee.log")).stdout)
    assert d["state"] == "finished"
    assert d["loss"]["trend"] == "decreasing" and d["loss"]["spikes"] == 0
    assert d["grad"] == {"status": "healthy"}
    assert d["lr"]["schedule"] == "cosine" and d["lr"]["peak"] == 0.0005
    assert d["eval"]["best"]["key"] == "eval_loss" and d["eval"]["best"]["value"] == 3.649
    assert d["eval"]["overfitting"] is False
    assert d["verdict"]["status"] == "healthy"


def test_file_without_records_is_no_data(tmp_path: Path) -> None:
    log = tmp_path / "junk.txt"
    log.write_text("hello\nno metrics here\n")
    out = run("report", str(log))
    assert out.returncode == 0
    assert out.stdout.splitlines()[2:4] == ["NO DATA", "  · no metric record in 22 bytes read"]
    d = json.loads(run("report", "--json", str(log)).stdout)
    assert d["verdict"]["status"] == "no_data" and d["verdict"]["reasons"][0]["code"] == "no_data"


def test_report_on_a_log_with_only_eval_bars_does_not_call_the_eval_bar_the_run() -> None:
    # GIVEN a real log whose train bar never reached the file (only nested eval bars, total 8)
    out = run("report", "--json", str(FIX / "real" / "eval_bars_only.log"))
    assert out.returncode == 0
    d = json.loads(out.stdout)
    # THEN no step or total comes from the eval bar, and the loss is not judged flat (its
    # points are not stacked at one step)
    assert d["progress"]["global_step"] is None and d["progress"]["total_steps"] is None
    assert d["records"] == {"train": 60, "eval": 6, "summary": 1}
    codes = [r["code"] for r in d["verdict"]["reasons"]]
    assert "loss_decreasing" in codes and "loss_plateau" not in codes
    assert "8/8" not in run("report", str(FIX / "real" / "eval_bars_only.log")).stdout
