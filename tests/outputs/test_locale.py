"""Every output in a locale that is not UTF-8: `report`, `tail --plain/--json` and the dashboard,
the real commands with the encoding forced in their environment (issue 17, item 2)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, TailProcess, wait_for

from tui_monitor.core.text.charset import shown

pytestmark = pytest.mark.slow  # trainmon in a subprocess (and in tmux)

LOG = FIXTURES / "real" / "hf5_linear_warmup.log"


def _env(**extra: str) -> dict[str, str]:
    """The environment with every locale and Python encoding override removed, then ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LC_") and k not in ("LANG", "LANGUAGE", "PYTHONIOENCODING", "PYTHONUTF8")
    }
    return {**env, **extra}


@pytest.fixture(scope="module")
def latin1(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A real ISO-8859-1 locale (built with localedef), else Python told the same encoding."""
    where = tmp_path_factory.mktemp("locale")
    made = shutil.which("localedef") and (
        subprocess.run(
            ["localedef", "-i", "en_US", "-f", "ISO-8859-1", str(where / "en_US.ISO-8859-1")], capture_output=True
        ).returncode
        == 0
    )
    if made:
        return _env(LOCPATH=str(where), LC_ALL="en_US.ISO-8859-1")
    return _env(LC_ALL="C", PYTHONUTF8="0", PYTHONIOENCODING="iso8859-1")


ASCII = _env(LC_ALL="C", PYTHONUTF8="0")
"""The C locale with Python's UTF-8 mode off: stdout's encoding is ASCII."""


@pytest.fixture(params=["ascii", "latin-1"])
def locale_env(request: pytest.FixtureRequest, latin1: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(the encoding Python uses for stdout, the environment that forces it)."""
    env = ASCII if request.param == "ascii" else latin1
    got = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.stdout.encoding)"], env=env, capture_output=True, text=True
    ).stdout.strip()
    assert got == ("ascii" if request.param == "ascii" else "iso8859-1")  # the environment really forces it
    return got, env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tui_monitor", *args], capture_output=True, env=env, cwd=ROOT, timeout=60
    )


def test_report_text_falls_back_to_plain_symbols(locale_env: tuple[str, dict[str, str]]) -> None:
    encoding, env = locale_env
    # GIVEN a real finished run WHEN reported in a locale that cannot show ✓ → −
    out = run(env, "report", str(LOG))
    # THEN no traceback, exit 0, and the reasons read with plain fallbacks
    assert out.returncode == 0, out.stderr.decode(encoding, "replace")
    assert out.stderr == b""
    text = out.stdout.decode(encoding)
    assert "  OK loss fell 6.191 -> 4.272 (-31 %)\n" in text
    assert "  OK eval_loss improving: 5.524 -> 4.194 (best 4.194 at step 300)\n" in text
    assert "60 train, 6 eval, 1 summary records" in text


def test_report_json_is_ascii_and_reads_back_every_character(locale_env: tuple[str, dict[str, str]]) -> None:
    encoding, env = locale_env
    # GIVEN the same report as JSON under UTF-8
    utf8 = json.loads(run(_env(LC_ALL="C.UTF-8"), "report", "--json", str(LOG)).stdout)
    # WHEN reported as JSON in a locale that is not UTF-8
    out = run(env, "report", "--json", str(LOG))
    # THEN it is ASCII (valid UTF-8, whatever reads it) and decodes to the same object, arrows included
    assert out.returncode == 0 and out.stderr == b""
    assert out.stdout.isascii()
    assert "\\u2192" in out.stdout.decode("ascii")
    got = json.loads(out.stdout)
    assert got == utf8
    assert got["verdict"]["reasons"][0]["text"] == "loss fell 6.191 → 4.272 (−31 %)"


def _tail(env: dict[str, str], encoding: str, *args: str) -> TailProcess:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_monitor", "tail", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        text=True,
        encoding=encoding,
    )
    return TailProcess(proc=proc)


def test_tail_plain_says_verdicts_with_plain_symbols(locale_env: tuple[str, dict[str, str]]) -> None:
    encoding, env = locale_env
    # GIVEN `trainmon tail --plain` on a real finished run, in a locale that cannot show →
    tail = _tail(env, encoding, "--plain", str(LOG))
    try:
        # WHEN it reaches the verdicts THEN they are said with plain fallbacks, and it goes on
        lines = tail.wait_for(lambda ls: any("finished (summary" in s for s in ls), "the run's end")
        (verdict,) = [s for s in lines if s.startswith("-- verdict ")]
        assert verdict.startswith("-- verdict HEALTHY: loss fell 6.191 -> 4.272 (-31 %) ")
        assert sum(s.startswith("train ") for s in lines) == 60
    finally:
        rc, err = tail.stop(signal.SIGINT)
    assert rc == 130 and "Traceback" not in err


