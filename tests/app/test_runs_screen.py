"""Runs on screen through the real app (``App.run_test()``): which run is shown, the runs list
(``r``) and an earlier run read-only, the previous run drawn under the chart with the verdict's
comparison, ``--baseline``, and event times (the log's own, none for history)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import FIXTURES, screen_text, wait_for_app

from tui_monitor.core.pipeline import read_baseline
from tui_monitor.ui.app import make_app
from tui_monitor.ui.chart_model import UNDER_MARK
from tui_monitor.ui.widgets.big_chart import BigChart

REAL = FIXTURES / "real"
THREE = REAL / "three_runs_append.log"
TRUTH3 = json.loads((REAL / "three_runs_append.truth.json").read_text())


def _train_losses(run: dict) -> list[float]:
    return [h["loss"] for h in run["log_history"] if "loss" in h and "train_runtime" not in h]


def _status(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[0]


def _verdict(app) -> str:  # type: ignore[no-untyped-def]
    """The verdict pane's sentences, one per line (the pane wraps them on screen)."""
    return "\n".join(r.text for r in app.dashboard.model.reasons)


def _chart_title(app) -> str:  # type: ignore[no-untyped-def]
    chart = app.dashboard.query_one(BigChart)
    return str(chart.border_title)


async def test_runs_key_shows_an_earlier_run_read_only_and_back_to_the_latest() -> None:
    """GIVEN three runs appended to one log WHEN r lists them and one is chosen THEN the screen
    shows that run only (rows, verdict, events), says it is an earlier one, and r goes back."""
    app = make_app([THREE], follow=False, bell=False)
    async with app.run_test(size=(100, 30)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.model is not None and rv.model.row("loss") is not None)
        # THEN the latest run is shown, compared with run 2, which is drawn under its chart
        assert "run 3/3" in _status(app) and "earlier" not in _status(app)
        assert " vs " in _verdict(app) and "for run 2 at step 40" in _verdict(app)
        assert "for run 2 at step 40" in screen_text(app)
        assert "run 2 under it" in _chart_title(app)
        loss = rv.model.row("loss")
        assert loss is not None and len(loss.y) == len(_train_losses(TRUTH3["runs"][2]))
        # WHEN r is pressed THEN every run is listed with its steps, how it ended and its verdict
        await pilot.press("r")
        await wait_for_app(pilot, lambda: "runs in this log" in screen_text(app))
        listed = [line for line in screen_text(app).splitlines()[1:] if "run " in line and "/3 " in line]
        assert len(listed) == 3, listed
        assert all("finished" in line and "HEALTHY" in line for line in listed)
        assert "step 80/80" in listed[1] and "latest" in listed[2] and "▶" in listed[2]
        # WHEN the first run is chosen
        for key in ("up", "up", "enter"):
            await pilot.press(key)
        await wait_for_app(pilot, lambda: "run 1/3" in _status(app))
        # THEN it is said to be an earlier run, and everything on screen is run 1's
        assert "earlier run, read-only" in _status(app)
        first = _train_losses(TRUTH3["runs"][0])
        loss = rv.model.row("loss")
        assert loss is not None and len(loss.y) == len(first)
        assert loss.last == round(first[-1], 3)  # the log prints 4 significant digits
        assert f"loss fell {round(first[0], 3)} → {round(first[-1], 3)}" in _verdict(app)
        assert " vs " not in _verdict(app) and "under it" not in _chart_title(app)  # no run before run 1
        # WHEN r, down to the latest and enter THEN the latest run is back, live
        for key in ("r", "down", "down", "enter"):
            await pilot.press(key)
        await wait_for_app(pilot, lambda: "run 3/3" in _status(app))
        assert "earlier" not in _status(app)
        assert len(rv.model.row("loss").y) == len(_train_losses(TRUTH3["runs"][2]))  # type: ignore[union-attr]


async def test_previous_run_drawn_under_the_chart_with_its_own_mark() -> None:
    """GIVEN three runs (each with its true steps) WHEN the loss chart of the latest is drawn
    THEN run 2's points, at their steps, show as their own mark (readable without colour) only
    where run 3's line is not."""
    app = make_app([THREE], follow=False, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.model is not None and rv.model.row("loss") is not None)
        loss = rv.model.row("loss")
        assert loss is not None and loss.under_x is not None and loss.under_y is not None
        # run 2's points at their own steps (run 3's are 5..40: both log every 5 steps)
        run2 = [h for h in TRUTH3["runs"][1]["log_history"] if "loss" in h and "train_runtime" not in h]
        assert list(loss.under_x) == [h["step"] for h in run2]
        assert list(loss.under_x[: len(loss.x)]) == list(loss.x)
        chart = screen_text(app).split("under it")[1]
        assert chart.count(UNDER_MARK) >= 3


async def test_reused_log_replayed_live_says_run_2_of_2_and_compares(tmp_path: Path) -> None:
    """GIVEN a 300-step run's log followed live WHEN the file is truncated and a 100-step run is
    written into it (``> train.log``) THEN the screen shows run 2/2 only, with run 1 under its
    chart and the verdict comparing them at step 100."""
    log = tmp_path / "train.log"
    log.write_bytes((REAL / "reuse_shorter.part1.log").read_bytes())
    app = make_app([log], poll=0.05, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.model is not None and rv.model.status.step == 300, "run 1 read")
        with open(log, "r+b") as f:
            f.truncate(0)
        await wait_for_app(
            pilot, lambda: any(e.kind == "truncated" for e in rv.monitor.snapshot().run.events), "the truncation"
        )
        with open(log, "ab") as f:
            f.write((REAL / "reuse_shorter.log").read_bytes())
        await wait_for_app(pilot, lambda: "run 2/2" in _status(app) and "step 100/100" in _status(app), "run 2")
        await wait_for_app(pilot, lambda: "for run 1 at step 100" in _verdict(app), "the comparison")
        assert "run 1 under it" in _chart_title(app)
        loss = rv.model.row("loss")
        assert loss is not None and float(loss.x[-1]) == 100 and len(loss.y) == 20  # run 2's records only


