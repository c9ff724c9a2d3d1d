"""Replays of real Trainer logs through a file reset at a random byte position, for
``test_reset_replays.py``: the writer, the reader (the real `Follower` and `Monitor`) and the
rule that says which records must come out, with which step.

The rule (what "zero lost and exact steps" means at a reset)
------------------------------------------------------------
* A record cut by the truncation of a file whose writer appends (``O_APPEND``: ``>>``, ``tee -a``,
  a logging handler) is **not required**: its bytes may all have been readable, but nothing
  tells trainmon so (no NUL hole says where the writer went on), and joining the two halves
  after bytes destroyed unread would invent a record; it may come out (right) or not. Cut by a
  rotation, or by the truncation of a file whose writer writes on at its own offset (the NUL
  hole is as long as what trainmon had read), it is required.
* A record is **readable** when every byte of its printed text was in the file while trainmon
  could read it: written before the writer stopped (a run killed at the reset position has not
  written what comes after it) and not destroyed unread (bytes written after trainmon's last
  read and then cut away by the truncation: the copytruncate race). Every readable record must
  come out exactly once, in file order, in its run, with its values; nothing else may come out
  (a record spliced from the two sides of destroyed bytes would be an invented one).
* Its **step** must be the Trainer's own step (``log_history``), unless
  - the step's evidence was not readable: a byte of the run before the end of the record's own
    train-bar redraw (the first ``N/T [`` after the record) was never written (the writer was
    killed first): then it has the Trainer's step or none; or such a byte was destroyed unread:
    the tqdm pairing of steps to records is by order, so a lost clear or redraw shifts the
    pairing of the later records of the run, which no reader can see until the epoch check
    catches it: then only its values and run are checked;
  - reading the same pieces of the same source without the reset does not give it the Trainer's
    step either (bars without a per-run total, logs without bars: issue 11, not a reset's
    doing): then it has the Trainer's step, none, or the step read without the reset.
  A step that is not the Trainer's is always a failure.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from helpers import FIXTURES

from tui_monitor.core.follow import Follower
from tui_monitor.core.monitor import Monitor
from tui_monitor.core.parse import ParsedItem, Record, RunStart
from tui_monitor.core.pipeline import Pipeline

REAL = FIXTURES / "real"
QUIET_GAP_S = 0.5
"""A pause of the real writer at least this long (``chunks.tsv`` times) is a quiet spell for the
reader: the `Follower` then hands on an empty batch (`Monitor.consume` releases held records)."""

_PAIR_RE = re.compile(r"'([^']+)': '?([^',}]+)'?")


@dataclass
class TruthRecord:
    """One record the Trainer printed: where its text is in its source, and what it holds."""

    run: int
    kind: str
    step: int
    start: int
    end: int
    values: dict[str, float]
    evidence_end: int = 0


@dataclass
class Source:
    """The bytes one writer process produced (a log, or the first part of a reused one), the
    pieces it wrote them in (``chunks.tsv``: time, offset, size) and its records."""

    name: str
    data: bytes
    chunks: list[tuple[float, int, int]]
    records: list[TruthRecord]
    runs: int


def _values(text: str) -> dict[str, float]:
    return {k: float(v) for k, v in _PAIR_RE.findall(text) if k != "epoch" and _is_number(v)}


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def load_source(name: str, part1: bool = False) -> Source:
    """A fixture's log (or its ``.part1`` log) with its chunks and its truth records."""
    stem = f"{name}.part1" if part1 else name
    data = (REAL / f"{stem}.log").read_bytes()
    chunks = []
    for line in (REAL / f"{stem}.chunks.tsv").read_text().splitlines()[1:]:
        t, off, n = line.split("\t")
        chunks.append((float(t), int(off), int(n)))
    truth = json.loads((REAL / f"{name}.truth.json").read_text())
    where = "part1.log" if part1 else "log"
    if "runs" in truth:
        pcr = [
            (r["index"], x) for r in truth["runs"] if r["print_check_where"] == where for x in r["print_check_records"]
        ]
    else:
        pcr = [(1, x) for x in truth["print_check_records"]]
    first = min(i for i, _ in pcr)
    records = [
        TruthRecord(
            i - first + 1,
            x["kind"],
            x["step"],
            x["byte_offset"],
            x["byte_offset"] + len(x["text"].encode()),
            _values(x["text"]),
        )
        for i, x in pcr
        if x["status"] == "intact"
    ]
    records.sort(key=lambda r: r.start)
    src = Source(stem, data, chunks, records, max(r.run for r in records))
    _mark_evidence(src)
    return src


