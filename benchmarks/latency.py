"""Append-to-record latency of the live follower (p50/p99), with inotify and with polling.

A writer process appends Trainer-style records at a steady pace, each carrying its own write
time (``CLOCK_MONOTONIC``, shared by all processes on Linux) as an extra numeric key. The
reader is either this process (Follower + LogParser, the pipeline the app's worker runs) or
``trainmon tail --json FILE`` as a subprocess (when the headless mode exists); latency is the
time the record is parsed (in-process) or its JSON line is read from the pipe (subprocess)
minus its write time.

Usage::

    .venv/bin/python benchmarks/latency.py [--records 200] [--interval 0.02] [--poll 0.25]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_monitor.core.follow import Reset, follow
from tui_monitor.core.parse import LogParser, Record

WRITER = r"""
import sys, time
path, n, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
time.sleep(float(sys.argv[4]))
with open(path, "a", buffering=1) as f:
    for i in range(n):
        f.write("{'loss': %.5f, 'learning_rate': 0.0001, 'epoch': %.4f, 't_write': %.6f}\n"
                % (5.0 - i * 1e-4, i / 1000, time.monotonic()))
        f.flush()
        time.sleep(interval)
"""


@dataclass
class Result:
    """Latencies of one run, in seconds."""

    mode: str
    reader: str
    latencies: list[float]
    expected: int

    def pct(self, q: float) -> float:
        """The q-quantile (0..1) of the latencies, nearest rank, in seconds."""
        xs = sorted(self.latencies)
        if not xs:
            return math.nan
        return xs[min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))]


def start_writer(path: Path, n: int, interval: float, delay: float) -> subprocess.Popen[bytes]:
    """Start the writer process: ``n`` records, ``interval`` seconds apart, after ``delay`` s."""
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(n), str(interval), str(delay)])


def run_in_process(path: Path, n: int, interval: float, poll: float | None) -> Result:
    """Follow ``path`` with Follower + LogParser while the writer runs; collect latencies."""
    stop = threading.Event()
    parser = LogParser()
    latencies: list[float] = []
    f = follow(path, stop_event=stop, poll=poll)
    writer = start_writer(path, n, interval, 0.3)
    deadline = time.monotonic() + n * interval + 10 + (poll or 0)

    def watchdog() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        for batch in f:
            for item in batch:
                if isinstance(item, Reset):
                    if item.new_stream:
                        parser = LogParser()
                    continue
                now = time.monotonic()
                for rec in parser.feed(item.payload):
                    if isinstance(rec, Record) and "t_write" in rec.metrics:
                        latencies.append(now - rec.metrics["t_write"])
            if len(latencies) >= n:
                break
    finally:
        stop.set()
        f.close()
        writer.wait(timeout=30)
    return Result(f.mode, "in-process", latencies, n)


def _find_t_write(obj: Any) -> float | None:
    if isinstance(obj, dict):
        if isinstance(obj.get("t_write"), (int, float)):
            return float(obj["t_write"])
        for v in obj.values():
            t = _find_t_write(v)
            if t is not None:
                return t
    return None


def trainmon_command() -> list[str]:
    """How to run ``trainmon`` from this checkout (the console script, or ``-m``)."""
    script = Path(sys.executable).with_name("trainmon")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui_monitor"]


def run_subprocess(path: Path, n: int, interval: float, poll: float | None) -> Result | str:
    """Read ``trainmon tail --json`` output while the writer runs; a string says why not."""
    cmd = [*trainmon_command(), "tail", "--json", str(path)]
    if poll is not None:
        cmd += ["--poll", str(poll)]
    path.touch()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    latencies: list[float] = []
    mode = "poll" if poll is not None else "inotify"
    try:
        time.sleep(1.0)  # let it start (imports) before the first record
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            return f"`trainmon tail --json` exited {proc.returncode}: {err.splitlines()[-1] if err else ''}"
        writer = start_writer(path, n, interval, 0.0)
        deadline = time.monotonic() + n * interval + 10 + (poll or 0)
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        buf = b""
        while len(latencies) < n and time.monotonic() < deadline:
            try:
                chunk = proc.stdout.read(65536)
            except BlockingIOError:
                chunk = None
            if not chunk:
                if proc.poll() is not None:
                    break
                time.sleep(0.001)
                continue
            now = time.monotonic()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict) and obj.get("type") == "record":
                    t = _find_t_write(obj)
                    if t is not None:
                        latencies.append(now - t)
        writer.wait(timeout=30)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
    if not latencies:
        return "`trainmon tail --json` printed no record carrying the t_write key"
    return Result(mode, "trainmon tail --json", latencies, n)


def table(results: list[Result], poll: float) -> str:
    """Markdown table of the results with their targets."""
    rows = [
        "| wake-up | reader | records seen | p50 (ms) | p99 (ms) | max (ms) | target | met |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        p50, p99, mx = r.pct(0.5) * 1e3, r.pct(0.99) * 1e3, max(r.latencies, default=math.nan) * 1e3
        if r.mode == "inotify":
            target, ok = "p50 ≤ 50, p99 ≤ 250", p50 <= 50 and p99 <= 250
        else:
            limit = poll * 1e3 + 50
            target, ok = f"p99 ≤ {limit:.0f} (interval + 50)", p99 <= limit
        ok = ok and len(r.latencies) == r.expected
        mode = r.mode if r.mode == "inotify" else f"poll {poll:g} s"
        rows.append(
            f"| {mode} | {r.reader} | {len(r.latencies)}/{r.expected} | {p50:.1f} | {p99:.1f} | {mx:.1f} "
            f"| {target} | {'yes' if ok else 'NO'} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a markdown table. Returns 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200, help="records per run")
    ap.add_argument("--interval", type=float, default=0.02, help="seconds between appends")
    ap.add_argument("--poll", type=float, default=0.25, help="poll interval for the polling runs (s)")
    ap.add_argument("--no-subprocess", action="store_true", help="skip the `trainmon tail --json` runs")
    args = ap.parse_args(argv)

    results: list[Result] = []
    notes: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="trainmon-latency-"))
    try:
        for poll in (None, args.poll):
            name = "inotify" if poll is None else "poll"
            results.append(run_in_process(tmp / f"inproc-{name}.log", args.records, args.interval, poll))
            if not args.no_subprocess:
                r = run_subprocess(tmp / f"cli-{name}.log", args.records, args.interval, poll)
                if isinstance(r, Result):
                    results.append(r)
                else:
                    notes.append(f"subprocess reader, {name}: not measured: {r}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.records} records, one every {args.interval * 1e3:.0f} ms\n")
    print(table(results, args.poll))
    for note in notes:
        print(f"\n- {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
