"""Stress: a writer appends 10,000 records/s for 60 s while trainmon follows the log.

Two followers, one after the other, each on its own log:

* headless: ``trainmon tail --json LOG`` (stdout read by this script, records counted);
* the app: ``trainmon tail LOG`` in a detached tmux session (120x36); records counted
  from the screen (the ``seq`` metric's last value and max), frames = distinct screen
  captures taken every 0.5 s.

The writer is a separate process writing 100 records every 10 ms with ``O_APPEND``; each
record carries ``seq`` (0..N-1). Reported per follower: records counted / written, the lag
after the writer's end until the last record was seen, peak RSS (VmHWM), CPU used while
writing (% of one core), and for the app the screen updates per second.

    .venv/bin/python benchmarks/stress.py                 # 60 s each, headless + app
    .venv/bin/python benchmarks/stress.py --seconds 5 --no-app
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRITER = r"""
import os, sys, time
path, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
batch = max(1, rate // 100)
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
t0 = time.monotonic(); i = 0
while i < rate * seconds:
    lines = []
    for _ in range(batch):
        lines.append("{'loss': %.6f, 'grad_norm': 0.5, 'learning_rate': 0.0001, 'epoch': %.6f, 'seq': %d}\n"
                     % (5.0 - i * 1e-7, i * 1e-6, i))
        i += 1
    os.write(fd, "".join(lines).encode())
    delay = t0 + i / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
os.close(fd)
print(f"{i} {time.monotonic() - t0:.3f}")
"""
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its waited-for children (seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write(log: Path, rate: int, seconds: float) -> tuple[subprocess.Popen[str], float]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(log), str(rate), str(seconds)], stdout=subprocess.PIPE, text=True
    ), time.monotonic()


def run_headless(log: Path, rate: int, seconds: float) -> dict:
    log.write_bytes(b"")
    tail = subprocess.Popen(
        [sys.executable, "-m", "tui_monitor", "tail", "--json", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    count = [0]
    last_seq = [-1]
    in_order = [True]
    seen_at = [0.0]

    def pump() -> None:
        assert tail.stdout is not None
        for line in tail.stdout:
            if '"record"' in line:
                seq = int(json.loads(line)["metrics"]["seq"])
                in_order[0] &= seq == last_seq[0] + 1
                last_seq[0] = seq
                count[0] += 1
                seen_at[0] = time.monotonic()

    th = threading.Thread(target=pump, daemon=True)
    th.start()
    time.sleep(1.0)
    cpu0 = cpu_seconds(tail.pid)
    writer, t0 = write(log, rate, seconds)
    out, _ = writer.communicate()
    t_end = time.monotonic()
    cpu_write = cpu_seconds(tail.pid) - cpu0
    n = int(out.split()[0])
    deadline = time.monotonic() + 60
    while count[0] < n and time.monotonic() < deadline:
        time.sleep(0.05)
    rss = peak_rss_mib(tail.pid)
    tail.send_signal(signal.SIGINT)
    rc = tail.wait(timeout=10)
    return {
        "follower": "trainmon tail --json",
        "written": n,
        "counted": count[0],
        "in_order": in_order[0],
        "lag_s": max(0.0, seen_at[0] - t_end),
        "peak_rss_mib": rss,
        "cpu_pct": 100 * cpu_write / (t_end - t0),
        "exit": rc,
    }


def run_app(log: Path, rate: int, seconds: float) -> dict:
    log.write_bytes(b"")
    session = f"trainmon-stress-{os.getpid()}"
    cmd = f"cd {ROOT} && exec {sys.executable} -m tui_monitor tail {log}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36", cmd], check=True)
    try:
        pid = int(
            subprocess.run(
                ["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"], capture_output=True, text=True, check=True
            ).stdout.split()[0]
        )

        def screen() -> str:
            return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout

        def shown_seq(text: str) -> int:
            m = re.search(r"\bseq\s+(\d+)\b.*?max (\d+)", text)
            return int(m.group(2)) if m else -1

        time.sleep(2.0)
        cpu0 = cpu_seconds(pid)
        writer, t0 = write(log, rate, seconds)
        frames, prev = 0, ""
        while writer.poll() is None:
            s = screen()
            frames += s != prev
            prev = s
            time.sleep(0.5)
        out, _ = writer.communicate()
        t_end = time.monotonic()
        cpu_write = cpu_seconds(pid) - cpu0
        n = int(out.split()[0])
        deadline = time.monotonic() + 60
        last = -1
        while time.monotonic() < deadline:
            last = shown_seq(screen())
            if last >= n - 1:
                break
            time.sleep(0.2)
        lag = time.monotonic() - t_end
        rss = peak_rss_mib(pid)
        return {
            "follower": "trainmon tail (app, tmux 120x36)",
            "written": n,
            "counted": last + 1,
            "lag_s": lag,
            "peak_rss_mib": rss,
            "cpu_pct": 100 * cpu_write / (t_end - t0),
            "screen_updates_per_s": frames / (t_end - t0),
        }
    finally:
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], capture_output=True)
        time.sleep(1.0)
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=int, default=10_000, help="records per second (default 10000)")
    ap.add_argument("--no-app", action="store_true", help="skip the app (tmux) run")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="trainmon-stress-") as d:
        results.append(run_headless(Path(d) / "headless.log", args.rate, args.seconds))
        print(json.dumps(results[-1]), flush=True)
        if not args.no_app:
            if shutil.which("tmux") is None:
                print("tmux not found: app run skipped", flush=True)
            else:
                results.append(run_app(Path(d) / "app.log", args.rate, args.seconds))
                print(json.dumps(results[-1]), flush=True)
    ok = all(r["counted"] == r["written"] for r in results)
    print("all records counted" if ok else "RECORDS MISSING")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
