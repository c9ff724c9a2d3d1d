"""Throughput (steps/s, tokens/s, samples/s) and slowdowns, from what the log shows of its clock.

The run's clock, best first: ``train_runtime`` in the train records (transformers prints the
seconds since training started in each logging-step record when it counts tokens); the train
bar's own elapsed time (``[00:09<00:44, ...]``, one point per read while following); when the
records were read (following a live log). Over an interval of that clock, steps/s is
Δstep / Δseconds; tokens/s is Δtokens / Δseconds with the tokens a record states
(``num_input_tokens_seen``, ``num_tokens``, ``total_tokens``) interpolated at the interval's
ends; samples/s is steps/s × the banner's total train batch size.

A slowdown is a sustained stretch of intervals whose steps/s is under :data:`SLOW_FRACTION` of
the run's median (the median taken again without the slow intervals, so a long slowdown does
not lower its own yardstick). Intervals with an evaluation or a checkpoint save in them are not
judged: the Trainer pauses training for both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tui_monitor.core.state import RunSnapshot

__all__ = [
    "MIN_INTERVALS",
    "SLOW_FRACTION",
    "TOKEN_KEYS",
    "ClockSource",
    "Slowdown",
    "Throughput",
    "clock_intervals",
    "paused_steps",
    "run_clock",
    "throughput",
]

TOKEN_KEYS = ("num_input_tokens_seen", "num_tokens", "total_tokens")
"""Record keys that count the tokens trained on so far (the Trainer's
``include_num_input_tokens_seen``; TRL's ``num_tokens``; other loops' ``total_tokens``)."""

SLOW_FRACTION = 0.5
"""An interval under this fraction of the median steps/s is slow."""

MIN_INTERVALS = 6
"""Judged intervals needed before a slowdown is looked for (a median of fewer means little)."""

MIN_DT = {"train_runtime": 0.0, "bar": 5.0, "arrival": 5.0}
"""Shortest interval (seconds) per clock: the bar prints whole seconds and reads arrive in
bursts, so their points are merged until an interval spans this long (≤ 20 % error)."""

Source = Literal["train_runtime", "bar", "arrival", "summary", ""]
ClockSource = Literal["train_runtime", "bar", "arrival", ""]


@dataclass(frozen=True, slots=True)
class Slowdown:
    """A sustained stretch of slow intervals.

    Attributes:
        since: the global step where the stretch starts.
        until: the step where it ended, or ``None`` while it goes on (the latest interval is slow).
        ratio: the stretch's steps/s over the median's (0.33: a third of it).
        usual: the median steps/s (slow intervals left out).
        slow: the stretch's steps/s (its steps over its seconds).
        seconds: how long the stretch lasted (seconds of the run's clock).
    """

    since: int
    until: int | None
    ratio: float
    usual: float
    slow: float
    seconds: float

    @property
    def ongoing(self) -> bool:
        """The latest judged interval is slow."""
        return self.until is None


@dataclass(frozen=True, slots=True)
class Throughput:
    """How fast a run trains.

    Attributes:
        source: the clock used (see the module docstring), ``"summary"`` when only the summary
            record's figures are known, or ``""``.
        steps_per_s: the latest interval's steps/s (the bar's rate when the log only has that).
        mean_steps_per_s: over the whole clock (or the summary's ``train_steps_per_second``).
        tokens_key: the token counter read (see :data:`TOKEN_KEYS`), or ``None``.
        tokens_seen: its latest value (tokens).
        tokens_per_s: the latest interval's tokens/s, or ``None`` without a token counter.
        samples_per_s: the latest samples/s (steps/s × total train batch size), or ``None``.
        printed_tokens_per_s: the latest ``train_tokens_per_second`` the log printed (the
            Trainer's average since the start), or ``None``.
        x: ``(k,) float64`` steps at the end of each interval (for a sparkline).
        rate: ``(k,) float64`` tokens/s per interval when a token counter exists, else steps/s.
        unit: ``"tokens/s"`` or ``"steps/s"``: what ``rate`` is.
        slowdown: the latest sustained slowdown, or ``None``.
    """

    source: Source = ""
    steps_per_s: float | None = None
    mean_steps_per_s: float | None = None
    tokens_key: str | None = None
    tokens_seen: float | None = None
    tokens_per_s: float | None = None
    samples_per_s: float | None = None
    printed_tokens_per_s: float | None = None
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rate: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unit: str = "steps/s"
    slowdown: Slowdown | None = None

    @property
    def known(self) -> bool:
        """Some rate is known."""
        return self.steps_per_s is not None or self.tokens_per_s is not None or self.printed_tokens_per_s is not None


def run_clock(snap: RunSnapshot) -> tuple[ClockSource, np.ndarray, np.ndarray]:
    """The best clock the run has: ``(source, steps, seconds)``, each ``(k,) float64``, steps
    rising; ``("", empty, empty)`` without one."""
    rt = snap.get("train_runtime")
    if rt is not None and rt.kind == "train" and rt.x_is_step and len(rt) >= 2:
        ok = np.isfinite(rt.y)
        if ok.sum() >= 2:
            return "train_runtime", rt.x[ok], rt.y[ok]
    if snap.pace.shape[0] >= 2:
        return "bar", snap.pace[:, 0], snap.pace[:, 1]
    loss = snap.get("loss")
    if loss is not None and loss.x_is_step and len(loss) >= 2 and loss.t.size and float(loss.t[-1] - loss.t[0]) > 0:
        return "arrival", loss.x, loss.t
    return "", np.zeros(0), np.zeros(0)


def clock_intervals(steps: np.ndarray, secs: np.ndarray, min_dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and end indices of intervals of at least ``min_dt`` seconds and one step."""
    if min_dt <= 0:
        idx = np.arange(steps.size - 1)
        keep = (steps[idx + 1] > steps[idx]) & (secs[idx + 1] > secs[idx])
        return idx[keep], idx[keep] + 1
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    for j in range(1, steps.size):
        if secs[j] - secs[i] >= min_dt and steps[j] > steps[i]:
            starts.append(i)
            ends.append(j)
            i = j
        elif steps[j] < steps[i] or secs[j] < secs[i]:
            i = j  # the clock went back: start again from here
    return np.asarray(starts, dtype=np.intp), np.asarray(ends, dtype=np.intp)


def paused_steps(snap: RunSnapshot) -> np.ndarray:
    """Steps after which training paused: evaluations (any main-writer eval series) and
    checkpoint saves, ``(k,) float64`` sorted."""
    parts = [s.x for s in snap.series.values() if s.kind == "eval" and s.rank is None and s.x_is_step]
    parts.append(np.asarray([c.step for c in snap.checkpoints if c.step is not None], dtype=float))
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0)


def _slowdown(xs: np.ndarray, xe: np.ndarray, dt: np.ndarray) -> Slowdown | None:
    """The latest sustained stretch of slow intervals among the judged ones (see the module)."""
    if xs.size < MIN_INTERVALS:
        return None
    r = (xe - xs) / dt
    usual = float(np.median(r))
    slow = r < SLOW_FRACTION * usual
    if slow.any() and not slow.all():
        usual = float(np.median(r[~slow]))
        slow = r < SLOW_FRACTION * usual
    if not slow.any() or slow.all() or usual <= 0:
        return None
    typical_dt = float(np.median(dt[~slow]))
    # Stretches of consecutive slow intervals, the latest sustained one wins.
    edges = np.flatnonzero(np.diff(np.concatenate(([0], slow.astype(np.int8), [0]))))
    for a, b in reversed(list(zip(edges[::2], edges[1::2]))):
        secs = float(dt[a:b].sum())
        if b - a < 2 or secs < 3 * typical_dt:
            continue
        steps = float(xe[b - 1] - xs[a])
        rate = steps / secs
        until = None if b == slow.size else int(xe[b - 1])
        return Slowdown(int(xs[a]), until, rate / usual, usual, rate, secs)
    return None


def _tokens(snap: RunSnapshot) -> tuple[str | None, np.ndarray, np.ndarray]:
    for key in TOKEN_KEYS:
        s = snap.get(key)
        if s is not None and s.x_is_step and len(s):
            ok = np.isfinite(s.y)
            if ok.any():
                return key, s.x[ok], s.y[ok]
    return None, np.zeros(0), np.zeros(0)


def _last_finite(name: str, snap: RunSnapshot) -> float | None:
    s = snap.get(name)
    if s is None or not len(s):
        return None
    fin = s.y[np.isfinite(s.y)]
    return float(fin[-1]) if fin.size else None


def throughput(snap: RunSnapshot, paused: Sequence[float] | np.ndarray | None = None) -> Throughput:
    """The run's throughput and its latest slowdown.

    Args:
        snap: the run.
        paused: steps after which training paused (evaluations, checkpoint saves): intervals
            holding one are left out of the rates and of the slowdown; default `paused_steps`.

    Returns:
        :class:`Throughput` (``source == ""`` and every rate ``None`` when the log shows no clock
        and no summary). Never raises on odd data.
    """
    pause = paused_steps(snap) if paused is None else np.asarray(paused, dtype=float)
    clock, steps, secs = run_clock(snap)
    source: Source = clock
    tkey, tx, ty = _tokens(snap)
    batch = snap.run_info.get("batch_size")
    summ = snap.summaries.get(None) or {}
    printed = _last_finite("train_tokens_per_second", snap)
    if printed is None:
        printed = _fin(summ.get("train_tokens_per_second"))
    tokens_seen = float(ty[-1]) if ty.size else _fin(summ.get(tkey or TOKEN_KEYS[0]))
    now = mean = None
    xe_all = rate_all = np.zeros(0)
    slowdown = None
    tok_now = None
    if source:
        i, j = clock_intervals(steps, secs, MIN_DT[source])
        if i.size:
            xs, xe, dt = steps[i], steps[j], secs[j] - secs[i]
            # An interval holding a pause (e <= step < end) is not training speed.
            k = np.searchsorted(pause, xs, side="left")
            held = (k < pause.size) & (pause[np.minimum(k, max(pause.size - 1, 0))] < xe) if pause.size else None
            judged = ~held if held is not None else np.ones(xs.size, dtype=bool)
            if judged.any():
                xs, xe, dt = xs[judged], xe[judged], dt[judged]
            steps_rate = (xe - xs) / dt
            now = float(steps_rate[-1])
            mean = float((steps[-1] - steps[0]) / (secs[-1] - secs[0])) if secs[-1] > secs[0] else None
            slowdown = _slowdown(xs, xe, dt) if judged.any() else None
            xe_all, rate_all = xe, steps_rate
            if tx.size >= 2:
                order = np.argsort(tx, kind="stable")
                tok = (np.interp(xe, tx[order], ty[order]) - np.interp(xs, tx[order], ty[order])) / dt
                if np.all(np.isfinite(tok)) and tok[-1] > 0:
                    tok_now = float(tok[-1])
                    rate_all = tok
    if now is None and snap.progress.rate:
        now, source = float(snap.progress.rate), source or "bar"
        if tx.size >= 2 and tx[-1] > tx[0]:
            tok_now = float((ty[-1] - ty[0]) / (tx[-1] - tx[0])) * now
    if mean is None:
        mean = _fin(summ.get("train_steps_per_second"))
        if now is None and mean is not None:
            now, source = mean, source or "summary"
    samples = now * batch if now is not None and batch else None
    if samples is None and source == "summary":
        samples = _fin(summ.get("train_samples_per_second"))
    return Throughput(
        source=source,
        steps_per_s=now,
        mean_steps_per_s=mean,
        tokens_key=tkey,
        tokens_seen=tokens_seen,
        tokens_per_s=tok_now,
        samples_per_s=samples,
        printed_tokens_per_s=printed,
        x=xe_all,
        rate=rate_all,
        unit="tokens/s" if tok_now is not None else "steps/s",
        slowdown=slowdown,
    )


def _fin(v: float | None) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None
