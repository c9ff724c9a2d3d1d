"""`trainmon report` on runs: the comparison with the previous run or ``--baseline OTHER.log``,
and the log's writer process looked for around the read (the real console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES

pytestmark = pytest.mark.slow  # trainmon report and writer processes in subprocesses

REAL = FIXTURES / "real"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui_monitor", *args], capture_output=True, text=True, timeout=120)


def report_json(*args: str) -> dict:
    out = run("report", "--json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_three_runs_latest_compared_with_the_previous_one() -> None:
    # GIVEN three runs appended to one log WHEN reported
    d = report_json(str(REAL / "three_runs_append.log"))
    # THEN the judged run 3 is compared with run 2 at its last step, said in the verdict too
    b = d["baseline"]
    assert d["run"] == 3 and b["file"] is None and b["run"] == 2 and b["step"] == 40
    assert b["metric"] == "loss" and 4.1 < b["value"] < b["baseline_value"] < 4.5
    texts = [r["text"] for r in d["verdict"]["reasons"] if r["code"] == "loss_compare"]
    assert texts == [f"loss {b['value']:.3f} vs {b['baseline_value']:.3f} for run 2 at step 40 (−3 %)"]


def test_baseline_option_compares_with_another_logs_latest_run() -> None:
    # GIVEN the 100-step run and, as baseline, the 300-step run of the same script
    base = REAL / "reuse_shorter.part1.log"
    d = report_json("--baseline", str(base), str(REAL / "reuse_shorter.log"))
    # THEN the comparison is at step 100 against that file's run
    b = d["baseline"]
    assert b["file"] == "reuse_shorter.part1.log" and b["run"] == 1 and b["step"] == 100
    reason = next(r for r in d["verdict"]["reasons"] if r["code"] == "loss_compare")
    assert reason["step"] == 100 and "for reuse_shorter.part1.log at step 100" in reason["text"]
    # AND the text report says what it was compared with
    text = run("report", "--baseline", str(base), str(REAL / "reuse_shorter.log")).stdout
    assert "compared with: reuse_shorter.part1.log, run 1" in text
    assert "vs" in text and "for reuse_shorter.part1.log at step 100" in text


def test_baseline_without_loss_is_a_one_line_error(tmp_path: Path) -> None:
    # GIVEN a baseline file with no record WHEN reported THEN one line on stderr and exit 1
    empty = tmp_path / "empty.log"
    empty.write_text("nothing here\n")
    out = run("report", "--baseline", str(empty), str(REAL / "reuse_shorter.log"))
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip() == f"trainmon: {empty}: no loss records to compare with (--baseline)"


HOLDER = r"""
import sys, time
with open(sys.argv[1], "ab") as f:  # the training process's stdout, open for writing
    print("ready", flush=True)
    sys.stdin.read()
"""

EXIT_ON_READ = r"""
import ctypes, os, sys
f = open(sys.argv[1], "ab")  # open for writing, as the training process's stdout
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x1)  # IN_ACCESS: someone read the file
print("ready", flush=True)
os.read(fd, 4096)
os._exit(0)  # the process ends while the file is being read (a SIGKILL leaves no summary either)
"""


def _start(script: str, log: Path) -> subprocess.Popen[str]:
    p = subprocess.Popen(
        [sys.executable, "-c", script, str(log)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    return p


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="writers are found through /proc")
def test_report_names_a_live_writer_and_says_running(tmp_path: Path) -> None:
    # GIVEN a killed run's log written just now, held open for writing by a live process
    log = tmp_path / "train.log"
    log.write_bytes((REAL / "killed_sigkill.log").read_bytes())
    holder = _start(HOLDER, log)
    try:
        # WHEN reported THEN the writer is named, alive, and the run is running (not ended)
        d = report_json(str(log))
        assert d["writer"] == {"pid": holder.pid, "command": d["writer"]["command"], "alive": True}
        assert "-c" in d["writer"]["command"] and d["state"] == "running"
        text = run("report", str(log)).stdout
        assert f"writer: pid {holder.pid} " in text
    finally:
        holder.communicate("")
    # WHEN the writer has gone before the report looks THEN nothing is said of a process
    # (none visible: the file's age decides, and it was written moments ago)
    d = report_json(str(log))
    assert d["writer"] is None and d["state"] == "running"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="writers are found through /proc")
def test_report_says_ended_when_the_writer_exits_during_the_read(tmp_path: Path) -> None:
    # GIVEN a large log of a run without a summary, whose writer exits when the file is first read
    log = tmp_path / "train.log"
    with open(log, "wb") as f:
        f.write(b"INFO some setup line that is not a record\n" * 800_000)  # ~34 MB: a read that takes a while
        f.write((REAL / "killed_sigkill.log").read_bytes())
    writer = _start(EXIT_ON_READ, log)
    # WHEN reported
    d = report_json(str(log))
    writer.wait(10)
    # THEN the writer was seen, is gone, and the run ended without finishing (at once, not by age)
    assert d["writer"]["pid"] == writer.pid and d["writer"]["alive"] is False
    assert d["state"] == "ended"
    codes = [r["code"] for r in d["verdict"]["reasons"]]
    assert "run_ended" in codes and os.path.getsize(log) > 30_000_000
