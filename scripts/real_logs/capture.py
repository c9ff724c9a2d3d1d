"""Run a shell command exactly as a user would (its own `> log 2>&1`, `>> log 2>&1` or `2>&1 | tee log`)
and record how the log file grew.

    capture.py --log train.log --mode trunc|append --chunks X.chunks.tsv [--t0 EPOCH] [--append-chunks]
               [--kill-after-step N --truth truth.jsonl] [--meta X.meta.json] -- 'SHELL COMMAND'

The command runs under `bash -c`; the redirect is in the command itself, so the log is byte-for-byte what the
shell produces. This script only polls the log's size every ~2 ms and writes one `.chunks.tsv` row
(`t_seconds  byte_offset  n_bytes`) for each poll that saw the file grow. t is seconds since --t0
(default: the launch of this command), so several captures into one file can share one time axis.

--mode trunc: the command truncates the log (`>` or `| tee`); growth is counted from offset 0 once the
truncation is seen (bash opens the file within milliseconds, long before Python writes anything).
--mode append: the command appends (`>>`); growth is counted from the size the file had at launch.

--kill-after-step N: read the truth JSONL written by train.py; as soon as a train record (has "loss") with
step >= N is in it, send SIGKILL to the python process running train.py (a descendant of the shell).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time


def children_map() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(name))
    return out


def find_trainer(root: int) -> int | None:
    kids = children_map()
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            cmd = []
        if any(a.endswith(b"train.py") for a in cmd) and b"python" in b" ".join(cmd):
            return pid
        stack.extend(kids.get(pid, []))
    return None


def size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--mode", choices=["trunc", "append"], required=True)
    ap.add_argument("--chunks", required=True)
    ap.add_argument("--append-chunks", action="store_true", help="add rows to an existing chunks file")
    ap.add_argument("--t0", type=float, default=None)
    ap.add_argument("--kill-after-step", type=int, default=None)
    ap.add_argument("--truth", default=None)
    ap.add_argument("--meta", default=None)
    ap.add_argument("--poll", type=float, default=0.002)
    ap.add_argument("command")
    a = ap.parse_args()

    old_size = size(a.log)
    truncated = a.mode == "append" or old_size == 0
    last = old_size if a.mode == "append" else 0
    truth_pos = 0
    truth_buf = ""
    killed: dict | None = None

    t_launch = time.time()
    t0 = a.t0 if a.t0 is not None else t_launch
    proc = subprocess.Popen(["bash", "-c", a.command])
    rows: list[tuple[float, int, int]] = []

    def poll_once() -> None:
        nonlocal last, truncated
        now = size(a.log)
        t = time.time() - t0
        if not truncated:
            if now < old_size:
                truncated = True
            else:
                return
        if now > last:
            rows.append((t, last, now - last))
            last = now
        elif now < last:  # truncated by someone else mid-capture: note it as growth from 0
            rows.append((t, 0, now))
            last = now

    def check_kill() -> None:
        nonlocal truth_pos, truth_buf, killed
        if killed is not None or a.kill_after_step is None or a.truth is None:
            return
        try:
            with open(a.truth, encoding="utf-8") as f:
                f.seek(truth_pos)
                data = f.read()
                truth_pos = f.tell()
        except FileNotFoundError:
            return
        truth_buf += data
        *lines, truth_buf = truth_buf.split("\n")
        for line in lines:
            ev = json.loads(line)
            rec = ev.get("record") or {}
            if ev.get("event") == "log" and "loss" in rec and rec.get("step", -1) >= a.kill_after_step:
                pid = find_trainer(proc.pid)
                if pid is None:
                    continue
                os.kill(pid, signal.SIGKILL)
                killed = {
                    "signal": "SIGKILL",
                    "pid": pid,
                    "t_kill_s": round(time.time() - t0, 4),
                    "after_truth_record_step": rec["step"],
                    "log_size_at_kill": size(a.log),
                }
                return

    while proc.poll() is None:
        poll_once()
        check_kill()
        time.sleep(a.poll)
    t_exit = time.time() - t0
    for _ in range(50):  # 100 ms more: anything written at exit (e.g. by tee) is counted
        poll_once()
        time.sleep(a.poll)

    mode = "a" if a.append_chunks else "w"
    with open(a.chunks, mode, encoding="utf-8") as f:
        if mode == "w":
            f.write("t_seconds\tbyte_offset\tn_bytes\n")
        for t, off, n in rows:
            f.write(f"{t:.3f}\t{off}\t{n}\n")
    meta = {
        "command": a.command,
        "mode": a.mode,
        "log_size_before": old_size,
        "t_launch_s": round(t_launch - t0, 4),
        "t_exit_s": round(t_exit, 4),
        "exit_code": proc.returncode,
        "killed": killed,
        "log_size_after": size(a.log),
        "n_chunks": len(rows),
    }
    if a.meta:
        with open(a.meta, "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1)
    print(json.dumps(meta), file=sys.stderr)


if __name__ == "__main__":
    main()
