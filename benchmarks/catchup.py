"""Catch-up speed and memory: ``trainmon report`` vs ``grep -c`` vs a naive script, same run.

For each log file (generate them with ``benchmarks/gen_logs.py``):

* ``grep -c "{'" FILE`` — the scan limit (a C loop over the bytes);
* naive: read lines, take the text after the last ``\\r``, ``ast.literal_eval`` it (what a
  quick script would do; it drops bare ``nan`` and glued dicts);
* ``trainmon report --json FILE`` — the full pipeline (parse, tally, store, analysis);
* optionally ``trainmon tail --json FILE`` catching up (until it printed every record the
  report found), for its peak RSS and time.

Times are wall-clock, best of ``--repeat`` runs (page cache warm: each file is read once
first); peak RSS comes from ``wait4()``'s rusage of each child process.

Usage::

    python benchmarks/catchup.py benchmarks/data/tqdm5_100M.log benchmarks/data/dense4_100M.log
    python benchmarks/catchup.py --tail --no-naive benchmarks/data/*_1G.log
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Children run as an installed tool does: with cached bytecode (this sandbox sets
PYTHONDONTWRITEBYTECODE, which recompiles every module at each launch, ~0.1 s)."""
TRAINMON = [PY, "-m", "tui_monitor"]

NAIVE = r"""
import ast, sys
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        text = line.rsplit(b"\r", 1)[-1].strip()
        if not text:
            continue
        try:
            d = ast.literal_eval(text.decode("utf-8", "replace"))
        except Exception:
            continue
        if isinstance(d, dict):
            n += 1
print(n)
"""


def run_child(cmd: list[str], *, stdout: int | None = subprocess.PIPE) -> tuple[float, int, bytes]:
    """Run ``cmd``; return (wall seconds, peak RSS in bytes, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL, env=ENV)
    out = p.stdout.read() if p.stdout is not None else b""
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} exited {p.returncode}")
    return dt, ru.ru_maxrss * 1024, out


def tail_catchup(path: str, expect: int, timeout: float) -> tuple[float, int, int]:
    """``trainmon tail --json`` until ``expect`` record lines came out; (seconds, peak RSS, lines)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [*TRAINMON, "tail", "--json", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV
    )
    assert p.stdout is not None
    n = 0
    dt = 0.0
    for line in p.stdout:
        if line.startswith(b'{"type": "record"'):
            n += 1
            if n >= expect:
                dt = time.perf_counter() - t0
                break
        if time.perf_counter() - t0 > timeout:
            dt = time.perf_counter() - t0
            break
    hwm = 0
    try:
        for row in Path(f"/proc/{p.pid}/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                hwm = int(row.split()[1]) * 1024
    except OSError:
        pass
    p.terminate()
    _, _, ru = os.wait4(p.pid, 0)
    return dt, max(hwm, ru.ru_maxrss * 1024), n


def machine() -> str:
    model = ""
    try:
        for row in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if row.startswith("Model name:"):
                model = row.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {platform.machine()}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--repeat", type=int, default=1, help="best of N (default 1)")
    ap.add_argument("--no-naive", action="store_true", help="skip the ast.literal_eval baseline")
    ap.add_argument("--tail", action="store_true", help="also measure trainmon tail --json catching up")
    ap.add_argument("--timeout", type=float, default=900.0)
    a = ap.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {machine()}")
    rows = []
    for f in a.files:
        size = os.path.getsize(f)
        mib = size / (1 << 20)
        with open(f, "rb") as fh:  # warm the page cache
            while fh.read(1 << 24):
                pass
        g = min(run_child(["grep", "-c", "{'", f])[0] for _ in range(a.repeat))
        best = None
        for _ in range(a.repeat):
            r = run_child([*TRAINMON, "report", "--json", f])
            if best is None or r[0] < best[0]:
                best = r
        assert best is not None
        t_rep, rss_rep, out = best
        rep = json.loads(out)
        nrec = sum(rep["records"].values())
        naive = None
        if not a.no_naive:
            naive = min(run_child([PY, "-c", NAIVE, f])[0] for _ in range(a.repeat))
        tail = tail_catchup(f, nrec, a.timeout) if a.tail else None
        row = {
            "file": os.path.basename(f),
            "MiB": round(mib, 1),
            "records": nrec,
            "grep_s": round(g, 3),
            "report_s": round(t_rep, 2),
            "MiB/s": round(mib / t_rep, 1),
            "records/s": round(nrec / t_rep),
            "report/grep": round(t_rep / g, 1),
            "naive_s": round(naive, 2) if naive else None,
            "naive/report": round(naive / t_rep, 2) if naive else None,
            "report_rss_MiB": round(rss_rep / (1 << 20), 1),
        }
        if tail is not None:
            row.update(
                {"tail_s": round(tail[0], 2), "tail_rss_MiB": round(tail[1] / (1 << 20), 1), "tail_records": tail[2]}
            )
        rows.append(row)
        print(json.dumps(row), flush=True)
    keys = list(rows[0].keys())
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    print()
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print(
            "| "
            + " | ".join(
                "" if r.get(k) is None else f"{r[k]:,}" if isinstance(r.get(k), int) else str(r[k]) for k in keys
            )
            + " |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
