"""`trainmon report --check`: one line and the Nagios plugin exit status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES

from tui_monitor.cli import main


def check(path: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["report", "--check", str(path)])
    out = capsys.readouterr()
    assert out.err == ""
    return code, out.out.splitlines()


@pytest.mark.parametrize(
    ("fixture", "code", "start", "perf"),
    [
        (
            "real/hf5_linear_warmup.log",
            0,
            "TRAINMON OK - loss fell 6.191 → 4.272 (−31 %)",
            "loss=4.273 grad_norm=2.139 learning_rate=7.143e-07 eval_loss=4.194 step=300",
        ),
        (
            "public/trainer_state_plateau_ln4.json",
            1,
            "TRAINMON WARNING - loss is flat near 1.387 over 11 points",
            "loss=1.3872 learning_rate=7.08215e-07 eval_loss=1.38629 step=3140",
        ),
        (
            "public/glm4_gradnorm_nan_trailing_ws.log",
            2,
            "TRAINMON CRITICAL - grad_norm is nan (first at epoch 5.38, 1× in all) while loss is still finite",
            "loss=0.2096 grad_norm=U learning_rate=0.00026",
        ),
    ],
)
def test_check_gives_the_verdict_as_exit_status_and_one_line(
    fixture: str, code: int, start: str, perf: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a healthy, a warning and a critical log WHEN `report --check` THEN 0/1/2 and `TRAINMON WORD - reason | perfdata`."""
    got, lines = check(FIXTURES / fixture, capsys)
    assert got == code
    assert len(lines) == 1
    text, _, perfdata = lines[0].partition(" | ")
    assert text.startswith(start), lines[0]
    assert perfdata == perf


def test_an_empty_file_and_a_missing_one_are_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN an empty log and a path that does not exist WHEN checked THEN 3 and `TRAINMON UNKNOWN - why`."""
    empty = tmp_path / "train.log"
    empty.write_bytes(b"")
    assert check(empty, capsys) == (3, ["TRAINMON UNKNOWN - no metric record in 0 bytes read"])
    assert check(tmp_path / "nope.log", capsys) == (3, [f"TRAINMON UNKNOWN - {tmp_path / 'nope.log'}: no such file"])


def test_without_check_report_keeps_its_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a critical log and a missing one WHEN `report` without --check THEN 0 and 1, as before."""
    assert main(["report", str(FIXTURES / "public/glm4_gradnorm_nan_trailing_ws.log")]) == 0
    capsys.readouterr()
    assert main(["report", str(tmp_path / "nope.log")]) == 1
    assert capsys.readouterr().err.strip() == f"trainmon: {tmp_path / 'nope.log'}: no such file"


@pytest.mark.slow  # trainmon in a subprocess
def test_check_as_a_shell_sees_it(tmp_path: Path) -> None:
    """GIVEN the console script's module in a subprocess WHEN checking a critical log THEN the shell gets 2."""
    log = FIXTURES / "public/glm4_gradnorm_nan_trailing_ws.log"
    done = subprocess.run(
        [sys.executable, "-m", "tui_monitor", "report", "--check", str(log)],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    assert done.returncode == 2
    assert done.stdout.startswith("TRAINMON CRITICAL - grad_norm is nan")
    assert done.stdout.count("\n") == 1