def _mark_evidence(src: Source) -> None:
    """Each record's evidence end: the end of the first train-bar redraw after it."""
    totals: dict[int, int] = {}
    for r in src.records:
        totals.setdefault(r.run, 0)
    for run in totals:
        steps = [r.step for r in src.records if r.run == run]
        totals[run] = max(steps)
    for r in src.records:
        total = totals[r.run]
        m = re.compile(rb"\d+/" + str(total).encode() + rb"\s*\[").search(src.data, r.end)
        r.evidence_end = m.end() if m is not None else len(src.data) + 1


@dataclass
class Replay:
    """One replay: what the writer did, what the reader got, what was readable.

    ``read[k]`` / ``written[k]``: per source ``k``, a bytearray with 1 where the source's byte was
    read by trainmon / written at all. ``fed``: ``(source, start, end, quiet after)`` of the bytes
    each poll read, a ``(-1, 0, 0, quiet after)`` at the end of each poll."""

    seed: int
    kind: str
    chunking: str
    sources: list[Source]
    read: list[bytearray] = field(default_factory=list)
    written: list[bytearray] = field(default_factory=list)
    got: list[tuple[int, Record]] = field(default_factory=list)
    fed: list[tuple[int, int, int, bool]] = field(default_factory=list)
    append_cut: int | None = None
    log: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"seed {self.seed}: {self.kind}, {self.chunking} chunking, " + "; ".join(self.log)


def pieces(
    src: Source, rng: random.Random, chunking: str, lo: int = 0, hi: int | None = None
) -> list[tuple[int, int, bool]]:
    """The writer's pieces ``(start, end, quiet_after)`` of ``src.data[lo:hi]``.

    ``chunking``: ``"captured"`` (the pieces the real writer wrote), ``"coalesced"`` (1-8
    consecutive pieces at once, a slow reader), ``"split"`` (pieces cut at random bytes, 1-200
    bytes each: a reader faster than the writer's lines). ``quiet_after``: the real writer paused
    for at least :data:`QUIET_GAP_S` after this piece."""
    hi = len(src.data) if hi is None else hi
    bounds: list[tuple[int, float]] = []  # (end offset, pause after)
    ch = src.chunks
    for i, (t, off, n) in enumerate(ch):
        gap = ch[i + 1][0] - t if i + 1 < len(ch) else 10.0
        bounds.append((off + n, gap))
    cuts: list[tuple[int, bool]] = []
    if chunking == "captured":
        cuts = [(e, g >= QUIET_GAP_S) for e, g in bounds]
    elif chunking == "coalesced":
        i = 0
        while i < len(bounds):
            j = min(len(bounds), i + rng.randint(1, 8))
            cuts.append((bounds[j - 1][0], any(g >= QUIET_GAP_S for _, g in bounds[i:j])))
            i = j
    else:
        pos = 0
        quiet_at = {e for e, g in bounds if g >= QUIET_GAP_S}
        ends = sorted(e for e, _ in bounds)
        k = 0
        while pos < len(src.data):
            nxt = min(len(src.data), pos + rng.randint(1, 200))
            while k < len(ends) and ends[k] <= pos:
                k += 1
            if k < len(ends) and ends[k] < nxt:
                nxt = ends[k]
            cuts.append((nxt, nxt in quiet_at))
            pos = nxt
    out: list[tuple[int, int, bool]] = []
    prev = 0
    for end, quiet in cuts:
        s, e = max(prev, lo), min(end, hi)
        if s < e:
            out.append((s, e, quiet))
        prev = end
    if out and out[-1][1] < hi:
        out.append((out[-1][1], hi, False))
    elif not out and lo < hi:
        out.append((lo, hi, False))
    return out


