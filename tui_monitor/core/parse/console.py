"""Console output (what the Trainer prints): metric dicts anywhere on a line, notebook tables,
tqdm bars, the training banner and crash evidence, merged in file order and passed through the record policy.

The measured decision of DESIGN.md: compiled regular expressions over ``bytes`` for the whole
chunk (C speed), Python work only per dict, never per tqdm segment.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from tui_monitor.core.parse.bars import BANNER_WORDS, DS_WORDS, MARKER_WORDS, TrainBar
from tui_monitor.core.parse.checkpoints import SAVING_WORDS, scan_checkpoints
from tui_monitor.core.parse.columnar import (
    CLEAR_PREFIX,
    PASSABLE,
    ColumnRun,
    ShapePlan,
    plan_for,
    read_run,
    run_plans,
)
from tui_monitor.core.parse.crash import CRASH_WORDS, CrashScanner
from tui_monitor.core.parse.framing import Survey, Surveyor, rank_of_prefix, segment_start
from tui_monitor.core.parse.items import ParsedItem, Progress, Record, RunInfo, RunMarker, is_main_rank
from tui_monitor.core.parse.policy import Out, RecordPolicy
from tui_monitor.core.parse.steps import StepTracker
from tui_monitor.core.parse.tables import TABLE_WORDS, TableReader
from tui_monitor.core.parse.values import DICT_RE, FAST_DICT_RE, FAST_PAIR_RE, build_record, is_metric_dict, parse_pairs
from tui_monitor.core.parse.wrapped import OPENER_RE, join_at, looks_like_metrics

__all__ = ["ConsoleReader", "ParseCounts"]

_LOGGER_RE = re.compile(rb"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?::\d+)?\s*(?:>>|-|:|\|)?\s*$")
"""A logging handler's name just before a dict (``… llamafactory.train.callbacks:143 >> {…}``,
``… - INFO - llamafactory.train.callbacks - {…}``)."""


_NEXT_CLEARED = re.compile(rb"\n(?:" + PASSABLE + rb")?" + CLEAR_PREFIX + rb"\{'")
"""A dict line next, maybe after ``tqdm.write``'s clears (not a bar's redraw, also ``\\r`` +
spaces), maybe after lines a run passes (`columnar.PASSABLE`: an eval bar's draws)."""


_SURVEYOR = Surveyor((MARKER_WORDS, BANNER_WORDS, DS_WORDS, CRASH_WORDS, SAVING_WORDS, TABLE_WORDS))
"""The literals of the scans run on every chunk, looked for in one pass (`framing.Surveyor`)."""
_MARKERS, _BANNER, _DS, _CRASH, _SAVING, _TABLES = range(6)
"""Their indices in `_SURVEYOR`'s groups."""
_OFFSET = itemgetter(0)
_OFFSET_ORDER = itemgetter(0, 1)


def _count_braces(buf: bytes, scratch: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """``buf.count(b"{")``, with numpy comparing every byte at once (~0.15 ms per MiB): bytes.count's
    one-byte loop took ~1.3 ms per MiB (5 instructions per byte, the largest per-chunk scan left
    in a tqdm catch-up once the step scan was compiled).

    The comparison goes into ``scratch`` (``bool``, grown as needed and returned for the next
    call): a fresh 1 MiB array per chunk cost its page faults every time (~0.5 ms per chunk in
    a catch-up, against ~0.15 ms in place)."""
    a = np.frombuffer(buf, dtype=np.uint8)
    if scratch is None or len(scratch) < len(a):
        scratch = np.empty(max(len(a), 1 << 16), dtype=bool)
    hit = scratch[: len(a)]
    np.equal(a, 123, out=hit)
    return int(np.count_nonzero(hit)), scratch


@dataclass
class ParseCounts:
    """Counts the readers share.

    Attributes:
        skipped: malformed metric-looking inputs that were skipped (a dict with a ``loss``
            key whose values do not parse, a JSON line that is not JSON).
        fragments: dicts wrapped over lines that looked like metrics but did not join into
            one readable dict (:mod:`~tui_monitor.core.parse.wrapped`).
    """

    skipped: int = 0
    fragments: int = 0


class ConsoleReader:
    """Reads complete console buffers into items, in file order.

    Args:
        policy: the record policy every record goes through.
        bars: the train bar / banner knowledge (shared with the facade).
        counts: shared counters.

    Attributes:
        columnar: hand runs of dict lines of known shapes (starting with a train or eval
            record at the start of its segment or glued after a tqdm bar's ``]``, see
            `_bar_glued`; eval records, other train key sequences and `columnar.PASSABLE` lines
            such as an eval bar's draws may come between) to
            `RecordPolicy.take_run` (the catch-up path; set by `LogParser.feed_columnar`).
    """

    def __init__(self, policy: RecordPolicy, bars: TrainBar, counts: ParseCounts) -> None:
        self.policy = policy
        self.steps: StepTracker = policy.steps
        self.bars = bars
        self.crash = CrashScanner()
        self.tables = TableReader()
        self.counts = counts
        self.columnar = False
        self._plans: dict[tuple[bytes, ...], ShapePlan | None] = {}
        self._last_plan: ShapePlan | None = None
        self._prev_plan: ShapePlan | None = None  # the last plan's predecessor (tried second)
        self._scratch: np.ndarray | None = None  # `_count_braces`'s, one per reader (no sharing across threads)

    def _braces(self, buf: bytes) -> int:
        """``buf.count(b"{")`` (`_count_braces`, in this reader's scratch array)."""
        n, self._scratch = _count_braces(buf, self._scratch)
        return n

    def reset(self) -> None:
        """A new byte stream: an open traceback does not continue into it."""
        self.crash.in_traceback = False
        self.tables = TableReader()

    def partial_redraw(self, seg: bytes, out: Out) -> None:
        """The partial last segment ``seg`` (held for the next feed): when it is the train
        bar's redraw that an open log event awaits and its ``N/T [`` is already readable, the
        step is taken now, not when the next bar update ends the segment (a record is shown
        with its step at once, and a run that dies right after logging keeps its last step)."""
        n = self.steps.partial(seg, self.bars.total)
        if n is not None:
            self.policy.marker("step", n, out)

    @staticmethod
    def _rank_of(buf: bytes, start: int, pos: int) -> str | None:
        return rank_of_prefix(buf[start:pos]) if start != pos else None

    @staticmethod
    def _logger_of(buf: bytes, start: int, pos: int) -> str | None:
        if start == pos:
            return None
        j = pos - 1
        while j > start and buf[j] in (32, 9):
            j -= 1
        if buf[j] == 93:  # "]": a dict glued after a tqdm bar ("… 5.60it/s]{'loss' …")
            return None
        m = _LOGGER_RE.search(buf, max(start, pos - 200), pos)
        return m.group(1).decode("ascii", "replace") if m else None

    @staticmethod
    def _bar_glued(buf: bytes, seg: int, s: int) -> bool:
        """Whether the dict at ``buf[s]``, after the text ``buf[seg:s]`` of its segment, is read
        with no rank and no logger, as a run's rows are: the text ends with ``]`` (maybe then
        spaces: a tqdm bar's, ``… 5.60it/s]{'eval_loss': …}``, where no logger name can be;
        see `_logger_of`) and names no rank (``[Rank:1]{…}`` does)."""
        j = s - 1
        while j > seg and buf[j] in (32, 9):
            j -= 1
        return buf[j] == 93 and rank_of_prefix(buf[seg:s]) is None

    def parse(self, buf: bytes, base: int) -> Out:
        """Items of ``buf`` (complete segments only), in file order.

        Args:
            buf: bytes ending at a segment boundary (``\\r`` or ``\\n``).
            base: stream offset of ``buf[0]``.
        """
        out: Out = []
        if self.bars.reset_pending and self.bars.fresh_after_reset(buf, base):
            # A new process's bars after the reset (a run restarted into the log): what the
            # old stream's events awaited or queued will not come, and the old stream's
            # partial last segment (kept across the reset) does not go on in its output.
            self.policy.new_bars(out, max(base, 0))
            if base < 0:
                buf, base = buf[-base:], 0
        survey = _SURVEYOR(buf)
        found: list[tuple[int, int, ParsedItem | ColumnRun | RunMarker]] = []  # (offset, order, item)
        order = 0
        runs = 0
        closed = 0  # "{" of dicts closed on their line (DICT_RE matches, run lines): one each
        if b"{" in buf:
            columnar = self.columnar
            pos = 0
            while pos < len(buf):
                start, pos = pos, len(buf)
                # A run of dict lines of known shapes (columnar) ends this scan; it resumes after it,
                # from the next "{" (every match starts with one): memchr skips the train bar's
                # redraws to the next burst of dicts, which the regex tried byte by byte.
                first = buf.find(b"{", start)
                for m in DICT_RE.finditer(buf, first if first >= 0 else len(buf)):
                    s = m.start()
                    body = m.group()
                    closed += 1
                    if s == 0 or buf[s - 1] in (10, 13):
                        seg = s  # the common case: the dict starts its segment
                    else:
                        seg = segment_start(buf, s)
                        # A dict nested in another literal ({'a': {'b': 1}}) is not a record.
                        if buf.rfind(b"{", seg, s) > buf.rfind(b"}", seg, s):
                            continue
                    plan = self._last_plan
                    sm = plan.shape.fullmatch(body) if plan is not None else None
                    if sm is None and self._prev_plan is not None:
                        # The shape before it (a burst's eval dict, then its train dicts: the
                        # two alternate at every burst); a match is the plan `plan_for` gives.
                        sm = self._prev_plan.shape.fullmatch(body)
                        if sm is not None:
                            plan, self._prev_plan, self._last_plan = self._prev_plan, plan, self._prev_plan
                    if sm is None and FAST_DICT_RE.fullmatch(body) is not None:
                        plan = plan_for(tuple([p[0] for p in FAST_PAIR_RE.findall(body)]), self._plans)
                        if plan is not None:
                            if plan is not self._last_plan:
                                self._prev_plan = self._last_plan
                            self._last_plan = plan
                            sm = plan.shape.fullmatch(body)
                    if sm is not None and plan is not None:
                        if plan.record and plan.is_metric:
                            e = m.end()
                            # The next line a dict too, maybe after tqdm.write's clears or
                            # lines a run passes.
                            if (
                                columnar
                                and plan.kind != "summary"
                                and (buf.startswith(b"\n{", e) or _NEXT_CLEARED.match(buf, e))
                                and (seg == s or self._bar_glued(buf, seg, s))
                            ):
                                run = read_run(buf, s, base, run_plans(plan, self._plans.values()))
                                if run is not None:
                                    closed += len(run) - 1  # its first line was counted above
                                    found.append((base + s, order, run))
                                    order += 1
                                    runs += 1
                                    pos = run.end - base
                                    break
                            vals = list(map(float, filter(None, sm.groups())))
                            ei = plan.epoch_idx
                            rec = Record(
                                plan.kind,
                                dict(zip(plan.names, [vals[i] for i in plan.idx])),
                                None,
                                vals[ei] if ei >= 0 else None,
                                base + s,
                                self._rank_of(buf, seg, s),
                                {},
                                0.0,
                                self._logger_of(buf, seg, s),
                            )
                            found.append((base + s, order, rec))
                            order += 1
                        continue
                    values = parse_pairs(body)
                    if values is None:
                        if b"loss" in body or b"learning_rate" in body:
                            self.counts.skipped += 1
                        continue
                    if not is_metric_dict(values):
                        continue
                    rank = self._rank_of(buf, seg, s)
                    built, prog = build_record(values, offset=base + s, rank=rank)
                    if prog is not None:
                        found.append((base + s, order, prog))
                        order += 1
                    if built is not None:
                        found.append((base + s, order, built))
                        order += 1
        # Bar knowledge is per run: the buffer is read in spans cut at run boundaries (a main
        # writer's training banner, a main writer's summary record), each span's bars with the
        # totals learnt in it (`_bar_spans`).
        if closed < len(buf) and (survey.braces if survey.braces >= 0 else self._braces(buf)) > closed and b"{'" in buf:
            # Some "{" is not a dict closed on its line (a DICT_RE match holds exactly one):
            # look for dicts wrapped over lines. Counting keeps this scan off the catch-up of
            # ordinary logs, where every dict is closed.
            order = self._wrapped(buf, base, found, order)
        for rec in self.tables.scan(buf, base, survey.has(_TABLES)):
            found.append((rec.offset, order, rec))
            order += 1
        run_marks = self.bars.markers(buf, base, survey.has(_MARKERS))
        for off, marker in run_marks:
            found.append((off, order, marker))
            order += 1
        order, markers = self._bar_spans(buf, base, found, order, run_marks, survey)
        found.extend(self.crash.scan(buf, base, order, survey.has(_CRASH)))
        order += len(found)
        found.extend(scan_checkpoints(buf, base, order, survey.has(_SAVING)))
        order += len(found)
        found.sort(key=_OFFSET_ORDER)
        # The markers are merged in offset order: before an item, those at a lower offset
        # (at an equal offset the item comes first, as it was found first).
        moffs = list(map(_OFFSET, markers))
        if runs:
            # A run whose lines carry tqdm clears with their step markers (a known train bar)
            # is taken record by record: the markers go between its records.
            found = _split_runs(found, moffs)
        policy = self.policy
        mi, nm = 0, len(markers)
        for off, _, item in found:
            if mi < nm and moffs[mi] < off:
                j = bisect_left(moffs, off, mi)
                last = markers[j - 1]
                if last[3] >= off and last[1] == "pair":
                    # The item lies between a clear and its redraw: the pair's open now,
                    # its step after the item.
                    policy.markers(markers, mi, j - 1, out)
                    policy.marker("open", 0, out)
                    markers[j - 1] = (last[3], "step", last[2], last[3])
                    moffs[j - 1] = last[3]
                    mi = j - 1
                else:
                    policy.markers(markers, mi, j, out)
                    mi = j
            if isinstance(item, Record):
                if item.step is None and is_main_rank(item.rank):
                    policy.take(item, out)
                else:
                    policy.emit(item, out)
            elif isinstance(item, ColumnRun):
                policy.take_run(item, out)
            elif isinstance(item, RunMarker):
                policy.run_marker(item, out)
            else:
                if isinstance(item, RunInfo):
                    policy.run_info(item)
                    if item.total_steps is not None:
                        policy.banner()
                out.append(item)
        if mi < nm:
            policy.markers(markers, mi, nm, out)
        policy.settle(out)
        return out

    def _bar_spans(
        self,
        buf: bytes,
        base: int,
        found: list[tuple[int, int, ParsedItem | ColumnRun | RunMarker]],
        order: int,
        run_marks: list[tuple[int, RunMarker]],
        survey: Survey,
    ) -> tuple[int, list[tuple[int, str, int, int]]]:
        """Banner facts, train-bar positions and tqdm log-event markers of ``buf``, per run.

        A run's train bar is learnt from that run's bytes only (several runs appended to one
        file have bars of different totals, and the largest of the file is not every run's
        train bar). The cuts: at a main writer's training banner the totals are forgotten; after
        a main writer's summary record they are forgotten at the next train-bar segment (after
        it when it is the old bar's closing ``N/N`` draw, see `TrainBar.closing_cut`; the
        decision waits across feeds for that segment, so feeding in chunks cuts where a whole
        read does). Appends the banner facts and positions to ``found``; returns the next order
        number and the markers (`StepTracker.scan`) of the whole buffer. ``survey`` is the
        whole buffer's: a group absent from it is absent from every span.
        """
        may_banner, may_ds = survey.has(_BANNER), survey.has(_DS)
        bars = self.bars
        events: list[tuple[int, bool]] = [
            (off - base, True) for off, m in run_marks if m.kind == "start" and is_main_rank(m.rank)
        ]
        # (A loop over the items, ColumnRuns standing for many: `in` over the buffer for the
        # summary's "train_runtime" cost ~0.8 ms per MiB.)
        for off, _, item in found:
            if type(item) is Record and item.kind == "summary" and is_main_rank(item.rank):
                rel = off - base
                r, n = buf.find(b"\r", rel), buf.find(b"\n", rel)
                end = min(r, n) if r >= 0 and n >= 0 else max(r, n)
                events.append((end + 1 if end >= 0 else len(buf), False))
        markers: list[tuple[int, str, int, int]] = []
        if not events and not bars.ending:
            return self._span(buf, base, found, order, markers, may_banner, may_ds), markers
        events.sort()
        pos = 0
        for at, is_banner in [*events, (-1, False)]:
            if bars.ending:
                cut = bars.closing_cut(buf, pos, at if at >= 0 else len(buf))
                if cut is not None:
                    order = self._span(buf[pos:cut], base + pos, found, order, markers, may_banner, may_ds)
                    bars.forget()
                    pos = cut
            if at < 0:
                break  # the end of the buffer
            order = self._span(buf[pos:at], base + pos, found, order, markers, may_banner, may_ds)
            pos = at
            if is_banner:
                bars.forget()
            else:
                bars.ending = True
        order = self._span(buf[pos:], base + pos, found, order, markers, may_banner, may_ds)
        return order, markers

    def _span(
        self,
        buf: bytes,
        base: int,
        found: list[tuple[int, int, ParsedItem | ColumnRun | RunMarker]],
        order: int,
        markers: list[tuple[int, str, int, int]],
        may_banner: bool = True,
        may_ds: bool = True,
    ) -> int:
        """`_bar_spans` for one span of one run: its banner facts, its last train-bar position
        and its markers (appended); returns the next order number. ``may_banner`` / ``may_ds``
        False: no word of `BANNER_WORDS` / `DS_WORDS` is in the span (the chunk's survey)."""
        if not buf:
            return order
        # The banner first: its total names the train bar of this span.
        for info in self.bars.banner(buf, base, may_banner):
            found.append((info.offset, order, info))
            order += 1
        bar: Progress | None = None
        if b"|" in buf and b"/" in buf:
            bar = self.bars.last(buf, base)
            if bar is not None:
                found.append((bar.offset, order, bar))
                order += 1
        for prog in self.bars.plain(buf, base, may_ds):
            if bar is not None and prog.source == "bar":
                continue  # a tqdm bar with "|" is the train bar of this span
            found.append((prog.offset, order, prog))
            order += 1
        markers += self.steps.scan(buf, base, self.bars.total)
        return order

    def _wrapped(
        self, buf: bytes, base: int, found: list[tuple[int, int, ParsedItem | ColumnRun | RunMarker]], order: int
    ) -> int:
        """Dicts wrapped or pretty-printed over several lines (see :mod:`wrapped`), appended
        to ``found``; returns the next order number."""
        for m in OPENER_RE.finditer(buf):
            s = m.start()
            seg = segment_start(buf, s)
            if buf.rfind(b"{", seg, s) > buf.rfind(b"}", seg, s):
                continue  # inside another literal: a nested value, not a record
            verdict, text, _ = join_at(buf, s, m.end() - 1)
            if verdict == "open":
                continue  # the buffer ends first: only at the end of input (flush)
            values = parse_pairs(text) if verdict == "dict" else None
            if values is None:
                if looks_like_metrics(text):
                    self.counts.fragments += 1
                continue
            if not is_metric_dict(values):
                continue
            built, prog = build_record(values, offset=base + s, rank=self._rank_of(buf, seg, s))
            if prog is not None:
                found.append((base + s, order, prog))
                order += 1
            if built is not None:
                found.append((base + s, order, built))
                order += 1
        return order


def _split_runs(
    found: list[tuple[int, int, ParsedItem | ColumnRun | RunMarker]], moffs: list[int]
) -> list[tuple[int, int, ParsedItem | ColumnRun | RunMarker]]:
    """Runs with a step marker (offsets ``moffs``, sorted) or another item inside their bytes
    (the latter cannot happen with a validated run; a safety net) become their records again."""
    bad = [
        i
        for i, (off, _, it) in enumerate(found)
        if isinstance(it, ColumnRun)
        and (
            (i + 1 < len(found) and found[i + 1][0] < it.end)
            or (moffs and (j := bisect_left(moffs, off)) < len(moffs) and moffs[j] < it.end)
        )
    ]
    if not bad:
        return found
    for i in bad:
        _, order, run = found[i]
        found[i] = None  # type: ignore[call-overload]
        for rec in run.rows.records():  # type: ignore[union-attr]
            found.append((rec.offset, order, rec))
    found = [t for t in found if t is not None]
    found.sort(key=lambda t: (t[0], t[1]))
    return found
