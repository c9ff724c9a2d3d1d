"""The top line while a real run is replayed live: speed, ETA, the run's length in epochs, the
writer, and what is left of them once the run has ended. The real app, a real writer process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import FIXTURES, screen_lines, screen_text, start_replay_process, wait_for_app

from tui_monitor.ui.app import make_app

pytestmark = pytest.mark.slow  # a real run replayed at (a multiple of) its real pace

REAL = FIXTURES / "real"
STEP = re.compile(r"step (\d+)/(\d+)")
EPOCHS = re.compile(r"epoch [\d.]+/(≈?)([\d.]+)")
RATE = re.compile(r"([\d.]+(?:e[+-]\d+)?) it/s")


def truth(name: str) -> dict:
    return json.loads((REAL / f"{name}.truth.json").read_text())


async def test_buffered_run_keeps_its_speed_and_length_in_epochs_all_the_way(tmp_path: Path) -> None:
    """GIVEN the real block-buffered run (its records reach the file in bursts, long after the
    bar) WHEN replayed live (6x) THEN every speed shown from step 25 to its end is the writer's (within
    25 % of the summary's train_steps_per_second, never 10x under it) and every estimated length in
    epochs is the run's (2.34), however far the bar has run ahead of the records."""
    t = truth("hf5_linear_warmup")
    mean_rate, final_epoch = t["facts"]["summary"]["train_steps_per_second"], t["facts"]["final_epoch"]
    log = tmp_path / "train.log"
    app = make_app([log], bell=False)
    seen: list[str] = []
    async with app.run_test(size=(160, 40)) as pilot:
        writer = start_replay_process(REAL / "hf5_linear_warmup.log", log, speed=6.0)
        try:

            def finished() -> bool:
                top = screen_lines(app)[0]
                seen.append(top)
                return "finished" in top

            await wait_for_app(pilot, finished, "the run finished", deadline_s=90)
        finally:
            writer.wait(30)
    rates = [(int(m.group(1)), float(r.group(1))) for s in seen if (m := STEP.search(s)) and (r := RATE.search(s))]
    assert any(step >= 150 for step, _ in rates), f"no speed shown past step 150: {seen[-3:]}"
    # The writer's speed whatever the replay's: the bar's own clock, not when bursts were read
    # (from step 25: over the first steps tqdm's own rate still climbs).
    assert all(0.75 * mean_rate <= rate <= 1.33 * mean_rate for step, rate in rates if step >= 25), rates
    estimates = {float(m.group(2)) for s in seen if (m := EPOCHS.search(s)) and m.group(1)}
    assert estimates, f"no estimated length in epochs shown: {seen[-3:]}"
    assert all(abs(e - final_epoch) <= 0.03 * final_epoch for e in estimates), sorted(estimates)


async def test_killed_run_shows_its_writer_then_its_end_without_a_speed_or_eta(tmp_path: Path) -> None:
    """GIVEN the real run killed with SIGKILL at step ~150 of 300 (3 epochs) replayed live by a
    writer process, at 100 columns WHEN the writer runs THEN the top line names its pid beside
    the step and the ETA; WHEN it has exited THEN the run ``ended without finishing`` after 3
    epochs (not ≈2), with no ETA and no speed, and the events pane says that end."""
    log = tmp_path / "train.log"
    app = make_app([log], bell=False)
    async with app.run_test(size=(100, 30)) as pilot:
        writer = start_replay_process(REAL / "killed_sigkill.log", log, speed=8.0)
        try:
            # the pid beside the step and the ETA: the line is full, the command line gave way
            await wait_for_app(
                pilot,
                lambda: all(w in screen_lines(app)[0] for w in (f"pid {writer.pid}", "ETA", "step ")),
                "the writer's pid during the run",
                30,
            )
        finally:
            writer.wait(30)
        await wait_for_app(pilot, lambda: "ended without finishing" in screen_lines(app)[0], "the run's end", 30)
        top = screen_lines(app)[0]
        assert "ETA" not in top and "it/s" not in top, top
        assert "ended without finishing: the writer exited" in screen_text(app)
        epochs = EPOCHS.search(top)
        assert epochs is not None and float(epochs.group(2)) == pytest.approx(3.0, abs=0.05), top


async def test_a_whole_epoch_with_no_step_fills_its_pass_bar() -> None:
    """GIVEN the public Optuna sweep log whose first run logs no step and ends at epoch 3.0
    WHEN that run is shown THEN its epoch row says ``pass 3 done`` with the bar full, never a
    done pass over an empty 0 % bar."""
    log = FIXTURES / "public3" / "windows_optuna_multirun_nan_crlf.log"
    app = make_app([log], follow=False, bell=False)
    async with app.run_test(size=(160, 40)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.model is not None and rv.model.row("epoch") is not None)
        await pilot.press("r")
        await wait_for_app(pilot, lambda: "runs in this log" in screen_text(app))
        for key in ("up",) * 6 + ("enter",):
            await pilot.press(key)
        await wait_for_app(pilot, lambda: "run 1/7" in screen_lines(app)[0], "run 1 shown")
        row = rv.model.row("epoch")
        assert row is not None and row.word == "pass 3 done" and row.progress == 1.0
        line = next(x for x in screen_lines(app) if "pass 3 done" in x)
        assert " 0 %" not in line, line