class Reader:
    """The real follower and monitor, driven one batch at a time (deterministic: the writer
    waits for each batch; the follower polls every millisecond)."""

    def __init__(self, path: Path, replay: Replay) -> None:
        self.replay = replay
        self.stop = threading.Event()
        self.monitor = Monitor(str(path), on_items=self._items, progressive=False)
        self.follower = Follower(path, stop_event=self.stop, poll=0.001)
        self._run = 1
        self._guard = threading.Timer(20.0, self.stop.set)  # a stuck replay ends, then fails
        self._guard.start()

    def _items(self, items: list[ParsedItem]) -> None:
        for it in items:
            if isinstance(it, RunStart):
                self._run += 1
            elif isinstance(it, Record):
                self.replay.got.append((self._run, it))

    def poll(self) -> None:
        """Read what the file shows now (the caller made sure it shows something new)."""
        batch = next(self.follower)
        self.monitor.consume(batch, self.follower)

    def quiet(self) -> None:
        """The writer paused: the follower's empty batch after its quiet spell."""
        self.monitor.consume([], self.follower)
        if self.replay.fed:
            k, s, e, _ = self.replay.fed[-1]
            self.replay.fed[-1] = (k, s, e, True)

    def close(self) -> None:
        self._guard.cancel()
        self.stop.set()
        self.follower.close()


KINDS = ("truncate", "copytruncate", "rename", "restart")
CHUNKINGS = ("captured", "coalesced", "split")
SINGLE = (
    "hf5_linear_warmup",
    "hf5_linear_warmup_unbuffered",
    "killed_sigkill",
    "tee_run",
    "tokens_checkpoints",
    "append_two_runs",
    "three_runs_append",
    "disable_tqdm_banner",
)
"""Fixtures with chunks: one writer's log, reset at a random position."""
TWO_PART = ("reuse_shorter", "unbuffered_killed_restart")
"""Fixtures whose log was reused by a second run (``part1``, then the final log)."""


