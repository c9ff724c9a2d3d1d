"""CPU of the app (``trainmon tail FILE`` in a tmux pane) idle and under 100 records/s,
and the time to its first frame on a small log.

* first frame: from launching ``trainmon tail`` in a fresh 120x36 tmux session until the
  pane (``tmux capture-pane``, polled every 10 ms) shows the log's last loss value;
* idle: the log stops growing; CPU time (utime + stime of the process, all threads, from
  ``/proc/PID/stat``) over ``--seconds`` divided by the wall time;
* 100 records/s: a writer appends one tqdm bar update plus one metric dict every 10 ms
  (transformers 5.x format) for ``--seconds``; same measure.

Usage::

    python benchmarks/app_cpu.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_logs import generate  # noqa: E402

BIN = Path(sys.executable).parent
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
SESSION = f"trainmon_bench_{os.getpid()}"
"""This run's tmux session: named per process, so two runs at once never kill each other's."""
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def pane_pid(session: str = SESSION) -> int:
    """The trainmon process in tmux ``session``'s pane (under tmux's ``sh -c`` when the command
    did not exec it). Also used by soak.py."""
    out = subprocess.run(
        ["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"], capture_output=True, text=True, check=True
    ).stdout
    pid = int(out.split()[0])
    for _ in range(3):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            break
        if (b"trainmon" in cmd or b"tui_monitor" in cmd) and b"sh\x00-c" not in cmd:
            return pid
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if not kids:
            break
        pid = int(kids[0])
    return pid


def capture() -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", SESSION], capture_output=True, text=True).stdout


def measure(pid: int, seconds: float) -> float:
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - c0) / (time.monotonic() - t0) * 100


def writer(path: Path, seconds: float, stop: threading.Event) -> int:
    n = 0
    start = time.monotonic()
    with open(path, "ab", buffering=0) as f:
        while not stop.is_set() and time.monotonic() - start < seconds:
            n += 1
            f.write(
                (
                    f"\r 50%|█████     | {5000 + n}/10000 [10:00<10:00,  8.33it/s]\r{' ' * 48}\r"
                    f"{{'loss': '{2.5 - n * 1e-5:.4g}', 'grad_norm': '1.2', 'learning_rate': '0.0001', "
                    f"'epoch': '{(5000 + n) / 2500:.4g}'}}\n"
                ).encode()
            )
            time.sleep(max(0.0, start + n * 0.01 - time.monotonic()))
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    a = ap.parse_args(argv)
    if shutil.which("tmux") is None:
        print("needs tmux", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="tmapp"))
    log = work / "train.log"
    with open(log, "wb") as f:
        generate(f, "tqdm5", steps=3000, logging_steps=10, eval_steps=500)
    last_loss = None
    for line in log.read_bytes().splitlines():
        if line.startswith(b"{'loss'"):
            last_loss = line.split(b"'")[3].decode()
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    try:
        t0 = time.monotonic()
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                SESSION,
                "-x",
                "120",
                "-y",
                "36",
                "-e",
                "PYTHONDONTWRITEBYTECODE=",
                f"{BIN / 'trainmon'} tail {log}",
            ],
            check=True,
            env=ENV,
        )
        first = float("nan")
        while time.monotonic() - t0 < 30:
            text = capture()
            if "loss" in text and last_loss and last_loss in text:
                first = time.monotonic() - t0
                break
            time.sleep(0.01)
        pid = pane_pid()
        print(
            f"# {time.strftime('%Y-%m-%d %H:%M')}  {os.cpu_count()} CPUs, pid {pid}, log {log.stat().st_size:,} bytes"
        )
        print(f"first frame with the last loss ({last_loss}) shown: {first:.2f} s")
        time.sleep(3)
        idle = measure(pid, a.seconds)
        print(f"idle CPU over {a.seconds:.0f} s: {idle:.2f} % of a core")
        stop = threading.Event()
        res: list[int] = []
        th = threading.Thread(target=lambda: res.append(writer(log, a.seconds + 1, stop)))
        th.start()
        time.sleep(0.5)
        busy = measure(pid, a.seconds)
        stop.set()
        th.join()
        print(f"CPU at 100 records/s over {a.seconds:.0f} s ({res[0]} records written): {busy:.2f} % of a core")
        tail = capture().strip().splitlines()
        print("last screen line:", tail[-1] if tail else "")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
