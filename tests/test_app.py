"""The real app through ``App.run_test()`` on real fixture logs.

Each test drives ``make_app`` (the same factory the CLI uses) at a fixed terminal size
and reads the screen back as plain text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tui_monitor.ui.app import TrainmonApp, make_app
from tui_monitor.ui.run_view import RunView

FIX = Path(__file__).parent / "fixtures"
HEALTHY = FIX / "real" / "hf5_linear_warmup_unbuffered.log"
NAN_LOG = FIX / "public" / "glm4_gradnorm_nan_trailing_ws.log"
TRL = FIX / "real" / "trl_sft.log"


def screen_text(app: TrainmonApp) -> str:
    """Everything on screen as plain text, one line per terminal row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def wait_for(pilot, cond: Callable[[], bool], timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until ``cond()`` holds (polled; fails after ``timeout`` seconds)."""
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def test_status_line_rows_and_verdict_of_a_finished_run() -> None:
    """GIVEN the real linear-warmup run WHEN shown at 120x36 THEN status, rows and verdict say so."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        status = text.splitlines()[0]
        assert "hf5_linear_warmup_unbuffered.log" in status
        assert "finished" in status and "300/300" in status and "HEALTHY" in status
        view = app.run_view.view
        assert view is not None
        loss, lr = view.row("loss"), view.row("learning_rate")
        assert loss is not None and lr is not None
        assert loss.word == "decreasing" and "decreasing" in text
        assert lr.word in ("DECAY", "FINISHED") and lr.word in text and "linear" in text
        assert "loss fell" in text  # a reason in the verdict pane
        assert "grad_norm" in text and "eval_loss" in text


async def test_80x24_shows_status_loss_lr_grad_and_verdict() -> None:
    """GIVEN 80x24 (the minimum that must work) WHEN shown THEN the key rows and the verdict fit."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert len(lines) == 24
        assert "HEALTHY" in lines[0]
        body = "\n".join(lines[1:23])
        for key in ("loss", "learning_rate", "grad_norm", "verdict"):
            assert key in body
        assert "q quit" in lines[-1]


async def test_glossary_follows_the_focused_metric() -> None:
    """GIVEN the healthy run WHEN down twice (to grad_norm) and g THEN grad_norm is explained."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "g")
        await pilot.pause()
        text = screen_text(app)
        assert "glossary · grad_norm" in text
        assert "exploding" in text and "vanishing" in text
        await pilot.press("g")
        await pilot.pause()
        assert "glossary · grad_norm" not in screen_text(app)


async def test_russian_everywhere() -> None:
    """GIVEN --lang ru WHEN shown and g pressed THEN status, verdict, keys and glossary are Russian."""
    app = make_app([HEALTHY], follow=False, lang="ru")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        text = screen_text(app)
        assert "НОРМА" in text.splitlines()[0] and "завершён" in text.splitlines()[0]
        assert "вердикт" in text and "события" in text and "выход" in text
        assert "Лосс на обучении" in text and "Что это" in text
        assert "падает" in text  # the loss trend word


async def test_nan_log_shows_a_marker_and_critical() -> None:
    """GIVEN a log whose last grad_norm is nan WHEN shown THEN × marker, 'nan' and CRITICAL."""
    app = make_app([NAN_LOG], follow=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        grad_line = next(line for line in text.splitlines() if "grad_norm" in line and "nan" in line)
        assert "non-finite" in grad_line
        assert "×" in text
        assert "CRITICAL" in text.splitlines()[0]


async def test_markup_in_the_log_is_shown_as_written(tmp_path: Path) -> None:
    """GIVEN a metric key and an error line that look like markup WHEN shown THEN verbatim."""
    log = tmp_path / "train.log"
    log.write_text(
        "{'loss': 2.5, '[bold red]x[/]': 1.5, 'learning_rate': 1e-4, 'epoch': 0.1}\n"
        "{'loss': 2.4, '[bold red]x[/]': 1.25, 'learning_rate': 1e-4, 'epoch': 0.2}\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/bin/x", line 1, in <module>\n'
        "RuntimeError: cannot open [/usr/bin/x] [INFO|trainer.py:2128]\n"
    )
    app = make_app([log], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[bold red]x[/]" in text
        assert "[/usr/bin/x]" in text and "[INFO|trainer.py:2128]" in text


async def test_too_small_notice_and_q_still_quits() -> None:
    """GIVEN a 50x12 terminal WHEN the app starts THEN a clear notice, and q quits."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(50, 12)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "too small" in text and "50×12" in text
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None


async def test_keys_change_smoothing_scale_window_and_pause() -> None:
    """GIVEN the healthy run WHEN s, l, w, p are pressed THEN the chart title and status follow."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert "smoothed 0.6" in screen_text(app)
        await pilot.press("s")
        await pilot.pause()
        assert "smoothed 0.9" in screen_text(app)
        await pilot.press("s", "s")
        await pilot.pause()
        assert "raw only" in screen_text(app)
        await pilot.press("l", "w")
        await pilot.pause()
        text = screen_text(app)
        assert "log y" in text and "recent" in text
        await pilot.press("p")
        await pilot.pause()
        assert "paused" in screen_text(app).splitlines()[0]
        await pilot.press("question_mark")
        await pilot.pause()
        assert "whole run / recent" in screen_text(app)


async def test_other_metrics_get_rows_and_the_focus_moves() -> None:
    """GIVEN a TRL SFT log WHEN shown THEN entropy and mean_token_accuracy rows; down moves focus."""
    app = make_app([TRL], follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "mean_token_accuracy" in text and "entropy" in text
        rv = app.run_view
        assert rv.focused_key == "loss"
        await pilot.press("down")
        await pilot.pause()
        assert rv.focused_key == "learning_rate"
        assert "learning_rate" in str(app.query_one("#chart").border_title)


async def test_two_files_give_two_tabs() -> None:
    """GIVEN two logs WHEN the app starts THEN one tab per file, each with its own run view."""
    app = make_app([HEALTHY, NAN_LOG], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert HEALTHY.name in text and NAN_LOG.name in text
        assert len(app.query(RunView)) == 2


async def test_live_follow_then_truncation_shows_an_event(tmp_path: Path) -> None:
    """GIVEN a live app on a growing file WHEN the file is truncated and rewritten THEN an event."""
    log = tmp_path / "train.log"
    data = HEALTHY.read_bytes()
    log.write_bytes(data[: len(data) // 2])
    app = make_app([log], poll=0.05, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        rv = app.run_view
        await wait_for(pilot, lambda: rv.view is not None and rv.view.row("loss") is not None)
        with open(log, "r+b") as f:
            f.truncate(0)
        await asyncio.sleep(0.3)
        with open(log, "ab") as f:
            f.write(data[:4000])
        await wait_for(pilot, lambda: "truncated" in screen_text(app))
        assert "truncated" in screen_text(app)


async def test_bell_rings_once_when_the_verdict_turns_critical(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the NaN log and the bell on WHEN shown THEN one bell; with --no-bell THEN none."""
    rings: list[int] = []
    monkeypatch.setattr("textual.app.App.bell", lambda self: rings.append(1))
    app = make_app([NAN_LOG], follow=False, bell=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("s", "l")  # redraws keep the verdict critical: no second bell
        await pilot.pause()
    assert rings == [1]
    rings.clear()
    app = make_app([NAN_LOG], follow=False, bell=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
    assert rings == []
