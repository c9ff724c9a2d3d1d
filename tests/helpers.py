"""Shared test helpers: fixture paths, waits with a deadline, real writers and a tail process.

Every wait in the tests polls a condition until a deadline (:func:`wait_for`, :func:`wait_for_app`,
:meth:`TailProcess.wait_for`); none sleeps a fixed time to let something happen.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from tui_monitor.core.follow import Chunk, Reset, Tailer, TailItem
from tui_monitor.core.parse import LogParser, Record, accel

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (where pyproject.toml is)."""
FIXTURES = ROOT / "tests" / "fixtures"
"""Real logs (``real/``, with ``*.truth.json``), public samples (``public*/``, with ``*.expect.json``), labels."""

DEADLINE_S = 8.0
"""Default upper bound for a wait; a passing run needs a small fraction of it."""

T = TypeVar("T")


COMPILED_SCAN = accel.scan
"""The compiled scan module when the C extension is built and current, else ``None``."""


@contextmanager
def scan_path(compiled: bool) -> Iterator[None]:
    """Within the block the parser reads on one path: the compiled scan (``compiled``; needs
    `COMPILED_SCAN`) or pure Python. The path before is restored after, also on an error."""
    saved = accel.scan
    accel.scan = COMPILED_SCAN if compiled else None
    try:
        yield
    finally:
        accel.scan = saved


def wait_for(cond: Callable[[], T], what: str | Callable[[], str] = "condition", deadline_s: float = DEADLINE_S) -> T:
    """Poll ``cond()`` every 5 ms until it returns a truthy value, and return that value.

    Args:
        cond: the condition; its truthy result is returned.
        what: what is waited for, for the failure message (a callable is asked at the deadline).
        deadline_s: seconds before giving up.

    Raises:
        AssertionError: naming ``what``, when ``deadline_s`` seconds pass first.
    """
    end = time.monotonic() + deadline_s
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > end:
            said = what() if callable(what) else what
            raise AssertionError(f"{said}: not met in {deadline_s}s")
        time.sleep(0.005)


class _Pilot(Protocol):
    async def pause(self, delay: float | None = None) -> None: ...


async def wait_for_app(
    pilot: _Pilot, cond: Callable[[], object], what: str = "condition", deadline_s: float = 15.0
) -> None:
    """Let the app under ``pilot`` run (50 ms at a time) until ``cond()`` holds.

    Raises:
        AssertionError: naming ``what``, when ``deadline_s`` seconds pass first.
    """
    end = time.monotonic() + deadline_s
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"{what} not met in {deadline_s}s")
        await pilot.pause(0.05)


def screen_lines(app: Any) -> list[str]:
    """What the app's screen shows, as plain text, one string per terminal row."""
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


def screen_text(app: Any) -> str:
    """Everything on the app's screen as plain text, one line per terminal row."""
    return "\n".join(screen_lines(app))


def record_line(i: int) -> bytes:
    """The i-th Trainer-style record line; loss and epoch are distinct for every i."""
    return (f"{{'loss': {record_loss(i):.5f}, 'learning_rate': 0.0001, 'epoch': {record_epoch(i):.4f}}}\n").encode()


def record_loss(i: int) -> float:
    """The loss value written by :func:`record_line` (as the parser reads it back)."""
    return float(f"{5.0 - i * 1e-4:.5f}")


def record_epoch(i: int) -> float:
    """The epoch value written by :func:`record_line`."""
    return float(f"{i / 1000:.4f}")


def records_bytes(start: int, stop: int) -> bytes:
    """Lines for records ``start..stop-1``."""
    return b"".join(record_line(i) for i in range(start, stop))


def expected(start: int, stop: int) -> list[tuple[float, float]]:
    """(loss, epoch) pairs the parser must produce for records ``start..stop-1``."""
    return [(record_loss(i), record_epoch(i)) for i in range(start, stop)]


@dataclass
class Collector:
    """Drive a real Tailer and feed its bytes to the real LogParser, as the monitor does.

    A new parser is started at every Reset whose ``new_stream`` is true.
    """

    tailer: Tailer
    parser: LogParser = field(default_factory=LogParser)
    records: list[Record] = field(default_factory=list)
    resets: list[str] = field(default_factory=list)
    items: list[TailItem] = field(default_factory=list)
    polls_with_data: int = 0
    max_data: int = 0
    max_poll_bytes: int = 0

    def feed(self, items: list[TailItem]) -> None:
        """Consume one poll's items."""
        self.items.extend(items)
        got = 0
        for item in items:
            if isinstance(item, Reset):
                self.resets.append(item.reason)
                if item.new_stream:
                    self.parser = LogParser()
            else:
                assert isinstance(item, Chunk)
                assert item.payload, "empty Chunk must not be emitted"
                self.max_data = max(self.max_data, len(item.payload))
                got += len(item.payload)
                self.records.extend(r for r in self.parser.feed(item.payload) if isinstance(r, Record))
        if got:
            self.polls_with_data += 1
            self.max_poll_bytes = max(self.max_poll_bytes, got)

    def pump(self) -> list[TailItem]:
        """Poll once and consume the result."""
        items = self.tailer.poll()
        self.feed(items)
        return items

    def pump_until(self, cond: Callable[[], bool], deadline_s: float = DEADLINE_S) -> None:
        """Poll until ``cond()`` holds; fail after ``deadline_s`` seconds."""
        wait_for(
            lambda: (self.pump(), cond())[1],
            lambda: f"condition: {len(self.records)} records, resets {self.resets}, state {self.tailer.state}",
            deadline_s,
        )

    def pump_records(self, n: int, deadline_s: float = DEADLINE_S) -> None:
        """Poll until at least ``n`` records were parsed."""
        self.pump_until(lambda: len(self.records) >= n, deadline_s)

    def seen(self) -> list[tuple[float, float | None]]:
        """(loss, epoch) of the records parsed so far."""
        return [(r.metrics["loss"], r.epoch) for r in self.records]


