"""The Python API: ``load(path)`` reads a training log once and hands back its runs, their series
as numpy arrays, their verdicts and progress, and the ``report --json`` object.

    >>> from tui_monitor import load
    >>> log = load("logs/train.log")
    >>> steps, loss = log.latest.series("loss")
    >>> log.latest.verdict.status
    'healthy'

Everything here is read from the same pipeline as ``trainmon report`` (the same parser, run
split and analysis), so the numbers and words are the ones the terminal shows. Imports no
textual or rich.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tui_monitor.core.analysis import Health, analyse
from tui_monitor.core.pipeline import SERIES_CAPACITY, InputError, Pipeline, read_once
from tui_monitor.core.report import reason_entries, report_dict
from tui_monitor.core.state import RunSnapshot

__all__ = ["InputError", "Log", "Progress", "Reason", "Run", "Series", "Verdict", "load"]

Axis = Literal["step", "epoch", "record"]
"""What a series' x values are: global steps, epochs (passes over the data), or, only when a
log states neither, the record's position in the run (0, 1, 2, ...)."""


class Series:
    """One metric of one run: x values and the logged values, as numpy arrays.

    Unpacks as ``(x, values)``: ``steps, loss = run.series("loss")``.

    Attributes:
        name: the log's key (``loss``, ``eval_loss``, ``grad_norm``...).
        x: ``(n,) float64``: global steps when ``axis == "step"``, epochs when ``"epoch"``
            (a log that names no step: epoch x steps-per-epoch would be a guess), record
            positions when ``"record"`` (neither was logged).
        values: ``(n,) float64`` values as logged, in the metric's own units; NaN and inf kept.
        axis: which of the three ``x`` holds (see :data:`Axis`).
    """

    __slots__ = ("axis", "name", "values", "x")

    def __init__(self, name: str, x: np.ndarray, values: np.ndarray, axis: Axis) -> None:
        self.name = name
        self.x = x
        self.values = values
        self.axis: Axis = axis

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.x, self.values))

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def __repr__(self) -> str:
        return f"Series({self.name!r}, n={len(self)}, axis={self.axis!r})"


@dataclass(frozen=True)
class Reason:
    """One finding of a verdict.

    Attributes:
        code: stable identifier (``loss_decreasing``, ``grad_nonfinite``...).
        severity: ``"ok"``, ``"info"``, ``"warning"`` or ``"critical"``.
        step: the global step it refers to, or ``None`` (also when the log gives no steps).
        text: the sentence a person reads, in the language given to `load`.
        action: what to do about it, one sentence, or ``""`` when the finding asks nothing.
    """

    code: str
    severity: str
    step: int | None
    text: str
    action: str = ""


@dataclass(frozen=True)
class Verdict:
    """A run's verdict.

    Attributes:
        status: ``"healthy"``, ``"warning"``, ``"critical"`` or ``"no_data"`` (no record:
            nothing to judge).
        reasons: the findings, most severe first.
    """

    status: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Progress:
    """Where a run is and when it should end.

    Attributes:
        step: global step (steps), or ``None`` when the log states none.
        total_steps: total optimization steps, or ``None``.
        fraction: ``step / total_steps`` in [0, 1], or ``None``.
        epoch: latest epoch (passes over the data), or ``None``.
        steps_per_s: steps per second without evaluation pauses, or ``None``.
        eta_s: seconds to the end at that rate, or ``None``.
        state: ``"running"``, ``"stalled"``, ``"finished"``, ``"crashed"``, ``"superseded"``
            (a later run started), ``"ended"`` (its writer exited without a summary) or
            ``"empty"``.
    """

    step: int | None
    total_steps: int | None
    fraction: float | None
    epoch: float | None
    steps_per_s: float | None
    eta_s: float | None
    state: str


