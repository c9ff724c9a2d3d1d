"""Soak: memory and CPU of the dashboard (``trainmon tail FILE`` in a tmux pane) over a long
live run at a steady record rate.

A writer appends to a fresh log what a live transformers 5.x run prints: one tqdm bar update
plus one metric dict per record (``loss``, ``grad_norm``, ``learning_rate``, ``epoch``; ten
global steps apart), an eval dict every 50 records, ``--rate`` records a second, for
``--minutes``. Every 30 s the app's resident memory (``VmRSS`` of ``/proc/PID/status``) and its
CPU time (utime + stime, all threads, ``/proc/PID/stat``) are sampled, with the machine's load
average (``os.getloadavg``; the machine may be shared).

Usage::

    python benchmarks/soak.py --rate 10 --minutes 10
    python benchmarks/soak.py --rate 100 --minutes 10
    PYTHONPATH=<another tree> python benchmarks/soak.py ...   # that tree's trainmon
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
from app_cpu import cpu_seconds  # noqa: E402
from app_cpu import pane_pid as app_pid  # noqa: E402

TOTAL_STEPS = 10_000_000


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid``, MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def write_run(path: Path, rate: float, seconds: float, stop: threading.Event, count: list[int]) -> None:
    """Append records at ``rate`` per second for ``seconds`` (a live run, no summary)."""
    start = time.monotonic()
    n = 0
    with open(path, "ab", buffering=0) as f:
        f.write(b"***** Running training *****\n  Total optimization steps = %d\n" % TOTAL_STEPS)
        while not stop.is_set() and time.monotonic() - start < seconds:
            n += 1
            step = 10 * n
            line = (
                f"\r  0%|          | {step}/{TOTAL_STEPS} [10:00<99:00:00, 16.7it/s]\r{' ' * 48}\r"
                f"{{'loss': '{2.5 * 0.9999**n + 0.5:.4g}', 'grad_norm': '1.2', 'learning_rate': '0.0001', "
                f"'epoch': '{step / 25000:.4g}'}}\n"
            )
            if n % 50 == 0:
                line += f"{{'eval_loss': '{2.6 * 0.9999**n + 0.5:.4g}', 'epoch': '{step / 25000:.4g}'}}\n"
            f.write(line.encode())
            count[0] = n
            time.sleep(max(0.0, start + n / rate - time.monotonic()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=10.0, help="records per second")
    ap.add_argument("--minutes", type=float, default=10.0)
    a = ap.parse_args(argv)
    if shutil.which("tmux") is None:
        print("needs tmux", file=sys.stderr)
        return 1
    session = f"trainmon_soak_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="tmsoak"))
    log = work / "train.log"
    log.write_bytes(b"")
    seconds = a.minutes * 60
    stop = threading.Event()
    count = [0]
    try:
        # PYTHONPATH=<tree> measures another tree with this venv (the pane gets it explicitly:
        # a running tmux server does not pass the client's environment on).
        env = ["-e", f"PYTHONPATH={os.environ['PYTHONPATH']}"] if os.environ.get("PYTHONPATH") else []
        subprocess.run(
            # -c: the pane starts in the temporary directory, so `python -m` finds the tree of
            # PYTHONPATH (or the installed one), not one in the current directory.
            ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36", "-c", str(work), *env]
            + [f"{sys.executable} -m tui_monitor tail {log}"],
            check=True,
        )
        time.sleep(2)  # the app's start-up (imports, first frame) is not part of the soak
        pid = app_pid(session)
        th = threading.Thread(target=write_run, args=(log, a.rate, seconds, stop, count), daemon=True)
        print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {os.cpu_count()} CPUs, pid {pid}, {a.rate:g} records/s")
        print("   t_s  rss_MB  cpu_%_of_core(last 30 s)  records  load_1m")
        c0, t0 = cpu_seconds(pid), time.monotonic()
        first_rss = rss_mb(pid)
        rss = [first_rss]
        loads = [os.getloadavg()[0]]
        print(f"{0:6.0f}  {first_rss:6.1f}  {'':>24}  {0:7d}  {loads[0]:7.2f}")
        th.start()
        last_c, last_t = c0, t0
        while th.is_alive():
            th.join(30)
            c, t = cpu_seconds(pid), time.monotonic()
            rss.append(rss_mb(pid))
            loads.append(os.getloadavg()[0])
            pct = (c - last_c) / (t - last_t) * 100
            print(f"{t - t0:6.0f}  {rss[-1]:6.1f}  {pct:24.2f}  {count[0]:7d}  {loads[-1]:7.2f}")
            last_c, last_t = c, t
        cpu = (last_c - c0) / (last_t - t0) * 100
        shown = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
        print(
            f"summary: {a.rate:g} records/s for {(last_t - t0) / 60:.1f} min ({count[0]} records): "
            f"RSS {first_rss:.0f} -> {rss[-1]:.0f} MB (max {max(rss):.0f}), CPU {cpu:.2f} % of a core, "
            f"load average {min(loads):.2f}-{max(loads):.2f}"
        )
        print("screen's first lines:", *shown.strip().splitlines()[:3], sep="\n  ")
    finally:
        stop.set()
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
