"""Time to the whole history: trainmon on a Trainer console log vs TensorBoard on event files.

The same run is written twice (same values, from ``gen_logs.RunModel``): as a transformers
5.x console log with tqdm bars (``gen_logs.generate(kind="tqdm5")``) and as TensorBoard
event files with the tags the Trainer's ``TensorBoardCallback`` writes (``train/loss``,
``train/grad_norm``, ``train/learning_rate``, ``train/epoch``, one event per scalar per
logged step), written with tensorboard's own ``EventFileWriter``.

Measured from process launch:

* ``trainmon report --json LOG`` until it exits, with every series' ``count`` equal to the
  number of logged steps (the whole history parsed, tallied, stored and analysed);
* ``trainmon tail --json LOG`` until its last record line is printed (the live path);
* the app's pipeline: a child process running `Monitor` as the app's worker does (progressive
  loading on), its snapshot polled every 10 ms: "latest" when the last logged values (loss,
  grad_norm, learning_rate at the last logged step) are in a snapshot — the provisional view
  of the file's last 4 MiB for a large file —, "whole" when a non-provisional snapshot holds
  every logged value (the app draws at its next refresh, <= 0.5 s later);
* ``tensorboard --logdir DIR --host 127.0.0.1`` (its default data server) until
  ``/data/plugin/scalars/scalars`` returns, for all four tags, a series whose last point is
  the last logged step (polled every 20 ms). TensorBoard down-samples scalars to 1,000 points
  per tag by default; trainmon keeps every value in its exact statistics and a 2,048-point
  decimated history plus the last 4,096 points per series.

Needs ``tensorboard`` (``pip install -e '.[bench]'``). Usage::

    python benchmarks/vs_tensorboard.py [--steps 65000 650000] [--logging-steps 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_logs import generate  # noqa: E402

PY = sys.executable
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Children run as an installed tool does: with cached bytecode (this sandbox sets
PYTHONDONTWRITEBYTECODE, which recompiles every module at each launch, ~0.1 s)."""
BIN = Path(PY).parent
TAGS = ("train/loss", "train/grad_norm", "train/learning_rate", "train/epoch")


def write_run(workdir: Path, steps: int, logging_steps: int) -> tuple[Path, Path, int]:
    """Write the console log and the event files; return (log, logdir, last logged step)."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    logdir = workdir / "tb"
    logdir.mkdir()
    writer = EventFileWriter(str(logdir), max_queue_size=10_000, flush_secs=3600)
    t0 = 1_700_000_000.0
    last = [0]

    def on_record(kind: str, step: int, values: dict[str, float | int]) -> None:
        if kind != "train":
            return
        last[0] = step
        wall = t0 + step / 5.6
        for tag, key in zip(TAGS, ("loss", "grad_norm", "learning_rate", "epoch")):
            ev = Event(
                wall_time=wall,
                step=step,
                summary=Summary(value=[Summary.Value(tag=tag, simple_value=float(values[key]))]),
            )
            writer.add_event(ev)

    log = workdir / "train.log"
    with open(log, "wb", buffering=1 << 20) as f:
        generate(f, "tqdm5", steps=steps, logging_steps=logging_steps, eval_steps=10**12, on_record=on_record)
    writer.close()
    return log, logdir, last[0]


def time_report(log: Path, expect: int) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(
        [str(BIN / "trainmon"), "report", "--json", str(log)], capture_output=True, check=True, env=ENV
    ).stdout
    dt = time.perf_counter() - t0
    rep = json.loads(out)
    for key in ("loss", "grad_norm", "learning_rate"):
        got = rep["metrics"][key]["count"]
        if got != expect:
            raise RuntimeError(f"report saw {got} {key} values, expected {expect}")
    return dt


def time_tail(log: Path, expect: int) -> float:
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [str(BIN / "trainmon"), "tail", "--json", str(log)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV
    )
    assert p.stdout is not None
    n = 0
    dt = float("nan")
    for line in p.stdout:
        # A record line names its run since runs were split (`"run": n` after `"type"`).
        if line.startswith(b'{"type": "record", ') and b'"kind": "train"' in line:
            n += 1
            if n == expect:
                dt = time.perf_counter() - t0
                break
    p.terminate()
    p.wait()
    return dt


MONITOR_CHILD = r"""
import sys, threading, time
from tui_monitor.core.monitor import Monitor
path, expect, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mon = Monitor(path)
stop = threading.Event()
threading.Thread(target=mon.run, args=(stop,), daemon=True).start()
latest = False
while True:
    snap = mon.snapshot()
    m = snap.run.metrics
    keys = ("loss", "grad_norm", "learning_rate")
    if not latest and all(k in m and m[k].last_step == last for k in keys):
        latest = True
        print("latest", int(snap.provisional), flush=True)
    if not snap.provisional and all(k in m and m[k].count == expect for k in keys):
        print("whole", flush=True)
        break
    time.sleep(0.01)