def append(path: Path, data: bytes) -> None:
    """Append ``data`` with O_APPEND, as a logging handler or ``tee -a`` does."""
    with open(path, "ab") as f:
        f.write(data)


WRITER_SCRIPT = r"""
import sys, time
path, start, stop, interval, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
with open(path, mode, buffering=1) as f:
    for i in range(start, stop):
        f.write("{'loss': %.5f, 'learning_rate': 0.0001, 'epoch': %.4f}\n" % (5.0 - i * 1e-4, i / 1000))
        f.flush()
        time.sleep(interval)
"""


def start_writer_process(
    path: Path, start: int, stop: int, interval: float, mode: str = "a"
) -> subprocess.Popen[bytes]:
    """A separate Python process writing records ``start..stop-1``, ``interval`` seconds apart,
    opening ``path`` with ``mode`` (``"a"``: append, ``"w"``: truncate like ``> train.log``)."""
    return subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, str(path), str(start), str(stop), str(interval), mode]
    )


REPLAY_SCRIPT = r"""
import sys, time
src, dst, speed = sys.argv[1], sys.argv[2], float(sys.argv[3])
data = open(src, "rb").read()
rows = [r.split("\t") for r in open(src.rsplit(".", 1)[0] + ".chunks.tsv").read().splitlines()[1:]]
start = time.monotonic()
with open(dst, "ab", buffering=0) as f:
    for t, off, n in rows:
        time.sleep(max(0.0, float(t) / speed - (time.monotonic() - start)))
        f.write(data[int(off) : int(off) + int(n)])
"""


def start_replay_process(src: Path, dst: Path, speed: float) -> subprocess.Popen[bytes]:
    """A separate process appending the real log ``src`` to ``dst`` in the byte pieces and at
    the pace it was written (its ``.chunks.tsv``), ``speed`` times faster, then exiting: a
    training process as trainmon sees it (a writer with the file open, gone at the end)."""
    return subprocess.Popen([sys.executable, "-c", REPLAY_SCRIPT, str(src), str(dst), str(speed)])


class ThreadWriter:
    """A writer thread holding one open handle, writing when told; keeps the handle across
    renames and deletions like a training process does."""

    def __init__(self, path: Path, *, append_mode: bool = True) -> None:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append_mode else 0)
        self.fd = os.open(path, flags, 0o644)

    def write(self, data: bytes) -> None:
        """Write all of ``data`` through the open handle."""
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def write_records_slowly(self, start: int, stop: int, interval: float) -> threading.Thread:
        """Write records in a background thread, ``interval`` seconds apart."""

        def run() -> None:
            for i in range(start, stop):
                self.write(record_line(i))
                time.sleep(interval)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def close(self) -> None:
        """Close the handle."""
        os.close(self.fd)


def run_unprivileged(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` as an unprivileged user and return its (picklable) result.

    As root, permission bits do not stop reads, so a forked child drops to uid/gid 65534
    (``nobody``) first. As any other user ``fn`` runs in-process.
    """
    if os.geteuid() != 0:
        return fn()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                payload = pickle.dumps(("ok", fn()))
            except BaseException as e:  # noqa: BLE001 - hand the failure to the parent
                payload = pickle.dumps(("error", repr(e)))
            with os.fdopen(w, "wb") as f:
                f.write(payload)
        except BaseException:  # noqa: BLE001 - a child must reach os._exit
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        payload = f.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0 and payload, f"unprivileged child failed (status {status})"
    kind, value = pickle.loads(payload)
    if kind == "error":
        raise AssertionError(f"unprivileged child raised {value}")
    return value


class _Proc(Protocol):
    """The bits of `subprocess.Popen` a :class:`TailProcess` uses (a forked child can offer them too)."""

    stdout: Any
    stderr: Any
    returncode: int | None

    def poll(self) -> int | None: ...
    def wait(self, timeout: float) -> int: ...
    def send_signal(self, sig: int) -> None: ...


class TailProcess:
    """`trainmon tail ARGS` in a subprocess (or ``proc``, already started); a thread collects its
    stdout lines, each passed through ``decode`` (``str``: as text; ``json.loads``: as objects)."""

    def __init__(
        self,
        *args: str,
        decode: Callable[[str], Any] = str,
        cwd: Path | None = None,
        proc: _Proc | None = None,
        deadline_s: float = 20.0,
    ) -> None:
        self.proc: _Proc = proc or subprocess.Popen(
            [sys.executable, "-m", "tui_monitor", "tail", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
        )
        self.decode = decode
        self.deadline_s = deadline_s
        self.lines: queue.Queue[Any] = queue.Queue()
        self.seen: list[Any] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(self.decode(line.rstrip("\n")))

    def wait_for(self, pred: Callable[[list[Any]], bool], what: str) -> list[Any]:
        """Collect lines until ``pred(all_lines_so_far)`` holds, and return them.

        Raises:
            AssertionError: after ``deadline_s`` seconds, or at once when trainmon exits first.
        """
        end = time.monotonic() + self.deadline_s
        while not pred(self.seen):
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; got {self.seen[-6:]}")
            try:
                self.seen.append(self.lines.get(timeout=min(left, 0.5)))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    raise AssertionError(f"trainmon exited {self.proc.returncode}: {self.proc.stderr.read()}") from None
        return self.seen

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        """Send ``sig`` and return (exit status, everything trainmon wrote to stderr)."""
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=10)
        assert self.proc.stderr is not None
        return rc, self.proc.stderr.read()
