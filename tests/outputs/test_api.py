"""The Python API (``from tui_monitor import load``) on real Trainer logs, against the Trainer's own
``log_history`` (the fixtures' truth files) and against ``trainmon report --json``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import gen_logs  # benchmarks/gen_logs.py (pyproject's pythonpath)
import numpy as np
import pytest
from helpers import FIXTURES

from tui_monitor import load
from tui_monitor.api import InputError
from tui_monitor.cli import main

REAL = FIXTURES / "real"


def _truth(name: str) -> dict:
    return json.loads((REAL / f"{name}.truth.json").read_text())


def _num(v: object) -> float:
    return float(v)  # type: ignore[arg-type]  # "nan"/"inf" strings of the truth files included


def _train(history: list[dict]) -> list[dict]:
    return [r for r in history if "loss" in r and "train_runtime" not in r]


def test_series_are_the_trainers_log_history_with_steps() -> None:
    # GIVEN a real transformers 5.x log with tqdm bars WHEN it is loaded
    truth = _truth("hf5_linear_warmup")
    log = load(REAL / "hf5_linear_warmup.log")
    # THEN loss and eval_loss are the Trainer's records, at the Trainer's global steps
    train = _train(truth["log_history"])
    steps, loss = log.latest.series("loss")
    assert log.latest.series("loss").axis == "step"
    assert steps.dtype == np.float64 and loss.dtype == np.float64
    assert steps.tolist() == [float(r["step"]) for r in train]
    assert loss.tolist() == pytest.approx([_num(r["loss"]) for r in train], rel=1e-3)
    evals = [r for r in truth["log_history"] if "eval_loss" in r]
    ev = log.latest.series("eval_loss")
    assert ev.x.tolist() == [float(r["step"]) for r in evals]
    assert ev.values.tolist() == pytest.approx([r["eval_loss"] for r in evals], rel=1e-3)


def test_runs_of_an_appended_log_each_have_their_own_records() -> None:
    # GIVEN three real runs appended to one log (`>> train.log`) WHEN it is loaded
    truth = _truth("three_runs_append")
    log = load(REAL / "three_runs_append.log")
    # THEN there are three runs, each with its own train records, the latest judged
    assert [r.index for r in log.runs] == [1, 2, 3]
    assert log.latest is log.runs[-1]
    for run, t in zip(log.runs, truth["runs"], strict=True):
        train = _train(t["log_history"])
        s = run.series("loss")
        assert run.records["train"] == len(train)
        assert s.values.tolist() == pytest.approx([_num(r["loss"]) for r in train], rel=1e-3)
        # x is whichever axis the log states, and says which: steps, else the epochs logged
        want_x = [float(r["step"]) if s.axis == "step" else r["epoch"] for r in train]
        assert s.axis in ("step", "epoch")
        assert s.x.tolist() == pytest.approx(want_x)
        assert run.progress.state in ("finished", "superseded")
    assert log.latest.progress.state == "finished"


def test_to_dict_is_report_json_and_the_verdict_is_its_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a real log WHEN loaded and WHEN `trainmon report --json` prints it
    path = REAL / "hf5_resume_append.log"
    log = load(path)
    assert main(["report", "--json", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    # THEN the two objects are equal, and the latest run's verdict is the report's
    assert log.to_dict() == printed
    v = log.latest.verdict
    assert v.status == printed["verdict"]["status"]
    got = [{"code": r.code, "severity": r.severity, "step": r.step, "text": r.text} for r in v.reasons]
    assert got == [{k: e[k] for k in ("code", "severity", "step", "text")} for e in printed["verdict"]["reasons"]]
    assert all(isinstance(r.action, str) for r in v.reasons)
    # and each run's verdict is the one report lists for it
    assert [r.verdict.status for r in log.runs] == [e["verdict"] for e in printed["runs"]]


def test_progress_of_a_finished_run() -> None:
    # GIVEN a real finished run of 300 steps WHEN loaded THEN progress is at its end
    truth = _truth("hf5_linear_warmup")
    p = load(REAL / "hf5_linear_warmup.log").latest.progress
    assert p.step == truth["total_steps"] == p.total_steps
    assert p.fraction == 1.0
    assert p.epoch == pytest.approx(truth["log_history"][-1]["epoch"], abs=1e-3)
    assert p.state == "finished"


def test_reasons_in_russian() -> None:
    log = load(REAL / "hf5_linear_warmup.log", lang="ru")
    text = " ".join(r.text for r in log.latest.verdict.reasons)
    assert any("а" <= ch <= "я" for ch in text)


def test_a_missing_metric_names_the_ones_there_are() -> None:
    run = load(REAL / "hf5_linear_warmup.log").latest
    with pytest.raises(KeyError, match="it has: loss, grad_norm, learning_rate"):
        run.series("accuracy")


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "nope.log")


def test_a_long_run_gives_every_point(tmp_path: Path) -> None:
    # GIVEN a generated Trainer-shaped log of 6000 train records (past the detectors' 4096-point
    # window) with the values each record was written with
    written: list[tuple[int, float]] = []

    def seen(kind: str, step: int, values: dict[str, float | int]) -> None:
        if kind == "train":
            written.append((step, float(values["loss"])))

    path = tmp_path / "train.log"
    with path.open("wb") as out:
        gen_logs.generate(out, "tqdm5", steps=60_000, logging_steps=10, on_record=seen)
    # WHEN loaded
    s = load(path).latest.series("loss")
    # THEN every record is there, at its step, with its value as printed (4 significant digits)
    assert len(written) == 6000
    assert s.axis == "step"
    assert s.x.tolist() == [float(st) for st, _ in written]
    assert np.allclose(s.values, [v for _, v in written], rtol=1e-3)
    assert all(math.isfinite(v) for v in s.values)
