"""tqdm progress bars and the training banner: where training is, and how long it runs.

The train bar is the unlabelled (or ``Train``-labelled) tqdm bar whose total is the banner's
``Total optimization steps``, or else the largest total seen: eval bars (``/8``) are shorter,
labelled bars (``Tokenizing``, ``Writing model shards``) are not ours.
"""

from __future__ import annotations

import re

from tui_monitor.core.parse.framing import ANSI_RE, has_any, rank_of_prefix, segment_start
from tui_monitor.core.parse.items import Progress, RunInfo, RunMarker
from tui_monitor.core.parse.values import parse_elapsed

__all__ = ["BAR_SEG_RE", "TrainBar"]

BAR_SEG_RE = re.compile(
    rb"([^\r\n|]{0,80}?)\s*\d{1,3}%\|[^|\r\n]*\|\s*(\d+)/(\d+)\s*\[([\d:]+)<[^,\]]*,\s*(?:([\d.]+)(it/s|s/it)|\?it/s)"
)
_BANNER_RE = re.compile(
    rb"(Total optimization steps|Num Epochs|Gradient Accumulation steps|Num examples"
    rb"|Total train batch size \(w\. parallel, distributed & accumulation\)) = ([\d,]+)"
)
_BANNER_FIELD = {
    b"Total optimization steps": "total_steps",
    b"Num Epochs": "num_epochs",
    b"Gradient Accumulation steps": "grad_accum",
    b"Num examples": "num_examples",
    b"Total train batch size (w. parallel, distributed & accumulation)": "batch_size",
}
_BANNER_WORDS = {
    b"T": (b"Total optimization steps = ", b"Total train batch size (w. parallel, distributed & accumulation) = "),
    b"N": (b"Num Epochs = ", b"Num examples = "),
    b"G": (b"Gradient Accumulation steps = ",),
}
"""A literal that every `_BANNER_RE` match contains, by first letter."""


_MARKER_RE = re.compile(
    rb"\*{5} Running training \*{5}|(?:Continuing|Resuming) training from (?:checkpoint|global step)"
)
"""The Trainer's training banner and its resume messages (transformers ``Trainer._inner_training_loop``)."""
_MARKER_WORDS = {b"R": (b"Running training", b"Resuming training"), b"C": (b"Continuing training",)}
"""A literal that every `_MARKER_RE` match contains, by first letter."""


class TrainBar:
    """What is known of the run's train bar and banner, and the readers that learn it.

    Attributes:
        train_total: the train bar's total as learnt from the bars (the largest unlabelled
            total seen before a banner), or ``None``.
        banner_total: ``Total optimization steps`` from the Trainer's banner, or ``None``.
    """

    def __init__(self) -> None:
        self.train_total: int | None = None
        self.banner_total: int | None = None

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

    def markers(self, buf: bytes, base: int) -> list[tuple[int, RunMarker]]:
        """The run markers in ``buf`` (training banner, resume messages) as ``(offset, marker)``.

        A training banner after a train total was known starts a new run's bar: the totals are
        forgotten here, in file order, before the new banner's totals are read (`banner` runs
        after this on the same buffer).
        """
        out: list[tuple[int, RunMarker]] = []
        if not has_any(buf, _MARKER_WORDS):
            return out
        for m in _MARKER_RE.finditer(buf):
            start = segment_start(buf, m.start())
            prefix = buf[start : m.start()]
            rank = rank_of_prefix(prefix)
            if m.group().startswith(b"*"):
                if self.known and rank in (None, "0"):
                    self.forget()
                out.append((base + start, RunMarker("start", base + start, rank)))
            else:
                out.append((base + start, RunMarker("resume", base + start, rank)))
        return out

    def banner(self, buf: bytes, base: int) -> list[RunInfo]:
        """The banner facts in ``buf`` (one `RunInfo` per banner line), in order.

        ``Total optimization steps`` also becomes :attr:`banner_total`.
        """
        out: list[RunInfo] = []
        if not has_any(buf, _BANNER_WORDS):
            return out
        for m in _BANNER_RE.finditer(buf):
            field = _BANNER_FIELD[m.group(1)]
            value = int(m.group(2).replace(b",", b""))
            if field == "total_steps":
                self.banner_total = value
            out.append(RunInfo(**{field: value, "offset": base + m.start()}))
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
                    desc = ANSI_RE.sub(b"", m.group(1)).strip().rstrip(b":").strip().lower()
                    if not desc or desc in (b"train", b"training"):
                        total = int(m.group(3))
                        if self.train_total is None or total > self.train_total:
                            self.train_total = total
                i = buf.find(b"%|", stop)
        pos = len(buf)
        for _ in range(64):
            i = max(buf.rfind(b"it/s", 0, pos), buf.rfind(b"s/it", 0, pos))
            if i < 0:
                return None
            start = segment_start(buf, i)
            bar = BAR_SEG_RE.match(buf, start, min(len(buf), i + 8))
            pos = start
            if bar is None:
                continue
            m = bar
            desc = ANSI_RE.sub(b"", m.group(1)).strip().rstrip(b":").strip().lower()
            if desc and desc not in (b"train", b"training"):
                continue
            n, total = int(m.group(2)), int(m.group(3))
            ref = self.banner_total or self.train_total
            if ref is None or (total > ref and self.banner_total is None):
                self.train_total = ref = total
            if total != ref:
                continue
            rate: float | None = None
            if m.group(5):
                shown = float(m.group(5))
                rate = shown if m.group(6) == b"it/s" else (1.0 / shown if shown > 0 else None)
            return Progress(n, total, parse_elapsed(m.group(4)), rate, base + m.start(2), "bar")
        return None
