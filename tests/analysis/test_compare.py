"""How a run compares with the previous run of its log, or another log's latest run
(core/analysis/compare.py), checked against the Trainer's own log_history of real runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import FIXTURES

from tui_monitor.core.analysis import compare_runs
from tui_monitor.core.analysis.compare import COMPARE_WEIGHT, compare_values
from tui_monitor.core.pipeline import read_baseline, read_once
from tui_monitor.core.text import fmt_num, reason_text

REAL = FIXTURES / "real"


def _ema(values: list[float], w: float = COMPARE_WEIGHT) -> list[float]:
    """TensorBoard's debiased EMA of evenly spaced points, written out independently."""
    out, acc = [], 0.0
    for k, v in enumerate(values, start=1):
        acc = w * acc + (1 - w) * v
        out.append(acc / (1 - w**k))
    return out


def _losses(run: dict) -> list[tuple[int, float, float]]:
    """(step, epoch, loss) of a truth run's train records."""
    return [(h["step"], h["epoch"], h["loss"]) for h in run["log_history"] if "loss" in h and "train_runtime" not in h]


def test_three_runs_appended_latest_compared_with_the_one_before_at_the_same_step() -> None:
    # GIVEN three runs appended to one log (bars of 60, 80 and 40 steps: each run its true steps)
    truth = json.loads((REAL / "three_runs_append.truth.json").read_text())
    pipe = read_once(REAL / "three_runs_append.log")
    assert len(pipe.runs) == 3
    # WHEN the latest run is judged
    reason = pipe.health().reason("loss_compare")
    # THEN it is compared with run 2 where run 3 is now (step 40), both smoothed alike
    assert reason is not None and reason.variant == "run" and reason.params["run"] == 2
    run2, run3 = _losses(truth["runs"][1]), _losses(truth["runs"][2])
    assert reason.step == run3[-1][0] == 40
    now = _ema([v for _, _, v in run3])[-1]
    at = next(i for i, (step, _, _) in enumerate(run2) if step == run3[-1][0])
    then = _ema([v for _, _, v in run2])[at]
    # (the log prints 4 significant digits, the truth keeps all of them)
    assert reason.params["now"] == pytest.approx(now, abs=2e-3)
    assert reason.params["then"] == pytest.approx(then, abs=2e-3)
    assert reason.severity == "info"
    # AND the sentence says it in both languages, with the numbers and the place
    en, ru = reason_text(reason, "en"), reason_text(reason, "ru")
    assert en.startswith(
        f"loss {fmt_num(reason.params['now'])} vs {fmt_num(reason.params['then'])} for run 2 at step 40 ("
    )
    assert "у запуска 2 на шаге 40" in ru


def test_baseline_file_compared_at_the_same_step() -> None:
    # GIVEN a 100-step run and, as --baseline, the 300-step run the same log held before
    truth = json.loads((REAL / "reuse_shorter.truth.json").read_text())
    pipe = read_once(REAL / "reuse_shorter.log")
    base = read_baseline(REAL / "reuse_shorter.part1.log")
    assert base.source == "reuse_shorter.part1.log"
    # WHEN compared
    reason = compare_runs(pipe.run.snapshot(), base)
    # THEN at step 100, the shorter run's last step, with the longer run's value there
    assert reason is not None and reason.variant == "file" and reason.step == 100
    old, new = _losses(truth["runs"][0]), _losses(truth["runs"][1])
    at = [s for s, _, _ in old].index(100)
    assert reason.params["now"] == pytest.approx(_ema([v for _, _, v in new])[-1], abs=2e-3)
    assert reason.params["then"] == pytest.approx(_ema([v for _, _, v in old])[at], abs=2e-3)
    assert "for reuse_shorter.part1.log at step 100" in reason_text(reason, "en")


def test_a_run_is_not_compared_without_an_earlier_one_and_each_earlier_run_with_its_own() -> None:
    # GIVEN a log with one run WHEN judged THEN there is no comparison
    assert read_once(REAL / "reuse_shorter.log").health().reason("loss_compare") is None
    # GIVEN three runs WHEN run 2 (steps) is compared with run 1 (ordinals, epochs) THEN at run 1's last epoch
    pipe = read_once(REAL / "three_runs_append.log")
    r1, r2 = (r.snapshot() for r in pipe.runs[:2])
    c = compare_values(r2, r1)
    assert c is not None and c.is_step and c.epoch == pytest.approx(0.6) and c.x == 60


def test_a_run_without_steps_is_compared_with_the_one_before_at_the_same_epoch(tmp_path: Path) -> None:
    # GIVEN two real runs appended to one log, the latest with neither bar nor banner (no step:
    # the epoch is its x axis), the first with a banner (steps from its epochs)
    log = tmp_path / "train.log"
    log.write_bytes((REAL / "disable_tqdm_banner.log").read_bytes() + (REAL / "hf5_disable_tqdm.log").read_bytes())
    pipe = read_once(log)
    assert len(pipe.runs) == 2
    # WHEN the latest run is judged
    reason = pipe.health().reason("loss_compare")
    # THEN it is compared with run 1 where run 1 was at the latest run's last epoch (run 1
    # logged every 0.1 epoch: 1.5 for 1.5625), said as an epoch
    last = _losses(json.loads((REAL / "hf5_disable_tqdm.truth.json").read_text()))[-1][1]
    run1 = [ep for _, ep, _ in _losses(json.loads((REAL / "disable_tqdm_banner.truth.json").read_text())["runs"][0])]
    at = max(ep for ep in run1 if ep <= last)
    assert reason is not None and reason.variant == "run_epoch" and reason.params["run"] == 1
    assert reason.params["epoch"] == pytest.approx(at)
    assert f"for run 1 at epoch {fmt_num(at, 3)} (" in reason_text(reason, "en")