def test_tail_json_escapes_what_the_locale_cannot_show(locale_env: tuple[str, dict[str, str]]) -> None:
    encoding, env = locale_env
    # GIVEN `trainmon tail --json` on a real finished run, in a locale that cannot show →
    tail = _tail(env, encoding, "--json", str(LOG))
    try:
        # WHEN it reaches the verdicts THEN each line is ASCII JSON that reads back the arrows
        lines = tail.wait_for(lambda ls: any('"state": "finished"' in s for s in ls), "the run's end")
        assert all(s.isascii() for s in lines)
        statuses = [o for o in map(json.loads, lines) if o["type"] == "status" and "verdict" in o]
        assert statuses[0]["reason"] == "loss fell 6.191 → 4.272 (−31 %)"
        assert sum(o["type"] == "record" for o in map(json.loads, lines)) == 67
    finally:
        rc, err = tail.stop(signal.SIGTERM)
    assert rc == 143 and "Traceback" not in err


def test_log_text_the_locale_cannot_show_is_replaced_not_fatal(tmp_path: Path) -> None:
    # GIVEN a log whose metric keys hold an accent, CJK and an escape sequence
    log = tmp_path / "train.log"
    keys = {"loss_é": 1.5, "损失": 2.5, "k\x1b[2J": 3.5}
    log.write_text("".join(repr({"loss": 2.0 - i / 10, **keys, "epoch": i / 10}) + "\n" for i in range(5)))
    # WHEN reported and tailed in the C locale (ASCII)
    out = run(ASCII, "report", str(log))
    tail = _tail(ASCII, "ascii", "--plain", str(log))
    try:
        lines = tail.wait_for(lambda ls: sum(s.startswith("train ") for s in ls) == 5, "the five records")
    finally:
        rc, err = tail.stop(signal.SIGINT)
    # THEN each such character is replaced (the accent dropped, ? per CJK character, ESC's
    # picture in caret notation; --plain drops the escape sequence), never a traceback
    assert out.returncode == 0 and out.stderr == b""
    table = out.stdout.decode("ascii")
    assert "\nloss_e " in table and "\n?? " in table and "\nk^[[2J " in table
    assert lines[-1] == "train    epoch 0.4  loss 1.6  loss_e 1.5  ?? 2.5  k 3.5"
    assert rc == 130 and "Traceback" not in err


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def _screen(env: dict[str, str], name: str) -> list[str]:
    """The dashboard on LOG in a tmux pane under ``env``, once its verdict pane is drawn."""
    session = f"trainmon-locale-{os.getpid()}-{name}"
    envs = [f"{k}={v}" for k, v in env.items() if k.startswith(("LC_", "PYTHON", "LOCPATH"))]
    unset = "-u LANG -u LANGUAGE -u PYTHONIOENCODING -u PYTHONUTF8 -u LC_ALL -u LC_CTYPE"
    cmd = f"cd {ROOT} && env {unset} {' '.join(envs)} {sys.executable} -m tui_monitor tail {LOG}; sleep 30"
    _tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd)
    try:
        return wait_for(
            lambda: (
                (lines := _tmux("capture-pane", "-p", "-t", session).splitlines())
                and "HEALTHY" in lines[0]
                and any("eval_loss improving" in line for line in lines)
                and lines
            ),
            lambda: "the verdict pane: " + _tmux("capture-pane", "-p", "-t", session),
            20.0,
        )
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_dashboard_keeps_its_layout_in_the_c_locale() -> None:
    # GIVEN the dashboard on a real finished run in a UTF-8 locale
    utf8 = _screen(_env(LC_ALL="C.UTF-8"), "utf8")
    # WHEN the same dashboard runs in the C locale (ASCII)
    c = _screen(ASCII, "c")
    # THEN no \u2713-style escapes; the status line and the verdict pane are the UTF-8 screen
    # with each glyph replaced by one of the same width: the badge stays at the right edge
    assert not any("\\u" in line for line in c)
    assert c[0] == shown(utf8[0], "ascii", "cells") and c[0].rstrip().endswith("v HEALTHY")
    assert len(c[0]) == len(utf8[0])
    reasons = [i for i, line in enumerate(utf8) if "loss fell" in line or "eval_loss improving" in line]
    assert [c[i].rstrip() for i in reasons] == [
        " v loss fell 6.191 > 4.272 (-31 %)",
        " v eval_loss improving: 5.524 > 4.194 (best 4.194 at step 300)",
    ]
