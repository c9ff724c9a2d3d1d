"""tqdm progress bars and the training banner: where training is, and how long it runs.

The train bar is the unlabelled (or ``Train``-labelled) tqdm bar whose total is the banner's
``Total optimization steps``, or else the largest total seen: eval bars (``/8``) are shorter
and drawn nested under it (``\x1b[A`` after them), labelled bars (``Tokenizing``, ``Writing
model shards``) are not ours.
"""

from __future__ import annotations

import re

from tui_monitor.core.parse.framing import ANSI_RE, has_any, rank_of_prefix, segment_start
from tui_monitor.core.parse.items import Progress, RunInfo, RunMarker
from tui_monitor.core.parse.values import INT, log_int, parse_elapsed

__all__ = ["BANNER_WORDS", "BAR_SEG_RE", "DS_WORDS", "MARKER_WORDS", "TrainBar"]

BAR_SEG_RE = re.compile(
    # (A count or total of more than MAX_DIGITS digits is no bar's: the segment does not match.)
    rb"([^\r\n|]{0,80}?)\s*\d{1,3}%\|[^|\r\n]*\|\s*(" + INT + rb")/(" + INT + rb")\s*"
    rb"\[([\d:]+)<[^,\]]*,\s*(?:([\d.]+)(it/s|s/it)|\?it/s)"
)
_PLAIN_BAR_RE = re.compile(
    # Bars drawn without "|": Colab/Jupyter progress exported as text. NotebookProgressBar
    # ("[135/250 02:11 < 01:52, 1.03 it/s, Epoch 1/2]", "[54/54 06:24, Epoch 6/6]"), a
    # "Step 135/250 [02:11 < 01:52, 1.03 it/s]" line, a tqdm notebook widget's text
    # ("45/100 [00:12<00:15]"), after a constant prefix ("# "). Its rate and other text are checked
    # by the caller: "271/271 [00:00<00:00, 311.41 examples/s]" is a data bar, not ours.
    # Groups: 1 "Step", 2 "[", 3 step, 4 total, 5 elapsed, 6 rate, 7 unit, 8 the rest.
    rb"(?:^|(?<=[\r\n]))[ \t#>;]*(Step[ \t]+)?(\[)?(" + INT + rb")/(" + INT + rb")[ \t]*\[?[ \t]*(?=\d)"
    rb"(\d+(?::\d+)+)(?:[ \t]*<[ \t]*(?:\d+(?::\d+)+|\?))?"
    rb"(?:,[ \t]*([\d.]+)[ \t]*(it/s|s/it))?([^\]\r\n]{0,40})\]",
    re.M,
)
_PLAIN_HINT_RE = re.compile(rb"/\d+[ \t]*\[?[ \t]*\d+:")
"""What every `_PLAIN_BAR_RE` match holds, starting with a literal: its candidates."""
_DS_STEP_RE = re.compile(rb"\[Rank \d+\] step=(" + INT + rb"), skipped=(" + INT + rb")")
"""DeepSpeed's ``log_dist`` line (``[Rank 0] step=2000, skipped=1995, lr=[...]``): the
optimizer step and how many steps were skipped on fp16 overflow."""
DS_WORDS = {b"R": (b"Rank ",)}
"""A literal every `_DS_STEP_RE` match holds, by its first letter, for `has_any` (``b"skipped=" in
buf`` scanned the whole chunk, ~1 ms per MiB; a capital ``R`` is rare in logs)."""
_BANNER_RE = re.compile(
    rb"(Total optimization steps|Num Epochs|Gradient Accumulation steps|Num examples"
    rb"|Total train batch size \(w\. parallel, distributed & accumulation\)|Num update steps per epoch) = ([\d,]+)"
)
_BANNER_FIELD = {
    b"Total optimization steps": "total_steps",
    b"Num Epochs": "num_epochs",
    b"Gradient Accumulation steps": "grad_accum",
    b"Num examples": "num_examples",
    b"Total train batch size (w. parallel, distributed & accumulation)": "batch_size",
    b"Num update steps per epoch": "steps_per_epoch",
}
BANNER_WORDS = {
    b"T": (b"Total optimization steps = ", b"Total train batch size (w. parallel, distributed & accumulation) = "),
    b"N": (b"Num Epochs = ", b"Num examples = ", b"Num update steps per epoch = "),
    b"G": (b"Gradient Accumulation steps = ",),
}
"""A literal that every `_BANNER_RE` match contains, by first letter."""


