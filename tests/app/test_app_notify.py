"""The app with `--notify-cmd`: a message when the verdict is critical, the action under the reason, a failing
notifier said once on the status line while the dashboard keeps following."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from helpers import ROOT, screen_text, wait_for_app

from tui_monitor.core.notify import CommandSender, Notifier
from tui_monitor.ui.app import make_app

EXPLODING = ROOT / "tui_monitor/data/hf4_exploding_nan.log"


def keep_stdin(out: Path) -> str:
    """A shell command that appends its stdin (the event's JSON) to ``out``."""
    script = f"import sys; open({str(out)!r}, 'a').write(sys.stdin.read())"
    return f"{sys.executable} -c {json.dumps(script)}"


async def test_the_app_sends_one_critical_message_and_shows_what_to_try(tmp_path: Path) -> None:
    """GIVEN the exploding run's log followed by the app with a --notify-cmd notifier
    WHEN the app has read it THEN one critical event went to the command, and the verdict pane
    shows the action under each critical reason (the grad_norm one: try bf16)."""
    log = tmp_path / "train.log"
    log.write_bytes(EXPLODING.read_bytes())
    out = tmp_path / "events.jsonl"
    notifier = Notifier([CommandSender(keep_stdin(out))], host="gpu1")
    app = make_app([log], notifier=notifier)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for_app(pilot, lambda: out.exists() and out.read_text().count("\n") >= 1, "the critical event")
        # the first reason's action is on the screen; the rest are below the fold (the pane scrolls)
        await wait_for_app(pilot, lambda: "→ lower `learning_rate`, set" in screen_text(app), "the action")
        model = app.dashboard.model
        assert model is not None
        texts = [line.text for line in model.reasons]
        i = next(i for i, t in enumerate(texts) if t.startswith("grad_norm is nan (first at step"))
        assert texts[i + 1] == (
            "→ if you train with `fp16=True`, try `bf16=True` instead; or lower `learning_rate` and keep "
            "`max_grad_norm=1.0`"
        )
        assert model.reasons[i + 1].note and not model.reasons[i].note
        step = model.status.step
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["event"], e["status"], e["step"], e["host"]) for e in events] == [("critical", "critical", step, "gpu1")]
    assert events[0]["title"] == "trainmon@gpu1: CRITICAL train.log"


async def test_a_failing_notifier_is_said_on_the_status_line_and_following_goes_on(tmp_path: Path) -> None:
    """GIVEN a --notify-cmd that fails WHEN the critical run is read THEN the status line says `notify failed`
    (once: a toast with the reason), and records appended afterwards still reach the screen."""
    log = tmp_path / "train.log"
    data = EXPLODING.read_bytes()
    cut = data.rindex(b"{'loss'")  # all but the last record: already critical
    log.write_bytes(data[:cut])
    app = make_app([log], notifier=Notifier([CommandSender("echo no route >&2; exit 3")]))
    async with app.run_test(size=(120, 36)) as pilot:
        # App.notify posts a message: the toast is there once the app has handled it, which may
        # be after the status line (redrawn at once) says the failure.
        await wait_for_app(
            pilot,
            lambda: "⚠ notify failed" in screen_text(app) and list(app._notifications),
            "the failure on the status line and its toast",
        )
        toasts = list(app._notifications)
        assert [(n.title, n.message) for n in toasts] == [
            ("notify failed", "--notify-cmd 'echo no route >&2; exit 3': exit status 3: no route")
        ]
        with log.open("ab") as f:
            f.write(data[cut:])
        await wait_for_app(pilot, lambda: "step 180/300" in screen_text(app), "the rest of the run")
        assert "⚠ notify failed" in screen_text(app).splitlines()[0]
