"""Detectors over the store's arrays (pure functions, frozen results) and the verdict ``analyse``."""

from __future__ import annotations

from tui_monitor.core.analysis.compare import Baseline, compare_runs
from tui_monitor.core.analysis.evals import EvalStatus, eval_status, metric_direction, pick_eval_metric
from tui_monitor.core.analysis.grad import GradStatus, grad_status
from tui_monitor.core.analysis.lr import SCHEDULES, LrStatus, lr_status
from tui_monitor.core.analysis.progress import ProgressEstimate, estimate_progress
from tui_monitor.core.analysis.smoothing import ema_debiased, ema_debiased_by_distance
from tui_monitor.core.analysis.state import RunState, run_state
from tui_monitor.core.analysis.trend import (
    MannKendall,
    Spikes,
    Trend,
    classify_trend,
    detect_spikes,
    mann_kendall,
    sen_slope,
)
from tui_monitor.core.analysis.verdict import Health, Place, Reason, analyse

__all__ = [
    "Baseline",
    "EvalStatus",
    "GradStatus",
    "Health",
    "LrStatus",
    "MannKendall",
    "ProgressEstimate",
    "Place",
    "Reason",
    "RunState",
    "SCHEDULES",
    "Spikes",
    "Trend",
    "analyse",
    "classify_trend",
    "compare_runs",
    "detect_spikes",
    "ema_debiased",
    "ema_debiased_by_distance",
    "estimate_progress",
    "eval_status",
    "grad_status",
    "lr_status",
    "mann_kendall",
    "metric_direction",
    "pick_eval_metric",
    "run_state",
    "sen_slope",
]
