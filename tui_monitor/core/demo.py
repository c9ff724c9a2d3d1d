"""``trainmon demo``: replay a bundled Trainer log into a temporary file at its real pace.

The bundled logs live in :mod:`tui_monitor.data` with a ``.chunks.tsv`` each
(``t_seconds  byte_offset  n_bytes`` per write the training process made, captured
live). :class:`DemoWriter` is a thread that appends those chunks to a target file at
``t / speed`` seconds after it starts, so the app tails a file that grows exactly as it
did during training (tqdm ``\\r`` updates, block-buffered bursts and all).

This module never imports textual or rich.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DEMOS: dict[str, str] = {
    "healthy": "hf5_linear_warmup_unbuffered",
    "exploding": "hf4_exploding_nan",
}
"""Demo name → bundled file stem. ``healthy``: a real transformers 5.x run (tiny GPT-2,
linear warmup, eval every 50 steps, 300 steps in ~55 s). ``exploding``: a synthetic
transformers 4.x log whose gradients explode into NaN (``scripts/make_exploding_log.py``)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One write of the original process.

    Attributes:
        t: seconds since the capture started.
        offset: byte offset of the write in the log.
        size: bytes written.
    """

    t: float
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class DemoLog:
    """A bundled log and the timing of its writes.

    Attributes:
        name: the demo name (a key of :data:`DEMOS`).
        filename: the bundled log's file name (used for the temporary copy).
        data: the whole log, bytes.
        chunks: the writes in order; together they cover ``data`` exactly.
    """

    name: str
    filename: str
    data: bytes
    chunks: tuple[Chunk, ...]

    @property
    def duration(self) -> float:
        """Seconds from the first write to the last at real pace."""
        return self.chunks[-1].t - self.chunks[0].t if self.chunks else 0.0


def load_demo(name: str = "healthy") -> DemoLog:
    """Read a bundled demo log and its chunk timings.

    Args:
        name: a key of :data:`DEMOS`.

    Returns:
        The :class:`DemoLog`.

    Raises:
        KeyError: for an unknown name.
        ValueError: when the chunk table does not cover the log exactly.
    """
    stem = DEMOS[name]
    pkg = resources.files("tui_monitor.data")
    data = (pkg / f"{stem}.log").read_bytes()
    rows = (pkg / f"{stem}.chunks.tsv").read_text(encoding="utf-8").splitlines()[1:]
    chunks: list[Chunk] = []
    end = 0
    for row in rows:
        if not row.strip():
            continue
        t, off, n = row.split("\t")
        c = Chunk(float(t), int(off), int(n))
        if c.offset != end:
            raise ValueError(f"{stem}.chunks.tsv: gap or overlap at byte {c.offset} (expected {end})")
        end = c.offset + c.size
        chunks.append(c)
    if end != len(data):
        raise ValueError(f"{stem}.chunks.tsv covers {end} bytes of {len(data)}")
    return DemoLog(name, f"{stem}.log", data, tuple(chunks))


class DemoWriter(threading.Thread):
    """A daemon thread that appends a :class:`DemoLog` to ``target`` at its real pace.

    Write ``i`` happens ``(chunks[i].t - chunks[0].t) / speed`` seconds after
    :meth:`start`; the first is immediate. Each write is flushed at once (``os.write``
    on an ``O_APPEND`` descriptor), like a redirected training process.

    Args:
        demo: what to replay.
        target: the file to create (truncated if it exists) and grow.
        speed: pace factor (``2.0`` = twice as fast); must be > 0.
        skip_s: start this many seconds into the recording (earlier chunks are written
            at once), e.g. to show a run that is already under way.
    """

    def __init__(self, demo: DemoLog, target: Path, *, speed: float = 1.0, skip_s: float = 0.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        super().__init__(name=f"trainmon-demo-{demo.name}", daemon=True)
        self.demo = demo
        self.target = Path(target)
        self.speed = speed
        self.skip_s = skip_s
        self.written = 0
        """Bytes written so far."""
        self.finished = threading.Event()
        """Set when the whole log has been written (or the writer stopped)."""
        self._stop_event = threading.Event()
        fd = os.open(self.target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.close(fd)

    def stop(self) -> None:
        """Ask the thread to stop before its next write; returns at once."""
        self._stop_event.set()

    def run(self) -> None:
        """Write the chunks at their times until done or stopped."""
        chunks = self.demo.chunks
        t0 = chunks[0].t if chunks else 0.0
        start = time.monotonic() - self.skip_s / self.speed
        fd = os.open(self.target, os.O_WRONLY | os.O_APPEND)
        try:
            for c in chunks:
                due = start + (c.t - t0) / self.speed
                delay = due - time.monotonic()
                if delay > 0 and self._stop_event.wait(delay):
                    break
                if self._stop_event.is_set():
                    break
                os.write(fd, self.demo.data[c.offset : c.offset + c.size])
                self.written += c.size
        finally:
            os.close(fd)
            self.finished.set()


def start_demo(
    name: str = "healthy",
    *,
    speed: float = 1.0,
    directory: Path | None = None,
    skip_s: float = 0.0,
) -> tuple[Path, DemoWriter]:
    """Create a temporary log file and start replaying a bundled demo into it.

    Args:
        name: a key of :data:`DEMOS`.
        speed: pace factor (> 0).
        directory: where to create the file; default a fresh ``tempfile.mkdtemp()``
            directory (the caller may remove it after :meth:`DemoWriter.stop`).
        skip_s: seconds of the recording to write at once before pacing starts.

    Returns:
        ``(path, writer)``: the growing file and the started writer thread.
    """
    demo = load_demo(name)
    folder = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="trainmon-demo-"))
    path = folder / demo.filename
    writer = DemoWriter(demo, path, speed=speed, skip_s=skip_s)
    writer.start()
    return path, writer
