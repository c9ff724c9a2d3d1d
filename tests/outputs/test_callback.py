"""The Trainer callback (``tui_monitor.callback.TrainmonCallback``) inside a real Hugging Face
Trainer on CPU: a tiny GPT-2 built from ``GPT2Config`` trained a few seconds on synthetic tokens.

The stream it writes is the Trainer's own ``log_history``; ``trainmon tail`` reads it live with
the Trainer's steps; ``stop_on="critical"`` stops a run made to diverge at the record that shows it.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import TailProcess

from tui_monitor import load
from tui_monitor.callback import TrainmonCallbackLogic, stream_value

STREAM_KEYS = ("total_steps", "wall_time", "run")
"""Keys the stream adds to each ``log_history`` entry."""


def _trainer(out: Path, max_steps: int, callbacks: list[Any], logging_steps: int = 5) -> Any:
    """A real Trainer: tiny GPT-2 (random init, no download), synthetic progressions mod 64."""
    torch = pytest.importorskip("torch", reason="the callback tests need torch==2.13.0 (CPU); .ci/run installs it")
    transformers = pytest.importorskip("transformers", reason="the callback tests need transformers")
    pytest.importorskip("accelerate", reason="the Trainer needs accelerate (.ci/run installs it)")
    os.environ["HF_HUB_OFFLINE"] = "1"
    g = torch.Generator().manual_seed(0)
    starts = torch.randint(0, 64, (256, 1), generator=g)
    deltas = torch.randint(1, 5, (256, 1), generator=g)
    ids = (starts + deltas * torch.arange(16)) % 64

    class Data(torch.utils.data.Dataset):  # type: ignore[misc]
        def __init__(self, rows: Any) -> None:
            self.rows = rows

        def __len__(self) -> int:
            return len(self.rows)

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"input_ids": self.rows[i], "labels": self.rows[i].clone()}

    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(
        transformers.GPT2Config(
            vocab_size=64, n_positions=16, n_embd=32, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0
        )
    )
    args = transformers.TrainingArguments(
        output_dir=str(out),
        max_steps=max_steps,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=32,
        learning_rate=3e-3,
        logging_steps=logging_steps,
        eval_strategy="steps",
        eval_steps=10,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
        seed=0,
    )
    return transformers.Trainer(
        model=model, args=args, train_dataset=Data(ids[:224]), eval_dataset=Data(ids[224:]), callbacks=callbacks
    )


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_stream_is_the_log_history_and_trainmon_tail_reads_its_steps(tmp_path: Path) -> None:
    # GIVEN `trainmon tail --json` waiting for the stream, and a real Trainer with the callback
    pytest.importorskip("torch", reason="the callback tests need torch==2.13.0 (CPU); .ci/run installs it")
    pytest.importorskip("transformers", reason="the callback tests need transformers")
    from tui_monitor.callback import TrainmonCallback

    out = tmp_path / "out"
    tail = TailProcess("--json", str(out / "trainmon.jsonl"), decode=json.loads, deadline_s=60)
    try:
        cb = TrainmonCallback()
        trainer = _trainer(out, max_steps=30, callbacks=[cb])
        # WHEN it trains
        trainer.train()
        history = trainer.state.log_history
        # THEN the stream has one line per log_history entry, equal to it (plus the stream's keys)
        lines = _lines(out / "trainmon.jsonl")
        assert cb.path == out / "trainmon.jsonl"
        assert [{k: v for k, v in line.items() if k not in STREAM_KEYS} for line in lines] == history
        assert {line["total_steps"] for line in lines} == {30}
        assert len({line["run"] for line in lines}) == 1
        assert all(abs(line["wall_time"] - lines[0]["wall_time"]) < 3600 for line in lines)
        # AND trainmon tail, following it live, gives every record at the Trainer's step
        train = [h for h in history if "loss" in h and "train_runtime" not in h]
        evals = [h for h in history if "eval_loss" in h]
        seen = tail.wait_for(
            lambda got: sum(1 for o in got if o.get("type") == "record") == len(history), "every record"
        )
        recs = [o for o in seen if o.get("type") == "record"]
        assert [(o["kind"], o["step"]) for o in recs if o["kind"] == "train"] == [("train", h["step"]) for h in train]
        assert [o["step"] for o in recs if o["kind"] == "eval"] == [h["step"] for h in evals]
        assert [o["metrics"]["loss"] for o in recs if o["kind"] == "train"] == [h["loss"] for h in train]
    finally:
        tail.stop()
    # AND the Python API reads the same file: steps exact, the run's total known, finished
    run = load(out / "trainmon.jsonl").latest
    steps, loss = run.series("loss")
    assert steps.tolist() == [float(h["step"]) for h in train]
    assert loss.tolist() == [h["loss"] for h in train]
    assert run.progress.total_steps == 30 and run.progress.step == 30
    assert run.progress.state == "finished"


@pytest.mark.slow
def test_stop_on_critical_stops_a_diverged_run_at_the_record_that_shows_it(tmp_path: Path) -> None:
    # GIVEN a real run whose weights turn NaN after step 12 (logging every 2 steps), with
    # TrainmonCallback(stop_on="critical")
    torch = pytest.importorskip("torch", reason="the callback tests need torch==2.13.0 (CPU); .ci/run installs it")
    transformers = pytest.importorskip("transformers", reason="the callback tests need transformers")
    from tui_monitor.callback import TrainmonCallback

    class Diverge(transformers.TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
            if state.global_step == 12:
                with torch.no_grad():
                    next(model.parameters()).fill_(math.nan)

    said = io.StringIO()
    cb = TrainmonCallback(stop_on="critical", out=said)
    out = tmp_path / "out"
    trainer = _trainer(out, max_steps=60, callbacks=[Diverge(), cb], logging_steps=2)
    # WHEN it trains
    trainer.train()
    # THEN it stopped at the first record showing a non-finite gradient norm, not at step 60
    lines = _lines(out / "trainmon.jsonl")
    first_bad = next(line for line in lines if line.get("grad_norm") in ("nan", "inf", "-inf"))
    assert first_bad["step"] == 14
    assert trainer.state.global_step == first_bad["step"]
    assert max(line["step"] for line in lines) == first_bad["step"]
    # AND it said why in one line, with trainmon's reason
    text = said.getvalue()
    assert text.count("\n") == 1
    assert text.startswith("trainmon: stopping the training at step 14: grad_norm")
    assert cb.stopped and cb.stopped in text


def test_stream_values_keep_non_finite_as_strings() -> None:
    assert [stream_value(v) for v in (1, 2.5, math.nan, math.inf, -math.inf, "3m", None, True, [1])] == [
        1,
        2.5,
        "nan",
        "inf",
        "-inf",
        "3m",
        None,
        None,
        None,
    ]


def test_stop_on_takes_only_critical() -> None:
    with pytest.raises(ValueError, match="stop_on must be None or 'critical'"):
        TrainmonCallbackLogic(stop_on="warning")


def test_importing_the_module_does_not_import_transformers() -> None:
    # GIVEN a fresh interpreter WHEN tui_monitor and tui_monitor.callback are imported
    code = "import sys, tui_monitor, tui_monitor.callback\nprint('transformers' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # THEN transformers is not loaded (it is, when TrainmonCallback is looked up)
    assert done.stdout.strip() == "False"
