"""Notifications: `trainmon tail --notify URL` (Apprise) and `--notify-cmd CMD`, with real logs replayed live.

A webhook on 127.0.0.1 receives Apprise's `json://` messages; the logs are real Trainer output
(the exploding demo log, a finished transformers 5.x run) written into a file piece by piece,
as their training processes wrote them, while `trainmon tail --json` follows the file.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, TailProcess, wait_for

from tui_monitor.cli import main
from tui_monitor.core.demo import Chunk, load_demo
from tui_monitor.core.pipeline import read_once

pytestmark = pytest.mark.slow  # trainmon runs in a subprocess


class Webhook:
    """An HTTP server on 127.0.0.1 keeping every JSON body POSTed to it (Apprise's `json://`)."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        lock = threading.Lock()
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    got.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def titled(self, word: str) -> list[dict[str, Any]]:
        """Messages whose title's head (after `trainmon@host: `) starts with ``word``."""
        return [m for m in list(self.got) if m["title"].split(": ", 1)[1].startswith(word)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Any:
    hook = Webhook()
    yield hook
    hook.close()


def write(path: Path, data: bytes) -> None:
    """Append like a redirected training process (O_APPEND, one write)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def records(lines: list[Any]) -> int:
    return sum(1 for o in lines if o.get("type") == "record")


def first_critical_chunk(data: bytes, chunks: tuple[Chunk, ...], tmp: Path) -> int:
    """Index of the first write after which the log, read whole, is judged critical."""
    probe = tmp / "probe.log"
    for k, c in enumerate(chunks):
        probe.write_bytes(data[: c.offset + c.size])
        if read_once(probe).health().status == "critical":
            return k
    raise AssertionError("the exploding log never turns critical")


def test_the_exploding_run_gives_one_critical_message_on_the_record_that_shows_it(tmp_path: Path, webhook: Any) -> None:
    """GIVEN the exploding demo log written live, piece by piece, and `tail --json --notify json://...`
    WHEN the write that makes the run critical arrives THEN one CRITICAL message says that step, with the
    reason and what to try; the rest of the run adds no second CRITICAL message."""
    demo = load_demo("exploding")
    k = first_critical_chunk(demo.data, demo.chunks, tmp_path)
    before = read_once(tmp_path / "probe.log").health()  # the probe now holds the critical prefix
    cut = demo.chunks[k].offset + demo.chunks[k].size
    probe = tmp_path / "probe.log"
    probe.write_bytes(demo.data[: demo.chunks[k].offset])
    n_before = read_once(probe).run.snapshot().record_count
    log = tmp_path / "train.log"
    log.write_bytes(b"")
    tail = TailProcess("--json", "--notify", webhook.url, str(log), decode=json.loads, deadline_s=30)
    tail.wait_for(lambda lines: any(o.get("state") == "following" for o in lines), "following")
    # WHEN everything before the critical write is there, and read
    write(log, demo.data[: demo.chunks[k].offset])
    tail.wait_for(lambda lines: records(lines) >= n_before, f"{n_before} records")
    assert webhook.titled("CRITICAL") == []
    # WHEN the write that shows it arrives
    write(log, demo.data[demo.chunks[k].offset : cut])
    wait_for(lambda: webhook.titled("CRITICAL"), "a CRITICAL message", 20)
    msg = webhook.titled("CRITICAL")[0]
    # THEN it says the file, the run, the verdict, the first reason, the step/total and what to try
    assert msg["type"] == "failure"
    lines = msg["message"].splitlines()
    assert lines[0] == "train.log, run 1: CRITICAL"
    assert f"step {before.progress.step}/{before.progress.total}" in lines
    assert lines[-1].startswith("→ ") and "`learning_rate`" in lines[-1]
    assert msg["title"] == f"trainmon@{socket.gethostname()}: CRITICAL train.log"
    # the run began while followed: said once, before
    assert [m["title"].split(": ", 1)[1] for m in webhook.got][0] == "run 1 started train.log"
    # WHEN the rest of the run is written THEN no second CRITICAL message
    write(log, demo.data[cut:])
    total = read_once(FIXTURES.parent.parent / "tui_monitor/data/hf4_exploding_nan.log").run.snapshot().record_count
    tail.wait_for(lambda lines: records(lines) >= total, f"{total} records")
    rc, err = tail.stop()
    assert (rc, err) == (130, "")
    assert len(webhook.titled("CRITICAL")) == 1


def replay_finished(log: Path) -> None:
    """Write a finished real run (transformers 5.x, 300 steps, summary record) in the pieces its process wrote."""
    name = FIXTURES / "real/hf5_linear_warmup"
    data = name.with_suffix(".log").read_bytes()
    for row in name.with_suffix(".chunks.tsv").read_text().splitlines()[1:]:
        _, off, n = row.split("\t")
        write(log, data[int(off) : int(off) + int(n)])


def test_a_finished_run_gives_one_finished_message(tmp_path: Path, webhook: Any) -> None:
    """GIVEN a real run written live until its summary record WHEN followed with --notify THEN one
    `finished` message (verdict HEALTHY, step 300/300), and nothing critical."""
    log = tmp_path / "train.log"
    log.write_bytes(b"")
    tail = TailProcess("--json", "--notify", webhook.url, str(log), decode=json.loads, deadline_s=30)
    tail.wait_for(lambda lines: any(o.get("state") == "following" for o in lines), "following")
    replay_finished(log)
    wait_for(lambda: webhook.titled("finished"), "a finished message", 20)
    tail.wait_for(lambda lines: any(o.get("state") == "finished" for o in lines), "the finished status line")
    rc, _ = tail.stop()
    assert rc == 130
    (msg,) = webhook.titled("finished")
    assert msg["title"].endswith(": finished · HEALTHY train.log")
    assert msg["type"] == "success"
    # The verdict's top reason leads; the run's end is said beside it.
    assert msg["message"].splitlines()[1].startswith("loss fell 6.191 → ")
    assert msg["message"].splitlines()[2].endswith(": step 300/300 (100 %)")
    assert webhook.titled("CRITICAL") == []


def test_notify_cmd_gets_the_event_as_json_on_stdin(tmp_path: Path) -> None:
    """GIVEN `--notify-cmd` with a command that keeps its stdin and environment WHEN a real run finishes
    live THEN the command got one JSON object per message, the last one `finished`, and TRAINMON_STATUS,
    TRAINMON_FILE in its environment."""
    out = tmp_path / "events.jsonl"
    script = (
        "import json, os, sys; ev = json.load(sys.stdin); "
        "ev['env'] = [os.environ['TRAINMON_STATUS'], os.environ['TRAINMON_FILE']]; "
        f"open({str(out)!r}, 'a').write(json.dumps(ev) + chr(10))"
    )
    cmd = f"{sys.executable} -c {json.dumps(script)}"
    log = tmp_path / "train.log"
    log.write_bytes(b"")
    tail = TailProcess("--json", "--notify-cmd", cmd, str(log), decode=json.loads, deadline_s=30)
    tail.wait_for(lambda lines: any(o.get("state") == "following" for o in lines), "following")
    replay_finished(log)

    def events() -> list[dict[str, Any]]:
        return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []

    wait_for(lambda: any(e["event"] == "finished" for e in events()), "the finished event", 20)
    tail.stop()
    got = events()
    assert [e["event"] for e in got] == ["run_started", "finished"]
    fin = got[-1]
    assert (fin["type"], fin["file"], fin["run"], fin["status"], fin["state"]) == (
        "notify",
        str(log),
        1,
        "healthy",
        "finished",
    )
    # The verdict's top reason (a healthy one: no action), and the run's end beside it.
    assert (fin["code"], fin["step"], fin["total"], fin["action"]) == ("loss_decreasing", 300, 300, None)
    assert fin["reason"].startswith("loss fell 6.191 → ")
    assert fin["state_reason"].startswith("finished (summary record")
    assert fin["env"] == ["healthy", str(log)]


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def test_an_unreachable_url_is_said_once_and_following_goes_on(tmp_path: Path) -> None:
    """GIVEN --notify to a port nobody listens on WHEN the exploding run is written live THEN the failure is
    one status line (for several undelivered messages) and every record is still printed."""
    demo = load_demo("exploding")
    log = tmp_path / "train.log"
    log.write_bytes(b"")
    url = f"json://127.0.0.1:{closed_port()}"
    tail = TailProcess("--json", "--notify", url, str(log), decode=json.loads, deadline_s=30)
    tail.wait_for(lambda lines: any(o.get("state") == "following" for o in lines), "following")
    half = demo.chunks[len(demo.chunks) // 2].offset
    write(log, demo.data[:half])
    tail.wait_for(lambda lines: any(o.get("notify") == "failed" for o in lines), "the notifier's failure")
    write(log, demo.data[half:])
    total = read_once(FIXTURES.parent.parent / "tui_monitor/data/hf4_exploding_nan.log").run.snapshot().record_count
    seen = tail.wait_for(
        lambda lines: records(lines) >= total and any(o.get("verdict") == "critical" for o in lines), "every record"
    )
    rc, err = tail.stop()
    assert (rc, err) == (130, "")
    failed = [o for o in tail.seen if o.get("notify") == "failed"]
    assert len(failed) == 1
    assert failed[0]["error"].startswith(f"{url}: ")
    assert records(seen) == total


def test_notify_without_apprise_says_which_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN Apprise cannot be imported WHEN `tail --notify URL` THEN exit 1 and one line naming the extra."""
    monkeypatch.setitem(sys.modules, "apprise", None)  # what `import apprise` meets when it is not installed
    assert main(["tail", "--plain", "--notify", "ntfy://topic", str(tmp_path / "train.log")]) == 1
    err = capsys.readouterr().err
    assert err == "trainmon: --notify needs Apprise: pip install 'trainmon[notify]'\n"


def test_a_url_apprise_does_not_know_is_refused_at_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a URL of no notification service WHEN `tail --notify` THEN exit 1 and one line, before following."""
    assert main(["tail", "--plain", "--notify", "nosuch://x", str(tmp_path / "train.log")]) == 1
    assert capsys.readouterr().err == "trainmon: --notify nosuch://x: not a notification URL Apprise knows\n"


def test_apprise_is_imported_only_for_notify() -> None:
    """GIVEN a fresh interpreter WHEN the CLI, the app and a --notify-cmd notifier are loaded THEN Apprise is not."""
    import subprocess

    code = (
        "import sys, tui_monitor.cli, tui_monitor.ui.app\n"
        "from tui_monitor.core.notify import make_notifier\n"
        "make_notifier(None, ['true']).close()\n"
        "print('apprise' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
