"""The verdict: ``analyse(snapshot, progress, events, now) -> Health`` with ordered reasons (codes + typed facts)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from tui_monitor.core.analysis.checkpoints import CheckpointDisk, CheckpointStatus, checkpoint_status
from tui_monitor.core.analysis.compare import Baseline, compare_runs
from tui_monitor.core.analysis.evals import EvalStatus, eval_status, pick_eval_metric
from tui_monitor.core.analysis.findings import (
    ParamValue,
    Place,
    Reason,
    Severity,
    checkpoint_findings,
    eval_findings,
    grad_findings,
    loss_findings,
    lr_findings,
    place_of,
    state_findings,
    step_or_none,
    throughput_findings,
)
from tui_monitor.core.analysis.gap import Gap, eval_gap
from tui_monitor.core.analysis.grad import GradStatus, grad_status
from tui_monitor.core.analysis.lr import LrStatus, lr_status
from tui_monitor.core.analysis.progress import ProgressEstimate, estimate_progress
from tui_monitor.core.analysis.series import whole_run
from tui_monitor.core.analysis.smoothing import ema_debiased, ema_debiased_by_distance
from tui_monitor.core.analysis.state import RunState, run_state
from tui_monitor.core.analysis.throughput import Throughput, run_clock, throughput
from tui_monitor.core.analysis.trend import Spikes, Trend, classify_trend, detect_spikes
from tui_monitor.core.state import RunSnapshot

__all__ = ["Health", "Place", "ParamValue", "Reason", "Severity", "Status", "analyse", "SEVERITY_ORDER"]

Status = Literal["healthy", "warning", "critical", "no_data"]

SEVERITY_ORDER: dict[str, int] = {"critical": 0, "warning": 1, "info": 2, "ok": 3}
"""Sort key: most severe first."""

SMOOTH_WEIGHT = 0.6
"""EMA weight for the smoothed loss (TensorBoard's default slider value)."""

SPIKE_WINDOW = 512
"""Spikes are searched in (and the smoothed loss computed over) the latest this-many loss points."""

RECENT_SPIKE = 20
"""A spike among the latest this-many points is a warning; older ones are info."""

DPO_MARGIN = 10.0
"""``rewards/margins`` above this with loss ~0 and accuracy 1 is degenerate DPO."""

GRPO_KEYS = ("reward", "kl", "reward_std", "completion_length")
"""Train keys that mark GRPO/online RL (TRL), where loss 0 is by design (trl#2703)."""


@dataclass(frozen=True, slots=True)
class Health:
    """The verdict and everything it was built from (what the report and the app read).

    Attributes:
        status: ``healthy`` (no warning/critical reason), ``warning``, ``critical``, or
            ``no_data`` (no metric record: nothing to judge).
        reasons: most severe first.
        loss_trend: whole-run loss trend (None without a loss series).
        loss_recent: recent-window loss trend.
        loss_smoothed_last: latest debiased-EMA loss (weight 0.6), or None.
        spikes: loss spikes in the latest 512 points, or None.
        spike_count: number of those spikes.
        grad: grad_norm status, or None without a grad_norm series.
        lr: learning-rate phase/schedule, or None without an LR series.
        eval: evaluation status.
        state: run state.
        progress: step / total / rate / ETA.
        task: ``"grpo"``, ``"dpo"`` or ``"lm"`` (from the keys).
        version: store version analysed.
        throughput: steps/s, tokens/s, samples/s and the latest slowdown.
        checkpoints: the last and best checkpoints and what a stop would redo.
        gap: ``eval_loss`` − train ``loss`` at the evaluations, or None.
    """

    status: Status
    reasons: tuple[Reason, ...]
    loss_trend: Trend | None
    loss_recent: Trend | None
    loss_smoothed_last: float | None
    spikes: Spikes | None
    spike_count: int
    grad: GradStatus | None
    lr: LrStatus | None
    eval: EvalStatus
    state: RunState
    progress: ProgressEstimate
    task: str = "lm"
    version: int = 0
    throughput: Throughput = Throughput()
    checkpoints: CheckpointStatus = CheckpointStatus()
    gap: Gap | None = None

    @property
    def codes(self) -> list[str]:
        """Reason codes in order."""
        return [r.code for r in self.reasons]

    def reason(self, code: str) -> Reason | None:
        """The first reason with ``code``, or None."""
        for r in self.reasons:
            if r.code == code:
                return r
        return None


# -- helpers --------------------------------------------------------------------------------------


def _aligned_last(snap: RunSnapshot, names: Sequence[str], k: int) -> list[np.ndarray] | None:
    """Values of ``names`` at the x they share, among the last ``k`` points of each."""
    ser = [snap.get(n) for n in names]
    if any(s is None or len(s) == 0 for s in ser):
        return None
    xs = [s.x[-k:] for s in ser if s is not None]
    common = xs[0]
    for x in xs[1:]:
        common = np.intersect1d(common, x)
    if common.size == 0:
        return None
    out = []
    for s in ser:
        assert s is not None
        xx, yy = s.x[-k:], s.y[-k:]
        _, idx, _ = np.intersect1d(xx, common, return_indices=True)
        out.append(yy[idx])
    return out


_TOPIC_ORDER = ("loss", "dpo", "reward", "grad", "lr", "eval", "run", "throughput", "checkpoint", "epoch")
"""Within one severity, reasons read in this order: the loss first, as a person reads a run."""


def _topic_rank(code: str) -> int:
    """Position of a reason's topic (its code's first word) in :data:`_TOPIC_ORDER`."""
    head = code.split("_", 1)[0]
    return _TOPIC_ORDER.index(head) if head in _TOPIC_ORDER else len(_TOPIC_ORDER)


CONTEXT_CODES = frozenset({"loss_compare"})
"""Reasons that give context, not a judgement (how the run compares with another): said after
every judged reason, so a verdict's headline is never a comparison."""


def _most_severe_first(reasons: list[Reason]) -> tuple[Reason, ...]:
    """Most severe first; then loss, rewards, gradients, LR, eval, run state, epoch; context
    (:data:`CONTEXT_CODES`) last."""
    return tuple(
        sorted(reasons, key=lambda r: (r.code in CONTEXT_CODES, SEVERITY_ORDER[r.severity], _topic_rank(r.code)))
    )


# -- the entry point ------------------------------------------------------------------------------


COLLAPSE_FROM = 0.01
"""A loss that drops from at least this straight to exactly 0 collapsed: a converging loss
passes through the printed 4-digit values below it (0.0042, 0.0003) on its way down."""


DIVERGED_ABS = 1e6
"""A finite loss above this, and ..."""
DIVERGED_REL = 1e3
"""... this many times the run's first finite loss, is a diverged run (3.4e14 beside NaNs)."""


def diverged_loss(y: np.ndarray, snap: RunSnapshot) -> tuple[int, float] | None:
    """The latest absurd finite loss (see :data:`DIVERGED_ABS`) as ``(index, value)``, when the
    run diverged: such a loss, or non-finite losses with a non-finite ``train_loss`` summary."""
    fin = np.flatnonzero(np.isfinite(y))
    if not fin.size:
        return None
    first = abs(float(y[fin[0]]))
    big = fin[np.abs(y[fin]) > max(DIVERGED_ABS, DIVERGED_REL * first)]
    if not big.size:
        return None
    summ = snap.summaries.get(None) or {}
    tl = summ.get("train_loss")
    j = int(big[-1])
    if j >= int(fin[-1]) or (tl is not None and not math.isfinite(tl)) or not bool(np.isfinite(y[j:]).all()):
        return j, float(y[j])
    return None


def loss_collapse(x: np.ndarray, y: np.ndarray) -> tuple[int, float, int] | None:
    """A loss that is exactly 0 at its last records after a real loss.

    Returns ``(index of the first zero of the tail, the last loss before it, how many zeros)``
    or None. Exact zeros after a real loss are no learning: fp16 overflow skipping every step
    (DeepSpeed's ``skipped=``), NaN gradients filtered out of the logged loss, a masked-out
    label set."""
    if not len(y) or y[-1] != 0.0:
        return None
    nz = np.flatnonzero(y != 0.0)
    if not nz.size:
        return None
    j = int(nz[-1])
    before = float(y[j])
    if not math.isfinite(before) or abs(before) < COLLAPSE_FROM:
        return None
    return j + 1, before, len(y) - j - 1


def analyse(
    snap: RunSnapshot,
    now: float | None = None,
    last_write: float | None = None,
    *,
    bytes_read: int | None = None,
    unreadable: int = 0,
    writer_gone: bool = False,
    baseline: Baseline | None = None,
    checkpoint_disk: CheckpointDisk | None = None,
) -> Health:
    """Read a store snapshot like an experienced engineer and give the verdict with its reasons.

    Runs every detector (loss trend + spikes, grad_norm, LR phase/schedule, eval, progress,
    run state) on the main rank's series (``loss``, ``grad_norm``, ``learning_rate``,
    ``eval_*``) and turns their results into :class:`Reason` items. ``status`` is ``critical``
    if any reason is critical, ``warning`` if any is a warning, else ``healthy``.

    Args:
        snap: the run (:class:`~tui_monitor.core.state.RunSnapshot`): its series, progress
            and events (crash evidence).
        now: current wall-clock seconds for stall detection; None disables it.
        writer_gone: the process writing the log exited (see ``core.follow.writer``).
        baseline: the run to compare the loss with (the previous run of the same log, or
            another log's latest run): adds ``loss_compare`` (:mod:`.compare`) when both have
            loss at a shared step.
        bytes_read / unreadable: what was read of the log (bytes) and how many fragments looked
            like metrics but could not be read, said when there is no record (``no_data``).
        last_write: when the log was last written (``st_mtime``, seconds); the silence counts
            from it (else from when the last record was read). Only the latest run is still
            being written: an earlier one gets ``None``.

    Returns:
        :class:`Health`. Never raises on odd data (empty store, all-NaN series).
    """
    info = snap.progress
    reasons: list[Reason] = []
    add = reasons.append
    loss = snap.get("loss")
    names = set(snap.metric_names())
    grpo = any(k in names for k in GRPO_KEYS) or any(k.startswith("completions/") for k in names)
    dpo = "rewards/margins" in names and "rewards/accuracies" in names
    task = "dpo" if dpo else ("grpo" if grpo else "lm")
    is_step = bool(loss.x_is_step) if loss is not None else True

    # -- learning rate ---------------------------------------------------------------------------
    lrs = snap.get("learning_rate")
    lr: LrStatus | None = None
    if lrs is not None and len(lrs):
        lr = lr_status(lrs.x, lrs.y, info.total)
        lr_findings(add, lr, lrs.x_is_step, lrs)

    # -- loss ------------------------------------------------------------------------------------
    trend = recent = None
    spikes: Spikes | None = None
    smoothed_last: float | None = None
    if loss is not None and len(loss):
        x, y = loss.x, loss.y
        fin = np.isfinite(y)
        if fin.any():
            tail = slice(-SPIKE_WINDOW, None)
            sm = (
                ema_debiased_by_distance(x[tail], y[tail], SMOOTH_WEIGHT)
                if is_step
                else ema_debiased(y[tail], SMOOTH_WEIGHT)
            )
            smf = sm[np.isfinite(sm)]
            smoothed_last = float(smf[-1]) if smf.size else None
        gs_all = snap.get("grad_norm")
        # GRPO's loss is ~0 by construction, but only where gradients flow: a loss of 0
        # with NaN or zero gradients is a dead run whatever the task.
        flowing = gs_all is None or not len(gs_all) or bool(np.any(np.isfinite(gs_all.y[-5:]) & (gs_all.y[-5:] > 0)))
        zero_by_design = grpo and flowing and fin.any() and bool(np.all(np.abs(y[fin]) <= 1e-6))
        collapse = None if zero_by_design else loss_collapse(x, y)
        if collapse is not None:
            first_zero, before, count = collapse
            dead_grad = gs_all is not None and len(gs_all) > 0 and not bool(np.isfinite(gs_all.y[-count:]).any())
            skipped = info.skipped
            mostly_skipped = skipped is not None and info.step is not None and skipped * 2 >= info.step > 0
            add(
                Reason(
                    "loss_collapse",
                    "critical" if dead_grad or mostly_skipped else "warning",
                    step_or_none(x[first_zero], is_step),
                    "skipped" if skipped is not None and info.step else "",
                    {
                        "before": before,
                        "at": place_of(x[first_zero], is_step, loss),
                        "count": count,
                        "skipped": skipped,
                        "steps": info.step,
                    },
                )
            )
        bad = np.flatnonzero(~fin)
        if bad.size and not fin[-1]:
            # The first non-finite value is said as the first (with how many followed), not
            # the latest one.
            add(
                Reason(
                    "loss_nonfinite",
                    "critical",
                    step_or_none(x[bad[0]], is_step),
                    "now",
                    {"value": float(y[-1]), "at": place_of(x[bad[0]], is_step, loss), "count": int(bad.size)},
                )
            )
        elif bad.size:
            add(
                Reason(
                    "loss_nonfinite",
                    "warning",
                    step_or_none(x[bad[0]], is_step),
                    "earlier",
                    {"value": float(y[bad[0]]), "at": place_of(x[bad[0]], is_step, loss), "count": int(bad.size)},
                )
            )
        huge = diverged_loss(y, snap)
        if huge is not None and collapse is None:
            j, value = huge
            add(
                Reason(
                    "loss_diverged",
                    "critical",
                    step_or_none(x[j], is_step),
                    params={"value": value, "at": place_of(x[j], is_step, loss)},
                )
            )
        if collapse is not None or huge is not None:
            pass  # neither a trend nor spikes: the loss stopped being a loss
        elif zero_by_design:
            add(Reason("loss_zero_expected", "info", None))
            rw = snap.get("reward")
            if rw is not None and len(rw) >= 3:
                rt = classify_trend(rw.x, rw.y)
                direction = rt.word if rt.word in ("decreasing", "plateau", "rising", "diverging") else "unknown"
                add(Reason("reward_trend", "info", None, direction, {"start": rt.start, "end": rt.end}))
        else:
            wx, wy = whole_run(loss)
            trend = classify_trend(wx, wy)
            nr = len(loss)
            w = min(nr, max(10, min(200, nr // 4)))
            recent = classify_trend(x[-w:], y[-w:]) if nr > w else trend
            finite = wy[np.isfinite(wy)]
            low = float(finite.min()) if finite.size else math.nan
            loss_findings(add, trend, recent, dpo, lr is not None and lr.phase == "warmup", low)
            if fin.sum() >= 5:
                spikes = detect_spikes(x[-SPIKE_WINDOW:], y[-SPIKE_WINDOW:])
                off = max(0, len(loss) - SPIKE_WINDOW)
                for k in range(spikes.count):
                    i = int(spikes.indices[k]) + off
                    sev: Severity = "warning" if i >= len(loss) - RECENT_SPIKE else "info"
                    add(
                        Reason(
                            "loss_spike",
                            sev,
                            step_or_none(spikes.x[k], is_step),
                            params={
                                "at": place_of(spikes.x[k], is_step, loss),
                                "before": float(spikes.baseline[k]),
                                "after": float(spikes.values[k]),
                            },
                        )
                    )
    if baseline is not None and loss is not None and len(loss):
        compared = compare_runs(snap, baseline)
        if compared is not None:
            add(compared)
    if dpo:
        al = _aligned_last(snap, ["loss", "rewards/accuracies", "rewards/margins"], 20)
        if al is not None:
            lz, acc, mar = al
            with np.errstate(invalid="ignore"):
                deg = (np.abs(lz) < 1e-3) & (acc >= 0.999) & (mar > DPO_MARGIN)
            if deg.any():
                j = int(np.flatnonzero(deg)[-1])
                add(
                    Reason(
                        "dpo_degenerate",
                        "warning",
                        None,
                        params={
                            "loss": float(lz[j]),
                            "accuracy": float(acc[j]),
                            "margin": float(mar[j]),
                            "count": int(deg.sum()),
                        },
                    )
                )

    # -- gradient --------------------------------------------------------------------------------
    gs = snap.get("grad_norm")
    grad: GradStatus | None = None
    if gs is not None and len(gs):
        gl = None
        if loss is not None and len(loss) and gs.x.size and loss.x[-1] == gs.x[-1]:
            gl = float(loss.y[-1])
        grad = grad_status(gs.x, gs.y, gl)
        grad_findings(add, grad, gs)

    # -- eval ------------------------------------------------------------------------------------
    eval_names = [s.name for s in snap.series.values() if s.kind == "eval" and s.rank is None]
    metric = pick_eval_metric(eval_names)
    em = snap.get(metric) if metric else None
    ev = eval_status(
        metric,
        em.x if em is not None else np.zeros(0),
        em.y if em is not None else np.zeros(0),
        train_x=loss.x if loss is not None else None,
        train_loss=loss.y if loss is not None else None,
        has_any_eval=bool(snap.records.get("eval", 0)),
        has_loss=snap.get("eval_loss") is not None,
    )
    el = snap.get("eval_loss")
    gap = (
        eval_gap(loss.x, loss.y, el.x, el.y)
        if loss is not None and el is not None and loss.x_is_step and el.x_is_step
        else None
    )
    eval_findings(add, ev, em.x_is_step if em is not None else True, em, gap)

    # -- progress and state ----------------------------------------------------------------------
    # The run's clock (the bar's elapsed time before when records were read: a block-buffered
    # log hands its records over in bursts, long after the steps they state).
    clock, clock_x, clock_t = run_clock(snap)
    pr = estimate_progress(
        info,
        loss.x if loss is not None else None,
        None,
        is_step,
        info.epoch,
        clock or "arrival",
        clock_x if clock else None,
        clock_t if clock else None,
    )
    finished_marker = False
    pc = snap.get("percentage")
    if pc is not None and len(pc) and float(np.nanmax(pc.y[-1:])) >= 100.0:
        finished_marker = True
    st = run_state(
        has_records=bool(snap.series) or snap.summary_offset is not None,
        last_record_offset=snap.last_record_offset,
        summary_offset=snap.summary_offset,
        at_total=pr.at_total,
        finished_marker=finished_marker,
        events=snap.events,
        arrivals=snap.arrivals,
        last_activity=info.last_activity,
        now=now,
        superseded=snap.superseded,
        last_write=last_write,
        writer_gone=writer_gone,
    )
    if st.word not in ("running", "empty"):
        # Over or silent: the last rate is history, not a live speed, and no ETA comes true.
        pr = replace(pr, steps_per_s=None, eta_s=None, rate_source="")
    state_findings(add, st, pr, snap)
    tp = throughput(snap)
    throughput_findings(add, tp)
    ck = checkpoint_status(snap, tp.mean_steps_per_s or tp.steps_per_s, checkpoint_disk, now)
    checkpoint_findings(add, ck, st.word)

    # -- epoch -----------------------------------------------------------------------------------
    if loss is not None and len(loss):
        ep = loss.epoch[np.isfinite(loss.epoch)]
        if ep.size >= 2 and ep[-1] > ep[0]:
            # Said once the run is over as what was done, while it runs as what is going on.
            variant = "finished" if st.word == "finished" else ""
            add(Reason("epoch_advancing", "ok", None, variant, {"first": float(ep[0]), "last": float(ep[-1])}))

    ordered = _most_severe_first(reasons)
    severities = {r.severity for r in ordered}
    status: Status = "critical" if "critical" in severities else ("warning" if "warning" in severities else "healthy")
    if snap.record_count == 0:
        # No record, no verdict (DESIGN.md): say what was seen instead of calling it healthy.
        seen: dict[str, ParamValue] = {"bytes": bytes_read, "fragments": unreadable or None}
        ordered = (Reason("no_data", "info", None, params=seen),)
        status = "no_data"
    return Health(
        status,
        ordered,
        trend,
        recent,
        smoothed_last,
        spikes,
        spikes.count if spikes is not None else 0,
        grad,
        lr,
        ev,
        st,
        pr,
        task,
        snap.version,
        tp,
        ck,
        gap,
    )