_MARKER_RE = re.compile(
    rb"\*{5} Running training \*{5}|(?:Continuing|Resuming) training from (?:checkpoint|global step)"
)
"""The Trainer's training banner and its resume messages (transformers ``Trainer._inner_training_loop``)."""
MARKER_WORDS = {b"R": (b"Running training", b"Resuming training"), b"C": (b"Continuing training",)}
"""A literal that every `_MARKER_RE` match contains, by first letter."""
_MARKER_ANCHORS = ((b" Running training ", 5), (b"Continuing training from ", 0), (b"Resuming training from ", 0))
"""Literals in every `_MARKER_RE` match, each with how far before it the match starts."""


def _marker_matches(buf: bytes) -> list[re.Match[bytes]]:
    """``list(_MARKER_RE.finditer(buf))``, with the regex tried only where one of
    `_MARKER_ANCHORS` is (found by ``bytes.find``): the pattern has no literal prefix, so
    ``finditer`` tried every byte (~25 ms per MiB, on every chunk holding a capital ``R``:
    each log's first chunk, which holds the banner). A match starts at one of these
    positions; the candidates are tried in order, each from the end of the last match on,
    which is ``finditer``'s scan."""
    starts: list[int] = []
    for word, back in _MARKER_ANCHORS:
        i = buf.find(word)
        while i >= 0:
            if i >= back:
                starts.append(i - back)
            i = buf.find(word, i + 1)
    out: list[re.Match[bytes]] = []
    end = 0
    for s in sorted(starts):
        if s >= end:
            m = _MARKER_RE.match(buf, s)
            if m is not None:
                out.append(m)
                end = m.end()
    return out


def _nested(buf: bytes, end: int) -> bool:
    """Is the bar whose match ends at ``end`` drawn below another (``position >= 1``)? tqdm
    moves the cursor back up after drawing such a bar (``]\x1b[A``): the Trainer's eval bar
    under its train bar. The train bar is the outermost, so a nested bar is never it, also
    when the train bar's own output never reached the file."""
    return buf.find(b"\x1b[A", end, end + 4) >= 0


def _desc(raw: bytes) -> bytes:
    """A bar's label, lower case, without escapes, a trailing ``:`` or a constant line prefix
    (``# ``, ``> ``: a log quoted or commented line by line)."""
    return ANSI_RE.sub(b"", raw).strip().lstrip(b"#>; \t").rstrip(b":").strip().lower()


