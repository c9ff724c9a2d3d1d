"""What the dashboard reads of a monitor snapshot, read once (`read_run`), and the user's
display options. When the snapshot changes shape, `read_run` is the one place to follow it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from tui_monitor.core.analysis import Health
from tui_monitor.core.analysis.findings import epoch_at
from tui_monitor.core.monitor import MonitorSnapshot
from tui_monitor.core.parse import Checkpoint, Event
from tui_monitor.core.state import SeriesSnapshot
from tui_monitor.core.text.reasons import place_text
from tui_monitor.core.text.words import label
from tui_monitor.ui.model import Severity

__all__ = ["DisplayOptions", "RunFacts", "place_label", "read_run", "severity_of"]


@dataclass(frozen=True, slots=True)
class DisplayOptions:
    """How the user wants to see the run.

    Attributes:
        lang: ``"en"`` or ``"ru"``.
        smoothing: EMA weight (0 = off).
        whole: whole run (decimated history) instead of the recent window.
        paused: the display is frozen (shown in the status line).
        times: show wall-clock times in events (off for fixed states: no clock).
    """

    lang: str = "en"
    smoothing: float = 0.6
    whole: bool = True
    paused: bool = False
    times: bool = True


@dataclass(frozen=True, slots=True)
class RunFacts:
    """The facts of one run the dashboard presents, read once from a snapshot.

    Attributes:
        version: the monitor version of the snapshot.
        series: stored series by key (``loss``, ``eval_loss``, ``loss@rank1``).
        health: the analysis' findings, or ``None`` before the first analysis.
        tallied_nonfinite: NaN/inf values the run's tally counted, by series key.
        step / total: the logged global step and total steps, or ``None``.
        epoch: the run's latest epoch, or ``None``.
        epoch_step: the global step of the record that stated ``epoch``, or ``None``.
        rate: logged steps per second, or ``None``.
        elapsed_s: logged seconds since the start, or ``None``.
        num_epochs: the banner's ``Num Epochs``, or ``None``.
        file: the log's file name.
        file_state: ``following``, ``waiting``, ``deleted``, ``error``...
        polling: the file is polled rather than watched.
        remote: the log is on another machine, read over ssh (``file_state`` then also
            ``connecting`` or ``lost``).
        error: the read error's text, or ``None``.
        bytes_read / file_size: bytes read so far and the file's size.
        provisional: only the file's tail has been read yet.
        history_skipped: bytes of history ``--from-end`` skipped (0: none).
        events: file and crash events, oldest first.
        run_index / run_count: which run of the log this is (1-based), of how many.
        dir_missing: while waiting for the file, its directory does not exist either.
        writer: the process writing the log (``pid 1234 python train.py``), or ``""``.
        earlier: the run shown is an earlier run of the log (read-only), not the latest.
        baseline_series: the series of the run drawn faintly under this one (the previous
            run, or ``--baseline``'s run), by key; empty without one.
        baseline_run: that run's index in its log, or ``None``.
        baseline_file: the other log's file name (``--baseline``), or ``None`` (same log).
        history_until: arrival times up to this (seconds) are when lines of the file's
            history were read, not written: no time is shown for them.
        start_offset: byte offset in the file where the run starts, -1 when that is no longer
            in the file (truncated or replaced since).
        start_reason: why it is a new run (``first`` for the log's first run).
        last_checkpoint: the latest checkpoint the log says was saved, or ``None``.
        end_offset: byte offset of the run's summary record, else of its latest record; -1
            before any, or when the file was truncated or replaced since the run started.
    """

    version: int
    series: Mapping[str, SeriesSnapshot]
    health: Health | None
    tallied_nonfinite: Mapping[str, int]
    step: int | None
    total: int | None
    epoch: float | None
    rate: float | None
    elapsed_s: float | None
    num_epochs: int | None
    file: str
    file_state: str
    polling: bool
    error: str | None
    bytes_read: int
    file_size: int
    provisional: bool
    events: tuple[Event, ...]
    history_skipped: int = 0
    run_index: int = 1
    run_count: int = 1
    dir_missing: bool = False
    writer: str = ""
    earlier: bool = False
    baseline_series: Mapping[str, SeriesSnapshot] = field(default_factory=dict)
    baseline_run: int | None = None
    baseline_file: str | None = None
    history_until: float = math.inf
    remote: bool = False
    epoch_step: int | None = None
    start_offset: int = 0
    start_reason: str = "first"
    last_checkpoint: Checkpoint | None = None
    end_offset: int = -1


def read_run(snap: MonitorSnapshot, index: int | None = None, health: Health | None = None) -> RunFacts:
    """Every field the dashboard reads of ``snap``, in one place.

    Args:
        snap: the monitor's snapshot.
        index: the run to show (1-based); ``None`` or past the last: the latest.
        health: that run's verdict when it is not the latest (``MonitorSnapshot.judge``).
    """
    latest = len(snap.runs)
    i = latest if index is None or not 1 <= index <= latest else index
    run = snap.runs[i - 1]
    if i == latest or health is None:
        health = snap.health if i == latest else snap.judge(i)
    base = snap.baseline_of(i)
    progress = run.progress
    return RunFacts(
        version=snap.version,
        series=run.series,
        health=health,
        tallied_nonfinite={key: stats.nonfinite for key, stats in run.metrics.items()},
        step=progress.step,
        total=progress.total,
        epoch=progress.epoch,
        rate=progress.rate,
        elapsed_s=progress.elapsed_s,
        num_epochs=run.run_info.get("num_epochs"),
        file=snap.path.rsplit("/", 1)[-1],
        file_state=snap.file_state,
        polling=snap.mode == "poll",
        remote=snap.mode == "remote",
        # The status line names the file already: its error says only what went wrong.
        error=snap.error.removeprefix(f"{snap.path}: ") if snap.error else snap.error,
        bytes_read=snap.bytes_read,
        file_size=snap.file_size,
        provisional=snap.provisional,
        history_skipped=snap.history_skipped,
        events=run.events,
        run_index=run.index,
        run_count=latest,
        dir_missing=snap.dir_missing,
        writer=" ".join(f"pid {w.pid} {' '.join(w.command.split())}" for w in snap.writers[:1]) if i == latest else "",
        earlier=i != latest,
        baseline_series=base.run.series if base is not None else {},
        baseline_run=base.run.index if base is not None else None,
        baseline_file=base.source if base is not None else None,
        history_until=snap.history_until,
        epoch_step=progress.epoch_step,
        start_offset=run.start_offset if run.start_in_file else -1,
        start_reason=run.start_reason,
        last_checkpoint=run.checkpoints[-1] if run.checkpoints else None,
        end_offset=(run.summary_offset if run.summary_offset is not None else run.last_record_offset)
        if run.start_in_file
        else -1,
    )


def severity_of(value: str | None) -> Severity:
    """A finding's severity as a colour class (``info`` for anything else)."""
    if value in ("ok", "info", "warning", "critical"):
        return value  # type: ignore[return-value]
    return "info"


def place_label(x: float | None, lang: str, x_is_step: bool = True, series: SeriesSnapshot | None = None) -> str:
    """``at step 25`` / ``на шаге 25``; for a record ordinal (``x_is_step`` False) the epoch of
    ``series``' point at ``x`` (``at epoch 1.56``), never the ordinal; ``""`` without either."""
    if x is None or not math.isfinite(x):
        return ""
    if x_is_step:
        return label("at_step", lang).format(n=int(x))
    return place_text(x, False, lang, epoch_at(series, x) if series is not None else None)
