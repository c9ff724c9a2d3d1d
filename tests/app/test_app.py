"""The real app through ``App.run_test()`` on real fixture logs.

Each test drives ``make_app`` (the same factory the CLI uses) at a fixed terminal size
and reads the screen back as plain text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FIXTURES, screen_text, wait_for_app

from tui_monitor.ui.app import make_app
from tui_monitor.ui.dashboard import RunDashboard

FIX = FIXTURES
HEALTHY = FIX / "real" / "hf5_linear_warmup_unbuffered.log"
NAN_LOG = FIX / "public" / "glm4_gradnorm_nan_trailing_ws.log"
TRL = FIX / "real" / "trl_sft.log"


async def test_status_line_rows_and_verdict_of_a_finished_run() -> None:
    """GIVEN the real linear-warmup run WHEN shown at 120x36 THEN status, rows and verdict say so."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        status = text.splitlines()[0]
        assert "hf5_linear_warmup_unbuffered.log" in status
        assert "finished" in status and "300/300" in status and "HEALTHY" in status
        view = app.dashboard.model
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
    assert app.return_code == 0


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
        rv = app.dashboard
        assert rv.focused_key == "loss"
        await pilot.press("down")
        await pilot.pause()
        assert rv.focused_key == "learning_rate"
        assert "learning_rate" in str(app.query_one("#chart").border_title)