class TrainBar:
    """What is known of the run's train bar and banner, and the readers that learn it.

    Attributes:
        train_total: the train bar's total as learnt from the bars (the largest unlabelled
            total seen before a banner), or ``None``.
        banner_total: ``Total optimization steps`` from the Trainer's banner, or ``None``.
        ending: the run's summary record was read and the next train-bar segment is still to
            come: it is either the old bar's closing draw (``N/N``, printed after the summary
            when stdout is unbuffered) or the next run's first bar (see `closing_cut`).
    """

    def __init__(self) -> None:
        self.train_total: int | None = None
        self.banner_total: int | None = None
        self.ending = False
        self.reset_pending = False
        self._units = (b"it/s", b"s/it")  # the rate unit `last` found last first

    @property
    def total(self) -> int | None:
        """The train bar's total: the banner's when it gave one, else the one learnt from bars."""
        return self.banner_total or self.train_total

    @property
    def known(self) -> bool:
        """Whether a train total is known (until then every bar of a chunk is scanned)."""
        return self.train_total is not None or self.banner_total is not None

    def forget(self) -> None:
        """A new run or a new byte stream: its train bar and banner are still to be read."""
        self.train_total = None
        self.banner_total = None
        self.ending = False

    def closing_cut(self, buf: bytes, start: int, stop: int) -> int | None:
        """Where the ended run's bar knowledge stops in ``buf[start:stop]`` (``ending`` set).

        The first unlabelled bar segment decides: a full one (``N/N``, ``N`` at least the
        known train total) is the old train bar's closing draw (tqdm ``close`` after the
        summary was logged) and the cut is after it; any other is the next run's first bar
        and the cut is before it. ``None`` when no bar is in the range (still undecided).
        """
        i = buf.find(b"%|", start, stop)
        while i >= 0:
            r, n = buf.find(b"\r", i, stop), buf.find(b"\n", i, stop)
            end = min(r, n) if r >= 0 and n >= 0 else max(r, n) if max(r, n) >= 0 else stop
            seg = max(start, segment_start(buf, i))
            m = BAR_SEG_RE.search(buf, seg, end)
            if m is not None:
                desc = _desc(m.group(1))
                if (not desc or desc in (b"train", b"training")) and not _nested(buf, m.end()):
                    count, total = int(m.group(2)), int(m.group(3))
                    ref = self.total
                    if count == total and (ref is None or total >= ref):
                        return end + 1 if end < stop else stop
                    return seg
            i = buf.find(b"%|", end, stop)
        return None

    def after_reset(self) -> None:
        """The file was reset: the total is kept until the new stream's first train bar is
        read (`fresh_after_reset`)."""
        self.reset_pending = True

    def fresh_after_reset(self, buf: bytes, base: int) -> bool:
        """After a reset, whether ``buf`` starts a new process's bars: its first top-level bar
        (unlabelled, not drawn below another: no ``ESC[A``) is drawn anew, from 0. Then the old
        total is forgotten. A bar going on is the same writer going on (a copytruncate, a
        rotation), whatever its total (the one known may be an earlier run's); an eval bar
        (drawn below the train bar) decides nothing, and so does a bar the old stream began (before
        offset 0 of the new one, ``base`` being the stream offset of ``buf[0]``). False while
        ``buf`` has no such bar."""
        i = buf.find(b"%|", max(0, -base))
        while i >= 0:
            start = segment_start(buf, i)
            r, n = buf.find(b"\r", i), buf.find(b"\n", i)
            stop = min(r, n) if r >= 0 and n >= 0 else max(r, n) if max(r, n) >= 0 else len(buf)
            m = BAR_SEG_RE.match(buf, start, stop)
            top = m is not None and _desc(m.group(1)) in (b"", b"train", b"training")
            if m is not None and top and base + start >= 0 and b"\x1b[A" not in buf[start:stop]:
                self.reset_pending = False
                fresh = int(m.group(2)) == 0
                if fresh:
                    self.forget()
                return fresh
            i = buf.find(b"%|", stop)
        return False

    def markers(self, buf: bytes, base: int, may: bool = True) -> list[tuple[int, RunMarker]]:
        """The run markers in ``buf`` (training banner, resume messages) as ``(offset, marker)``.

        A main writer's training banner starts a new run's bar: the reader forgets the totals
        at its offset, before the new banner's totals are read. ``may`` is False when the caller
        knows that no word of `MARKER_WORDS` is in ``buf`` (a `framing.Survey`): none is looked for.
        """
        out: list[tuple[int, RunMarker]] = []
        if not (may and has_any(buf, MARKER_WORDS)):
            return out
        for m in _marker_matches(buf):
            start = segment_start(buf, m.start())
            prefix = buf[start : m.start()]
            rank = rank_of_prefix(prefix)
            if m.group().startswith(b"*"):
                out.append((base + start, RunMarker("start", base + start, rank)))
            else:
                out.append((base + start, RunMarker("resume", base + start, rank)))
        return out

    def banner(self, buf: bytes, base: int, may: bool = True) -> list[RunInfo]:
        """The banner facts in ``buf`` (one `RunInfo` per banner line), in order.

        ``Total optimization steps`` also becomes :attr:`banner_total`. ``may`` False: no word of
        `BANNER_WORDS` is in ``buf`` (the caller knows it), so there is none.
        """
        out: list[RunInfo] = []
        if not (may and has_any(buf, BANNER_WORDS)):
            return out
        for m in _BANNER_RE.finditer(buf):
            field = _BANNER_FIELD[m.group(1)]
            value = log_int(m.group(2).replace(b",", b""))
            if value is None:
                continue  # no count a run can have (see values.MAX_DIGITS): no banner fact
            if field == "total_steps":
                self.banner_total = value
            out.append(RunInfo(**{field: value, "offset": base + m.start()}))
        return out

    def plain(self, buf: bytes, base: int, may_ds: bool = True) -> list[Progress]:
        """Positions from lines that are not tqdm bars with ``|``, in order: the last
        notebook-style train bar of ``buf`` (see `_PLAIN_BAR_RE`; the train total is learnt
        as for `last`) and every DeepSpeed ``step=…, skipped=…`` line (looked for only with
        ``may_ds``: False when the caller knows that no word of `DS_WORDS` is in ``buf``)."""
        out: list[Progress] = []
        # Only where no tqdm bar with "|" is (a console log's bars are read by `last`), and
        # only lines holding "/<digits>" are tried (a literal the regex engine finds fast).
        # (Ordered so that each test stops early: "/" is absent from bar-less logs, "%|" is
        # found at once in logs of tqdm bars.)
        if b"/" in buf and (b"<" in buf or b"Epoch" in buf) and b"%|" not in buf and b"[" in buf:
            best: Progress | None = None
            line_end = 0  # end of the last line tried: each line is tried once, each byte looked at once
            for c in _PLAIN_HINT_RE.finditer(buf):
                i = c.start()
                if i < line_end:
                    continue
                ls = max(buf.rfind(b"\n", line_end, i), buf.rfind(b"\r", line_end, i)) + 1
                ls = ls if ls > 0 else line_end
                r, n = buf.find(b"\r", i), buf.find(b"\n", i)
                line_end = min(r, n) if r >= 0 and n >= 0 else max(r, n) if max(r, n) >= 0 else len(buf)
                m = _PLAIN_BAR_RE.match(buf, ls)
                if m is None:
                    continue
                tail = m.group(8)
                if b"/s" in tail or (m.group(1) is None and m.group(2) is None and b"<" not in m.group()):
                    # A data bar (examples/s) is not ours; a bare "45/100 [00:12]" without
                    # an ETA is too weak to be a bar.
                    continue
                n, total = int(m.group(3)), int(m.group(4))
                if n > total or total == 0:
                    continue
                ref = self.banner_total or self.train_total
                if n and (ref is None or (total > ref and self.banner_total is None)):
                    self.train_total = ref = total
                if total != ref:
                    continue  # an eval bar ("[3/3 00:01]"), or a bar not counted yet
                rate: float | None = None
                if m.group(6):
                    shown = float(m.group(6))
                    rate = shown if m.group(7) == b"it/s" else (1.0 / shown if shown > 0 else None)
                best = Progress(n, total, parse_elapsed(m.group(5)), rate, base + m.start(3), "bar")
            if best is not None:
                out.append(best)
        if may_ds and has_any(buf, DS_WORDS):
            for m in _DS_STEP_RE.finditer(buf):
                step, skipped = int(m.group(1)), int(m.group(2))
                out.append(Progress(step, None, offset=base + m.start(), source="deepspeed", skipped=skipped))
        return out

    def last(self, buf: bytes, base: int) -> Progress | None:
        """The last train-bar position in ``buf``, found by scanning backwards.

        The train bar is the unlabelled (or ``Train``-labelled) tqdm bar whose total is
        the banner's total steps, or the largest total seen: eval bars (``/8``) are
        shorter, labelled bars (``Tokenizing``, ``Writing model shards``) are not ours.
        Only the last few bars of a chunk are looked at (progress is coalesced per feed),
        so a 100 MiB run of bar updates costs a handful of regex matches.
        """
        if self.train_total is None and self.banner_total is None:
            # First bars ever seen: learn the train total from all of them (the chunk may
            # end inside an eval bar, whose total must not be taken for the train total).
            # Only segments holding "%|" are matched: finditer over the whole buffer tried
            # the bar's free-text prefix at every byte (0.2 MiB/s on logs without a train bar).
            i = buf.find(b"%|")
            while i >= 0:
                r, n = buf.find(b"\r", i), buf.find(b"\n", i)
                stop = min(r, n) if r >= 0 and n >= 0 else max(r, n) if max(r, n) >= 0 else len(buf)
                if buf.find(b"it/s", i, stop) < 0 and buf.find(b"s/it", i, stop) < 0:
                    i = buf.find(b"%|", stop)  # not a bar the regex can match ("examples/s")
                    continue
                for m in BAR_SEG_RE.finditer(buf, segment_start(buf, i), stop):
                    desc = _desc(m.group(1))
                    if (not desc or desc in (b"train", b"training")) and not _nested(buf, m.end()):
                        total = int(m.group(3))
                        if m.group(2) != b"0" and (self.train_total is None or total > self.train_total):
                            self.train_total = total
                i = buf.find(b"%|", stop)
        pos = len(buf)
        for _ in range(64):
            # The last "it/s" or "s/it" before pos: the unit of the last bar found is looked for
            # first, the other one only after it (two whole-buffer rfinds were ~1.5 ms per MiB
            # of a tqdm log, where one unit never occurs).
            first, other = self._units
            i = buf.rfind(first, 0, pos)
            j = buf.rfind(other, i + 1, pos)
            if j > i:
                i = j
                self._units = (other, first)
            if i < 0:
                return None
            start = segment_start(buf, i)
            bar = BAR_SEG_RE.match(buf, start, min(len(buf), i + 8))
            pos = start
            if bar is None:
                continue
            m = bar
            desc = _desc(m.group(1))
            if (desc and desc not in (b"train", b"training")) or _nested(buf, m.end()):
                continue
            n, total = int(m.group(2)), int(m.group(3))
            ref = self.banner_total or self.train_total
            if n and (ref is None or (total > ref and self.banner_total is None)):
                # (Learnt from a draw that has counted: a bar only ever drawn at 0 may be
                # anyone's, e.g. Optuna's trial bar, whose later draws carry a label.)
                self.train_total = ref = total
            if total != ref:
                continue
            rate: float | None = None
            if m.group(5):
                shown = float(m.group(5))
                rate = shown if m.group(6) == b"it/s" else (1.0 / shown if shown > 0 else None)
            return Progress(n, total, parse_elapsed(m.group(4)), rate, base + m.start(2), "bar")
        return None
