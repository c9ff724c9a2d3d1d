"""The run state's cost alone: parser items replayed through a `Pipeline`'s accounting.

``trainmon report`` is parse + state + analysis; this measures the middle part. A log is parsed
once (``Pipeline(on_items=..., batches=True)`` keeps every chunk's items as the pipeline got
them), then the items are replayed ``--repeat`` times into a fresh `Pipeline` (fresh copies of
the mutable items each time: records and batches get their arrival stamped), and the best time
is printed with the number of batches and records on the record path. The time is the
process's CPU time (steadier than the wall clock on a shared machine). Prints a digest of the
final state (record counts, the loss statistics, the series lengths) so two trees can be
compared on the same log.

Usage::

    python benchmarks/state_apply.py /work/bench/tqdm5_100M.log /work/bench/write4_100M.log
    python benchmarks/state_apply.py --repeat 1 --profile /work/bench/write4_10M.log

Under callgrind, the replay's instructions are those of ``--repeat 1`` minus those of
``--repeat 0`` (the parse alone), less the copies and the digest (run outside the timed part).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time

from tui_monitor.core.parse import Batch, Record
from tui_monitor.core.pipeline import Pipeline, feed_range


def collect(path: str) -> list[list[object]]:
    """Every chunk's items, as `Pipeline._apply` got them."""
    chunks: list[list[object]] = []
    pipe = Pipeline(on_items=lambda items: chunks.append(list(items)), batches=True, clock=lambda: 1.0e9)
    fd = os.open(path, os.O_RDONLY)
    try:
        feed_range(fd, pipe, 0)
    finally:
        os.close(fd)
    pipe.finish()
    return chunks


def fresh(chunks: list[list[object]]) -> list[list[object]]:
    """Copies of the mutable items (a replay must not see the arrival or caches of the last)."""
    out = []
    for items in chunks:
        row: list[object] = []
        for it in items:
            if isinstance(it, Batch):
                row.append(
                    Batch(
                        it.kind,
                        it.names,
                        it.values,
                        it.epoch,
                        it.steps,
                        it.offsets,
                        shapes=it.shapes,
                        shape_cols=it.shape_cols,
                        shape_kinds=it.shape_kinds,
                    )
                )
            elif isinstance(it, Record):
                row.append(copy.copy(it))
            else:
                row.append(it)
        out.append(row)
    return out


def replay(chunks: list[list[object]]) -> Pipeline:
    pipe = Pipeline(clock=lambda: 1.0e9)
    for items in chunks:
        pipe._apply(items)  # type: ignore[arg-type]  # the accounting step alone
    return pipe


def digest(pipe: Pipeline) -> str:
    snap = pipe.run.snapshot()
    loss = snap.metrics.get("loss")
    lens = {k: (len(s), s.count) for k, s in snap.series.items()}
    return f"runs={len(pipe.runs)} records={dict(snap.records)} loss={loss} series={lens} step={snap.progress.step}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="cProfile one replay (tottime, top 25)")
    args = ap.parse_args()
    for path in args.logs:
        chunks = collect(path)
        n_batch = sum(isinstance(it, Batch) for items in chunks for it in items)
        n_rec = sum(isinstance(it, Record) for items in chunks for it in items)
        best = float("inf")
        pipe = None
        for _ in range(args.repeat):
            items = fresh(chunks)
            t0 = time.process_time()
            pipe = replay(items)
            best = min(best, time.process_time() - t0)
        if pipe is None:  # --repeat 0: the parse and copies alone (to subtract, under callgrind)
            print(f"{os.path.basename(path)}: not replayed  batches={n_batch} records={n_rec}")
            continue
        print(f"{os.path.basename(path)}: state {best:.3f} s CPU  batches={n_batch} records={n_rec}")
        print("  " + digest(pipe))
        if args.profile:
            import cProfile
            import pstats

            items = fresh(chunks)
            pr = cProfile.Profile()
            pr.enable()
            replay(items)
            pr.disable()
            pstats.Stats(pr, stream=sys.stdout).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