async def test_two_files_give_two_tabs() -> None:
    """GIVEN two logs WHEN the app starts THEN one tab per file, each with its own dashboard."""
    app = make_app([HEALTHY, NAN_LOG], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert HEALTHY.name in text and NAN_LOG.name in text
        assert len(app.query(RunDashboard)) == 2


async def test_live_follow_then_truncation_shows_an_event(tmp_path: Path) -> None:
    """GIVEN a live app on a growing file WHEN the file is truncated and rewritten THEN an event."""
    log = tmp_path / "train.log"
    data = HEALTHY.read_bytes()
    log.write_bytes(data[: len(data) // 2])
    app = make_app([log], poll=0.05, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.model is not None and rv.model.row("loss") is not None)
        with open(log, "r+b") as f:
            f.truncate(0)
        # the monitor has seen the empty file before it grows again
        await wait_for_app(
            pilot, lambda: any(e.kind == "truncated" for e in rv.monitor.snapshot().run.events), "the truncation"
        )
        with open(log, "ab") as f:
            f.write(data[:4000])
        await wait_for_app(pilot, lambda: "truncated" in screen_text(app))
        assert "truncated" in screen_text(app)


async def test_first_frame_of_an_existing_file_says_reading_not_waiting() -> None:
    """GIVEN trainmon tail on a log that exists WHEN the app draws its first frame
    THEN the status line says the file is being read (never "waiting for file"), and then
    what the run is once it has been read."""
    app = make_app([FIX / "real" / "hf5_linear_warmup.log"], bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        first = screen_text(app).splitlines()[0]  # before any pause: the frame drawn at mount
        assert "hf5_linear_warmup.log" in first
        assert "waiting" not in first
        # the mount-time frame says "reading"; only a busy machine lets the worker finish first
        assert "reading the file" in first or "finished" in first, first
        await wait_for_app(pilot, lambda: "finished" in screen_text(app).splitlines()[0], "the finished run")
        assert "HEALTHY" in screen_text(app).splitlines()[0]


async def test_first_frame_of_a_missing_file_says_waiting(tmp_path: Path) -> None:
    """GIVEN trainmon tail on a log that does not exist yet WHEN the app starts THEN
    "waiting for file"; WHEN the training writes it THEN the run is shown."""
    log = tmp_path / "train.log"
    app = make_app([log], poll=0.05, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        first = screen_text(app).splitlines()[0]
        assert "waiting for file" in first and "reading" not in first
        log.write_bytes((FIX / "real" / "hf5_linear_warmup.log").read_bytes())
        await wait_for_app(pilot, lambda: "finished" in screen_text(app).splitlines()[0], "the written run")


async def test_a_path_whose_directory_does_not_exist_says_so(tmp_path: Path) -> None:
    """GIVEN a mistyped path (its directory does not exist) WHEN the app waits for it THEN the
    status line says so; WHEN the directory and the log appear THEN the run is shown."""
    log = tmp_path / "logz" / "train.log"
    app = make_app([log], poll=0.05, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_app(pilot, lambda: "its directory does not exist" in screen_text(app).splitlines()[0])
        log.parent.mkdir()
        log.write_bytes((FIX / "real" / "hf5_linear_warmup.log").read_bytes())
        await wait_for_app(pilot, lambda: "finished" in screen_text(app).splitlines()[0], "the written run")
        assert "directory" not in screen_text(app).splitlines()[0]


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


# --- what a newcomer found (README walk-through) ------------------------------------------

DPO = FIX / "public" / "dpo_loss_zero_margins.log"
COSINE = FIX / "real" / "hf5_cosine_tee.log"


def cut_after_records(src: Path, n: int, dst: Path) -> Path:
    """Write the first ``n`` training dicts of ``src`` (and what precedes them) to ``dst``."""
    import re

    data = src.read_bytes()
    ends = [m.end() for m in re.finditer(rb"\{'loss'[^\n]*?\}", data)]
    dst.write_bytes(data[: ends[n - 1]] + b"\n")
    return dst


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            [
                "quit",
                "this help",
                "previous / next metric",
                "glossary: the focused metric in plain words",
                "verdict: page down",
                "glossary: page down / up",
                "log",
                "0.6 → 0.9 → 0.99",
                "whole run / recent",
                "pause the display",
            ],
        ),
        (
            "ru",
            [
                "выход",
                "эта справка",
                "предыдущая / следующая метрика",
                "глоссарий: метрика простыми словами",
                "вердикт: страница вниз",
                "глоссарий: страница вниз / вверх",
                "логарифмическая",
                "0.6 → 0.9 → 0.99",
                "весь запуск / последние",
                "пауза экрана",
            ],
        ),
    ],
)
async def test_help_lists_every_key_with_its_meaning(lang: str, words: list[str]) -> None:
    """GIVEN the app at 80x24 WHEN ? is pressed THEN every key and its meaning shows (the tab keys
    too, g called the glossary); any key closes it."""
    app = make_app([HEALTHY], follow=False, lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        for key in ("q  ctrl+c", "↑ ↓  tab", " g ", " l ", " s ", " w ", " p ", " v  V ", " J  K ", "pgup pgdn"):
            assert key in text, key
        for w in words:
            assert w in text, w
        # every key, also those that act only with several files
        assert "[  ]" in text and "1 … 9" in text
        await pilot.press("x")
        await pilot.pause()
        assert "this help" not in screen_text(app) and "эта справка" not in screen_text(app)


async def test_several_files_open_on_the_first_tab_and_keys_switch_them() -> None:
    """GIVEN three logs WHEN the app starts THEN the first tab shows; ] [ and 1-9 switch;
    every tab title carries its verdict, so the critical run shows from the first tab."""
    app = make_app([HEALTHY, NAN_LOG, TRL], follow=False, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        # ready: every tab's verdict drawn, and the first tab's activation done (its view has the focus)
        await wait_for_app(
            pilot,
            lambda: (
                "✗ CRITICAL" in screen_text(app).splitlines()[0]
                and app.focused is not None
                and app.dashboard in app.focused.ancestors
            ),
            "every tab's verdict and the first view focused",
        )
        tabs = app.query_one("#tabs")
        assert tabs.active == "tab-0" and app.dashboard.id == "run-0"  # type: ignore[attr-defined]
        text = screen_text(app)
        titles = text.splitlines()[0]
        assert titles.index("1 hf5_linear") < titles.index("✓ HEALTHY") < titles.index("2 glm4")
        assert titles.index("2 glm4") < titles.index("✗ CRITICAL") < titles.index("3 trl_sft.log")
        assert "[ ] 1-9" in text.splitlines()[-1]  # the footer says how to switch
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert tabs.active == "tab-1"  # type: ignore[attr-defined]
        assert app.focused is not None and app.dashboard in app.focused.ancestors
        await pilot.press("3")
        await pilot.pause()
        assert tabs.active == "tab-2"  # type: ignore[attr-defined]
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert tabs.active == "tab-0"  # type: ignore[attr-defined]
        await pilot.press("left_square_bracket", "9")  # past the last file: ignored
        await pilot.pause()
        assert tabs.active == "tab-2"  # type: ignore[attr-defined]
        # The tab's activation (its view takes the focus) is done before the arrow is pressed.
        await wait_for_app(
            pilot,
            lambda: app.dashboard.id == "run-2" and app.focused is not None and app.dashboard in app.focused.ancestors,
            "the third tab's view focused",
        )
        await pilot.press("down")  # the arrows still move the metric focus
        await wait_for_app(pilot, lambda: app.dashboard.focused_key == "learning_rate", "learning_rate focused")
        await pilot.press("question_mark")
        await pilot.pause()
        assert "previous / next file" in screen_text(app) and "go to file N" in screen_text(app)


async def test_ctrl_c_quits_at_once_with_130() -> None:
    """GIVEN the dashboard WHEN ctrl+c THEN the app ends with status 130 (no "press ctrl+q" toast)."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 130


async def test_exit_asked_from_another_thread_leaves_with_its_status() -> None:
    """GIVEN the dashboard WHEN the terminal guard's thread asks for 143 (SIGTERM) THEN the app
    leaves its loop with 143. (The real signals in a real terminal: tests/app/test_app_hostile.py,
    tests/app/test_terminal_gone.py.)"""
    import threading

    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        t = threading.Thread(target=app.exit_soon, args=(143,))
        t.start()
        t.join()
        await wait_for_app(pilot, lambda: app.return_code == 143, "the exit asked from a thread")
    assert app.return_code == 143


async def test_verdict_pane_says_how_many_lines_are_below_the_fold() -> None:
    """GIVEN 80x24, where the verdict has 4 lines for 6 reasons THEN its title says "+2 more"."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_app(pilot, lambda: "verdict · +2 more ↓" in screen_text(app), "the verdict's fold")
        assert "verdict · +2 more ↓" in screen_text(app)
        app.query_one("#verdict").scroll_end(animate=False)
        await wait_for_app(pilot, lambda: "more ↓" not in screen_text(app), "the verdict scrolled to its end")
        text = screen_text(app)
        assert "more ↓" not in text and "epochs done" in text


async def test_short_series_are_drawn_one_block_per_point() -> None:
    """GIVEN six evaluations WHEN shown THEN the eval_loss sparkline has six blocks, none repeated."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        line = next(x for x in screen_text(app).splitlines() if "eval_loss" in x)
        blocks = "".join(ch for ch in line if ch in "▁▂▃▄▅▆▇█")
        assert blocks == "█▆▄▂▁▁"


@pytest.mark.parametrize(
    ("log", "size", "names"),
    [
        (HEALTHY, (100, 30), ["eval_samples_per_second", "eval_runtime"]),
        (DPO, (120, 36), ["rewards/rejected", "rewards/margins", "rewards/accuracies"]),
        (DPO, (100, 30), ["rewards/rejected", "rewards/margins", "rewards/accuracies"]),
    ],
)
async def test_metric_names_are_not_cut(log: Path, size: tuple[int, int], names: list[str]) -> None:
    """GIVEN long metric names WHEN shown at ≥ 100 columns THEN each name shows whole."""
    app = make_app([log], follow=False)
    async with app.run_test(size=size) as pilot:
        await wait_for_app(pilot, lambda: all(n in screen_text(app) for n in names), "every metric name")
        text = screen_text(app)
        for name in names:
            assert name in text, name


async def test_secondary_text_gives_way_before_names_and_keys() -> None:
    """GIVEN 80 columns THEN the footer still has p pause; GIVEN Russian at 100 THEN no cut header."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "p pause" in screen_text(app).splitlines()[-1]
    app = make_app([HEALTHY], follow=False, lang="ru")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        top = screen_text(app).splitlines()[0]
        assert "…" not in top.split("  ", 2)[-1]  # the file name may be shortened, nothing else
        assert "p пауза" in screen_text(app).splitlines()[-1]


async def test_the_focused_row_has_a_marker() -> None:
    """GIVEN the healthy run WHEN down THEN ▶ moves from loss to learning_rate (visible without colour)."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert any("▶ loss" in x for x in lines)
        await pilot.press("down")
        await pilot.pause()
        text = screen_text(app)
        assert "▶ learning_rate" in text and "▶ loss" not in text


async def test_epoch_row_of_a_finished_run_and_of_a_run_under_way(tmp_path: Path) -> None:
    """GIVEN a finished 3-epoch run THEN "pass 3 done", "of steps"; GIVEN a run under way THEN "≈"."""
    app = make_app([COSINE], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "pass 3 done" in text and "into pass 4" not in text
        assert "100 % of steps" in text
    log = cut_after_records(HEALTHY, 8, tmp_path / "train.log")
    app = make_app([log], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "of ≈2.34" in text and "0.312/≈2.34" in text.splitlines()[0]
        assert "% of steps" in text


async def test_warmup_event_only_after_the_warmup(tmp_path: Path) -> None:
    """GIVEN a run cut while the LR still warms up THEN no "warmup finished" event; GIVEN the
    whole run THEN the event, at the step of the LR's peak."""
    log = cut_after_records(HEALTHY, 5, tmp_path / "train.log")
    app = make_app([log], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "WARMUP" in text and "warmup finished" not in text
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert "step 25  warmup finished" in screen_text(app)


async def test_smoothing_cycles_and_the_title_always_says_it() -> None:
    """GIVEN the loss chart WHEN s four times THEN 0.9, 0.99, raw only, 0.6; the LR (never
    smoothed) says raw only."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()

        def title() -> str:
            return str(app.query_one("#chart").border_title)

        assert "raw + smoothed 0.6" in title()
        for expected in ("smoothed 0.9", "smoothed 0.99", "raw only", "smoothed 0.6"):
            await pilot.press("s")
            await pilot.pause()
            assert expected in title(), (expected, title())
        await pilot.press("down")
        await pilot.pause()
        assert "raw only" in title()


async def test_too_small_keeps_the_size_on_one_line() -> None:
    """GIVEN 50x12 THEN "needs at least 60×16" stays on one line."""
    app = make_app([HEALTHY], follow=False)
    async with app.run_test(size=(50, 12)) as pilot:
        await pilot.pause()
        assert "needs at least 60×16." in screen_text(app)


async def test_russian_verdict_word_and_grammar() -> None:
    """GIVEN --lang ru THEN the verdict is НОРМА and steps read "на шаге N" (never "на шаг N")."""
    app = make_app([HEALTHY], follow=False, lang="ru")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "✓ НОРМА" in text.splitlines()[0]
        assert "на шаге 300" in text and "на шаг " not in text


async def test_dpo_loss_with_few_points_says_so() -> None:
    """GIVEN the DPO fixture (9 loss points, no trend yet) THEN the loss row says "few points"."""
    app = make_app([DPO], follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        line = next(x for x in screen_text(app).splitlines() if "▶ loss" in x)
        assert "few points" in line


def test_status_says_when_only_the_recent_window_is_shown() -> None:
    from tui_monitor.ui.model import StatusModel
    from tui_monitor.ui.widgets.status_bar import status_content

    # GIVEN a large file whose last megabytes are shown while the whole file is read
    s = StatusModel(file="train.log", state="following", catching_up=0.4, provisional=True, step=9000, total=65000)
    # THEN the status line says it is a recent window and how far the full read is
    assert "recent window only · catching up 40%" in status_content(s, "en", narrow=False).plain
    assert "только последние записи" in status_content(s, "ru", narrow=False).plain
    # and says nothing of a window once the whole history is in
    full = StatusModel(file="train.log", state="following", catching_up=0.4, step=9000, total=65000)
    assert "recent window" not in status_content(full, "en", narrow=False).plain
