"""Throughput on inputs that were once CPU bombs (``python benchmarks/pathological.py``).

These floors were assertions in the test suite (tests/parse/test_parser_properties.py,
tests/parse/test_edge_files.py) until the tests stopped asserting on wall-clock speed: the
tests keep what each input must produce, this script keeps how fast. It exits 1 when a case
falls below its floor (the floors are ~5-10x under what a laptop does, and far above the
"before" figure quoted for each case).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tui_monitor.core.monitor import read_once
from tui_monitor.core.parse import LogParser

LOGGING_LINES = (
    b"[INFO|trainer.py:2128] 2024-07-17 00:18:20,620 >> {'loss': 1.25, 'grad_norm': 0.5, "
    b"'learning_rate': 1e-4, 'epoch': 0.2}\n[INFO|configuration_utils.py:472] 2024-07-17 >> "
    b"Configuration saved in /out/checkpoint-50/config.json\n"
)


def mib_per_s(data: bytes) -> float:
    """MiB/s of one `LogParser` fed ``data`` in 1 MiB pieces, then flushed."""
    p = LogParser()
    t0 = time.perf_counter()
    for i in range(0, len(data), 1 << 20):
        p.feed(data[i : i + (1 << 20)])
    p.flush()
    return len(data) / (1 << 20) / (time.perf_counter() - t0)


def many_keys_seconds() -> float:
    """Seconds for `read_once` of 20,000 records that each bring two new metric keys."""
    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "keys.log"
        log.write_bytes(
            b"".join(b"{'loss': 1.0, 'k%d_a': 1, 'k%d_b': 2, 'epoch': %d}\n" % (i, i, i) for i in range(20000))
        )
        t0 = time.perf_counter()
        read_once(log)
        return time.perf_counter() - t0


# (name, measure, floor, "higher" or "lower" is better, what it was before the fix)
CASES: list[tuple[str, Callable[[], float], float, str, str]] = [
    (
        "logging lines, no train bar (MiB/s)",
        lambda: mib_per_s(LOGGING_LINES * (2 * (1 << 20) // len(LOGGING_LINES))),
        2.0,
        "higher",
        "0.2 MiB/s",
    ),
    (
        "labelled Map: bars, no train bar (MiB/s)",
        lambda: mib_per_s(b"Map: 50%|#####     | 5000/10000 [00:01<00:01, 5000.00 examples/s]\r" * 30000),
        1.0,
        "higher",
        "0.36 MiB/s",
    ),
    ("random bytes (MiB/s)", lambda: mib_per_s(random.Random(7).randbytes(2 << 20)), 5.0, "higher", "0.2 MiB/s"),
    (
        "one line repeating crash words (MiB/s)",
        lambda: mib_per_s(b"Killed memory OutOfMemoryError CUDA out of memory NCCL timed out " * 22000 + b"\n"),
        2.0,
        "higher",
        "0.9 MiB in 305 s",
    ),
    ("20,000 records with new keys each (s)", many_keys_seconds, 15.0, "lower", "~200 records/s"),
    # Issue 12's scans (no "before": new code). Each line opens a dict that the next breaks.
    (
        "dict openers never closed, one per line (MiB/s)",
        lambda: mib_per_s(b"{'loss': 1.0, 'x\n" * 200000),
        0.3,
        "higher",
        "new",
    ),
    (
        "one line of {' and notebook-bar look-alikes (MiB/s)",
        lambda: mib_per_s((b"{'a" * 100000 + b"x/12 [3:4 <" * 50000 + b"\n") * 4),
        5.0,
        "higher",
        "new",
    ),
    (
        "notebook table rows (MiB/s)",
        lambda: mib_per_s((b"Epoch\tTraining Loss\tValidation Loss\n" + b"1\t0.5\t0.6\n" * 50) * 5000),
        0.3,
        "higher",
        "new",
    ),
]


def main() -> int:
    failed = 0
    for name, measure, floor, better, before in CASES:
        value = measure()
        ok = value > floor if better == "higher" else value < floor
        failed += not ok
        bound = ">" if better == "higher" else "<"
        print(f"{'ok  ' if ok else 'SLOW'} {name:45s} {value:8.2f}  (needs {bound} {floor}; before the fix: {before})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