class Run:
    """One run of a log (one training process's output, from its start to its end).

    Attributes:
        index: the run's number in its log (1-based).
        start_offset: byte offset where it starts in the file.
        start_reason: why it is a new run (``"first"`` for the log's first run).
        records: distinct records by kind: ``{"train": n, "eval": n, "summary": n}``.
        metrics: the metric keys of the main writer, in order of appearance.
        verdict: the run's `Verdict`.
        progress: the run's `Progress`.
    """

    def __init__(self, log: Log, snap: RunSnapshot, health: Health, lang: str) -> None:
        self._log = log
        self._snap = snap
        self.index = snap.index
        self.start_offset = snap.start_offset
        self.start_reason = snap.start_reason
        self.records: Mapping[str, int] = dict(snap.records)
        self.metrics: tuple[str, ...] = tuple(snap.metric_names())
        self.verdict = Verdict(
            health.status,
            tuple(
                Reason(e["code"], e["severity"], e["step"], e["text"], e.get("action") or "")
                for e in reason_entries(health, lang)
            ),
        )
        p = health.progress
        self.progress = Progress(p.step, p.total, p.fraction, p.epoch, p.steps_per_s, p.eta_s, str(health.state.word))

    def series(self, name: str, rank: str | None = None) -> Series:
        """Every point of metric ``name`` in this run.

        Args:
            name: the log's key (``"loss"``, ``"eval_loss"``, ``"learning_rate"``...).
            rank: the writer for a multi-process log (``"1"``...); ``None`` is the main one.

        Returns:
            a `Series` (unpacks as ``(x, values)``, both ``(n,) float64``; ``axis`` says
            whether ``x`` holds steps or epochs). A resumed run's re-done records replace the
            earlier ones, as in the report.

        Raises:
            KeyError: the run has no such metric (the message lists the ones it has), or the
                run is older than the last runs of a very long log, which keep counts only.
        """
        key = name if rank is None else f"{name}@rank{rank}"
        snap = self._snap.get(key)
        if snap is None:
            have = ", ".join(self.metrics) or "none"
            raise KeyError(f"run {self.index} has no metric {name!r} (it has: {have})")
        if snap.count > len(snap):
            # A long run: the report keeps only the detectors' window at full resolution;
            # the log is read again keeping every point (once, for every run and metric).
            full = self._log._full_run(self.index).get(key)
            if full is not None:
                snap = full
        if snap.x_is_step:
            return Series(name, snap.x.copy(), snap.y.copy(), "step")
        if snap.epoch.shape[0] and bool(np.isfinite(snap.epoch).all()):
            return Series(name, snap.epoch.copy(), snap.y.copy(), "epoch")
        return Series(name, np.arange(len(snap), dtype=np.float64), snap.y.copy(), "record")

    def __repr__(self) -> str:
        return f"Run(index={self.index}, records={dict(self.records)}, verdict={self.verdict.status!r})"


class Log:
    """A whole log read once: its runs (oldest first) and the ``report --json`` object.

    Made by `load`; reads nothing more after that (a growing log is read again with `load`).

    Attributes:
        path: the file read.
        format: ``"console"``, ``"jsonl"`` or ``"trainer_state"``.
        runs: every run of the log, oldest first (a log reused by several trainings has several).
        latest: the last run, the one ``report`` judges.
    """

    def __init__(self, path: Path, pipe: Pipeline, lang: str) -> None:
        self.path = path
        self._pipe = pipe
        self._lang = lang
        self._health = pipe.health()
        self._full: Pipeline | None = None
        self.format: str = pipe.parser.format or "console"
        snaps = [r.snapshot() for r in pipe.runs]
        # The latest run is judged with the file's clock (stalled vs running), like `report`;
        # an earlier run is no longer written, so it gets no clock.
        self.runs: tuple[Run, ...] = tuple(
            Run(self, s, self._health if i == len(snaps) - 1 else analyse(s, None), lang) for i, s in enumerate(snaps)
        )

    @property
    def latest(self) -> Run:
        """The last run of the log (the one ``report`` judges)."""
        return self.runs[-1]

    def to_dict(self) -> dict[str, Any]:
        """The object ``trainmon report --json`` prints for this file (strict-JSON values:
        non-finite numbers are the strings ``"nan"``, ``"inf"``, ``"-inf"``)."""
        return report_dict(self._pipe, self._lang, self._health)

    def _full_run(self, index: int) -> RunSnapshot:
        """Run ``index`` read again with every point of every series kept."""
        if self._full is None:
            most = max((m.count for r in self._pipe.runs for m in r.snapshot().metrics.values()), default=0)
            self._full = read_once(
                self.path,
                Pipeline(series_capacity=max(SERIES_CAPACITY, most + 1), full_runs=len(self._pipe.runs)),
            )
        return self._full.runs[index - 1].snapshot()

    def __repr__(self) -> str:
        return f"Log({str(self.path)!r}, runs={len(self.runs)}, verdict={self.latest.verdict.status!r})"


def load(path: str | Path, *, lang: str = "en") -> Log:
    """Read a training log once: a console log (``python train.py > train.log``), a
    ``trainer_log.jsonl``/``trainmon.jsonl`` or a ``trainer_state.json``.

    Args:
        path: the file (read-only: never written, never locked).
        lang: ``"en"`` or ``"ru"``, the language of the reasons' text.

    Returns:
        a `Log`.

    Raises:
        InputError: the path is missing, a directory or unreadable (one-line message).
    """
    p = Path(path)
    # As `report` reads it: the writer process is looked for around the read, so a run whose
    # process exited without a summary "ended without finishing".
    return Log(p, read_once(p, writers=True), lang)