class Writer:
    """A writer process's handle on the log: ``O_APPEND`` (``>>``, ``tee -a``, logging) or not
    (``>``: after a truncation it writes on at its own offset and leaves a NUL hole)."""

    def __init__(self, path: Path, *, append: bool, truncate: bool) -> None:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else 0) | (os.O_TRUNC if truncate else 0)
        self.fd = os.open(path, flags, 0o644)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def run_replay(seed: int, workdir: Path, *, as_written: str | None = None) -> Replay:
    """One seeded replay: a fixture, a reset kind, a chunking and a position, all drawn from
    ``seed``; returns what was written, read and reported.

    ``as_written``: replay this two-part fixture as it really happened instead (its first run's
    whole log, then the restart into the same file, in the captured pieces, nothing lost)."""
    rng = random.Random(seed)
    kind = "restart" if as_written else KINDS[seed % len(KINDS)]
    chunking = "captured" if as_written else CHUNKINGS[(seed // len(KINDS)) % len(CHUNKINGS)]
    if as_written or (kind == "restart" and rng.random() < 0.5):
        name = as_written or rng.choice(TWO_PART)
        first, second = load_source(name, part1=True), load_source(name)
    else:
        name = rng.choice(SINGLE + TWO_PART)
        first = load_source(name)
        second = first if kind == "restart" else None
    sources = [first] if second is None else [first, second]
    rp = Replay(seed, kind, chunking, sources)
    rp.read = [bytearray(len(s.data)) for s in sources]
    rp.written = [bytearray(len(s.data)) for s in sources]
    path = workdir / f"train-{seed}.log"
    p = rng.randint(1, len(first.data)) if rng.random() < 0.85 and not as_written else len(first.data)
    race = rng.randint(1, 3000) if rng.random() < 0.35 and not as_written else 0
    rp.log.append(
        f"{name} ({first.name}{' then ' + second.name if second else ''}), reset at byte {p}, {race} bytes written unread before it"
    )
    writer = Writer(path, append=kind in ("copytruncate", "rename"), truncate=True)
    reader = Reader(path, rp)
    pending: list[tuple[int, int, int]] = []

    def write(k: int, s: int, e: int, w: Writer | None = None) -> None:
        (w or writer).write(sources[k].data[s:e])
        rp.written[k][s:e] = b"\x01" * (e - s)
        pending.append((k, s, e))

    def poll() -> None:
        reader.poll()
        for k, s, e in pending:
            rp.read[k][s:e] = b"\x01" * (e - s)
            if rp.fed and rp.fed[-1][0] == k and rp.fed[-1][2] == s and not rp.fed[-1][3]:
                rp.fed[-1] = (k, rp.fed[-1][1], e, False)  # read in the same poll: one piece
            else:
                rp.fed.append((k, s, e, False))
        rp.fed.append((-1, 0, 0, False))  # the end of a poll
        pending.clear()

    def write_polled(k: int, lo: int, hi: int, w: Writer | None = None) -> None:
        for s, e, quiet in pieces(sources[k], rng, chunking, lo, hi):
            write(k, s, e, w)
            poll()
            if quiet:
                reader.quiet()

    try:
        if kind == "restart":
            # The killed run's last `race` bytes reach the file just before `>` truncates it,
            # unread.
            write_polled(0, 0, max(0, p - race))
            for s, e, _ in pieces(first, rng, chunking, max(0, p - race), p):
                write(0, s, e)
        else:
            write_polled(0, 0, p)
        end_race = min(len(first.data), p + race) if kind != "restart" else p
        if race and kind != "restart":
            for s, e, _ in pieces(first, rng, chunking, p, end_race):
                write(0, s, e)
        if kind == "restart":
            if rng.random() < 0.5:
                reader.quiet()  # the killed run's last record waits no longer
            writer.close()
            os.truncate(path, 0)
            pending.clear()
            if any(rp.read[0]):  # (a file never read shows no truncation)
                poll()  # the new process starts seconds later: the truncation is seen first
            reader.quiet()
            writer = Writer(path, append=False, truncate=True)
            write_polled(1, 0, len(second.data))  # type: ignore[union-attr]
        elif kind in ("truncate", "copytruncate"):
            if kind == "copytruncate":
                rp.append_cut = end_race
            os.truncate(path, 0)
            pending.clear()  # what was not read is gone
            if rng.random() < 0.5:
                poll()
            write_polled(0, end_race, len(first.data))
        else:  # rename: logrotate's `create`; the writer reopens the path a little later
            rotated = path.with_name(path.name + ".1")
            os.rename(path, rotated)
            late = min(len(first.data), end_race + rng.randint(0, 3000))
            for s, e, _ in pieces(first, rng, chunking, end_race, late):
                write(0, s, e)
                if rng.random() < 0.5:
                    poll()
            writer.close()
            writer = Writer(path, append=True, truncate=False)
            if late < len(first.data):
                write_polled(0, late, len(first.data))
            else:
                path.touch()
                if pending:
                    poll()
        reader.quiet()
    finally:
        reader.close()
        writer.close()
    return rp


def baseline(rp: Replay, k: int) -> dict[int, int | None]:
    """The step of each record of source ``k`` (by its offset) when the same pieces, with the
    same quiet spells, are read without any reset (a `Pipeline` of its own)."""
    got: list[Record] = []
    pipe = Pipeline(on_items=lambda items: got.extend(it for it in items if isinstance(it, Record)))
    data = b""
    spans: list[tuple[int, int]] = []  # (stream offset, source offset) where each piece starts
    at = 0
    for j, s, e, quiet in rp.fed:
        if j == k:
            data += rp.sources[k].data[s:e]
            spans.append((at, s))
            at += e - s
        if j == -1 and data:
            pipe.feed(data)
            data = b""
        if quiet and j in (k, -1):
            pipe.quiet()
    pipe.feed(data)
    pipe.quiet()
    starts = [a for a, _ in spans]
    out: dict[int, int | None] = {}
    for r in got:
        i = bisect_right(starts, r.offset) - 1
        out[spans[i][1] + r.offset - spans[i][0]] = r.step
    return out


def expected(rp: Replay) -> list[tuple[int, TruthRecord, str]]:
    """``(run, record, step check)`` for every readable record, in file order (see the rule in
    the module docstring; the step check is ``"exact"``, ``"or_none"``, ``"or_none_or_<n>"`` or ``"unverifiable"``);
    runs are numbered as trainmon can see them (a run none of whose
    records was readable is not one)."""
    out: list[tuple[int, TruthRecord, str]] = []
    run_no = 0
    for k, src in enumerate(rp.sources):
        read, written = rp.read[k], rp.written[k]
        steps = baseline(rp, k)
        last_run = None
        run_start = prev_end = 0
        counted = False
        for r in src.records:
            if r.run != last_run:
                if last_run is not None:
                    run_start = prev_end
                last_run = r.run
                counted = False
            prev_end = r.end
            if not all(read[r.start : r.end]):
                continue
            optional = k == 0 and rp.append_cut is not None and r.start < rp.append_cut < r.end
            if not counted:
                run_no += 1
                counted = True
            span = slice(run_start, min(r.evidence_end, len(src.data)))
            evidence_ok = all(read[span]) and r.evidence_end <= len(src.data)
            destroyed = not all(a or not b for a, b in zip(read[span], written[span]))
            if destroyed:
                check = "unverifiable"
            elif steps.get(r.start) != r.step:
                check = f"or_none_or_{steps.get(r.start)}"
            else:
                check = "exact" if evidence_ok else "or_none"
            out.append((run_no, r, "optional " + check if optional else check))
    return out


def compare(rp: Replay) -> list[str]:
    """What is wrong with the replay's records, one line per problem (empty: all right)."""
    want = expected(rp)
    got = list(rp.got)
    problems: list[str] = []
    for i, (_, tr, check) in enumerate(want):
        if check.startswith("optional "):
            # Absent: nothing to check; present: checked as any other record.
            j = i
            present = (
                j < len(got)
                and got[j][1].kind == tr.kind
                and all(got[j][1].metrics.get(key) == v for key, v in tr.values.items())
            )
            if not present:
                got.insert(i, None)  # type: ignore[arg-type]
            want[i] = (want[i][0], tr, check[9:] if present else "absent")
    for i in range(max(len(want), len(got))):
        w = want[i] if i < len(want) else None
        g = got[i] if i < len(got) else None
        if w is not None and w[2] == "absent":
            continue
        if w is None:
            assert g is not None
            problems.append(f"#{i} extra record (run {g[0]}) {g[1].kind} step {g[1].step} {g[1].metrics}")
            continue
        run, tr, check = w
        if g is None:
            problems.append(f"#{i} lost: run {run} {tr.kind} step {tr.step} at byte {tr.start}")
            continue
        grun, rec = g
        same = rec.kind == tr.kind and all(rec.metrics.get(key) == v for key, v in tr.values.items())
        if not same:
            problems.append(
                f"#{i} expected run {run} {tr.kind} step {tr.step} {tr.values}, got {rec.kind} step {rec.step} {rec.metrics}"
            )
            break
        if grun != run:
            problems.append(f"#{i} step {tr.step}: run {grun}, expected run {run}")
        allowed = {tr.step} if check == "exact" else {tr.step, None}
        if check.startswith("or_none_or_"):
            allowed.add(int(check[11:]) if check[11:] != "None" else None)
        if rec.step not in allowed and check != "unverifiable":
            problems.append(f"#{i} run {run} {tr.kind}: step {rec.step}, the Trainer's is {tr.step}")
    return problems