stop.set()
"""


def time_monitor(log: Path, expect: int, last_step: int) -> tuple[float, float, bool]:
    """(seconds to the latest values, seconds to the whole history, latest was provisional)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [PY, "-c", MONITOR_CHILD, str(log), str(expect), str(last_step)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    assert p.stdout is not None
    t_latest = t_whole = float("nan")
    prov = False
    for line in p.stdout:
        if line.startswith(b"latest"):
            t_latest = time.perf_counter() - t0
            prov = line.split()[1] == b"1"
        elif line.startswith(b"whole"):
            t_whole = time.perf_counter() - t0
            break
    p.wait()
    return t_latest, t_whole, prov


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_tensorboard(logdir: Path, last_step: int, timeout: float = 120.0) -> float:
    port = _free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [str(BIN / "tensorboard"), "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    done: set[str] = set()
    try:
        while time.perf_counter() - t0 < timeout:
            for tag in TAGS:
                if tag in done:
                    continue
                q = urllib.parse.urlencode({"run": ".", "tag": tag})
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/data/plugin/scalars/scalars?{q}", timeout=2
                    ) as r:
                        pts = json.loads(r.read())
                except (OSError, ValueError):
                    break
                if pts and pts[-1][1] == last_step:
                    done.add(tag)
            if len(done) == len(TAGS):
                return time.perf_counter() - t0
            time.sleep(0.02)
        return float("nan")
    finally:
        p.terminate()
        p.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, nargs="+", default=[65_000, 650_000])
    ap.add_argument("--logging-steps", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3, help="median of N launches each")
    ap.add_argument("--keep", help="write the runs under this directory and keep them")
    a = ap.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(
        "| steps | logging_steps | records | log MiB | event files MiB | trainmon report (s) "
        "| trainmon tail --json (s) | monitor: latest values (s) | monitor: whole history (s) | tensorboard (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for steps in a.steps:
        work = Path(a.keep) / f"run{steps}" if a.keep else Path(tempfile.mkdtemp(prefix="tmvstb"))
        if a.keep:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
        try:
            log, logdir, last = write_run(work, steps, a.logging_steps)
            n = steps // a.logging_steps
            ev_size = sum(f.stat().st_size for f in logdir.iterdir())

            def med(xs: list[float]) -> float:
                return sorted(xs)[len(xs) // 2]

            rep = med([time_report(log, n) for _ in range(a.repeat)])
            tail = med([time_tail(log, n) for _ in range(a.repeat)])
            mons = [time_monitor(log, n, last) for _ in range(a.repeat)]
            latest = med([m[0] for m in mons])
            whole = med([m[1] for m in mons])
            prov = " (provisional)" if any(m[2] for m in mons) else ""
            tb = med([time_tensorboard(logdir, last) for _ in range(a.repeat)])
            print(
                f"| {steps:,} | {a.logging_steps} | {n:,} | {log.stat().st_size / 2**20:.1f} | "
                f"{ev_size / 2**20:.1f} | {rep:.2f} | {tail:.2f} | {latest:.2f}{prov} | {whole:.2f} | {tb:.2f} |",
                flush=True,
            )
        finally:
            if not a.keep:
                shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
