"""What changed between two snapshots of a followed log: the verdict, the run's end, a new run.

One detector, fed the same :class:`~tui_monitor.core.monitor.MonitorSnapshot` the app and the
headless printer take, tells both what to say: the headless ``-- verdict ...`` status lines and
the notifications (:mod:`tui_monitor.core.notify`) read the same :class:`Change` items, so the
two never disagree about what changed. Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tui_monitor.core.analysis import Reason
from tui_monitor.core.monitor import MonitorSnapshot

__all__ = ["RUN_ENDS", "Change", "ChangeDetector", "ChangeKind"]

RUN_ENDS = ("stalled", "finished", "crashed", "ended")
"""Run states said when the run reaches them, even if the verdict's word stays the same (a run
killed while its verdict was already a warning)."""

ChangeKind = Literal["verdict", "run_end", "new_run"]
"""``verdict``: the verdict's word changed; ``run_end``: the run reached one of
:data:`RUN_ENDS`; ``new_run``: a run began while the log was followed."""


@dataclass(frozen=True, slots=True)
class Change:
    """One change of the latest run.

    Attributes:
        kind: see :data:`ChangeKind`.
        run: the latest run's index (1-based).
        status: the verdict now: ``healthy``, ``warning`` or ``critical``.
        previous: the verdict said before (None: nothing was said yet, or a new run).
        state: the run state now (``running``, ``stalled``, ``finished``, ``crashed``, ``ended``...).
        reason: the verdict's most severe finding (for ``verdict`` and ``run_end`` alike: a
            message always leads with it); None for ``new_run``.
        step / total: where the run is (global steps), each None when unknown.
        end: for ``run_end``, the run-state finding (``run_stalled``, ``run_finished``...),
            said beside ``reason`` (it may be ``reason`` itself when that is the top one);
            None otherwise.
    """

    kind: ChangeKind
    run: int
    status: str
    previous: str | None
    state: str
    reason: Reason | None
    step: int | None = None
    total: int | None = None
    end: Reason | None = None


class ChangeDetector:
    """Compares each snapshot of one monitor with what was said before.

    ``update`` returns, in order: a ``new_run`` when the latest run's index grew (or the first
    run's first record arrived while the file was being followed from empty), a ``verdict``
    when the verdict's word changed (the first verdict counts as a change), or a ``run_end``
    when the run state reached one of :data:`RUN_ENDS`: one change, carrying the verdict's top
    reason and, beside it, the run-state finding (a NaN loss stays the news when the run then
    stalls). A reworded reason under the same verdict word and run state is no change. A
    snapshot without any metric record, or taken while the file's history is still being read
    (``reading``, or a provisional view), gives no change.
    """

    def __init__(self) -> None:
        self._said: tuple[str, str] | None = None  # (verdict word, run state) last said
        self._run: int | None = None
        self._empty_seen = False

    def update(self, snap: MonitorSnapshot) -> list[Change]:
        """The changes since the previous call (see the class docstring)."""
        health = snap.health
        run = snap.run
        if health is None or not run.series:
            if not snap.provisional and (snap.file_state != "reading" or snap.file_size == 0):
                # Followed before any record (not a history still being read): the first
                # record is a run starting.
                self._empty_seen = True
            return []
        if snap.provisional or snap.file_state == "reading":
            # The history is still being read: its verdict is said once, when it is read (a
            # change consumed here would be lost to the notifier, which says nothing until then).
            return []
        out: list[Change] = []
        status, state = health.status, health.state.word
        step, total = health.progress.step, health.progress.total
        said_word, said_state = self._said if self._said is not None else (None, "")
        if (self._run is not None and run.index > self._run) or (self._run is None and self._empty_seen):
            out.append(Change("new_run", run.index, status, None, state, None, step, total))
            said_word, said_state = None, ""
        self._run = run.index
        top = health.reasons[0] if health.reasons else None
        end = None
        if state != said_state and state in RUN_ENDS:
            end = next((r for r in health.reasons if r.code.startswith("run_")), None)
        if top is not None and end is not None:
            # Reaching an end is one change even when the verdict's word moved with it.
            out.append(Change("run_end", run.index, status, said_word, state, top, step, total, end))
        elif status != said_word and top is not None:
            out.append(Change("verdict", run.index, status, said_word, state, top, step, total))
        self._said = (status, state)
        return out