async def test_baseline_file_is_drawn_under_and_compared() -> None:
    """GIVEN --baseline the longer run's log WHEN the shorter one is shown THEN its chart has the
    baseline under it and the verdict compares at step 100."""
    base = read_baseline(REAL / "reuse_shorter.part1.log")
    app = make_app([REAL / "reuse_shorter.log"], follow=False, bell=False, baseline=base)
    async with app.run_test(size=(120, 36)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.model is not None and rv.model.row("loss") is not None)
        assert "reuse_shorter.part1.log under it" in _chart_title(app)
        assert "for reuse_shorter.part1.log at step 100" in _verdict(app)
        assert "run 1/" not in _status(app)  # one run in this log: no run number


async def test_event_times_are_the_logs_own_and_none_for_history(tmp_path: Path) -> None:
    """GIVEN a log whose history has a timestamped line and one without WHEN followed THEN the
    stamped event shows the log's time, the other none; an event read live shows a time."""
    log = tmp_path / "train.log"
    data = (REAL / "hf5_linear_warmup_unbuffered.log").read_bytes()
    log.write_bytes(data + b"[2026-01-02 10:00:01,123] [INFO] Training completed. Do not forget to share\n")
    app = make_app([log], poll=0.05, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.model is not None and rv.model.row("loss") is not None)
        await wait_for_app(pilot, lambda: any(e.text.startswith("[2026") for e in rv.model.events), "the event")
        events = {e.text: e.where for e in rv.model.events}
        stamped = next(w for t, w in events.items() if t.startswith("[2026"))
        assert stamped == "10:00:01"
        # the findings read from the history say their step, not when trainmon read them
        finished = next(w for t, w in events.items() if t == "finished")
        assert finished == "step 300"
        with open(log, "ab") as f:
            f.write(b"Traceback (most recent call last):\nRuntimeError: boom after training\n")
        await wait_for_app(pilot, lambda: any("boom" in e.text for e in rv.model.events), "the live event")
        live = next(e.where for e in rv.model.events if "boom" in e.text)
        assert len(live) == 8 and live.count(":") == 2  # hh:mm:ss when it was read


def _pieces(stem: str) -> list[bytes]:
    """A real log's bytes in the pieces its writer wrote them (its .chunks.tsv)."""
    data = (REAL / f"{stem}.log").read_bytes()
    rows = (REAL / f"{stem}.chunks.tsv").read_text().splitlines()[1:]
    return [data[int(off) : int(off) + int(n)] for _, off, n in (row.split("\t") for row in rows)]


async def test_reused_log_shows_the_new_run_from_its_bar_before_its_first_record(tmp_path: Path) -> None:
    """GIVEN a finished 300-step run followed live WHEN the file is truncated and a new
    block-buffered run writes its bar (its records come seconds later) THEN the status line
    shows run 2/2 at the step its bar drew, not run 1's end."""
    log = tmp_path / "train.log"
    log.write_bytes((REAL / "reuse_shorter.part1.log").read_bytes())
    app = make_app([log], poll=0.05, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.model is not None and rv.model.status.step == 300, "run 1 read")
        with open(log, "r+b") as f:
            f.truncate(0)
        run2 = _pieces("reuse_shorter")
        first_record = next(i for i, p in enumerate(run2) if b"{'loss'" in p)
        head = b"".join(run2[:first_record])
        drawn = int(re.findall(rb"(\d+)/100 \[", head)[-1])
        assert drawn > 0
        with open(log, "ab") as f:
            f.write(head)
        await wait_for_app(
            pilot, lambda: "run 2/2" in _status(app) and f"step {drawn}/100" in _status(app), "run 2 at its bar's step"
        )
        assert "HEALTHY" not in _status(app) and "finished" not in _status(app)
        assert rv.model.row("loss") is None  # no record of run 2 yet: run 1's are not shown as its


async def test_an_earlier_run_keeps_only_its_own_events(tmp_path: Path) -> None:
    """GIVEN a finished run followed live WHEN the log is deleted and a new run writes it again
    THEN the deletion and re-creation are the new run's events, and the earlier run shown
    read-only (``r``) has none of them."""
    log = tmp_path / "train.log"
    log.write_bytes((REAL / "reuse_shorter.part1.log").read_bytes())
    app = make_app([log], poll=0.05, bell=False)
    async with app.run_test(size=(120, 36)) as pilot:
        rv = app.dashboard
        await wait_for_app(pilot, lambda: rv.model is not None and rv.model.status.step == 300, "run 1 read")
        log.unlink()
        await wait_for_app(
            pilot, lambda: any(e.kind == "deleted" for e in rv.monitor.snapshot().run.events), "the deletion"
        )
        log.write_bytes((REAL / "reuse_shorter.log").read_bytes())
        await wait_for_app(pilot, lambda: "run 2/2" in _status(app) and "step 100/100" in _status(app), "run 2")
        texts = [e.text for e in rv.model.events]
        assert "file deleted" in texts and "file recreated" in texts
        # WHEN run 1 is shown read-only
        for key in ("r", "up", "enter"):
            await pilot.press(key)
        await wait_for_app(pilot, lambda: "run 1/2" in _status(app), "run 1")
        # THEN its events are its own: the file was deleted and re-created for run 2
        texts = [e.text for e in rv.model.events]
        assert "file deleted" not in texts and "file recreated" not in texts
        assert "finished" in texts
