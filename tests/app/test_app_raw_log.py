"""The raw log screen (``t``) through the real app: around the crash, at the end following live,
the ``/`` filter as you type, inert text, every key from the keyboard at 80x24."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from helpers import FIXTURES, append, screen_text, wait_for_app

from tui_monitor.core.demo import load_demo
from tui_monitor.core.rawlog import RawLine, RawLog, shown_text
from tui_monitor.ui.app import TrainmonApp, make_app
from tui_monitor.ui.widgets.raw_log import RawLogScreen

REAL = FIXTURES / "real"


async def open_at_the_end(pilot: Any, app: TrainmonApp) -> None:
    """The dashboard drawn, then ``t``: waits until the raw log is open at the log's end."""
    await wait_for_app(pilot, lambda: "loss" in screen_text(app), "the dashboard")
    await pilot.press("t")
    await wait_for_app(pilot, lambda: "its end" in screen_text(app), "the end of the log")


def written_log(tmp_path: Path) -> Path:
    """A copy of the real tokens_checkpoints log in ``tmp_path``, for a test to append to."""
    log = tmp_path / "train.log"
    shutil.copy(REAL / "tokens_checkpoints.log", log)
    return log


async def test_opens_around_the_traceback() -> None:
    """GIVEN a real log whose run crashed with a traceback (then was resumed) WHEN t is pressed
    THEN the raw lines around the traceback show; escape closes the screen."""
    log = REAL / "hf5_resume_append.log"
    app = make_app([log], follow=False, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_app(pilot, lambda: "loss" in screen_text(app), "the dashboard")
        await pilot.press("t")
        await wait_for_app(pilot, lambda: "Traceback (most recent call last):" in screen_text(app), "the traceback")
        assert "around the event" in screen_text(app)
        await pilot.press("escape")
        await wait_for_app(pilot, lambda: not isinstance(app.screen, RawLogScreen), "the screen closed")


async def test_filter_as_you_type_and_close(tmp_path: Path) -> None:
    """GIVEN the real tokens_checkpoints log WHEN t, / and "checkpoint-1" are typed THEN only the
    lines naming checkpoint-100 and -150 show, as many as a grep of the file finds."""
    log = REAL / "tokens_checkpoints.log"
    expected, _ = RawLog(log).grep(re.compile("checkpoint-1"))
    app = make_app([log], follow=False, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_at_the_end(pilot, app)
        assert "train_runtime" in screen_text(app)  # the summary record, the log's last line
        await pilot.press("slash")
        for ch in "checkpoint-1":
            await pilot.press(ch if ch != "-" else "minus")
        await wait_for_app(pilot, lambda: f"{len(expected)} lines" in screen_text(app), "the filtered lines")
        text = screen_text(app)
        assert "out/checkpoint-100" in text and "out/checkpoint-150" in text and "checkpoint-200" not in text
        await pilot.press("escape")  # the box hides; the filter stays on, and the title says which
        await wait_for_app(pilot, lambda: "lines matching /checkpoint-1/" in screen_text(app), "the expression")
        await pilot.press("escape")
        await wait_for_app(pilot, lambda: not isinstance(app.screen, RawLogScreen), "the screen closed")


async def test_follows_the_end_live_and_shows_escapes_inert(tmp_path: Path) -> None:
    """GIVEN a log being written WHEN the raw log is open at its end THEN a line appended later
    shows, with its escape sequence removed and its control characters as pictures."""
    log = written_log(tmp_path)
    app = make_app([log], follow=True, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_at_the_end(pilot, app)
        append(log, b"appended \x1b[31mred\x1b[0m line\x07 here\n")
        await wait_for_app(pilot, lambda: "appended red line␇ here" in screen_text(app), "the new line", 15)


def _exploding(tmp_path: Path) -> Path:
    """The bundled exploding-gradients log (grad_norm turns NaN at step 140), in ``tmp_path``."""
    demo = load_demo("exploding")
    path = tmp_path / demo.filename
    path.write_bytes(demo.data)
    return path


def _first_line_with(path: Path, needle: bytes) -> RawLine:
    """The first line of ``path`` holding ``needle``, as the raw log shows it."""
    data = path.read_bytes()
    at = data.index(needle)
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    return RawLine(start, shown_text(data[start : end if end >= 0 else len(data)]))


def _raw(app: TrainmonApp) -> RawLogScreen:
    screen = app.screen
    assert isinstance(screen, RawLogScreen)
    return screen


async def test_opens_at_the_first_nan_with_its_line_marked(tmp_path: Path) -> None:
    """GIVEN the bundled log whose grad_norm turns NaN at step 140 WHEN t is pressed with no
    event chosen THEN the raw log opens at the first NaN record's line (the run's landmark),
    says so in its title, and marks that line."""
    log = _exploding(tmp_path)
    first_nan = _first_line_with(log, b"'grad_norm': nan")
    app = make_app([log], follow=False, bell=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_app(pilot, lambda: "first nan in grad_norm" in screen_text(app), "the NaN event")
        await pilot.press("t")
        await wait_for_app(pilot, lambda: isinstance(app.screen, RawLogScreen), "the raw log")
        await wait_for_app(pilot, lambda: first_nan.text in screen_text(app), "the first NaN record's line")
        assert "around the event: first nan in grad_norm" in screen_text(app)
        assert "'grad_norm': nan" in first_nan.text and "'epoch': 0.47" in first_nan.text
        assert _raw(app).marked_line() == first_nan


async def test_e_chooses_another_event_and_t_opens_there(tmp_path: Path) -> None:
    """GIVEN the exploding log (events: stalled, the first NaN, the warmup's end) WHEN e is
    pressed once (from the NaN, the marked landmark) THEN the warmup's end is chosen and t opens
    at the record of step 35, where the learning rate peaks; E goes back to the NaN."""
    log = _exploding(tmp_path)
    app = make_app([log], follow=False, bell=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_app(pilot, lambda: "warmup finished" in screen_text(app) or "first nan" in screen_text(app))
        rv = app.dashboard
        start = rv.focused_event()
        assert start is not None and start.text == "first nan in grad_norm"
        await pilot.press("e")
        chosen = rv.focused_event()
        assert chosen is not None and chosen.text.startswith("warmup finished") and chosen.where == "step 35"
        await pilot.press("t")
        await wait_for_app(pilot, lambda: "around the event: warmup finished" in screen_text(app), "the warmup")
        marked = _raw(app).marked_line()
        assert marked is not None and marked.offset <= chosen.offset and "'learning_rate'" in marked.text
        await pilot.press("escape", "E")
        back = rv.focused_event()
        assert back is not None and back.text == "first nan in grad_norm"


async def test_opens_at_the_traceback_line(tmp_path: Path) -> None:
    """GIVEN a real log whose run was interrupted with a traceback (then resumed and finished)
    WHEN t is pressed THEN the marked line is the traceback's first line."""
    log = REAL / "hf5_resume_append.log"
    tb = _first_line_with(log, b"Traceback (most recent call last):")
    app = make_app([log], follow=False, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_app(pilot, lambda: "loss" in screen_text(app), "the dashboard")
        await pilot.press("t")
        await wait_for_app(pilot, lambda: isinstance(app.screen, RawLogScreen), "the raw log")
        await wait_for_app(pilot, lambda: tb.text in screen_text(app), "the traceback line")
        assert _raw(app).marked_line() == tb


async def test_opens_at_the_reset_of_a_truncated_log(tmp_path: Path) -> None:
    """GIVEN a followed log holding a finished real run WHEN it is truncated and a new, shorter
    real run is written into it (``> train.log``) THEN t opens at the reset, the new file's first
    line, marked; the old run's lines are gone and nothing opens at their old offsets."""
    log = tmp_path / "train.log"
    log.write_bytes((REAL / "reuse_shorter.part1.log").read_bytes())
    new = (REAL / "reuse_shorter.log").read_bytes()
    first = shown_text(new[: new.index(b"\n")])
    app = make_app([log], follow=True, bell=False, poll=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_app(pilot, lambda: "300/300" in screen_text(app), "the first run's end")
        with open(log, "wb") as f:  # `> train.log`: truncated in place, then the new run's output
            f.write(new)
        await wait_for_app(pilot, lambda: "file truncated" in screen_text(app), "the truncation event", 20)
        await wait_for_app(pilot, lambda: "100/100" in screen_text(app), "the new run's end", 20)
        event = app.dashboard.focused_event()
        assert event is not None and event.text == "file truncated" and event.offset == 0
        await pilot.press("t")
        await wait_for_app(pilot, lambda: "around the event: file truncated" in screen_text(app), "the reset")
        marked = _raw(app).marked_line()
        assert marked == RawLine(0, first)
        # every event of the first run is no longer in the file
        snap = app.dashboard.monitor.snapshot()
        assert len(snap.runs) == 2 and all(not e.in_file for e in snap.runs[0].events)
        assert all(int(o) == -1 for s in snap.runs[0].series.values() for o in s.offset)


async def test_the_filter_filters_lines_written_while_it_is_on(tmp_path: Path) -> None:
    """GIVEN a followed real log with the raw log open and the filter "ckpt-keep" on WHEN lines
    are appended, matching and not THEN the matching ones show as they arrive (the end of a line
    still being written too, once it matches) and the others never do."""
    log = written_log(tmp_path)
    app = make_app([log], follow=True, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_app(pilot, lambda: "loss" in screen_text(app), "the dashboard")
        await pilot.press("t", "slash")
        for ch in "ckpt-keep":
            await pilot.press(ch if ch != "-" else "minus")
        await wait_for_app(pilot, lambda: "train.log · 0 lines" in screen_text(app), "the empty filtered view")
        append(log, b"saved ckpt-keep one\nsaved ckpt-drop two\n")
        await wait_for_app(pilot, lambda: "saved ckpt-keep one" in screen_text(app), "the first match", 15)
        append(log, b"noise\nsaved ckpt-keep three\nsaved ckpt-keep fo")
        await wait_for_app(pilot, lambda: "saved ckpt-keep fo" in screen_text(app), "the line being written", 15)
        append(log, b"ur\n")
        await wait_for_app(pilot, lambda: "saved ckpt-keep four" in screen_text(app), "the line finished", 15)
        text = screen_text(app)
        assert "saved ckpt-keep three" in text and "ckpt-drop" not in text and "noise" not in text
        assert [ln.text for ln in _raw(app).shown()] == [
            "saved ckpt-keep one",
            "saved ckpt-keep three",
            "saved ckpt-keep four",
        ]


async def test_an_earlier_run_opens_at_its_start() -> None:
    """GIVEN three real runs appended to one log WHEN run 2 is chosen with r and t is pressed
    THEN the raw log opens at run 2's first line (the one that made it a new run), marked; the
    latest run, which nothing went wrong in, opens at the end."""
    log = REAL / "three_runs_append.log"
    app = make_app([log], follow=False, bell=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_app(pilot, lambda: "run 3/3" in screen_text(app), "the latest run")
        assert app.dashboard.focused_event() is None
        await pilot.press("t")
        await wait_for_app(pilot, lambda: "its end, following" in screen_text(app), "the end of the log")
        assert _raw(app).marked_line() is None
        await pilot.press("escape", "r", "up", "enter")
        await wait_for_app(pilot, lambda: "run 2/3" in screen_text(app), "run 2")
        start = app.dashboard.monitor.snapshot().runs[1].start_offset
        event = app.dashboard.focused_event()
        assert event is not None and event.text.startswith("run 2 starts: ") and event.offset == start > 0
        await pilot.press("t")
        await wait_for_app(pilot, lambda: "around the event: run 2 starts" in screen_text(app), "run 2's start")
        marked = _raw(app).marked_line()
        data = log.read_bytes()
        assert marked is not None and marked.offset == data.rfind(b"\n", 0, start + 1) + 1
        assert marked.text[:90] in screen_text(app)  # the line is wider than the screen


async def test_end_leaves_an_events_window_for_the_end_of_a_long_log(tmp_path: Path) -> None:
    """GIVEN the exploding run followed by 300 KB of later lines (more than a window holds)
    WHEN t opens at the first NaN THEN the last line is not read; WHEN End is pressed THEN the
    view shows the end of the file, following it: a line appended then shows."""
    log = _exploding(tmp_path)
    append(log, b"".join(b"later line %06d\n" % i for i in range(20_000)))
    app = make_app([log], follow=True, bell=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_app(pilot, lambda: "first nan in grad_norm" in screen_text(app), "the NaN event")
        await pilot.press("t")
        await wait_for_app(pilot, lambda: "around the event: first nan" in screen_text(app), "the NaN's window")
        assert all(ln.text != "later line 019999" for ln in _raw(app).shown())
        await pilot.press("end")
        await wait_for_app(pilot, lambda: "later line 019999" in screen_text(app), "the end of the file")
        assert "its end, following" in screen_text(app)
        append(log, b"written after End\n")
        await wait_for_app(pilot, lambda: "written after End" in screen_text(app), "the appended line", 15)


async def test_keys_over_the_raw_log_and_the_help_stay_theirs() -> None:
    """GIVEN the dashboard on a real log WHEN the raw log is open and ↑/↓ are pressed THEN the
    lines scroll and the metric focused behind stays; in the help (at 80x24, where it does not
    fit) ↓ and PgDn scroll it, another key closes it, and the focused metric is still the same."""
    log = REAL / "tokens_checkpoints.log"
    app = make_app([log], follow=False, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_app(pilot, lambda: "loss" in screen_text(app), "the dashboard")
        focused = app.dashboard.focused_key
        await pilot.press("t")
        await wait_for_app(pilot, lambda: "its end" in screen_text(app), "the end of the log")
        lines = app.screen.query_one("#raw-lines")
        await wait_for_app(pilot, lambda: lines.max_scroll_y > 0 and lines.scroll_y == lines.max_scroll_y, "at the end")
        bottom = lines.scroll_y
        await pilot.press("up", "up", "down")
        await wait_for_app(pilot, lambda: lines.scroll_y == bottom - 1, "scrolled up one line")
        await pilot.press("escape")
        await wait_for_app(pilot, lambda: not isinstance(app.screen, RawLogScreen), "the raw log closed")
        assert app.dashboard.focused_key == focused
        await pilot.press("question_mark")
        await wait_for_app(pilot, lambda: app.screen.query("#help-box"), "the help")
        box = app.screen.query_one("#help-box")
        assert box.max_scroll_y > 0  # the key table does not fit at 80x24
        await pilot.press("down", "pagedown")
        await wait_for_app(pilot, lambda: box.scroll_y > 1, "the help scrolled")
        await pilot.press("x")
        await wait_for_app(pilot, lambda: not app.screen.query("#help-box"), "the help closed")
        assert app.dashboard.focused_key == focused


async def test_a_smaller_terminal_keeps_the_raw_log_following(tmp_path: Path) -> None:
    """GIVEN the raw log open at the end of a log being written, following WHEN the terminal
    shrinks from 100x30 to 80x24 THEN lines written afterwards still show (the view follows)."""
    log = written_log(tmp_path)
    app = make_app([log], follow=True, bell=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_at_the_end(pilot, app)
        append(log, b"first line after opening\n")
        await wait_for_app(pilot, lambda: "first line after opening" in screen_text(app), "the first line", 15)
        await pilot.resize_terminal(80, 24)
        await wait_for_app(pilot, lambda: app.screen.size.height == 24, "the smaller terminal")
        append(log, b"written after the resize\n")
        await wait_for_app(
            pilot, lambda: "written after the resize" in screen_text(app), "the line after the resize", 15
        )
