"""Global steps for console records, read from the Trainer's own tqdm bar.

The Trainer's metric dicts carry no ``step``. But every dict is printed by
``ProgressCallback.on_log`` through ``tqdm.write`` (transformers/trainer_callback.py),
which (tqdm/std.py ``tqdm.write`` → ``external_write_mode``) first *clears* the open bars
(``\\r`` + spaces + ``\\r``), writes the message, then *redraws* the train bar with its
current count — which is exactly ``state.global_step`` at that log call. So every
"clear, then train-bar redraw" pair in the byte stream is one log event, in order:

* unbuffered stdout: ``…\\r<spaces>\\r{'loss': …}\\n\\r 2%|▏ | 5/300 […]`` — the dict sits
  between the clear and its redraw;
* block-buffered stdout (``> train.log``, ``| tee``): the clears and redraws go to stderr at
  once, the dicts reach the file later in bursts — but in the same order.

Pairing the events' redraw counts with the records in order gives each record its step
(train, eval and summary alike). Measured on the seven real fixtures: the sequence equals
the Trainer's own ``log_history`` steps exactly, buffered or not, resumed or not.

Guard: a log whose own code also calls ``tqdm.write`` would add events and shift the
pairing; the tracker checks every pairing against the record's epoch (steps per epoch is
constant within a run) and stops assigning steps for good at the first disagreement, so
it never claims a step the log does not support.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable

import numpy as np

from tui_monitor.core.parse import accel
from tui_monitor.core.parse.epoch_bounds import FAST_EPOCHS, HALF_UNITS, spe_bounds_one, spe_bounds_raw, spe_bounds_span
from tui_monitor.core.parse.values import INT

_CLEAR_RE = re.compile(rb"(?:^|(?<=[\r\n])) +(?=\r)")
"""A clear written by tqdm: a segment of spaces only, ended by ``\\r``."""
_REDRAW_RE = re.compile(rb"[^\r\n|]{0,80}?\s*\d{1,3}%\|[^|\r\n]*\|\s*(" + INT + rb")/(" + INT + rb")\s*\[")
"""A tqdm redraw segment, its count and total (`INT`: a count or total of more than
``values.MAX_DIGITS`` digits is no bar's, so that segment is no redraw)."""
_ESC_ONLY_RE = re.compile(rb"(?:\x1b\[[0-9;?]*[ -/]*[@-~])*")
_WS = rb"[ \t\x0b\x0c]"
_SKIP_RE = re.compile(
    # Segments `_walk` skips (each ended by its separator): empty or escape sequences only,
    # the message (``{'`` after leading ESC/``[``/``A`` characters), spaces only.
    rb"(?:(?:\x1b\[[0-9;?]*[ -/]*[@-~])*[\r\n]|[\x1b\[A]*\{['\"][^\r\n]*[\r\n]| +[\r\n])*"
)
"""The segments `_walk` passes over, in one match (they are most of a chunk when no redraw
comes: ``tqdm.write``'s clears and dicts with the train bar drawn elsewhere)."""
_FAST_RE = re.compile(
    # The segments `_walk` skips ...
    _SKIP_RE.pattern
    # ... then a redraw segment with no escape in it (so `_walk`'s ``replace`` is a no-op)
    # that none of the skip rules takes: ``_REDRAW_RE`` with ``\s`` kept inside the segment.
    + rb"(?![\[A]*\{['\"])([^\r\n|\x1b]{0,80}?"
    + _WS
    + rb"*\d{1,3}%\|[^|\r\n\x1b]*\|"
    + _WS
    + rb"*("
    + INT
    + rb")/("
    + INT
    + rb")"
    + _WS
    + rb"*\[)[^\r\n\x1b]*[\r\n]"
)
"""The common shape after a clear, matched in one go (the same decision as `_walk`, whose
Python loop over segments cost ~45 % of a tqdm catch-up): the skippable segments, then
the train bar's redraw. When it does not match, or the bar is another one, `_walk` decides."""

_SP_CR_RE = re.compile(rb" \r")
"""``buf.find(b" \\r", i)`` as a regex search: the same positions, ~2x faster (re's literal
prefix search skips ahead further than ``bytes.find`` on a two-byte needle)."""

_COMBO_RE = re.compile(rb"\r(?=( {1,4097}))\1\r(?:" + _FAST_RE.pattern + rb")?")
"""A clear that follows a ``\r`` (spaces only, at most 4097 of them: what the loop in
`StepTracker.scan` accepts), then optionally the common shape of `_FAST_RE`.

The spaces are taken atomically (a lookahead captures them, the backreference consumes
them), so a longer run of spaces fails at once instead of backtracking through 4097
shorter ones; this is ``( {1,4097}+)`` written without the possessive quantifier, which
``re`` only has from Python 3.11 on."""
_NL_CLEAR_RE = re.compile(rb"\n +\r")
_START_CLEAR_RE = re.compile(rb" +\r")
"""Candidate clears after a ``\n`` (bars at other positions) or at the buffer's start:
`_COMBO_RE` would miss them, so the candidate loop runs for such a buffer."""

MAX_WAIT = 256
"""Records held at most while their redraw is awaited; past it they go out without step."""
EPOCH_TOLERANCE = 0.1
"""Relative disagreement of step/epoch with the run's steps-per-epoch that disables steps."""


class StepTracker:
    """Finds log events (clear → train-bar redraw) in console bytes and hands out steps.

    Use from the parser, per complete buffer, in file order:
    ``markers = tracker.scan(buf, base, train_total)`` returns ``(offset, kind, n, end)``
    tuples, ``kind`` being ``"open"`` (a clear) or ``"step"`` (its redraw, with count ``n``)
    or ``"cancel"`` (a clear followed by other text: not a log event), or ``"pair"``: an
    ``"open"`` at ``offset`` and its ``"step"`` at ``end`` in one tuple (``end`` is
    ``offset`` for the others). Then merge them with the records by offset (a pair with an
    item in ``(offset, end]`` is its open and its step, apart) and call `on_marker`.

    Attributes:
        enabled: False once a pairing disagreed with the epochs (steps are then never
            assigned again in this stream).
    """

    def __init__(self) -> None:
        self.enabled = True
        self._armed = False  # a clear was seen, its redraw not yet (across feeds)
        self._open = 0
        self._skip = 0  # redraws still to come for records already released without them
        self._steps: deque[int] = deque(maxlen=100_000)
        self._spe: float | None = None  # steps per epoch, from the first good pairing
        self._lo, self._hi = 0.0, math.inf  # what every pairing so far allows steps per epoch to be
        self._peeked: tuple[float, float] | None = None  # `peek_batch`'s bounds, for `take_batch`
        self.unsynced = False
        self.probation = False  # synced mid-stream, not yet proven by a whole burst
        self._seen_record = False

    def begin_mid_stream(self) -> None:
        """The stream starts in the middle of a run (a read from an offset, ``--from-end``):
        until the first log event after a record, queued steps may belong to records before the
        start (see `synced_at_event`)."""
        self.unsynced = True
        self._seen_record = False

    def stale_for_record(self) -> bool:
        """While unsynced: a record is read; True when steps are queued for it, which are then
        stale. On a block-buffered log the records reach the file in bursts after their log
        events, and the events before a read's first burst are those of records before the
        start as well as of the burst: the pairing cannot be told, so the burst gets no steps.
        (An unbuffered record sits between its clear and its redraw, with nothing queued.)"""
        self._seen_record = True
        return bool(self._steps)

    def synced_at_event(self, holding: bool) -> None:
        """While unsynced: a log event comes. After a record, with no record held for a
        redraw, the burst of records that began the read is over: every record logged until
        then is in the file (stdout was flushed), so every event from here on is a later
        record's. What is queued is dropped and the pairing is trusted from here, on probation:
        that burst may have been a partial write of stdout's buffer (8 KiB), its older records
        still to come, so the policy pairs each later burst from its end (`pair_burst`) until
        one burst holds exactly as many records as steps were queued for it."""
        if self._seen_record and not holding:
            self._steps.clear()
            self.unsynced = False
            self.probation = True

    def pair_burst(self, n: int) -> tuple[int, bool]:
        """On probation, a burst of ``n`` records read without a log event between them ends:
        how many of its oldest records get no step (``n`` minus the steps queued, when more:
        records left in stdout's buffer by a partial write, whose events came before the
        queued ones), and whether the burst proved the pairing (as many records as steps)."""
        q = len(self._steps)
        proven = n == q
        if proven:
            self.probation = False
        return max(0, n - q), proven

    def reset(self) -> None:
        """A new byte stream (the file was truncated or replaced): forget open events and
        what was learnt of the run — a restarted run may have another steps-per-epoch."""
        self._armed = False
        self._open = 0
        self._skip = 0
        self._steps.clear()
        self._spe = None
        self._lo, self._hi = 0.0, math.inf
        self.enabled = True
        self.unsynced = False
        self.probation = False

    def forget_run(self) -> None:
        """A new run started: its steps per epoch are still to be learnt (the queue stays:
        its steps are the new run's)."""
        self._spe = None
        self._lo, self._hi = 0.0, math.inf
        self.enabled = True

    def partial(self, seg: bytes, train_total: int | None) -> int | None:
        """The step of a redraw still being written: when a clear awaits its redraw and the
        partial segment ``seg`` (no separator yet) already reads as the train bar's redraw up
        to its ``N/T [``, the event is closed now (the rest of the segment cannot change the
        match) and ``N`` is returned for `on_marker`; else ``None``."""
        if not (self.enabled and self._armed) or train_total is None:
            return None
        m = _REDRAW_RE.match(seg.replace(b"\x1b[A", b""))
        if m is None or int(m.group(2)) != train_total:
            return None
        self._armed = False
        return int(m.group(1))

    # -- finding events ------------------------------------------------------------------

    def scan(self, buf: bytes, base: int, train_total: int | None) -> list[tuple[int, str, int, int]]:
        """Markers for the log events in ``buf`` (complete segments only).

        Args:
            buf: bytes ending at a segment boundary.
            base: stream offset of ``buf[0]``.
            train_total: the train bar's total (redraws of other bars do not count);
                ``None`` when no train bar is known yet (then nothing is found, but a clear
                ending the buffer keeps the tracker armed for the next feed).

        With the C extension (`accel`), ``_scan.scan_steps`` finds the same markers and leaves
        the same ``_armed`` (the loop below and `_walk` are the reference for every rule;
        tests/parse/test_scan_paths.py compares both paths).
        """
        out: list[tuple[int, str, int, int]] = []
        if not self.enabled:
            return out
        if train_total is None:
            # No train bar yet, so no redraw can be told from another bar's. A clear that
            # ends this buffer may still be closed by the first train bar in the next
            # feed: stay armed for it (its step is then queued, as when fed whole).
            tail = buf.rstrip(b"\r\n")
            self._armed = bool(tail) and tail.endswith(b" ") and not tail.split(b"\r")[-1].split(b"\n")[-1].strip()
            return out
        if accel.scan is not None:
            out, self._armed = accel.scan.scan_steps(buf, base, train_total, self._armed)
            return out
        pos = 0
        if self._armed:
            pos = self._walk(buf, 0, base, train_total, out)
        if b"\r " not in buf and b"\n " not in buf and buf[:1] != b" ":
            return out
        if (pos or _START_CLEAR_RE.match(buf) is None) and _NL_CLEAR_RE.search(buf, pos) is None:
            # Every clear here follows a ``\r`` (tqdm's own ``\r`` + spaces + ``\r``): one
            # search finds the next clear and, in the common shape, its redraw — the same
            # events as the loop below (see `_COMBO_RE`), with no Python work per candidate.
            combo = _COMBO_RE.search
            m = combo(buf, pos)
            while m is not None:
                st = m.start(1)
                if m.group(4) is not None and int(m.group(4)) == train_total:
                    out.append((base + st, "pair", int(m.group(3)), base + m.start(2)))
                    pos = m.end() - 1
                else:
                    out.append((base + st, "open", 0, base + st))
                    self._armed = True
                    pos = self._walk(buf, m.end(1) + 1, base, train_total, out)
                m = combo(buf, pos)
            return out
        # Same matches as ``_CLEAR_RE.finditer`` (a run of spaces that is a whole segment,
        # ended by ``\r``), found with ``bytes.find`` of ``" \r"``: the regex tried every
        # byte of the buffer (~40 % of a catch-up's time on a tqdm log).
        rfind, count = buf.rfind, buf.count
        fast = _FAST_RE.match
        search = _SP_CR_RE.search

        def find(_: bytes, at: int) -> int:
            m = search(buf, at)
            return m.start() if m is not None else -1

        i = find(b" \r", pos)
        while i >= 0:
            lo = max(0, i - 4096)
            st = max(rfind(b"\r", lo, i), rfind(b"\n", lo, i)) + 1
            if st == 0 and lo > 0:
                st = lo  # an over-long segment: let the regex decide
                m = _CLEAR_RE.search(buf, max(pos, st), i + 2)
                st = m.start() if m is not None else -1
            elif count(b" ", st, i + 1) != i + 1 - st:
                st = -1
            if st >= pos:
                m = fast(buf, i + 2)
                if m is not None and int(m.group(3)) == train_total:
                    out.append((base + st, "pair", int(m.group(2)), base + m.start(1)))
                    pos = m.end() - 1
                else:
                    out.append((base + st, "open", 0, base + st))
                    self._armed = True
                    pos = self._walk(buf, i + 2, base, train_total, out)
                i = find(b" \r", pos)
            else:
                i = find(b" \r", i + 2)
        return out

    def _walk(self, buf: bytes, pos: int, base: int, total: int, out: list[tuple[int, str, int, int]]) -> int:
        """From ``pos`` (a segment start), find the redraw that closes the open clear."""
        end = len(buf)
        skip = _SKIP_RE.match
        while pos < end:
            pos = skip(buf, pos).end()  # type: ignore[union-attr]  # (matches the empty string)
            if pos >= end:
                return end
            seg_end = _next_sep(buf, pos)
            seg = buf[pos:seg_end]
            if not seg or _ESC_ONLY_RE.fullmatch(seg):
                pass
            elif seg.lstrip(b"\x1b[A").startswith((b"{'", b'{"')):
                pass  # the message itself (unbuffered stdout)
            elif not seg.strip(b" "):
                pass  # a second clear (nested bar positions)
            else:
                m = _REDRAW_RE.match(seg.replace(b"\x1b[A", b""))
                if m is not None and int(m.group(2)) == total:
                    out.append((base + pos, "step", int(m.group(1)), base + pos))
                    self._armed = False
                    return seg_end
                if m is None or b"{" in seg:
                    out.append((base + pos, "cancel", 0, base + pos))
                    self._armed = False
                    return seg_end
                # another bar's redraw (an eval bar): keep looking for the train bar
            if seg_end >= end:
                return end
            pos = seg_end + 1
        return end

    # -- pairing -------------------------------------------------------------------------

    def on_marker(self, kind: str, n: int) -> None:
        """Account a marker: an ``"open"`` opens a log event, a ``"step"`` closes it and
        queues its count ``n`` for the next record, a ``"cancel"`` closes it with no step."""
        if kind == "open":
            self._open += 1
            return
        self._open = max(0, self._open - 1)
        if kind == "step":
            if self._skip:
                self._skip -= 1  # its record went out without it (`give_up_open`)
            else:
                self._steps.append(n)

    def give_up_open(self) -> None:
        """The records held for the open log events went out without their steps (the log
        went quiet before the redraws): those redraws, when they come, are not queued for the
        records after them."""
        self._skip += self._open

    def drop_open(self) -> None:
        """The open event's record will never come whole: the event is closed without a step,
        and its redraw (the clear no longer awaits it) is no event of its own."""
        self._open = max(0, self._open - 1)
        self._armed = False

    def queue_step(self, n: int) -> None:
        """Queue the step of a whole clear -> redraw pair (its open and close cancel out)."""
        self._steps.append(n)

    def queue_steps(self, counts: Iterable[int]) -> None:
        """`queue_step` for each of ``counts`` (whole pairs, in order)."""
        self._steps.extend(counts)

    def queued_steps(self) -> tuple[int, ...]:
        """The queued steps, oldest first (a copy)."""
        return tuple(self._steps)

    @property
    def queued(self) -> int:
        """Steps queued and not yet taken by a record."""
        return len(self._steps)

    def take(self) -> int | None:
        """The step for the next record, if one is queued."""
        return self._steps.popleft() if self._steps and self.enabled else None

    @property
    def awaiting(self) -> bool:
        """True while a clear is open: a record now is between a clear and its redraw."""
        return self.enabled and self._open > 0

    def peek_batch(self, epochs: np.ndarray | None, k: int) -> tuple[np.ndarray, float | None] | None:
        """The batch form of `take` + `check`: the next ``k`` queued steps, if each agrees
        with its record's epoch, without taking them (see `take_batch`).

        Args:
            epochs: ``(>= k,) float64`` epochs of the records the steps would go to, or ``None``.
            k: how many steps (``<=`` `queued`).

        Returns:
            ``(steps, steps_per_epoch)``: ``(k,) int64`` steps and the steps per epoch the
            run would have after them; ``None`` when a pairing disagrees (then the record path
            must take these records, one by one, and disable the tracker as `check` does).
        """
        self._peeked = None  # (a peek whose batch was refused or cut must not leave its bounds)
        st = np.fromiter(self._steps, dtype=np.int64, count=k)  # (the first k: count stops it)
        spe = self._spe
        if epochs is None or not k:
            return st, spe
        ep = epochs[:k]
        if accel.scan is not None and ep.flags.c_contiguous and ep.dtype == np.float64:
            # The common case below, compiled (the same floats; None: not that case).
            got = accel.scan.spe_span(st, ep, spe, EPOCH_TOLERANCE, HALF_UNITS, *FAST_EPOCHS)
            if got is False:
                return None
            if got is not None:
                spe, lo_m, hi_m = got
                return self._peeked_bounds(st, spe, lo_m, hi_m)
        elif ep.min() >= FAST_EPOCHS[0] and ep.max() <= FAST_EPOCHS[1] and st.min() > 0:
            # The common case, in fewer numpy calls: every pairing is judged (no epoch below
            # 0.05, no step 0), and no operation can warn (no errstate needed).
            ratio = st / ep
            if spe is None:
                spe = float(ratio[0])
            if np.abs(ratio - spe).max() > EPOCH_TOLERANCE * spe:
                return None
            lo_m, hi_m = spe_bounds_span(st.astype(np.float64), ep)
            return self._peeked_bounds(st, spe, lo_m, hi_m)
        # One errstate for all of it (each costs a few µs; this runs once per columnar run).
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            qual = ~(ep < 0.05) & (st > 0)  # the pairings `check` judges
            if not qual.any():
                return st, spe
            ratio = st / ep
            if spe is None:
                spe = float(ratio[int(np.argmax(qual))])
            if (qual & (np.abs(ratio - spe) > EPOCH_TOLERANCE * spe)).any():
                return None
            lo_i, hi_i = spe_bounds_raw(st[qual].astype(np.float64), ep[qual])
        lo, hi = max(self._lo, float(lo_i.max())), min(self._hi, float(hi_i.min()))
        if lo > hi:
            return None
        self._peeked = (lo, hi)
        return st, spe

    def _peeked_bounds(
        self, st: np.ndarray, spe: float, lo_m: float, hi_m: float
    ) -> tuple[np.ndarray, float | None] | None:
        """`peek_batch`'s end when its pairings allow steps per epoch ``lo_m .. hi_m``: ``None``
        when the run's bounds so far do not overlap them, else ``(st, spe)`` (the bounds kept for
        `take_batch`)."""
        lo, hi = max(self._lo, lo_m), min(self._hi, hi_m)
        if lo > hi:
            return None
        self._peeked = (lo, hi)
        return st, spe

    def take_batch(self, k: int, steps_per_epoch: float | None) -> None:
        """Take the ``k`` steps `peek_batch` returned (and the steps per epoch it learnt)."""
        if k >= len(self._steps):
            self._steps.clear()  # (a run takes every queued step, the common case)
        else:
            for _ in range(k):
                self._steps.popleft()
        self._spe = steps_per_epoch
        if self._peeked is not None:
            self._lo, self._hi = self._peeked
            self._peeked = None

    @property
    def steps_per_epoch(self) -> float | None:
        """Steps per epoch learnt from the first pairing that had an epoch, or ``None``."""
        return self._spe

    def check(self, step: int, epoch: float | None) -> bool:
        """Does ``step`` agree with ``epoch``? Disables the tracker when not."""
        if epoch is None or epoch < 0.05 or step <= 0:
            return True
        ratio = step / epoch
        if self._spe is None:
            self._spe = ratio
        lo_i, hi_i = spe_bounds_one(float(step), epoch)
        lo, hi = max(self._lo, lo_i), min(self._hi, hi_i)
        if abs(ratio - self._spe) > EPOCH_TOLERANCE * self._spe or lo > hi:
            self.enabled = False
            self._steps.clear()
            return False
        self._lo, self._hi = lo, hi
        return True


def banner_steps_per_epoch(info: dict[str, int]) -> int | None:
    """Optimizer steps per epoch from the Trainer's banner facts (`RunInfo` fields), or None.

    ``Num update steps per epoch`` (transformers 5.x) says it. Else, without gradient
    accumulation, an epoch is ``ceil(Num examples / Total train batch size)`` steps (one step per
    batch of every process; ``ceil(ceil(N / w) / b) == ceil(N / (w * b))``), trusted only when
    ``Num Epochs`` agrees with ``Total optimization steps`` (``Num Epochs`` is
    ``ceil(max_steps / steps_per_epoch)``, transformers ``Trainer._inner_training_loop``). With
    accumulation the rounding differs between versions: None.
    """
    spe = info.get("steps_per_epoch")
    if spe:
        return spe
    n, b, epochs, total = (info.get(k) for k in ("num_examples", "batch_size", "num_epochs", "total_steps"))
    if info.get("grad_accum", 1) != 1 or not (n and b and epochs and total):
        return None
    spe = -(-n // b)
    return spe if (epochs - 1) * spe < total <= epochs * spe else None


def epoch_step(epoch: float, steps_per_epoch: int) -> int | None:
    """The global step of a record from its epoch: ``epoch * steps_per_epoch`` when that is a
    whole number to the precision the epoch was printed with, else None (never a guess).

    The Trainer's epoch is ``global_step / steps_per_epoch`` at a logging step; it is printed
    with at least 4 significant digits (transformers 5.x ``.4g``, 4.x in full), so the product
    is a whole step within ``half a unit of the 4th digit * steps_per_epoch``. When that
    tolerance reaches half a step the epoch cannot tell the step: None.
    """
    if not epoch > 0 or not math.isfinite(epoch):
        return None
    tol = 0.5 * 10.0 ** (math.floor(math.log10(epoch)) - 3) * steps_per_epoch
    if tol >= 0.5:
        return None
    v = epoch * steps_per_epoch
    n = round(v)
    return n if abs(v - n) <= tol + 1e-9 * v else None


def _next_sep(buf: bytes, pos: int) -> int:
    r = buf.find(b"\r", pos)
    n = buf.find(b"\n", pos)
    if r < 0:
        return n if n >= 0 else len(buf)
    if n < 0:
        return r
    return min(r, n)
